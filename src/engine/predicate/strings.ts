/**
 * String matchers: eq / contains / startswith / endswith / wildcard.
 *
 * Every rule value is first reduced to a glob shape (equality, prefix, suffix, substring, a
 * general glob, or "anything"); a list of OR-linked values then compiles to one test that
 * looks equality values up in a Set and tries the other shapes in turn. Rule values arrive
 * here already case-folded when the comparison is case-insensitive, and the event string is
 * folded once by the caller (see values.ts `stringView`).
 */
import { classifyWildcard, compileGlobShape, type GlobShape } from './wildcard.js';
import type { StringTest } from './values.js';

export type StringOp = 'eq' | 'contains' | 'startswith' | 'endswith' | 'wildcard';

/** The shape of one rule value under a string operator (`fold` lower-cases the rule text). */
export function shapeOf(op: StringOp, value: string, fold: boolean): GlobShape {
  const text = fold ? value.toLowerCase() : value;
  switch (op) {
    case 'eq':
      return { kind: 'eq', text };
    case 'contains':
      return text === '' ? { kind: 'anything' } : { kind: 'contains', text };
    case 'startswith':
      return text === '' ? { kind: 'anything' } : { kind: 'prefix', text };
    case 'endswith':
      return text === '' ? { kind: 'anything' } : { kind: 'suffix', text };
    case 'wildcard':
      return classifyWildcard(value, fold);
  }
}

/** One test per rule value (for `all`: each value must be matched on its own). */
export function stringTests(op: StringOp, values: string[], fold: boolean): StringTest[] {
  return values.map((v) => compileGlobShape(shapeOf(op, v, fold)));
}

/** One test for OR-linked rule values. */
export function anyStringTest(op: StringOp, values: string[], fold: boolean): StringTest {
  const shapes = values.map((v) => shapeOf(op, v, fold));
  if (shapes.some((s) => s.kind === 'anything')) return () => true;

  const equal: string[] = [];
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const needles: string[] = [];
  const others: StringTest[] = [];
  for (const s of shapes) {
    if (s.kind === 'eq') equal.push(s.text);
    else if (s.kind === 'prefix') prefixes.push(s.text);
    else if (s.kind === 'suffix') suffixes.push(s.text);
    else if (s.kind === 'contains') needles.push(s.text);
    else others.push(compileGlobShape(s));
  }

  const parts: StringTest[] = [];
  if (equal.length === 1) {
    const only = equal[0]!;
    parts.push((s) => s === only);
  } else if (equal.length > 1) {
    const set = new Set(equal);
    parts.push((s) => set.has(s));
  }
  if (prefixes.length > 0) parts.push(listTest(prefixes, (s, t) => s.startsWith(t)));
  if (suffixes.length > 0) parts.push(listTest(suffixes, (s, t) => s.endsWith(t)));
  if (needles.length > 0) parts.push(listTest(needles, (s, t) => s.includes(t)));
  parts.push(...others);
  return orTests(parts);
}

function listTest(items: string[], has: (s: string, t: string) => boolean): StringTest {
  if (items.length === 1) {
    const only = items[0]!;
    return (s) => has(s, only);
  }
  return (s) => {
    for (let i = 0; i < items.length; i++) if (has(s, items[i]!)) return true;
    return false;
  };
}

/** OR of tests, unrolled for the common small cases. */
export function orTests<T>(tests: ((x: T) => boolean)[]): (x: T) => boolean {
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const a = tests[0]!;
    const b = tests[1]!;
    return (x) => a(x) || b(x);
  }
  return (x) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(x)) return true;
    return false;
  };
}
