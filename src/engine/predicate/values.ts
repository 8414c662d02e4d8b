/**
 * Event values as the matchers see them.
 *
 * An accessor returns `undefined` (missing), a scalar, an object, JSON null, or an array (the
 * field is multi-valued or arrays were traversed on the way). Matchers only ever test scalars:
 * arrays mean "any element" (nested arrays are flattened), objects and null never match a
 * comparison. This module holds that traversal and the string forms of scalars, so every
 * matcher applies the same rules.
 */

export type EventScalar = string | number | boolean;

/** A test of one scalar event value. */
export type ScalarTest = (x: EventScalar) => boolean;

/** A test of one string (already case-folded when the comparison is case-insensitive). */
export type StringTest = (s: string) => boolean;

export function isScalar(v: unknown): v is EventScalar {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/**
 * The Sigma string form of a scalar: strings as they are, booleans `true`/`false`, numbers in
 * JavaScript's shortest decimal form (`4624`, `1.5`, `1e+21`).
 */
export function stringForm(x: EventScalar): string {
  return typeof x === 'string' ? x : String(x);
}

/** True when `test` holds for the value or (arrays) for any scalar element, at any depth. */
export function anyScalar(v: unknown, test: ScalarTest): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (anyScalar(v[i], test)) return true;
    }
    return false;
  }
  return isScalar(v) ? test(v) : false;
}

/** Collects the scalar elements of a value (arrays flattened; null and objects skipped). */
export function scalarsOf(v: unknown, out: EventScalar[] = []): EventScalar[] {
  if (v === undefined || v === null) return out;
  if (Array.isArray(v)) {
    for (const el of v) scalarsOf(el, out);
  } else if (isScalar(v)) {
    out.push(v);
  }
  return out;
}

/**
 * How event scalars are turned into strings for a string comparison.
 *  - 'string' coercion: every scalar by its string form;
 *  - 'typed' coercion: only strings take part (a number or boolean never matches a pattern).
 * Returns undefined when the scalar does not take part. Case folding is applied on top.
 */
export type StringView = (x: EventScalar) => string | undefined;

export function stringView(coerce: 'string' | 'typed', caseSensitive: boolean): StringView {
  if (coerce === 'typed') {
    return caseSensitive
      ? (x) => (typeof x === 'string' ? x : undefined)
      : (x) => (typeof x === 'string' ? x.toLowerCase() : undefined);
  }
  return caseSensitive
    ? (x) => (typeof x === 'string' ? x : String(x))
    : (x) => (typeof x === 'string' ? x : String(x)).toLowerCase();
}

/** Lifts a string test to a scalar test through a view. */
export function viaView(view: StringView, test: StringTest): ScalarTest {
  return (x) => {
    const s = view(x);
    return s !== undefined && test(s);
  };
}

/** A number when the text is a plain decimal number (`12`, `-3.5`, `1e3`), else undefined. */
export function numericValue(text: string): number | undefined {
  const s = text.trim();
  if (s.length === 0 || !isDecimalNumber(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Hand-written check for `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`. */
function isDecimalNumber(s: string): boolean {
  let i = 0;
  const n = s.length;
  if (s[i] === '+' || s[i] === '-') i++;
  let digits = 0;
  while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
    i++;
    digits++;
  }
  if (s[i] === '.') {
    i++;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (s[i] === 'e' || s[i] === 'E') {
    i++;
    if (s[i] === '+' || s[i] === '-') i++;
    let exp = 0;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      i++;
      exp++;
    }
    if (exp === 0) return false;
  }
  return i === n;
}
