/** The EQL sequence and sample stages: the ES state machine, maxspan, until, runs, missing steps, restarts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { Predicate, RuleIR, SampleStage, SequenceStage, SequenceStep, Stage, ValueExpr } from '../src/ir/types.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const SEC = 1000;
const MIN = 60 * SEC;

/** An event of type `type` by `actor` at T0 + ms. */
function ev(uuid: string, ms: number, type: string, actor = 'ann', over: JsonObject = {}): CanonicalEvent {
  return oktaEvent({
    uuid,
    published: new Date(T0 + ms).toISOString(),
    eventType: type,
    actor: { id: `id-${actor}`, type: 'User', alternateId: actor, displayName: actor },
    ...over,
  });
}

const field = (name: string, optional = false): ValueExpr => ({ type: 'field', field: { name, schema: 'okta' }, ...(optional ? { optional } : {}) });
const byActor = [field('actor.alternateId')];
const step = (type: string, more: Partial<SequenceStep> = {}): SequenceStep => ({ predicate: eq('eventType', type), ...more });

/** A sequence rule: its head filter accepts every event a step, a missing step or `until` reads. */
function seqRule(stage: Omit<SequenceStage, 'type'>, pipes: Stage[] = [], id = 'seq'): RuleIR {
  const preds: Predicate[] = [...stage.steps.map((s) => s.predicate), ...(stage.until ? [stage.until.predicate] : [])];
  return rule(id, { type: 'or', args: preds }, { dialect: 'elastic', ruleType: 'eql' }, [{ type: 'sequence', ...stage }, ...pipes]);
}

function sampleRule(stage: Omit<SampleStage, 'type'>): RuleIR {
  return rule('smp', { type: 'or', args: stage.steps.map((s) => s.predicate) }, { dialect: 'elastic', ruleType: 'eql' }, [{ type: 'sample', ...stage }]);
}

/** The results (shell alerts, whatever the alert builder adds per event) as lists of event ids. */
const ids = (alerts: StoredAlert[]): string[][] =>
  alerts.filter((a) => a.doc['kibana.alert.group.index'] === undefined).map((a) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids);

function run(r: RuleIR, events: CanonicalEvent[], opts: { store?: StateStore; reorderWindowMs?: number; flush?: boolean } = {}): StoredAlert[] {
  const e = new Engine([r], { schema, store: opts.store ?? new MemoryStore(), reorderWindowMs: opts.reorderWindowMs ?? 0 });
  for (const x of events) e.push(x);
  if (opts.flush === false) e.drain();
  else e.flush();
  return e.takeAlerts();
}

const AB = seqRule({ by: byActor, steps: [step('a'), step('b')] });

test('sequence: events in step order with the same key match; the reverse order does not', () => {
  assert.deepEqual(ids(run(AB, [ev('a1', 0, 'a'), ev('x', 1, 'c'), ev('b1', 2, 'b')])), [['a1', 'b1']]);
  assert.deepEqual(ids(run(AB, [ev('b1', 0, 'b'), ev('a1', 1, 'a')])), []);
});

test('sequence: join keys keep actors apart; interleaved sequences complete in completion order', () => {
  const alerts = run(AB, [ev('a1', 0, 'a', 'ann'), ev('a2', 1, 'a', 'bob'), ev('b2', 2, 'b', 'bob'), ev('b3', 3, 'b', 'cy'), ev('b1', 4, 'b', 'ann')]);
  assert.deepEqual(ids(alerts), [['a2', 'b2'], ['a1', 'b1']]);
  assert.deepEqual((alerts[0]!.doc['oktopus'] as { sequence: { join_keys: string[] } }).sequence.join_keys, ['bob']);
  assert.equal(alerts[0]!.doc['@timestamp'], new Date(T0 + 2).toISOString(), 'time = the last event');
});

test('sequence: per-step keys join different fields (a one-element array is its value)', () => {
  const r = seqRule({
    by: [],
    steps: [step('a', { by: [field('actor.alternateId')] }), step('b', { by: [field('target.alternateId')] })],
  });
  const target = (who: string) => ({ target: [{ id: 't', type: 'User', alternateId: who }] });
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a', 'ann'), ev('b1', 1, 'b', 'admin', target('bob')), ev('b2', 2, 'b', 'admin', target('ann'))])), [['a1', 'b2']]);
});

