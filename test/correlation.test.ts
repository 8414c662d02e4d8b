/** Correlation rules over alerts: Sigma (every type, generate, aliases), Panther (Group, Sequence), restarts, cross-dialect. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import type { CorrelationStage, RuleIR } from '../src/ir/types.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import { parseSigmaText } from '../src/dialects/sigma/index.js';
import { parsePanther } from '../src/dialects/panther/dialect.js';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import { parseTimespan } from '../src/dialects/sigma/correlation.js';
import { percentile, isHiddenAlert } from '../src/engine/stages/correlation.js';
import { rawOnAlert, RAW_FIELDS_ON_ALERTS } from '../src/schema/raw-on-alert.js';
import { explain as explainRule } from '../src/explain/explain.js';
import { oktaEvent, rule, eq } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const MIN = 60_000;
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function engine(rules: RuleIR[], store: StateStore = new MemoryStore()): Engine {
  return new Engine(rules, { schema, store, reorderWindowMs: 0 });
}

/** An Okta event at T0 + ms. */
function ev(uuid: string, ms: number, over: JsonObject = {}, user = 'homer@duff.com'): CanonicalEvent {
  return oktaEvent({ uuid, published: iso(ms), actor: { id: 'u1', type: 'User', alternateId: user, displayName: 'H' }, ...over });
}
const fail = (uuid: string, ms: number, user?: string, over: JsonObject = {}) =>
  ev(uuid, ms, { eventType: 'user.session.start', outcome: { result: 'FAILURE' }, ...over }, user);
const ok = (uuid: string, ms: number, user?: string, over: JsonObject = {}) => ev(uuid, ms, { eventType: 'user.session.start', outcome: { result: 'SUCCESS' }, ...over }, user);

const of = (alerts: StoredAlert[], id: string) => alerts.filter((a) => a.ruleId === id);
const corr = (a: StoredAlert): JsonObject => (a.doc['oktopus'] as JsonObject)['correlation'] as JsonObject;
const eventUuids = (a: StoredAlert) => (a.doc['oktopus'] as JsonObject)['event_uuids'] as string[];
/** The Okta events behind an alert (its ancestors of type event). */
const sources = (a: StoredAlert) => (a.doc['kibana.alert.ancestors'] as { id: string; type: string }[]).filter((x) => x.type === 'event').map((x) => x.id);

const BASE = `title: Failed login
id: base-fail
name: failed_login
logsource: {product: okta, service: okta}
detection:
    selection:
        eventType: user.session.start
        outcome.result: FAILURE
    condition: selection
---
title: Successful login
id: base-ok
name: successful_login
logsource: {product: okta, service: okta}
detection:
    selection:
        eventType: user.session.start
        outcome.result: SUCCESS
    condition: selection
`;

function sigma(correlation: string, extra = ''): RuleIR[] {
  const { rules, unsupported } = parseSigmaText(`${BASE}---\ntitle: The correlation\nid: corr\n${extra}correlation:\n${correlation}`, 'c.yml');
  assert.deepEqual(unsupported, []);
  return rules;
}

function run(rules: RuleIR[], events: CanonicalEvent[], opts: { flush?: boolean } = {}): StoredAlert[] {
  const e = engine(rules);
  for (const x of events) e.push(x);
  if (opts.flush === false) e.drain();
  else e.flush();
  return e.takeAlerts();
}

/* ---------------------------------------- parsing ---------------------------------------- */

