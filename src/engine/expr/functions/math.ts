/**
 * Arithmetic: add, subtract, multiply, divide, modulo, and the `+ - * / %` operators.
 *
 * Operands must be numbers (not booleans, not numeric strings); anything else, or null, gives
 * null. A division or modulo by zero is null. Integer operands (Number.isInteger: JSON and the IR
 * do not keep `4.0` apart from `4`) divide as integers:
 *  - 'elasticsearch': Java semantics, truncated toward zero; `%` takes the dividend's sign;
 *  - 'python': `//` floors; `%` takes the divisor's sign (for floats too).
 * A non-finite result (overflow) is null.
 */
import type { ExprSemantics } from '../../../ir/types.js';
import { isNumber } from '../values.js';
import type { FunctionDef } from './types.js';

export type ArithOp = '+' | '-' | '*' | '/' | '%';

export function arith(op: ArithOp, a: unknown, b: unknown, semantics: ExprSemantics): number | null {
  if (!isNumber(a) || !isNumber(b)) return null;
  let r: number;
  switch (op) {
    case '+':
      r = a + b;
      break;
    case '-':
      r = a - b;
      break;
    case '*':
      r = a * b;
      break;
    case '/':
      if (b === 0) return null;
      r = a / b;
      if (Number.isInteger(a) && Number.isInteger(b)) r = semantics === 'python' ? Math.floor(r) : Math.trunc(r);
      break;
    case '%':
      if (b === 0) return null;
      r = a % b;
      if (semantics === 'python' && r !== 0 && r < 0 !== b < 0) r += b;
      break;
  }
  return Number.isFinite(r) ? r : null;
}

function mathFunction(name: string, op: ArithOp): FunctionDef {
  return {
    name,
    minArgs: 2,
    maxArgs: 2,
    caseSensitivity: 'none',
    argKinds: ['number', 'number'],
    fn: (args, ctx) => arith(op, args[0], args[1], ctx.semantics),
  };
}

export const add = mathFunction('add', '+');
export const subtract = mathFunction('subtract', '-');
export const multiply = mathFunction('multiply', '*');
export const divide = mathFunction('divide', '/');
export const modulo = mathFunction('modulo', '%');
