/** EQL pipes: head, tail, filter, unique, count, unique_count, sort; per window; restart-safe. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import type { CanonicalEvent, Json, JsonObject } from '../src/event/types.js';
import type { PipeStage, Predicate, RuleIR, Stage, ValueExpr } from '../src/ir/types.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';
import { eqlToStages } from '../src/dialects/elastic/eql/index.js';

const schema = { org: 'acme.okta.com' };
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

function ev(uuid: string, ms: number, type: string, actor = 'ann', over: JsonObject = {}): CanonicalEvent {
  return oktaEvent({
    uuid,
    published: new Date(T0 + ms).toISOString(),
    eventType: type,
    actor: { id: `id-${actor}`, type: 'User', alternateId: actor, displayName: actor },
    ...over,
  });
}

const field = (name: string): ValueExpr => ({ type: 'field', field: { name, schema: 'okta' } });
const actorKey = [field('actor.alternateId')];
const pipe = (p: PipeStage['pipe'], more: Partial<PipeStage> = {}): PipeStage => ({ type: 'pipe', pipe: p, windowMs: Infinity, ...more });

/** An event query `a where true | pipes`. */
const query = (...pipes: Stage[]): RuleIR => rule('q', eq('eventType', 'a'), { dialect: 'elastic', ruleType: 'eql' }, pipes);

const ids = (alerts: StoredAlert[]): string[][] =>
  alerts.filter((a) => a.doc['kibana.alert.group.index'] === undefined).map((a) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids);
const flat = (alerts: StoredAlert[]): string[] => ids(alerts).map((x) => x.join('+'));
const countOf = (a: StoredAlert): Json => (a.doc['oktopus'] as JsonObject)['count']!;

function run(r: RuleIR, events: CanonicalEvent[], store: StateStore = new MemoryStore()): StoredAlert[] {
  const e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  for (const x of events) e.push(x);
  e.flush();
  return e.takeAlerts();
}

/** Five `a` events one minute apart (ann, bob, ann, cy, ann) and noise. */
const five = [ev('1', 0, 'a', 'ann'), ev('n', 30_000, 'b'), ev('2', MIN, 'a', 'bob'), ev('3', 2 * MIN, 'a', 'ann'), ev('4', 3 * MIN, 'a', 'cy'), ev('5', 4 * MIN, 'a', 'ann')];

test('head N: the first N results (whole input, then per window)', () => {
  assert.deepEqual(flat(run(query(pipe('head', { n: 2 })), five)), ['1', '2']);
  const perWindow = query(pipe('head', { n: 1, windowMs: 2 * MIN }));
  assert.deepEqual(flat(run(perWindow, five)), ['1', '3', '5']);
});

test('tail N: the last N results, emitted when the window closes', () => {
  assert.deepEqual(flat(run(query(pipe('tail', { n: 2 })), five)), ['4', '5']);
  const r = query(pipe('tail', { n: 1, windowMs: HOUR }));
  const e = new Engine([r], { schema, store: new MemoryStore(), reorderWindowMs: 0 });
  e.push(ev('1', 0, 'a'));
  e.push(ev('2', 10 * MIN, 'a'));
  e.push(ev('x', HOUR - 1, 'b'));
  assert.deepEqual(e.takeAlerts(), [], 'the hour is not over yet');
  e.push(ev('3', HOUR, 'a'));
  assert.deepEqual(flat(e.takeAlerts()), ['2'], 'the first hour closed when event time reached its end');
  e.flush();
  assert.deepEqual(flat(e.takeAlerts()), ['3']);
});

test('tail: open windows survive a restart (shared store)', () => {
  const store = new MemoryStore();
  const r = query(pipe('tail', { n: 2, windowMs: HOUR }));
  const first = new Engine([r], { schema, store, reorderWindowMs: 0 });
  first.push(ev('1', 0, 'a'));
  first.push(ev('2', MIN, 'a'));
  first.commit(1);
  const second = new Engine([r], { schema, store, reorderWindowMs: 0 });
  second.push(ev('3', 2 * MIN, 'a'));
  second.push(ev('x', 2 * HOUR, 'b'));
  assert.deepEqual(flat(second.takeAlerts()), ['2', '3']);
});

