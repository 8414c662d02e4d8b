/** Panther YAML simple detections: every condition, combinators, comprehensions, multi-key, templates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { detectionPredicate } from '../src/dialects/panther/detection.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import { parsePanther } from '../src/dialects/panther/dialect.js';
import { pantherPresentation } from '../src/dialects/panther/present.js';
import { renderPredicate } from '../src/explain/explain.js';
import { oktaEvent } from './helpers.js';
import type { JsonObject } from '../src/event/types.js';

const schema = { org: 'test' };

function matches(detection: string, over: JsonObject = {}): boolean {
  const p = detectionPredicate(parse(detection), 'd.yml');
  return compilePredicate(p, schema)(oktaEvent(over));
}

const ev = {
  eventType: 'user.account.privilege.grant',
  outcome: { result: 'SUCCESS', reason: null },
  debugContext: { debugData: { privilegeGranted: 'Super administrator, Read only admin', count: 7, countText: '12' } },
  target: [
    { type: 'User', alternateId: 'bart@duff.com', displayName: 'Bart' },
    { type: 'AppInstance', alternateId: 'aws', displayName: 'AWS IAM Identity Center' },
  ],
  client: { ipAddress: '10.1.2.3' },
  request: { ipChain: [{ ip: '8.8.8.8' }] },
  tags: ['a', 'b'],
  empty: '',
  flag: true,
};

test('equality, case folding, typed comparison', () => {
  assert.equal(matches('- {Key: eventType, Condition: Equals, Value: user.account.privilege.grant}', ev), true);
  assert.equal(matches('- {Key: EVENTTYPE, Condition: Equals, Value: User.Account.Privilege.Grant}', ev), false, 'Equals is case-sensitive in values');
  assert.equal(matches('- {Key: eventtype, Condition: IEquals, Value: User.Account.Privilege.Grant}', ev), true, 'keys are case-insensitive, IEquals folds');
  assert.equal(matches('- {Key: eventType, Condition: DoesNotEqual, Value: x}', ev), true);
  assert.equal(matches('- {Key: eventType, Condition: IDoesNotEqual, Value: USER.ACCOUNT.PRIVILEGE.GRANT}', ev), false);
  assert.equal(matches('- {KeyPath: debugContext.debugData.count, Condition: Equals, Value: 7}', ev), true);
  assert.equal(matches('- {KeyPath: debugContext.debugData.count, Condition: Equals, Value: "7"}', ev), false, 'a string value never equals a number');
  assert.equal(matches('- {KeyPath: debugContext.debugData.countText, Condition: Equals, Value: 12}', ev), true, 'a number equals its decimal string');
  assert.equal(matches('- {Key: flag, Condition: Equals, Value: true}', ev), true);
});

test('string conditions and their negations (a missing key satisfies negations)', () => {
  const d = 'debugContext.debugData.privilegeGranted';
  assert.equal(matches(`- {KeyPath: ${d}, Condition: StartsWith, Value: Super}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IStartsWith, Value: super}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: DoesNotStartWith, Value: Super}`, ev), false);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IDoesNotStartWith, Value: read}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: EndsWith, Value: admin}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IEndsWith, Value: ADMIN}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: DoesNotEndWith, Value: admin}`, ev), false);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IDoesNotEndWith, Value: X}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: Contains, Value: administrator}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IContains, Value: ADMINISTRATOR}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: DoesNotContain, Value: administrator}`, ev), false);
  assert.equal(matches(`- {KeyPath: ${d}, Condition: IDoesNotContain, Value: ADMINISTRATOR}`, ev), false);
  assert.equal(matches('- {KeyPath: no.such.key, Condition: DoesNotContain, Value: x}', ev), true);
  assert.equal(matches('- {KeyPath: no.such.key, Condition: Contains, Value: x}', ev), false);
});

test('ordering conditions (both spellings of OrEqual(s))', () => {
  const c = 'debugContext.debugData.count';
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsGreaterThan, Value: 6}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsGreaterThan, Value: 7}`, ev), false);
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsGreaterThanOrEquals, Value: 7}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsGreaterThanOrEqual, Value: 7}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsLessThan, Value: 8}`, ev), true);
  assert.equal(matches(`- {KeyPath: ${c}, Condition: IsLessThanOrEquals, Value: 6}`, ev), false);
  assert.equal(matches('- {KeyPath: missing, Condition: IsLessThan, Value: 6}', ev), false);
});

test('existence conditions', () => {
  assert.equal(matches('- {KeyPath: outcome.reason, Condition: Exists}', ev), true, 'null is present');
  assert.equal(matches('- {KeyPath: outcome.reason, Condition: IsNull}', ev), true);
  assert.equal(matches('- {KeyPath: outcome.reason, Condition: IsNotNull}', ev), false);
  assert.equal(matches('- {KeyPath: outcome.nope, Condition: DoesNotExist}', ev), true);
  assert.equal(matches('- {KeyPath: outcome.result, Condition: DoesNotExist}', ev), false);
  assert.equal(matches('- {Key: empty, Condition: IsNullOrEmpty}', ev), true);
  assert.equal(matches('- {Key: empty, Condition: IsNotNullOrEmpty}', ev), false);
  assert.equal(matches('- {KeyPath: outcome.result, Condition: IsNotNullOrEmpty}', ev), true);
});

test('IP conditions', () => {
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddress}', ev), true);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPv4Address}', ev), true);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPv6Address}', ev), false);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddressPrivate}', ev), true);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddressPublic}', ev), false);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddressPublic, Value: false}', ev), true, 'old fixtures: Value false negates');
  assert.equal(matches('- {KeyPath: "request.ipChain[*].ip", Condition: IsIPAddressPublic}', ev), true);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddressInCIDR, Values: [10.0.0.0/8]}', ev), true);
  assert.equal(matches('- {KeyPath: client.ipAddress, Condition: IsIPAddressNotInCIDR, Value: 10.0.0.0/8}', ev), false);
  assert.equal(matches('- {Key: eventType, Condition: IsIPAddress}', ev), false);
});

/** CIDRContainsIPAddresses / CIDRDoesNotContainIPAddresses: the key holds a network, Value(s) addresses. */
const contains = (net: unknown, values: string, cond = 'CIDRContainsIPAddresses'): boolean =>
  matches(`- {Key: net, Condition: ${cond}, ${values}}`, { net } as JsonObject);