test('sigma: a correlation document becomes a rule reading alerts; names resolve to ids across the file', () => {
  const rules = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: {gte: 3}\n`, 'level: high\n');
  const c = rules.find((r) => r.id === 'corr')!;
  assert.equal(c.input, 'alerts');
  assert.equal(c.ruleType, 'correlation');
  assert.equal(c.severity, 'high');
  const st = c.stages[1] as CorrelationStage;
  assert.deepEqual(st.rules, ['base-fail']);
  assert.equal(st.timespanMs, 10 * MIN);
  assert.deepEqual(st.groupBy, [{ name: 'actor.alternateId', schema: 'okta' }]);
  assert.deepEqual(st.condition, { op: 'gte', value: 3 });
  assert.equal(st.generate, false);
  assert.match(explainRule(c).stages.map((s) => s.text).join('\n'), /correlation event_count of base-fail by actor.alternateId within 10m: count gte 3; the referenced rules' own alerts are hidden/);
});

test('sigma: timespans, temporal default condition, ranges, and errors', () => {
  assert.equal(parseTimespan('90m'), 90 * MIN);
  assert.equal(parseTimespan('2d'), 2 * 86_400_000);
  assert.equal(parseTimespan('1M'), 2_629_746_000);
  assert.equal(parseTimespan('0m'), undefined);
  assert.equal(parseTimespan('10 minutes'), undefined);
  const t = sigma(`    type: temporal\n    rules: [failed_login, successful_login]\n    group-by: [actor.alternateId]\n    timespan: 5m\n`);
  assert.deepEqual((t.find((r) => r.id === 'corr')!.stages[1] as CorrelationStage).condition, { op: 'gte', value: 2 });
  const r = sigma(`    type: event_count\n    rules: [failed_login]\n    timespan: 1h\n    condition: {gt: 1, lte: 3}\n`);
  assert.deepEqual((r.find((x) => x.id === 'corr')!.stages[1] as CorrelationStage).condition, { op: 'gt', value: 1, and: [{ op: 'lte', value: 3 }] });
  const bad = (body: string, re: RegExp) => assert.throws(() => parseSigmaText(`title: x\nid: x\ncorrelation:\n${body}`, 'bad.yml'), re);
  bad(`    type: event_cnt\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n`, /unknown correlation type 'event_cnt'/);
  bad(`    type: event_count\n    rules: [a]\n    timespan: 1 hour\n    condition: {gte: 1}\n`, /invalid timespan/);
  bad(`    type: event_count\n    rules: [a]\n    timespan: 1h\n`, /needs a 'condition'/);
  bad(`    type: value_count\n    rules: [a]\n    timespan: 1h\n    condition: {gte: 2}\n`, /needs 'field'/);
  bad(`    type: event_count\n    rules: [a]\n    timespan: 1h\n    condition: {gte: 2, over: 3}\n`, /unknown condition key/);
  const ext = parseSigmaText(`title: x\nid: x\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 1h\n    condition: a and not b\n`, 'ext.yml');
  assert.match(ext.unsupported[0]!.reason, /extended \(boolean\) correlation conditions/);
});

/* -------------------------------------- event_count --------------------------------------- */

test('event_count: per group, fires at the threshold, the base alerts hidden (generate: false), ancestors list them', () => {
  const rules = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: {gte: 3}\n`);
  const alerts = run(rules, [fail('f1', 0), fail('f2', MIN), fail('x1', 2 * MIN, 'bart@duff.com'), fail('f3', 2 * MIN), fail('f4', 3 * MIN)]);
  const base = of(alerts, 'base-fail');
  assert.equal(base.length, 5);
  assert.ok(base.every((a) => isHiddenAlert(a.doc) && a.doc['kibana.alert.building_block_type'] === 'default'));
  const c = of(alerts, 'corr');
  assert.equal(c.length, 1, 'the fourth failure starts a new count (the window was used up)');
  assert.equal(isHiddenAlert(c[0]!.doc), false);
  assert.deepEqual(corr(c[0]!), {
    type: 'event_count',
    rules: ['base-fail'],
    group: { 'actor.alternateId': 'homer@duff.com' },
    value: 3,
    count: 3,
    from: iso(0),
    to: iso(2 * MIN),
  });
  const ancestors = c[0]!.doc['kibana.alert.ancestors'] as { id: string; type: string }[];
  const baseIds = base.filter((a) => eventUuids(a)[0] !== 'x1' && eventUuids(a)[0] !== 'f4').map((a) => a.uuid);
  assert.deepEqual(ancestors.filter((a) => a.type === 'signal').map((a) => a.id).sort(), baseIds.sort());
  assert.deepEqual(ancestors.filter((a) => a.type === 'event').map((a) => a.id), ['f1', 'f2', 'f3']);
  assert.equal(c[0]!.doc['kibana.alert.depth'], 2);
  // The alert keeps what the correlated alerts share (the ECS view of the user).
  assert.equal((c[0]!.doc['okta'] as JsonObject)['actor'] && ((c[0]!.doc['okta'] as JsonObject)['actor'] as JsonObject)['alternate_id'], 'homer@duff.com');
});