test('sequence: a null key does not join unless optional; caseInsensitiveKeys folds (Python)', () => {
  const noActor = (uuid: string, ms: number, type: string) => ev(uuid, ms, type, 'x', { actor: { id: 'i', type: 'User' } });
  assert.deepEqual(ids(run(AB, [noActor('a1', 0, 'a'), noActor('b1', 1, 'b')])), []);
  const optional = seqRule({ by: [field('actor.alternateId', true)], steps: [step('a'), step('b')] });
  assert.deepEqual(ids(run(optional, [noActor('a1', 0, 'a'), noActor('b1', 1, 'b')])), [['a1', 'b1']]);
  assert.deepEqual(ids(run(AB, [ev('a1', 0, 'a', 'Ann'), ev('b1', 1, 'b', 'ann')])), [], 'ES keys are exact');
  const folded = seqRule({ by: byActor, caseInsensitiveKeys: true, steps: [step('a'), step('b')] });
  assert.deepEqual(ids(run(folded, [ev('a1', 0, 'a', 'Ann'), ev('b1', 1, 'b', 'ann')])), [['a1', 'b1']]);
});

test('sequence: maxspan is inclusive (exactly maxspan matches, 1 ms more does not)', () => {
  const r = seqRule({ by: byActor, maxspanMs: 30 * MIN, steps: [step('a'), step('b')] });
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a'), ev('b1', 30 * MIN, 'b')])), [['a1', 'b1']]);
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a'), ev('b1', 30 * MIN + 1, 'b')])), []);
  // Every event counts from the first one, not from the previous one.
  const abc = seqRule({ by: byActor, maxspanMs: 10 * SEC, steps: [step('a'), step('b'), step('c')] });
  assert.deepEqual(ids(run(abc, [ev('a1', 0, 'a'), ev('b1', 6 * SEC, 'b'), ev('c1', 11 * SEC, 'c')])), []);
});

test('sequence: the Elasticsearch docs worked example (a newer partial replaces the older one)', () => {
  const r = seqRule({ by: byActor, steps: [step('attrib'), step('bash'), step('cat')] });
  const data: [string, string][] = [
    ['root', 'attrib'], ['root', 'attrib'], ['elkbee', 'bash'], ['root', 'bash'], ['root', 'bash'], ['elkbee', 'attrib'],
    ['root', 'attrib'], ['elkbee', 'bash'], ['root', 'cat'], ['elkbee', 'cat'], ['root', 'cat'],
  ];
  const events = data.map(([who, type], i) => ev(String(i + 1), i * SEC, type, who));
  assert.deepEqual(ids(run(r, events)), [['2', '4', '9'], ['6', '8', '10']]);
});

test('sequence: until drops the pending sequences of its key (A,B and A,B,C match; A,C,B does not)', () => {
  const r = seqRule({ by: byActor, steps: [step('a'), step('b')], until: { predicate: eq('eventType', 'c') } });
  const alerts = run(r, [
    ev('1a', 0, 'a', 'k1'), ev('1b', 1, 'b', 'k1'),
    ev('2a', 10, 'a', 'k2'), ev('2b', 11, 'b', 'k2'), ev('2c', 12, 'c', 'k2'),
    ev('3a', 20, 'a', 'k3'), ev('3c', 21, 'c', 'k3'), ev('3b', 22, 'b', 'k3'),
    ev('4c', 23, 'c', 'other'),
  ]);
  assert.deepEqual(ids(alerts), [['1a', '1b'], ['2a', '2b']]);
});

test('sequence: with runs=N the step repeats N times; one event fills one run only', () => {
  const r = seqRule({ by: byActor, steps: [step('a'), step('b', { runs: 3 }), step('c')] });
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a'), ev('b1', 1, 'b'), ev('b2', 2, 'b'), ev('c1', 3, 'c')])), []);
  assert.deepEqual(
    ids(run(r, [ev('a1', 0, 'a'), ev('b1', 1, 'b'), ev('b2', 2, 'b'), ev('b3', 3, 'b'), ev('c1', 4, 'c')])),
    [['a1', 'b1', 'b2', 'b3', 'c1']],
  );
  // One event matching several steps advances each pending sequence once (ES `withByKey1`).
  const nn = seqRule({ by: byActor, steps: [step('n'), step('n'), step('n')] });
  assert.deepEqual(ids(run(nn, ['1', '2', '3', '4'].map((id, i) => ev(id, i, 'n')))), [['1', '2', '3'], ['2', '3', '4']]);
});

