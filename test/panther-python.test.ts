/**
 * Panther rules with Python bodies, run unchanged in python3 workers: the event object, helpers
 * from --python-path (and the stand-ins), presentation computed in the same round trip,
 * containment of a rule that raises / hangs / prints garbage / exits, order and completeness of
 * events, Mocks and `oktopus test`. Every rule body here is written by the test itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { runScan } from '../src/pipeline/scan.js';
import { MemoryStore } from '../src/store/memory.js';
import { Engine } from '../src/engine/engine.js';
import { codeErrors } from '../src/engine/code/registry.js';
import { adaptRecord } from '../src/adapters/index.js';
import { pantherPresentation } from '../src/dialects/panther/present.js';
import { closePython, configurePython, pythonWorkersStarted } from '../src/dialects/panther/python/runtime.js';
import { runTests } from '../src/cli/test-command.js';
import type { StoredAlert } from '../src/store/types.js';
import type { JsonObject } from '../src/event/types.js';
import { logEvent } from './helpers.js';

const HAVE_PYTHON = spawnSync('python3', ['-c', 'import sys; assert sys.version_info[0] == 3'], { encoding: 'utf8' }).status === 0;
const skip = HAVE_PYTHON ? false : 'python3 is not installed: Python rule bodies cannot run here';
if (!HAVE_PYTHON) console.log('# panther-python: skipped (python3 not found)');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-py-'));
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

const yaml = (id: string, py: string, extra = '') => `AnalysisType: rule
Filename: ${py}
RuleID: ${id}
DisplayName: ${id} display
Enabled: true
LogTypes: [Okta.SystemLog]
Severity: Medium
${extra}`;

function get(doc: unknown, path: string): unknown {
  if (doc && typeof doc === 'object' && path in (doc as object)) return (doc as Record<string, unknown>)[path];
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** N sign-ins, one a second, uuids u0..u(N-1). */
function events(n: number, over: (i: number) => JsonObject = () => ({})): JsonObject[] {
  return Array.from({ length: n }, (_, i) =>
    logEvent({ uuid: `u${i}`, published: new Date(Date.UTC(2026, 10, 2, 9, 0, i)).toISOString(), ...over(i) }),
  );
}

