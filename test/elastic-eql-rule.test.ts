/**
 * Elastic `eql` rules: TOML -> RuleIR (eqlRule), the Okta EQL rules' queries, syntax errors at
 * their place in the rule file, what stays unsupported, and rules run end to end in the Engine.
 * Fixtures are written inline (equivalents of the detection-rules Okta EQL rules).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticRuleObject } from '../src/dialects/elastic/dialect.js';
import { eqlRule } from '../src/dialects/elastic/eql-rule.js';
import { RuleError } from '../src/dialects/errors.js';
import { eqlToStages } from '../src/dialects/elastic/eql/index.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import type { Predicate, RuleIR, SequenceStage, Stage, UnsupportedRule } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { oktaEvent } from './helpers.js';

function toml(query: string, extra = ''): string {
  return `[metadata]
creation_date = "2023/11/18"
integration = ["okta"]
maturity = "production"

[rule]
author = ["Elastic"]
description = "Detects many denied Okta Verify pushes for one user."
index = ["filebeat-*", "logs-okta.system*"]
language = "eql"
license = "Elastic License v2"
name = "Okta MFA bombing"
risk_score = 47
rule_id = "9f0c3e5a-1111-2222-3333-444455556666"
severity = "medium"
tags = ["Domain: Identity", "Data Source: Okta"]
type = "eql"
${extra}
query = '''
${query}
'''
`;
}

function build(text: string, input: 'okta' | 'alerts' | 'both' = 'okta', file = 'rules/bombing.toml'): RuleIR | UnsupportedRule {
  const r = elasticRuleObject(text, file);
  return eqlRule(r, { id: String(r['rule_id']), name: String(r['name']), ruleType: 'eql', file }, input, text);
}

function ir(text: string, input: 'okta' | 'alerts' | 'both' = 'okta'): RuleIR {
  const out = build(text, input);
  assert.ok('stages' in out, `unsupported: ${(out as UnsupportedRule).reason}`);
  return out;
}

/* The five Okta EQL rules' queries (equivalents written for these tests). */

const DENY_PUSH = `any where data_stream.dataset == "okta.system" and (
      okta.event_type == "user.mfa.okta_verify.deny_push" or
      (okta.event_type == "user.authentication.auth_via_mfa" and
       okta.debug_context.debug_data.factor == "OKTA_VERIFY_PUSH" and
       okta.outcome.reason == "INVALID_CREDENTIALS"))`;
const SIGN_IN = `any where data_stream.dataset == "okta.system" and
      okta.event_type in ("user.authentication.sso", "user.authentication.auth_via_mfa",
                          "user.authentication.verify", "user.session.start") and
      okta.outcome.result == "SUCCESS"`;

const MFA_BOMBING_UNTIL = `sequence by okta.actor.id with maxspan=10m
  [ ${DENY_PUSH} ] with runs=5
  until [ ${SIGN_IN} ]`;

const MFA_BOMBING_SUCCESS = `sequence by okta.actor.id with maxspan=10m
  [ ${DENY_PUSH} ] with runs=5
  [ ${SIGN_IN} ]`;

const AFTER_PROXY = `sequence by user.name with maxspan=30m
  [any where event.dataset == "okta.system" and kibana.alert.rule.rule_id == "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd"]
  [any where event.dataset == "okta.system" and kibana.alert.rule.rule_id != null and
     kibana.alert.severity != "low" and
     kibana.alert.rule.rule_id not in ("6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd", "af2d8e4c-3b7c-4e91-8f5a-6c9d0e1f2a3b")]`;

const MFA_DEACTIVATION = `sequence by okta.target.id with maxspan=12h
  [any where data_stream.dataset == "okta.system" and okta.event_type in ("user.mfa.factor.deactivate", "user.mfa.factor.reset_all")
     and okta.outcome.reason != "User reset SECURITY_QUESTION factor" and okta.outcome.result == "SUCCESS"]
  ![any where data_stream.dataset == "okta.system" and okta.event_type == "user.mfa.factor.activate"]`;

