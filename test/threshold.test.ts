/** The threshold stage, Elastic threshold rules and their synthetic alert documents. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { loadRules } from '../src/rules/load.js';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { FieldRef, RuleIR, ThresholdStage } from '../src/ir/types.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const MIN = 60_000;
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();
const okta = (name: string): FieldRef => ({ name, schema: 'okta' });
const ecs = (name: string): FieldRef => ({ name, schema: 'ecs' });

function thresholdRule(id: string, stage: Omit<ThresholdStage, 'type'>, over: Partial<RuleIR> = {}): RuleIR {
  return rule(id, eq('eventType', 'user.session.start'), { dialect: 'elastic', ruleType: 'threshold', ...over }, [{ type: 'threshold', ...stage }]);
}

const signIn = (uuid: string, minute: number, actor = 'ann@acme.com', over: JsonObject = {}) =>
  oktaEvent({ uuid, published: at(minute), actor: { id: `id-${actor}`, type: 'User', alternateId: actor, displayName: actor }, ...over });

function run(rules: RuleIR[], events: CanonicalEvent[], store: StateStore = new MemoryStore()): StoredAlert[] {
  const e = new Engine(rules, { schema, store });
  for (const ev of events) e.push(ev);
  e.drain();
  return e.takeAlerts();
}

const uuids = (a: StoredAlert) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids;
const result = (a: StoredAlert) => a.doc['kibana.alert.threshold_result'] as { terms: { field: string; value: unknown }[]; count: number; from: string; cardinality: { field: string; value: number }[] };

const byActor = thresholdRule('th', { groupBy: [okta('actor.alternateId')], value: 3, windowMs: 10 * MIN });

test('threshold: the count reaching the value inside the window alerts; spread wider than the window it does not', () => {
  const alerts = run([byActor], [signIn('a1', 0), signIn('b1', 1, 'bob@acme.com'), signIn('a2', 4), signIn('a3', 9)]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(uuids(alerts[0]!), ['a1', 'a2', 'a3']);
  assert.equal(result(alerts[0]!).count, 3);
  assert.equal(result(alerts[0]!).from, at(0));
  assert.equal(alerts[0]!.doc['@timestamp'], at(9));

  // Three matches, but never three within 10 minutes of each other (0, 6, 12, 18 -> windows hold 2).
  assert.deepEqual(run([byActor], [signIn('w1', 0), signIn('w2', 6), signIn('w3', 12), signIn('w4', 18)]), []);
  // The window's lower bound is inclusive ([t - window, t]), as Kibana's range filter.
  assert.equal(run([byActor], [signIn('i1', 0), signIn('i2', 5), signIn('i3', 10)]).length, 1);
});

test('threshold: a match missing a group-by field is not counted; no group-by counts every match together', () => {
  const byTarget = thresholdRule('tt', { groupBy: [okta('target.id')], value: 2, windowMs: 10 * MIN });
  assert.deepEqual(run([byTarget], [signIn('m1', 0, 'ann@acme.com', { target: [] }), signIn('m2', 1, 'ann@acme.com', { target: [] })]), []);

  const all = thresholdRule('all', { groupBy: [], value: 3, windowMs: 10 * MIN });
  const alerts = run([all], [signIn('n1', 0), signIn('n2', 1, 'bob@acme.com'), signIn('n3', 2, 'cy@acme.com')]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(result(alerts[0]!).terms, []);
  assert.deepEqual(result(alerts[0]!).cardinality, []);
  assert.deepEqual(uuids(alerts[0]!), ['n1', 'n2', 'n3']);
});

test('threshold: array values explode into one group per value', () => {
  const byTarget = thresholdRule('tt', { groupBy: [okta('target.id')], value: 2, windowMs: 10 * MIN });
  const alerts = run(
    [byTarget],
    [
      signIn('x1', 0, 'ann@acme.com', { target: [{ id: 't1' }, { id: 't2' }] }),
      signIn('x2', 1, 'ann@acme.com', { target: [{ id: 't2' }, { id: 't3' }] }),
      signIn('x3', 2, 'ann@acme.com', { target: [{ id: 't1' }] }),
    ],
  );
  assert.deepEqual(
    alerts.map((a) => [result(a).terms[0]!.value, uuids(a)]),
    [
      ['t2', ['x1', 'x2']],
      ['t1', ['x1', 'x3']],
    ],
  );
  assert.notEqual(alerts[0]!.uuid, alerts[1]!.uuid);
});

test('threshold: cardinality of a field must be reached as well as the count', () => {
  const sessions = thresholdRule('card', {
    groupBy: [okta('actor.alternateId')],
    value: 1,
    windowMs: 30 * MIN,
    cardinality: [{ field: okta('authenticationContext.externalSessionId'), value: 3 }],
  });
  const s = (uuid: string, minute: number, session: string) => signIn(uuid, minute, 'ann@acme.com', { authenticationContext: { externalSessionId: session } });
  const alerts = run([sessions], [s('c1', 0, 'S1'), s('c2', 1, 'S1'), s('c3', 2, 'S2'), s('c4', 3, 'S2'), s('c5', 4, 'S3')]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(uuids(alerts[0]!), ['c1', 'c2', 'c3', 'c4', 'c5']);
  assert.equal(result(alerts[0]!).count, 5);
  assert.deepEqual(result(alerts[0]!).cardinality, [{ field: 'authenticationContext.externalSessionId', value: 3 }]);
});

test('threshold: signal history — the alerted events are not counted again; value more events raise a new alert', () => {
  const alerts = run([byActor], [signIn('h1', 0), signIn('h2', 1), signIn('h3', 2), signIn('h4', 3), signIn('h5', 4), signIn('h6', 5), signIn('h7', 6)]);
  assert.deepEqual(alerts.map(uuids), [
    ['h1', 'h2', 'h3'],
    ['h4', 'h5', 'h6'],
  ]);
  assert.equal(result(alerts[1]!).from, at(3));
  // An event at the alert's last event time is at or before it: not counted again.
  const same = run([byActor], [signIn('s1', 0), signIn('s2', 1), signIn('s3', 2), signIn('s4', 2), signIn('s5', 3), signIn('s6', 4)]);
  assert.deepEqual(same.map(uuids), [['s1', 's2', 's3']]);
});

test('threshold: a restart (SQLite) in the middle of a window continues the count', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-th-')), 'state.sqlite');
  const once = (store: StateStore, events: CanonicalEvent[]) => {
    const e = new Engine([byActor], { schema, store });
    store.begin();
    for (const ev of events) e.push(ev);
    e.drain();
    e.commit(1);
    store.commit();
    return e.takeAlerts();
  };
  let store = new SqliteStore(path);
  assert.equal(once(store, [signIn('r1', 0), signIn('r2', 2)]).length, 0);
  store.close();
  store = new SqliteStore(path);
  const alerts = once(store, [signIn('r3', 5)]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(uuids(alerts[0]!), ['r1', 'r2', 'r3']);
  assert.equal(result(alerts[0]!).from, at(0));
  assert.deepEqual(
    (alerts[0]!.doc['kibana.alert.ancestors'] as { id: string }[]).map((a) => a.id),
    ['r1', 'r2', 'r3'],
  );
  // Same id as without the restart.
  assert.equal(alerts[0]!.uuid, run([byActor], [signIn('r1', 0), signIn('r2', 2), signIn('r3', 5)])[0]!.uuid);
  store.close();
  store = new SqliteStore(path);
  assert.equal(once(store, [signIn('r4', 6)]).length, 0, 'signal history survives a restart: r1–r3 are not counted again');
  assert.equal(once(store, [signIn('r5', 7), signIn('r6', 8)]).length, 1, 'value more events: a new alert');
  store.close();
});

test('threshold: the alert is a synthetic document — group-by fields, threshold_result, no other event fields', () => {
  const r = thresholdRule('syn', { groupBy: [ecs('okta.actor.alternate_id')], value: 2, windowMs: 10 * MIN }, { name: 'Brute force' });
  const [a, ...more] = run([r], [signIn('d1', 0), signIn('d2', 3)]);
  assert.equal(more.length, 0);
  const doc = a!.doc;
  assert.deepEqual(doc['okta'], { actor: { alternate_id: 'ann@acme.com' } });
  assert.deepEqual(doc['kibana.alert.threshold_result'], {
    terms: [{ field: 'okta.actor.alternate_id', value: 'ann@acme.com' }],
    count: 2,
    from: at(0),
    cardinality: [],
  });
  assert.equal(doc['@timestamp'], at(3));
  assert.equal(doc['kibana.alert.original_time'], at(3));
  assert.equal(doc['user'], undefined, 'user.name only when grouped on');
  assert.deepEqual(doc['event'], { kind: 'signal' }, 'no event.dataset / event.action');
  assert.equal(doc['source'], undefined);
  assert.equal(doc['data_stream'], undefined);
  assert.equal(doc['kibana.alert.rule.type'], 'threshold');
  assert.equal(doc['kibana.alert.rule.rule_id'], 'syn');
  assert.equal(doc['kibana.alert.depth'], 1);
  assert.deepEqual(
    (doc['kibana.alert.ancestors'] as JsonObject[]).map((x) => [x['id'], x['type'], x['depth']]),
    [
      ['d1', 'event', 0],
      ['d2', 'event', 0],
    ],
  );
  assert.equal(doc['kibana.alert.reason'], '2 events with okta.actor.alternate_id=ann@acme.com created high alert Brute force.');
  const oktopus = doc['oktopus'] as JsonObject;
  assert.equal(oktopus['synthetic'], true);
  assert.deepEqual(oktopus['event_uuids'], ['d1', 'd2']);

  // Grouped on user.name: then the alert carries it.
  const byUser = thresholdRule('syn2', { groupBy: [ecs('user.name')], value: 2, windowMs: 10 * MIN });
  const [b] = run([byUser], [signIn('u1', 0), signIn('u2', 3)]);
  assert.deepEqual(b!.doc['user'], { name: 'ann' });
});

const TOML = `[metadata]
creation_date = "2026/11/02"
maturity = "production"

[rule]
author = ["Test"]
description = "Several failed sign-ins for one user."
from = "now-30m"
index = ["filebeat-*", "logs-okta*"]
language = "kuery"
name = "Test Okta Brute Force"
risk_score = 47
rule_id = "th-toml-1"
severity = "medium"
type = "threshold"

query = '''
event.dataset:okta.system and event.action:user.session.start and okta.outcome.result:FAILURE
'''

[rule.threshold]
field = ["okta.actor.alternate_id"]
value = 3

[[rule.threshold.cardinality]]
field = "okta.client.ip"
value = 2
`;

test('an Elastic threshold rule from TOML, end to end through loadRules and the Engine', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-th-rules-'));
  const file = join(dir, 'brute_force.toml');
  writeFileSync(file, TOML);
  const loaded = await loadRules([file]);
  assert.deepEqual(loaded.unsupported, []);
  const [r] = loaded.rules;
  assert.equal(r!.ruleType, 'threshold');
  assert.deepEqual(r!.stages[1], {
    type: 'threshold',
    groupBy: [{ name: 'okta.actor.alternate_id', schema: 'ecs' }],
    value: 3,
    windowMs: 30 * MIN,
    cardinality: [{ field: { name: 'okta.client.ip', schema: 'ecs' }, value: 2 }],
  });
  const fail = (uuid: string, minute: number, ip: string, result = 'FAILURE') =>
    signIn(uuid, minute, 'ann@acme.com', { outcome: { result }, client: { ipAddress: ip } });
  const alerts = run(loaded.rules, [
    fail('f1', 0, '198.51.100.1'),
    fail('ok', 1, '198.51.100.9', 'SUCCESS'),
    fail('f2', 2, '198.51.100.1'),
    fail('f3', 3, '198.51.100.1'), // count 3 but one IP
    fail('f4', 20, '203.0.113.5'), // second IP: count 4, cardinality 2
    fail('f5', 60, '203.0.113.5'),
  ]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(uuids(alerts[0]!), ['f1', 'f2', 'f3', 'f4']);
  assert.deepEqual(result(alerts[0]!), {
    terms: [{ field: 'okta.actor.alternate_id', value: 'ann@acme.com' }],
    count: 4,
    from: at(0),
    cardinality: [{ field: 'okta.client.ip', value: 2 }],
  });
  assert.equal(alerts[0]!.doc['kibana.alert.severity'], 'medium');
  assert.equal(alerts[0]!.doc['kibana.alert.risk_score'], 47);
});

test('Elastic threshold rules: field as a string (API form), no field, default from, unparseable from', () => {
  const json = (over: JsonObject) =>
    JSON.stringify({
      rule_id: 'j-th',
      name: 'JSON threshold',
      type: 'threshold',
      language: 'kuery',
      index: ['logs-okta*'],
      severity: 'low',
      risk_score: 21,
      query: 'event.dataset:okta.system',
      threshold: { field: 'okta.actor.id', value: 2 },
      ...over,
    });
  const stageOf = (text: string) => parseElastic(text, 'r.json').rules[0]!.stages[1] as ThresholdStage;
  assert.deepEqual(stageOf(json({})), { type: 'threshold', groupBy: [ecs('okta.actor.id')], value: 2, windowMs: 6 * MIN });
  assert.deepEqual(stageOf(json({ threshold: { field: [], value: 5 }, from: 'now-2h' })).groupBy, []);
  assert.equal(stageOf(json({ from: 'now-2h' })).windowMs, 120 * MIN);
  const bad = parseElastic(json({ from: 'now-1M/d' }), 'r.json');
  assert.equal(bad.rules.length, 0);
  assert.equal(bad.unsupported[0]!.status, 'unsupported');
  assert.match(bad.unsupported[0]!.reason, /elastic\/threshold from "now-1M\/d"/);
  assert.throws(() => parseElastic(json({ threshold: { field: 'a', value: 0 } }), 'r.json'), /threshold.value must be an integer >= 1/);
  assert.throws(() => parseElastic(json({ threshold: { field: ['a', 'b', 'c', 'd'], value: 1 } }), 'r.json'), /0 to 3 field names/);
  // alert_suppression (duration form) runs: test/elastic-suppression.test.ts.
  const suppressed = parseElastic(json({ alert_suppression: { duration: { value: 5, unit: 'm' } } }), 'r.json');
  assert.equal(suppressed.rules[0]!.stages[2]!.type, 'suppress');
});