test('event_count: the timespan boundary is inclusive (exactly 10m apart counts, 10m + 1 ms does not)', () => {
  const rules = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: {gte: 2}\n`);
  assert.equal(of(run(rules, [fail('a', 0), fail('b', 10 * MIN)]), 'corr').length, 1);
  assert.equal(of(run(rules, [fail('a', 0), fail('b', 10 * MIN + 1)]), 'corr').length, 0);
});

test('event_count: alerts missing a group-by field are not counted; no group-by = one group', () => {
  const byMissing = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [client.zone]\n    timespan: 10m\n    condition: {gte: 2}\n`);
  const noZone = { client: { ipAddress: '203.0.113.7' } };
  assert.equal(of(run(byMissing, [fail('a', 0, undefined, noZone), fail('b', MIN, undefined, noZone)]), 'corr').length, 0);
  const global = sigma(`    type: event_count\n    rules: [failed_login]\n    timespan: 10m\n    condition: {gte: 2}\n`);
  assert.equal(of(run(global, [fail('a', 0, 'a@x'), fail('b', MIN, 'b@x')]), 'corr').length, 1);
});

/* ------------------------------------- condition ops ------------------------------------- */

test('conditions: gt fires eagerly; lt, eq, neq and ranges are decided when the window closes', () => {
  const rulesFor = (cond: string) => sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: ${cond}\n`);
  const three = [fail('a', 0), fail('b', MIN), fail('c', 2 * MIN)];
  const count = (cond: string, events = three, flush = true) => of(run(rulesFor(cond), events, { flush }), 'corr').length;
  assert.equal(count('{gt: 2}'), 1);
  assert.equal(count('{gt: 3}'), 0);
  assert.equal(count('{lt: 4}'), 1);
  assert.equal(count('{lt: 3}'), 0);
  assert.equal(count('{lte: 3}'), 1);
  assert.equal(count('{eq: 3}'), 1);
  assert.equal(count('{eq: 2}'), 0, 'eq is checked on the whole window, not when the count passes 2');
  assert.equal(count('{neq: 3}'), 0);
  assert.equal(count('{neq: 2}'), 1);
  assert.equal(count('{gt: 1, lte: 3}'), 1);
  assert.equal(count('{gt: 1, lte: 2}'), 0);
  // Not closed before event time passes the window's end (a resumable scan leaves it open)...
  assert.equal(count('{lt: 4}', three, false), 0);
  // ...and closed by a later alert past it; the match's time is the window's end.
  const later = run(rulesFor('{lt: 4}'), [...three, fail('z', 11 * MIN, 'other@x')], { flush: false });
  const c = of(later, 'corr');
  assert.equal(c.length, 1);
  assert.equal(c[0]!.doc['@timestamp'], iso(10 * MIN));
  assert.deepEqual(sources(c[0]!), ['a', 'b', 'c']);
});

/* -------------------------------------- value_count --------------------------------------- */

test('value_count: distinct values (raw Okta paths read on the alerts), and distinct tuples', () => {
  const rules = sigma(`    type: value_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 1h\n    condition:\n        field: client.ipAddress\n        gte: 3\n`);
  const ip = (x: string) => ({ client: { ipAddress: x } });
  assert.equal(of(run(rules, [fail('a', 0, undefined, ip('198.51.100.1')), fail('b', MIN, undefined, ip('198.51.100.1')), fail('c', 2 * MIN, undefined, ip('198.51.100.2'))]), 'corr').length, 0);
  const hit = of(run(rules, [fail('a', 0, undefined, ip('198.51.100.1')), fail('b', MIN, undefined, ip('198.51.100.2')), fail('c', 2 * MIN, undefined, ip('198.51.100.3'))]), 'corr');
  assert.equal(hit.length, 1);
  assert.equal(corr(hit[0]!)!['value'], 3);
  const tuples = sigma(`    type: value_count\n    rules: [failed_login]\n    timespan: 1h\n    condition:\n        field: [actor.alternateId, client.ipAddress]\n        gte: 2\n`);
  assert.equal(of(run(tuples, [fail('a', 0, 'a@x', ip('198.51.100.1')), fail('b', MIN, 'b@x', ip('198.51.100.1'))]), 'corr').length, 1);
  assert.equal(of(run(tuples, [fail('a', 0, 'a@x', ip('198.51.100.1')), fail('b', MIN, 'a@x', ip('198.51.100.1'))]), 'corr').length, 0);
});

/* ----------------------------------- temporal / ordered ------------------------------------ */

test('temporal: every referenced rule within the timespan, any order, same group', () => {
  const rules = sigma(`    type: temporal\n    rules: [failed_login, successful_login]\n    group-by: [actor.alternateId]\n    timespan: 5m\n`);
  assert.equal(of(run(rules, [ok('s', 0), fail('f', MIN)]), 'corr').length, 1);
  assert.equal(of(run(rules, [fail('f', 0), ok('s', MIN)]), 'corr').length, 1);
  assert.equal(of(run(rules, [fail('f', 0), ok('s', MIN, 'bart@x')]), 'corr').length, 0, 'another user');
  assert.equal(of(run(rules, [fail('f', 0), ok('s', 6 * MIN)]), 'corr').length, 0, 'too far apart');
  assert.equal(of(run(rules, [fail('f', 0), fail('g', MIN)]), 'corr').length, 0, 'one rule twice is not two rules');
});

test('temporal_ordered: in the listed order only (equal times count as ordered)', () => {
  const rules = sigma(`    type: temporal_ordered\n    rules: [failed_login, successful_login]\n    group-by: [actor.alternateId]\n    timespan: 5m\n`);
  assert.equal(of(run(rules, [ok('s', 0), fail('f', MIN)]), 'corr').length, 0);
  const hit = of(run(rules, [ok('s0', 0), fail('f', MIN), ok('s', 2 * MIN)]), 'corr');
  assert.equal(hit.length, 1);
  assert.deepEqual(sources(hit[0]!), ['f', 's']);
  assert.equal(of(run(rules, [fail('f', 0), ok('s', 0)]), 'corr').length, 1);
});

test('chained correlations: the spec example (many failed logins, then a success) and aliases', () => {
  const text = `title: Brute force then success
id: outer
correlation:
    type: temporal_ordered
    rules: [multiple_failed_login, successful_login]
    group-by: [user]
    timespan: 10m
    aliases:
        user:
            multiple_failed_login: actor.alternateId
            successful_login: target.alternateId
level: high
---
title: Multiple failed logins
id: inner
name: multiple_failed_login
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: {gte: 2}
---
${BASE}`;
  const { rules, unsupported } = parseSigmaText(text, 'chain.yml');
  assert.deepEqual(unsupported, []);
  const outer = rules.find((r) => r.id === 'outer')!.stages[1] as CorrelationStage;
  assert.deepEqual(outer.rules, ['inner', 'base-ok']);
  assert.deepEqual(outer.members?.map((m) => m.keys?.[0]?.name), ['actor.alternateId', 'target.alternateId']);
  // The success event names the attacked account as its target (an admin logs in as it).
  const success = ok('s', 3 * MIN, 'admin@duff.com', { target: [{ id: 't', type: 'User', alternateId: 'homer@duff.com', displayName: 'H' }] });
  const alerts = run(rules, [fail('f1', 0), fail('f2', MIN), success]);
  const o = of(alerts, 'outer');
  assert.equal(o.length, 1);
  assert.deepEqual(corr(o[0]!)!['group'], { user: 'homer@duff.com' });
  // The inner correlation is referenced with generate false: hidden too; the outer is shown.
  assert.ok(of(alerts, 'inner').every((a) => isHiddenAlert(a.doc)));
  assert.equal(isHiddenAlert(o[0]!.doc), false);
  assert.equal(o[0]!.doc['kibana.alert.depth'], 3);
});

/* -------------------------------------- value metrics -------------------------------------- */

test('value_sum, value_avg, value_percentile, value_median: decided on the whole window', () => {
  const metric = (type: string, cond: string) =>
    sigma(`    type: ${type}\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition:\n        field: securityContext.asNumber\n${cond}`);
  const asn = (n: number | string) => ({ securityContext: { asNumber: n, isProxy: false } });
  const events = [fail('a', 0, undefined, asn(10)), fail('b', MIN, undefined, asn('20')), fail('c', 2 * MIN, undefined, asn(60)), fail('d', 3 * MIN, undefined, { securityContext: { isProxy: false } })];
  const n = (type: string, cond: string) => of(run(metric(type, cond), events), 'corr');
  assert.equal(corr(n('value_sum', '        gte: 90\n')[0]!)!['value'], 90);
  assert.equal(n('value_sum', '        gt: 90\n').length, 0);
  assert.equal(corr(n('value_avg', '        eq: 30\n')[0]!)!['value'], 30);
  assert.equal(corr(n('value_median', '        eq: 20\n')[0]!)!['value'], 20);
  assert.equal(corr(n('value_percentile', '        percentile: 75\n        gte: 40\n')[0]!)!['value'], 40);
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([5], 99), 5);
  assert.equal(of(run(metric('value_sum', '        gte: 1\n'), [fail('a', 0, undefined, { securityContext: { isProxy: false } })]), 'corr').length, 0, 'no numbers, no measure');
});

/* ---------------------------------------- generate ---------------------------------------- */

test('generate: true keeps the base alerts visible; a scan does not deliver hidden alerts to the sinks', async () => {
  const shown = sigma(`    type: event_count\n    rules: [failed_login]\n    timespan: 10m\n    condition: {gte: 2}\n    generate: true\n`);
  const alerts = run(shown, [fail('a', 0), fail('b', MIN)]);
  assert.ok(of(alerts, 'base-fail').every((a) => !isHiddenAlert(a.doc)));
  // A rule not referenced by the correlation is untouched.
  const hidden = sigma(`    type: event_count\n    rules: [failed_login]\n    timespan: 10m\n    condition: {gte: 2}\n`);
  const all = run(hidden, [fail('a', 0), fail('b', MIN), ok('c', 2 * MIN)]);
  assert.ok(of(all, 'base-ok').every((a) => !isHiddenAlert(a.doc)));

  const { runScan } = await import('../src/pipeline/scan.js');
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-corr-'));
  const input = join(dir, 'events.ndjson');
  writeFileSync(input, [fail('a', 0), fail('b', MIN), ok('c', 2 * MIN)].map((e) => JSON.stringify(e.doc)).join('\n') + '\n');
  const written: StoredAlert[] = [];
  const store = new MemoryStore();
  await runScan({ inputs: [input], rules: hidden, store, schema, sinks: [{ write: (a) => written.push(a), close: async () => {} }] });
  assert.deepEqual(written.map((a) => a.ruleId).sort(), ['base-ok', 'corr']);
  assert.equal(store.pendingAlerts().length, 0, 'hidden alerts count as delivered');
});

/* ----------------------------------------- restarts ----------------------------------------- */

test('restart mid-window (SQLite): the count continues and the alert is the one a single run gives', () => {
  const rules = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: {gte: 3}\n`);
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-corr-')), 'state.sqlite');
  const once = (events: CanonicalEvent[], batch: number): StoredAlert[] => {
    const store = new SqliteStore(path);
    const e = engine(rules, store);
    store.begin();
    for (const x of events) e.push(x);
    e.drain();
    e.commit(batch);
    store.commit();
    store.close();
    return e.takeAlerts();
  };
  assert.equal(of(once([fail('f1', 0), fail('f2', MIN)], 1), 'corr').length, 0);
  const second = of(once([fail('f3', 2 * MIN)], 2), 'corr');
  assert.equal(second.length, 1);
  const direct = of(run(rules, [fail('f1', 0), fail('f2', MIN), fail('f3', 2 * MIN)], { flush: false }), 'corr');
  assert.equal(second[0]!.uuid, direct[0]!.uuid);
  assert.deepEqual(second[0]!.doc['okta'], direct[0]!.doc['okta']);
});