test('filter: keeps results whose first event matches (Python pipe fields read events[0])', () => {
  const isBob: Predicate = eq('actor.alternateId', 'bob');
  assert.deepEqual(flat(run(query(pipe('filter', { predicate: isBob })), five)), ['2']);
  const seq = rule('s', { type: 'or', args: [eq('eventType', 'a'), eq('eventType', 'b')] }, { dialect: 'elastic', ruleType: 'eql' }, [
    { type: 'sequence', by: [], steps: [{ predicate: eq('eventType', 'a') }, { predicate: eq('eventType', 'b') }] },
    pipe('filter', { predicate: isBob }),
  ]);
  // [bob's a, ann's b] passes (first event bob's); [ann's a, bob's b] does not.
  assert.deepEqual(flat(run(seq, [ev('a1', 0, 'a', 'bob'), ev('b1', 1, 'b', 'ann'), ev('a2', 2, 'a', 'ann'), ev('b2', 3, 'b', 'bob')])), ['a1+b1']);
});

test('unique k: the first result per key value (per window)', () => {
  assert.deepEqual(flat(run(query(pipe('unique', { keys: actorKey })), five)), ['1', '2', '4']);
  assert.deepEqual(flat(run(query(pipe('unique', { keys: actorKey, windowMs: 2 * MIN })), five)), ['1', '2', '3', '4', '5']);
});

test('count: one synthetic result, without keys the total, with keys per value ordered by (count, key)', () => {
  const total = run(query(pipe('count')), five);
  assert.equal(total.length, 1);
  assert.deepEqual(countOf(total[0]!), { key: 'totals', count: 5 });
  assert.equal((total[0]!.doc['oktopus'] as JsonObject)['synthetic'], true);
  const per = run(query(pipe('count', { keys: actorKey })), five);
  assert.deepEqual(per.map(countOf), [
    { key: 'bob', count: 1, percent: 0.2 },
    { key: 'cy', count: 1, percent: 0.2 },
    { key: 'ann', count: 3, percent: 0.6 },
  ]);
  assert.equal(new Set(per.map((a) => a.uuid)).size, 3, 'distinct alert ids');
  assert.deepEqual(run(query(pipe('count')), [ev('n', 0, 'b')]), [], 'no result, no count');
});

test('unique_count k: the first result per key, in first-seen order, with its count', () => {
  const alerts = run(query(pipe('unique_count', { keys: actorKey })), five);
  assert.deepEqual(flat(alerts), ['1', '2', '4']);
  assert.deepEqual(alerts.map(countOf), [
    { key: 'ann', count: 3, percent: 0.6 },
    { key: 'bob', count: 1, percent: 0.2 },
    { key: 'cy', count: 1, percent: 0.2 },
  ]);
});

test('sort k: a stable sort of the window, nulls first as the empty value (Python)', () => {
  const city = (c: string | null): JsonObject => ({
    client: { ipAddress: '203.0.113.7', geographicalContext: c === null ? {} : { city: c } },
  });
  const events = [
    ev('1', 0, 'a', 'ann', city('Paris')),
    ev('2', 1, 'a', 'bob', city(null)),
    ev('3', 2, 'a', 'cy', city('Berlin')),
    ev('4', 3, 'a', 'dee', city('Paris')),
    ev('5', 4, 'a', 'eve', city('Berlin')),
  ];
  const sorted = run(query(pipe('sort', { keys: [field('client.geographicalContext.city')] })), events);
  assert.deepEqual(flat(sorted), ['2', '3', '5', '1', '4']);
  const twoKeys = run(query(pipe('sort', { keys: [field('client.geographicalContext.city'), field('actor.alternateId')] })), events.slice().reverse());
  assert.deepEqual(flat(twoKeys), ['2', '3', '5', '1', '4']);
});

