import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventOf, oktaEvent } from './helpers.js';
import { compileExpr, functionNames } from '../src/engine/expr/index.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import { resolveField } from '../src/schema/index.js';
import type { JsonObject } from '../src/event/types.js';
import type { ExprSemantics, Scalar, ValueExpr } from '../src/ir/types.js';

const ctx = { org: 'test' };
type Sem = ExprSemantics;

/* ---------------------------------- IR builders ---------------------------------- */

const lit = (value: Scalar | null): ValueExpr => ({ type: 'literal', value });
const fld = (name: string, optional?: boolean): ValueExpr =>
  optional ? { type: 'field', field: { name, schema: 'okta' }, optional } : { type: 'field', field: { name, schema: 'okta' } };
const L = (v: ValueExpr | Scalar | null): ValueExpr => (v !== null && typeof v === 'object' ? v : lit(v));
const call = (fn: string, ...args: (ValueExpr | Scalar | null)[]): ValueExpr => ({ type: 'call', fn, args: args.map(L) });
const calli = (fn: string, ...args: (ValueExpr | Scalar | null)[]): ValueExpr => ({ type: 'call', fn, args: args.map(L), caseInsensitive: true });
const cmp = (op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte', left: ValueExpr | Scalar | null, right: ValueExpr | Scalar | null, ci = false): ValueExpr => ({
  type: 'compare',
  op,
  left: L(left),
  right: L(right),
  caseInsensitive: ci,
});
const arith = (op: '+' | '-' | '*' | '/' | '%', left: ValueExpr | Scalar | null, right: ValueExpr | Scalar | null): ValueExpr => ({
  type: 'arith',
  op,
  left: L(left),
  right: L(right),
});
const and = (...args: (ValueExpr | Scalar | null)[]): ValueExpr => ({ type: 'and', args: args.map(L) });
const or = (...args: (ValueExpr | Scalar | null)[]): ValueExpr => ({ type: 'or', args: args.map(L) });
const not = (arg: ValueExpr | Scalar | null): ValueExpr => ({ type: 'not', arg: L(arg) });
const inSet = (arg: ValueExpr | Scalar | null, values: (ValueExpr | Scalar | null)[], ci = false): ValueExpr => ({
  type: 'in',
  arg: L(arg),
  values: values.map(L),
  caseInsensitive: ci,
});
const like = (arg: ValueExpr | Scalar | null, patterns: string[], ci = false): ValueExpr => ({
  type: 'match',
  op: 'wildcard',
  arg: L(arg),
  patterns: patterns.map(lit),
  caseInsensitive: ci,
});
const regex = (arg: ValueExpr | Scalar | null, patterns: string[], ci = false): ValueExpr => ({
  type: 'match',
  op: 'regex',
  arg: L(arg),
  patterns: patterns.map(lit),
  caseInsensitive: ci,
});

/** Value of an expression for a document (okta schema fields). */
function val(e: ValueExpr, doc: JsonObject = {}, semantics: Sem = 'elasticsearch'): unknown {
  return compileExpr(e, (f) => resolveField(f, ctx), semantics)(eventOf(doc));
}
const py = (e: ValueExpr, doc: JsonObject = {}) => val(e, doc, 'python');
const both = (e: ValueExpr, expected: unknown, doc: JsonObject = {}) => {
  assert.deepEqual(val(e, doc, 'elasticsearch'), expected, `elasticsearch: ${JSON.stringify(e)}`);
  assert.deepEqual(val(e, doc, 'python'), expected, `python: ${JSON.stringify(e)}`);
};
const compileError = (e: ValueExpr, re: RegExp, semantics: Sem = 'elasticsearch') =>
  assert.throws(() => compileExpr(e, (f) => resolveField(f, ctx), semantics), re);

/* ---------------------------------- logic ---------------------------------- */

test('three-valued and/or/not truth tables', () => {
  const vals = [true, false, null] as const;
  const kleeneAnd = (a: boolean | null, b: boolean | null) => (a === false || b === false ? false : a === null || b === null ? null : true);
  const kleeneOr = (a: boolean | null, b: boolean | null) => (a === true || b === true ? true : a === null || b === null ? null : false);
  for (const a of vals) {
    both(not(a), a === null ? null : !a);
    for (const b of vals) {
      both(and(a, b), kleeneAnd(a, b));
      both(or(a, b), kleeneOr(a, b));
    }
  }
  both(and(true, true, null), null);
  both(and(true, null, false), false);
  both(or(false, null, true), true);
  both(or(false, false, false), false);
});

