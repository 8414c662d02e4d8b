/**
 * `oktopus evaluate`: a small hand-built log with a hand-written truth and three rules written
 * here (a Sigma query, an Elastic threshold rule, an EQL sequence), so that every true and false
 * positive is known: recall, attribution of sequence shells and threshold alerts, time to detect,
 * the per-1,000-users-per-day arithmetic, the benign check, exceptions as a second rule set,
 * the JSON shape and one-line errors for bad truth files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { MemoryStore } from '../src/store/memory.js';
import type { JsonObject } from '../src/event/types.js';
import type { RuleIR } from '../src/ir/types.js';
import { evaluateLog, type EvaluationReport } from '../src/evaluate/index.js';
import { parseTruth, TruthError, type Truth } from '../src/evaluate/truth.js';
import { alertFact, evaluate, type AlertFact, type RuleFact } from '../src/evaluate/score.js';
import type { LogFacts } from '../src/evaluate/log-facts.js';
import { renderReport, duration } from '../src/evaluate/render.js';
import { logEvent } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const MIN = 60_000;
const T0 = Date.parse('2026-11-03T10:00:00.000Z');
const at = (min: number) => new Date(T0 + min * MIN).toISOString();

const actor = (login: string): JsonObject => ({ id: `00u-${login}`, type: 'User', alternateId: `${login}@acme.com`, displayName: login });
const proxyCtx = { isProxy: true, asNumber: 9009, asOrg: 'm247', isp: 'm247', domain: 'm247.com' };

function ev(uuid: string, min: number, over: JsonObject): JsonObject {
  return logEvent({ uuid, published: at(min), ...over });
}
const client = (ip: string): JsonObject => ({
  userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
  zone: 'null',
  device: 'Computer',
  ipAddress: ip,
  geographicalContext: { city: 'Paris', state: 'Paris', country: 'France', postalCode: '75001', geolocation: { lat: 48.8, lon: 2.3 } },
});
const failure = (uuid: string, min: number, login: string) =>
  ev(uuid, min, { actor: actor(login), outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }, client: client('198.51.100.9'), request: { ipChain: [{ ip: '198.51.100.9', version: 'V4' }] } });
const proxied = (uuid: string, min: number, login: string, ip: string) =>
  ev(uuid, min, { actor: actor(login), securityContext: proxyCtx, client: client(ip), request: { ipChain: [{ ip, version: 'V4' }] } });

/**
 * The log. Scenario "stuffing": four failed sign-ins from 198.51.100.9 (minutes 0–3). Scenario
 * "takeover": alice's proxied sign-in (30) and an MFA reset (35). Scenario "silent": a password
 * change nothing detects (50). Benign: bob behind iCloud Private Relay (40), carol on a
 * commercial VPN (45), dave's ordinary sign-ins.
 */
const LOG = [
  failure('s1', 0, 'alice'),
  failure('s2', 1, 'erin'),
  failure('s3', 2, 'frank'),
  failure('s4', 3, 'gina'),
  ev('n1', 10, { actor: actor('dave') }),
  proxied('t1', 30, 'alice', '185.220.100.211'),
  ev('t2', 35, { eventType: 'user.mfa.factor.reset_all', actor: actor('alice') }),
  proxied('b1', 40, 'bob', '172.224.226.5'),
  proxied('c1', 45, 'carol', '149.88.20.7'),
  ev('u1', 50, { eventType: 'user.account.update_password', actor: actor('alice') }),
  ev('n2', 55, { actor: actor('dave') }),
];