test('CIDRContainsIPAddresses: IPv4 networks in the event contain the rule addresses', () => {
  assert.equal(contains('10.0.0.0/8', 'Value: 10.1.2.3'), true);
  assert.equal(contains('10.0.0.0/8', 'Value: 11.0.0.1'), false);
  assert.equal(contains('10.0.0.0/18', 'Value: 10.0.63.255'), true, 'the last address of a /18');
  assert.equal(contains('10.0.0.0/18', 'Value: 10.0.64.0'), false, '/18 is not /8 (suffix test is exact)');
  assert.equal(contains('10.0.0.0/8', 'Value: 10.255.255.255'), true);
  assert.equal(contains('192.168.1.77/32', 'Value: 192.168.1.77'), true);
  assert.equal(contains('192.168.1.77/32', 'Value: 192.168.1.78'), false);
  assert.equal(contains('0.0.0.0/0', 'Value: 203.0.113.9'), true);
  assert.equal(contains('10.1.2.3/8', 'Value: 10.200.0.1'), true, 'host bits in the event network are ignored (strict=False)');
  assert.equal(contains('10.1.2.3', 'Value: 10.1.2.3'), true, 'a bare address is a /32');
  assert.equal(contains('10.1.2.3', 'Value: 10.1.2.4'), false);
  assert.equal(contains('10.0.0.0/8', 'Value: 10.1.2.3', 'CIDRDoesNotContainIPAddresses'), false);
  assert.equal(contains('10.0.0.0/8', 'Value: 11.1.2.3', 'CIDRDoesNotContainIPAddresses'), true);
  // Through key paths, inside InlineFilters and list comprehensions.
  const nets = { ...ev, zone: { cidr: '172.16.0.0/12' }, zones: [{ cidr: '192.168.0.0/16' }, { cidr: '172.16.0.0/12' }] };
  assert.equal(matches('- {KeyPath: zone.cidr, Condition: CIDRContainsIPAddresses, Value: 172.31.255.1}', nets), true);
  assert.equal(matches('- {KeyPath: "zones[1].cidr", Condition: CIDRContainsIPAddresses, Value: 172.20.0.1}', nets), true);
  assert.equal(matches('- {KeyPath: "zones[0].cidr", Condition: CIDRContainsIPAddresses, Value: 172.20.0.1}', nets), false);
  assert.equal(matches('- {KeyPath: zones, Condition: AnyElement, Expressions: [{Key: cidr, Condition: CIDRContainsIPAddresses, Value: 192.168.3.4}]}', nets), true);
  assert.equal(matches('- {KeyPath: zones, Condition: AllElements, Expressions: [{Key: cidr, Condition: CIDRContainsIPAddresses, Value: 192.168.3.4}]}', nets), false);
  const p = detectionPredicate(parse('- {KeyPath: zone.cidr, Condition: CIDRDoesNotContainIPAddresses, Values: [10.0.0.1]}'), 'd.yml', 'InlineFilters', true);
  assert.equal(compilePredicate(p, schema)(oktaEvent(nets)), true, 'allowed in InlineFilters');
  assert.match(renderPredicate(p), /cidrMatch/, 'explain shows the translation');
});

