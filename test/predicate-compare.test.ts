import { test } from 'node:test';
import { timeboxed } from './helpers.js';
import { eventOf as event } from './helpers.js';
import assert from 'node:assert/strict';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { JsonObject } from '../src/event/types.js';
import type { CompareOp, CompareOptions, Predicate, Scalar } from '../src/ir/types.js';

const ctx = { org: 'test' };



/** Matches `values` against one compare predicate, in a worker with a deadline (see timeboxed). */
function timeboxedMatches(ms: number, op: CompareOp, ruleValue: string, values: string[]): Promise<boolean[]> {
  return timeboxed(
    ms,
    async (predicateUrl: string, helpersUrl: string, o: CompareOp, rule: string, docs: string[]) => {
      const { compilePredicate: compileP } = (await import(predicateUrl)) as typeof import('../src/engine/predicate/index.js');
      const { eventOf } = (await import(helpersUrl)) as typeof import('./helpers.js');
      const p = compileP({ type: 'compare', field: { name: 'v', schema: 'okta' }, op: o, values: [rule] }, { org: 'test' });
      return docs.map((v) => p(eventOf({ v })));
    },
    new URL('../src/engine/predicate/index.js', import.meta.url).href,
    new URL('./helpers.js', import.meta.url).href,
    op,
    ruleValue,
    values,
  );
}

function cmp(field: string, op: CompareOp, values: Scalar[], options?: CompareOptions): Predicate {
  return options
    ? { type: 'compare', field: { name: field, schema: 'okta' }, op, values, options }
    : { type: 'compare', field: { name: field, schema: 'okta' }, op, values };
}

function matches(p: Predicate, doc: JsonObject): boolean {
  return compilePredicate(p, ctx)(event(doc));
}

test('eq with string coercion: rule "true" vs JSON true, "true", "TRUE", false, null, missing, object', () => {
  const p = cmp('a', 'eq', ['true']);
  assert.equal(matches(p, { a: true }), true);
  assert.equal(matches(p, { a: 'true' }), true);
  assert.equal(matches(p, { a: 'TRUE' }), true);
  assert.equal(matches(p, { a: false }), false);
  assert.equal(matches(p, { a: null }), false);
  assert.equal(matches(p, {}), false);
  assert.equal(matches(p, { a: { b: 'true' } }), false);
});

test('eq with string coercion: numbers compare by decimal string form', () => {
  assert.equal(matches(cmp('id', 'eq', [4624]), { id: '4624' }), true);
  assert.equal(matches(cmp('id', 'eq', [4624]), { id: 4624 }), true);
  assert.equal(matches(cmp('id', 'eq', ['4624']), { id: 4624 }), true);
  assert.equal(matches(cmp('id', 'eq', [1.5]), { id: '1.5' }), true);
  assert.equal(matches(cmp('id', 'eq', [4624]), { id: '04624' }), false);
  assert.equal(matches(cmp('b', 'eq', [true]), { b: 'True' }), true);
});

test('eq with typed coercion', () => {
  const t = { coerce: 'typed' } as const;
  assert.equal(matches(cmp('a', 'eq', [true], t), { a: true }), true);
  assert.equal(matches(cmp('a', 'eq', [true], t), { a: 'True' }), true);
  assert.equal(matches(cmp('a', 'eq', [true], t), { a: 'yes' }), false);
  assert.equal(matches(cmp('a', 'eq', [true], t), { a: 1 }), false);
  assert.equal(matches(cmp('a', 'eq', [false], t), { a: 'FALSE' }), true);
  assert.equal(matches(cmp('n', 'eq', [5], t), { n: 5 }), true);
  assert.equal(matches(cmp('n', 'eq', [5], t), { n: '5' }), true);
  assert.equal(matches(cmp('n', 'eq', [5], t), { n: '5.0' }), false);
  assert.equal(matches(cmp('n', 'eq', ['5'], t), { n: 5 }), false);
  assert.equal(matches(cmp('n', 'eq', ['5'], t), { n: '5' }), true);
  assert.equal(matches(cmp('s', 'eq', ['true'], t), { s: true }), false);
  assert.equal(matches(cmp('s', 'eq', ['x', 7, true], t), { s: 7 }), true);
  assert.equal(matches(cmp('s', 'contains', ['4'], t), { s: 1234 }), false);
  assert.equal(matches(cmp('s', 'contains', ['4'], t), { s: '1234' }), true);
});