const STOLEN_CREDENTIALS = `sequence by user.name with maxspan=12h
  [any where host.os.type == "windows" and signal.rule.threat.tactic.name == "Credential Access"]
  [any where data_stream.dataset == "okta.system" and okta.event_type == "user.mfa.factor.update"]
  [any where data_stream.dataset == "okta.system" and okta.event_type: ("user.session.start", "user.authentication*")]`;

const ecs = (name: string) => ({ name, schema: 'ecs' as const });
const TYPED = { caseSensitive: true, coerce: 'typed' as const };
const eq = (name: string, value: string): Predicate => ({ type: 'compare', field: ecs(name), op: 'eq', values: [value], options: TYPED });

test('the five Okta EQL rule queries translate to a head filter and a sequence stage', () => {
  for (const q of [MFA_BOMBING_UNTIL, MFA_BOMBING_SUCCESS, AFTER_PROXY, MFA_DEACTIVATION, STOLEN_CREDENTIALS]) {
    const stages = eqlToStages(q, { schema: 'ecs', categoryField: 'event.category', windowMs: 300_000 }).stages;
    assert.deepEqual(stages.map((s) => s.type), ['filter', 'sequence'], q);
    const seq = stages[1] as SequenceStage;
    assert.equal(seq.by.length, 1);
    assert.ok(seq.maxspanMs! >= 600_000);
    // No expr leaves: every condition is a field-vs-literal test the engine indexes.
    assert.ok(!JSON.stringify(stages).includes('"expr"'), q);
  }
});

test('MFA bombing with until: runs=5, until, keys by okta.actor.id', () => {
  const rule = ir(toml(MFA_BOMBING_UNTIL, 'event_category_override = "event.category"'));
  assert.equal(rule.ruleType, 'eql');
  assert.equal(rule.severity, 'medium');
  assert.equal(rule.riskScore, 47);
  assert.equal(rule.input, 'okta');
  const seq = rule.stages[1] as SequenceStage;
  assert.deepEqual(seq.by, [{ type: 'field', field: ecs('okta.actor.id') }]);
  assert.equal(seq.maxspanMs, 600_000);
  assert.equal(seq.steps.length, 1);
  assert.equal(seq.steps[0]!.runs, 5);
  assert.equal(seq.semantics, 'elasticsearch');
  assert.equal(seq.caseInsensitiveKeys, undefined);
  const until = seq.until!.predicate as { type: 'and'; args: Predicate[] };
  assert.deepEqual(until.args[0], eq('data_stream.dataset', 'okta.system'));
  assert.deepEqual(until.args[1], {
    type: 'compare',
    field: ecs('okta.event_type'),
    op: 'eq',
    values: ['user.authentication.sso', 'user.authentication.auth_via_mfa', 'user.authentication.verify', 'user.session.start'],
    options: TYPED,
  });
  // The head filter reads every event either the steps or the until need.
  assert.deepEqual(rule.stages[0], { type: 'filter', predicate: { type: 'or', args: [seq.steps[0]!.predicate, seq.until!.predicate] } });
});

test('the higher-order rule on alerts: != is must_not (a missing severity passes), not in, != null', () => {
  const rule = ir(toml(AFTER_PROXY, 'interval = "30m"').replace('index = ["filebeat-*", "logs-okta.system*"]', 'index = [".alerts-security.*"]'), 'alerts');
  assert.equal(rule.input, 'alerts');
  const seq = rule.stages[1] as SequenceStage;
  assert.equal(seq.maxspanMs, 1_800_000);
  const second = seq.steps[1]!.predicate as { type: 'and'; args: Predicate[] };
  assert.deepEqual(second.args.slice(1), [
    { type: 'exists', field: ecs('kibana.alert.rule.rule_id'), nullIsMissing: true },
    { type: 'not', arg: eq('kibana.alert.severity', 'low') },
    {
      type: 'not',
      arg: { type: 'compare', field: ecs('kibana.alert.rule.rule_id'), op: 'eq', values: ['6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd', 'af2d8e4c-3b7c-4e91-8f5a-6c9d0e1f2a3b'], options: TYPED },
    },
  ]);
});

