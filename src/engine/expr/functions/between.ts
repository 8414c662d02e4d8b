/**
 * between(source, left, right[, greedy]): the text of `source` after the first `left` and before
 * the next `right` (greedy: the last `right`). Case-insensitive matching with `between~` / Python
 * mode; the text returned keeps the source's case.
 *
 * Null or non-string source/left/right give null. When `left` or `right` is not found:
 * 'elasticsearch' returns "" (documented), 'python' returns null. An empty `left` is found at 0,
 * an empty `right` right after `left` (greedy: at the end).
 */
import { foldSameLength, isNull } from '../values.js';
import type { FunctionDef } from './types.js';

export const between: FunctionDef = {
  name: 'between',
  minArgs: 3,
  maxArgs: 4,
  caseSensitivity: 'flag',
  argKinds: ['string', 'string', 'string', 'boolean'],
  fn: (args, ctx) => {
    const source = args[0];
    const left = args[1];
    const right = args[2];
    const greedyArg = args.length > 3 ? args[3] : false;
    if (typeof source !== 'string' || typeof left !== 'string' || typeof right !== 'string') return null;
    if (!isNull(greedyArg) && typeof greedyArg !== 'boolean') return null;
    const greedy = greedyArg === true;
    const notFound = ctx.semantics === 'python' ? null : '';
    const s = ctx.caseInsensitive ? foldSameLength(source) : source;
    const l = ctx.caseInsensitive ? foldSameLength(left) : left;
    const r = ctx.caseInsensitive ? foldSameLength(right) : right;
    const at = s.indexOf(l);
    if (at < 0) return notFound;
    const start = at + l.length;
    let end: number;
    if (greedy) {
      end = s.lastIndexOf(r);
      if (end < start) return notFound;
    } else {
      end = s.indexOf(r, start);
      if (end < 0) return notFound;
    }
    return source.slice(start, end);
  },
};
