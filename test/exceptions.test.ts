/**
 * Exception lists (src/exceptions, docs/exceptions.md): Kibana's entry semantics, the Kibana
 * export and oktopus YAML formats, value lists, attaching lists to rules of every dialect, and
 * the engine dropping excepted events before every stage (EQL sequences, higher-order rules).
 * Fixtures are written inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachExceptions, loadExceptions, partitionByLists, type ExceptionList } from '../src/exceptions/index.js';
import { itemPredicate, isEcsField, type EntryContext } from '../src/exceptions/entries.js';
import { ipValueToCidrs, type ValueList } from '../src/exceptions/value-lists.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import { explain, renderExplanation } from '../src/explain/explain.js';
import type { RuleIR } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'oktopus-exc-'));
}

function valueLists(lists: ValueList[] = []): Map<string, ValueList> {
  return new Map(lists.map((l) => [l.id, l]));
}

/** Whether an item with these entries matches the event (Kibana field names: ECS). */
function matches(entries: unknown[], over: JsonObject = {}, lists: ValueList[] = [], vocabulary: EntryContext['vocabulary'] = 'ecs'): boolean {
  const ctx: EntryContext = { vocabulary, valueLists: valueLists(lists), listProblems: [], fieldWarnings: [], largeLists: [] };
  return compilePredicate(itemPredicate(entries, ctx), schema)(oktaEvent(over));
}

const e = (type: string, field: string, operator: string, value?: unknown, extra: object = {}) => ({ type, field, operator, ...(value === undefined ? {} : { value }), ...extra });

/* ------------------------------------------------------------------------------------------ */
/* Entry semantics                                                                             */
/* ------------------------------------------------------------------------------------------ */

test('match (is / is not): whole value, case-sensitive; a missing field matches only "is not"', () => {
  assert.equal(matches([e('match', 'user.name', 'included', 'homer.simpson')]), true);
  assert.equal(matches([e('match', 'user.name', 'included', 'Homer.Simpson')]), false);
  assert.equal(matches([e('match', 'user.name', 'included', 'homer')]), false);
  assert.equal(matches([e('match', 'user.name', 'excluded', 'homer.simpson')]), false);
  assert.equal(matches([e('match', 'user.name', 'excluded', 'marge')]), true);
  // No such field on the event: "is" never matches, "is not" (must_not) always does.
  assert.equal(matches([e('match', 'okta.request.ip_chain.geographical_context.city', 'included', 'X')], { request: {} }), false);
  assert.equal(matches([e('match', 'okta.request.ip_chain.geographical_context.city', 'excluded', 'X')], { request: {} }), true);
  // Booleans compare by their string form, as match_phrase on a boolean field.
  assert.equal(matches([e('match', 'okta.security_context.is_proxy', 'included', 'true')], { securityContext: { isProxy: true } }), true);
  assert.equal(matches([e('match', 'okta.security_context.is_proxy', 'included', 'true')]), false);
});

test('match on an ip field takes an address or a CIDR; anything else is an error', () => {
  assert.equal(matches([e('match', 'source.ip', 'included', '203.0.113.7')]), true);
  assert.equal(matches([e('match', 'source.ip', 'included', '203.0.113.0/24')]), true);
  assert.equal(matches([e('match', 'source.ip', 'included', '198.51.100.0/24')]), false);
  assert.equal(matches([e('match', 'source.ip', 'excluded', '203.0.113.0/24')]), false);
  assert.throws(() => matches([e('match', 'source.ip', 'included', 'vpn.acme.com')]), /entry 1: 'vpn.acme.com' is not an IP address or CIDR/);
});

test('match_any (is one of / is not one of)', () => {
  assert.equal(matches([e('match_any', 'user.name', 'included', ['marge', 'homer.simpson'])]), true);
  assert.equal(matches([e('match_any', 'user.name', 'included', ['marge', 'bart'])]), false);
  assert.equal(matches([e('match_any', 'user.name', 'excluded', ['marge', 'bart'])]), true);
  assert.equal(matches([e('match_any', 'user.name', 'excluded', ['marge', 'homer.simpson'])]), false);
  assert.throws(() => matches([e('match_any', 'user.name', 'included', [])]), /match_any value must be a non-empty list/);
});