const TRUTH = {
  format: 'oktopus-truth/2',
  tenant: { org: 'acme', orgUrl: 'https://acme.okta.com', seed: 1, users: 10, days: 2, start: '2026-11-03T00:00:00.000Z', end: '2026-11-05T00:00:00.000Z' },
  scenarios: [
    { id: 'stuffing', title: 'stuffing', description: '', users: ['alice@acme.com'], targets: ['erin@acme.com'], ips: ['198.51.100.9'], start: at(0), end: at(3), eventUuids: ['s1', 's2', 's3', 's4'] },
    { id: 'takeover', title: 'takeover', description: '', users: ['alice@acme.com'], targets: [], ips: ['185.220.100.211'], start: at(30), end: at(35), eventUuids: ['t1', 't2'] },
    { id: 'silent', title: 'silent', description: '', users: ['alice@acme.com'], targets: [], ips: [], start: at(50), end: at(50), eventUuids: ['u1'] },
  ],
  benign: [
    { category: 'private-relay', users: ['bob@acme.com'], cidrs: ['172.224.224.0/22'], description: 'iCloud Private Relay' },
    { category: 'commercial-vpn', users: ['carol@acme.com'], cidrs: [], description: 'a commercial VPN' },
  ],
};

const sigma = (level: string, filterBob = false) => `title: Proxied session start
id: 11111111-1111-4111-8111-111111111111
status: test
logsource:
  product: okta
  service: okta
detection:
  selection:
    eventType: user.session.start
    securityContext.isProxy: 'true'
  bob:
    actor.alternateId: bob@acme.com
  condition: ${filterBob ? 'selection and not bob' : 'selection'}
level: ${level}
`;

const THRESHOLD = `[metadata]
creation_date = "2026/11/02"
[rule]
description = "Failed sign-ins from one address"
from = "now-30m"
index = ["logs-okta*"]
language = "kuery"
name = "Failed sign-ins from one IP"
risk_score = 47
rule_id = "th-ip"
severity = "medium"
type = "threshold"
query = '''
event.action:user.session.start and okta.outcome.result:FAILURE
'''
[rule.threshold]
field = ["source.ip"]
value = 3
`;

const SEQUENCE = `[metadata]
creation_date = "2026/11/02"
[rule]
description = "Proxied sign-in then MFA reset"
from = "now-60m"
index = ["logs-okta*"]
language = "eql"
name = "Proxied sign-in then MFA reset"
risk_score = 73
rule_id = "seq-mfa"
severity = "high"
type = "eql"
query = '''
sequence by okta.actor.alternate_id with maxspan=1h
  [any where event.action == "user.session.start" and okta.security_context.is_proxy == true]
  [any where event.action == "user.mfa.factor.reset_all"]
'''
`;

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'oktopus-eval-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

async function rules(level = 'low', filterBob = false): Promise<RuleIR[]> {
  const loaded = await loadRules([dir({ 'proxy.yml': sigma(level, filterBob), 'threshold.toml': THRESHOLD, 'sequence.toml': SEQUENCE })]);
  assert.deepEqual(loaded.errors, []);
  assert.deepEqual(loaded.unsupported, []);
  return loaded.rules;
}

const logFile = () => join(dir({ 'log.ndjson': LOG.map((e) => JSON.stringify(e)).join('\n') + '\n' }), 'log.ndjson');

async function run(opts: { level?: string; truth?: unknown; exceptions?: boolean } = {}): Promise<EvaluationReport> {
  const truth: Truth = parseTruth(opts.truth ?? TRUTH, 'truth.json');
  const base = await rules(opts.level);
  const { report } = await evaluateLog({
    inputs: [logFile()],
    truth,
    rules: base,
    withExceptions: opts.exceptions ? { rules: await rules(opts.level, true), lists: ['relay'], counts: () => [] } : undefined,
    openRun: () => ({ store: new MemoryStore(), schema: { org: 'acme.okta.com' } }),
    withinMs: 15 * MIN,
  });
  return report;
}

const rule = (r: EvaluationReport, id: string) => r.rules.find((x) => x.id === id)!;
const scenario = (r: EvaluationReport, id: string) => r.scenarios.find((x) => x.id === id)!;