test('CIDRContainsIPAddresses: IPv6, and families do not mix', () => {
  assert.equal(contains('2001:db8::/32', 'Value: "2001:DB8:0:1::5"'), true);
  assert.equal(contains('2001:db8::/32', 'Value: "2001:db9::1"'), false);
  assert.equal(contains('2001:db8::/127', 'Value: "2001:db8::1"'), true);
  assert.equal(contains('2001:db8::/127', 'Value: "2001:db8::2"'), false);
  assert.equal(contains('2001:0DB8:0000::/48', 'Value: "2001:db8:0:ffff::1"'), true, 'any textual form of the network');
  assert.equal(contains('fe80::1/128', 'Value: "fe80::1"'), true);
  assert.equal(contains('fe80::1', 'Value: "fe80:0:0::1"'), true, 'a bare IPv6 address is a /128');
  assert.equal(contains('::/0', 'Value: "2606:4700::1111"'), true);
  assert.equal(contains('::/0', 'Value: 10.1.2.3'), false, 'an IPv4 address is in no IPv6 network');
  assert.equal(contains('::ffff:0:0/96', 'Value: 10.1.2.3'), false);
  assert.equal(contains('0.0.0.0/0', 'Value: "::ffff:10.1.2.3"'), false, 'an IPv6 address is in no IPv4 network');
  assert.equal(contains('::ffff:10.0.0.0/104', 'Value: "::ffff:10.1.2.3"'), true, 'mapped addresses are IPv6 addresses');
});