test('restart: a window waiting to close (lt) survives a restart', () => {
  const rules = sigma(`    type: event_count\n    rules: [failed_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n    condition: {lt: 5}\n`);
  const store = new MemoryStore();
  const first = engine(rules, store);
  first.push(fail('f1', 0));
  first.push(fail('f2', MIN));
  first.commit(1);
  assert.equal(of(first.takeAlerts(), 'corr').length, 0);
  const second = engine(rules, store);
  second.push(ok('later', 20 * MIN, 'someone@else'));
  const c = of(second.takeAlerts(), 'corr');
  assert.equal(c.length, 1);
  assert.deepEqual(sources(c[0]!), ['f1', 'f2']);
});

/* ----------------------------------------- Panther ----------------------------------------- */

const PANTHER_LOGIN = `AnalysisType: rule
RuleID: Okta.Login.Success
DisplayName: Okta login
Enabled: true
LogTypes: [Okta.SystemLog]
Severity: Info
Detection:
  - Key: eventType
    Condition: Equals
    Value: user.session.start
  - Key: outcome.result
    Condition: Equals
    Value: SUCCESS
`;
// Panther correlations count signals (every match); here the referenced rules' alerts: a match in a
// rule's dedup window attaches to its alert instead of raising one (docs/panther.md), so the MFA
// rule dedups for 1 minute only.
const PANTHER_MFA = `AnalysisType: rule
RuleID: Okta.MFA.Push
Enabled: true
DedupPeriodMinutes: 1
LogTypes: [Okta.SystemLog]
Severity: Info
Detection:
  - Key: eventType
    Condition: Equals
    Value: user.authentication.auth_via_mfa
`;