test('missing events: MFA deactivated with no reactivation', () => {
  const rule = ir(toml(MFA_DEACTIVATION, 'interval = "6h"\nfrom = "now-12h"'));
  const seq = rule.stages[1] as SequenceStage;
  assert.equal(seq.maxspanMs, 12 * 3_600_000);
  assert.deepEqual(seq.steps.map((s) => s.missing ?? false), [false, true]);
});

test('`:` with a wildcard list, for the stolen-credentials rule (input both)', () => {
  const rule = ir(toml(STOLEN_CREDENTIALS), 'both');
  assert.equal(rule.input, 'both');
  const third = (rule.stages[1] as SequenceStage).steps[2]!.predicate as { type: 'and'; args: Predicate[] };
  assert.deepEqual(third.args[1], {
    type: 'or',
    args: [
      { type: 'compare', field: ecs('okta.event_type'), op: 'eq', values: ['user.session.start'], options: { caseSensitive: false, coerce: 'typed' } },
      { type: 'compare', field: ecs('okta.event_type'), op: 'wildcard', values: ['user.authentication*'], options: { caseSensitive: false, coerce: 'typed' } },
    ],
  });
});

test('rule fields: event_category_override, interval as the pipe window, timestamp/tiebreaker noted', () => {
  const rule = ir(
    toml('authentication where okta.event_type == "user.session.start" | tail 3', 'event_category_override = "okta.category"\ninterval = "1h"\ntimestamp_field = "event.created"\ntiebreaker_field = "event.sequence"'),
  );
  assert.deepEqual(rule.stages, [
    { type: 'filter', predicate: { type: 'and', args: [eq('okta.category', 'authentication'), eq('okta.event_type', 'user.session.start')] } },
    { type: 'pipe', pipe: 'tail', n: 3, windowMs: 3_600_000, semantics: 'elasticsearch' },
  ]);
  assert.match(rule.description!, /timestamp_field event\.created is not honoured/);
  assert.match(rule.description!, /tiebreaker_field event\.sequence is not honoured/);
  // Default interval: 5 minutes.
  const head = ir(toml('any where true | head 1')).stages[1] as Stage & { windowMs: number };
  assert.equal(head.windowMs, 300_000);
  assert.throws(() => build(toml('any where true', 'interval = "often"')), RuleError);
});

test('a syntax error in the query is a RuleError at its line and column in the file, with a caret', () => {
  const text = toml('sequence by okta.actor.id with maxspan=10m\n  [any where okta.event_type = "x"]\n  [any where true]');
  let err: RuleError | undefined;
  try {
    build(text);
  } catch (e) {
    err = e as RuleError;
  }
  assert.ok(err instanceof RuleError);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('okta.event_type = "x"')) + 1;
  assert.equal(err.line, line);
  assert.equal(err.col, lines[line - 1]!.indexOf('=') + 1);
  assert.equal(
    err.detail,
    `invalid EQL in query: '=' is not supported as an equal operator in Elasticsearch EQL; use '==' or ':'\n  [any where okta.event_type = "x"]\n${'-'.repeat(err.col! - 1)}^`,
  );
  assert.match(err.message, /^rules\/bombing\.toml:\d+:\d+: invalid EQL/);
});

test('invalid queries (unknown function, arity, join keys) and deep nesting are RuleErrors at their place', () => {
  const cases: [string, string, RegExp][] = [
    ['any where startsWith(okta.event_type)', 'startsWith(', /function startsWith\(\) takes 2 arguments, got 1/],
    ['any where foo(okta.event_type)', 'foo(', /unknown function foo\(\)/],
    ['sequence by user.name\n  [any where true] by source.ip\n  [any where true]', '[any where true]\n', /same number of join keys: expected 2, found 1/],
    ['any where ' + '('.repeat(1000) + 'true' + ')'.repeat(1000), '('.repeat(801), /nested too deeply/],
  ];
  for (const [q, at, reason] of cases) {
    const text = toml(q);
    let err: RuleError | undefined;
    try {
      build(text);
    } catch (e) {
      err = e as RuleError;
    }
    assert.ok(err instanceof RuleError, q.slice(0, 40));
    assert.match(err.message, reason);
    const offset = at === '[any where true]\n' ? text.lastIndexOf('[any where true]') : text.indexOf(at) + (at.startsWith('((') ? 200 : 0);
    const lines = text.slice(0, offset).split('\n');
    assert.equal(err.line, lines.length, q.slice(0, 40));
    assert.equal(err.col, lines[lines.length - 1]!.length + 1, q.slice(0, 40));
  }
});