test('logic over missing fields and non-booleans', () => {
  both(and(true, fld('missing')), null);
  both(or(fld('missing'), true), true);
  both(not(fld('missing')), null);
  // Python truthiness; Elasticsearch: non-booleans are null
  assert.equal(py(and('x', 1)), true);
  assert.equal(py(or('', 0)), false);
  assert.equal(py(not('')), true);
  assert.equal(val(and('x', true)), null);
  assert.equal(val(not(1)), null);
});

/* ---------------------------------- comparisons ---------------------------------- */

test('null literal comparisons are is-null tests, never null', () => {
  both(cmp('eq', null, null), true);
  both(cmp('neq', null, null), false);
  for (const v of [true, 1, 'foo', 1.5, false, 0, '']) {
    both(cmp('eq', v, null), false);
    both(cmp('neq', v, null), true);
    both(cmp('eq', null, v), false);
    both(cmp('neq', null, v), true);
  }
  both(cmp('eq', fld('missing'), null), true);
  both(cmp('neq', fld('missing'), null), false);
  both(cmp('eq', fld('a'), null), true, { a: null });
  both(cmp('eq', fld('a'), null), false, { a: 'x' });
  // an empty / all-null array is null in Elasticsearch (not indexed), a value in Python
  assert.equal(val(cmp('eq', fld('a'), null), { a: [] }), true);
  assert.equal(val(cmp('eq', fld('a'), null), { a: [null] }), true);
  assert.equal(py(cmp('eq', fld('a'), null), { a: [] }), false);
});

test('ordering against null is null', () => {
  for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
    for (const v of [null, 1, 'foo', 1.5]) {
      both(cmp(op, null, v), null);
      both(cmp(op, v, null), null);
    }
  }
  both(cmp('eq', fld('missing'), 'x'), null);
  both(cmp('neq', fld('missing'), 'x'), null);
});

test('numbers and strings compare; case per node', () => {
  both(cmp('lt', -3, 4), true);
  both(cmp('gte', 3, 4.5), false);
  both(cmp('eq', 3, 3.0), true);
  both(cmp('eq', 'Foo', 'foo'), false);
  both(cmp('eq', 'Foo', 'foo', true), true);
  both(cmp('lt', 'Foo', 'foo'), true);
  both(cmp('lt', 'Foo', 'foo', true), false);
  both(cmp('lte', 'Foo', 'foo', true), true);
  both(cmp('gt', 'foo', 'Foo'), true);
  both(cmp('gt', 'Foo', 'Bar'), true);
  both(cmp('eq', true, true), true);
  both(cmp('lt', false, true), true);
});

test('mixed types: Python is null, Elasticsearch coerces like a term query', () => {
  assert.equal(py(cmp('eq', '1', 1)), null);
  assert.equal(py(cmp('eq', true, 1)), null);
  assert.equal(py(cmp('lt', 'a', 1)), null);
  assert.equal(val(cmp('eq', '701', 701)), true);
  assert.equal(val(cmp('eq', 701, '701.0')), true);
  assert.equal(val(cmp('eq', 'abc', 701)), false);
  assert.equal(val(cmp('neq', 'abc', 701)), true);
  assert.equal(val(cmp('lt', '5', 10)), true);
  assert.equal(val(cmp('lt', 'abc', 10)), null);
  assert.equal(val(cmp('eq', 'true', true)), true);
  assert.equal(val(cmp('eq', true, 1)), false);
  assert.equal(val(cmp('eq', fld('o'), 'x'), { o: { a: 1 } }), null);
});