function panther(...texts: string[]): RuleIR[] {
  return texts.flatMap((t, i) => {
    const p = parsePanther(t, `p${i}.yml`);
    assert.deepEqual(p.unsupported, []);
    return p.rules;
  });
}
const mfa = (uuid: string, ms: number, user?: string) => ev(uuid, ms, { eventType: 'user.authentication.auth_via_mfa' }, user);

test('panther Group with Absence: a login with no MFA push by the same user within the lookback window', () => {
  const group = `AnalysisType: correlation_rule
RuleID: Login.Without.MFA
DisplayName: Login without MFA
Enabled: true
Severity: Critical
Detection:
  - Group:
      - ID: Push
        RuleID: Okta.MFA.Push
        Absence: true
      - ID: Okta
        RuleID: Okta.Login.Success
    MatchCriteria:
      user:
        - GroupID: Push
          Match: actor.alternateId
        - GroupID: Okta
          Match: actor.alternateId
    LookbackWindowMinutes: 30
`;
  const rules = panther(PANTHER_LOGIN, PANTHER_MFA, group);
  const c = rules.find((r) => r.id === 'Login.Without.MFA')!;
  assert.equal(c.severity, 'critical');
  assert.match(explainRule(c).stages.map((s) => s.text).join('\n'), /correlation temporal of no \[Push\] Okta.MFA.Push, \[Okta\] Okta.Login.Success by actor.alternateId within 30m/);
  const fired = (events: CanonicalEvent[], flush = true) => of(run(rules, events, { flush }), 'Login.Without.MFA');
  // Panther's tests: a push before the login (3 minutes later) suppresses; one by another user does not.
  assert.equal(fired([mfa('p', 0), ok('o', 3 * MIN)]).length, 0);
  assert.equal(fired([ok('o', 0), mfa('p', 3 * MIN)]).length, 0);
  assert.equal(fired([ok('o', 0)]).length, 1);
  assert.equal(fired([ok('o', 0), mfa('p', 3 * MIN, 'samwise@x')]).length, 1);
  assert.equal(fired([mfa('p', 0), ok('o', 31 * MIN)]).length, 1, 'the push is outside the lookback window');
  // Decided once event time passes the window: not before.
  assert.equal(fired([ok('o', 0), ok('other', 10 * MIN, 'x@y')], false).length, 0);
  assert.equal(fired([ok('o', 0), ok('other', 31 * MIN, 'x@y')], false).length, 1);
  // No Panther correlation hides its members' alerts.
  assert.ok(run(rules, [ok('o', 0)]).every((a) => !isHiddenAlert(a.doc)));
});

