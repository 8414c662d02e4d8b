import { test } from 'node:test';
import { eventOf as event } from './helpers.js';
import assert from 'node:assert/strict';
import { compilePredicate, simplifyPredicate } from '../src/engine/predicate/index.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { FieldRef, Predicate } from '../src/ir/types.js';

const ctx = { org: 'test' };
const f = (name: string): FieldRef => ({ name, schema: 'okta' });


function matches(p: Predicate, doc: JsonObject): boolean {
  return compilePredicate(p, ctx)(event(doc));
}

const eq = (field: string, value: string): Predicate => ({ type: 'compare', field: f(field), op: 'eq', values: [value] });

test('exists: presence; JSON null present unless nullIsMissing', () => {
  const ex: Predicate = { type: 'exists', field: f('a') };
  const exn: Predicate = { type: 'exists', field: f('a'), nullIsMissing: true };
  assert.equal(matches(ex, { a: 'x' }), true);
  assert.equal(matches(ex, { a: null }), true);
  assert.equal(matches(exn, { a: null }), false);
  assert.equal(matches(ex, {}), false);
  assert.equal(matches(ex, { a: [] }), true);
  assert.equal(matches(exn, { a: [] }), false);
  assert.equal(matches(exn, { a: [null, 'x'] }), true);
  assert.equal(matches(ex, { a: '' }), true);
  assert.equal(matches({ type: 'exists', field: f('A.b') }, { a: { B: 1 } }), true, 'case-insensitive path');
});

test('null: absent, JSON null, empty array, all-null array', () => {
  const n: Predicate = { type: 'null', field: f('a') };
  assert.equal(matches(n, {}), true);
  assert.equal(matches(n, { a: null }), true);
  assert.equal(matches(n, { a: [] }), true);
  assert.equal(matches(n, { a: [null] }), true);
  assert.equal(matches(n, { a: '' }), false);
  assert.equal(matches(n, { a: 'x' }), false);
  assert.equal(matches(n, { a: false }), false);
  assert.equal(matches(n, { a: [null, 'x'] }), false);
  assert.equal(matches({ type: 'null', field: f('t.x') }, { t: [{ x: null }, { y: 1 }] }), true);
});

test('null never equals anything in a comparison', () => {
  assert.equal(matches(eq('a', 'null'), { a: null }), false);
  assert.equal(matches(eq('a', ''), { a: null }), false);
  assert.equal(matches({ type: 'compare', field: f('a'), op: 'wildcard', values: ['*'] }, { a: null }), false);
});

test('fieldref: eq / contains / startswith / endswith, arrays, case, missing', () => {
  const fr = (op: 'eq' | 'contains' | 'startswith' | 'endswith', caseSensitive = false): Predicate => ({
    type: 'fieldref',
    field: f('a'),
    other: f('b'),
    op,
    ...(caseSensitive ? { options: { caseSensitive } } : {}),
  });
  assert.equal(matches(fr('eq'), { a: 'Bob', b: 'bob' }), true);
  assert.equal(matches(fr('eq', true), { a: 'Bob', b: 'bob' }), false);
  assert.equal(matches(fr('eq'), { a: 'bob', b: 'alice' }), false);
  assert.equal(matches(fr('eq'), { a: 4624, b: '4624' }), true);
  assert.equal(matches(fr('contains'), { a: 'xxbobxx', b: 'BOB' }), true);
  assert.equal(matches(fr('startswith'), { a: 'bob@x', b: 'bob' }), true);
  assert.equal(matches(fr('startswith'), { a: 'x@bob', b: 'bob' }), false);
  assert.equal(matches(fr('endswith'), { a: 'x@bob', b: 'bob' }), true);
  assert.equal(matches(fr('eq'), { a: ['x', 'y'], b: ['z', 'y'] }), true);
  assert.equal(matches(fr('eq'), { a: 'x' }), false);
  assert.equal(matches(fr('eq'), { a: null, b: null }), false);
  const typed: Predicate = { type: 'fieldref', field: f('a'), other: f('b'), op: 'eq', options: { coerce: 'typed' } };
  assert.equal(matches(typed, { a: 4624, b: '4624' }), false);
  assert.equal(matches(typed, { a: 4624, b: 4624 }), true);
});