test('multi-valued fields: any element (ES), type mismatch (Python)', () => {
  const doc = { tags: ['alpha', 'Beta', null], n: [1, 5, 9] };
  assert.equal(val(cmp('eq', fld('tags'), 'Beta'), doc), true);
  assert.equal(val(cmp('eq', fld('tags'), 'beta'), doc), false);
  assert.equal(val(cmp('eq', fld('tags'), 'beta', true), doc), true);
  assert.equal(val(cmp('neq', fld('tags'), 'Beta'), doc), false, 'must_not term: no element equal');
  assert.equal(val(cmp('neq', fld('tags'), 'gamma'), doc), true);
  assert.equal(val(cmp('gt', fld('n'), 8), doc), true);
  assert.equal(val(cmp('gt', fld('n'), 9), doc), false);
  assert.equal(val(cmp('eq', fld('n'), fld('m')), { n: [1, 2], m: [3, 2] }), true);
  assert.equal(val(cmp('eq', fld('e'), 'x'), { e: [] }), null);
  assert.equal(py(cmp('eq', fld('tags'), 'Beta'), doc), null);
  assert.equal(py(cmp('neq', fld('tags'), 'Beta'), doc), null);
  assert.equal(py(cmp('eq', fld('n'), fld('m')), { n: [1, 2], m: [1, 2] }), true);
  assert.equal(py(cmp('neq', fld('n'), fld('m')), { n: [1, 2], m: [1, 3] }), true);
  // Okta arrays traversed: target[].alternateId
  const target = { target: [{ alternateId: 'a@x.com' }, { alternateId: 'b@x.com' }] };
  assert.equal(val(cmp('eq', fld('target.alternateId'), 'b@x.com'), target), true);
});

test('array indexes in field paths: a[1], a[0].b, nested, out of range, case-insensitive keys', () => {
  // Conformance: `registry where bytes_written_string_list[1] == "EN"` (Python, case-insensitive).
  const doc = { list: ['en-US', 'en'], top: [{ middle: { abc: 0 } }, { middle: { abc: 123 } }], m: [[1, 2], [3, 4]], s: 'str', o: { k: 1 } };
  assert.equal(py(cmp('eq', fld('list[1]'), 'EN', true), doc), true);
  assert.equal(py(cmp('eq', fld('list[1]'), 'EN'), doc), false);
  both(fld('list[0]'), 'en-US', doc);
  both(fld('Top[1].Middle.abc'), 123, doc);
  both(fld('top[0].middle.abc'), 0, doc);
  both(fld('m[1][0]'), 3, doc);
  both(fld('list[2]'), null, doc);
  both(fld('s[0]'), null, doc);
  both(fld('o[0]'), null, doc);
  both(fld('missing[0].x'), null, doc);
  both(cmp('eq', fld('top[1].middle.abc'), 123), true, doc);
  // Without an index a path still traverses arrays (every value).
  assert.deepEqual(val(fld('top.middle.abc'), doc), [0, 123]);
});

test('in: membership, null, case, arrays, dynamic members', () => {
  both(inSet(345, [123, 345]), true);
  both(not(inSet(345, [123, 456])), true);
  both(inSet('foo', ['Foo', 'Bar']), false);
  both(inSet('foo', ['Foo', 'Bar'], true), true);
  both(inSet(null, ['a', null]), null);
  both(inSet(fld('missing'), ['a']), null);
  both(inSet('a', [null, 'b']), false);
  both(inSet('a', [fld('x'), 'b']), true, { x: 'a' });
  both(inSet('a', [fld('x'), 'b']), false, { x: 'c' });
  assert.equal(val(inSet(fld('t'), ['b', 'z']), { t: ['a', 'b'] }), true);
  assert.equal(val(inSet(fld('t'), ['z']), { t: ['a', 'b'] }), false);
  assert.equal(py(inSet(fld('t'), ['b']), { t: ['a', 'b'] }), null);
  assert.equal(val(inSet('701', [701])), true);
  assert.equal(py(inSet('701', [701])), false);
});

/* ---------------------------------- patterns ---------------------------------- */

test('wildcard match: glob on the whole value, case per flag, list OR', () => {
  both(like('Foo.exe', ['*.exe']), true);
  both(like('Foo.exe', ['*.EXE']), false);
  both(like('Foo.exe', ['*.EXE'], true), true);
  both(like('Foo.exe', ['Bar*', 'F*o*']), true);
  both(like('Foo.exe', ['Foo']), false);
  both(like(fld('missing'), ['*']), null);
  // ? is a wildcard in Elasticsearch, a literal in the Python engine
  assert.equal(val(like('abc', ['a?c'])), true);
  assert.equal(py(like('abc', ['a?c'])), false);
  assert.equal(py(like('a?c', ['a?c'])), true);
  assert.equal(val(like('a*c', ['a\\*c'])), true);
  assert.equal(val(like('abc', ['a\\*c'])), false);
  // arrays and non-strings
  assert.equal(val(like(fld('t'), ['b*']), { t: ['abc', 'bcd'] }), true);
  assert.equal(py(like(fld('t'), ['b*']), { t: ['abc', 'bcd'] }), null);
  assert.equal(val(like(fld('n'), ['7*']), { n: 701 }), true);
  assert.equal(py(like(fld('n'), ['7*']), { n: 701 }), null);
});

