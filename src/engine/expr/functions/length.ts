/**
 * length(value): the length of a string (UTF-16 units in 'elasticsearch', as Java's
 * String.length(); code points in 'python', as len()).
 *
 * Null is null. 'python' also measures lists (number of elements) and objects (number of keys);
 * other values are null. 'elasticsearch' reads a multi-valued field as its first doc value and
 * gives null for non-strings.
 */
import type { FunctionDef } from './types.js';

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export const length: FunctionDef = {
  name: 'length',
  minArgs: 1,
  maxArgs: 1,
  caseSensitivity: 'none',
  argKinds: ['any'],
  fn: (args, ctx) => {
    const v = args[0];
    if (typeof v === 'string') return ctx.semantics === 'python' ? codePoints(v) : v.length;
    if (ctx.semantics === 'python') {
      if (Array.isArray(v)) return v.length;
      if (v !== null && typeof v === 'object') return Object.keys(v).length;
    }
    return null;
  },
};
