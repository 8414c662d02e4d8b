/**
 * match(source, regex, ...), matchLite(source, regex, ...), wildcard(source, glob, ...): the
 * Python engine's pattern functions (also callable in 'elasticsearch' mode, with the same
 * pattern flavour).
 *
 *  - match / matchLite: `re.match` of the patterns joined with `|`, DOTALL: anchored at the start
 *    only. The legacy argument order `match("regex", field)` is swapped as Python does.
 *  - wildcard: only `*` is special; the whole value must match.
 * Patterns must be constant strings (compiled once; an invalid regex is a compile error). Case is
 * folded when the call is case-insensitive. A null source is null; a non-string source is null in
 * 'python'; 'elasticsearch' tests numbers by their string form and arrays element by element
 * (see ../patterns.ts).
 */
import type { ValueExpr } from '../../../ir/types.js';
import { regexTest, testValue, wildcardTest, type StringTest } from '../patterns.js';
import type { CompileContext, FunctionDef } from './types.js';
import type { Evaluator } from '../values.js';

function constantPatterns(name: string, args: ValueExpr[], ctx: CompileContext): string[] {
  return args.map((a, i) => {
    const c = ctx.constant(a);
    if (c === undefined || typeof c.value !== 'string') {
      throw new Error(`${name}: argument ${i + 2} must be a constant string pattern`);
    }
    return c.value;
  });
}

function patternFunction(name: string, build: (patterns: string[], ci: boolean) => StringTest, swapLegacy: boolean): FunctionDef {
  return {
    name,
    minArgs: 2,
    maxArgs: Infinity,
    caseSensitivity: 'flag',
    argKinds: ['string'],
    restKind: 'string',
    compile: (args, ctx): Evaluator => {
      let list = args;
      if (swapLegacy && args.length === 2 && args[0]!.type === 'literal' && typeof args[0]!.value === 'string' && args[1]!.type !== 'literal') {
        list = [args[1]!, args[0]!];
      }
      const test = build(constantPatterns(name, list.slice(1), ctx), ctx.caseInsensitive);
      const source = ctx.compile(list[0]!);
      const semantics = ctx.semantics;
      return (ev) => testValue(test, source(ev), semantics);
    },
  };
}

export const match = patternFunction('match', (p, ci) => regexTest(p, ci, 'python'), true);
export const matchLite = patternFunction('matchLite', (p, ci) => regexTest(p, ci, 'python'), true);
export const wildcard = patternFunction('wildcard', (p, ci) => wildcardTest(p, ci, 'python'), false);
