/**
 * The EQL syntax tree, after the Python `eql` engine's AST (`eql/ast.py`): what was written,
 * nothing decided. What a node means on an event (case folding, wildcards, null handling,
 * Elasticsearch vs Python semantics) is decided when it is translated to the IR (to-ir.ts).
 * Every node carries `at`, its offset in the query, for messages.
 */

export type Literal = string | number | boolean | null;

export type Expr =
  | { kind: 'literal'; value: Literal; at: number }
  /** `a.b[0].c`; `name` is that canonical spelling, `optional` is `?a.b`. */
  | { kind: 'field'; name: string; path: (string | number)[]; optional: boolean; at: number }
  /** `name(args)`; `insensitive` is `name~(args)`. */
  | { kind: 'call'; name: string; args: Expr[]; insensitive: boolean; at: number }
  /** Python `value:name(args)`, the same as `name(value, args)`. */
  | { kind: 'method'; name: string; target: Expr; args: Expr[]; at: number }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/' | '%'; left: Expr; right: Expr; at: number }
  | { kind: 'neg'; arg: Expr; at: number }
  /** `==` (Python also `=`), `!=`, `<`, `<=`, `>`, `>=`. */
  | { kind: 'compare'; op: CompareOperator; left: Expr; right: Expr; at: number }
  /** `x in (...)`, `x in~ (...)`, `x not in (...)`, `x not in~ (...)`. */
  | { kind: 'in'; arg: Expr; values: Expr[]; insensitive: boolean; negated: boolean; at: number }
  /** `x : p`, `x like p`, `x like~ p`, `x regex p`, `x regex~ p`; p a literal or a list of them. */
  | { kind: 'match'; op: ':' | 'like' | 'regex'; insensitive: boolean; arg: Expr; patterns: Expr[]; at: number }
  | { kind: 'and'; args: Expr[]; at: number }
  | { kind: 'or'; args: Expr[]; at: number }
  | { kind: 'not'; arg: Expr; at: number }
  /** Python lineage: `child of [...]`, `descendant of [...]`, `event of [...]`. */
  | { kind: 'of'; relation: string; query: EventQuery; at: number };

export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** `category where condition`; `category` null for `any` (or a Python query without `where`). */
export interface EventQuery {
  category: string | null;
  where: Expr;
  at: number;
}

/** One `[ ... ]` of a sequence, sample, join or until. */
export interface Subquery {
  query: EventQuery;
  /** `![ ... ]`: a missing event. */
  missing: boolean;
  by: Expr[];
  /** `with runs=N`. */
  runs?: number;
  /** Python `fork` / `fork=true|false`. */
  fork?: boolean;
  at: number;
}

export interface TimeSpan {
  value: number;
  unit: string;
  ms: number;
  at: number;
}

export interface Pipe {
  name: string;
  args: Expr[];
  at: number;
}

export type Query =
  | { kind: 'event'; query: EventQuery; pipes: Pipe[] }
  | { kind: 'sequence'; by: Expr[]; maxspan?: TimeSpan; subqueries: Subquery[]; until?: Subquery; pipes: Pipe[]; at: number }
  | { kind: 'sample'; by: Expr[]; subqueries: Subquery[]; pipes: Pipe[]; at: number }
  | { kind: 'join'; by: Expr[]; subqueries: Subquery[]; until?: Subquery; pipes: Pipe[]; at: number };
