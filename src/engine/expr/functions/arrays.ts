/**
 * The Python engine's array functions.
 *
 *  - arrayContains(array, value, ...): whether an element equals one of the values (strings
 *    folded when case-insensitive; a null value matches a null element). A null array is null.
 *    'python': a non-list is null; 'elasticsearch': a single value is a one-element array and
 *    nested arrays are flattened.
 *  - arraySearch(array, x, condition) / arrayCount(array, x, condition): whether some element /
 *    how many elements make `condition` true, where the field reference `x` (and `x.path`) in
 *    `condition` is the element. The IR has no lambda node: the dialect passes the variable as a
 *    `field` expression whose name is the variable, and references to it as fields named
 *    `x` / `x.a.b` (resolved against the element with the okta path rules: case-insensitive keys,
 *    arrays traversed). A value that is not a list gives false / 0 (Python); in
 *    'elasticsearch' mode a single non-null value is a one-element list.
 */
import { compilePath } from '../../../schema/path.js';
import { eqScalars } from '../compare.js';
import { isNull, toKleene, type Evaluator } from '../values.js';
import type { CallContext, CompileContext, FunctionDef } from './types.js';
import type { ValueExpr } from '../../../ir/types.js';

function elementMatches(x: unknown, values: readonly unknown[], ctx: CallContext): boolean {
  for (let j = 1; j < values.length; j++) {
    const v = values[j];
    if (isNull(v) || isNull(x)) {
      if (isNull(v) && isNull(x)) return true;
      continue;
    }
    if (Array.isArray(x) || Array.isArray(v)) continue;
    if (eqScalars(x, v, ctx.caseInsensitive, ctx.semantics) === true) return true;
  }
  return false;
}

function containsIn(arr: unknown[], values: readonly unknown[], ctx: CallContext, flatten: boolean): boolean {
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (flatten && Array.isArray(x)) {
      if (containsIn(x, values, ctx, true)) return true;
    } else if (elementMatches(x, values, ctx)) {
      return true;
    }
  }
  return false;
}

export const arrayContains: FunctionDef = {
  name: 'arrayContains',
  minArgs: 2,
  maxArgs: Infinity,
  caseSensitivity: 'flag',
  argKinds: ['any'],
  restKind: 'primitive',
  esArrays: 'whole',
  fn: (args, ctx) => {
    const arr = args[0];
    if (isNull(arr)) return null;
    if (Array.isArray(arr)) return containsIn(arr, args, ctx, ctx.semantics === 'elasticsearch');
    if (ctx.semantics === 'python') return null;
    return elementMatches(arr, args, ctx);
  },
};

function variableName(fn: string, e: ValueExpr): string {
  if (e.type !== 'field' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.field.name)) {
    throw new Error(`${fn}: the second argument must be a variable name`);
  }
  return e.field.name;
}

function lambdaFunction(name: string, count: boolean): FunctionDef {
  return {
    name,
    minArgs: 3,
    maxArgs: 3,
    caseSensitivity: 'none',
    compile: (args, ctx: CompileContext): Evaluator => {
      const array = ctx.compile(args[0]!);
      const variable = variableName(name, args[1]!);
      const semantics = ctx.semantics;
      return ctx.withVariable(variable, (slot) => {
        const body = ctx.compile(args[2]!);
        const holds = (item: unknown, ev: Parameters<Evaluator>[0]): boolean => {
          slot.value = item;
          return toKleene(body(ev), semantics) === true;
        };
        return (ev) => {
          const arr = array(ev);
          if (!Array.isArray(arr)) {
            if (semantics === 'python' || isNull(arr)) return count ? 0 : false;
            return count ? (holds(arr, ev) ? 1 : 0) : holds(arr, ev);
          }
          let n = 0;
          for (let i = 0; i < arr.length; i++) {
            if (holds(arr[i], ev)) {
              if (!count) return true;
              n++;
            }
          }
          return count ? n : false;
        };
      });
    },
  };
}

export const arraySearch = lambdaFunction('arraySearch', false);
export const arrayCount = lambdaFunction('arrayCount', true);

/** Reads `path` (after the variable name) from a lambda variable's value. */
export function variablePath(rest: string): (v: unknown) => unknown {
  if (rest === '') return (v) => v;
  const get = compilePath(rest, { caseInsensitive: true });
  return (v) => (isNull(v) || typeof v !== 'object' ? null : get(v));
}