test('panther Group: MinMatchCount and Chronological order', () => {
  const group = (order: string) => `AnalysisType: correlation_rule
RuleID: Many.Pushes.Then.Login
Enabled: true
Severity: High
Detection:
  - Group:
      - ID: Push
        RuleID: Okta.MFA.Push
        MinMatchCount: 3
      - ID: Okta
        RuleID: Okta.Login.Success
    MatchCriteria:
      user:
        - GroupID: Push
          Match: actor.alternateId
        - GroupID: Okta
          Match: actor.alternateId
${order}    LookbackWindowMinutes: 60
`;
  const rules = panther(PANTHER_LOGIN, PANTHER_MFA, group(''));
  const id = 'Many.Pushes.Then.Login';
  assert.equal(of(run(rules, [mfa('a', 0), mfa('b', MIN), ok('o', 2 * MIN)]), id).length, 0);
  assert.equal(of(run(rules, [mfa('a', 0), mfa('b', MIN), ok('o', 2 * MIN), mfa('c', 3 * MIN)]), id).length, 1);
  const ordered = panther(PANTHER_LOGIN, PANTHER_MFA, group('    EventEvaluationOrder: Chronological\n'));
  assert.equal(of(run(ordered, [mfa('a', 0), mfa('b', MIN), ok('o', 2 * MIN), mfa('c', 3 * MIN)]), id).length, 0);
  assert.equal(of(run(ordered, [mfa('a', 0), mfa('b', MIN), mfa('c', 2 * MIN), ok('o', 3 * MIN)]), id).length, 1);
});