test('regex match: whole value in Elasticsearch, re.match in Python', () => {
  assert.equal(val(regex('foobar', ['foo'])), false);
  assert.equal(py(regex('foobar', ['foo'])), true);
  both(regex('foobar', ['f.*r']), true);
  both(regex('xfoobar', ['foo.*']), false);
  both(regex('FOO', ['foo']), false);
  both(regex('FOO', ['foo'], true), true);
  both(regex('a\nb', ['a.b']), true);
  both(regex('999', ['[a-z]{3}', '[9]{3}']), true);
  both(regex(null, ['.*']), null);
  compileError(regex('x', ['(?=a)']), /lookahead/);
  compileError({ type: 'match', op: 'regex', arg: lit('x'), patterns: [fld('p')] }, /constant string/);
});

/* ---------------------------------- arithmetic ---------------------------------- */

test('arithmetic: integer division, modulo sign, nulls, division by zero', () => {
  both(arith('+', 7, 3), 10);
  both(arith('-', 7, -3), 10);
  both(arith('*', -7, 3.5), -24.5);
  both(arith('/', 7, 3), 2);
  both(arith('/', 7, 2.5), 2.8);
  both(arith('/', 7, 0), null);
  both(arith('%', 7, 0), null);
  both(arith('%', 7, 3), 1);
  both(arith('+', null, 3), null);
  both(arith('+', '1', 3), null);
  both(arith('+', true, 3), null);
  assert.equal(val(arith('/', -7, 2)), -3, 'Java truncates');
  assert.equal(py(arith('/', -7, 2)), -4, 'Python floors');
  assert.equal(val(arith('%', -10, 6)), -4);
  assert.equal(py(arith('%', -10, 6)), 2);
  assert.equal(val(arith('%', 10, -6)), 4);
  both(cmp('eq', arith('+', arith('*', 1, 2), arith('/', 10, 2)), 7), true);
  both({ type: 'neg', arg: fld('n') }, -4, { n: 4 });
  both({ type: 'neg', arg: lit('x') }, null);
  assert.equal(val(arith('+', fld('n'), 1), { n: [9, 3] }), 4, 'first doc value (smallest)');
  assert.equal(py(arith('+', fld('n'), 1), { n: [9, 3] }), null);
});

test('math functions', () => {
  both(call('add', 4, 0.5), 4.5);
  both(call('subtract', 10, 2), 8);
  both(call('multiply', -2, -2), 4);
  both(call('divide', 4, 3), 1);
  both(call('divide', 0.5, 4), 0.125);
  both(call('divide', 4, null), null);
  both(call('modulo', 10, 6), 4);
  assert.equal(val(call('modulo', -10, -6)), -4);
  both(call('add', fld('a'), fld('b')), 6, { a: 4, b: 2 });
  compileError(call('add', 1), /add\(\) takes 2 arguments, got 1/);
  compileError(call('add', 'x', 1), /add\(\): argument 1 must be a number/);
});

/* ---------------------------------- string functions ---------------------------------- */