test('keyword: any string-ish leaf value anywhere in the document', () => {
  const doc: JsonObject = {
    eventType: 'user.session.start',
    actor: { alternateId: 'mallory@example.com', detail: null },
    target: [{ displayName: 'Okta Admin Console' }],
    securityContext: { asNumber: 13335, isProxy: true },
  };
  const kw = (op: 'eq' | 'wildcard' | 'contains' | 'regex', values: string[], options = {}): Predicate => ({
    type: 'keyword',
    op,
    values,
    options,
  });
  assert.equal(matches(kw('contains', ['ADMIN CONSOLE']), doc), true, 'inside an array of objects');
  assert.equal(matches(kw('eq', ['13335']), doc), true, 'numbers by string form');
  assert.equal(matches(kw('eq', ['true']), doc), true, 'booleans by string form');
  assert.equal(matches(kw('eq', ['13335'], { coerce: 'typed' }), doc), false, 'typed: strings only');
  assert.equal(matches(kw('contains', ['securityContext']), doc), false, 'keys are not searched');
  assert.equal(matches(kw('contains', ['null']), doc), false, 'JSON null is not a value');
  assert.equal(matches(kw('wildcard', ['mallory@*.com']), doc), true);
  assert.equal(matches(kw('regex', ['^mallory@']), doc), true);
  assert.equal(matches(kw('contains', ['mallory', 'console'], { all: true }), doc), true);
  assert.equal(matches(kw('contains', ['mallory', 'nothere'], { all: true }), doc), false);
  assert.equal(matches(kw('contains', ['MALLORY'], { caseSensitive: true }), doc), false);
});

test('keyword leaves are computed once per event and shared through ev.cache', () => {
  const p1 = compilePredicate({ type: 'keyword', op: 'contains', values: ['x'] }, ctx);
  const p2 = compilePredicate({ type: 'keyword', op: 'contains', values: ['nope'] }, ctx);
  const e = event({ a: 'x', b: ['y'] });
  assert.equal(p1(e), true);
  const cached = [...e.cache.values()];
  assert.equal(cached.length > 0, true);
  assert.equal(p2(e), false);
  assert.equal(e.cache.size, cached.length, 'second keyword predicate reused the cached leaves');
});

test('and / or / not / const', () => {
  const doc = { a: 'x', b: 'y' };
  assert.equal(matches({ type: 'and', args: [eq('a', 'x'), eq('b', 'y')] }, doc), true);
  assert.equal(matches({ type: 'and', args: [eq('a', 'x'), eq('b', 'z')] }, doc), false);
  assert.equal(matches({ type: 'or', args: [eq('a', 'z'), eq('b', 'y')] }, doc), true);
  assert.equal(matches({ type: 'or', args: [eq('a', 'z'), eq('b', 'z'), eq('c', 'z'), eq('d', 'z')] }, doc), false);
  assert.equal(matches({ type: 'not', arg: eq('a', 'x') }, doc), false);
  assert.equal(matches({ type: 'const', value: true }, doc), true);
  assert.equal(matches({ type: 'and', args: [] }, doc), true);
  assert.equal(matches({ type: 'or', args: [] }, doc), false);
});

test('and / or short-circuit: later arguments are not evaluated', () => {
  let reads = 0;
  const doc: JsonObject = { a: 'x' };
  Object.defineProperty(doc, 'b', {
    enumerable: true,
    get() {
      reads++;
      return 'y';
    },
  });
  const e = event(doc);
  assert.equal(compilePredicate({ type: 'and', args: [eq('a', 'no'), eq('b', 'y')] }, ctx)(e), false);
  assert.equal(compilePredicate({ type: 'or', args: [eq('a', 'x'), eq('b', 'y')] }, ctx)(e), true);
  assert.equal(reads, 0);
  assert.equal(compilePredicate({ type: 'and', args: [eq('a', 'x'), eq('b', 'y')] }, ctx)(e), true);
  assert.equal(reads, 1);
});

test('simplify: nested and/or flattened, constants folded, double negation removed', () => {
  const a = eq('a', '1');
  const b = eq('b', '2');
  const c = eq('c', '3');
  assert.deepEqual(
    simplifyPredicate({ type: 'and', args: [{ type: 'and', args: [a, b] }, { type: 'const', value: true }, c] }),
    { type: 'and', args: [a, b, c] },
  );
  assert.deepEqual(simplifyPredicate({ type: 'or', args: [a, { type: 'or', args: [b, { type: 'or', args: [c] }] }] }), {
    type: 'or',
    args: [a, b, c],
  });
  assert.deepEqual(simplifyPredicate({ type: 'and', args: [a, { type: 'const', value: false }] }), { type: 'const', value: false });
  assert.deepEqual(simplifyPredicate({ type: 'or', args: [a, { type: 'const', value: true }] }), { type: 'const', value: true });
  assert.deepEqual(simplifyPredicate({ type: 'not', arg: { type: 'not', arg: a } }), a);
  assert.deepEqual(simplifyPredicate({ type: 'and', args: [a] }), a);
});

test('alert events: okta-schema fields do not resolve on alert documents', () => {
  const p = compilePredicate(eq('eventType', 'x'), ctx);
  const alert: CanonicalEvent = { ...event({ eventType: 'x' }), kind: 'alert' };
  assert.equal(p(alert), false);
  assert.equal(p(event({ eventType: 'x' })), true);
});
