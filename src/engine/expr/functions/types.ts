/**
 * The shape of a function in the registry (see index.ts for the list and the common rules).
 */
import type { ExprSemantics, ValueExpr } from '../../../ir/types.js';
import type { Evaluator } from '../values.js';

/** Argument kinds, checked against literal arguments when the rule compiles (the EQL verifier). */
export type ArgKind = 'string' | 'number' | 'boolean' | 'primitive' | 'any';

export interface CallContext {
  semantics: ExprSemantics;
  /** The call's `caseInsensitive` (`fn~(...)`, or every node in Python mode). */
  caseInsensitive: boolean;
}

export interface CompileContext extends CallContext {
  name: string;
  /** Compiles an argument. */
  compile(e: ValueExpr): Evaluator;
  /** The value of an argument when it is known at compile time (a literal, a constant subexpression). */
  constant(e: ValueExpr): { value: unknown } | undefined;
  /**
   * Compiles `body` with a variable in scope: field references named `name` or `name.path`
   * read `slot.value` (the lambda variable of arraySearch/arrayCount).
   */
  withVariable<T>(name: string, body: (slot: { value: unknown }) => T): T;
}

export interface FunctionDef {
  name: string;
  minArgs: number;
  /** `Infinity` for variadic functions. */
  maxArgs: number;
  /** 'flag': string matching honours the call's case-insensitivity; 'none': case plays no part. */
  caseSensitivity: 'flag' | 'none';
  /** Kinds of the leading arguments; `restKind` for the others. Null literals are always accepted. */
  argKinds?: ArgKind[];
  restKind?: ArgKind;
  /**
   * How a multi-valued (array) argument reaches `fn` in 'elasticsearch' mode (Python mode always
   * passes values as they are; each function then type-checks like `eql/functions.py`):
   *  - 'first' (default): every array argument is reduced to its first doc value (values.ts);
   *  - 'any': the first argument is tested element by element and the results OR-ed (Kleene),
   *    as the query Elasticsearch translates the predicate into; other arguments as 'first';
   *  - 'whole': arrays are passed as they are.
   */
  esArrays?: 'first' | 'any' | 'whole';
  /**
   * The function over evaluated arguments (null for null/missing; `args.length` is the number of
   * arguments written, so an omitted optional argument is distinguishable from an explicit null).
   * Must not keep `args`: the array is reused.
   */
  fn?: (args: readonly unknown[], ctx: CallContext) => unknown;
  /** Compile-time specialisation (constant patterns, lambdas) instead of `fn`. */
  compile?: (args: ValueExpr[], ctx: CompileContext) => Evaluator;
}
