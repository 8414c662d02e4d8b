/**
 * Performance work on stage state (docs/performance.md) that must not change any result:
 * keyed state read from the store only when the store may hold the key, threshold/new_terms/
 * dedup state written once per commit, incremental distinct counts of threshold cardinality,
 * sequences that make no state for events that cannot change a pending sequence, and the cost
 * order of a rule's tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../src/engine/engine.js';
import { KeyedState } from '../src/engine/stages/keyed-state.js';
import { predicateCost } from '../src/engine/predicate/index.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { ecsFieldCost, ecsFieldGetter } from '../src/schema/ecs.js';
import type { CanonicalEvent, Json, JsonObject } from '../src/event/types.js';
import type { FieldRef, Predicate, RuleIR, SequenceStage, ThresholdStage } from '../src/ir/types.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const MIN = 60_000;
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();
const okta = (name: string): FieldRef => ({ name, schema: 'okta' });

/** Counts the store calls on namespaces starting with `rule:` (stage state). */
function counting(store: StateStore): { get: number; set: number; delete: number } {
  const calls = { get: 0, set: 0, delete: 0 };
  for (const k of Object.keys(calls) as (keyof typeof calls)[]) {
    const f = (store[k] as (...a: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[k] = (ns: string, ...a: unknown[]) => {
      if (ns.startsWith('rule:') || ns.startsWith('test:')) calls[k]++;
      return f(ns, ...a);
    };
  }
  return calls;
}

const signIn = (uuid: string, minute: number, actor: string, over: JsonObject = {}) =>
  oktaEvent({ uuid, published: at(minute), actor: { id: `id-${actor}`, type: 'User', alternateId: actor, displayName: actor }, ...over });

const codec = { decode: (v: Json) => v as number, encode: (n: number) => ({ value: n as Json, expiresAt: n }) };

test('keyed state: on a namespace empty at first use, a key never written costs no store read', () => {
  const store = new MemoryStore();
  const calls = counting(store);
  const state = new KeyedState<number>(store, 'test:a', codec, 4);
  for (let i = 0; i < 100; i++) assert.equal(state.get(`k${i}`), undefined);
  assert.equal(calls.get, 0);
  // Written keys dropped from memory by the cap are read back from the store.
  for (let i = 0; i < 10; i++) state.set(`w${i}`, 1000 + i);
  state.trim();
  assert.ok(state.size < 10, 'the cap dropped keys from memory');
  for (let i = 0; i < 10; i++) assert.equal(state.get(`w${i}`), 1000 + i, `w${i} read back`);
  assert.ok(calls.get > 0 && calls.get <= 10);
});

test('keyed state: a namespace holding entries (a restart) is always asked', () => {
  const store = new MemoryStore();
  store.set('test:b', 'old', 7, 10_000);
  const calls = counting(store);
  const state = new KeyedState<number>(store, 'test:b', codec);
  assert.equal(state.get('old'), 7);
  assert.equal(state.get('other'), undefined);
  assert.equal(calls.get, 2);
});

test('keyed state: keys the commit expires are forgotten, and what the store still holds is found', () => {
  const store = new MemoryStore();
  const state = new KeyedState<number>(store, 'test:c', codec, 50_000, () => 0);
  state.set('early', 100);
  state.set('late', 5000);
  state.persist(1000); // the engine's commit: persist, then expire before the same watermark
  store.expire(1000);
  const calls = counting(store);
  // A fresh instance on the same store: the namespace is not empty, the store is asked.
  const again = new KeyedState<number>(store, 'test:c', codec);
  assert.equal(again.get('early'), undefined);
  assert.equal(again.get('late'), 5000);
  assert.equal(calls.get, 2);
  // The first instance still finds the surviving key (it is in memory) and never resurrects the other.
  assert.equal(state.get('late'), 5000);
  assert.equal(state.get('early'), undefined);
});

function thresholdRule(id: string, stage: Omit<ThresholdStage, 'type'>): RuleIR {
  return rule(id, eq('eventType', 'user.session.start'), { dialect: 'elastic', ruleType: 'threshold' }, [{ type: 'threshold', ...stage }]);
}

const thresholdResult = (a: StoredAlert) => a.doc['kibana.alert.threshold_result'] as { count: number; cardinality: { field: string; value: number }[] };

test('threshold: state is written once per group and commit, however many matches it counts', () => {
  const store = new MemoryStore();
  const calls = counting(store);
  const r = thresholdRule('th-writes', { groupBy: [okta('actor.alternateId')], value: 1000, windowMs: 60 * MIN });
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  for (let i = 0; i < 200; i++) e.push(signIn(`e${i}`, i * 0.1, `u${i % 4}@acme.com`));
  assert.equal(calls.set, 0, 'nothing written before the commit');
  assert.equal(calls.get, 0, 'an empty namespace is not read');
  e.commit(1);
  assert.equal(calls.set, 4, 'one write per group');
  assert.equal([...store.entries('rule:elastic:th-writes:1')].length, 4);
});

test('a late event sees the same state whether the engine ran on or restarted after the commit (memory expires with the store)', () => {
  const r = rule('dd-late', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' }, [
    { type: 'dedup', key: [okta('actor.alternateId')], periodMs: 10 * MIN, threshold: 1 },
  ]);
  // ann opens a 10-minute dedup window; an event the rule does not read moves event time to 60 min,
  // and the commit there expires ann's window in the store. Then a late ann event at 5 min arrives.
  const before = [signIn('a1', 0, 'ann@acme.com'), signIn('x1', 60, 'bob@acme.com', { eventType: 'user.session.end' })];
  const late = signIn('a2', 5, 'ann@acme.com');
  const run = (restart: boolean): string[] => {
    const store = new MemoryStore();
    let e = new Engine([r], { schema, store, reorderWindowMs: 0 });
    for (const ev of before) e.push(ev);
    e.drain();
    e.commit(1);
    e.takeAlerts();
    if (restart) e = new Engine([r], { schema, store, reorderWindowMs: 0 });
    e.push(late);
    e.drain();
    return e.takeAlerts().map((a) => a.uuid);
  };
  assert.deepEqual(run(false), run(true));
});

test('threshold cardinality: distinct values leave with the matches that held them (incremental counts)', () => {
  const r = thresholdRule('th-card', { groupBy: [okta('actor.alternateId')], value: 1, windowMs: 10 * MIN, cardinality: [{ field: okta('client.ipAddress'), value: 2 }] });
  const from = (uuid: string, minute: number, ip: string) => signIn(uuid, minute, 'ann@acme.com', { client: { ipAddress: ip } });
  const run = (events: CanonicalEvent[], store: StateStore = new MemoryStore(), commitAfter = -1): StoredAlert[] => {
    let e = new Engine([r], { schema, store, reorderWindowMs: 0 });
    const out: StoredAlert[] = [];
    events.forEach((ev, i) => {
      e.push(ev);
      if (i === commitAfter) {
        // A restart: state written, a new engine reads it back (counts rebuilt from the entries).
        e.commit(1);
        out.push(...e.takeAlerts());
        e = new Engine([r], { schema, store, reorderWindowMs: 0 });
      }
    });
    e.drain();
    return [...out, ...e.takeAlerts()];
  };
  // 1.1.1.1 at 0 has left the 10-minute window when 2.2.2.2 comes at 11: one distinct value only.
  const events = [from('a', 0, '1.1.1.1'), from('b', 11, '2.2.2.2'), from('c', 12, '2.2.2.2'), from('d', 13, '1.1.1.1')];
  for (const [name, store, commitAfter] of [['memory', new MemoryStore(), -1], ['restart after b', new SqliteStore(':memory:'), 1], ['restart after c', new MemoryStore(), 2]] as const) {
    const alerts = run(events, store, commitAfter);
    assert.equal(alerts.length, 1, name);
    assert.deepEqual((alerts[0]!.doc['oktopus'] as { event_uuids: string[] }).event_uuids, ['b', 'c', 'd'], name);
    assert.equal(thresholdResult(alerts[0]!).count, 3, name);
    assert.deepEqual(thresholdResult(alerts[0]!).cardinality, [{ field: 'client.ipAddress', value: 2 }], name);
  }
  // After the alert the group starts over: the counts too.
  const more = [...events, from('e', 14, '1.1.1.1'), from('f', 15, '1.1.1.1'), from('g', 16, '3.3.3.3')];
  const alerts = run(more);
  assert.equal(alerts.length, 2);
  assert.deepEqual((alerts[1]!.doc['oktopus'] as { event_uuids: string[] }).event_uuids, ['e', 'f', 'g']);
});

test('sequence: events that match only a later step, or until, make no state for keys without any', () => {
  const step = (type: string): SequenceStage['steps'][number] => ({ predicate: eq('eventType', type) });
  const head: Predicate = { type: 'or', args: [eq('eventType', 'a'), eq('eventType', 'b'), eq('eventType', 'stop')] };
  const r = rule('seq', head, { dialect: 'elastic', ruleType: 'eql' }, [
    { type: 'sequence', by: [{ type: 'field', field: okta('actor.alternateId') }], maxspanMs: 10 * MIN, steps: [step('a'), step('b')], until: { predicate: eq('eventType', 'stop') } },
  ]);
  const ev = (uuid: string, minute: number, type: string, actor: string) => signIn(uuid, minute, actor, { eventType: type });
  const store = new MemoryStore();
  const calls = counting(store);
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  for (let i = 0; i < 300; i++) e.push(ev(`x${i}`, i * 0.01, i % 2 ? 'b' : 'stop', `u${i}@acme.com`));
  e.commit(1);
  assert.deepEqual(calls, { get: 0, set: 0, delete: 0 });
  // The sequence still works for a key that has one.
  e.push(ev('a1', 5, 'a', 'ann@acme.com'));
  e.push(ev('b1', 6, 'b', 'ann@acme.com'));
  const shells = e.takeAlerts().filter((a) => a.doc['kibana.alert.building_block_type'] === undefined);
  assert.equal(shells.length, 1);
});

test('sequence: a step with runs=N evaluates its predicate once per event', () => {
  // The step reads `outcome.result` through a getter that counts its reads (the head reads only
  // the event type): three events offered to a `runs=5` step read it three times, not fifteen.
  let reads = 0;
  const outcome = (): JsonObject => {
    const o = {};
    Object.defineProperty(o, 'result', { enumerable: true, get: () => (reads++, 'DENY') });
    return o as JsonObject;
  };
  const r = rule('runs', eq('eventType', 'user.mfa.okta_verify.deny_push'), { dialect: 'elastic', ruleType: 'eql' }, [
    { type: 'sequence', by: [{ type: 'field', field: okta('actor.alternateId') }], maxspanMs: 10 * MIN, steps: [{ predicate: eq('outcome.result', 'DENY'), runs: 5 }] },
  ]);
  const e = new Engine([r], { schema, store: new MemoryStore(), reorderWindowMs: 0 });
  for (let i = 0; i < 3; i++) e.push(signIn(`r${i}`, i * 0.1, 'ann@acme.com', { eventType: 'user.mfa.okta_verify.deny_push', outcome: outcome() }));
  assert.equal(reads, 3);
  // Two more complete the five runs: one shell alert (and its building blocks).
  for (let i = 3; i < 5; i++) e.push(signIn(`r${i}`, i * 0.1, 'ann@acme.com', { eventType: 'user.mfa.okta_verify.deny_push', outcome: outcome() }));
  const shells = e.takeAlerts().filter((a) => a.doc['kibana.alert.building_block_type'] === undefined);
  assert.equal(shells.length, 1);
});

test('cost order: a copied ECS field is cheaper than one computed from the target list or the debug data', () => {
  assert.equal(ecsFieldCost('okta.outcome.result'), 1);
  assert.equal(ecsFieldCost('event.dataset'), 1);
  assert.ok(ecsFieldCost('okta.target.alternate_id') > ecsFieldCost('okta.outcome.result'));
  assert.ok(ecsFieldCost('okta.debug_context.debug_data.risk_behaviors') > 1);
  assert.ok(ecsFieldCost('okta.security_context') > 10, 'a parent object built from many rows');
  const cmp = (name: string, op: 'eq' | 'regex' = 'eq'): Predicate => ({ type: 'compare', field: { name, schema: 'ecs' }, op, values: ['x'] });
  assert.ok(predicateCost(cmp('okta.outcome.result')) < predicateCost(cmp('okta.target.alternate_id')));
  assert.ok(predicateCost(cmp('okta.target.alternate_id')) < predicateCost(cmp('okta.outcome.result', 'regex')));
});

test('risk_behaviors: the fast path for strings without a POSITIVE value gives what the full parse gives', () => {
  const get = ecsFieldGetter('okta.debug_context.debug_data.risk_behaviors', schema);
  const flattened = ecsFieldGetter('okta.debug_context.debug_data.flattened.behaviors', schema);
  const withBehaviors = (b: Json) => oktaEvent({ uuid: 'rb', published: at(0), debugContext: { debugData: { behaviors: b } } });
  const none = withBehaviors('{New Geo-Location=NEGATIVE, New Device=NEGATIVE}');
  assert.equal(get(none), undefined);
  assert.deepEqual(flattened(none), { 'New Geo-Location': 'NEGATIVE', 'New Device': 'NEGATIVE' });
  assert.deepEqual(get(withBehaviors('{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE}')), ['New Device', 'New IP']);
  assert.equal(get(withBehaviors('{New Device=POSITIVELY}')), undefined, 'only the exact value counts');
  assert.equal(get(withBehaviors('')), undefined);
  assert.equal(get(withBehaviors('not key value POSITIVE')), undefined);
});