test('panther Sequence form: transitions with WithinTimeFrameMinutes and From/To match fields, trailing absence', () => {
  const seq = (absent: boolean) => `AnalysisType: correlation_rule
RuleID: Login.Then.Push
Enabled: true
Severity: High
Detection:
  - Sequence:
      - ID: Okta
        RuleID: Okta.Login.Success
      - ID: Push
        RuleID: Okta.MFA.Push
${absent ? '        Absence: true\n' : ''}    Transitions:
      - ID: Okta to Push
        From: Okta
        To: Push
        WithinTimeFrameMinutes: 10
        Match:
          - From: actor.alternateId
            To: actor.alternateId
    LookbackWindowMinutes: 60
`;
  const id = 'Login.Then.Push';
  const present = panther(PANTHER_LOGIN, PANTHER_MFA, seq(false));
  assert.equal(of(run(present, [ok('o', 0), mfa('p', 5 * MIN)]), id).length, 1);
  assert.equal(of(run(present, [ok('o', 0), mfa('p', 11 * MIN)]), id).length, 0, 'outside WithinTimeFrameMinutes');
  assert.equal(of(run(present, [mfa('p', 0), ok('o', 5 * MIN)]), id).length, 0, 'wrong order');
  assert.equal(of(run(present, [ok('o', 0), mfa('p', 5 * MIN, 'x@y')]), id).length, 0, 'another user');
  const absent = panther(PANTHER_LOGIN, PANTHER_MFA, seq(true));
  assert.equal(of(run(absent, [ok('o', 0), mfa('p', 5 * MIN)]), id).length, 0);
  assert.equal(of(run(absent, [ok('o', 0), mfa('p', 11 * MIN)]), id).length, 1, 'no push within 10 minutes');
  assert.equal(of(run(absent, [mfa('p', 0), ok('o', 1 * MIN)]), id).length, 1, 'a push before the login does not count');
});