test('CIDRContainsIPAddresses: lists of addresses (any of them) and list-valued keys (any element)', () => {
  assert.equal(contains('10.0.0.0/8', 'Values: [192.168.0.1, 10.9.9.9]'), true, 'Values: the network holds one of them');
  assert.equal(contains('10.0.0.0/8', 'Values: [192.168.0.1, 11.9.9.9]'), false);
  assert.equal(contains('10.0.0.0/8', 'Values: ["2001:db8::1", 10.9.9.9]'), true, 'mixed families');
  assert.equal(contains('2001:db8::/32', 'Values: [10.9.9.9, "2001:db8::1"]'), true);
  assert.equal(contains('10.0.0.0/8', 'Values: [192.168.0.1, 10.9.9.9]', 'CIDRDoesNotContainIPAddresses'), false, 'holds none of them');
  assert.equal(contains('10.0.0.0/8', 'Values: [192.168.0.1, 11.9.9.9]', 'CIDRDoesNotContainIPAddresses'), true);
  assert.equal(contains(['192.168.0.0/16', '10.0.0.0/8'], 'Value: 10.1.2.3'), true, 'one element of a list-valued key');
  assert.equal(contains(['10.0.0.0/24', '192.168.0.0/8'], 'Value: 10.5.5.5'), false, 'prefix and address are read from one element');
  assert.equal(contains(['10.0.0.0/24', '2001:db8::/32'], 'Value: "2001:db8::7"'), true);
  assert.equal(contains(['not a network', '10.0.0.0/8'], 'Value: 10.5.5.5'), true);
  assert.equal(contains([], 'Value: 10.5.5.5'), false);
  assert.equal(contains(['10.0.0.0/8'], 'Value: 10.5.5.5', 'CIDRDoesNotContainIPAddresses'), false);
});

test('CIDRContainsIPAddresses: a missing key, or a value that is not a network, holds no positive condition', () => {
  assert.equal(matches('- {Key: nothing, Condition: CIDRContainsIPAddresses, Value: 10.1.2.3}', ev), false);
  assert.equal(matches('- {Key: nothing, Condition: CIDRDoesNotContainIPAddresses, Value: 10.1.2.3}', ev), true, 'the negation holds on a missing key');
  assert.equal(matches('- {KeyPath: "zones[3].cidr", Condition: CIDRDoesNotContainIPAddresses, Value: 10.1.2.3}', ev), true, 'and on a missing element');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/08', ' 10.0.0.0/8', '10.0.0.0/8 ', '10.0.0.0 /8', '300.0.0.0/8', '10.0.0/8', 'ten/8', '2001:db8::/129', 'x', '', null, 10, true, { cidr: '10.0.0.0/8' }]) {
    assert.equal(contains(bad, 'Value: 10.1.2.3'), false, `not a network: ${JSON.stringify(bad)}`);
    assert.equal(contains(bad, 'Value: 10.1.2.3', 'CIDRDoesNotContainIPAddresses'), true, `negation on ${JSON.stringify(bad)}`);
  }
});

test('CIDRContainsIPAddresses: a rule value that is not an IP address is a load error naming the rule file and the key', () => {
  const yaml = (values: string) => `AnalysisType: rule
RuleID: Test.Cidr.Bad
LogTypes: [Okta.SystemLog]
Severity: Low
Detection:
  - {Key: eventType, Condition: Equals, Value: x}
  - {KeyPath: debugContext.debugData.network, Condition: CIDRDoesNotContainIPAddresses, ${values}}
`;
  for (const [values, why] of [
    ['Value: 10.0.0.0/8', /"10\.0\.0\.0\/8" is not an IP address \(a network\)/],
    ['Values: [10.1.2.3, 10.1.2.300]', /"10\.1\.2\.300" is not an IP address/],
    ['Value: "2001:db8::g"', /"2001:db8::g" is not an IP address/],
    ['Value: 42', /42 is not an IP address \(a string is expected\)/],
  ] as const) {
    assert.throws(
      () => parsePanther(yaml(values), 'rules/cidr_bad.yml'),
      (e: Error) => {
        assert.match(e.message, /^rules\/cidr_bad\.yml: Detection\[1\]: CIDRDoesNotContainIPAddresses on KeyPath debugContext\.debugData\.network: /);
        assert.match(e.message, why);
        return true;
      },
    );
  }
  assert.throws(() => detectionPredicate(parse('- {Key: net, Condition: CIDRContainsIPAddresses}'), 'd.yml'), /CIDRContainsIPAddresses needs a Value/);
  assert.throws(() => detectionPredicate(parse('- {Key: net, Condition: CIDRContainsIPAddresses, Values: []}'), 'd.yml'), /Values is empty/);
});