test('pipes chain: a sequence, then tail 1', () => {
  const r = rule('s', { type: 'or', args: [eq('eventType', 'a'), eq('eventType', 'b')] }, { dialect: 'elastic', ruleType: 'eql' }, [
    { type: 'sequence', by: actorKey, steps: [{ predicate: eq('eventType', 'a') }, { predicate: eq('eventType', 'b') }] },
    pipe('tail', { n: 1 }),
  ]);
  assert.deepEqual(flat(run(r, [ev('a1', 0, 'a', 'ann'), ev('a2', 1, 'a', 'bob'), ev('b1', 2, 'b', 'ann'), ev('b2', 3, 'b', 'bob')])), ['a2+b2']);
});

/** A Python-syntax query (the conformance suite's form) on Okta events, category = eventType. */
const pyQuery = (text: string, caseInsensitive: boolean): RuleIR => ({
  ...rule('py', eq('eventType', 'a'), { dialect: 'elastic', ruleType: 'eql' }),
  stages: eqlToStages(text, { syntax: 'python', caseInsensitive, schema: 'okta', categoryField: 'eventType' }).stages,
});
const cased = [ev('1', 0, 'a', 'bob'), ev('2', 1, 'a', 'Ann'), ev('3', 2, 'a', 'ann'), ev('4', 3, 'a', 'Bob'), ev('5', 4, 'a', 'cy')];

test('Python case-insensitive mode: unique / sort / unique_count keys fold case, count groups ignoring case', () => {
  // Conformance: `file where true | tail 4 | sort file_path` sorts C:\workspace\dev before C:\workspace\Libraries.
  assert.deepEqual(flat(run(pyQuery('a where true | sort actor.alternateId', true), cased)), ['2', '3', '1', '4', '5']);
  assert.deepEqual(flat(run(pyQuery('a where true | sort actor.alternateId', false), cased)), ['2', '4', '3', '1', '5']);
  assert.deepEqual(flat(run(pyQuery('a where true | unique actor.alternateId', true), cased)), ['1', '2', '5']);
  assert.deepEqual(flat(run(pyQuery('a where true | unique actor.alternateId', false), cased)), ['1', '2', '3', '4', '5']);
  assert.deepEqual(flat(run(pyQuery('a where true | unique_count actor.alternateId', true), cased)), ['1', '2', '5']);
  // count: one group per folded key, reported with the first spelling seen (Python's key_lookup).
  assert.deepEqual(run(pyQuery('a where true | count actor.alternateId', true), cased).map(countOf), [
    { key: 'cy', count: 1, percent: 0.2 },
    { key: 'Ann', count: 2, percent: 0.4 },
    { key: 'bob', count: 2, percent: 0.4 },
  ]);
  // Elasticsearch semantics never fold pipe keys (and only have head / tail).
  const es = eqlToStages('any where true | head 1', { schema: 'okta', categoryField: 'eventType' }).stages[1] as PipeStage;
  assert.equal(es.caseInsensitive, undefined);
});

test('Python pipes read unique_count\'s count / percent and a sequence\'s events[n]', () => {
  // Conformance: `any where process_name == "svchost.exe" | unique_count event_type_full opcode | filter count == 7`.
  assert.deepEqual(flat(run(pyQuery('a where true | unique_count actor.alternateId | filter count == 2', true), cased)), ['1', '2']);
  assert.deepEqual(flat(run(pyQuery('a where true | unique_count actor.alternateId | filter percent < .3', true), cased)), ['5']);
  // Conformance: `sequence [file where opcode=0] by unique_pid [file where opcode=0] by unique_pid | filter events[1].serial_event_id == 92`.
  const seq = pyQuery("sequence [a where true] by actor.alternateId [a where true] by actor.alternateId | filter events[1].uuid == '4'", true);
  const pipeStage = seq.stages[2] as PipeStage;
  assert.equal(pipeStage.resultEvents, true);
  assert.deepEqual(flat(run(seq, cased)), ['1+4']);
  assert.deepEqual(flat(run(pyQuery("sequence [a where true] by actor.alternateId [a where true] by actor.alternateId | filter events[0].uuid == '2'", true), cased)), ['2+3']);
  // An event query's `events` is an ordinary field.
  assert.equal((pyQuery("a where true | filter events[0] == 'x'", true).stages[1] as PipeStage).resultEvents, undefined);
});