test('a sequence without maxspan keeps pending state for the rule look-back (from), not forever', () => {
  const q = 'sequence by okta.actor.id [any where okta.event_type == "a"] [any where okta.event_type == "b"]';
  const seq = (text: string) => ((build(text) as RuleIR).stages.find((s) => s.type === 'sequence') as SequenceStage);
  assert.equal(seq(toml(q)).stateTtlMs, 6 * 60_000, 'default from now-6m');
  assert.equal(seq(toml(q, 'from = "now-9m"\ninterval = "5m"')).stateTtlMs, 9 * 60_000);
  const withMaxspan = seq(toml(q.replace('okta.actor.id', 'okta.actor.id with maxspan=1h'), 'from = "now-9m"'));
  assert.equal(withMaxspan.stateTtlMs, undefined, 'maxspan rules are unchanged');
  assert.equal(withMaxspan.maxspanMs, 3_600_000);
  const odd = build(toml(q, 'from = "now-1M"')) as RuleIR;
  assert.equal((odd.stages.find((s) => s.type === 'sequence') as SequenceStage).stateTtlMs, undefined);
  assert.match(odd.description ?? '', /from "now-1M" is not a look-back/);
});

test('what Elasticsearch EQL refuses makes the rule unsupported, by name', () => {
  const cases: [string, RegExp][] = [
    ['any where true | unique user.name', /\| unique is not supported by Elasticsearch EQL/],
    ['any where true | filter a == 1', /\| filter is not supported by Elasticsearch EQL/],
    ['any where true | count', /\| count is not supported by Elasticsearch EQL/],
    ['any where true | sort a', /\| sort is not supported by Elasticsearch EQL/],
    ['any where true | unique_count a', /\| unique_count is not supported by Elasticsearch EQL/],
    ['join by a [any where true] [any where true]', /join is not supported/],
    ['any where arrayContains(a, "x")', /function arrayContains\(\) is not supported by Elasticsearch EQL/],
  ];
  for (const [q, reason] of cases) {
    const out = build(toml(q));
    assert.ok('reason' in out, q);
    assert.equal(out.status, 'unsupported');
    assert.match(out.reason, /^not supported: elastic\/eql: /);
    assert.match(out.reason, reason);
  }
  const lucene = build(toml('any where true').replace('language = "eql"', 'language = "kuery"'));
  assert.ok('reason' in lucene);
});

/* ------------------------------------------------------------------------------------------ */
/* End to end                                                                                  */
/* ------------------------------------------------------------------------------------------ */

function run(rule: RuleIR, events: JsonObject[]) {
  const engine = new Engine([rule], { schema: { org: 'duff.okta.com' }, store: new MemoryStore(), reorderWindowMs: 0 });
  assert.deepEqual(engine.unsupported ?? [], [], 'the engine runs the rule');
  for (const e of events) engine.push(oktaEvent(e));
  engine.flush();
  return engine.takeAlerts();
}

const minute = (m: number) => new Date(Date.UTC(2026, 10, 2, 9, m, 0)).toISOString();

test('end to end: an EQL event query on Okta events (predicates only)', () => {
  const rule = ir(toml('any where okta.event_type : "USER.SESSION.*" and okta.security_context.is_proxy == true and okta.actor.id != "00uADMIN"'));
  const alerts = run(rule, [
    { uuid: 'p1', eventType: 'user.session.start', securityContext: { isProxy: true } },
    { uuid: 'p2', eventType: 'user.session.start', securityContext: { isProxy: false } },
    { uuid: 'p3', eventType: 'user.authentication.sso', securityContext: { isProxy: true } },
    { uuid: 'p4', eventType: 'user.session.end', securityContext: { isProxy: true }, actor: { id: '00uADMIN', type: 'User' } },
  ]);
  assert.deepEqual(alerts.map((a) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids), [['p1']]);
});

