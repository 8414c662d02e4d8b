/**
 * indexOf(source, sub[, start]): the first position (UTF-16 units, zero-based) of `sub` at or
 * after `start`, or null when it does not occur. Case-insensitive with `indexOf~` / Python mode.
 *
 * Null source or sub give null. `start`:
 *  - 'elasticsearch': omitted = 0; explicit null = null; negative = 0; beyond the length = null;
 *  - 'python': omitted or null = 0; negative counts from the end (Python slicing); beyond the
 *    length = null.
 */
import { foldSameLength, isNull, isNumber } from '../values.js';
import type { FunctionDef } from './types.js';

export const indexOf: FunctionDef = {
  name: 'indexOf',
  minArgs: 2,
  maxArgs: 3,
  caseSensitivity: 'flag',
  argKinds: ['string', 'string', 'number'],
  fn: (args, ctx) => {
    const source = args[0];
    const sub = args[1];
    if (typeof source !== 'string' || typeof sub !== 'string') return null;
    let start = 0;
    if (args.length > 2) {
      const st = args[2];
      if (isNull(st)) {
        if (ctx.semantics !== 'python') return null;
      } else if (!isNumber(st)) {
        return null;
      } else {
        start = Math.trunc(st);
        if (start < 0) start = ctx.semantics === 'python' ? Math.max(0, source.length + start) : 0;
      }
    }
    if (start > source.length) return null;
    const s = ctx.caseInsensitive ? foldSameLength(source) : source;
    const t = ctx.caseInsensitive ? foldSameLength(sub) : sub;
    const i = s.indexOf(t, start);
    return i < 0 ? null : i;
  },
};