test('case-insensitive by default, caseSensitive honoured', () => {
  assert.equal(matches(cmp('a', 'eq', ['Admin']), { a: 'ADMIN' }), true);
  assert.equal(matches(cmp('a', 'eq', ['Admin'], { caseSensitive: true }), { a: 'admin' }), false);
  assert.equal(matches(cmp('a', 'eq', ['Admin'], { caseSensitive: true }), { a: 'Admin' }), true);
  assert.equal(matches(cmp('a', 'contains', ['MIN']), { a: 'xadminx' }), true);
  assert.equal(matches(cmp('a', 'contains', ['MIN'], { caseSensitive: true }), { a: 'xadminx' }), false);
  assert.equal(matches(cmp('a', 'wildcard', ['AD*N']), { a: 'admin' }), true);
  assert.equal(matches(cmp('a', 'wildcard', ['AD*N'], { caseSensitive: true }), { a: 'admin' }), false);
});

test('arrays: any element matches; nested arrays flattened', () => {
  const doc = { target: [{ displayName: 'Alice' }, { displayName: 'Okta Admin Console' }] };
  assert.equal(matches(cmp('target.displayName', 'eq', ['okta admin console']), doc), true);
  assert.equal(matches(cmp('target.displayName', 'eq', ['Bob']), doc), false);
  assert.equal(matches(cmp('tags', 'eq', ['b']), { tags: ['a', ['b', 'c']] }), true);
  assert.equal(matches(cmp('tags', 'eq', ['z']), { tags: [] }), false);
  assert.equal(matches(cmp('ips', 'eq', ['1']), { ips: [null, 1] }), true);
});

test('all: every rule value must be matched by some element', () => {
  const doc = { target: [{ displayName: 'Alice' }, { displayName: 'Okta Admin Console' }] };
  assert.equal(matches(cmp('target.displayName', 'eq', ['alice', 'okta admin console'], { all: true }), doc), true);
  assert.equal(matches(cmp('target.displayName', 'eq', ['alice', 'bob'], { all: true }), doc), false);
  assert.equal(matches(cmp('cmd', 'contains', ['-a', '-b'], { all: true }), { cmd: 'x -b -a' }), true);
  assert.equal(matches(cmp('cmd', 'contains', ['-a', '-b'], { all: true }), { cmd: 'x -a' }), false);
  assert.equal(matches(cmp('cmd', 'contains', ['-a', '-b'], { all: true }), {}), false);
});

test('contains / startswith / endswith, including empty needles', () => {
  assert.equal(matches(cmp('u', 'contains', ['/reports/password-health/']), { u: '/api/v1/reports/password-health/x' }), true);
  assert.equal(matches(cmp('u', 'startswith', ['/api']), { u: '/API/v1' }), true);
  assert.equal(matches(cmp('u', 'startswith', ['/v1']), { u: '/api/v1' }), false);
  assert.equal(matches(cmp('u', 'endswith', ['.EXE']), { u: 'cmd.exe' }), true);
  assert.equal(matches(cmp('u', 'contains', ['']), { u: '' }), true);
  assert.equal(matches(cmp('u', 'contains', ['']), {}), false);
  assert.equal(matches(cmp('u', 'contains', ['x', 'y', 'z']), { u: 'aza' }), true);
});