test('sequence: a missing step in the middle (ES missingInBetween_*)', () => {
  // test1 data of ES missing-events.data: normal@1, normal@2, missing@3, normal@4 (ms).
  const data = [ev('1', 1, 'normal'), ev('2', 2, 'normal'), ev('3', 3, 'missing'), ev('4', 4, 'normal')];
  const nonexisting = seqRule({ by: [], maxspanMs: SEC, steps: [step('normal'), step('nonexisting', { missing: true }), step('normal')] });
  assert.deepEqual(ids(run(nonexisting, data)), [['1', '2'], ['2', '4']]);
  const missing = seqRule({ by: [], maxspanMs: SEC, steps: [step('normal'), step('missing', { missing: true }), step('normal')] });
  assert.deepEqual(ids(run(missing, data)), [['1', '2']]);
  // The missing event must have the sequence's key to count.
  const keyed = seqRule({ by: byActor, maxspanMs: MIN, steps: [step('a'), step('m', { missing: true }), step('b')] });
  assert.deepEqual(ids(run(keyed, [ev('a1', 0, 'a'), ev('m1', 1, 'm', 'bob'), ev('b1', 2, 'b')])), [['a1', 'b1']]);
  assert.deepEqual(ids(run(keyed, [ev('a1', 0, 'a'), ev('m1', 1, 'm'), ev('b1', 2, 'b')])), []);
});

test('sequence: a trailing missing step completes only once the watermark passes first + maxspan', () => {
  const r = seqRule({ by: byActor, maxspanMs: MIN, steps: [step('login'), step('logout', { missing: true })] });
  const e = new Engine([r], { schema, store: new MemoryStore(), reorderWindowMs: 0 });
  e.push(ev('l1', 0, 'login'));
  e.push(ev('x1', 30 * SEC, 'other'));
  e.push(ev('x2', MIN, 'other'));
  assert.deepEqual(e.takeAlerts(), [], 'a logout at exactly first + maxspan would still reject it');
  e.push(ev('x3', MIN + 1, 'other'));
  const alerts = e.takeAlerts();
  assert.deepEqual(ids(alerts), [['l1']]);
  assert.equal(alerts[0]!.doc['@timestamp'], new Date(T0 + MIN).toISOString(), 'time = when the window closed');

  // A logout within maxspan (boundary included) rejects; one later does not; flush closes windows.
  assert.deepEqual(ids(run(r, [ev('l1', 0, 'login'), ev('o1', MIN, 'logout')])), []);
  assert.deepEqual(ids(run(r, [ev('l1', 0, 'login'), ev('o1', MIN + 1, 'logout')])), [['l1']]);
  assert.deepEqual(ids(run(r, [ev('l1', 0, 'login'), ev('o1', 10, 'logout', 'bob')])), [['l1']]);
  assert.deepEqual(ids(run(r, [ev('l1', 0, 'login')], { flush: false })), [], 'no flush: the window is still open');
  // ES positivePlusMissing: normal@1, normal@2, missing@3, normal@4 -> only [4].
  const es = seqRule({ by: [], maxspanMs: SEC, steps: [step('normal'), step('missing', { missing: true })] });
  assert.deepEqual(ids(run(es, [ev('1', 1, 'normal'), ev('2', 2, 'normal'), ev('3', 3, 'missing'), ev('4', 4, 'normal')])), [['4']]);
});

test('sequence: leading missing steps (ES leadingSimple, leadingAndTrailingExcluded1/2)', () => {
  // test3 data: missing@0, normal@10m+1ms, missing@20m+1ms, normal@21m+1ms, normal@29m+1ms, normal@31m+1ms.
  const data = [
    ev('1', 0, 'missing'), ev('2', 10 * MIN + 1, 'normal'), ev('3', 20 * MIN + 1, 'missing'),
    ev('4', 21 * MIN + 1, 'normal'), ev('5', 29 * MIN + 1, 'normal'), ev('6', 31 * MIN + 1, 'normal'),
  ];
  const leading = seqRule({ by: [], maxspanMs: 3 * MIN, steps: [step('missing', { missing: true }), step('normal')] });
  assert.deepEqual(ids(run(leading, data)), [['2'], ['5'], ['6']]);
  const both = (maxspanMs: number) =>
    seqRule({ by: [], maxspanMs, steps: [step('missing', { missing: true }), step('normal'), step('missing', { missing: true })] });
  // Rejected only when a leading AND a trailing missing event lie within maxspan of each other.
  assert.deepEqual(ids(run(both(19 * MIN), data)), [['2'], ['4'], ['5'], ['6']]);
  assert.deepEqual(ids(run(both(21 * MIN), data)), [['4'], ['5'], ['6']]);
});