test('evaluate: recall, which rules detected each scenario, time to detect and coverage', async () => {
  const r = await run();
  assert.equal(r.totals.scenarios, 3);
  assert.equal(r.totals.detected, 2);
  assert.equal(r.totals.recall, 2 / 3);

  const stuffing = scenario(r, 'stuffing');
  assert.equal(stuffing.detected, true);
  assert.deepEqual(stuffing.rules.map((x) => x.id), ['th-ip']);
  // The threshold is reached by the third failure (minute 2): the alert's time is its last counted event.
  assert.equal(stuffing.firstDetection, at(2));
  assert.equal(stuffing.timeToDetectSeconds, 120);
  assert.equal(stuffing.withinLimit, true);
  // The threshold alert names the three events it counted; the fourth starts a new count.
  assert.equal(stuffing.coveredEvents, 3);
  assert.equal(stuffing.coverage, 3 / 4);

  const takeover = scenario(r, 'takeover');
  assert.deepEqual(takeover.rules.map((x) => x.id).sort(), ['11111111-1111-4111-8111-111111111111', 'seq-mfa']);
  assert.equal(takeover.timeToDetectSeconds, 0, 'the Sigma rule alerts on the first malicious event itself');
  assert.equal(takeover.rules.find((x) => x.id === 'seq-mfa')!.timeToDetectSeconds, 5 * 60, 'the sequence completes with the MFA reset, 5 minutes later');
  assert.equal(takeover.coverage, 1);

  const silent = scenario(r, 'silent');
  assert.equal(silent.detected, false);
  assert.equal(silent.timeToDetectSeconds, null);
  assert.equal(silent.withinLimit, false);
  assert.equal(r.totals.detectedWithin, 2);
});

test('evaluate: per rule — the sequence shell counts once (building blocks apart), TP/FP, precision, per 1,000 users per day', async () => {
  const r = await run();
  const seq = rule(r, 'seq-mfa');
  assert.equal(seq.alerts, 1, 'one shell');
  assert.equal(seq.buildingBlocks, 2);
  assert.equal(seq.truePositives, 1);
  assert.deepEqual(seq.scenarios, ['takeover']);

  const th = rule(r, 'th-ip');
  assert.equal(th.alerts, 1);
  assert.equal(th.truePositives, 1);

  const proxy = rule(r, '11111111-1111-4111-8111-111111111111');
  assert.equal(proxy.alerts, 3, 'alice, bob, carol');
  assert.equal(proxy.truePositives, 1);
  assert.equal(proxy.falsePositives, 2);
  assert.equal(proxy.precision, 1 / 3);
  // 10 users × 2 days = 20 user-days: 3 alerts = 150 per 1,000 users per day, 2 FPs = 100.
  assert.equal(proxy.alertsPer1kUserDays, 150);
  assert.equal(proxy.falsePositivesPer1kUserDays, 100);
  assert.deepEqual(proxy.benign, { 'private-relay': 1, 'commercial-vpn': 1 });
  assert.equal(proxy.maxBenignSeverity, 'low');

  assert.equal(r.totals.alerts, 5);
  assert.equal(r.totals.truePositives, 3);
  assert.equal(r.totals.falsePositives, 2);
  assert.equal(r.totals.alertsPer1kUserDays, 250);
});

test('evaluate: benign categories by rule and severity; the proxy check fails above INFO and passes at INFO', async () => {
  const low = await run();
  const relay = low.benign.find((b) => b.category === 'private-relay')!;
  assert.equal(relay.alerts, 1);
  assert.deepEqual(relay.bySeverity, { low: 1 });
  assert.deepEqual(relay.rules.map((x) => [x.id, x.alerts]), [['11111111-1111-4111-8111-111111111111', 1]]);
  assert.equal(low.totals.benignProxyCheck.pass, false);
  assert.match(low.totals.benignProxyCheck.line, /^FAIL/);
  assert.deepEqual(low.totals.benignProxyCheck.categories, ['private-relay'], 'the truth names no corporate-vpn users');

  const info = await run({ level: 'informational' });
  assert.equal(info.totals.benignProxyCheck.pass, true);
  assert.match(info.totals.benignProxyCheck.line, /^PASS/);
  // The commercial VPN user is reported but is not part of the proxy check.
  assert.equal(info.benign.find((b) => b.category === 'commercial-vpn')!.alerts, 1);

  const none = await run({ truth: { ...TRUTH, benign: [] } });
  assert.equal(none.totals.benignProxyCheck.pass, null);
  assert.match(none.totals.benignProxyCheck.line, /^n\/a/);
  assert.deepEqual(none.totals.otherBenignProxies, [], 'no commercial-vpn users in the truth: no note');
});

