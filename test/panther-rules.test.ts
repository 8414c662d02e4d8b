/**
 * Panther rules end to end: metadata into RuleIR, TypeScript bodies, the seed's port through
 * the engine (dedup 360 min, INFO for Apple Private Relay), fallback chains, `oktopus test`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadRules } from '../src/rules/load.js';
import { parsePanther } from '../src/dialects/panther/dialect.js';
import { pantherPresentation } from '../src/dialects/panther/present.js';
import { adaptRecord } from '../src/adapters/index.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { explain } from '../src/explain/explain.js';
import { formatTable, junitXml, runTests } from '../src/cli/test-command.js';
import { logEvent, oktaEvent } from './helpers.js';
import type { JsonObject } from '../src/event/types.js';
import type { RuleIR } from '../src/ir/types.js';

const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const SEED = `${RULES}panther/okta_anonymizing_vpn_login.yml`;
const seedTests = (parse(readFileSync(SEED, 'utf8')) as { Tests: { Name: string; Log: JsonObject }[] }).Tests;
const log = (name: string): JsonObject => structuredClone(seedTests.find((t) => t.Name === name)!.Log);

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-panther-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const YAML = (extra: string, body = 'Filename: body.ts') => `AnalysisType: rule
${body}
RuleID: Test.Rule
DisplayName: Test Rule Display
Enabled: true
LogTypes: [Okta.SystemLog]
Severity: High
${extra}`;

test('metadata: every key into RuleIR; defaults Dedup 60 / Threshold 1', async () => {
  const dir = tmp({
    'r.yml': YAML(`Tags: [Okta, Identity]
Reports:
  MITRE ATT&CK: [TA0006:T1556, TA0001:T1078.004]
Description: d
Runbook: do things
Reference: https://example.com
SummaryAttributes: [p_any_ip_addresses]
CreateAlert: false
Tests: [{Name: t, ExpectedResult: true, Log: {eventType: x}}]`),
    'body.ts': 'export function rule(e: any): boolean { return e.eventType === "x"; }\nexport function title() { return "T"; }\n',
  });
  const loaded = await loadRules([dir]);
  assert.deepEqual(loaded.errors, []);
  assert.equal(loaded.unsupported.length, 0, 'the body module is not a rule of its own');
  const r = loaded.rules[0]!;
  assert.equal(r.id, 'Test.Rule');
  assert.equal(r.name, 'Test Rule Display');
  assert.equal(r.severity, 'high');
  assert.equal(r.riskScore, 73);
  assert.deepEqual(r.tags, ['Okta', 'Identity']);
  assert.deepEqual(r.references, ['https://example.com']);
  assert.equal(r.description, 'd');
  assert.deepEqual(r.threat.map((t) => t.tactic?.id), ['TA0006', 'TA0001']);
  assert.deepEqual(r.threat[1]!.techniques[0]!.subtechniques?.[0]?.id, 'T1078.004');
  assert.deepEqual(r.stages[1], { type: 'dedup', key: [], periodMs: 3_600_000, threshold: 1, pantherKey: true });
  assert.deepEqual(r.panther?.functions, ['title']);
  assert.equal(r.panther?.createAlert, false);
  assert.equal(r.panther?.runbook, 'do things');
  assert.deepEqual(r.panther?.summaryAttributes, ['p_any_ip_addresses']);
  assert.equal(r.panther?.tests?.length, 1);
  assert.match(explain(r).stages[0]!.text, /panther rule\(\) in .*body\.ts/);
  assert.match(explain(r).stages[1]!.text, /Panther dedup string per 60 min/);
});

test('a Python body that is not there is listed as "no rule body"; a scheduled rule as not supported; bad Severity is an error', () => {
  const py = parsePanther(YAML('', 'Filename: nothing_here.py'), '/nowhere/r.yml');
  assert.equal(py.rules.length, 0);
  assert.match(py.unsupported[0]!.reason, /no rule body: panther\/rule \(body nothing_here\.py\) is not beside the YAML/);
  const sched = parsePanther('AnalysisType: scheduled_rule\nRuleID: S\nSeverity: Low\nScheduledQueries: [Query.X]\n', '/nowhere/s.yml');
  assert.match(sched.unsupported[0]!.reason, /scheduled_rule \(its body reads the rows of scheduled SQL queries/);
  assert.throws(() => parsePanther(YAML('', 'Detection: [{Condition: AlwaysTrue}]').replace('Severity: High', 'Severity: Spicy'), 'b.yml'), /Severity must be/);
});

test('the seed port: rule, title with ordered pairs, INFO for Apple Private Relay, MEDIUM otherwise, alert_context', async () => {
  const loaded = await loadRules([SEED]);
  assert.deepEqual(loaded.errors, []);
  const r = loaded.rules[0]!;
  assert.equal(r.stages[1]!.type === 'dedup' && r.stages[1]!.periodMs, 360 * 60_000);
  const apple = adaptRecord(log('Apple Private Relay Used'), 't')[0]!;
  const proxy = adaptRecord(log('Anonymizing Proxy Used'), 't')[0]!;
  const pa = pantherPresentation(r, apple);
  const pp = pantherPresentation(r, proxy);
  assert.equal(pa.severityWord, 'INFO');
  assert.equal(pp.severityWord, 'MEDIUM');
  assert.equal(pp.title, "Homer Simpson <homer.simpson@duff.com> attempted to sign-in from anonymizing VPN - {'IP': '1.3.2.4', 'ASO': 'verizon', 'ISP': 'verizon', 'Domain': 'anonymous.org'}");
  assert.equal(pp.dedup, pp.title, 'no dedup(): the title is the dedup string');
  assert.equal((pp.context as JsonObject)['event_type'], 'user.session.start');
  assert.deepEqual(pa.errors, []);
});

test('the seed through the engine: one alert per title per 360 minutes, later matches attach; severity from severity()', () => {
  const rules = parsePanther(readFileSync(SEED, 'utf8'), SEED).rules;
  const engine = new Engine(rules, { schema: { org: 'duff' }, store: new MemoryStore(), reorderWindowMs: 0 });
  const at = (name: string, iso: string, uuid: string): void => {
    for (const ev of adaptRecord({ ...log(name), published: iso, uuid }, 't')) engine.push(ev);
  };
  at('Anonymizing Proxy Used', '2024-05-01T10:00:00Z', 'u1');
  at('Anonymizing Proxy Used', '2024-05-01T15:59:00Z', 'u2'); // same title, inside 6 h: attaches
  at('Apple Private Relay Used', '2024-05-01T11:00:00Z', 'u3'); // other title (Service): own alert
  at('Other Event', '2024-05-01T11:30:00Z', 'u4');
  at('Anonymizing Proxy Used', '2024-05-01T16:00:00Z', 'u5'); // window over: a new alert
  engine.drain();
  const alerts = engine.takeAlerts();
  assert.equal(alerts.length, 3);
  const [first, apple, third] = alerts.map((a) => a.doc);
  assert.equal(first!['kibana.alert.severity'], 'medium');
  assert.equal(apple!['kibana.alert.severity'], 'low', 'INFO is written as Kibana low');
  assert.equal((apple!['oktopus'] as JsonObject)['severity'], 'informational');
  const pan = (d: JsonObject) => (d['oktopus'] as JsonObject)['panther'] as JsonObject;
  assert.equal(pan(apple!)['severity'], 'INFO');
  assert.match(String(first!['kibana.alert.reason']), /attempted to sign-in from anonymizing VPN/);
  assert.equal(pan(first!)['title'], first!['kibana.alert.reason']);
  assert.ok(pan(first!)['alert_context']);
  assert.equal(((third!['oktopus'] as JsonObject)['dedup'] as JsonObject)['count'], 1);
  const updated = engine.takeUpdates().get(alerts[0]!.uuid)!;
  assert.equal(((updated['oktopus'] as JsonObject)['dedup'] as JsonObject)['count'], 2);
});

test('a YAML rule with DedupPeriodMinutes and Threshold across restarts (SQLite store): raised once at the threshold, later matches attach', () => {
  const { rules } = parsePanther(
    `AnalysisType: rule
RuleID: Test.Restart.InternalLogin
LogTypes: [Okta.SystemLog]
Severity: Medium
DedupPeriodMinutes: 30
Threshold: 3
Detection:
  - {Key: eventType, Condition: Equals, Value: user.session.start}
  - {KeyPath: client.ipAddress, Condition: IsIPAddressInCIDR, Value: 10.0.0.0/8}
GroupBy:
  - KeyPath: actor.alternateId
`,
    'restart.yml',
  );
  assert.equal(rules.length, 1);
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-panther-')), 'state.sqlite');
  const dedup = (d: JsonObject | undefined) => ((d?.['oktopus'] as JsonObject | undefined)?.['dedup'] ?? {}) as JsonObject;
  /** One run of the engine on the state file: its events in one batch, committed, then closed. */
  const session = (batch: number, events: [uuid: string, minute: number, ip?: string, actor?: string][]) => {
    const store = new SqliteStore(path);
    const engine = new Engine(rules, { schema: { org: 'duff' }, store, reorderWindowMs: 0 });
    store.transaction(() => {
      for (const [uuid, minute, ip = '10.1.2.3', actor = 'homer.simpson@duff.com'] of events) {
        const published = new Date(Date.UTC(2026, 10, 2, 10, minute)).toISOString();
        const log = logEvent({ uuid, published, client: { ipAddress: ip }, actor: { id: '00u1', type: 'User', alternateId: actor, displayName: actor } });
        for (const ev of adaptRecord(log, 't')) engine.push(ev);
      }
      engine.drain();
      engine.commit(batch);
    });
    return { alerts: engine.takeAlerts(), updates: engine.takeUpdates(), duplicates: engine.stats.duplicates, store };
  };

  // Run 1: two matches of three (and a non-match, and another actor's key): nothing yet.
  let run = session(1, [['r1', 0], ['r2', 5], ['r3', 6, '8.8.8.8'], ['r4', 7, '10.9.9.9', 'bart@duff.com']]);
  assert.equal(run.alerts.length, 0, 'below the threshold');
  run.store.close();

  // Run 2 (restart): the third match reaches the threshold of the window opened in run 1.
  run = session(2, [['r5', 10], ['r6', 15]]);
  assert.equal(run.alerts.length, 1, 'raised once, at the threshold, counting matches from before the restart');
  const alert = run.alerts[0]!;
  assert.equal(alert.doc['kibana.alert.rule.rule_id'], 'Test.Restart.InternalLogin');
  assert.equal(dedup(alert.doc)['count'], 3);
  assert.equal(dedup(alert.doc)['key'], 'homer.simpson@duff.com');
  assert.equal(dedup(alert.doc)['window_start'], '2026-11-02T10:00:00.000Z', 'the window opened at the first match, in run 1');
  assert.equal(dedup(run.updates.get(alert.uuid))['count'], 4, 'the fourth match attaches');
  run.store.close();

  // Run 3 (restart): later matches inside the window attach to the alert raised in run 2; an
  // event seen before is a duplicate; the other actor still has its own (unreached) window.
  run = session(3, [['r7', 20], ['r2', 5], ['r8', 25, '10.9.9.9', 'bart@duff.com']]);
  assert.equal(run.alerts.length, 0, 'no second alert in the window');
  assert.equal(run.duplicates, 1, 'r2 was seen before the restart');
  assert.deepEqual([...run.updates.keys()], [alert.uuid]);
  assert.equal(dedup(run.updates.get(alert.uuid))['count'], 5);
  assert.equal(dedup(run.updates.get(alert.uuid))['last_seen'], '2026-11-02T10:20:00.000Z');
  assert.equal(dedup(run.store.getAlert(alert.uuid)?.doc)['count'], 5, 'the stored alert carries the count');
  run.store.close();

  // Run 4: the window (10:00 + 30 min) is over: a new window counts from one again.
  run = session(4, [['r9', 31], ['r10', 32]]);
  assert.equal(run.alerts.length, 0);
  assert.equal(run.updates.size, 0);
  run.store.close();
});