test('sequence: ES multipleMissing (middle missing steps between several positives)', () => {
  const tags = ['A', 'B', 'M1', 'B', 'C', 'M2', 'D', 'M1', 'C', 'B', 'C', 'D', 'A', 'B', 'M3', 'C', 'D', 'M4'];
  const data = tags.map((t, i) => ev(String(i + 1), i + 1, t.toLowerCase()));
  const q = (...s: SequenceStep[]) => seqRule({ by: [], maxspanMs: SEC, steps: s });
  const m = (t: string) => step(t, { missing: true });
  assert.deepEqual(ids(run(q(step('a'), step('b'), m('m1'), step('c'), m('m2'), step('d')), data)), [['13', '14', '16', '17']]);
  assert.deepEqual(ids(run(q(step('a'), step('b'), m('none'), step('c'), m('none'), step('d')), data)), [['1', '2', '5', '7'], ['13', '14', '16', '17']]);
  assert.deepEqual(ids(run(q(step('a'), step('b'), m('m1'), step('c'), m('m2'), step('d'), m('m4')), data)), []);
  assert.deepEqual(ids(run(q(step('a'), step('b'), step('c'), m('m2'), step('d'), m('none')), data)), [['13', '14', '16', '17']]);
});

test('sequence: events out of order within the reorder window are matched in event-time order', () => {
  const alerts = run(AB, [ev('b1', 2 * SEC, 'b'), ev('a1', 1 * SEC, 'a')], { reorderWindowMs: 5 * MIN });
  assert.deepEqual(ids(alerts), [['a1', 'b1']]);
});

test('sequence: a restart (SQLite) in the middle of a sequence resumes it', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-seq-')), 'state.sqlite');
  const r = seqRule({ by: byActor, maxspanMs: 10 * MIN, steps: [step('a'), step('b'), step('c')] });
  const once = (events: CanonicalEvent[], batch: number): StoredAlert[] => {
    const store = new SqliteStore(path);
    const e = new Engine([r], { schema, store });
    store.begin();
    for (const x of events) e.push(x);
    e.drain();
    e.commit(batch);
    store.commit();
    store.close();
    return e.takeAlerts();
  };
  assert.equal(once([ev('a1', 0, 'a'), ev('b1', MIN, 'b')], 1).length, 0);
  const alerts = once([ev('c1', 2 * MIN, 'c')], 2);
  assert.deepEqual(ids(alerts), [['a1', 'b1', 'c1']]);
  // The events restored from the store are whole: the alert is the one a single run gives.
  const direct = run(r, [ev('a1', 0, 'a'), ev('b1', MIN, 'b'), ev('c1', 2 * MIN, 'c')], { flush: false });
  assert.equal(alerts[0]!.uuid, direct[0]!.uuid);
  assert.deepEqual(alerts[0]!.doc['user'], direct[0]!.doc['user']);
});

test('sequence: a completion waiting for its trailing window survives a restart (shared store)', () => {
  const store = new MemoryStore();
  const r = seqRule({ by: byActor, maxspanMs: MIN, steps: [step('login'), step('logout', { missing: true })] });
  const first = new Engine([r], { schema, store, reorderWindowMs: 0 });
  first.push(ev('l1', 0, 'login'));
  first.push(ev('x1', 10 * SEC, 'other'));
  first.commit(1);
  assert.equal(first.takeAlerts().length, 0);
  const second = new Engine([r], { schema, store, reorderWindowMs: 0 });
  second.push(ev('x2', 2 * MIN, 'other'));
  assert.deepEqual(ids(second.takeAlerts()), [['l1']]);
});

test('sequence: pending state stays bounded per key (one partial per state)', () => {
  const store = new MemoryStore();
  const r = seqRule({ by: byActor, steps: [step('a'), step('b'), step('c')] });
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  for (let i = 0; i < 200; i++) e.push(ev(`e${i}`, i, i % 2 === 0 ? 'a' : 'b'));
  e.commit(1); // the stage writes its state at commit
  const entries = [...store.entries('rule:elastic:seq:1')];
  assert.equal(entries.length, 1);
  const p = (entries[0]![1] as { p: Record<string, { e: unknown[] }> }).p;
  // The last event (b) moved the newest a on: state 1 holds [a198, b199], state 0 is empty.
  assert.deepEqual(Object.keys(p), ['1']);
  assert.deepEqual(p['1']!.e.length, 2);
});

