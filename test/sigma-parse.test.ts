import { test } from 'node:test';
import { timeboxed } from './helpers.js';
import assert from 'node:assert/strict';
import { RuleError } from '../src/dialects/errors.js';
import { looksLikeSigma, parseSigmaText } from '../src/dialects/sigma/index.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { Predicate, RuleIR } from '../src/ir/types.js';

function event(doc: JsonObject): CanonicalEvent {
  return { kind: 'okta', id: 'e1', time: 0, eventType: '', doc, origin: 'test', depth: 0, shape: 'okta', cache: new Map() };
}

function only(text: string): RuleIR {
  const { rules, unsupported } = parseSigmaText(text, 'rules/test.yml');
  assert.equal(unsupported.length, 0, JSON.stringify(unsupported));
  assert.equal(rules.length, 1);
  return rules[0]!;
}

function predicateOf(rule: RuleIR): Predicate {
  const stage = rule.stages[0]!;
  assert.equal(stage.type, 'filter');
  return (stage as { predicate: Predicate }).predicate;
}


const SIGMA_MODULE = new URL('../src/dialects/sigma/index.js', import.meta.url).href;

const PROXY_RULE = `title: Okta User Session Start Via An Anonymising Proxy Service
id: bde30855-5c53-4c18-ae90-1ff79ebc9578
status: test
description: Detects when an Okta user session starts where the user is behind an anonymising proxy service.
references:
    - https://developer.okta.com/docs/reference/api/system-log/
author: kelnage
date: 2023-09-07
tags:
    - attack.defense-impairment
    - attack.t1685
logsource:
    product: okta
    service: okta
detection:
    selection:
        eventType: 'user.session.start'
        securityContext.isProxy: 'true'
    condition: selection
falsepositives:
    - If a user requires an anonymising proxy due to valid justifications.
level: high
`;

test('metadata is mapped to the RuleIR', () => {
  const r = only(PROXY_RULE);
  assert.equal(r.id, 'bde30855-5c53-4c18-ae90-1ff79ebc9578');
  assert.equal(r.name, 'Okta User Session Start Via An Anonymising Proxy Service');
  assert.equal(r.dialect, 'sigma');
  assert.equal(r.ruleType, 'detection');
  assert.equal(r.file, 'rules/test.yml');
  assert.equal(r.severity, 'high');
  assert.equal(r.severityRaw, 'high');
  assert.equal(r.riskScore, 73);
  assert.deepEqual(r.tags, ['attack.defense-impairment', 'attack.t1685']);
  assert.deepEqual(r.threat, [
    {
      framework: 'MITRE ATT&CK',
      tactic: { id: 'TA0112', name: 'Defense Impairment' },
      techniques: [{ id: 'T1685', name: 'T1685' }],
    },
  ]);
  assert.deepEqual(r.references, ['https://developer.okta.com/docs/reference/api/system-log/']);
  assert.deepEqual(r.falsePositives, ['If a user requires an anonymising proxy due to valid justifications.']);
  assert.equal(r.author, 'kelnage');
  assert.match(r.description!, /anonymising proxy/);
  assert.equal(r.input, 'okta');
  assert.equal(r.enabled, true);
  assert.deepEqual(predicateOf(r), {
    type: 'and',
    args: [
      { type: 'compare', field: { name: 'eventType', schema: 'okta' }, op: 'eq', values: ['user.session.start'] },
      { type: 'compare', field: { name: 'securityContext.isProxy', schema: 'okta' }, op: 'eq', values: ['true'] },
    ],
  });
});

test("seed check: 'true' matches Panther-style lower-cased keys with JSON true, not false", () => {
  const match = compilePredicate(predicateOf(only(PROXY_RULE)), { org: 'test' });
  assert.equal(match(event({ eventtype: 'user.session.start', securitycontext: { isProxy: true } })), true);
  assert.equal(match(event({ eventType: 'user.session.start', securityContext: { isProxy: true } })), true);
  assert.equal(match(event({ eventType: 'user.session.start', securityContext: { isProxy: 'true' } })), true);
  assert.equal(match(event({ eventtype: 'user.session.start', securitycontext: { isProxy: false } })), false);
  assert.equal(match(event({ eventtype: 'user.session.start', securitycontext: { isProxy: null } })), false);
  assert.equal(match(event({ eventtype: 'user.session.end', securitycontext: { isProxy: true } })), false);
});