test('fallback chains and limits: title -> DisplayName -> RuleID; dedup -> title fn -> defaultDedupString; severity DEFAULT; errors kept', () => {
  const run = (body: string, extra = '', display = true): ReturnType<typeof pantherPresentation> => {
    const dir = tmp({ 'r.yml': YAML(extra).replace(display ? '' : 'DisplayName: Test Rule Display\n', ''), 'body.ts': body });
    const r = parsePanther(readFileSync(join(dir, 'r.yml'), 'utf8'), join(dir, 'r.yml')).rules[0]!;
    return pantherPresentation(r, oktaEvent());
  };
  let p = run('export const rule = () => true;');
  assert.equal(p.title, 'Test Rule Display');
  assert.equal(p.dedup, 'defaultDedupString:Test.Rule', 'the DisplayName fallback is not a dedup string');
  assert.equal(p.severityWord, 'HIGH');
  p = run('export const rule = () => true;', '', false);
  assert.equal(p.title, 'Test.Rule');
  p = run('export const rule = () => true; export const title = () => "x".repeat(1500); export const severity = () => "default";');
  assert.equal(p.title.length, 1000);
  assert.equal(p.dedup.length, 1000);
  assert.equal(p.severityWord, 'HIGH');
  p = run('export const rule = () => true; export const title = () => "T"; export const dedup = () => ""; export const severity = () => "low";');
  assert.equal(p.dedup, 'T', 'an empty dedup() falls back to the title');
  assert.equal(p.severityWord, 'LOW');
  p = run('export const rule = () => true; export function title() { throw new Error("boom"); } export const dedup = () => 42; export const severity = () => "SPICY"; export const alert_context = () => { throw new TypeError("ctx"); }; export const destinations = () => [];');
  assert.equal(p.title, 'Test Rule Display');
  assert.equal(p.severityWord, 'HIGH');
  assert.deepEqual(p.context, { _error: 'TypeError: ctx' });
  assert.deepEqual(p.destinations, ['SKIP']);
  assert.deepEqual(p.errors.map((e) => e.fn).sort(), ['alert_context', 'dedup', 'severity', 'title']);
  p = run('export const rule = () => true; export const alert_context = () => ({ big: "x".repeat(210 * 1024) });');
  assert.match(String(p.context?.['_error']), /bigger than the maximum/);
});

