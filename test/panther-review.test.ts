/**
 * Panther dialect review fixes: presentation with the engine's enrichment, YAML presentation
 * keys through Panther's event view, GroupBy indexes, multi-key numeric ordering, helper
 * modules in rule folders, body confinement and --no-code, JUnit/ExpectedResult, code results
 * cached per event, the seed's InlineFilters, truncation, severity words, Python's IP ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { parsePanther } from '../src/dialects/panther/dialect.js';
import { pantherPresentation, truncate } from '../src/dialects/panther/present.js';
import { pantherEvent } from '../src/dialects/panther/event.js';
import { setPantherCodeDisabled, setPantherRuleRoots } from '../src/dialects/panther/rule.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import { Engine } from '../src/engine/engine.js';
import { requiredEventTypes } from '../src/engine/event-types.js';
import { MemoryStore } from '../src/store/memory.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { importList } from '../src/enrich/intel.js';
import { formatTable, junitXml, runTests } from '../src/cli/test-command.js';
import { oktaEvent } from './helpers.js';
import type { RuleIR } from '../src/ir/types.js';
import type { Json } from '../src/event/types.js';

const SEED = fileURLToPath(new URL('../../rules/panther/okta_anonymizing_vpn_login.yml', import.meta.url));

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-pfix-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** An enrichment context whose Apple relay list holds 172.224.226.0/27 (Okta says only isProxy). */
function appleContext(): EnrichmentContext {
  const store = new MemoryStore();
  importList(store, { kind: 'apple-relay', text: '172.224.226.0/27,GB,GB-EN,London,\n', source: 'test' });
  return new EnrichmentContext({ store });
}

const relayEvent = () => oktaEvent({ client: { ipAddress: '172.224.226.5' }, request: { ipChain: [] }, securityContext: { isProxy: true } });

const rule = (yaml: string, file = '/tmp/x.yml'): RuleIR => {
  const r = parsePanther(yaml, file);
  assert.equal(r.rules.length, 1, JSON.stringify(r.unsupported));
  return r.rules[0]!;
};

test('1. the seed presentation uses the engine enrichment, whatever read the event before', async () => {
  const loaded = await loadRules([SEED]);
  const seed = loaded.rules[0]!;
  const enrichment = appleContext();
  const schema = { org: 'acme', enrichment };
  const ev = relayEvent();
  pantherEvent(ev); // a context-less view cached first (what a YAML rule's presentation did)
  assert.equal(pantherPresentation(seed, ev, schema).severityWord, 'INFO');
  // and through the engine, next to a YAML rule presenting the same event
  const all = rule(`AnalysisType: rule
RuleID: Review.All
LogTypes: [Okta.SystemLog]
Severity: Low
Detection:
  - Condition: AlwaysTrue
AlertContext:
  - KeyName: pe
    KeyValue: {KeyPath: p_enrichment}
`);
  for (const order of [[all, seed], [seed, all]]) {
    const engine = new Engine(order, { schema: { org: 'acme', enrichment: appleContext() }, store: new MemoryStore(), reorderWindowMs: 0 });
    engine.push(relayEvent());
    engine.flush();
    const docs = engine.takeAlerts().map((a) => a.doc);
    const s = docs.find((d) => d['kibana.alert.rule.rule_id'] === 'Okta.Anonymizing.VPN.Login' || JSON.stringify(d).includes('Okta.Anonymizing.VPN.Login'))!;
    assert.equal((s['oktopus'] as { panther: { severity: string } }).panther.severity, 'INFO');
    const a = docs.find((d) => d !== s)!;
    const pe = (a['oktopus'] as { panther: { alert_context: { pe: Record<string, unknown> } } }).panther.alert_context.pe;
    assert.equal((pe['ipinfo_privacy'] as Record<string, { service: string }>)['client.ipAddress']!.service, 'Apple Private Relay');
  }
});