test('end to end: an EQL function (expr leaf) on Okta events', () => {
  const rule = ir(toml('any where startsWith~(user.name, "HOMER") and okta.event_type == "user.session.start"'));
  const alerts = run(rule, [
    { uuid: 'f1', eventType: 'user.session.start' },
    { uuid: 'f2', eventType: 'user.session.start', actor: { id: '00u2', type: 'User', alternateId: 'marge@duff.com' } },
  ]);
  assert.equal(alerts.length, 1);
});

test('end to end: MFA push bombing (5 denied pushes then a sign-in within 10 minutes)', () => {
  const rule = ir(toml(MFA_BOMBING_SUCCESS));
  const deny = (uuid: string, m: number, actor = '00uHOMER') => ({
    uuid,
    published: minute(m),
    eventType: 'user.mfa.okta_verify.deny_push',
    actor: { id: actor, type: 'User', alternateId: 'homer@duff.com' },
    outcome: { result: 'FAILURE' },
  });
  const signIn = (uuid: string, m: number, actor = '00uHOMER') => ({
    uuid,
    published: minute(m),
    eventType: 'user.session.start',
    actor: { id: actor, type: 'User', alternateId: 'homer@duff.com' },
    outcome: { result: 'SUCCESS' },
  });
  const alerts = run(rule, [
    deny('d1', 1),
    deny('d2', 2),
    deny('x1', 2, '00uMARGE'),
    deny('d3', 3),
    deny('d4', 4),
    signIn('x2', 4, '00uMARGE'),
    deny('d5', 5),
    signIn('s1', 6),
  ]);
  const uuids = alerts.map((a) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids);
  assert.ok(alerts.length > 0, 'the sequence matched');
  assert.ok(uuids.some((u) => u.includes('s1') && u.includes('d1') && u.includes('d5')), JSON.stringify(uuids));
  assert.ok(!uuids.some((u) => u.includes('x1') || u.includes('x2')));
});

test('end to end: until drops the pending runs; missing events; Python semantics leaf', () => {
  const deny = (uuid: string, m: number) => ({
    uuid,
    published: minute(m),
    eventType: 'user.mfa.okta_verify.deny_push',
    actor: { id: '00uHOMER', type: 'User', alternateId: 'homer@duff.com' },
  });
  const ok = (uuid: string, m: number) => ({ uuid, published: minute(m), eventType: 'user.authentication.sso', actor: { id: '00uHOMER', type: 'User' }, outcome: { result: 'SUCCESS' } });
  const bombing = ir(toml(MFA_BOMBING_UNTIL));
  assert.equal(run(bombing, [deny('a1', 1), deny('a2', 2), deny('a3', 3), deny('a4', 4), deny('a5', 5)]).length > 0, true);
  assert.equal(run(bombing, [deny('b1', 1), deny('b2', 2), ok('b3', 3), deny('b4', 4), deny('b5', 5), deny('b6', 6)]).length, 0);

  const deactivation = ir(toml(MFA_DEACTIVATION));
  const factor = (uuid: string, m: number, eventType: string) => ({
    uuid,
    published: minute(m),
    eventType,
    target: [{ id: '00uBART', type: 'User', alternateId: 'bart@duff.com', displayName: 'Bart' }],
    outcome: { result: 'SUCCESS' },
  });
  assert.equal(run(deactivation, [factor('m1', 1, 'user.mfa.factor.deactivate'), factor('m2', 30, 'user.mfa.factor.activate')]).length, 0);
  assert.ok(run(deactivation, [factor('n1', 1, 'user.mfa.factor.deactivate')]).length > 0, 'no reactivation: an alert once the window closed');

  const python: RuleIR = {
    ...ir(toml('any where true')),
    stages: eqlToStages("any where eventType == 'USER.SESSION.START' and actor.alternateId == 'HOMER*'", {
      syntax: 'python',
      caseInsensitive: true,
      schema: 'okta',
      categoryField: 'eventType',
    }).stages,
  };
  assert.equal(run(python, [{ uuid: 'y1' }, { uuid: 'y2', eventType: 'user.session.end' }]).length, 1);
});