test('severity levels map to risk scores; missing level is medium', () => {
  const scores: Record<string, number> = { informational: 0, low: 21, medium: 47, high: 73, critical: 99 };
  for (const [level, score] of Object.entries(scores)) {
    const r = only(PROXY_RULE.replace('level: high', `level: ${level}`));
    assert.equal(r.severity, level);
    assert.equal(r.riskScore, score);
  }
  const r = only(PROXY_RULE.replace('level: high\n', ''));
  assert.equal(r.severity, 'medium');
  assert.equal(r.severityRaw, undefined);
  assert.throws(() => only(PROXY_RULE.replace('level: high', 'level: severe')), /invalid level 'severe'/);
});

test('status deprecated (and unsupported) disables the rule; invalid status is an error', () => {
  assert.equal(only(PROXY_RULE.replace('status: test', 'status: deprecated')).enabled, false);
  assert.equal(only(PROXY_RULE.replace('status: test', 'status: unsupported')).enabled, false);
  assert.equal(only(PROXY_RULE.replace('status: test', 'status: stable')).enabled, true);
  assert.throws(() => only(PROXY_RULE.replace('status: test', 'status: wip')), RuleError);
});

test('threat: several tactics get one entry each; techniques stay in the tags only', () => {
  const r = only(
    PROXY_RULE.replace(
      '    - attack.defense-impairment\n    - attack.t1685\n',
      '    - attack.privilege-escalation\n    - attack.initial_access\n    - attack.t1078.004\n    - attack.t1078\n    - attack.g0016\n    - car.2013-01-002\n',
    ),
  );
  assert.deepEqual(r.threat, [
    { framework: 'MITRE ATT&CK', tactic: { id: 'TA0004', name: 'Privilege Escalation' }, techniques: [] },
    { framework: 'MITRE ATT&CK', tactic: { id: 'TA0001', name: 'Initial Access' }, techniques: [] },
  ]);
  assert.ok(r.threat.every((t) => t.tactic !== undefined), 'every threat entry has a tactic (Kibana requires one)');
  assert.ok(r.tags.includes('attack.t1078.004') && r.tags.includes('attack.t1078'));
});

test('threat: one tactic takes the techniques and sub-techniques', () => {
  const r = only(PROXY_RULE.replace('    - attack.t1685\n', '    - attack.t1078.004\n    - attack.t1078\n'));
  assert.deepEqual(r.threat, [
    {
      framework: 'MITRE ATT&CK',
      tactic: { id: 'TA0112', name: 'Defense Impairment' },
      techniques: [{ id: 'T1078', name: 'T1078', subtechniques: [{ id: 'T1078.004', name: 'T1078.004' }] }],
    },
  ]);
});

test('threat: techniques without a tactic give no threat entry (Kibana requires a tactic); the tags keep them', () => {
  const r = only(PROXY_RULE.replace('    - attack.defense-impairment\n', ''));
  assert.deepEqual(r.tags, ['attack.t1685']);
  assert.deepEqual(r.threat, []);
});

test('broken YAML is a RuleError with line and column', () => {
  const broken = PROXY_RULE.replace("        securityContext.isProxy: 'true'", "        securityContext.isProxy: ['true'");
  assert.throws(
    () => parseSigmaText(broken, 'rules/broken.yml'),
    (e: unknown) => e instanceof RuleError && e.line !== undefined && e.line >= 17 && /^rules\/broken\.yml:\d+:\d+: invalid YAML/.test(e.message),
  );
});

test('duplicate keys are rejected with their position', () => {
  const dup = PROXY_RULE.replace("        eventType: 'user.session.start'\n", "        eventType: 'user.session.start'\n        eventType: 'x'\n");
  assert.throws(
    () => parseSigmaText(dup, 'd.yml'),
    (e: unknown) => e instanceof RuleError && e.line === 18 && e.col === 9 && /duplicate key/.test(e.message),
  );
});

test('missing title, logsource or detection is an error', () => {
  assert.throws(() => parseSigmaText(PROXY_RULE.replace(/^title: .*\n/, ''), 'x.yml'), /missing required field 'title'/);
  assert.throws(
    () => parseSigmaText(PROXY_RULE.replace('logsource:\n    product: okta\n    service: okta\n', ''), 'x.yml'),
    /missing required field 'logsource'/,
  );
  assert.throws(() => parseSigmaText('title: x\nlogsource: {product: okta}\n', 'x.yml'), /no 'detection'/);
  assert.throws(() => parseSigmaText('- a\n- b\n', 'x.yml'), /must be a mapping/);
});