test('2. AlertTitle, GroupBy, AlertContext read p_* fields; DynamicSeverities use the schema context (lists)', () => {
  const r = rule(`AnalysisType: rule
RuleID: Review.Dyn
LogTypes: [Okta.SystemLog]
Severity: Medium
Detection:
  - KeyPath: securityContext.isProxy
    Condition: Equals
    Value: true
DynamicSeverities:
  - ChangeTo: INFO
    Conditions:
      - Enrichment: {Table: ipinfo_privacy, Selector: client.ipAddress, FieldPath: service}
        Condition: Equals
        Value: Apple Private Relay
AlertTitle: "relay {client.ipAddress} service={p_enrichment.ipinfo_privacy.client.ipAddress.service} ips={p_any_ip_addresses}"
GroupBy:
  - KeyPath: p_enrichment.ipinfo_privacy.client.ipAddress.service
AlertContext:
  - KeyName: svc
    KeyValue: {DeepKey: [p_enrichment, ipinfo_privacy, client.ipAddress, service]}
`);
  const p = pantherPresentation(r, relayEvent(), { org: 'acme', enrichment: appleContext() });
  assert.equal(p.title, 'relay 172.224.226.5 service=Apple Private Relay ips=172.224.226.5');
  assert.equal(p.dedup, 'Apple Private Relay');
  assert.deepEqual(p.context, { svc: 'Apple Private Relay' });
  assert.equal(p.severityWord, 'INFO');
  // Without lists the address is just a proxy: MEDIUM, and the title says None.
  const q = pantherPresentation(r, relayEvent(), { org: 'acme', enrichment: new EnrichmentContext() });
  assert.equal(q.severityWord, 'MEDIUM');
});

test('3. GroupBy and AlertContext keep indexes; AlertTitle reads [n] and [*]', () => {
  const r = rule(`AnalysisType: rule
RuleID: Review.GB
LogTypes: [Okta.SystemLog]
Severity: High
Detection:
  - Condition: AlwaysTrue
AlertTitle: "{target[0].alternateId} / {target[*].alternateId} / {target[-1].alternateId} / {{literal}}"
GroupBy:
  - KeyPath: target[0].alternateId
  - KeyPath: client.ipAddress
AlertContext:
  - KeyName: first
    KeyValue: {KeyPath: "target[0].alternateId"}
  - KeyName: second
    KeyValue: {DeepKey: [target, 1, alternateId]}
`);
  const ev = oktaEvent({ target: [{ alternateId: 'a@x' }, { alternateId: 'b@x' }], client: { ipAddress: '1.2.3.4' } });
  const p = pantherPresentation(r, ev);
  assert.equal(p.title, 'a@x / a@x, b@x / b@x / {literal}');
  assert.equal(p.dedup, 'a@x:1.2.3.4');
  assert.deepEqual(p.context, { first: 'a@x', second: 'b@x' });
});

test('4. multi-key orderings compare numeric strings as numbers, other strings lexically', () => {
  const r = rule(`AnalysisType: rule
RuleID: Review.Multi
LogTypes: [Okta.SystemLog]
Severity: High
Detection:
  - Condition: IsGreaterThanOrEquals
    Values:
      - KeyPath: debugContext.debugData.a
      - KeyPath: debugContext.debugData.b
`);
  const head = compilePredicate((r.stages[0] as unknown as { predicate: never }).predicate, { org: 'x' });
  const t = (a: Json | undefined, b: Json | undefined) => head(oktaEvent({ debugContext: { debugData: JSON.parse(JSON.stringify({ a, b })) as Json } }));
  assert.equal(t('2', '10'), false);
  assert.equal(t('10', '9'), true);
  assert.equal(t(10, '9'), true);
  assert.equal(t('10', 9), true);
  assert.equal(t(9, 10), false);
  assert.equal(t('2024-02-01', '2024-01-31'), true);
  assert.equal(t('abc', 1), false);
  assert.equal(t(undefined, 1), false);
});

test('5. a helper module without rule() in a rules folder is skipped silently', async () => {
  const dir = tmp({
    'my_helpers.ts': "export function isSessionStart(e: any): boolean { return e.get('eventType') === 'user.session.start'; }\n",
    'r.ts': "import { isSessionStart } from './my_helpers.js';\nexport function rule(e: any): boolean { return isSessionStart(e); }\n",
    'r.yml': 'AnalysisType: rule\nRuleID: Review.Helper\nLogTypes: [Okta.SystemLog]\nSeverity: Low\nFilename: r.ts\n',
    'plain.js': "module.exports = { x: 1 };\n",
  });
  const loaded = await loadRules([dir]);
  assert.deepEqual(loaded.errors, []);
  assert.deepEqual(loaded.unsupported, []);
  assert.deepEqual(loaded.rules.map((r) => r.id), ['Review.Helper']);
});