test('sequence: missing steps without maxspan make the rule unsupported, by reason', () => {
  const e = new Engine([seqRule({ by: [], steps: [step('a'), step('m', { missing: true })] })], { schema, store: new MemoryStore() });
  assert.equal(e.compiled.length, 0);
  assert.match(e.unsupported[0]!.reason, /maxspan/);
});

test('sample: one event per step with equal keys, in any order; the key starts over after a sample', () => {
  const r = sampleRule({ by: byActor, steps: [step('a'), step('b')] });
  const alerts = run(r, [
    ev('b1', 0, 'b', 'ann'), ev('a2', 1, 'a', 'bob'), ev('b2', 2, 'b', 'ann'), ev('a1', 3, 'a', 'ann'),
    ev('a3', 4, 'a', 'ann'), ev('b3', 5, 'b', 'ann'), ev('b4', 6, 'b', 'bob'),
  ]);
  // Events in step order, not time order; b2 found ann's b slot taken and was not kept.
  assert.deepEqual(ids(alerts), [['a1', 'b1'], ['a3', 'b3'], ['a2', 'b4']]);
  // One event never fills two steps.
  const twice = sampleRule({ by: byActor, steps: [step('a'), step('a')] });
  assert.deepEqual(ids(run(twice, [ev('a1', 0, 'a')])), []);
  assert.deepEqual(ids(run(twice, [ev('a1', 0, 'a'), ev('a2', 1, 'a')])), [['a1', 'a2']]);
  // A null key does not take part (ES nullValueAsJoinKey).
  const noActor = (uuid: string, ms: number, type: string) => ev(uuid, ms, type, 'x', { actor: { id: 'i', type: 'User' } });
  assert.deepEqual(ids(run(r, [noActor('a1', 0, 'a'), noActor('b1', 1, 'b')])), []);
});

test('sequence: each value of a multi-valued key is its own key (ES 8.5+, PR #89965); several multiply', () => {
  const targets = (...who: string[]) => ({ target: who.map((w) => ({ id: `id-${w}`, type: 'User', alternateId: w })) });
  const byTarget = [field('target.alternateId')];
  const r = seqRule({ by: byTarget, steps: [step('a'), step('b')] });
  // [u, x] then [u, y]: they share u, so one sequence joined by u (not by the whole arrays).
  const alerts = run(r, [ev('a1', 0, 'a', 'ann', targets('u', 'x')), ev('b1', 1, 'b', 'ann', targets('u', 'y'))]);
  assert.deepEqual(ids(alerts), [['a1', 'b1']]);
  assert.deepEqual((alerts[0]!.doc['oktopus'] as { sequence: { join_keys: string[] } }).sequence.join_keys, ['u']);
  // The same event is offered once per value: keys u and x both complete, two sequences of the
  // same events, which get the same alert id (as in Kibana, whose ids hash the events): one alert.
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a', 'ann', targets('u', 'x')), ev('b1', 1, 'b', 'ann', targets('x', 'u', 'u'))])), [['a1', 'b1']]);
  // until drops the pending sequences of each of its values only.
  const withUntil = seqRule({ by: byTarget, steps: [step('a'), step('b')], until: { predicate: eq('eventType', 'stop') } });
  const u = run(withUntil, [ev('a1', 0, 'a', 'ann', targets('u', 'x')), ev('s1', 1, 'stop', 'ann', targets('u')), ev('b1', 2, 'b', 'ann', targets('u', 'x'))]);
  assert.deepEqual((u[0]!.doc['oktopus'] as { sequence: { join_keys: string[] } }).sequence.join_keys, ['x']);
  assert.equal(ids(u).length, 1);
  // Two multi-valued keys: the cartesian product of their values.
  const two = seqRule({ by: [field('actor.alternateId'), field('target.alternateId')], steps: [step('a'), step('b')] });
  const t = run(two, [ev('a1', 0, 'a', 'ann', targets('p', 'q')), ev('b1', 1, 'b', 'ann', targets('q'))]);
  assert.deepEqual(t.filter((a) => a.doc['kibana.alert.group.index'] === undefined).map((a) => (a.doc['oktopus'] as { sequence: { join_keys: string[] } }).sequence.join_keys), [['ann', 'q']]);
  // A trailing missing step is checked per key: the value re-activated is dropped, the other stays.
  const missing = seqRule({ by: byTarget, maxspanMs: MIN, steps: [step('off'), step('on', { missing: true })] });
  const m = run(missing, [ev('o1', 0, 'off', 'ann', targets('u', 'old')), ev('n1', SEC, 'on', 'ann', targets('u', 'new'))]);
  assert.deepEqual(m.filter((a) => a.doc['kibana.alert.group.index'] === undefined).map((a) => (a.doc['oktopus'] as { sequence: { join_keys: string[] } }).sequence.join_keys), [['old']]);
  // Python semantics keep the whole array as one value.
  const py = seqRule({ by: byTarget, steps: [step('a'), step('b')], semantics: 'python' });
  assert.deepEqual(ids(run(py, [ev('a1', 0, 'a', 'ann', targets('u', 'x')), ev('b1', 1, 'b', 'ann', targets('u', 'y'))])), []);
  // Samples too.
  const smp = sampleRule({ by: byTarget, steps: [step('a'), step('b')] });
  assert.deepEqual(ids(run(smp, [ev('b1', 0, 'b', 'ann', targets('v', 'w')), ev('a1', 1, 'a', 'ann', targets('z', 'w'))])), [['a1', 'b1']]);
});

