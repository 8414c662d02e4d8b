/**
 * Elastic `query` rules: TOML and Kibana/API JSON -> RuleIR, the rule types that stay
 * unsupported, Lucene queries that read the same as KQL, syntax errors placed in the file, and
 * a query rule end to end through loadRules and the Engine. Fixtures are written inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import { RuleError } from '../src/dialects/errors.js';
import { loadRules } from '../src/rules/load.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { FilterStage, RuleIR } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { oktaEvent } from './helpers.js';

const QUERY_RULE = `[metadata]
creation_date = "2020/05/21"
integration = ["okta"]
maturity = "production"

[rule]
author = ["Elastic", "Austin Songer"]
description = "Detects attempts to bypass Okta MFA."
false_positives = ["Admins testing MFA."]
index = ["filebeat-*", "logs-okta*"]
language = "kuery"
license = "Elastic License v2"
name = "Okta Session Via Proxy"
references = ["https://developer.okta.com/docs/reference/api/system-log/"]
risk_score = 73
rule_id = "11111111-2222-3333-4444-555555555555"
severity = "high"
tags = ["Domain: Identity", "Data Source: Okta", "Tactic: Initial Access"]
timestamp_override = "event.ingested"
type = "query"

query = '''
data_stream.dataset:okta.system and event.action:(user.session.start or user.authentication.sso)
    and okta.security_context.is_proxy:true and not okta.actor.id:okta*
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1078"
name = "Valid Accounts"
reference = "https://attack.mitre.org/techniques/T1078/"
[[rule.threat.technique.subtechnique]]
id = "T1078.004"
name = "Cloud Accounts"
reference = "https://attack.mitre.org/techniques/T1078/004/"

[[rule.threat.technique]]
id = "T1133"
name = "External Remote Services"
reference = "https://attack.mitre.org/techniques/T1133/"

[rule.threat.tactic]
id = "TA0001"
name = "Initial Access"
reference = "https://attack.mitre.org/tactics/TA0001/"
`;

/** A TOML rule with `[rule]` keys replaced or added. */
function tomlRule(fields: Record<string, string>, query = 'data_stream.dataset:okta.system'): string {
  const lines = [
    '[rule]',
    'rule_id = "r-1"',
    'name = "Test rule"',
    'description = "d"',
    'index = ["logs-okta*"]',
    'risk_score = 21',
    'severity = "low"',
    'type = "query"',
    'language = "kuery"',
  ];
  const keys = new Set(Object.keys(fields));
  const kept = lines.filter((l) => !keys.has(l.split(' = ')[0]!));
  for (const [k, v] of Object.entries(fields)) kept.push(`${k} = ${v}`);
  kept.push(`query = '''\n${query}\n'''`);
  return kept.join('\n') + '\n';
}

const ctx = { org: 'duff.okta.com' };
const proxyOver: JsonObject = { securityContext: { isProxy: true, isp: 'tor', asNumber: 1 } };

function firesOn(rule: RuleIR, over: JsonObject): boolean {
  return compilePredicate((rule.stages[0] as FilterStage).predicate, ctx)(oktaEvent(over));
}

test('a TOML query rule becomes a full RuleIR', () => {
  const { rules, unsupported } = parseElastic(QUERY_RULE, 'rules/okta_proxy.toml');
  assert.deepEqual(unsupported, []);
  assert.equal(rules.length, 1);
  const r = rules[0]!;
  const { stages, ...meta } = r;
  assert.deepEqual(meta, {
    id: '11111111-2222-3333-4444-555555555555',
    name: 'Okta Session Via Proxy',
    dialect: 'elastic',
    ruleType: 'query',
    file: 'rules/okta_proxy.toml',
    description: 'Detects attempts to bypass Okta MFA.',
    severity: 'high',
    severityRaw: 'high',
    riskScore: 73,
    tags: ['Domain: Identity', 'Data Source: Okta', 'Tactic: Initial Access'],
    threat: [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0001', name: 'Initial Access' },
        techniques: [
          { id: 'T1078', name: 'Valid Accounts', subtechniques: [{ id: 'T1078.004', name: 'Cloud Accounts' }] },
          { id: 'T1133', name: 'External Remote Services' },
        ],
      },
    ],
    references: ['https://developer.okta.com/docs/reference/api/system-log/'],
    falsePositives: ['Admins testing MFA.'],
    author: 'Elastic, Austin Songer',
    input: 'okta',
    enabled: true,
  });
  assert.equal(stages.length, 1);
  assert.equal(stages[0]!.type, 'filter');
  assert.equal(firesOn(r, proxyOver), true);
  assert.equal(firesOn(r, {}), false, 'not behind a proxy');
  assert.equal(firesOn(r, { ...proxyOver, actor: { id: 'okta42', type: 'User' } }), false);
});