test('startsWith / endsWith / stringContains: case, nulls, arrays', () => {
  both(call('startsWith', 'regsvr32.exe', 'regsvr32'), true);
  both(call('startsWith', 'regsvr32.exe', 'Regsvr32'), false);
  both(calli('startsWith', 'regsvr32.exe', 'Regsvr32'), true);
  both(call('startsWith', '', ''), true);
  both(call('startsWith', null, 'x'), null);
  both(call('startsWith', 'x', null), null);
  both(call('endsWith', 'FooBarBaz', 'Baz'), true);
  both(call('endsWith', 'FooBarBaz', 'baz'), false);
  both(calli('endsWith', 'FooBarBaz', 'baz'), true);
  both(call('endsWith', null, null), null);
  both(call('stringContains', 'start regsvr32.exe', 'regsvr32'), true);
  both(call('stringContains', 'start regsvr32.exe', 'Regsvr32'), false);
  both(calli('stringContains', 'start regsvr32.exe', 'Regsvr32'), true);
  assert.equal(val(call('stringContains', null, 'x')), null);
  assert.equal(py(call('stringContains', null, 'x')), false, 'Python returns False for non-strings');
  assert.equal(val(call('endsWith', fld('t'), '.exe'), { t: ['a.dll', 'b.exe'] }), true);
  assert.equal(val(call('endsWith', fld('t'), '.sys'), { t: ['a.dll', 'b.exe'] }), false);
  assert.equal(py(call('endsWith', fld('t'), '.exe'), { t: ['a.dll', 'b.exe'] }), null);
  assert.equal(val(call('startsWith', fld('n'), '7'), { n: 701 }), null);
  assert.equal(val({ type: 'call', fn: 'startsWith~', args: [lit('ABC'), lit('ab')] }), true, 'a ~ suffix on the name');
  compileError(call('startsWith', 1, 'FOO'), /argument 1 must be a string/);
  compileError(call('startsWith', 'FOO', 123), /argument 2 must be a string/);
  compileError(call('startsWith'), /startsWith\(\) takes 2 arguments, got 0/);
});

test('between: greedy, case, not found per engine, nulls', () => {
  const path = 'C:\\Windows\\System32\\cmd.exe';
  both(call('between', path, 'System32\\', '.exe'), 'cmd');
  both(calli('between', path, 'system32\\', '.EXE'), 'cmd');
  both(call('between', path, '\\', '\\', false), 'Windows');
  both(call('between', path, '\\', '\\', true), 'Windows\\System32');
  both(call('between', 'welcome to the planet', 'welcome', 'planet'), ' to the ');
  both(call('between', 'welcome to the planet', '', '', true), 'welcome to the planet');
  both(call('between', 'welcome to the planet', '', '', false), '');
  both(call('between', null, 'a', 'b'), null);
  both(call('between', 'abc', null, 'b'), null);
  assert.equal(val(call('between', path, 'system32\\', '.exe')), '', 'Elasticsearch: not found is ""');
  assert.equal(py(call('between', path, 'workspace\\', '.exe')), null, 'Python: not found is null');
  assert.equal(val(call('between', '', '', '')), '');
  compileError(call('between', 'a', 'b'), /between\(\) takes 3 to 4 arguments, got 2/);
  compileError(call('between', 'a', 'b', 'c', 'yes'), /argument 4 must be a boolean/);
});

test('indexOf: start positions per engine, case, nulls', () => {
  const d = 'subdomain.example.com';
  both(call('indexOf', d, 'd'), 3);
  both(call('indexOf', d, 'D'), null);
  both(calli('indexOf', d, 'D'), 3);
  both(call('indexOf', d, '.', 9), 9);
  both(call('indexOf', d, '.', 10), 17);
  both(call('indexOf', d, ''), 0);
  both(call('indexOf', d, '', 10), 10);
  both(call('indexOf', d, 'z'), null);
  both(call('indexOf', d, '.', 30), null);
  both(call('indexOf', null, '.'), null);
  both(call('indexOf', d, null), null);
  assert.equal(val(call('indexOf', d, '.', -6)), 9, 'negative start is 0');
  assert.equal(py(call('indexOf', d, '.', -6)), 17, 'negative start counts from the end');
  assert.equal(val(call('indexOf', d, '.', null)), null);
  assert.equal(py(call('indexOf', d, '.', null)), 9);
});

test('length: strings, arrays (Python), nulls', () => {
  both(call('length', 'explorer.exe'), 12);
  both(call('length', ''), 0);
  both(call('length', null), null);
  both(call('length', fld('missing')), null);
  assert.equal(py(call('length', fld('t')), { t: ['a', 'b', 'c'] }), 3);
  assert.equal(val(call('length', fld('t')), { t: ['bbb', 'a'] }), 1, 'first doc value: "a"');
  assert.equal(val(call('length', '😀')), 2, 'UTF-16 units');
  assert.equal(py(call('length', '😀')), 1, 'code points');
  compileError(call('length', 'a', 'b'), /length\(\) takes 1 argument, got 2/);
});

