/**
 * Exception lists: bad input never costs a rule, values keep their source text, Kibana's
 * limits (os_types, large value lists) are mirrored, and error lines never quote file content.
 * Fixtures are written inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachExceptions, loadExceptions, type ExceptionList } from '../src/exceptions/index.js';
import { exceptionSummary } from '../src/exceptions/apply.js';
import { Engine } from '../src/engine/engine.js';
import { loadRules } from '../src/rules/load.js';
import { MemoryStore } from '../src/store/memory.js';
import type { Predicate, RuleIR } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'oktopus-exc-review-'));
}

function engineFor(rules: RuleIR[]): Engine {
  return new Engine(rules, { schema, store: new MemoryStore(), reorderWindowMs: 0 });
}

function alertedUuids(engine: Engine): string[] {
  engine.drain();
  return engine
    .takeAlerts()
    .flatMap((a) => (a.doc['oktopus'] as JsonObject)['event_uuids'] as string[])
    .sort();
}

const SESSION = rule('starts', eq('eventType', 'user.session.start'));

test('a bad IP or CIDR value is a load error naming file, line, item and entry; the item is skipped, every rule still runs', async () => {
  const d = dir();
  const yml = join(d, 'corp.yml');
  writeFileSync(
    yml,
    `lists:
  - id: corp
    rules: ['*']
    items:
      - id: prefix
        entries: [{ field: source.ip, type: match_any, operator: included, value: [165.225.242.0/28, 165.225.112.32/33] }]
      - id: octet
        entries: [{ field: source.ip, type: match, operator: included, value: 10.0.0.256 }]
      - id: short
        entries: [{ field: client.ip, type: match, operator: included, value: 1.2.3 }]
      - id: good
        entries: [{ field: source.ip, type: match, operator: included, value: 192.0.2.0/24 }]
`,
  );
  writeFileSync(join(d, 'ranges.txt'), '198.51.100.0/33\n198.51.100.0/24\n10.0.0.256\n');
  writeFileSync(join(d, 'ranges.yml'), `id: r\nrules: ['*']\nitems:\n  - id: r\n    entries: [{ field: source.ip, type: list, operator: included, list: { id: ranges.txt, type: ip_range } }]\n`);
  const { lists, errors } = await loadExceptions([d]);
  assert.deepEqual(errors.map((e) => e.message), [
    `${yml}:5: list 'corp' item 'prefix': entry 1: '165.225.112.32/33' is not an IP address or CIDR (source.ip is an ip field)`,
    `${yml}:7: list 'corp' item 'octet': entry 1: '10.0.0.256' is not an IP address or CIDR (source.ip is an ip field)`,
    `${yml}:9: list 'corp' item 'short': entry 1: '1.2.3' is not an IP address or CIDR (client.ip is an ip field)`,
    `${join(d, 'ranges.txt')}:1: not an address, a CIDR or a range (low-high) (value skipped; first used by ${join(d, 'ranges.yml')}:4: list 'r' item 'r')`,
    `${join(d, 'ranges.txt')}:3: not an address, a CIDR or a range (low-high) (value skipped; first used by ${join(d, 'ranges.yml')}:4: list 'r' item 'r')`,
  ]);
  assert.deepEqual(lists.map((l) => [l.id, l.items.map((i) => i.item)]), [['corp', ['good']], ['r', ['r']]]);
  const engine = engineFor(attachExceptions([SESSION], lists).rules);
  assert.deepEqual(engine.unsupported, []);
  engine.push(oktaEvent({ uuid: 'corp', client: { ipAddress: '192.0.2.9' } }));
  engine.push(oktaEvent({ uuid: 'range', client: { ipAddress: '198.51.100.9' } }));
  engine.push(oktaEvent({ uuid: 'other', client: { ipAddress: '203.0.113.99' } }));
  assert.deepEqual(alertedUuids(engine), ['other']);
});

test('an item the engine cannot compile is dropped from the rule with a reported error; the rule and its other items run', () => {
  const bad: Predicate = { type: 'compare', field: { name: 'source.ip', schema: 'ecs' }, op: 'cidr', values: ['10.0.0.0/33'] };
  const good: Predicate = { type: 'compare', field: { name: 'user.name', schema: 'ecs' }, op: 'eq', values: ['marge'], options: { caseSensitive: true } };
  const list: ExceptionList = {
    id: 'l',
    namespaceType: 'single',
    type: 'oktopus',
    file: 'l.yml',
    format: 'oktopus',
    selectors: [{ all: true }],
    vocabulary: 'ecs',
    items: [
      { list: 'l', item: 'bad', name: 'Bad', predicate: bad, source: 'l.yml:3' },
      { list: 'l', item: 'marge', name: 'Marge', predicate: good, source: 'l.yml:7' },
    ],
  };
  const other = rule('other', eq('eventType', 'user.session.start'));
  const engine = engineFor(attachExceptions([SESSION, other], [list]).rules);
  assert.deepEqual(engine.unsupported, []);
  assert.equal(engine.compiled.length, 2);
  engine.push(oktaEvent({ uuid: 'homer' }));
  engine.push(oktaEvent({ uuid: 'marge', actor: { id: '00u2', type: 'User', alternateId: 'marge@duff.com', displayName: 'Marge' } }));
  assert.deepEqual(alertedUuids(engine), ['homer', 'homer']);
  const counts = engine.exceptionCounts() as { item: string; events: number; error?: string }[];
  assert.deepEqual(counts.map((c) => [c.item, c.events, c.error !== undefined]), [['bad', 0, true], ['marge', 1, false], ['bad', 0, true], ['marge', 1, false]]);
  const summary = exceptionSummary(counts as Parameters<typeof exceptionSummary>[0]);
  assert.equal(summary.length, 2);
  assert.match(summary[0]!, /^error: exceptions: l\.yml:3: list 'l' item 'bad' cannot be compiled \(cidr '10\.0\.0\.0\/33' .*\); the rule runs without it \(2 rules\)$/);
  assert.equal(summary[1], 'exceptions: Marge (l/marge): 2 events removed from 2 rules');
});

test('a YAML file whose aliases explode is one error naming it; the other files are still used', async () => {
  const d = dir();
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  writeFileSync(join(d, 'bomb.yml'), `${levels.join('\n')}\nlists:\n  - id: boom\n    rules: ['*']\n    items: *i\n`);
  writeFileSync(join(d, 'good.yml'), `id: good\nrules: ['*']\nitems:\n  - id: homer\n    entries: [{ field: user.name, type: match, operator: included, value: homer.simpson }]\n`);
  const { lists, errors } = await loadExceptions([join(d, 'bomb.yml'), join(d, 'good.yml')]);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, new RegExp(`^${join(d, 'bomb.yml').replace(/[.\\/]/g, '\\$&')}: cannot read it as YAML \\(.*alias.*\\)$`, 'i'));
  assert.doesNotMatch(errors[0]!.message, /\n/);
  assert.deepEqual(lists.map((l) => l.id), ['good']);
});

test('YAML values keep their source text: 007, 1e3 and True are not 7, 1000 and true; id: 5 is the id "5"', async () => {
  const d = dir();
  writeFileSync(
    join(d, 'n.yml'),
    `id: 5
rules: ['*']
items:
  - id: 7
    entries:
      - { field: actor.alternateId, type: match_any, operator: included, value: [007@acme.com, 007, 1e3, True, 0x1F] }
value_lists:
  nums: { type: keyword, values: [007, 1.50] }
`,
  );
  const { lists, errors } = await loadExceptions([d]);
  assert.deepEqual(errors, []);
  assert.equal(lists[0]!.id, '5');
  assert.equal(lists[0]!.items[0]!.item, '7');
  const p = lists[0]!.items[0]!.predicate;
  assert.equal(p.type, 'compare');
  assert.deepEqual(p.type === 'compare' ? p.values : [], ['007@acme.com', '007', '1e3', 'True', '0x1F']);
  const engine = engineFor(attachExceptions([SESSION], lists).rules);
  const as = (uuid: string, alternateId: string) => oktaEvent({ uuid, actor: { id: '00u1', type: 'User', alternateId, displayName: 'A' } });
  for (const [uuid, id] of [['a', '007'], ['b', '7'], ['c', '1e3'], ['d', '1000'], ['e', 'True'], ['f', 'true']] as const) engine.push(as(uuid, id));
  assert.deepEqual(alertedUuids(engine), ['b', 'd', 'f']);
});

test('text value lists compile to one whole-value, case-sensitive equality over all their values', async () => {
  const d = dir();
  const agents = Array.from({ length: 5000 }, (_, i) => `agent-${i}/1.0 (sync)`);
  writeFileSync(join(d, 'agents.txt'), agents.join('\n') + '\n');
  writeFileSync(join(d, 'ua.yml'), `id: ua\nrules: ['*']\nitems:\n  - id: ua\n    entries: [{ field: user_agent.original, type: list, operator: included, list: { id: agents.txt, type: text } }]\n`);
  const { lists, errors } = await loadExceptions([d]);
  assert.deepEqual(errors, []);
  const p = lists[0]!.items[0]!.predicate;
  assert.deepEqual(p.type === 'compare' ? [p.op, p.values.length, p.options] : p.type, ['eq', 5000, { caseSensitive: true }]);
  const engine = engineFor(attachExceptions([SESSION], lists).rules);
  const ua = (uuid: string, rawUserAgent: string) => oktaEvent({ uuid, client: { ipAddress: '192.0.2.1', userAgent: { rawUserAgent } } });
  engine.push(ua('exact', 'agent-4999/1.0 (sync)'));
  engine.push(ua('superset', 'Mozilla agent-4999/1.0 (sync)'));
  engine.push(ua('case', 'AGENT-4999/1.0 (SYNC)'));
  assert.deepEqual(alertedUuids(engine), ['case', 'superset']);
});

test('os_types: Kibana ANDs host.os.type, which Okta events never have: the item is left out with a warning', async () => {
  const d = dir();
  const nd = join(d, 'os.ndjson');
  writeFileSync(
    nd,
    [
      { list_id: 'corp', name: 'Corp', namespace_type: 'single', type: 'detection' },
      { list_id: 'corp', item_id: 'win', name: 'windows', namespace_type: 'single', type: 'simple', os_types: ['windows'], entries: [{ field: 'user.name', operator: 'included', type: 'match', value: 'homer.simpson' }] },
      { list_id: 'corp', item_id: 'any', name: 'any os', namespace_type: 'single', type: 'simple', os_types: [], entries: [{ field: 'user.name', operator: 'included', type: 'match', value: 'marge' }] },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  );
  const { lists, errors, warnings } = await loadExceptions([nd]);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, [`${nd}:2: list 'corp' item 'win': os_types [windows] limits the item to hosts of that OS; Okta events have no host.os.type, so it matches nothing and is left out`]);
  assert.deepEqual(lists[0]!.items.map((i) => i.item), ['any']);
});

test("large value lists are not applied to Elastic EQL, threshold and new_terms rules, as in Kibana, with a warning; other rules get them", async () => {
  const d = dir();
  const dashes = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0-10.${i >> 8}.${i & 255}.9`).join('\n');
  writeFileSync(join(d, 'r200.txt'), dashes(200));
  writeFileSync(join(d, 'r201.txt'), dashes(201));
  writeFileSync(join(d, 'words.txt'), 'okta-sync/1.0\n');
  const item = (id: string, list: string, type: string, field: string) => `      - id: ${id}\n        entries: [{ field: ${field}, type: list, operator: included, list: { id: ${list}, type: ${type} } }]\n`;
  writeFileSync(
    join(d, 'l.yml'),
    `lists:\n  - id: big\n    rules: ['*']\n    items:\n${item('small', 'r200.txt', 'ip_range', 'source.ip')}${item('dashes', 'r201.txt', 'ip_range', 'source.ip')}${item('text', 'words.txt', 'text', 'user_agent.original')}`,
  );
  const { lists, errors, warnings } = await loadExceptions([d]);
  assert.deepEqual([errors, warnings], [[], []]);
  const rules = [
    rule('q', eq('eventType', 'a'), { dialect: 'elastic', ruleType: 'query' }),
    rule('e', eq('eventType', 'a'), { dialect: 'elastic', ruleType: 'eql' }),
    rule('t', eq('eventType', 'a'), { dialect: 'elastic', ruleType: 'threshold' }),
    rule('s', eq('eventType', 'a'), { dialect: 'sigma', ruleType: 'detection' }),
  ];
  const attached = attachExceptions(rules, lists);
  assert.deepEqual(attached.rules.map((r) => [r.id, (r.exceptions ?? []).map((x) => x.item)]), [
    ['q', ['small', 'dashes', 'text']],
    ['e', ['small']],
    ['t', ['small']],
    ['s', ['small', 'dashes', 'text']],
  ]);
  assert.deepEqual(attached.warnings, [
    "rule 'Rule e' (eql): exception item 'dashes' of list 'big' is not applied: value list 'r201.txt' has 201 dash-notation ranges (more than 200), and Kibana applies large value lists only to query, ML and indicator-match rules",
    "rule 'Rule e' (eql): exception item 'text' of list 'big' is not applied: value list 'words.txt' is a text list, and Kibana applies large value lists only to query, ML and indicator-match rules",
    "rule 'Rule t' (threshold): exception item 'dashes' of list 'big' is not applied: value list 'r201.txt' has 201 dash-notation ranges (more than 200), and Kibana applies large value lists only to query, ML and indicator-match rules",
    "rule 'Rule t' (threshold): exception item 'text' of list 'big' is not applied: value list 'words.txt' is a text list, and Kibana applies large value lists only to query, ML and indicator-match rules",
  ]);
});

test('error lines never quote the content of a file that is not what it claims (JSON, value lists)', async () => {
  const d = dir();
  writeFileSync(join(d, 'token.json'), '{"kty":"RSA","d":"SECRETPRIVATEEXPONENT0123456789"\nSSWS 00SECRETTOKENabcdef\n');
  writeFileSync(join(d, 'token.txt'), 'OKTA_TOKEN=00SECRETTOKENabcdef\n');
  writeFileSync(join(d, 'use.yml'), `id: u\nrules: ['*']\nitems:\n  - id: u\n    entries: [{ field: source.ip, type: list, operator: included, list: { id: token.txt, type: ip } }]\n  - id: n\n    entries: [{ field: okta.security_context.as.number, type: list, operator: included, list: { id: token, type: long } }]\n`);
  const { errors } = await loadExceptions([d]);
  assert.equal(errors.length, 4);
  for (const e of errors) assert.doesNotMatch(e.message, /SECRET|SSWS|OKTA_TOKEN/);
  assert.deepEqual(errors.map((e) => e.message.replace(`${d}/`, '')), [
    'token.json:1: invalid JSON at position 50: unexpected end of input',
    'token.json:2: invalid JSON at position 0: unexpected token',
    `token.txt:1: not an address or a CIDR (value skipped; first used by ${join(d, 'use.yml')}:4: list 'u' item 'u')`,
    `token.txt:1: not an integer (value skipped; first used by ${join(d, 'use.yml')}:6: list 'u' item 'n')`,
  ]);
});

test('a field no vocabulary knows is a warning naming file, list, item, entry and field', async () => {
  const d = dir();
  const yml = join(d, 'typo.yml');
  writeFileSync(
    yml,
    `lists:
  - id: l
    rules: ['*']
    items:
      - id: p
        entries:
          - { field: user.name, type: match, operator: included, value: x }
          - { field: source.ipp, type: match, operator: excluded, value: 1.2.3.4 }
      - id: raw
        entries: [{ field: actor.alternateId, type: match, operator: included, value: x }]
  - id: forced
    rules: ['*']
    schema: okta
    items:
      - id: q
        entries: [{ field: user.name, type: exists, operator: included }]
`,
  );
  const { errors, warnings } = await loadExceptions([yml]);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, [
    `${yml}:5: list 'l' item 'p': entry 2: field 'source.ipp' is neither an ECS field of the Okta integration nor a LogEvent path: it never has a value here`,
    `${yml}:15: list 'forced' item 'q': entry 1: field 'user.name' is not a LogEvent path (schema: okta): it never has a value here`,
  ]);
});

test('a value-list or list id defined twice is reported with the line of each definition', async () => {
  const d = dir();
  const a = join(d, 'a.yml');
  const b = join(d, 'b.yml');
  writeFileSync(a, `value_lists:\n  admins: { type: keyword, values: [homer] }\n`);
  writeFileSync(b, `lists:\n  - id: x\n    rules: ['*']\n    items: []\nvalue_lists:\n  admins: { type: keyword, values: [marge] }\n`);
  const { errors } = await loadExceptions([a, b]);
  assert.deepEqual(errors.map((e) => e.message), [`${b}:6: value list 'admins' is already defined in ${a}:2; this one is skipped`]);
});

test('examples/exceptions.yml scopes the corporate VPN and Private Relay lists to the proxy/anonymizer rules only', async () => {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const { lists, errors, warnings } = await loadExceptions([join(repo, 'examples', 'exceptions.yml')]);
  assert.deepEqual([errors, warnings], [[], []]);
  const loaded = await loadRules([join(repo, 'rules')]);
  const attached = attachExceptions(loaded.rules, lists);
  assert.deepEqual(attached.warnings, []);
  const byName = new Map(attached.rules.map((r) => [r.name, [...new Set((r.exceptions ?? []).map((x) => x.list))]]));
  // Rules about other behaviour must still see a VPN user's network: a replayed session, a spray.
  assert.deepEqual(byName.get('Okta Session Used from a Second Network'), []);
  assert.deepEqual(byName.get('Okta Sign-In Failures for Many Accounts from One Source'), []);
  for (const [name, used] of byName) {
    if (!/prox|anonymi/i.test(name)) continue;
    assert.ok(used.includes('corporate-vpn'), name);
  }
  assert.deepEqual(byName.get('Okta Sign-In from VPN Anonymizer'), ['corporate-vpn']); // Panther grades Private Relay itself
});

test('expire_time is compared with event time, also for stateful rules: a term excepted before the expiry was never learnt (a documented difference from Kibana)', () => {
  const firstIp = rule('first-ip', eq('eventType', 'user.session.start'), { dialect: 'elastic', ruleType: 'new_terms' }, [
    { type: 'new_terms', fields: [{ name: 'user.name', schema: 'ecs' }, { name: 'source.ip', schema: 'ecs' }], historyMs: 7 * 86_400_000 },
  ]);
  const vpn: Predicate = { type: 'compare', field: { name: 'source.ip', schema: 'ecs' }, op: 'cidr', values: ['165.225.242.0/28'] };
  const list: ExceptionList = {
    id: 'vpn',
    namespaceType: 'single',
    type: 'oktopus',
    file: 'vpn.yml',
    format: 'oktopus',
    selectors: [{ all: true }],
    vocabulary: 'ecs',
    items: [{ list: 'vpn', item: 'vpn', name: 'VPN', predicate: vpn, source: 'vpn.yml:5', expireTime: '2026-11-03T00:00:00.000Z' }],
  };
  const engine = engineFor(attachExceptions([firstIp], [list]).rules);
  const at = (uuid: string, published: string) => oktaEvent({ uuid, published, client: { ipAddress: '165.225.242.5' } });
  engine.push(at('nov1', '2026-11-01T09:00:00.000Z')); // excepted: not counted, not learnt
  engine.push(at('nov2', '2026-11-02T09:00:00.000Z')); // excepted
  engine.push(at('nov4', '2026-11-04T09:00:00.000Z')); // after the expiry: a new term here (Kibana's history search would know it)
  engine.push(at('nov5', '2026-11-05T09:00:00.000Z')); // known since nov4
  assert.deepEqual(alertedUuids(engine), ['nov4']);
  assert.equal(engine.exceptionCounts()[0]!.events, 2);
});
