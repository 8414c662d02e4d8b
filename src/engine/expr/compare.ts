/**
 * Comparisons of values: `==` `!=` `<` `<=` `>` `>=` and membership (`in`).
 *
 * Scalars (both engines):
 *  - string vs string: by UTF-16 code units, case-folded (lower case) when the node is
 *    case-insensitive;
 *  - number vs number: numerically; boolean vs boolean: false < true.
 * Mixed types:
 *  - 'python': any other pair is a type mismatch and gives null (`check_types`);
 *  - 'elasticsearch': a term/range query converts the rule value to the field's type, so a
 *    number and a string compare numerically when the string is a decimal number (`"701"` equals
 *    701), and a boolean equals the string "true"/"false"; otherwise they are simply unequal
 *    (`==` false, `!=` true) and do not order (null). Objects never compare (null).
 * Multi-valued values (arrays):
 *  - 'elasticsearch': `==`, ordering and `in` hold when some element does (term/range query
 *    semantics); `!=` is the negation of `==` (a `must_not term`: true only when no element is
 *    equal). Nested arrays are flattened; all-null or empty arrays are null;
 *  - 'python': a list only equals an equal list (element by element, exact); a list against a
 *    scalar, or a list ordered against anything, is null.
 */
import type { ExprSemantics } from '../../ir/types.js';
import { fold, isNull, isNumber, numericString, type Kleene } from './values.js';

export type CompareOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';

/** Equality of two non-null, non-array values. */
export function eqScalars(a: unknown, b: unknown, ci: boolean, semantics: ExprSemantics): Kleene {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' && tb === 'string') return ci ? fold(a as string) === fold(b as string) : a === b;
  if (ta === 'number' && tb === 'number') return a === b;
  if (ta === 'boolean' && tb === 'boolean') return a === b;
  if (semantics === 'python') return null;
  if (ta === 'object' || tb === 'object') return null;
  if (ta === 'number' && tb === 'string') return numericString(b as string) === a;
  if (ta === 'string' && tb === 'number') return numericString(a as string) === b;
  if (ta === 'boolean' && tb === 'string') return (ci ? fold(b as string) : b) === (a ? 'true' : 'false');
  if (ta === 'string' && tb === 'boolean') return (ci ? fold(a as string) : a) === (b ? 'true' : 'false');
  return false;
}

/** Ordering of two non-null, non-array values: negative, zero, positive, or null (incomparable). */
export function orderScalars(a: unknown, b: unknown, ci: boolean, semantics: ExprSemantics): number | null {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' && tb === 'string') {
    const x = ci ? fold(a as string) : (a as string);
    const y = ci ? fold(b as string) : (b as string);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ta === 'number' && tb === 'number') return isNumber(a) && isNumber(b) ? a - b : null;
  if (ta === 'boolean' && tb === 'boolean') return Number(a) - Number(b);
  if (semantics === 'python') return null;
  if (ta === 'number' && tb === 'string') {
    const n = numericString(b as string);
    return n === undefined ? null : (a as number) - n;
  }
  if (ta === 'string' && tb === 'number') {
    const n = numericString(a as string);
    return n === undefined ? null : n - (b as number);
  }
  return null;
}

function holds(op: CompareOp, order: number): boolean {
  switch (op) {
    case 'lt':
      return order < 0;
    case 'lte':
      return order <= 0;
    case 'gt':
      return order > 0;
    case 'gte':
      return order >= 0;
    case 'eq':
      return order === 0;
    case 'neq':
      return order !== 0;
  }
}

/** One scalar pair under an operator. */
function scalarCompare(op: CompareOp, a: unknown, b: unknown, ci: boolean, semantics: ExprSemantics): Kleene {
  if (op === 'eq') return eqScalars(a, b, ci, semantics);
  if (op === 'neq') {
    const r = eqScalars(a, b, ci, semantics);
    return r === null ? null : !r;
  }
  const o = orderScalars(a, b, ci, semantics);
  return o === null ? null : holds(op, o);
}

/** Python list equality: same length, elements equal with the same rules (no case folding of lists). */
function pythonListEquals(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Array.isArray(x) && Array.isArray(y)) {
      if (!pythonListEquals(x, y)) return false;
    } else if (isNull(x) || isNull(y)) {
      if (!(isNull(x) && isNull(y))) return false;
    } else if (eqScalars(x, y, false, 'python') !== true) {
      return false;
    }
  }
  return true;
}