test('severity is normalised, risk_score defaults from it, building_block_type makes a building block', () => {
  const { rules } = parseElastic(tomlRule({ severity: '"Critical"', building_block_type: '"default"' }).replace('risk_score = 21\n', ''), 'bb.toml');
  const r = rules[0]!;
  assert.equal(r.severity, 'critical');
  assert.equal(r.severityRaw, 'Critical');
  assert.equal(r.riskScore, 99);
  assert.equal(r.buildingBlock, true);
  assert.equal(parseElastic(tomlRule({}), 'plain.toml').rules[0]!.buildingBlock, undefined);
  assert.throws(() => parseElastic(tomlRule({ severity: '"urgent"' }), 'bad.toml'), /severity must be one of/);
});

test('index decides the input: Okta logs, security alerts, or not applicable', () => {
  assert.equal(parseElastic(tomlRule({ index: '[".alerts-security.*"]' }, 'kibana.alert.rule.name:*'), 'a.toml').rules[0]!.input, 'alerts');
  const other = parseElastic(tomlRule({ index: '["logs-aws*"]' }), 'aws.toml');
  assert.equal(other.rules.length, 0);
  assert.equal(other.unsupported[0]!.status, 'not-applicable');
});

test('the Kibana / API JSON form loads the same way', () => {
  const json = JSON.stringify({
    rule_id: 'j-1',
    name: 'JSON rule',
    type: 'query',
    language: 'kuery',
    index: ['logs-okta*'],
    severity: 'medium',
    risk_score: 47,
    query: 'event.action:user.session.start and okta.security_context.is_proxy:true',
    tags: ['Data Source: Okta'],
    threat: [{ framework: 'MITRE ATT&CK', tactic: { id: 'TA0001', name: 'Initial Access', reference: 'x' }, technique: [] }],
    exceptions_list: [],
    enabled: true,
  });
  for (const text of [json, JSON.stringify({ rule: JSON.parse(json) })]) {
    const { rules, unsupported } = parseElastic(text, 'rule.json');
    assert.deepEqual(unsupported, []);
    const r = rules[0]!;
    assert.equal(r.id, 'j-1');
    assert.equal(r.severity, 'medium');
    assert.deepEqual(r.threat, [{ framework: 'MITRE ATT&CK', tactic: { id: 'TA0001', name: 'Initial Access' }, techniques: [] }]);
    assert.equal(firesOn(r, proxyOver), true);
    assert.equal(firesOn(r, {}), false);
  }
});

test('other rule types and exception lists stay unsupported, each with its reason; suppression runs', () => {
  const reason = (text: string) => {
    const { rules, unsupported } = parseElastic(text, 'x.toml');
    assert.equal(rules.length, 0);
    return unsupported[0]!.reason;
  };
  assert.throws(() => reason(tomlRule({ type: '"new_terms"' })), /a new_terms rule needs 1 to 3 new terms fields/, 'new_terms rules run; one without its fields is an error');
  assert.throws(() => reason(tomlRule({ type: '"threshold"' })), /threshold/, 'threshold rules run; one without its threshold table is an error');
  assert.throws(() => reason(tomlRule({ type: '"eql"', language: '"eql"' })), /invalid EQL in query/, 'eql rules run; one whose query is KQL is an error');
  assert.equal(reason(tomlRule({ type: '"esql"', language: '"esql"' })), 'not supported: elastic/esql (ES|QL queries run only inside Elasticsearch)');
  assert.equal(
    reason(tomlRule({ type: '"machine_learning"', machine_learning_job_id: '["pad_okta_x"]' })),
    'not supported: elastic/machine_learning (needs the Elastic ML job pad_okta_x)',
  );
  // alert_suppression runs (test/elastic-suppression.test.ts); exception lists are named in the IR (test/exceptions.test.ts).
  const suppressed = tomlRule({}) + '\n[rule.alert_suppression]\ngroup_by = ["okta.actor.id"]\n';
  assert.equal(parseElastic(suppressed, 'x.toml').rules[0]!.stages[1]!.type, 'suppress');
  const excepted = tomlRule({}) + '\n[[rule.exceptions_list]]\nid = "e1"\nlist_id = "l1"\nnamespace_type = "single"\ntype = "detection"\n';
  assert.deepEqual(parseElastic(excepted, 'x.toml').rules[0]!.exceptionLists, [{ listId: 'l1', namespaceType: 'single' }]);
});