function inputFile(evs: JsonObject[]): string {
  const p = join(mkdtempSync(join(tmpdir(), 'oktopus-py-log-')), 'log.ndjson');
  writeFileSync(p, evs.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return p;
}

async function scan(dir: string, evs: JsonObject[], opts: { prepareBatchSize?: number } = {}) {
  const loaded = await loadRules([dir]);
  assert.deepEqual(loaded.errors, []);
  const alerts: StoredAlert[] = [];
  const notes: string[] = [];
  const result = await runScan({
    inputs: [inputFile(evs)],
    rules: loaded.rules,
    store: new MemoryStore(),
    schema: { org: 'o' },
    sinks: [{ write: (a) => alerts.push(a), close: async () => undefined }],
    reorderWindowMs: 0,
    prepareBatchSize: opts.prepareBatchSize,
    onNote: (line) => notes.push(line),
  });
  const of = (id: string) => alerts.filter((a) => a.ruleId === id);
  return { result, alerts, notes, of, loaded };
}

/** The uuid of the event behind an alert. */
const uuidOf = (a: StoredAlert) => String(get(a.doc, 'okta.uuid') ?? get(a.doc, 'event.id'));

test('a matching Python rule: title, dedup, severity, alert_context computed with rule(), alerts through the engine', { skip }, async () => {
  const dir = tmp({
    'r.yml': yaml('Py.Match', 'r.py', 'DedupPeriodMinutes: 60'),
    'r.py': `
def rule(event):
    return event.get("eventtype") == "user.session.start" and event["outcome"]["RESULT"] == "FAILURE"

def title(event):
    return f"failed sign-in by {event.deep_get('actor', 'alternateId')}"

def dedup(event):
    return event.udm("actor_user")

def severity(event):
    return "high" if event.deep_get("client", "ipAddress") == "10.0.0.9" else "DEFAULT"

def alert_context(event):
    return {"ip": event.udm("source_ip"), "epoch": event.event_time_epoch(), "n": len(event["request"]["ipChain"])}
`,
  });
  const evs = events(6, (i) => ({
    outcome: { result: i % 2 ? 'FAILURE' : 'SUCCESS' },
    actor: { id: 'x', type: 'User', alternateId: i < 4 ? 'ann@acme.com' : 'bob@acme.com', displayName: 'A' },
    client: { ipAddress: i === 5 ? '10.0.0.9' : '203.0.113.7' },
  }));
  const { of, loaded, result } = await scan(dir, evs);
  const r = loaded.rules[0]!;
  assert.equal(r.panther?.runtime, 'python');
  assert.deepEqual(r.panther?.functions, ['title', 'dedup', 'alert_context', 'severity']);
  assert.equal(result.summary.events, 6);
  // Failures u1, u3 (ann: one alert, the second attaches), u5 (bob, HIGH).
  const alerts = of('Py.Match');
  assert.equal(alerts.length, 2);
  assert.equal(uuidOf(alerts[0]!), 'u1');
  assert.equal(get(alerts[0]!.doc, 'oktopus.panther.title'), 'failed sign-in by ann@acme.com');
  assert.equal(get(alerts[0]!.doc, 'oktopus.panther.dedup'), 'ann@acme.com');
  assert.equal(get(alerts[0]!.doc, 'oktopus.panther.severity'), 'MEDIUM');
  assert.deepEqual(get(alerts[0]!.doc, 'oktopus.panther.alert_context'), { ip: '203.0.113.7', epoch: Date.UTC(2026, 10, 2, 9, 0, 1) / 1000, n: 1 });
  assert.equal(uuidOf(alerts[1]!), 'u5');
  assert.equal(get(alerts[1]!.doc, 'oktopus.panther.severity'), 'HIGH');
  assert.equal(get(alerts[1]!.doc, 'kibana.alert.severity'), 'high');
});

test('the event object: case-insensitive at every level, read-only, deep_get / deep_walk / udm, Panther fields', { skip }, async () => {
  const dir = tmp({
    'r.yml': yaml('Py.Event', 'r.py'),
    'r.py': `
import json

def rule(event):
    return True

def title(event):
    out = {
        "nested": event["ACTOR"]["alternateid"],
        "get_default": event.get("nope", "dflt"),
        "deep_default": event.deep_get("a", "b", default=7),
        "walk": event.deep_walk("target", "alternateId"),
        "walk_first": event.deep_walk("target", "alternateId", return_val="first"),
        "list_elem": event["target"][1].get("ALTERNATEID"),
        "udm_type": event.udm("event_type"),
        "udm_field": event.udm("outcome", "result"),
        "in": "securitycontext" in event,
        "log_type": event.get("p_log_type"),
        "ips": list(event.get("p_any_ip_addresses")),
        "dotted": event.deep_get("p_enrichment", "ipinfo_privacy", "client.ipAddress", "service"),
    }
    try:
        event["x"] = 1
        out["readonly"] = False
    except TypeError:
        out["readonly"] = True
    return json.dumps(out, sort_keys=True)
`,
  });
  const loaded = await loadRules([dir]);
  const engine = new Engine(loaded.rules, { schema: { org: 'o' }, store: new MemoryStore(), reorderWindowMs: 0 });
  // An Engine used directly (no prepare): the event is evaluated on its own (slow path), same result.
  const doc = logEvent({
    outcome: { result: 'FAILURE' },
    target: [{ alternateId: 'a@x', type: 'User' }, { alternateId: 'b@x', type: 'User' }, { alternateId: 'a@x', type: 'AppUser' }],
    p_enrichment: { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay' } } },
  });
  for (const ev of adaptRecord(doc, 't')) engine.push(ev);
  engine.flush();
  const [alert] = engine.takeAlerts();
  assert.ok(alert, 'the rule matched');
  assert.deepEqual(JSON.parse(String(get(alert.doc, 'oktopus.panther.title'))), {
    nested: 'homer.simpson@duff.com',
    get_default: 'dflt',
    deep_default: 7,
    walk: ['a@x', 'b@x'],
    walk_first: 'a@x',
    list_elem: 'b@x',
    udm_type: 'failed_login',
    udm_field: 'FAILURE',
    in: true,
    log_type: 'Okta.SystemLog',
    ips: ['203.0.113.7'],
    dotted: 'Apple Private Relay',
    readonly: true,
  });
});

test('helpers: a module from --python-path, and the stand-ins when a helper is missing', { skip }, async () => {
  const helpers = tmp({ 'acme_helpers.py': 'ADMINS = {"ann@acme.com"}\n\ndef is_admin(event):\n    return event.udm("actor_user") in ADMINS\n' });
  const dir = tmp({
    'r.yml': yaml('Py.Helper', 'r.py'),
    'r.py': `
from acme_helpers import is_admin
from panther_okta_helpers import okta_alert_context
from panther_base_helpers import deep_get, deep_walk
from panther_event_type_helpers import event_type

def rule(event):
    return is_admin(event) and event.udm("event_type") == event_type.SUCCESSFUL_LOGIN

def title(event):
    return f"{deep_get(event, 'actor', 'alternateId')} {deep_walk(event, 'request', 'ipChain', 'ip')}"

def dedup(event):
    return event.get("uuid")

def alert_context(event):
    return okta_alert_context(event)
`,
  });
  configurePython({ paths: [helpers] });
  try {
    const { of, notes } = await scan(dir, events(3, (i) => ({ actor: { id: 'x', type: 'User', alternateId: i === 1 ? 'bob@acme.com' : 'ann@acme.com', displayName: 'A' } })));
    assert.deepEqual(notes.filter((n) => /python/.test(n)), []);
    const alerts = of('Py.Helper');
    assert.deepEqual(alerts.map(uuidOf), ['u0', 'u2']);
    assert.equal(get(alerts[0]!.doc, 'oktopus.panther.title'), 'ann@acme.com 203.0.113.7');
    const ctx = get(alerts[0]!.doc, 'oktopus.panther.alert_context') as Record<string, unknown>;
    assert.equal(ctx['event_type'], 'user.session.start');
    assert.deepEqual(ctx['ips'], ['203.0.113.7']);
    assert.match(String(ctx['PantherFlow Investigation']), /^union panther_logs\.public\.okta_systemlog\n/);
  } finally {
    configurePython({ paths: [] });
  }
  // Without the folder the import fails: the rule errors (reported once), the scan goes on.
  const { of, notes, result } = await scan(dir, events(2));
  assert.equal(result.summary.events, 2);
  assert.equal(of('Py.Helper').length, 0);
  const lines = notes.filter((n) => n.includes('Py.Helper'));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /ModuleNotFoundError: No module named 'acme_helpers'/);
});

test('containment: a rule that raises, hangs, prints garbage, corrupts the pipe or exits; order and completeness of events', { skip }, async () => {
  const bad = (cond: string, action: string) => `
import os, sys, time

def rule(event):
    if ${cond}:
        ${action}
    return True

def dedup(event):
    return event.get("uuid")
`;
  const dir = tmp({
    'good.yml': yaml('Py.Good', 'good.py'),
    'good.py': 'def rule(event):\n    return True\n\ndef dedup(event):\n    return event["uuid"]\n',
    'raises.yml': yaml('Py.Raises', 'raises.py'),
    'raises.py': bad('event["uuid"] in ("u3", "u13")', 'raise ValueError("bad event " + event["uuid"])'),
    'hangs.yml': yaml('Py.Hangs', 'hangs.py'),
    'hangs.py': bad('event["uuid"] == "u7"', 'time.sleep(3600)'),
    'noisy.yml': yaml('Py.Noisy', 'noisy.py'),
    'noisy.py': bad('True', 'print("}{ not json"); os.write(1, b"garbage\\n"); sys.__stdout__.write("more garbage\\n"); sys.__stdout__.flush()'),
    'corrupts.yml': yaml('Py.Corrupts', 'corrupts.py'),
    'corrupts.py': bad(
      'event["uuid"] == "u12"',
      '[o.write("garbage on the pipe\\n") or o.flush() for o in __import__("gc").get_objects() if isinstance(o, __import__("io").TextIOWrapper) and not o.closed and o.fileno() > 2 and o.writable()]',
    ),
    'exits.yml': yaml('Py.Exits', 'exits.py'),
    'exits.py': bad('event["uuid"] == "u17"', 'os._exit(3)'),
  });
  configurePython({ timeoutMs: 3000 });
  const errorsBefore = new Map([...codeErrors].map(([k, v]) => [k, v.count]));
  try {
    const n = 20;
    const { of, notes, result } = await scan(dir, events(n), { prepareBatchSize: 5 });
    assert.equal(result.summary.events, n, 'every event reached the engine');
    const all = Array.from({ length: n }, (_, i) => `u${i}`);
    const without = (...drop: number[]) => all.filter((_, i) => !drop.includes(i));
    // One alert per event (dedup = uuid), in event order, for every rule but where it failed.
    assert.deepEqual(of('Py.Good').map(uuidOf), all);
    assert.deepEqual(of('Py.Noisy').map(uuidOf), all, 'printing to stdout cannot corrupt the answers');
    assert.deepEqual(of('Py.Raises').map(uuidOf), without(3, 13), 'an exception is that event\'s error');
    assert.deepEqual(of('Py.Hangs').map(uuidOf), without(5, 6, 7, 8, 9), 'the hung batch (u5..u9) is an error, the worker restarted');
    assert.deepEqual(of('Py.Corrupts').map(uuidOf), without(10, 11, 12, 13, 14), 'garbage on the pipe fails its batch only');
    assert.deepEqual(of('Py.Exits').map(uuidOf), without(15, 16, 17, 18, 19), 'a crash fails its batch only');
    // One line per failing rule, with the reason.
    const line = (id: string) => notes.filter((l) => l.includes(id));
    assert.equal(line('Py.Good').length + line('Py.Noisy').length, 0);
    for (const [id, reason] of [
      ['Py.Raises', /rule\(\) raised ValueError: bad event u3/],
      ['Py.Hangs', /error in a batch of 5 event\(s\).*no answer within 3 s/],
      ['Py.Corrupts', /unreadable answer from the python worker/],
      ['Py.Exits', /the python worker exited \(code 3\)/],
    ] as const) {
      assert.equal(line(id).length, 1, `${id}: one line (${notes.join(' | ')})`);
      assert.match(line(id)[0]!, reason);
    }
    const counted = (file: string) => (codeErrors.get(join(dir, file))?.count ?? 0) - (errorsBefore.get(join(dir, file)) ?? 0);
    assert.equal(counted('raises.py'), 2);
    assert.equal(counted('hangs.py'), 1);
    assert.equal(counted('exits.py'), 1);
    assert.ok(pythonWorkersStarted() === 0, 'the scan stopped its workers');
  } finally {
    configurePython({ timeoutMs: undefined });
    closePython();
  }
});

test('InlineFilters: events they rule out are not sent to the body', { skip }, async () => {
  const dir = tmp({
    'r.yml': yaml('Py.Inline', 'r.py', 'InlineFilters:\n  - KeyPath: outcome.result\n    Condition: Equals\n    Value: FAILURE'),
    // rule() raises on any event it sees that is not a failure: it must never see one.
    'r.py': 'def rule(event):\n    assert event["outcome"]["result"] == "FAILURE"\n    return True\n\ndef dedup(event):\n    return event["uuid"]\n',
  });
  const { of, notes } = await scan(dir, events(4, (i) => ({ outcome: { result: i === 2 ? 'FAILURE' : 'SUCCESS' } })));
  assert.deepEqual(notes.filter((l) => l.includes('Py.Inline')), []);
  assert.deepEqual(of('Py.Inline').map(uuidOf), ['u2']);
});

/** The seed rule's behaviour, as a Python body written here (not Panther's file). */
const SEED_PY = `
from panther_okta_helpers import okta_alert_context

PRIVACY_SERVICE = ("p_enrichment", "ipinfo_privacy", "client.ipAddress", "service")


def rule(event):
    return event.get("eventType") == "user.session.start" and bool(event.deep_get("securityContext", "isProxy", default=False))


def title(event):
    context = {}
    ip = event.get("client", {}).get("ipAddress")
    if ip:
        context["IP"] = ip
    security = event.get("securityContext", {})
    for label, value in (("ASO", security.get("asOrg")), ("ISP", security.get("isp")), ("Domain", security.get("domain"))):
        if value:
            context[label] = value
    service = event.deep_get(*PRIVACY_SERVICE)
    if service:
        context["Service"] = service
    name = event.deep_get("actor", "displayName", default="<displayName-not-found>")
    login = event.deep_get("actor", "alternateId", default="alternateId-not-found")
    return f"{name} <{login}> attempted to sign-in from anonymizing VPN - {context}"


def alert_context(event):
    return okta_alert_context(event)


def severity(event):
    if event.deep_get(*PRIVACY_SERVICE) == "Apple Private Relay":
        return "INFO"
    return "MEDIUM"
`;

test('oktopus test: the seed rule\'s three tests with a Python body (expected title, severity, dedup)', { skip }, async () => {
  const seedYaml = readFileSync(join(ROOT, 'rules/panther/okta_anonymizing_vpn_login.yml'), 'utf8').replace(/^Filename: .*$/m, 'Filename: okta_anonymizing_vpn_login.py');
  const dir = tmp({ 'okta_anonymizing_vpn_login.yml': seedYaml, 'okta_anonymizing_vpn_login.py': SEED_PY });
  const rows = await runTests([dir]);
  closePython();
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => [r.test, r.status, r.detail]), [
    ['Other Event', 'pass', 'no match'],
    ['Anonymizing Proxy Used', 'pass', 'matched'],
    ['Apple Private Relay Used', 'pass', 'matched'],
  ]);
  // The same rule in a scan: INFO for Apple Private Relay, MEDIUM otherwise, as the TS port.
  const loaded = await loadRules([dir]);
  const seedLogs = (await import('yaml')).parse(seedYaml).Tests as { Name: string; Log: JsonObject }[];
  const ev = adaptRecord(structuredClone(seedLogs.find((t) => t.Name === 'Apple Private Relay Used')!.Log), 't')[0]!;
  const engine = new Engine(loaded.rules, { schema: { org: 'o' }, store: new MemoryStore(), reorderWindowMs: 0 });
  engine.push(ev);
  const p = pantherPresentation(loaded.rules[0]!, ev);
  assert.equal(p.severityWord, 'INFO');
  assert.equal(p.title, "Homer Simpson <homer.simpson@duff.com> attempted to sign-in from anonymizing VPN - {'IP': '1.3.2.4', 'ASO': 'verizon', 'ISP': 'verizon', 'Domain': 'anonymous.org', 'Service': 'Apple Private Relay'}");
});