test('unique() thresholds: Threshold counts distinct unique() values per dedup window', () => {
  const dir = tmp({
    'r.yml': YAML('Threshold: 2\nDedupPeriodMinutes: 10'),
    'body.ts': 'export const rule = (e: any) => e.eventType === "user.session.start";\nexport const dedup = () => "k";\nexport const unique = (e: any) => e.client.ipAddress;\n',
  });
  const rules = parsePanther(readFileSync(join(dir, 'r.yml'), 'utf8'), join(dir, 'r.yml')).rules;
  assert.equal((rules[0]!.stages[1] as { uniqueFn?: boolean }).uniqueFn, true);
  const engine = new Engine(rules, { schema: { org: 'o' }, store: new MemoryStore(), reorderWindowMs: 0 });
  const push = (ip: string, iso: string): void => {
    for (const ev of adaptRecord(logEvent({ published: iso, client: { ipAddress: ip } }), 't')) engine.push(ev);
  };
  push('1.1.1.1', '2024-01-01T00:00:00Z');
  push('1.1.1.1', '2024-01-01T00:01:00Z');
  assert.equal(engine.takeAlerts().length, 0, 'one distinct value');
  push('2.2.2.2', '2024-01-01T00:02:00Z');
  assert.equal(engine.takeAlerts().length, 1, 'two distinct values');
});