test('evaluate: the check names its categories; the commercial VPN users get their own line, outside the check, with the reason', async () => {
  const low = await run();
  assert.match(low.totals.benignProxyCheck.line, /\(corporate-vpn, private-relay\)/);
  const [note, ...more] = low.totals.otherBenignProxies;
  assert.equal(more.length, 0);
  assert.equal(note!.category, 'commercial-vpn');
  assert.deepEqual([note!.alerts, note!.aboveInfoOrHigherOrder], [1, 1], "carol's proxied sign-in at low");
  assert.deepEqual(note!.offending.map((o) => [o.name, o.severity, o.alerts]), [['Proxied session start', 'low', 1]]);
  assert.match(note!.line, /^note  benign commercial-vpn users, outside the check \(.*shared with attackers.*no exception can separate them\): 1 of 1 alerts/);
  const table = renderReport(low);
  assert.ok(table.includes(low.totals.benignProxyCheck.line + '\n'));
  assert.match(table, /^note  benign commercial-vpn users.*\n +1  Proxied session start: low$/m);
  // At INFO the check passes and the note counts the alert without calling it offending.
  const info = await run({ level: 'informational' });
  assert.deepEqual([info.totals.otherBenignProxies[0]!.alerts, info.totals.otherBenignProxies[0]!.aboveInfoOrHigherOrder], [1, 0]);
});

test('evaluate: an attack-free truth (no scenarios) is accepted: every alert is a false positive, recall n/a', async () => {
  const truth = parseTruth({ ...TRUTH, scenarios: [] }, 'quiet.json');
  assert.deepEqual(truth.scenarios, []);
  const r = await run({ truth: { ...TRUTH, scenarios: [] } });
  assert.equal(r.totals.recall, null);
  assert.equal(r.totals.truePositives, 0);
  assert.equal(r.totals.falsePositives, r.totals.alerts);
  assert.ok(r.totals.alerts > 0);
  assert.match(renderReport(r), /^recall n\/a: the truth lists no attack scenario/m);
});

test('evaluate: a benign network (cidr) makes a category as well as a user does', () => {
  const truth = parseTruth({ ...TRUTH, benign: [{ category: 'corporate-vpn', users: [], cidrs: ['198.51.100.0/24'], description: 'office' }] }, 't.json');
  const facts: LogFacts = { events: 1, first: T0, last: T0, activeUsers: 1, malicious: new Map([['t1', T0]]), benign: new Map([['x1', { user: 'zed@acme.com', categories: ['corporate-vpn'] }]]) };
  const rules: RuleFact[] = [
    { uuid: 'r-base', id: 'base', name: 'Base', dialect: 'sigma', severity: 'informational', higherOrder: false },
    { uuid: 'r-ho', id: 'ho', name: 'Higher', dialect: 'elastic', severity: 'informational', higherOrder: true },
  ];
  const alert = (uuid: string, rule: string, events: string[], higherOrder = false): AlertFact => ({ uuid, rule, time: T0, severity: 'informational', events, higherOrder, buildingBlock: false });
  const ok = evaluate({ truth, facts, rules, alerts: [alert('a1', 'r-base', ['x1'])], withinMs: MIN });
  assert.equal(ok.totals.benignProxyCheck.pass, true);
  // A higher-order alert on a benign user fails the check even at INFO.
  const ho = evaluate({ truth, facts, rules, alerts: [alert('a1', 'r-base', ['x1']), alert('a2', 'r-ho', ['x1'], true)], withinMs: MIN });
  assert.equal(ho.totals.benignProxyCheck.pass, false);
  assert.deepEqual(ho.totals.benignProxyCheck.offending.map((o) => [o.id, o.higherOrder]), [['ho', true]]);
  // An alert that also carries a malicious event is a true positive, never counted against the benign users.
  const tp = evaluate({ truth, facts, rules, alerts: [alert('a3', 'r-ho', ['x1', 't1'], true)], withinMs: MIN });
  assert.equal(tp.totals.benignProxyCheck.pass, true);
  assert.equal(tp.rules.find((r) => r.id === 'ho')!.truePositives, 1);
});

