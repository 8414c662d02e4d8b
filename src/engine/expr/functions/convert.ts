/**
 * number(string[, base]) and string(value).
 *
 * number: surrounding whitespace ignored, optional sign; `0x…` is hexadecimal when the base is
 * omitted, null or 16; with base omitted/null/10 a decimal with a fraction or exponent is a
 * float; otherwise the digits must be valid in the base (2..36) and give an integer. Anything
 * else (empty, invalid digits, `0x` with another base, a base outside 2..36) is null, as is null.
 * A number argument from an event is returned as it is (a literal number is rejected when the
 * rule compiles, as both engines' verifiers do).
 *
 * string: null is null; strings as they are; booleans `true`/`false`; numbers in JavaScript's
 * shortest form (`21`, where Python would print `21.0` for a float); objects and lists are null.
 */
import { isNull, isNumber, scalarString } from '../values.js';
import type { FunctionDef } from './types.js';

const FLOAT = /^(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+|\.\d+[eE][+-]?\d+)$/;

function digitsValid(digits: string, base: number): boolean {
  if (digits.length === 0) return false;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 122) d = c - 87;
    else if (c >= 65 && c <= 90) d = c - 55;
    else return false;
    if (d >= base) return false;
  }
  return true;
}

export function parseNumber(source: string, base: number | null): number | null {
  let t = source.trim();
  let sign = 1;
  if (t.startsWith('+') || t.startsWith('-')) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  if (t.length === 0) return null;
  if (/^0[xX]/.test(t)) {
    if (base !== null && base !== 16) return null;
    const digits = t.slice(2);
    return digitsValid(digits, 16) ? sign * parseInt(digits, 16) : null;
  }
  const b = base ?? 10;
  if (b === 10 && FLOAT.test(t)) return sign * Number(t);
  if (!digitsValid(t, b)) return null;
  return sign * parseInt(t, b);
}

export const number: FunctionDef = {
  name: 'number',
  minArgs: 1,
  maxArgs: 2,
  caseSensitivity: 'none',
  argKinds: ['string', 'number'],
  fn: (args) => {
    const s = args[0];
    const baseArg = args.length > 1 ? args[1] : null;
    if (isNumber(s)) return s;
    if (typeof s !== 'string') return null;
    let base: number | null = null;
    if (!isNull(baseArg)) {
      if (!isNumber(baseArg) || !Number.isInteger(baseArg) || baseArg < 2 || baseArg > 36) return null;
      base = baseArg;
    }
    return parseNumber(s, base);
  },
};

export const string: FunctionDef = {
  name: 'string',
  minArgs: 1,
  maxArgs: 1,
  caseSensitivity: 'none',
  argKinds: ['primitive'],
  fn: (args) => scalarString(args[0]) ?? null,
};
