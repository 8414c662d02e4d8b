/**
 * The `compare` predicate: a field against a list of rule values with one operator.
 *
 * Values are OR-linked (the event value must match one of them) unless `all` is set (each
 * rule value must be matched, possibly by different elements of a multi-valued field).
 * A missing field, JSON null and objects never match.
 *
 * Event scalars are seen through the predicate's coercion:
 *  - 'string' (default): by their string form (true -> "true", 4624 -> "4624");
 *  - 'typed': for `eq`, a boolean rule value equals a boolean or the string "true"/"false"
 *    (any case), a number equals a number or its decimal string, a string equals a string;
 *    for every other operator only event strings take part.
 * `regex` ignores `caseSensitive` (case is the `i` flag's business); `cidr` and the ordering
 * operators have their own rules (see cidr.ts, ordering.ts).
 */
import type { CompareOp, CompareOptions, Scalar } from '../../ir/types.js';
import type { CanonicalEvent } from '../../event/types.js';
import type { Accessor } from '../../schema/index.js';
import { cidrTest } from './cidr.js';
import { orderingTest } from './ordering.js';
import { regexTest } from './regex.js';
import { anyStringTest, orTests, stringTests, type StringOp } from './strings.js';
import { anyScalar, stringView, viaView, type ScalarTest } from './values.js';

export type EventTest = (ev: CanonicalEvent) => boolean;

/** Per-value tests and their OR, for one operator. */
interface ValueTests {
  each: () => ScalarTest[];
  any: () => ScalarTest;
}

function stringRuleValues(op: CompareOp, values: Scalar[]): string[] {
  return values.map((v) => {
    if (typeof v === 'string') return v;
    if (op === 'eq' || op === 'contains' || op === 'startswith' || op === 'endswith' || op === 'wildcard') return String(v);
    throw new Error(`${op}: value ${JSON.stringify(v)} must be a string`);
  });
}

function typedEqTest(value: Scalar, fold: boolean): ScalarTest {
  if (typeof value === 'boolean') {
    const word = String(value);
    return (x) => x === value || (typeof x === 'string' && x.toLowerCase() === word);
  }
  if (typeof value === 'number') {
    const text = String(value);
    return (x) => x === value || (typeof x === 'string' && x === text);
  }
  const text = fold ? value.toLowerCase() : value;
  return fold
    ? (x) => typeof x === 'string' && x.toLowerCase() === text
    : (x) => typeof x === 'string' && x === text;
}

function valueTests(op: CompareOp, values: Scalar[], options: CompareOptions): ValueTests {
  const caseSensitive = options.caseSensitive ?? false;
  const coerce = options.coerce ?? 'string';
  const fold = !caseSensitive;

  if (op === 'eq' && coerce === 'typed') {
    return {
      each: () => values.map((v) => typedEqTest(v, fold)),
      any: () => {
        const strings = values.filter((v): v is string => typeof v === 'string');
        const tests = values.filter((v) => typeof v !== 'string').map((v) => typedEqTest(v, fold));
        if (strings.length > 0) tests.unshift(viaView(stringView('typed', caseSensitive), anyStringTest('eq', strings, fold)));
        return orTests(tests);
      },
    };
  }

  switch (op) {
    case 'eq':
    case 'contains':
    case 'startswith':
    case 'endswith':
    case 'wildcard': {
      const view = stringView(coerce, caseSensitive);
      const texts = stringRuleValues(op, values);
      return {
        each: () => stringTests(op as StringOp, texts, fold).map((t) => viaView(view, t)),
        any: () => viaView(view, anyStringTest(op as StringOp, texts, fold)),
      };
    }
    case 'regex': {
      const view = stringView(coerce, true);
      const patterns = stringRuleValues(op, values);
      const each = () => patterns.map((p) => viaView(view, regexTest(p, options.flags)));
      return { each, any: () => orTests(each()) };
    }
    case 'cidr': {
      const view = stringView(coerce, true);
      const networks = stringRuleValues(op, values);
      return {
        each: () => networks.map((n) => viaView(view, cidrTest([n]))),
        any: () => viaView(view, cidrTest(networks)),
      };
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const each = () => values.map((v) => orderingTest(op, v, options));
      return { each, any: () => orTests(each()) };
    }
  }
}

/** Compiles `field <op> values` over an accessor. */
export function compileCompare(
  get: Accessor,
  op: CompareOp,
  values: Scalar[],
  options: CompareOptions = {},
): EventTest {
  if (values.length === 0) return () => false;
  const tests = valueTests(op, values, options);
  if (!options.all || values.length === 1) {
    const test = tests.any();
    return (ev) => anyScalar(get(ev), test);
  }
  const each = tests.each();
  return (ev) => {
    const v = get(ev);
    if (v === undefined || v === null) return false;
    for (let i = 0; i < each.length; i++) if (!anyScalar(v, each[i]!)) return false;
    return true;
  };
}

/** Exported for the keyword and fieldref matchers, which test scalars they collect themselves. */
export function scalarTestFor(op: CompareOp, values: Scalar[], options: CompareOptions = {}): ScalarTest {
  return valueTests(op, values, options).any();
}

export function scalarTestsFor(op: CompareOp, values: Scalar[], options: CompareOptions = {}): ScalarTest[] {
  return valueTests(op, values, options).each();
}