test('a Windows rule is not-applicable with the log source in the reason', () => {
  const win = `title: Suspicious Process
id: w-1
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\cmd.exe'
    condition: selection
level: high
`;
  const { rules, unsupported } = parseSigmaText(win, 'win.yml');
  assert.equal(rules.length, 0);
  assert.deepEqual(unsupported, [
    {
      id: 'w-1',
      name: 'Suspicious Process',
      dialect: 'sigma',
      ruleType: 'detection',
      file: 'win.yml',
      reason: 'logsource category=process_creation product=windows is not an Okta source',
      status: 'not-applicable',
    },
  ]);
  const serviceOnly = only(PROXY_RULE.replace('    product: okta\n', ''));
  assert.equal(serviceOnly.id, 'bde30855-5c53-4c18-ae90-1ff79ebc9578');
});

test('multi-document files: rules, correlation and meta-filter documents', () => {
  const text = `title: Failed login
id: base-1
name: failed_login
logsource: {product: okta, service: okta}
detection:
    selection:
        outcome.result: FAILURE
    condition: selection
---
title: Many failed logins
id: corr-1
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: {gte: 10}
level: high
---
title: Ignore service accounts
id: filter-1
logsource: {product: okta, service: okta}
filter:
    rules: [base-1]
    selection:
        actor.alternateId|startswith: svc_
    condition: selection
---
`;
  const { rules, unsupported } = parseSigmaText(text, 'multi.yml');
  // The correlation is a rule over the base rule's alerts (test/correlation.test.ts).
  assert.deepEqual(
    rules.map((r) => [r.id, r.ruleType, r.input]),
    [
      ['base-1', 'detection', 'okta'],
      ['corr-1', 'correlation', 'alerts'],
    ],
  );
  assert.deepEqual(unsupported, [
    {
      id: 'filter-1',
      name: 'Ignore service accounts',
      dialect: 'sigma',
      ruleType: 'filter',
      file: 'multi.yml',
      reason: 'not yet supported: sigma/filter',
      status: 'unsupported',
    },
  ]);
});

test('Sigma 1.x collections: action global / reset / repeat', () => {
  const text = `action: global
title: Proxy activity
logsource: {product: okta, service: okta}
level: high
detection:
    proxy:
        securityContext.isProxy: 'true'
    condition: proxy and selection
---
id: g-1
detection:
    selection:
        eventType: user.session.start
---
action: repeat
id: g-2
detection:
    selection:
        eventType: user.session.end
---
action: reset
---
title: Standalone
id: g-3
logsource: {product: okta}
detection:
    selection:
        eventType: x
    condition: selection
`;
  const { rules } = parseSigmaText(text, 'c.yml');
  assert.deepEqual(
    rules.map((r) => [r.id, r.name, r.severity]),
    [
      ['g-1', 'Proxy activity', 'high'],
      ['g-2', 'Proxy activity', 'high'],
      ['g-3', 'Standalone', 'medium'],
    ],
  );
  const m = compilePredicate(predicateOf(rules[1]!), { org: 't' });
  assert.equal(m(event({ eventType: 'user.session.end', securityContext: { isProxy: true } })), true);
  assert.equal(m(event({ eventType: 'user.session.start', securityContext: { isProxy: true } })), false);
});

test('YAML 1.1 typing like PyYAML: yes is a boolean, y and quoted values are strings, dates stay text', () => {
  const r = only(`title: t
id: y-1
date: 2023-09-07
logsource: {product: okta}
detection:
    sel:
        a: yes
        b: 'yes'
        c: n
        d: 2024-01-02
        e: 0x17
    condition: sel
`);
  const p = predicateOf(r) as { args: { values: unknown[] }[] };
  assert.deepEqual(
    p.args.map((a) => a.values[0]),
    [true, 'yes', 'n', '2024-01-02', 23],
  );
  const match = compilePredicate(predicateOf(r), { org: 't' });
  assert.equal(match(event({ a: true, b: 'YES', c: 'n', d: '2024-01-02', e: 23 })), true);
  assert.equal(match(event({ a: 'true', b: 'yes', c: 'N', d: '2024-01-02', e: '23' })), true);
});

test('a rule without id gets a stable one from its file name and document number, however the path is spelled', () => {
  const noId = PROXY_RULE.replace(/^id: .*\n/m, '');
  for (const file of ['rules/test.yml', './rules/test.yml', '/srv/oktopus/rules/test.yml', 'C:\\rules\\test.yml', 'test.yaml', 'test']) {
    const { rules } = parseSigmaText(noId, file);
    assert.equal(rules[0]!.id, 'test#1', file);
    assert.equal(rules[0]!.file, file, 'the rule still records the path it was read from');
  }
  const two = parseSigmaText(`${PROXY_RULE}---\n${noId}`, '/abs/dir/two.rule.yml');
  assert.deepEqual(
    two.rules.map((r) => r.id),
    ['bde30855-5c53-4c18-ae90-1ff79ebc9578', 'two.rule#2'],
  );
  const win = parseSigmaText(noId.replace('product: okta', 'product: windows').replace('    service: okta\n', ''), '/x/win.yml');
  assert.equal(win.unsupported[0]!.id, 'win#1', 'unsupported rules are named the same way');
  assert.equal(parseSigmaText(noId, 'rules/.yml').rules[0]!.id, '.yml#1', 'a name that is only an extension is kept');
});