test('substring: Python slicing with negative positions', () => {
  const s = 'hello world';
  both(call('substring', s, 0, 5), 'hello');
  both(call('substring', s, 6), 'world');
  both(call('substring', s, 5, -1), ' worl');
  both(call('substring', s, -5), 'world');
  both(call('substring', s, -5, -1), 'worl');
  both(call('substring', s, -60, 5), 'hello');
  both(call('substring', s, 0, 500), s);
  both(call('substring', s, 8, 3), '');
  both(call('substring', s, null, null), s);
  both(call('substring', s, null, 5), 'hello');
  both(call('substring', null, 5), null);
  both(call('substring', 'start regsvr32.exe', -4, -1), '.ex');
});

test('concat: string forms, null makes null', () => {
  both(call('concat', 'a', '||', 1, '||', true, '||', 1.5), 'a||1||true||1.5');
  both(call('concat', 'regsvr32.exe'), 'regsvr32.exe');
  both(call('concat', null), null);
  both(call('concat', 'a', null, 'b'), null);
  both(call('concat', fld('a'), '-', fld('b')), 'x-2', { a: 'x', b: 2 });
  both(call('concat', fld('a'), '-', fld('missing')), null, { a: 'x' });
  assert.equal(py(call('concat', fld('t')), { t: ['a'] }), null, 'Python: a list is not a scalar');
  compileError(call('concat'), /concat\(\) takes at least 1 argument/);
});

test('number and string conversions', () => {
  both(call('number', '1337'), 1337);
  both(call('number', '42.5'), 42.5);
  both(call('number', '-3.14'), -3.14);
  both(call('number', '+314', 10), 314);
  both(call('number', '0x1337'), 4919);
  both(call('number', '0x1337', 16), 4919);
  both(call('number', '0xdeadbeef', null), 3735928559);
  both(call('number', 'deadbeef', 16), 3735928559);
  both(call('number', '052403', 8), 21763);
  both(call('number', '52403', 7), 12890);
  both(call('number', '  1337  '), 1337);
  both(call('number', '1337', null), 1337);
  both(call('number', null), null);
  both(call('number', ''), null);
  both(call('number', 'abc'), null);
  both(call('number', '19', 8), null);
  both(call('number', fld('n')), 5, { n: 5 });
  compileError(call('number', 1), /number\(\): argument 1 must be a string/);
  compileError(call('number', true), /argument 1 must be a string/);
  compileError(call('number'), /number\(\) takes 1 to 2 arguments, got 0/);
  both(call('string', 42), '42');
  both(call('string', 42.5), '42.5');
  both(call('string', true), 'true');
  both(call('string', 'x'), 'x');
  both(call('string', null), null);
  both(call('concat', cmp('eq', arith('-', 1000, call('length', 'hello')), 995), '...'), 'true...');
});

test('cidrMatch: IPv4, IPv6, lists, nulls, invalid networks', () => {
  const ip = (v: string | null) => ({ a: v });
  both(call('cidrMatch', fld('a'), '192.168.0.0/16'), true, ip('192.168.152.12'));
  both(call('cidrMatch', fld('a'), '10.0.0.0/8', '192.168.0.0/16'), true, ip('192.168.152.12'));
  both(call('cidrMatch', fld('a'), '10.0.0.0/8', '10.128.0.0/9'), false, ip('192.168.152.12'));
  both(call('cidrMatch', fld('a'), '2001:db8::/32'), true, ip('2001:db8::1'));
  both(call('cidrMatch', fld('a'), '10.0.0.0/8'), true, ip('::ffff:10.1.2.3'));
  both(call('cidrMatch', fld('a'), '10.0.0.0/8'), false, ip('not an ip'));
  assert.equal(val(call('cidrMatch', fld('a'), '10.0.0.0/8')), null);
  assert.equal(py(call('cidrMatch', fld('a'), '10.0.0.0/8')), false);
  both(call('cidrMatch', fld('a'), null), null, ip('10.1.1.1'));
  assert.equal(val(call('cidrMatch', fld('a'), '10.0.0.0/8'), { a: ['1.1.1.1', '10.0.0.1'] }), true);
  compileError(call('cidrMatch', fld('a'), '10.0.0.0/33'), /cidr '10.0.0.0\/33'/);
  compileError(call('cidrMatch', fld('a'), fld('b')), /cidrMatch: argument 2 must be a constant/);
  compileError(call('cidrMatch', fld('a')), /cidrMatch\(\) takes at least 2 arguments/);
});