test('sequence: state is held in memory and written at commit; a key without state costs no store read on an empty namespace', () => {
  const store = new MemoryStore();
  const calls = { get: 0, set: 0, delete: 0 };
  for (const k of Object.keys(calls) as (keyof typeof calls)[]) {
    const f = (store[k] as (...a: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[k] = (ns: string, ...a: unknown[]) => {
      if (ns.startsWith('rule:')) calls[k]++;
      return f(ns, ...a);
    };
  }
  const r = seqRule({ by: byActor, maxspanMs: 10 * MIN, steps: [step('a'), step('b')], until: { predicate: eq('eventType', 'stop') } });
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  // 1000 `until` events over 10 actors, no sequence state at all: the namespace is empty, so no
  // read (keyed-state.ts), and no writes.
  for (let i = 0; i < 1000; i++) e.push(ev(`s${i}`, i, 'stop', `u${i % 10}`));
  e.commit(1);
  assert.deepEqual(calls, { get: 0, set: 0, delete: 0 });
  // A pending sequence is written once per commit however often it changes, and deleted once done.
  for (let i = 0; i < 50; i++) e.push(ev(`a${i}`, 2000 + i, 'a', 'u1'));
  assert.equal([...store.entries('rule:elastic:seq:1')].length, 0, 'not written before the commit');
  e.commit(2);
  assert.equal(calls.set, 1);
  assert.equal([...store.entries('rule:elastic:seq:1')].length, 1);
  e.push(ev('b1', 3000, 'b', 'u1'));
  assert.deepEqual(ids(e.takeAlerts()), [['a49', 'b1']]);
  e.commit(3);
  assert.equal(calls.delete, 1);
  assert.equal([...store.entries('rule:elastic:seq:1')].length, 0);
});

test('sequence: without maxspan, stateTtlMs drops pending sequences older than it (from the first event)', () => {
  const r = seqRule({ by: byActor, stateTtlMs: 6 * MIN, steps: [step('a'), step('b'), step('c')] });
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a'), ev('b1', MIN, 'b'), ev('c1', 6 * MIN, 'c')])), [['a1', 'b1', 'c1']], 'exactly the TTL still joins');
  assert.deepEqual(ids(run(r, [ev('a1', 0, 'a'), ev('b1', MIN, 'b'), ev('c1', 6 * MIN + 1, 'c')])), []);
  // The stored entry expires with it.
  const store = new MemoryStore();
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  e.push(ev('a1', 0, 'a'));
  e.push(ev('x1', 7 * MIN, 'other'));
  e.commit(1);
  assert.equal([...store.entries('rule:elastic:seq:1')].length, 0);
  // maxspan wins when both are set.
  const both = seqRule({ by: byActor, maxspanMs: 10 * MIN, stateTtlMs: MIN, steps: [step('a'), step('b')] });
  assert.deepEqual(ids(run(both, [ev('a1', 0, 'a'), ev('b1', 5 * MIN, 'b')])), [['a1', 'b1']]);
});