test('wildcard: fast paths and the general glob', () => {
  const w = (pattern: string, value: string) => matches(cmp('v', 'wildcard', [pattern]), { v: value });
  assert.equal(w('abc', 'ABC'), true);
  assert.equal(w('abc', 'abcd'), false);
  assert.equal(w('ab*', 'abzzz'), true);
  assert.equal(w('*yz', 'xxyz'), true);
  assert.equal(w('*m*', 'xmx'), true);
  assert.equal(w('*', ''), true);
  assert.equal(w('a?c', 'abc'), true);
  assert.equal(w('a?c', 'ac'), false);
  assert.equal(w('a?c', 'abbc'), false);
  assert.equal(w('a*b*c', 'aXbYc'), true);
  assert.equal(w('a*b*c', 'aXcYb'), false);
  assert.equal(w('*a*b?', 'zzazzbq'), true);
  assert.equal(w('*a*b?', 'zzazzb'), false);
  assert.equal(w('ab*ba', 'aba'), false);
  assert.equal(w('ab*ba', 'abba'), true);
  assert.equal(w('?*', ''), false);
  assert.equal(w('x?y', 'x\u{1F600}y'), true, '? matches one code point (a surrogate pair)');
  assert.equal(w('*?', '\u{1F600}'), true);
});

test('wildcard escapes: \\* \\? \\\\ are literal', () => {
  const w = (pattern: string, value: string) => matches(cmp('v', 'wildcard', [pattern]), { v: value });
  assert.equal(w('a\\*b', 'a*b'), true);
  assert.equal(w('a\\*b', 'axxb'), false);
  assert.equal(w('a\\?b', 'a?b'), true);
  assert.equal(w('a\\?b', 'axb'), false);
  assert.equal(w('C:\\\\Windows\\\\*', 'c:\\windows\\system32'), true);
  assert.equal(w('C:\\Windows', 'C:\\Windows'), true, 'a backslash before an ordinary character is literal');
  assert.equal(w('end\\', 'end\\'), true);
});

test('wildcard glob runs in linear time on adversarial input', { timeout: 10000 }, async () => {
  const results = await timeboxedMatches(8000, 'wildcard', '*a*a*a*a*a*a*a*a*b', ['a'.repeat(50_000), 'a'.repeat(50_000) + 'b']);
  assert.deepEqual(results, [false, true]);
});

test('regex: RE2 search semantics, flags, case-sensitive unless i', () => {
  const r = (pattern: string, value: string, flags?: string) =>
    matches(cmp('v', 'regex', [pattern], flags ? { flags } : undefined), { v: value });
  assert.equal(r('b+c', 'abbbcd'), true, 'unanchored search');
  assert.equal(r('^b+c', 'abbbcd'), false);
  assert.equal(r('ADMIN', 'admin'), false, 'regex ignores the default case-insensitivity');
  assert.equal(r('ADMIN', 'admin', 'i'), true);
  assert.equal(r('^b$', 'a\nb', 'm'), true);
  assert.equal(r('^b$', 'a\nb'), false);
  assert.equal(r('a.b', 'a\nb', 's'), true);
  assert.equal(r('a.b', 'a\nb'), false);
  assert.equal(matches(cmp('n', 'regex', ['^46\\d\\d$']), { n: 4624 }), true, 'numbers by string form');
  assert.equal(matches(cmp('n', 'regex', ['^x$', '^y$']), { n: 'y' }), true);
});

test('regex: hostile pattern (a+)+$ runs in linear time on 50k characters', { timeout: 10000 }, async () => {
  const results = await timeboxedMatches(8000, 'regex', '(a+)+$', ['a'.repeat(50_000) + '!', 'a'.repeat(50_000)]);
  assert.deepEqual(results, [false, true]);
});