test('a body that raises does not match (and is counted); a body that fails to load is a load error', async () => {
  const dir = tmp({ 'r.yml': YAML(''), 'body.ts': 'export function rule(e: any) { return e.nope.deeper === 1; }' });
  const rules = parsePanther(readFileSync(join(dir, 'r.yml'), 'utf8'), join(dir, 'r.yml')).rules as RuleIR[];
  const engine = new Engine(rules, { schema: { org: 'o' }, store: new MemoryStore(), reorderWindowMs: 0 });
  engine.push(oktaEvent());
  engine.drain();
  assert.equal(engine.takeAlerts().length, 0);
  const bad = tmp({ 'r.yml': YAML(''), 'body.ts': 'export function rule( {' });
  const loaded = await loadRules([join(bad, 'r.yml')]);
  assert.match(loaded.errors[0]!.message, /rule body .*body\.ts/);
});

test('oktopus test: pass/fail/no rule body, Mocks, expectations, JUnit', async () => {
  const dir = tmp({
    'a.yml': YAML(`Tests:
  - Name: matches
    ExpectedResult: true
    ExpectedTitle: "title homer.simpson@duff.com"
    ExpectedSeverity: HIGH
    Log: {eventtype: user.session.start, actor: {alternateId: homer.simpson@duff.com}}
  - Name: wrong expectation
    ExpectedResult: true
    ExpectedTitle: nope
    Log: {eventtype: user.session.start, actor: {alternateId: x}}
  - Name: mocked
    ExpectedResult: false
    Mocks: [{objectName: allowed, returnValue: false}]
    Log: {eventtype: user.session.start}`),
    'body.ts': `import { allowed } from './lib.js';
export const rule = (e: any) => e.eventType === 'user.session.start' && allowed();
export const title = (e: any) => 'title ' + e.deep_get('actor', 'alternateId');`,
    'lib.ts': 'export function allowed(): boolean { return true; }',
    'b.yml': YAML('Tests: [{Name: python only, ExpectedResult: true, Log: {eventType: x}}]', 'Filename: b_missing.py').replace('Test.Rule', 'Test.B'),
  });
  const rows = await runTests([dir]);
  const status = Object.fromEntries(rows.map((r) => [r.test, r.status]));
  assert.deepEqual(status, { matches: 'pass', 'wrong expectation': 'fail', mocked: 'pass', 'python only': 'no rule body' });
  assert.match(rows.find((r) => r.test === 'wrong expectation')!.detail, /title "title x", expected "nope"/);
  assert.match(formatTable(rows), /4 tests: 2 passed, 1 failed, 1 no rule body, 0 errors/);
  const xml = junitXml(rows);
  assert.match(xml, /<failure message="title/);
  assert.match(xml, /<skipped message="no rule body: python body b_missing\.py not found beside the YAML/);
});

test('oktopus test: the seed\'s three tests pass; <rule>.tests.yml fixtures run through the engine', async () => {
  const seed = await runTests([`${RULES}panther`]);
  assert.deepEqual(seed.map((r) => r.status), ['pass', 'pass', 'pass']);
  const dir = tmp({
    'burst.yml': `AnalysisType: rule
RuleID: Test.Burst
Severity: Low
Threshold: 2
DedupPeriodMinutes: 10
Detection: [{Key: eventType, Condition: Equals, Value: user.session.start}]
GroupBy: [{KeyPath: actor.alternateId}]
`,
    'burst.yml.tests.yml': `tests:
  - name: two in the window raise one alert
    events:
      - {uuid: e1, published: "2024-01-01T00:00:00Z", eventType: user.session.start, actor: {alternateId: a}}
      - {uuid: e2, published: "2024-01-01T00:05:00Z", eventType: user.session.start, actor: {alternateId: a}}
      - {uuid: e3, published: "2024-01-01T00:06:00Z", eventType: user.session.start, actor: {alternateId: b}}
    alerts: 1
    expect: [{oktopus.panther.dedup: a, kibana.alert.severity: low}]
  - name: wrong count fails
    events: [{uuid: e1, published: "2024-01-01T00:00:00Z", eventType: user.session.start, actor: {alternateId: a}}]
    alerts: 1
`,
  });
  const rows = await runTests([dir]);
  assert.deepEqual(rows.map((r) => [r.test, r.status]), [
    ['two in the window raise one alert', 'pass'],
    ['wrong count fails', 'fail'],
  ]);
});