test('6. bodies outside the rule folders are a load error; parsing runs no body; --no-code lists code rules as not run', async () => {
  const dir = tmp({
    'outside/x.js': "require('fs').writeFileSync(__dirname + '/PWNED', 'x');\nexports.rule = () => false;\n",
    'rules/trav.yml': 'AnalysisType: rule\nRuleID: Review.Trav\nLogTypes: [Okta.SystemLog]\nSeverity: Low\nFilename: ../outside/x.js\n',
    'rules/ok.yml': 'AnalysisType: rule\nRuleID: Review.Ok\nLogTypes: [Okta.SystemLog]\nSeverity: Low\nFilename: ok.js\n',
    'rules/ok.js': "require('fs').writeFileSync(__dirname + '/RAN', 'x');\nexports.rule = () => true;\nexports.title = () => 't';\n",
  });
  setPantherRuleRoots([join(dir, 'rules')]);
  try {
    const loaded = await loadRules([join(dir, 'rules')]);
    assert.equal(loaded.errors.length, 1);
    assert.match(loaded.errors[0]!.message, /trav\.yml.*outside\/x\.js is outside/);
    assert.equal(existsSync(join(dir, 'outside/PWNED')), false);
    // Parsing read ok.js's exports without running it.
    assert.deepEqual(loaded.rules.map((r) => [r.id, r.panther?.functions]), [['Review.Ok', ['title']]]);
    assert.equal(existsSync(join(dir, 'rules/RAN')), false);
    // The engine runs it.
    new Engine(loaded.rules, { schema: { org: 'x' }, store: new MemoryStore() });
    assert.equal(existsSync(join(dir, 'rules/RAN')), true);
    // A body given as a rules root of its own is allowed.
    setPantherRuleRoots([join(dir, 'rules'), join(dir, 'outside')]);
    assert.equal((await loadRules([join(dir, 'rules/trav.yml')])).errors.length, 0);
    setPantherCodeDisabled(true);
    const off = await loadRules([join(dir, 'rules/ok.yml')]);
    assert.deepEqual(off.rules, []);
    assert.match(off.unsupported[0]!.reason, /code bodies disabled by --no-code/);
  } finally {
    setPantherCodeDisabled(false);
    setPantherRuleRoots([]);
  }
});