/** ES "some element of a (flattened) satisfies op against b" (b not an array). */
function anyLeft(op: CompareOp, a: unknown[], b: unknown, ci: boolean, flip: boolean): Kleene {
  let sawFalse = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    let r: Kleene;
    if (Array.isArray(x)) r = anyLeft(op, x, b, ci, flip);
    else if (isNull(x)) r = null;
    else r = flip ? scalarCompare(op, b, x, ci, 'elasticsearch') : scalarCompare(op, x, b, ci, 'elasticsearch');
    if (r === true) return true;
    if (r === false) sawFalse = true;
  }
  return sawFalse ? false : null;
}

function anyPair(op: CompareOp, a: unknown[], b: unknown[], ci: boolean): Kleene {
  let sawFalse = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    let r: Kleene;
    if (Array.isArray(x)) r = anyPair(op, x, b, ci);
    else if (isNull(x)) r = null;
    else r = anyLeft(op, b, x, ci, true);
    if (r === true) return true;
    if (r === false) sawFalse = true;
  }
  return sawFalse ? false : null;
}

/** `a op b`, three-valued. Null on either side gives null (null literals are handled by the compiler). */
export function compareValues(op: CompareOp, a: unknown, b: unknown, ci: boolean, semantics: ExprSemantics): Kleene {
  if (isNull(a) || isNull(b)) return null;
  const la = Array.isArray(a);
  const lb = Array.isArray(b);
  if (!la && !lb) return scalarCompare(op, a, b, ci, semantics);
  if (semantics === 'python') {
    if (la && lb && (op === 'eq' || op === 'neq')) {
      const eq = pythonListEquals(a as unknown[], b as unknown[]);
      return op === 'eq' ? eq : !eq;
    }
    return null;
  }
  if (op === 'neq') {
    const eq = compareValues('eq', a, b, ci, semantics);
    return eq === null ? null : !eq;
  }
  if (la && lb) return anyPair(op, a as unknown[], b as unknown[], ci);
  return la ? anyLeft(op, a as unknown[], b, ci, false) : anyLeft(op, b as unknown[], a, ci, true);
}

/**
 * Membership `value in (members)`: null value gives null; true when the value equals a member
 * (Elasticsearch: some element of a multi-valued value does); otherwise false. Null members never
 * equal a value. A type mismatch with a member is "not equal" (Python's set lookup), not null.
 */
export type MemberTest = (v: unknown) => Kleene;

/** Builds the membership test for constant members, with a Set for the all-strings case. */
export function constantMembership(members: unknown[], ci: boolean, semantics: ExprSemantics): MemberTest {
  const present = members.filter((m) => !isNull(m));
  const allStrings = present.every((m) => typeof m === 'string');
  const strings = allStrings ? new Set(present.map((m) => (ci ? fold(m as string) : (m as string)))) : undefined;

  const scalarIn = (x: unknown): boolean => {
    if (strings && typeof x === 'string') return strings.has(ci ? fold(x) : x);
    for (let i = 0; i < present.length; i++) {
      const m = present[i];
      if (Array.isArray(m)) continue;
      if (eqScalars(x, m, ci, semantics) === true) return true;
    }
    return false;
  };
  return membership(scalarIn, semantics);
}

/** Membership against members evaluated per event (a field among the members). */
export function dynamicMembership(ci: boolean, semantics: ExprSemantics): (v: unknown, members: unknown[]) => Kleene {
  return (v, members) => {
    const test = constantMembership(members, ci, semantics);
    return test(v);
  };
}

function membership(scalarIn: (x: unknown) => boolean, semantics: ExprSemantics): MemberTest {
  const anyIn = (arr: unknown[]): Kleene => {
    let sawValue = false;
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i];
      if (Array.isArray(x)) {
        const r = anyIn(x);
        if (r === true) return true;
        if (r === false) sawValue = true;
      } else if (!isNull(x)) {
        sawValue = true;
        if (scalarIn(x)) return true;
      }
    }
    return sawValue ? false : null;
  };
  return (v) => {
    if (isNull(v)) return null;
    if (Array.isArray(v)) return semantics === 'python' ? null : anyIn(v);
    if (typeof v === 'object') return semantics === 'python' ? false : null;
    return scalarIn(v);
  };
}
