/**
 * substring(source, start[, end]): Python slicing `source[start:end]` (which is also what
 * Elasticsearch documents): negative positions count from the end, positions are clamped to the
 * string, start >= end gives "". Positions are UTF-16 units.
 *
 * Null or non-string source gives null; a null (or omitted) start is 0, a null (or omitted) end
 * is the end of the string; a non-number position gives null.
 */
import { isNull, isNumber } from '../values.js';
import type { FunctionDef } from './types.js';

function position(p: number, len: number): number {
  const i = Math.trunc(p);
  if (i < 0) return Math.max(0, len + i);
  return Math.min(i, len);
}

export const substring: FunctionDef = {
  name: 'substring',
  minArgs: 2,
  maxArgs: 3,
  caseSensitivity: 'none',
  argKinds: ['string', 'number', 'number'],
  fn: (args) => {
    const s = args[0];
    if (typeof s !== 'string') return null;
    const a = args[1];
    const b = args.length > 2 ? args[2] : null;
    if ((!isNull(a) && !isNumber(a)) || (!isNull(b) && !isNumber(b))) return null;
    const start = isNull(a) ? 0 : position(a, s.length);
    const end = isNull(b) ? s.length : position(b, s.length);
    return start < end ? s.slice(start, end) : '';
  },
};
