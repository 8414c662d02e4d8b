/**
 * The KQL syntax tree, after Kibana's kbn-es-query `kuery` node types: function nodes
 * (`or`, `and`, `not`, `is`, `range`, `nested`) over literal and wildcard nodes.
 *
 * The tree says only what was written; what it means on an event (exists, phrase, case,
 * field expansion) is decided when it is translated to the IR (to-ir.ts), as Kibana decides it
 * when it builds the Elasticsearch query (`functions/is.ts`, `range.ts`, `not.ts`...).
 */

/**
 * A plain value or field name. Unquoted `true`/`false`/`null` are typed literals (Kibana
 * `UnquotedLiteral`); every other value, numbers included, stays a string ("070" is "070").
 */
export interface LiteralNode {
  type: 'literal';
  value: string | boolean | null;
  /** Written in double quotes (a phrase: never a wildcard, never a keyword). */
  quoted: boolean;
}

/**
 * An unquoted value or field name with at least one unescaped `*`. `parts` is the literal text
 * between the stars: `okta*` is ['okta', ''], `*admin*` is ['', 'admin', ''], `*` is ['', ''].
 */
export interface WildcardNode {
  type: 'wildcard';
  parts: string[];
}

export type ValueNode = LiteralNode | WildcardNode;

export type RangeOperator = 'lt' | 'lte' | 'gt' | 'gte';

export type KqlNode =
  | { type: 'or'; args: KqlNode[] }
  | { type: 'and'; args: KqlNode[] }
  | { type: 'not'; arg: KqlNode }
  /** `field:value`; `field` is null for a bare value (free text over all fields). */
  | { type: 'is'; field: ValueNode | null; value: ValueNode }
  /** `field < value`, `<=`, `>`, `>=`. */
  | { type: 'range'; field: ValueNode; op: RangeOperator; value: ValueNode }
  /** `path:{ query }`: the fields of `query` are sub-fields of `path`. */
  | { type: 'nested'; path: ValueNode; query: KqlNode }
  /** The empty query (Kibana builds `is('*', '*')`): every event. */
  | { type: 'match_all' };

/** `*` alone: the value of an exists query, the field of a match-all query. */
export function isLoneWildcard(node: ValueNode | null): boolean {
  return node !== null && node.type === 'wildcard' && node.parts.length === 2 && node.parts[0] === '' && node.parts[1] === '';
}