test('evaluate: exceptions are a second rule set; the report is the run with them, the delta per rule beside it', async () => {
  const r = await run({ exceptions: true });
  assert.ok(r.exceptions);
  assert.deepEqual(r.exceptions.rules, [
    { id: '11111111-1111-4111-8111-111111111111', name: 'Proxied session start', removedTruePositives: 0, removedFalsePositives: 1, addedTruePositives: 0, addedFalsePositives: 0 },
  ]);
  assert.deepEqual(r.exceptions.scenariosLost, []);
  assert.equal(rule(r, '11111111-1111-4111-8111-111111111111').falsePositives, 1, 'carol only');
  assert.equal(r.totals.benignProxyCheck.pass, true, 'no alert left on the relay user');
  assert.match(renderReport(r), /EXCEPTIONS \(1 list: relay\)/);
});

test('evaluate: the legacy array truth — one scenario per name, times from the log, tenant from the log', async () => {
  const legacy = [
    { scenario: 'stuffing', user: 'alice@acme.com', eventUuids: ['s1', 's2'], description: 'first half' },
    { scenario: 'stuffing', user: 'erin@acme.com', eventUuids: ['s3', 's4'], description: 'second half' },
    { scenario: 'takeover', user: 'alice@acme.com', eventUuids: ['t1', 't2'], description: 'takeover' },
  ];
  const r = await run({ truth: legacy });
  assert.equal(r.scenarios.length, 2);
  assert.deepEqual(scenario(r, 'stuffing').users, ['alice@acme.com', 'erin@acme.com']);
  assert.equal(scenario(r, 'stuffing').start, at(0));
  assert.equal(scenario(r, 'stuffing').end, at(3));
  assert.equal(scenario(r, 'takeover').timeToDetectSeconds, 0);
  assert.equal(r.tenant.source, 'log');
  // Users with a successful event: alice, dave, bob, carol; the log's events fall on one UTC day.
  assert.equal(r.tenant.users, 4);
  assert.equal(r.tenant.days, 1);
  assert.equal(r.tenant.start, '2026-11-03T00:00:00.000Z');
  assert.equal(r.tenant.end, '2026-11-04T00:00:00.000Z');
});

test('evaluate: the JSON report shape', async () => {
  const r = await run();
  assert.deepEqual(Object.keys(r), ['format', 'truth', 'tenant', 'scenarios', 'rules', 'benign', 'totals', 'warnings']);
  assert.equal(r.format, 'oktopus-evaluate/1');
  assert.deepEqual(r.tenant, { org: 'acme', users: 10, days: 2, start: '2026-11-03T00:00:00.000Z', end: '2026-11-05T00:00:00.000Z', source: 'truth' });
  assert.deepEqual(Object.keys(r.scenarios[0]!), ['id', 'title', 'users', 'start', 'end', 'events', 'eventsInLog', 'detected', 'coveredEvents', 'coverage', 'alerts', 'firstDetection', 'timeToDetectSeconds', 'withinLimit', 'rules']);
  assert.deepEqual(r.warnings, []);
  const round = JSON.parse(JSON.stringify(r));
  assert.deepEqual(round.totals, r.totals);
});

test('evaluate: a truth event missing from the log, or a start that is not the first malicious event, is warned about', async () => {
  const truth = structuredClone(TRUTH);
  truth.scenarios[0]!.eventUuids.push('nowhere');
  truth.scenarios[1]!.start = at(29);
  const r = await run({ truth });
  assert.deepEqual(r.warnings, [
    'truth.json: scenario stuffing: 1 of its 5 malicious events are not in the log',
    `truth.json: scenario takeover: start ${at(29)} but its first malicious event in the log is at ${at(30)}`,
  ]);
  assert.equal(scenario(r, 'takeover').timeToDetectSeconds, 60, 'time to detect is measured from the truth start');
});