/** Nine levels of nine aliases: 9^9 (387 million) nodes if every alias were expanded. */
function aliasBomb(): string {
  const names = 'abcdefghi';
  let text = 'title: Billion laughs\nlogsource: {product: okta}\nx:\n';
  text += `  a: &a [${Array(9).fill('"lol"').join(', ')}]\n`;
  for (let i = 1; i < names.length; i++) text += `  ${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]\n`;
  return text + 'detection:\n    sel:\n        eventType: x\n    condition: sel\n';
}

test('the timebox fails a computation that never finishes (instead of hanging the run)', { timeout: 10000 }, async () => {
  await assert.rejects(
    timeboxed(300, () => {
      for (;;);
    }),
    /did not finish within 300 ms/,
  );
  assert.equal(await timeboxed(5000, (a: number, b: number) => a + b, 2, 3), 5);
});

test('YAML alias bomb: rejected quickly with the position of the alias that exceeds the limit', { timeout: 5000 }, async () => {
  await assert.rejects(
    timeboxed(
      4000,
      async (url: string, text: string) => {
        const { parseSigmaText: parse } = (await import(url)) as typeof import('../src/dialects/sigma/index.js');
        parse(text, 'bomb.yml');
      },
      SIGMA_MODULE,
      aliasBomb(),
    ),
    (e: Error & { line?: number; col?: number }) =>
      e.name === 'RuleError' &&
      /^bomb\.yml:\d+:\d+: YAML aliases expand to more than 10000 nodes/.test(e.message) &&
      e.line !== undefined &&
      e.line >= 5 &&
      e.line <= 12 &&
      e.col !== undefined,
  );
});

test('many aliases in a large file resolve in linear time', { timeout: 10000 }, async () => {
  const plain = Array.from({ length: 50_000 }, (_, i) => `    - https://example.com/${i}\n`).join('');
  const aliases = '            - *t\n'.repeat(5_000);
  const text = `title: Many aliases\nlogsource: {product: okta}\nreferences:\n${plain}detection:\n    sel:\n        eventType: &t user.session.start\n        target.type:\n${aliases}    condition: sel\n`;
  const count = await timeboxed(
    8000,
    async (url: string, t: string) => {
      const { parseSigmaText: parse } = (await import(url)) as typeof import('../src/dialects/sigma/index.js');
      return parse(t, 'many.yml').rules[0]!.references.length;
    },
    SIGMA_MODULE,
    text,
  );
  assert.equal(count, 50_000);
});

test('anchors, aliases and << merge keys resolve; a redefined anchor means its latest definition', () => {
  const r = only(`title: Anchors
id: anchors-1
logsource: {product: okta}
x: &v first
detection:
    base: &base
        eventType: user.session.start
    sel:
        <<: *base
        outcome.result: &v SUCCESS
        displayMessage: *v
    condition: sel
`);
  assert.deepEqual(predicateOf(r), {
    type: 'and',
    args: [
      { type: 'compare', field: { name: 'outcome.result', schema: 'okta' }, op: 'eq', values: ['SUCCESS'] },
      { type: 'compare', field: { name: 'displayMessage', schema: 'okta' }, op: 'eq', values: ['SUCCESS'] },
      { type: 'compare', field: { name: 'eventType', schema: 'okta' }, op: 'eq', values: ['user.session.start'] },
    ],
  });
  // Three levels of nine aliases (819 nodes) are well within the limit.
  const small = aliasBomb().replace(/^  [d-i]: .*\n/gm, '');
  assert.equal(parseSigmaText(small, 'small.yml').rules.length, 1);
  assert.throws(() => parseSigmaText('a: *nowhere\n', 'u.yml'), RuleError);
});

test('looksLikeSigma', () => {
  assert.equal(looksLikeSigma({ logsource: { product: 'okta' }, detection: { condition: 'x' } }), true);
  assert.equal(looksLikeSigma({ correlation: { type: 'event_count' } }), true);
  assert.equal(looksLikeSigma({ logsource: { product: 'okta' }, filter: { rules: [] } }), true);
  assert.equal(looksLikeSigma({ logsource: { product: 'okta' } }), false);
  assert.equal(looksLikeSigma({ RuleID: 'x', Detection: [] }), false);
  assert.equal(looksLikeSigma(null), false);
  assert.equal(looksLikeSigma([{ logsource: {}, detection: {} }]), false);
});