test('multi-valued fields match when any value does (and "is not" only when none does)', () => {
  const targets = { target: [{ id: '00u1', type: 'User' }, { id: '0oa9', type: 'AppInstance' }] };
  assert.equal(matches([e('match', 'okta.target.id', 'included', '0oa9')], targets), true);
  assert.equal(matches([e('match', 'okta.target.id', 'excluded', '0oa9')], targets), false);
  assert.equal(matches([e('match_any', 'okta.target.type', 'included', ['Group', 'User'])], targets), true);
});

test('exists / does not exist: JSON null is absent', () => {
  assert.equal(matches([e('exists', 'okta.security_context.is_proxy', 'included')], { securityContext: { isProxy: false } }), true);
  assert.equal(matches([e('exists', 'okta.security_context.is_proxy', 'included')], { securityContext: { isProxy: null } }), false);
  assert.equal(matches([e('exists', 'okta.security_context.is_proxy', 'excluded')], { securityContext: {} }), true);
  assert.equal(matches([e('exists', 'okta.security_context.is_proxy', 'excluded')], { securityContext: { isProxy: true } }), false);
});

test('wildcard (matches / does not match): whole value, case-sensitive, * and ?', () => {
  assert.equal(matches([e('wildcard', 'user.name', 'included', 'homer.*')]), true);
  assert.equal(matches([e('wildcard', 'user.name', 'included', 'Homer.*')]), false);
  assert.equal(matches([e('wildcard', 'user.name', 'included', 'homer.simpso?')]), true);
  assert.equal(matches([e('wildcard', 'user.name', 'included', 'simpson')]), false);
  assert.equal(matches([e('wildcard', 'user.name', 'excluded', 'marge*')]), true);
  assert.equal(matches([e('wildcard', 'user.name', 'excluded', '*simpson')]), false);
});