test('panther: a correlation whose referenced rules do not run here is reported with their RuleIDs', () => {
  const group = `AnalysisType: correlation_rule
RuleID: Needs.Push.Security
Enabled: true
Severity: Critical
Detection:
  - Group:
      - ID: Push
        RuleID: Push.Security.Authorized.IdP.Login
        Absence: true
      - ID: Okta
        RuleID: Okta.Login.Success
      - ID: Phish
        RuleID: Push.Security.Phishing.Attack
    MatchCriteria:
      user:
        - GroupID: Push
          Match: new.email
        - GroupID: Okta
          Match: actor.alternateId
        - GroupID: Phish
          Match: new.employee.email
`;
  const e = engine(panther(PANTHER_LOGIN, group));
  assert.equal(e.compiled.length, 1);
  assert.equal(e.unsupported.length, 1);
  assert.match(e.unsupported[0]!.reason, /Push\.Security\.Phishing\.Attack \(so it could never fire\); Push\.Security\.Authorized\.IdP\.Login \(an absent member/);
  const c = parsePanther(group, 'g.yml').rules[0]!.stages[1] as CorrelationStage;
  assert.equal(c.timespanMs, 15 * MIN, 'LookbackWindowMinutes defaults to 15');
  const multi = parsePanther(group.replace('Detection:\n  - Group:', 'Detection:\n  - Sequence: [{ID: a, RuleID: a}]\n  - Group:'), 'm.yml');
  assert.match(multi.unsupported[0]!.reason, /several Detection entries/);
});

/* ------------------------------------- cross-dialect -------------------------------------- */

test('cross-dialect: a Sigma correlation over an Elastic rule (ECS field names) and a Sigma rule', () => {
  const elastic = parseElastic(
    JSON.stringify({
      rule_id: 'elastic-mfa',
      name: 'MFA push (Elastic)',
      type: 'query',
      language: 'kuery',
      index: ['logs-okta*'],
      query: 'event.action: "user.authentication.auth_via_mfa"',
      severity: 'low',
      risk_score: 21,
    }),
    'mfa.json',
  );
  assert.equal(elastic.rules.length, 1, JSON.stringify(elastic.unsupported));
  const rules = [
    ...elastic.rules,
    ...sigma(`    type: temporal_ordered\n    rules: [elastic-mfa, successful_login]\n    group-by: [actor.alternateId]\n    timespan: 10m\n`),
  ];
  const alerts = run(rules, [mfa('p', 0), ok('o', MIN)]);
  const c = of(alerts, 'corr');
  assert.equal(c.length, 1);
  const ancestorRules = new Set((c[0]!.doc['kibana.alert.ancestors'] as { rule?: string }[]).map((a) => a.rule).filter(Boolean));
  assert.equal(ancestorRules.size, 2);
  // The Elastic rule's alerts are hidden by the Sigma correlation (generate: false) as well.
  assert.ok(of(alerts, 'elastic-mfa').every((a) => isHiddenAlert(a.doc)));
  // ECS names work too in group-by (read on the alert as they are).
  const ecs = [...elastic.rules, ...sigma(`    type: temporal\n    rules: [elastic-mfa, successful_login]\n    group-by: [user.name]\n    timespan: 10m\n`)];
  assert.equal(of(run(ecs, [mfa('p', 0), ok('o', MIN)]), 'corr').length, 1);
});

test('a rule of another dialect built in code: the stage reads alerts only, and IR field refs of every schema', () => {
  const base = rule('b', eq('eventType', 'user.session.start'), { dialect: 'typescript' });
  const st: CorrelationStage = { type: 'correlation', kind: 'event_count', rules: ['b'], groupBy: [{ name: 'okta.actor.alternate_id', schema: 'ecs' }], timespanMs: 10 * MIN, condition: { op: 'gte', value: 2 } };
  const c: RuleIR = { ...rule('c', { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values: ['b'] }), input: 'alerts', stages: [{ type: 'filter', predicate: { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values: ['b'] } }, st] };
  const alerts = run([base, c], [ok('a', 0), ok('b2', MIN)]);
  assert.equal(of(alerts, 'c').length, 1);
  assert.ok(of(alerts, 'b').every((a) => !isHiddenAlert(a.doc)), 'generate unset (not Sigma): nothing hidden');
});

/* ---------------------------------------- raw fields ---------------------------------------- */

test('raw Okta paths on alert documents through the ECS mapping', () => {
  const rules = [rule('base', eq('eventType', 'user.session.start'))];
  const e = engine(rules);
  e.push(ok('r1', 0, 'homer@duff.com', { target: [{ id: 't1', type: 'User', alternateId: 'bart@duff.com', displayName: 'Bart' }], securityContext: { isProxy: true, asNumber: 7 } }));
  e.drain();
  const a = e.takeAlerts()[0]!;
  const alertEv = { kind: 'alert', id: a.uuid, time: a.time, eventType: '', doc: a.doc, origin: 'x', depth: 1, shape: 'alert', cache: new Map() } as unknown as CanonicalEvent;
  const get = (name: string) => rawOnAlert(name)(alertEv);
  assert.equal(get('actor.alternateId'), 'homer@duff.com');
  assert.equal(get('ACTOR.ALTERNATEID'), 'homer@duff.com', 'case-insensitive as on raw events');
  assert.deepEqual(get('target.alternateId'), ['bart@duff.com']);
  assert.equal(get('securityContext.isProxy'), true);
  assert.equal(get('client.ipAddress'), '203.0.113.7');
  assert.equal(get('published'), iso(0));
  assert.equal(get('eventType'), 'user.session.start');
  assert.equal(get('legacyEventType'), undefined, 'dropped by the integration');
  assert.equal(get('user.name'), 'homer', 'not a raw path: the alert field as it is');
  assert.ok(RAW_FIELDS_ON_ALERTS.includes('actor.alternateId') && RAW_FIELDS_ON_ALERTS.includes('securityContext.isProxy'));
  assert.equal(rawOnAlert('actor.alternateId')(ok('raw', 0)), 'homer@duff.com', 'Okta events read the raw path');
});
