/**
 * Ordering comparisons: lt / lte / gt / gte.
 *
 *  - Numeric when both sides are numbers. Event numbers, and event strings that are plain
 *    decimal numbers (`"42"`, `"-1.5"`), count as numbers; so does a numeric rule string.
 *  - Otherwise, when the rule value is a non-numeric string, the comparison is lexical on
 *    strings (code-unit order, case-folded unless case-sensitive). This is meant for ISO-8601
 *    timestamps (`published|gte: '2024-01-01'`), whose lexical order is chronological as long
 *    as both sides use the same format and time zone. With `coerce: 'string'` an event number
 *    is compared by its string form; with `coerce: 'typed'` only event strings take part.
 *  - A numeric rule value never matches a non-numeric event string; booleans never match.
 */
import type { CompareOptions, Scalar } from '../../ir/types.js';
import { numericValue, type ScalarTest } from './values.js';

export type OrderOp = 'lt' | 'lte' | 'gt' | 'gte';

function cmpFor(op: OrderOp): (a: number | string, b: number | string) => boolean {
  switch (op) {
    case 'lt':
      return (a, b) => a < b;
    case 'lte':
      return (a, b) => a <= b;
    case 'gt':
      return (a, b) => a > b;
    case 'gte':
      return (a, b) => a >= b;
  }
}

/** Test of one event scalar against one rule value: `event <op> value`. */
export function orderingTest(op: OrderOp, value: Scalar, options: CompareOptions = {}): ScalarTest {
  const cmp = cmpFor(op);
  if (typeof value === 'boolean') {
    throw new Error(`${op}: a boolean (${value}) cannot be ordered; use a number or a string`);
  }
  const n = typeof value === 'number' ? value : numericValue(value);
  if (n !== undefined) {
    return (x) => {
      if (typeof x === 'number') return cmp(x, n);
      if (typeof x === 'string') {
        const m = numericValue(x);
        return m !== undefined && cmp(m, n);
      }
      return false;
    };
  }
  const fold = !(options.caseSensitive ?? false);
  const typed = options.coerce === 'typed';
  const r = fold ? (value as string).toLowerCase() : (value as string);
  return (x) => {
    if (typeof x === 'string') return cmp(fold ? x.toLowerCase() : x, r);
    if (typeof x === 'number' && !typed) return cmp(String(x), r);
    return false;
  };
}