test('ip_range value lists: ranges (inclusive), CIDRs and addresses, IPv4 and IPv6', () => {
  const list = (id: string, ...values: string[]): ValueList => ({ id, values: values.map((value, i) => ({ value, at: `${id}:${i + 1}` })), source: id });
  const inList = (id: string, operator = 'included') => [e('list', 'source.ip', operator, undefined, { list: { id, type: 'ip_range' } })];
  const v4 = list('v4', '198.51.100.0/24', '203.0.113.0-203.0.113.7');
  assert.equal(matches(inList('v4'), {}, [v4]), true); // .7 is the inclusive end
  assert.equal(matches(inList('v4'), { client: { ipAddress: '203.0.113.8' } }, [v4]), false);
  assert.equal(matches(inList('v4', 'excluded'), { client: { ipAddress: '203.0.113.8' } }, [v4]), true);
  assert.equal(matches(inList('v4'), { client: { ipAddress: '198.51.100.200' } }, [v4]), true);
  const v6 = list('v6', '2a02:26f7::/32', '2001:db8::10-2001:db8::1f', '2001:db8::99');
  assert.equal(matches(inList('v6'), { client: { ipAddress: '2a02:26f7:b3c0:4000::1' } }, [v6]), true);
  assert.equal(matches(inList('v6'), { client: { ipAddress: '2001:db8::1a' } }, [v6]), true);
  assert.equal(matches(inList('v6'), { client: { ipAddress: '2001:db8::20' } }, [v6]), false);
  assert.equal(matches(inList('v6'), { client: { ipAddress: '2001:db8::99' } }, [v6]), true);
  assert.equal(matches(inList('v6'), {}, [v6]), false); // an IPv4 client
  // Ranges become the fewest covering CIDR blocks.
  assert.deepEqual(ipValueToCidrs('10.0.0.1-10.0.0.6', true), ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
  assert.deepEqual(ipValueToCidrs('0.0.0.0-255.255.255.255', true), ['0.0.0.0/0']);
  assert.deepEqual(ipValueToCidrs('2001:db8::-2001:db8::ffff', true), ['2001:db8::/112']);
  assert.throws(() => ipValueToCidrs('10.0.0.9-10.0.0.1', true), /ends before it starts/);
  assert.throws(() => ipValueToCidrs('10.0.0.1-2001:db8::1', true), /mixes IPv4 and IPv6/);
  assert.throws(() => ipValueToCidrs('10.0.0.1-10.0.0.6', false), /not an address or a CIDR/);
});

test('keyword and text value lists (both whole value, case-sensitive); a list that was not provided is an error naming it', () => {
  const admins: ValueList = { id: 'admins', type: 'keyword', values: [{ value: 'homer.simpson', at: 'a:1' }, { value: 'marge', at: 'a:2' }], source: 'a' };
  const byUser = (operator: string) => [e('list', 'user.name', operator, undefined, { list: { id: 'admins', type: 'keyword' } })];
  assert.equal(matches(byUser('included'), {}, [admins]), true);
  assert.equal(matches(byUser('excluded'), {}, [admins]), false);
  assert.equal(matches(byUser('included'), { actor: { alternateId: 'Homer.Simpson@duff.com' } }, [admins]), false); // keyword: case-sensitive
  // text: Kibana's match {operator: and} on a keyword field (every field of the Okta integration)
  // is a term query for the whole value: exact and case-sensitive, not a word subset.
  const agents: ValueList = { id: 'agents', type: 'text', values: [{ value: 'okta-sync/1.0', at: 'p:1' }, { value: 'User login to Okta', at: 'p:2' }], source: 'p' };
  const ua = [e('list', 'user_agent.original', 'included', undefined, { list: { id: 'agents', type: 'text' } })];
  assert.equal(matches(ua, { client: { userAgent: { rawUserAgent: 'okta-sync/1.0' } } }, [agents]), true);
  assert.equal(matches(ua, { client: { userAgent: { rawUserAgent: 'Mozilla/5.0 okta-sync/1.0 (X11)' } } }, [agents]), false); // a superset of its words
  assert.equal(matches(ua, { client: { userAgent: { rawUserAgent: 'OKTA-SYNC/1.0' } } }, [agents]), false); // case
  const msg = [e('list', 'displayMessage', 'included', undefined, { list: { id: 'agents', type: 'text' } })];
  assert.equal(matches(msg, { displayMessage: 'User login to Okta' }, [agents], 'okta'), true);
  assert.equal(matches(msg, { displayMessage: 'Okta: user LOGIN' }, [agents], 'okta'), false); // same words, other order and case
  assert.throws(() => matches(byUser('included')), /value list 'admins' was not provided/);
  assert.throws(() => matches([e('list', 'user.name', 'included', undefined, { list: { id: 'admins', type: 'date' } })], {}, [admins]), /type 'date' is not supported here/);
});

test('nested: one object of the list must satisfy every inner entry', () => {
  const targets = { target: [{ id: '00u1', type: 'User' }, { id: '0oa9', type: 'AppInstance' }] };
  const nested = (id: string, type: string) => [{ type: 'nested', field: 'okta.target', entries: [e('match', 'id', 'included', id), e('match', 'type', 'included', type)] }];
  assert.equal(matches(nested('0oa9', 'AppInstance'), targets), true);
  assert.equal(matches(nested('0oa9', 'User'), targets), false); // the two values sit on different objects
  assert.equal(matches([{ type: 'nested', field: 'okta.target', entries: [e('match', 'type', 'excluded', 'User')] }], targets), true);
  assert.throws(() => matches([{ type: 'nested', field: 'okta.target', entries: [e('wildcard', 'id', 'included', '0*')] }], targets), /nested entry 1: a wildcard entry cannot sit inside a nested entry/);
});

test('an item ANDs its entries', () => {
  const both = [e('match', 'user.name', 'included', 'homer.simpson'), e('match', 'source.ip', 'included', '203.0.113.7')];
  assert.equal(matches(both), true);
  assert.equal(matches(both, { client: { ipAddress: '198.51.100.1' } }), false);
});

test('field names: ECS when the ECS mapping knows them, else raw LogEvent paths (auto)', () => {
  assert.equal(isEcsField('source.ip'), true);
  assert.equal(isEcsField('okta.debug_context.debug_data.request_uri'), true);
  assert.equal(isEcsField('okta.security_context'), true);
  assert.equal(isEcsField('kibana.alert.rule.name'), true);
  assert.equal(isEcsField('client.ipAddress'), false);
  assert.equal(isEcsField('securityContext.isProxy'), false);
  assert.equal(matches([e('match', 'client.ipAddress', 'included', '203.0.113.0/24')], {}, [], 'auto'), true);
  assert.equal(matches([e('match', 'actor.alternateId', 'included', 'homer.simpson@duff.com')], {}, [], 'auto'), true);
});

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                       */
/* ------------------------------------------------------------------------------------------ */

const ELASTIC_RULE = (lists: string) => `[metadata]
creation_date = "2024/01/01"
maturity = "production"

[rule]
author = ["Elastic"]
description = "Sign-in through an anonymising proxy."
index = ["logs-okta*"]
language = "kuery"
name = "Okta sign-in via proxy"
risk_score = 47
rule_id = "elastic-proxy"
severity = "medium"
type = "query"
query = 'event.action:user.session.start and okta.security_context.is_proxy:true'
${lists}
`;

const REF = (listId: string) => `[[rule.exceptions_list]]\nid = "c0ffee"\nlist_id = "${listId}"\nnamespace_type = "single"\ntype = "detection"\n`;

/** A Kibana `_export` of one list with two items, as Kibana writes it (container, items, summary). */
function kibanaExport(): string {
  const common = { _version: 'WzEsMV0=', created_at: '2026-10-01T10:00:00.000Z', created_by: 'elastic', namespace_type: 'single', os_types: [], tags: [], tie_breaker_id: 't', updated_at: '2026-10-01T10:00:00.000Z', updated_by: 'elastic' };
  return [
    { ...common, description: 'Corporate egress', id: 'u-list', immutable: false, list_id: 'corp-egress', name: 'Corporate egress', type: 'detection', version: 1 },
    { ...common, comments: [], description: 'VPN concentrators', entries: [{ field: 'source.ip', operator: 'included', type: 'match_any', value: ['203.0.113.7', '203.0.113.8'] }], id: 'u-1', item_id: 'vpn', list_id: 'corp-egress', name: 'VPN concentrators', type: 'simple' },
    { ...common, comments: [], description: 'Old office, closed', entries: [{ field: 'source.ip', operator: 'included', type: 'match', value: '198.51.100.9' }], expire_time: '2026-06-01T00:00:00.000Z', id: 'u-2', item_id: 'old-office', list_id: 'corp-egress', name: 'Old office', type: 'simple' },
    { exported_exception_list_count: 1, exported_exception_list_item_count: 2, missing_exception_list_item_count: 0, missing_exception_list_items: [], missing_exception_lists: [], missing_exception_lists_count: 0 },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n') + '\n';
}

function engineFor(rules: RuleIR[], reorderWindowMs = 0): Engine {
  return new Engine(rules, { schema, store: new MemoryStore(), reorderWindowMs });
}

function alertCount(engine: Engine): number {
  engine.drain();
  return engine.takeAlerts().length;
}

test('a Kibana exception-list export, unchanged, applies to the Elastic rule naming its list_id', async () => {
  const d = dir();
  writeFileSync(join(d, 'corp.ndjson'), kibanaExport());
  const { lists, errors } = await loadExceptions([d]);
  assert.deepEqual(errors, []);
  assert.equal(lists.length, 1);
  assert.equal(lists[0]!.name, 'Corporate egress');
  assert.deepEqual(lists[0]!.items.map((i) => [i.item, i.name, i.source, i.expireTime]), [
    ['vpn', 'VPN concentrators', `${join(d, 'corp.ndjson')}:2`, undefined],
    ['old-office', 'Old office', `${join(d, 'corp.ndjson')}:3`, '2026-06-01T00:00:00.000Z'],
  ]);
  const parsed = parseElastic(ELASTIC_RULE(REF('corp-egress')), 'proxy.toml');
  assert.deepEqual(parsed.rules[0]!.exceptionLists, [{ listId: 'corp-egress', namespaceType: 'single' }]);
  const { rules, warnings } = attachExceptions(parsed.rules, lists);
  assert.deepEqual(warnings, []);
  assert.equal(rules[0]!.exceptions!.length, 2);
  assert.equal(parsed.rules[0]!.exceptions, undefined); // new IR objects; the input is untouched
  const engine = engineFor(rules);
  engine.push(oktaEvent({ uuid: 'vpn', securityContext: { isProxy: true } })); // 203.0.113.7: excepted
  engine.push(oktaEvent({ uuid: 'other', client: { ipAddress: '192.0.2.1' }, securityContext: { isProxy: true } }));
  // The old-office item expired on 2026-06-01: it still applies to May's events, not to November's.
  engine.push(oktaEvent({ uuid: 'may', published: '2026-05-02T09:00:00.000Z', client: { ipAddress: '198.51.100.9' }, securityContext: { isProxy: true } }));
  engine.push(oktaEvent({ uuid: 'nov', client: { ipAddress: '198.51.100.9' }, securityContext: { isProxy: true } }));
  engine.drain();
  assert.deepEqual(engine.takeAlerts().map((a) => (a.doc['oktopus'] as JsonObject)['event_uuids']).flat().sort(), ['nov', 'other']);
  assert.deepEqual(engine.exceptionCounts(), [
    { rule: 'elastic:elastic-proxy', list: 'corp-egress', item: 'vpn', name: 'VPN concentrators', events: 1 },
    { rule: 'elastic:elastic-proxy', list: 'corp-egress', item: 'old-office', name: 'Old office', events: 1 },
  ]);
});

test('an Elastic rule naming a list that was not provided cannot run, and says which list', async () => {
  const parsed = parseElastic(ELASTIC_RULE(REF('corp-egress') + REF('not-here')), 'proxy.toml');
  const d = dir();
  writeFileSync(join(d, 'corp.ndjson'), kibanaExport());
  const { lists } = await loadExceptions([d]);
  const { rules } = attachExceptions(parsed.rules, lists);
  const split = partitionByLists(rules);
  assert.equal(split.rules.length, 0);
  assert.match(split.unsupported[0]!.reason, /needs exception list 'not-here' named in exceptions_list/);
  // The engine refuses it too, for callers that never attached lists.
  const engine = engineFor(parsed.rules);
  assert.equal(engine.compiled.length, 0);
  assert.match(engine.unsupported[0]!.reason, /'corp-egress', 'not-here'/);
  // A list nobody names is a warning.
  assert.deepEqual(attachExceptions([rule('x', eq('eventType', 'a'))], lists).warnings, [`${join(d, 'corp.ndjson')}: list 'corp-egress' applies to no loaded rule (no Elastic rule names it in exceptions_list)`]);
});

test('the oktopus YAML: rule selectors across Sigma, Elastic and Panther rules; value lists from files and inline', async () => {
  const d = dir();
  writeFileSync(join(d, 'vpn.txt'), '203.0.113.0/28\r\n\n198.51.100.10-198.51.100.20\n');
  writeFileSync(
    join(d, 'corp.yml'),
    `lists:
  - id: corp-egress
    name: Corporate egress
    rules: ['*']
    items:
      - id: vpn
        name: VPN egress
        entries:
          - { field: source.ip, type: list, operator: included, list: { id: corp-vpn, type: ip_range } }
  - id: service-accounts
    rules: [{ tag: 'attack.*' }, 'panther-*']
    items:
      - id: svc
        name: Service accounts
        entries:
          - { field: actor.alternateId, type: list, operator: included, list: { id: svc, type: keyword } }
  - id: nobody
    rules: [{ dialect: typescript }]
    items:
      - id: n
        entries: [{ field: user.name, type: exists, operator: included }]
value_lists:
  corp-vpn: { type: ip_range, file: vpn.txt }
  svc: { type: keyword, values: [svc-sync@duff.com] }
`,
  );
  const { lists, errors } = await loadExceptions([join(d, 'corp.yml')]);
  assert.deepEqual(errors, []);
  const sigma = rule('sigma-1', eq('eventType', 'user.session.start'), { tags: ['attack.initial_access'] });
  const elastic = rule('elastic-1', eq('eventType', 'user.session.start'), { dialect: 'elastic', ruleType: 'query' });
  const panther = rule('panther-okta-1', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' });
  const { rules, warnings } = attachExceptions([sigma, elastic, panther], lists);
  assert.deepEqual(rules.map((r) => r.exceptions!.map((x) => `${x.list}/${x.item}`)), [
    ['corp-egress/vpn', 'service-accounts/svc'],
    ['corp-egress/vpn'],
    ['corp-egress/vpn', 'service-accounts/svc'],
  ]);
  assert.deepEqual(warnings, [`${join(d, 'corp.yml')}: list 'nobody' applies to no loaded rule (its rules: select none)`]);
  assert.equal(rules[0]!.exceptions![0]!.source, `${join(d, 'corp.yml')}:6`);
  const engine = engineFor(rules);
  engine.push(oktaEvent({ uuid: 'vpn', client: { ipAddress: '203.0.113.9' } }));
  engine.push(oktaEvent({ uuid: 'range', client: { ipAddress: '198.51.100.20' } }));
  engine.push(oktaEvent({ uuid: 'svc', client: { ipAddress: '192.0.2.1' }, actor: { id: '00u9', type: 'User', alternateId: 'svc-sync@duff.com' } }));
  engine.push(oktaEvent({ uuid: 'real', client: { ipAddress: '192.0.2.1' } }));
  engine.drain();
  const byRule = new Map<string, string[]>();
  for (const a of engine.takeAlerts()) byRule.set(a.ruleId, [...(byRule.get(a.ruleId) ?? []), ...((a.doc['oktopus'] as JsonObject)['event_uuids'] as string[])]);
  assert.deepEqual(Object.fromEntries(byRule), { 'sigma-1': ['real'], 'elastic-1': ['svc', 'real'], 'panther-okta-1': ['real'] });
});

test('an EQL sequence: an exception removes the middle event, so the sequence does not complete', () => {
  const toml = `[rule]
name = "Proxy sign-in then MFA reset then admin grant"
description = "x"
index = ["logs-okta*"]
language = "eql"
risk_score = 73
rule_id = "eql-seq"
severity = "high"
type = "eql"
query = '''
sequence by okta.actor.id with maxspan=1h
  [any where event.action == "user.session.start"]
  [any where event.action == "user.mfa.factor.deactivate"]
  [any where event.action == "user.account.privilege.grant"]
'''
`;
  const base = parseElastic(toml, 'seq.toml').rules[0]!;
  const exceptions: ExceptionList[] = [
    {
      id: 'helpdesk',
      namespaceType: 'single',
      type: 'oktopus',
      file: 'x.yml',
      format: 'oktopus',
      selectors: [{ all: true }],
      vocabulary: 'ecs',
      items: [{ list: 'helpdesk', item: 'reset', name: 'Helpdesk MFA resets', predicate: { type: 'compare', field: { name: 'okta.debug_context.debug_data.request_uri', schema: 'ecs' }, op: 'eq', values: ['/helpdesk/reset'] }, source: 'x.yml:3' }],
    },
  ];
  const run = (rules: RuleIR[]) => {
    const engine = engineFor(rules, 60_000);
    const t = (m: number) => `2026-11-02T09:0${m}:00.000Z`;
    engine.push(oktaEvent({ uuid: 's1', published: t(0), eventType: 'user.session.start' }));
    engine.push(oktaEvent({ uuid: 's2', published: t(1), eventType: 'user.mfa.factor.deactivate', debugContext: { debugData: { requestUri: '/helpdesk/reset' } } }));
    engine.push(oktaEvent({ uuid: 's3', published: t(2), eventType: 'user.account.privilege.grant' }));
    engine.drain();
    return { alerts: engine.takeAlerts(), counts: engine.exceptionCounts() };
  };
  assert.ok(run([base]).alerts.length > 0);
  const excepted = run(attachExceptions([base], exceptions).rules);
  assert.equal(excepted.alerts.length, 0);
  assert.deepEqual(excepted.counts.map((c) => [c.rule, c.item, c.events]), [['elastic:eql-seq', 'reset', 1]]);
});

test('a higher-order rule: its exception entries read alert fields', async () => {
  const d = dir();
  writeFileSync(
    join(d, 'ho.yml'),
    `id: known-admin
rules: [{ id: on-proxy }]
items:
  - id: homer
    name: Homer's proxy alerts are known
    entries:
      - { field: kibana.alert.rule.rule_id, type: match, operator: included, value: proxy }
      - { field: user.name, type: match, operator: included, value: homer.simpson }
`,
  );
  const { lists, errors } = await loadExceptions([join(d, 'ho.yml')]);
  assert.deepEqual(errors, []);
  const proxy = rule('proxy', eq('securityContext.isProxy', 'true'));
  const onProxy = rule('on-proxy', { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values: ['proxy'] }, { input: 'alerts', dialect: 'elastic', ruleType: 'query' });
  const { rules } = attachExceptions([proxy, onProxy], lists);
  const engine = engineFor(rules);
  engine.push(oktaEvent({ uuid: 'h', securityContext: { isProxy: true } }));
  engine.push(oktaEvent({ uuid: 'm', securityContext: { isProxy: true }, actor: { id: '00u2', type: 'User', alternateId: 'marge@duff.com' } }));
  engine.drain();
  const alerts = engine.takeAlerts();
  assert.equal(alerts.filter((a) => a.ruleId === 'proxy').length, 2); // the first-order rule has no exception
  const higher = alerts.filter((a) => a.ruleId === 'on-proxy');
  assert.equal(higher.length, 1);
  assert.equal((higher[0]!.doc['user'] as JsonObject)['name'], 'marge');
  assert.deepEqual(engine.exceptionCounts(), [{ rule: 'elastic:on-proxy', list: 'known-admin', item: 'homer', name: "Homer's proxy alerts are known", events: 1 }]);
});

test('a stateful rule counts an excepted event once, though its head runs on arrival and at release', () => {
  const r = rule('burst', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' }, [{ type: 'dedup', key: [], periodMs: 60_000, threshold: 1 }]);
  const list: ExceptionList = { id: 'l', namespaceType: 'single', type: 'oktopus', file: 'l.yml', format: 'oktopus', selectors: [{ all: true }], vocabulary: 'ecs', items: [{ list: 'l', item: 'i', name: 'i', predicate: { type: 'exists', field: { name: 'user.name', schema: 'ecs' } }, source: 'l.yml:1' }] };
  const engine = engineFor(attachExceptions([r], [list]).rules, 300_000);
  engine.push(oktaEvent({ uuid: 'x1' }));
  engine.push(oktaEvent({ uuid: 'x2', published: '2026-11-02T09:01:00.000Z' }));
  assert.equal(alertCount(engine), 0);
  assert.equal(engine.exceptionCounts()[0]!.events, 2);
});

test('explain shows a rule\'s exceptions as exclusions, entries rendered like predicates', async () => {
  const d = dir();
  writeFileSync(join(d, 'corp.ndjson'), kibanaExport());
  const { lists } = await loadExceptions([d]);
  const r = attachExceptions(parseElastic(ELASTIC_RULE(REF('corp-egress')), 'proxy.toml').rules, lists).rules[0]!;
  const e = explain(r);
  assert.deepEqual(e.exceptions.map((x) => [x.list, x.item, x.text]), [
    ['corp-egress', 'vpn', 'source.ip cidr ("203.0.113.7", "203.0.113.8")'],
    ['corp-egress', 'old-office', 'source.ip cidr "198.51.100.9"'],
  ]);
  const text = renderExplanation(e);
  assert.match(text, /Exceptions \(an event matching any item is dropped before every stage\)/);
  assert.match(text, /list Corporate egress \(corp-egress\) · item Old office \(old-office\) · until 2026-06-01T00:00:00.000Z/);
  assert.match(text, /NOT \(source\.ip cidr \("203\.0\.113\.7", "203\.0\.113\.8"\)\)/);
  const missing = renderExplanation(explain(parseElastic(ELASTIC_RULE(REF('gone')), 'p.toml').rules[0]!));
  assert.match(missing, /list gone: named in exceptions_list but not provided/);
});

test('malformed files: one line per problem naming file and line or item; good items are kept', async () => {
  const d = dir();
  writeFileSync(
    join(d, 'corp.yml'),
    `lists:
  - id: corp
    rules: ['*']
    items:
      - id: vpn
        entries:
          - { field: user.name, type: match, operator: included, value: a }
          - { field: user.name, type: match, operator: is, value: b }
      - id: good
        entries: [{ field: user.name, type: match, operator: included, value: c }]
      - id: late
        expire_time: next tuesday
        entries: [{ field: user.name, type: exists, operator: included }]
      - id: ips
        entries: [{ field: source.ip, type: list, operator: included, list: { id: ips, type: ip_range } }]
  - name: no id
    rules: ['*']
    items: []
value_lists:
  ips: { type: ip_range, values: [203.0.113.0/24, not-an-ip, 10.0.0.5-10.0.0.1] }
  broken: { type: geo_point, values: [x] }
`,
  );
  writeFileSync(join(d, 'export.ndjson'), ['{"list_id":"k","name":"K","type":"detection","namespace_type":"single"}', '{oops', '{"item_id":"i1","list_id":"k","name":"I1","entries":[{"field":"user.name","type":"regex","operator":"included","value":"x"}]}', '{"item_id":"i2","list_id":"k","name":"I2","entries":[{"field":"user.name","type":"match","operator":"included","value":"x"}]}'].join('\n'));
  writeFileSync(join(d, 'notes.md'), 'not read: a folder contributes .ndjson, .json, .jsonl, .yml, .yaml, .txt and .csv files');
  const { lists, errors } = await loadExceptions([d, join(d, 'missing.yml')]);
  const yml = join(d, 'corp.yml');
  const nd = join(d, 'export.ndjson');
  assert.deepEqual(errors.map((x) => x.message), [
    `${join(d, 'missing.yml')}: no such file or folder`,
    `${yml}:21: value list 'broken': value-list type 'geo_point' is not supported here (supported: ip, ip_range, keyword, text, long, integer, short, byte, double, float, half_float, boolean)`,
    `${yml}:11: list 'corp' item 'late': expire_time "next tuesday" is not an ISO-8601 date-time`,
    `${yml}:16: list 2: a list needs an id`,
    `${nd}:2: invalid JSON at position 1: expected a double-quoted property name`,
    `${yml}:5: list 'corp' item 'vpn': entry 2: unknown operator "is" (included or excluded)`,
    `${yml}:20: not an address, a CIDR or a range (low-high) (value skipped; first used by ${yml}:14: list 'corp' item 'ips')`,
    `${yml}:20: the range ends before it starts (value skipped; first used by ${yml}:14: list 'corp' item 'ips')`,
    `${nd}:3: list 'k' item 'i1': entry 1: unknown entry type "regex" (known: match, match_any, exists, wildcard, list, nested)`,
  ]);
  assert.deepEqual(lists.map((l) => [l.id, l.items.map((i) => i.item)]), [['corp', ['good', 'ips']], ['k', ['i2']]]);
});

test('a long list of networks (a value list of IP ranges) gives the same answers as network by network', async () => {
  const { cidrTest } = await import('../src/engine/predicate/cidr.js');
  const nets = ['10.1.2.0/24', '192.0.2.128/25', '2001:db8:1::/48', '::ffff:198.51.100.0/120', '0.0.0.0/32'];
  for (let i = 0; i < 40; i++) nets.push(`172.${16 + (i % 16)}.${i}.0/${20 + (i % 9)}`);
  const big = cidrTest(nets);
  const one = (s: string) => nets.some((n) => cidrTest([n])(s));
  for (const ip of ['10.1.2.77', '10.1.3.1', '192.0.2.200', '192.0.2.1', '2001:db8:1:ffff::1', '2001:db8:2::1', '198.51.100.9', '::ffff:10.1.2.3', '::ffff:c000:0281', '172.17.1.9', '172.31.15.3', '0.0.0.0', 'not an ip', '']) {
    assert.equal(big(ip), one(ip), ip);
  }
  assert.equal(big('10.1.2.77'), true);
  assert.equal(big('::ffff:10.1.2.3'), true); // an IPv4-mapped address against an IPv4 network
  assert.equal(big('198.51.100.9'), true); // an IPv4 address against an IPv4-mapped network
});

test('the Elastic dialect: a malformed exceptions_list is an error in the rule file; an empty one names no list', () => {
  assert.throws(() => parseElastic(ELASTIC_RULE('[[rule.exceptions_list]]\nid = "x"\nnamespace_type = "single"\n'), 'p.toml'), /p\.toml.*exceptions_list entry 1 has no list_id/);
  assert.throws(() => parseElastic(ELASTIC_RULE('[[rule.exceptions_list]]\nlist_id = "x"\nnamespace_type = "space"\n'), 'p.toml'), /namespace_type "space" is not single or agnostic/);
  assert.equal(parseElastic(ELASTIC_RULE('exceptions_list = []'), 'p.toml').rules[0]!.exceptionLists, undefined);
});

test('a list id loaded twice keeps the first copy; Kibana namespaces keep their own list_ids', async () => {
  const d = dir();
  const list = (ns: string) => JSON.stringify({ list_id: 'same', name: ns, type: 'detection', namespace_type: ns });
  writeFileSync(join(d, 'a.ndjson'), [list('single'), list('agnostic')].join('\n'));
  writeFileSync(join(d, 'b.yml'), `id: same\nrules: ['*']\nitems: []\n`);
  const { lists, errors } = await loadExceptions([d]);
  assert.deepEqual(lists.map((l) => [l.id, l.namespaceType, l.format]), [['same', 'single', 'kibana'], ['same', 'agnostic', 'kibana']]);
  assert.deepEqual(errors.map((x) => x.message), [`${join(d, 'b.yml')}:1: list 'same' is already loaded from ${join(d, 'a.ndjson')}:1; this copy is skipped`]);
});
