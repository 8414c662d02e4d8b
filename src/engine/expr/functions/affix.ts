/**
 * startsWith(source, sub), endsWith(source, sub), stringContains(source, sub).
 *
 * Case-sensitive unless the call is case-insensitive (`startsWith~`, Python mode). A null or
 * non-string argument gives null, except Python's stringContains, which is false for anything
 * that is not two strings (`eql/functions.py`). Elasticsearch tests a multi-valued source value by
 * value (a prefix/wildcard query): true when one value matches.
 */
import { foldSameLength } from '../values.js';
import type { CallContext, FunctionDef } from './types.js';

function affix(name: string, test: (s: string, sub: string) => boolean, pythonNonString: null | false): FunctionDef {
  return {
    name,
    minArgs: 2,
    maxArgs: 2,
    caseSensitivity: 'flag',
    argKinds: ['string', 'string'],
    esArrays: 'any',
    fn: (args: readonly unknown[], ctx: CallContext) => {
      const s = args[0];
      const sub = args[1];
      if (typeof s !== 'string' || typeof sub !== 'string') return ctx.semantics === 'python' ? pythonNonString : null;
      return ctx.caseInsensitive ? test(foldSameLength(s), foldSameLength(sub)) : test(s, sub);
    },
  };
}

export const startsWith = affix('startsWith', (s, sub) => s.startsWith(sub), null);
export const endsWith = affix('endsWith', (s, sub) => s.endsWith(sub), null);
export const stringContains = affix('stringContains', (s, sub) => s.includes(sub), false);