test('evaluate: bad truth documents give one line per problem, naming the file and the JSON path', () => {
  const lines = (doc: unknown): string[] => {
    try {
      parseTruth(doc, 'bad.json');
    } catch (e) {
      assert.ok(e instanceof TruthError);
      return e.lines;
    }
    assert.fail('accepted');
  };
  assert.deepEqual(lines({ format: 'oktopus-truth/1' }), ['bad.json: $.format: expected "oktopus-truth/2", got "oktopus-truth/1"']);
  assert.deepEqual(lines('hello'), ['bad.json: $: expected an object with "format": "oktopus-truth/2", got "hello"']);
  const doc = structuredClone(TRUTH) as Record<string, unknown> & typeof TRUTH;
  (doc.tenant as Record<string, unknown>).users = 0;
  (doc.scenarios[1] as Record<string, unknown>).start = 'yesterday';
  doc.scenarios[2]!.id = 'stuffing';
  doc.scenarios[0]!.ips = ['198.51.100.300'];
  doc.scenarios[0]!.eventUuids = ['s1', 's2', 's1'];
  (doc.benign[0] as Record<string, unknown>).category = 'vpn';
  doc.benign[0]!.cidrs = ['172.224.224.0/40'];
  assert.deepEqual(lines(doc), [
    'bad.json: $.tenant.users: expected a whole number > 0, got 0',
    'bad.json: $.scenarios[0].ips[0]: not an IP address: "198.51.100.300"',
    'bad.json: $.scenarios[0].eventUuids[2]: "s1" is listed twice (also at $.scenarios[0].eventUuids[0])',
    'bad.json: $.scenarios[1].start: expected an ISO 8601 time with a zone, e.g. 2026-11-02T00:00:00.000Z, got "yesterday"',
    'bad.json: $.scenarios[2].id: duplicate scenario id "stuffing"',
    'bad.json: $.benign[0].category: expected one of corporate-vpn, commercial-vpn, private-relay, traveller, got "vpn"',
    'bad.json: $.benign[0].cidrs[0]: not a network (CIDR, e.g. 198.51.100.0/24) nor an IP address: "172.224.224.0/40"',
  ]);
  // Impossible calendar dates and clock times are refused, not rolled over (Date.parse takes Feb 30 as Mar 2).
  const dates = structuredClone(TRUTH) as typeof TRUTH;
  dates.tenant.start = '2026-02-30T00:00:00.000Z';
  dates.scenarios[0]!.end = '2026-11-03T24:00:00Z';
  dates.scenarios[1]!.start = '2026-13-01T00:00:00+01:00';
  assert.deepEqual(lines(dates), [
    'bad.json: $.tenant.start: expected an ISO 8601 time with a zone, e.g. 2026-11-02T00:00:00.000Z, got "2026-02-30T00:00:00.000Z"',
    'bad.json: $.scenarios[0].end: expected an ISO 8601 time with a zone, e.g. 2026-11-02T00:00:00.000Z, got "2026-11-03T24:00:00Z"',
    'bad.json: $.scenarios[1].start: expected an ISO 8601 time with a zone, e.g. 2026-11-02T00:00:00.000Z, got "2026-13-01T00:00:00+01:00"',
  ]);
  const leap = { ...TRUTH.tenant, start: '2028-02-29T23:59:59+05:30', end: '2028-03-02T00:00:00Z' };
  assert.equal(parseTruth({ ...TRUTH, tenant: leap }, 'ok.json').tenant!.start, Date.parse('2028-02-29T23:59:59+05:30'), 'a leap day exists');
  assert.deepEqual(lines([{ scenario: 'x', eventUuids: 'u1' }]), ['bad.json: $[0].user: missing (a string)', 'bad.json: $[0].eventUuids: expected a list of strings, got "u1"', 'bad.json: $[0].description: missing (a string)']);
});