test('oktopus test: Mocks patch names in the rule module; a raising rule fails its test; aux errors fail expected matches', { skip }, async () => {
  const dir = tmp({
    'm.yml': yaml(
      'Py.Mocks',
      'm.py',
      `Tests:
  - Name: mocked set holds the ip
    ExpectedResult: false
    Mocks:
      - objectName: get_string_set
        returnValue: '["1.2.3.4"]'
    Log: {eventType: user.session.start, client: {ipAddress: 1.2.3.4}}
  - Name: mocked set lacks the ip
    ExpectedResult: true
    ExpectedTitle: new ip 5.6.7.8
    Mocks:
      - objectName: get_string_set
        returnValue: '["1.2.3.4"]'
    Log: {eventType: user.session.start, client: {ipAddress: 5.6.7.8}}
  - Name: not mocked (the stand-in cache is empty)
    ExpectedResult: true
    Log: {eventType: user.session.start, client: {ipAddress: 1.2.3.4}}
  - Name: raises
    ExpectedResult: false
    Log: {eventType: boom}
  - Name: title raises
    ExpectedResult: true
    Log: {eventType: user.session.start, client: {ipAddress: 9.9.9.9}}
`,
    ),
    'm.py': `
import json
from panther_detection_helpers.caching import get_string_set

def rule(event):
    if event.get("eventType") == "boom":
        raise KeyError("boom")
    known = get_string_set("ips")
    if isinstance(known, str):
        known = set(json.loads(known))
    return event.deep_get("client", "ipAddress") not in known

def title(event):
    if event.deep_get("client", "ipAddress") == "9.9.9.9":
        return 1 / 0
    return f"new ip {event.deep_get('client', 'ipAddress')}"
`,
  });
  const rows = await runTests([dir]);
  closePython();
  assert.deepEqual(rows.map((r) => [r.test, r.status]), [
    ['mocked set holds the ip', 'pass'],
    ['mocked set lacks the ip', 'pass'],
    ['not mocked (the stand-in cache is empty)', 'pass'],
    ['raises', 'fail'],
    ['title raises', 'fail'],
  ]);
  assert.match(rows[3]!.detail, /rule\(\) raised KeyError: 'boom'/);
  assert.match(rows[4]!.detail, /title\(\) raised: ZeroDivisionError: division by zero/);
});

test('a .py body that is not found stays "no rule body"; a .py without rule() is a load error', async () => {
  const missing = tmp({ 'r.yml': yaml('Py.Missing', 'absent.py', 'Tests: [{Name: t, ExpectedResult: true, Log: {eventType: x}}]') });
  const loaded = await loadRules([missing]);
  assert.equal(loaded.rules.length, 0);
  assert.match(loaded.unsupported[0]!.reason, /no rule body: panther\/rule \(body absent\.py\)/);
  const rows = await runTests([missing]);
  assert.deepEqual(rows.map((r) => r.status), ['no rule body']);
  const norule = tmp({ 'r.yml': yaml('Py.NoRule', 'r.py'), 'r.py': 'def title(event):\n    return "x"\n' });
  const bad = await loadRules([norule]);
  assert.match(bad.errors[0]!.message, /defines no rule\(\) function/);
});

test('the engine does not import dialect folders: code runtimes come from the registry', () => {
  for (const f of ['src/engine/predicate/index.ts', 'src/engine/code/registry.ts']) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    assert.doesNotMatch(text, /from '\.\.\/\.\.\/dialects\//, f);
  }
});