test('regex: lookaround and backreferences are rejected with the pattern and the reason', () => {
  assert.throws(
    () => compilePredicate(cmp('v', 'regex', ['foo(?=x)']), ctx),
    (e: Error) => e.message.includes('foo(?=x)') && /lookahead/.test(e.message),
  );
  assert.throws(
    () => compilePredicate(cmp('v', 'regex', ['(?=x)']), ctx),
    (e: Error) => e.message === 'regex /(?=x)/ cannot be compiled: lookahead/lookbehind assertions are not supported by RE2 (linear-time matching)',
  );
  assert.throws(
    () => compilePredicate(cmp('v', 'regex', ['(?<!a)b']), ctx),
    (e: Error) => e.message.includes('(?<!a)b') && /lookbehind/.test(e.message),
  );
  assert.throws(
    () => compilePredicate(cmp('v', 'regex', ['(a)\\1']), ctx),
    (e: Error) => /backreference/.test(e.message),
  );
  assert.throws(() => compilePredicate(cmp('v', 'regex', ['a'], { flags: 'x' }), ctx), /unknown flag 'x'/);
});

test('cidr: IPv4, IPv6, mapped addresses, non-IPs', () => {
  const c = (nets: string[], ip: unknown) => matches(cmp('ip', 'cidr', nets), { ip: ip as string });
  assert.equal(c(['10.0.0.0/8'], '10.1.2.3'), true);
  assert.equal(c(['10.0.0.0/8'], '11.1.2.3'), false);
  assert.equal(c(['10.0.0.0/8', '192.168.0.0/16'], '192.168.4.4'), true);
  assert.equal(c(['2001:db8::/32'], '2001:db8::1'), true);
  assert.equal(c(['2001:db8::/32'], '2001:db9::1'), false);
  assert.equal(c(['10.0.0.0/8'], '::ffff:10.9.9.9'), true);
  assert.equal(c(['::ffff:0:0/96'], '1.2.3.4'), true);
  assert.equal(c(['1.2.3.4'], '1.2.3.4'), true);
  assert.equal(c(['10.0.0.0/8'], 'not an ip'), false);
  assert.equal(c(['10.0.0.0/8'], '0x0a.1'), false);
  assert.equal(c(['10.0.0.0/8'], 167837953), false);
  assert.equal(matches(cmp('chain', 'cidr', ['10.0.0.0/8']), { chain: [{ ip: '8.8.8.8' }, { ip: '10.0.0.1' }] } as JsonObject), false);
  assert.equal(matches(cmp('chain.ip', 'cidr', ['10.0.0.0/8']), { chain: [{ ip: '8.8.8.8' }, { ip: '10.0.0.1' }] }), true);
  assert.throws(() => compilePredicate(cmp('ip', 'cidr', ['10.0.0.0/99']), ctx), /10\.0\.0\.0\/99/);
  assert.throws(() => compilePredicate(cmp('ip', 'cidr', ['nonsense']), ctx), /nonsense/);
});

test('lt/lte/gt/gte: numeric, numeric strings, ISO dates lexically', () => {
  assert.equal(matches(cmp('n', 'gt', [10]), { n: 11 }), true);
  assert.equal(matches(cmp('n', 'gt', [10]), { n: 10 }), false);
  assert.equal(matches(cmp('n', 'gte', [10]), { n: '10' }), true);
  assert.equal(matches(cmp('n', 'lt', [10]), { n: '9.5' }), true);
  assert.equal(matches(cmp('n', 'lt', [10]), { n: '100' }), false, 'numeric, not lexical, for numeric strings');
  assert.equal(matches(cmp('n', 'lte', ['10']), { n: 10 }), true);
  assert.equal(matches(cmp('n', 'lt', [10]), { n: 'abc' }), false);
  assert.equal(matches(cmp('n', 'lt', [10]), { n: true }), false);
  assert.equal(matches(cmp('t', 'gte', ['2024-01-01']), { t: '2024-03-05T10:00:00Z' }), true);
  assert.equal(matches(cmp('t', 'lt', ['2024-01-01']), { t: '2023-12-31T23:59:59Z' }), true);
  assert.equal(matches(cmp('t', 'lt', ['2024-01-01']), { t: '2024-01-01T00:00:00Z' }), false);
  assert.equal(matches(cmp('n', 'gt', [1, 100], { all: true }), { n: [50, 500] }), true);
  assert.throws(() => compilePredicate(cmp('n', 'gt', [true]), ctx), /boolean/);
});
