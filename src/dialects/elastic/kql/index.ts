/**
 * KQL (Kibana Query Language) for Elastic `query` rules:
 *   grammar.ts     text -> syntax tree (Kibana's grammar.peggy)
 *   characters.ts  escapes, keywords, whitespace
 *   ast.ts         the syntax tree
 *   fields.ts      field names and wildcard field patterns
 *   to-ir.ts       syntax tree -> IR predicate (Kibana's kuery functions' meaning)
 */
import type { Predicate } from '../../../ir/types.js';
import { parseKql } from './grammar.js';
import { kqlToPredicate } from './to-ir.js';

export type { KqlNode, LiteralNode, ValueNode, WildcardNode, RangeOperator } from './ast.js';
export { KqlSyntaxError, KqlUnsupportedError } from './errors.js';
export { KQL_FIELD_NAMES, expandFieldPattern } from './fields.js';
export { parseKql, kqlToPredicate };

/** KQL text -> IR predicate over ECS fields. Throws KqlSyntaxError or KqlUnsupportedError. */
export function kqlPredicate(query: string): Predicate {
  return kqlToPredicate(parseKql(query));
}