test('lists: IsIn, IsNotIn, Has, DoesNotHave', () => {
  assert.equal(matches('- {Key: eventType, Condition: IsIn, Values: [a, user.account.privilege.grant]}', ev), true);
  assert.equal(matches('- {Key: eventType, Condition: IsNotIn, Values: [a, user.account.privilege.grant]}', ev), false);
  assert.equal(matches('- {Key: tags, Condition: Has, Value: b}', ev), true);
  assert.equal(matches('- {Key: tags, Condition: DoesNotHave, Value: c}', ev), true);
});

test('combinators: All, Any, OnlyOne, None; AlwaysTrue/AlwaysFalse', () => {
  const t = '{Key: eventType, Condition: Exists}';
  const f = '{Key: nothing, Condition: Exists}';
  assert.equal(matches(`- All: [${t}, ${t}]`, ev), true);
  assert.equal(matches(`- All: [${t}, ${f}]`, ev), false);
  assert.equal(matches(`- Any: [${f}, ${t}]`, ev), true);
  assert.equal(matches(`- OnlyOne: [${f}, ${t}, ${f}]`, ev), true);
  assert.equal(matches(`- OnlyOne: [${t}, ${t}]`, ev), false);
  assert.equal(matches(`- None: [${f}, ${f}]`, ev), true);
  assert.equal(matches(`- None: [${f}, ${t}]`, ev), false);
  assert.equal(matches('- {Condition: AlwaysTrue}', ev), true);
  assert.equal(matches('- {Condition: AlwaysFalse}', ev), false);
  assert.equal(matches(`- ${t}\n- ${f}`, ev), false, 'the Detection list is ANDed');
});

test('list comprehensions test each element as a whole', () => {
  const both = 'Expressions: [{Key: type, Condition: Equals, Value: User}, {Key: displayName, Condition: Contains, Value: AWS}]';
  assert.equal(matches(`- {Key: target, Condition: AnyElement, ${both}}`, ev), false, 'no single element is both');
  assert.equal(matches('- {Key: target, Condition: AnyElement, Expressions: [{Key: type, Condition: Equals, Value: User}]}', ev), true);
  assert.equal(matches('- {Key: target, Condition: AllElements, Expressions: [{Key: alternateId, Condition: Exists}]}', ev), true);
  assert.equal(matches('- {Key: target, Condition: AllElements, Expressions: [{Key: type, Condition: Equals, Value: User}]}', ev), false);
  assert.equal(matches('- {Key: target, Condition: OnlyOneElement, Expressions: [{Key: type, Condition: Equals, Value: User}]}', ev), true);
  assert.equal(matches('- {Key: target, Condition: NoElement, Expressions: [{Key: type, Condition: Equals, Value: Group}]}', ev), true);
  assert.equal(matches('- {Key: nothing, Condition: AllElements, Expressions: [{Condition: AlwaysTrue}]}', ev), false, 'no list: AllElements is false');
  assert.equal(matches('- {Key: nothing, Condition: NoElement, Expressions: [{Condition: AlwaysTrue}]}', ev), true);
});

test('indexes: KeyPath a[1].b and DeepKey [a, 1, b]', () => {
  assert.equal(matches('- {KeyPath: "target[1].type", Condition: Equals, Value: AppInstance}', ev), true);
  assert.equal(matches('- {KeyPath: "target[0].type", Condition: Equals, Value: AppInstance}', ev), false);
  assert.equal(matches('- {KeyPath: "target[-1].type", Condition: Equals, Value: AppInstance}', ev), true);
  assert.equal(matches('- {DeepKey: [target, 0, alternateId], Condition: Equals, Value: bart@duff.com}', ev), true);
  assert.equal(matches('- {DeepKey: [tags, 1], Condition: Equals, Value: b}', ev), true);
  assert.equal(matches('- {KeyPath: "target[5].type", Condition: DoesNotEqual, Value: User}', ev), true);
});

