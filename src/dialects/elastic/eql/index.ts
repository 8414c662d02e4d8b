/**
 * EQL (Event Query Language) for Elastic `eql` rules and the Python engine's conformance suite:
 *   lexer.ts    text -> tokens (both dialects; Python-only forms refused in Elasticsearch syntax)
 *   parser.ts   tokens -> syntax tree (the Python engine's Lark grammar, Elasticsearch's ANTLR one)
 *   ast.ts      the syntax tree
 *   to-ir.ts    syntax tree -> IR stages (Elasticsearch or Python semantics)
 *   errors.ts   EqlSyntaxError (line, column, caret), EqlQueryError (an invalid query, by place),
 *               EqlUnsupportedError (the construct, by name)
 */
import { EqlQueryError } from './errors.js';
import { parseEql } from './parser.js';
import { queryToStages, type EqlIr, type EqlToIrOptions } from './to-ir.js';

export type { Query, EventQuery, Subquery, Expr, Pipe, TimeSpan, Literal, CompareOperator } from './ast.js';
export type { Syntax } from './lexer.js';
export type { EqlToIrOptions, EqlIr } from './to-ir.js';
export { EqlSyntaxError, EqlQueryError, EqlUnsupportedError } from './errors.js';
export { parseEql, parseEqlExpression, PIPES, MAX_NESTING } from './parser.js';
export { queryToStages, conditionToPredicate, exprToValue, luceneRegexToRe2 } from './to-ir.js';

/** EQL text -> IR stages. Throws EqlSyntaxError (also for an invalid query) or EqlUnsupportedError. */
export function eqlToStages(text: string, options: EqlToIrOptions): EqlIr {
  try {
    return queryToStages(parseEql(text, { syntax: options.syntax ?? 'elasticsearch' }), options);
  } catch (e) {
    if (e instanceof EqlQueryError) throw e.toSyntaxError(text);
    throw e;
  }
}