test('wildcard / match / matchLite functions (Python flavour)', () => {
  both(call('wildcard', 'Foo', 'F*o*o*'), true);
  both(call('wildcard', 'Foo', '*Bar*', 'Baz*'), false);
  both(call('wildcard', 'Baz', 'Foo*', '*Bar*', 'Baz*'), true);
  both(call('wildcard', 'foo', 'F*o*o*'), false);
  both(calli('wildcard', 'FOO', 'f*o*o*'), true);
  both(call('wildcard', null, 'f*'), null);
  both(call('match', 'foo', '[a-z]{3}'), true);
  both(call('match', 'foo\nbarbaz', '[a-z]{3}\n[a-z]{6}'), true);
  both(call('match', '999', '[a-z]{3}', '[0-9]{5}'), false);
  both(call('match', '999', '[a-z]{3}', '[0-9]{5}', '[9][9][9]'), true);
  both(call('match', 'foobar', 'foo'), true, {});
  both(call('matchLite', 'ABC', 'abc'), false);
  both(calli('matchLite', 'ABC', 'abc'), true);
  both(call('match', null, 'x'), null);
  both(call('match', 'a.b', fld('f')), true, { f: 'a.b' });
  compileError(call('match', 1, '*'), /argument 1 must be a string/);
  compileError(call('match', 'eql', 1), /argument 2 must be a string/);
  compileError(call('match', fld('a'), fld('b')), /match: argument 2 must be a constant string pattern/);
  compileError(call('match', fld('a'), '(?<=x)y'), /lookahead\/lookbehind/);
});

test('arrayContains, arraySearch, arrayCount', () => {
  const doc = { tags: ['Alpha', 'beta'], nums: [1, 2, 3], target: [{ type: 'User', id: 'u1' }, { type: 'AppInstance', id: 'a1' }] };
  both(call('arrayContains', fld('tags'), 'beta'), true, doc);
  both(call('arrayContains', fld('tags'), 'alpha'), false, doc);
  both(calli('arrayContains', fld('tags'), 'alpha'), true, doc);
  both(call('arrayContains', fld('nums'), 7, 3), true, doc);
  both(call('arrayContains', fld('missing'), 'x'), null, doc);
  assert.equal(val(call('arrayContains', fld('s'), 'x'), { s: 'x' }), true, 'ES: a single value is a one-element array');
  assert.equal(py(call('arrayContains', fld('s'), 'x'), { s: 'x' }), null);

  const search = (cond: ValueExpr) => call('arraySearch', fld('target'), fld('t'), cond);
  both(search(cmp('eq', fld('t.type'), 'AppInstance')), true, doc);
  both(search(cmp('eq', fld('t.type'), 'Group')), false, doc);
  both(search(and(cmp('eq', fld('t.type'), 'User'), cmp('eq', fld('t.id'), fld('expected')))), true, { ...doc, expected: 'u1' });
  both(search(cmp('eq', fld('t.type'), 'User')), false, { target: 'nope' } as JsonObject);
  both(call('arraySearch', fld('nums'), fld('n'), cmp('gt', fld('n'), 2)), true, doc);
  both(call('arrayCount', fld('nums'), fld('n'), cmp('gte', fld('n'), 2)), 2, doc);
  both(call('arrayCount', fld('missing'), fld('n'), true), 0, doc);
  // nested: some target whose id is in another array searched with its own variable
  both(
    call('arraySearch', fld('target'), fld('t'), call('arraySearch', fld('ids'), fld('i'), cmp('eq', fld('i'), fld('t.id')))),
    true,
    { ...doc, ids: ['zz', 'a1'] },
  );
  compileError(call('arraySearch', fld('target'), 'x', true), /second argument must be a variable name/);
  compileError(call('arraySearch', fld('target'), fld('t')), /arraySearch\(\) takes 3 arguments, got 2/);
});

test('safe passes values through', () => {
  both(call('safe', arith('+', 1, 2)), 3);
  both(call('safe', fld('missing')), null);
});

test('unknown functions and bad arity are compile errors naming the function', () => {
  compileError(call('frobnicate', 1), /unsupported function frobnicate\(\)/);
  compileError(call('substring', 'a'), /substring\(\) takes 2 to 3 arguments, got 1/);
  compileError(call('string', 'a', 'b'), /string\(\) takes 1 argument, got 2/);
  compileError(call('endsWith', 'a', 'b', 'c'), /endsWith\(\) takes 2 arguments, got 3/);
  // names resolve ignoring case, as Elasticsearch does
  both(call('STARTSWITH', 'abc', 'a'), true);
  assert.ok(functionNames().includes('cidrMatch'));
  for (const fn of ['add', 'between', 'cidrMatch', 'concat', 'divide', 'endsWith', 'indexOf', 'length', 'modulo', 'multiply', 'number', 'startsWith', 'string', 'stringContains', 'substring', 'subtract', 'arrayContains', 'arraySearch', 'arrayCount', 'match', 'matchLite', 'safe', 'wildcard']) {
    assert.ok(functionNames().includes(fn), fn);
  }
});

