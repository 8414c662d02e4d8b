/**
 * Values of the expression evaluator and the rules every node shares: what is null, what is a
 * boolean, how strings fold, how a multi-valued field is reduced to one value.
 *
 * A value is what an accessor returns (a scalar, JSON null, an object, an array) or what a node
 * computes. `undefined` (a missing field) and JSON null are both null. See index.ts for the
 * semantics as a whole.
 */
import type { CanonicalEvent } from '../../event/types.js';
import type { ExprSemantics } from '../../ir/types.js';

/** A compiled expression: the value of the node for an event (null or undefined = null). */
export type Evaluator = (ev: CanonicalEvent) => unknown;

export type Kleene = boolean | null;

export function isNull(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

/** A finite JavaScript number (booleans are never numbers, as in both EQL engines). */
export function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Whether a value carries something: not null, not an array of only nulls (at any depth). In
 * Elasticsearch a field whose values are all null is not in the index: `f == null` holds.
 */
export function hasValue(v: unknown): boolean {
  if (isNull(v)) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasValue(v[i])) return true;
    return false;
  }
  return true;
}

/**
 * The boolean view of a value for and/or/not:
 *  - 'python': Python truthiness (`to_bool_or_null`): null stays null, "" / 0 / [] are false;
 *  - 'elasticsearch': only booleans are booleans, anything else is null.
 */
export function toKleene(v: unknown, semantics: ExprSemantics): Kleene {
  if (v === true || v === false) return v;
  if (isNull(v)) return null;
  if (semantics === 'elasticsearch') return null;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return null;
}

/**
 * Lower-cases a string without changing its length (so positions found in the folded string are
 * positions in the original): characters whose lower case is longer (U+0130) are kept as they are.
 */
export function foldSameLength(s: string): string {
  const lower = s.toLowerCase();
  if (lower.length === s.length) return lower;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const l = c.toLowerCase();
    out += l.length === 1 ? l : c;
  }
  return out;
}

export function fold(s: string): string {
  return s.toLowerCase();
}

/** Order of scalars used to pick "the first doc value" of a multi-valued field. */
function scalarLess(a: string | number | boolean, b: string | number | boolean): boolean {
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) {
    // numbers before booleans before strings: only matters for mixed arrays, which ES cannot index
    const rank = (t: string) => (t === 'number' ? 0 : t === 'boolean' ? 1 : 2);
    return rank(ta) < rank(tb);
  }
  return a < b;
}

function minScalar(v: unknown[], best: string | number | boolean | undefined): string | number | boolean | undefined {
  for (let i = 0; i < v.length; i++) {
    const el = v[i];
    if (Array.isArray(el)) {
      best = minScalar(el, best);
    } else if (typeof el === 'string' || typeof el === 'boolean' || isNumber(el)) {
      if (best === undefined || scalarLess(el, best)) best = el;
    }
  }
  return best;
}

/**
 * Elasticsearch reading of a multi-valued field where one value is needed (a function argument,
 * arithmetic): a script sees `doc[field].get(0)`, the first doc value, and doc values are sorted
 * (numbers ascending, strings by code unit). So an array stands for its smallest scalar; an array
 * of nothing (or of objects) is null. Non-arrays are returned as they are.
 */
export function firstDocValue(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  if (v.length === 1 && !Array.isArray(v[0])) return v[0] ?? null;
  const m = minScalar(v, undefined);
  return m === undefined ? null : m;
}

/**
 * String form of a scalar for `string()` and `concat()`: strings as they are, booleans
 * `true`/`false`, numbers in JavaScript's shortest form (`21`, not Python's `21.0`: the IR and
 * JSON do not keep the integer/float distinction). Null, arrays and objects give undefined.
 */
export function scalarString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  return undefined;
}

/**
 * A string that is exactly a decimal number (what a term query on a numeric field accepts):
 * optional sign, digits, optional fraction and exponent, surrounding whitespace ignored.
 */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
export function numericString(s: string): number | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}