test('7. JUnit drops control characters, the table escapes them; ExpectedResult "true" is a load error naming the test', async () => {
  const rows = [{ file: 'f.yml', rule: 'R<&>', test: 'esc \x1b[2J \x00 nul', status: 'fail' as const, detail: 'bad \x07 bell' }];
  const xml = junitXml(rows);
  assert.doesNotMatch(xml, /[\x00-\x08\x0B\x0C\x0E-\x1F]/);
  assert.match(xml, /name="esc \[2J  nul"/);
  const table = formatTable(rows);
  assert.doesNotMatch(table, /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/);
  assert.match(table, /esc \\x1b\[2J \\x00 nul/);
  const dir = tmp({
    'm.yml': 'AnalysisType: rule\nRuleID: Review.M\nLogTypes: [Okta.SystemLog]\nSeverity: Low\nDetection:\n  - Condition: AlwaysTrue\nTests:\n  - Name: string result\n    ExpectedResult: "true"\n    Log: {eventType: x}\n',
  });
  const res = await runTests([dir]);
  assert.equal(res.length, 1);
  assert.equal(res[0]!.status, 'error');
  assert.match(res[0]!.detail, /Tests\[0\] "string result": ExpectedResult must be true or false, not "true"/);
});

test('8. a code head runs once per event even when the engine tests it twice (stateful rule)', async () => {
  const dir = tmp({
    'c.ts': 'export let calls = 0;\nexport function rule(e: any): boolean { (globalThis as any).__pfixCalls = ((globalThis as any).__pfixCalls ?? 0) + 1; return true; }\n',
    'c.yml': 'AnalysisType: rule\nRuleID: Review.Count\nLogTypes: [Okta.SystemLog]\nSeverity: Low\nFilename: c.ts\nThreshold: 2\n',
  });
  const loaded = await loadRules([dir]);
  const engine = new Engine(loaded.rules, { schema: { org: 'x' }, store: new MemoryStore() });
  (globalThis as Record<string, unknown>)['__pfixCalls'] = 0;
  for (let i = 0; i < 10; i++) engine.push(oktaEvent({ eventType: 'user.session.start' }));
  engine.flush();
  assert.equal((globalThis as Record<string, unknown>)['__pfixCalls'], 10);
});

test('9. the seed YAML is indexed by event type (InlineFilters ANDed into its head)', async () => {
  const loaded = await loadRules([SEED]);
  const head = (loaded.rules[0]!.stages[0] as unknown as { predicate: never }).predicate;
  assert.deepEqual([...(requiredEventTypes(head) ?? [])], ['user.session.start']);
});

test('10. truncation as panther_core; Informational rejected; IP ranges as Python ipaddress', () => {
  const long = 'x'.repeat(2000);
  assert.equal(truncate(long, 1000).length, 1000);
  assert.ok(truncate(long, 1000).endsWith('x... (truncated)'));
  assert.equal(truncate('short', 1000), 'short');
  const r = rule(`AnalysisType: rule
RuleID: Review.Long
LogTypes: [Okta.SystemLog]
Severity: Low
Detection:
  - Condition: AlwaysTrue
AlertTitle: "{debugContext.debugData.t}"
`);
  const p = pantherPresentation(r, oktaEvent({ debugContext: { debugData: { t: long } } }));
  assert.equal(p.title.length, 1000);
  assert.equal(p.dedup, p.title);
  assert.throws(() => parsePanther('AnalysisType: rule\nRuleID: A\nSeverity: Informational\nDetection:\n  - Condition: AlwaysTrue\n', '/tmp/a.yml'), /Severity must be Info/);
  assert.throws(
    () => parsePanther('AnalysisType: rule\nRuleID: A\nSeverity: Low\nDetection:\n  - Condition: AlwaysTrue\nDynamicSeverities:\n  - ChangeTo: Informational\n    Conditions:\n      - Condition: AlwaysTrue\n', '/tmp/a.yml'),
    /ChangeTo must be INFO/,
  );
  const cond = (c: string) => {
    const x = rule(`AnalysisType: rule\nRuleID: A\nSeverity: Low\nDetection:\n  - KeyPath: client.ipAddress\n    Condition: ${c}\n`);
    const head = compilePredicate((x.stages[0] as unknown as { predicate: never }).predicate, { org: 'x' });
    return (ip: string) => head(oktaEvent({ client: { ipAddress: ip } }));
  };
  const pub = cond('IsIPAddressPublic');
  const priv = cond('IsIPAddressPrivate');
  const isIp = cond('IsIPAddress');
  assert.equal(pub('8.8.8.8'), true);
  assert.equal(pub('192.0.0.9'), true); // not private in Python 3.11 (192.0.0.0/29 is)
  assert.equal(priv('192.0.0.9'), false);
  assert.equal(priv('192.0.0.5'), true);
  assert.equal(priv('100.64.1.1'), false); // shared address space: neither private…
  assert.equal(pub('100.64.1.1'), false); // …nor global
  assert.equal(priv('10.1.2.3'), true);
  assert.equal(isIp(' 8.8.8.8 '), false);
  assert.equal(pub(' 8.8.8.8'), false);
  assert.equal(isIp('8.8.8.8'), true);
});

test('seed YAML and body: the InlineFilters change no test result', async () => {
  const res = await runTests([SEED]);
  assert.ok(res.length >= 3);
  for (const r of res) assert.equal(r.status, 'pass', `${r.test}: ${r.detail}`);
  assert.ok(readFileSync(SEED, 'utf8').includes('InlineFilters'));
});