test('optional fields: an unknown field is null instead of an error', () => {
  const e: ValueExpr = { type: 'field', field: { name: 'no.such.field', schema: 'ecs' }, optional: true };
  assert.equal(val(cmp('eq', e, null)), true);
  assert.throws(() => compileExpr({ type: 'field', field: { name: 'x', schema: 'okta' } }, () => {
    throw new Error('unknown field x');
  }), /unknown field x/);
  assert.equal(compileExpr({ type: 'field', field: { name: 'x', schema: 'okta' }, optional: true }, () => {
    throw new Error('unknown field x');
  })(eventOf({})), null);
});

test('constant subexpressions are folded once, fields are read per event', () => {
  let reads = 0;
  const e = cmp('eq', fld('a'), call('concat', 'x', call('string', 1)));
  const run = compileExpr(e, (f) => {
    const get = resolveField(f, ctx);
    return (ev) => {
      reads++;
      return get(ev);
    };
  });
  assert.equal(run(eventOf({ a: 'x1' })), true);
  assert.equal(run(eventOf({ a: 'x2' })), false);
  assert.equal(reads, 2);
});

/* ---------------------------------- through compilePredicate ---------------------------------- */

test('the expr predicate on Okta events matches only when the value is true', () => {
  const pred = (expr: ValueExpr, semantics?: Sem) => compilePredicate(semantics ? { type: 'expr', expr, semantics } : { type: 'expr', expr }, ctx);
  const ev = oktaEvent({ target: [{ type: 'User', alternateId: 'bart@duff.com' }, { type: 'AppInstance', alternateId: 'Salesforce' }] });

  assert.equal(pred(call('cidrMatch', fld('client.ipAddress'), '203.0.113.0/24'))(ev), true);
  assert.equal(pred(call('cidrMatch', fld('client.ipAddress'), '10.0.0.0/8'))(ev), false);
  assert.equal(pred(call('endsWith', fld('actor.alternateId'), '@duff.com'))(ev), true);
  assert.equal(pred(call('endsWith', fld('actor.alternateId'), '@DUFF.com'))(ev), false);
  assert.equal(pred(calli('endsWith', fld('actor.alternateId'), '@DUFF.com'))(ev), true);
  assert.equal(pred(cmp('gt', fld('securityContext.asNumber'), 700))(ev), true);
  assert.equal(pred(cmp('eq', fld('securityContext.isProxy'), false))(ev), true);
  assert.equal(pred(cmp('eq', fld('target.type'), 'AppInstance'))(ev), true, 'ES: any element');
  assert.equal(pred(cmp('eq', fld('target.type'), 'AppInstance'), 'python')(ev), false, 'Python: list vs scalar is null');
  assert.equal(pred(call('arraySearch', fld('target'), fld('t'), cmp('eq', fld('t.type'), 'appinstance', true)), 'python')(ev), true);
  assert.equal(pred(cmp('neq', fld('no.such.field'), 'x'))(ev), false, 'null does not match');
  assert.equal(pred(not(cmp('eq', fld('no.such.field'), 'x')))(ev), false, 'not null is null');
  assert.equal(pred(cmp('eq', fld('no.such.field'), null))(ev), true);
  assert.equal(pred(cmp('eq', call('length', fld('client.ipAddress')), 11))(ev), true);
  assert.equal(
    pred(and(like(fld('debugContext.debugData.requestUri'), ['/idp/*']), regex(fld('eventType'), ['user\\.session\\..*'])))(ev),
    true,
  );
  assert.equal(pred(call('stringContains', fld('displayMessage'), 'login'))(ev), true);
  assert.equal(pred(cmp('eq', call('between', fld('actor.alternateId'), '@', '.'), 'duff'))(ev), true);
  assert.throws(() => pred(call('noSuchFunction', fld('eventType'))), /noSuchFunction/);
});