test('evaluate: durations in the table', () => {
  assert.deepEqual([duration(42), duration(185), duration(7440), duration(97200)], ['42s', '3m 05s', '2h 04m', '1d 03h']);
});

test('oktopus evaluate (CLI): table and --json/--out; a bad truth file exits 2 with one line per problem', () => {
  const rulesDir = dir({ 'proxy.yml': sigma('low'), 'threshold.toml': THRESHOLD, 'sequence.toml': SEQUENCE });
  const work = dir({ 'truth.json': JSON.stringify(TRUTH), 'bad.json': JSON.stringify({ ...TRUTH, tenant: { ...TRUTH.tenant, days: -1 } }) });
  const log = logFile();
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'evaluate', log, '--rules', rulesDir, '--quiet', ...args], { encoding: 'utf8', cwd: work });

  const table = cli(['--truth', join(work, 'truth.json'), '--out', join(work, 'report.json')]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^stuffing +yes +2m 00s ✓ +3\/4 \(75%\) +1\n +2m 00s  Failed sign-ins from one IP \(1\)$/m);
  assert.match(table.stdout, /^silent +NO +- +0\/1 \(0%\) +0$/m);
  assert.match(table.stdout, /^recall 2\/3 scenarios \(67%\)/m);
  assert.match(table.stdout, /^FAIL  benign proxy users/m);
  const saved = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8'));
  assert.equal(saved.totals.detected, 2);

  const json = cli(['--truth', join(work, 'truth.json'), '--json']);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).totals, saved.totals);

  const bad = cli(['--truth', join(work, 'bad.json')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, `error: ${join(work, 'bad.json')}: $.tenant.days: expected a number of days > 0, got -1\n`);

  // A broken record: one line naming it, the rest of the log is evaluated.
  const broken = join(work, 'broken.ndjson');
  writeFileSync(broken, readFileSync(log, 'utf8') + '{"uuid": \n');
  const partial = spawnSync(process.execPath, [CLI, 'evaluate', broken, '--truth', join(work, 'truth.json'), '--rules', rulesDir, '--quiet', '--json'], { encoding: 'utf8', cwd: work });
  assert.equal(partial.status, 0, partial.stderr);
  assert.match(partial.stderr, /^bad record: .*broken\.ndjson:12: /);
  assert.equal(partial.stderr.trim().split('\n').length, 1);
  assert.equal(JSON.parse(partial.stdout).totals.detected, 2);

  const empty = join(work, 'empty.ndjson');
  writeFileSync(empty, '{"not": "okta"}\n');
  const none = spawnSync(process.execPath, [CLI, 'evaluate', empty, '--truth', join(work, 'truth.json'), '--rules', rulesDir, '--quiet'], { encoding: 'utf8', cwd: work });
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^error: no usable Okta events in .*empty\.ndjson .*nothing to evaluate\n$/);

  const missing = cli(['--truth', join(work, 'nope.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: .*nope\.json: cannot read the truth file: ENOENT\n$/);
});

test("oktopus evaluate --out: '-' is standard output; an unwritable path fails before the run; no rule is exit 2, not a vacuous PASS", () => {
  const rulesDir = dir({ 'proxy.yml': sigma('low'), 'threshold.toml': THRESHOLD, 'sequence.toml': SEQUENCE });
  const work = dir({ 'truth.json': JSON.stringify(TRUTH) });
  const log = logFile();
  const cli = (args: string[], rules = rulesDir) => spawnSync(process.execPath, [CLI, 'evaluate', log, '--truth', join(work, 'truth.json'), '--rules', rules, '--quiet', ...args], { encoding: 'utf8', cwd: work });

  const dash = cli(['--out', '-']);
  assert.equal(dash.status, 0, dash.stderr);
  assert.equal(JSON.parse(dash.stdout).totals.detected, 2, 'the JSON report on stdout');
  assert.ok(!existsSync(join(work, '-')), "no file named '-'");

  for (const [out, why] of [[join(work, 'no-such-dir', 'r.json'), /no-such-dir: ENOENT/], [work, /is a directory/]] as const) {
    const bad = cli(['--out', out]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, new RegExp(`^error: --out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write the report: .*\n$`));
    assert.match(bad.stderr, why);
  }

  const empty = dir({ 'README.md': 'no rules here\n' });
  const none = cli([], empty);
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '', 'no report, no PASS line');
  assert.match(none.stderr, /^error: no rule loaded from .*: nothing to evaluate\n$/);
});