test('lucene queries run only when they read the same in KQL', () => {
  const lucene = (query: string) => parseElastic(tomlRule({ language: '"lucene"' }, query), 'l.toml');
  const same = lucene('event.action:user.session.start AND NOT okta.actor.id:okta* AND okta.outcome.result:"SUCCESS"');
  assert.equal(same.rules.length, 1);
  assert.equal(firesOn(same.rules[0]!, {}), true);
  assert.equal(firesOn(same.rules[0]!, { actor: { id: 'okta1' } }), false);
  assert.equal(lucene('event.action:(user.session.start OR user.session.end)').rules.length, 1);
  for (const query of [
    'event.action:user.session.start and okta.actor.id:x', // lower-case `and` is a term in Lucene
    'event.action:user.session.start okta.actor.id:x', // whitespace is OR in Lucene
    'a:1 OR b:2 AND c:3', // no precedence in Lucene
    'a:1 OR NOT b:2',
    'okta.actor.id:00u?',
    'a:[1 TO 5]',
    '-a:1',
    'a:b~',
    'user.session.start',
  ]) {
    const { rules, unsupported } = lucene(query);
    assert.equal(rules.length, 0, query);
    assert.equal(unsupported[0]!.reason, 'not yet supported: elastic/query (lucene)', query);
  }
});

test('a KQL syntax error is reported at its line and column in the rule file, with a caret', () => {
  const text = tomlRule({}, 'data_stream.dataset:okta.system and\n  event.action:(user.session.start or ) and x:y');
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.startsWith('  event.action')) + 1;
  assert.throws(
    () => parseElastic(text, 'rules/broken.toml'),
    (e: unknown) => {
      assert.ok(e instanceof RuleError);
      assert.equal(e.line, line);
      assert.equal(e.col, 39);
      assert.match(e.message, new RegExp(`^rules/broken\\.toml:${line}:39: invalid KQL in query: Expected "\\(", NOT or value but "\\)" found`));
      assert.ok(e.message.endsWith(`  event.action:(user.session.start or ) and x:y\n${'-'.repeat(38)}^`), e.message);
      return true;
    },
  );
  const json = JSON.stringify({ rule_id: 'j', name: 'n', type: 'query', index: ['logs-okta*'], severity: 'low', query: 'a:b and\nc:' });
  assert.throws(() => parseElastic(json, 'r.json'), /r\.json: invalid KQL in query \(query line 2, column 3\): Expected .*\nc:\n--\^$/);
});

test('a query rule end to end: loadRules + Engine raise an alert for the proxy sign-in only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-elastic-'));
  const file = join(dir, 'okta_proxy.toml');
  writeFileSync(file, QUERY_RULE);
  const loaded = await loadRules([dir]);
  assert.deepEqual(loaded.errors, []);
  assert.deepEqual(loaded.unsupported, []);
  assert.equal(loaded.rules.length, 1);
  const engine = new Engine(loaded.rules, { schema: ctx, store: new MemoryStore(), reorderWindowMs: 0 });
  assert.deepEqual(engine.unsupported, []);
  engine.push(oktaEvent({ uuid: 'benign-1' }));
  engine.push(oktaEvent({ ...proxyOver, uuid: 'proxy-1' }));
  engine.push(oktaEvent({ ...proxyOver, uuid: 'okta-actor-1', actor: { id: 'okta-system', type: 'SystemPrincipal' } }));
  engine.drain();
  const alerts = engine.takeAlerts();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.ruleId, '11111111-2222-3333-4444-555555555555');
  assert.match(JSON.stringify(alerts[0]!.doc), /proxy-1/);
});

test('severity_mapping and risk_score_mapping override the alert severity and risk from the source event', () => {
  const text =
    tomlRule({ severity: '"low"' }, 'event.action:user.session.start') +
    [
      '[[rule.severity_mapping]]',
      'field = "okta.outcome.result"',
      'operator = "equals"',
      'severity = "medium"',
      'value = "FAILURE"',
      '[[rule.severity_mapping]]',
      'field = "okta.outcome.reason"',
      'operator = "equals"',
      'severity = "critical"',
      'value = "VERIFICATION_ERROR"',
      '[[rule.risk_score_mapping]]',
      'field = "okta.authentication_context.authentication_step"',
      'operator = "equals"',
      'value = ""',
    ].join('\n') +
    '\n';
  const { rules } = parseElastic(text, 'mapped.toml');
  const rule = rules[0]!;
  assert.equal(rule.severityMapping?.length, 2);
  const engine = new Engine([rule], { schema: ctx, store: new MemoryStore(), reorderWindowMs: 0 });
  engine.push(oktaEvent({ uuid: 'm1', outcome: { result: 'SUCCESS' } }));
  engine.push(oktaEvent({ uuid: 'm2', outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } }));
  engine.push(oktaEvent({ uuid: 'm3', outcome: { result: 'FAILURE', reason: 'VERIFICATION_ERROR' } }));
  const alerts = engine.takeAlerts().map((a) => [a.doc['kibana.alert.severity'], a.doc['kibana.alert.rule.severity'], a.doc['kibana.alert.risk_score']]);
  assert.deepEqual(alerts, [
    ['low', 'low', 0],
    ['medium', 'low', 0],
    ['critical', 'low', 0],
  ], 'no match keeps the rule severity; the highest matching mapping wins; risk from the mapped field (step 0)');
});
