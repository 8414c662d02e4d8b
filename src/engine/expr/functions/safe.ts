/**
 * safe(expr): the value of `expr`, or null if evaluating it fails. Nothing in this evaluator
 * throws for an event, so this is `expr` with a guard.
 */
import type { FunctionDef } from './types.js';

export const safe: FunctionDef = {
  name: 'safe',
  minArgs: 1,
  maxArgs: 1,
  caseSensitivity: 'none',
  compile: (args, ctx) => {
    const inner = ctx.compile(args[0]!);
    return (ev) => {
      try {
        return inner(ev);
      } catch {
        return null;
      }
    };
  },
};