test('oktopus evaluate --exceptions: the relay range excepted; the delta and the per-item event counts are reported', () => {
  const rulesDir = dir({ 'proxy.yml': sigma('low'), 'threshold.toml': THRESHOLD, 'sequence.toml': SEQUENCE });
  const exceptions = `lists:
  - id: relay
    name: iCloud Private Relay
    rules: ['Proxied session start']
    items:
      - id: relay-ranges
        name: Private Relay egress
        entries:
          - { field: source.ip, type: list, operator: included, list: { id: relay-ranges, type: ip_range } }
value_lists:
  relay-ranges: { type: ip_range, values: [172.224.224.0/22] }
`;
  const work = dir({ 'truth.json': JSON.stringify(TRUTH), 'exceptions.yml': exceptions });
  const r = spawnSync(process.execPath, [CLI, 'evaluate', logFile(), '--truth', join(work, 'truth.json'), '--rules', rulesDir, '--exceptions', join(work, 'exceptions.yml'), '--json', '--quiet'], { encoding: 'utf8', cwd: work });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as EvaluationReport;
  assert.deepEqual(report.exceptions, {
    lists: ['relay'],
    items: [{ rule: '11111111-1111-4111-8111-111111111111', ruleName: 'Proxied session start', list: 'relay', item: 'relay-ranges', name: 'Private Relay egress', events: 1 }],
    rules: [{ id: '11111111-1111-4111-8111-111111111111', name: 'Proxied session start', removedTruePositives: 0, removedFalsePositives: 1, addedTruePositives: 0, addedFalsePositives: 0 }],
    scenariosLost: [],
  });
  assert.equal(report.totals.benignProxyCheck.pass, true);
  assert.equal(report.totals.detected, 2);
});

test('alertFact: events are the event ancestors; a shell over its own building blocks is not higher-order, an alert over another rule\'s is', () => {
  const doc = (rule: string, ancestors: JsonObject[], over: JsonObject = {}): JsonObject => ({
    '@timestamp': at(5),
    'kibana.alert.rule.uuid': rule,
    'kibana.alert.ancestors': ancestors,
    oktopus: { severity: 'informational' },
    ...over,
  });
  const e = (id: string) => ({ id, type: 'event', index: 'logs-okta.system-default', depth: 0 });
  const sig = (id: string, rule: string) => ({ id, type: 'signal', index: '.alerts-security.alerts-default', depth: 1, rule });
  const shell = alertFact({ uuid: 'sh', ruleId: 'seq', time: 0, doc: doc('R1', [e('a'), e('b'), sig('bb0', 'R1'), sig('bb1', 'R1')]) });
  assert.deepEqual([shell.events, shell.higherOrder, shell.buildingBlock, shell.time, shell.severity], [['a', 'b'], false, false, T0 + 5 * MIN, 'informational']);
  const ho = alertFact({ uuid: 'ho', ruleId: 'ho', time: 0, doc: doc('R2', [e('a'), sig('x', 'R1')]) });
  assert.deepEqual([ho.events, ho.higherOrder], [['a'], true]);
  const block = alertFact({ uuid: 'bb', ruleId: 'seq', time: 0, doc: doc('R1', [e('a')], { 'kibana.alert.building_block_type': 'default' }) });
  assert.equal(block.buildingBlock, true);
  // Without oktopus.severity, Kibana's word; with none known, the worst (the benign check never passes by default).
  assert.equal(alertFact({ uuid: 'k', ruleId: 'r', time: 0, doc: { 'kibana.alert.severity': 'medium' } }).severity, 'medium');
  assert.equal(alertFact({ uuid: 'n', ruleId: 'r', time: 0, doc: {} }).severity, 'critical');
});