test('multi-key comparisons and Enrichment keys', () => {
  const e2 = { ...ev, a: 5, b: 3, s1: 'bart', s2: 'bart' };
  assert.equal(matches('- {Condition: IsGreaterThan, Values: [{Key: a}, {Key: b}]}', e2), true);
  assert.equal(matches('- {Condition: IsLessThan, Values: [{Key: a}, {Key: b}]}', e2), false);
  assert.equal(matches('- {Condition: Equals, Values: [{Key: s1}, {KeyPath: s2}]}', e2), true);
  assert.equal(matches('- {Condition: DoesNotEqual, Values: [{Key: s1}, {KeyPath: s2}]}', e2), false);
  const enriched = { ...ev, p_enrichment: { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay' } } } };
  assert.equal(
    matches('- {Enrichment: {Table: ipinfo_privacy, Selector: client.ipAddress, FieldPath: service}, Condition: Equals, Value: Apple Private Relay}', enriched),
    true,
  );
});

test('errors name the expression', () => {
  assert.throws(() => detectionPredicate(parse('- {Key: a, Condition: Sparkles, Value: 1}'), 'd.yml'), /d\.yml: Detection\[0\]: unknown Condition 'Sparkles'/);
  assert.throws(() => detectionPredicate(parse('- {Key: a, Condition: Equals}'), 'd.yml'), /Equals needs a Value/);
  assert.throws(() => detectionPredicate(parse('- {Condition: Equals, Value: 1}'), 'd.yml'), /needs a Key/);
  assert.throws(() => detectionPredicate(parse('- None: [{Condition: AlwaysTrue}]'), 'd.yml', 'InlineFilters', true), /All and Any only/);
});

const SIMPLE = `
AnalysisType: rule
RuleID: Test.Simple.AdminGrant
DisplayName: Admin role granted
Enabled: true
LogTypes: [Okta.SystemLog]
Severity: Medium
DedupPeriodMinutes: 30
Threshold: 2
InlineFilters:
  - {KeyPath: outcome.result, Condition: Equals, Value: SUCCESS}
Detection:
  - {Key: eventType, Condition: Equals, Value: user.account.privilege.grant}
AlertTitle: "Admin granted to {target.alternateId} by {actor.alternateId} ({nothing.here})"
AlertContext:
  - {KeyName: granted, KeyValue: {KeyPath: debugContext.debugData.privilegeGranted}}
GroupBy:
  - KeyPath: actor.alternateId
DynamicSeverities:
  - ChangeTo: CRITICAL
    Conditions:
      - {KeyPath: debugContext.debugData.privilegeGranted, Condition: Contains, Value: Super}
`;

test('a YAML simple detection rule: IR, title template, context, GroupBy dedup, dynamic severity', () => {
  const { rules } = parsePanther(SIMPLE, 'simple.yml');
  const r = rules[0]!;
  assert.equal(r.id, 'Test.Simple.AdminGrant');
  assert.deepEqual(r.stages[1], { type: 'dedup', key: [], periodMs: 30 * 60_000, threshold: 2, pantherKey: true });
  assert.match(renderPredicate((r.stages[0] as unknown as { predicate: never }).predicate), /outcome\.result eq\[cased\] "SUCCESS" and eventType eq\[cased\] "user\.account\.privilege\.grant"/);
  const e = oktaEvent(ev);
  assert.equal(compilePredicate((r.stages[0] as unknown as { predicate: never }).predicate, schema)(e), true);
  const p = pantherPresentation(r, e);
  assert.equal(p.title, 'Admin granted to bart@duff.com, aws by homer.simpson@duff.com (None)');
  assert.equal(p.dedup, 'homer.simpson@duff.com');
  assert.equal(p.severityWord, 'CRITICAL');
  assert.deepEqual(p.context, { granted: 'Super administrator, Read only admin' });
});
