/**
 * KQL syntax tree -> IR predicate, with the meaning Kibana's detection engine gives each node
 * when it builds the Elasticsearch query (kbn-es-query `kuery/functions/*.ts`), on the Okta
 * integration's ECS fields (schema 'ecs'):
 *
 *  - `a or b`, `a and b`          -> or / and.
 *  - `not q`                      -> not: Elasticsearch `bool.must_not`, so an event without the
 *                                    field satisfies `not f:v`, and a multi-valued field is
 *                                    excluded when any of its values matches (compare tests any
 *                                    element; not negates that).
 *  - `f:v` (unquoted or quoted)   -> eq. The Okta fields are `keyword` (term query): exact and
 *                                    case-SENSITIVE. Booleans and numbers compare by their string
 *                                    form (`is_proxy:true` matches JSON true and "true", as the
 *                                    boolean mapping does).
 *  - `f:a*b` (unquoted `*`)       -> wildcard (whole value, `*` any run, case-sensitive). Only
 *                                    `*` is a wildcard in KQL; `?` and `\` are literal.
 *  - `f:"a*b"`                    -> eq: quotes make a phrase, never a wildcard.
 *  - `f:*`                        -> exists (a JSON null is no value).
 *  - `*:*`, the empty query       -> always true.
 *  - `f < v`, `<=`, `>`, `>=`     -> lt / lte / gt / gte (numeric when both sides are numbers,
 *                                    else lexical, which orders ISO-8601 timestamps).
 *                                    Elasticsearch date math (`now-1d`, `||`) is refused.
 *  - `p:{ q }`                    -> q with its field names prefixed by `p.`.
 *  - bare `v` (no field)          -> keyword search over every value of the event.
 *  - `okta.target.*: v`           -> OR of `f:v` over the fields the pattern matches (fields.ts);
 *                                    none matching -> false.
 */
import type { CompareOptions, FieldRef, Predicate } from '../../../ir/types.js';
import { escapeWildcard } from '../../../engine/predicate/index.js';
import { isLoneWildcard, type KqlNode, type RangeOperator, type ValueNode } from './ast.js';
import { KqlUnsupportedError } from './errors.js';
import { expandFieldPattern } from './fields.js';

/** Keyword fields: term / wildcard queries are exact and case-sensitive. */
const KEYWORD: CompareOptions = { caseSensitive: true, coerce: 'string' };

/** A field name as literal parts between wildcards: `okta.target.*` is ['okta.target.', '']. */
type FieldPattern = string[];

const TRUE: Predicate = { type: 'const', value: true };
const FALSE: Predicate = { type: 'const', value: false };

function ecs(name: string): FieldRef {
  return { name, schema: 'ecs' };
}

function fieldPattern(node: ValueNode): FieldPattern {
  return node.type === 'wildcard' ? [...node.parts] : [String(node.value)];
}

/** `prefix.` + field, for nested queries; both may hold wildcards. */
function joinPattern(prefix: FieldPattern | undefined, field: FieldPattern): FieldPattern {
  if (!prefix) return field;
  const out = [...prefix];
  out[out.length - 1] += `.${field[0]!}`;
  return [...out, ...field.slice(1)];
}

/** The concrete field names a field pattern stands for. */
function fieldNames(pattern: FieldPattern): string[] {
  return pattern.length === 1 ? [pattern[0]!] : expandFieldPattern(pattern);
}

/** One predicate per field, OR-linked (an empty expansion matches nothing). */
function overFields(names: string[], each: (field: FieldRef) => Predicate): Predicate {
  if (names.length === 0) return FALSE;
  if (names.length === 1) return each(ecs(names[0]!));
  return { type: 'or', args: names.map((n) => each(ecs(n))) };
}

/** The canonical IR glob for a KQL wildcard value: its literal parts escaped, joined by `*`. */
function irWildcard(parts: readonly string[]): string {
  return parts.map(escapeWildcard).join('*');
}

function literalString(value: string | boolean | null): string {
  return String(value);
}

function isPredicate(field: FieldPattern | null, value: ValueNode): Predicate {
  if (field === null) {
    // Free text: Kibana's multi_match / query_string over all fields.
    if (value.type === 'wildcard') return { type: 'keyword', op: 'wildcard', values: [irWildcard(value.parts)], options: KEYWORD };
    return { type: 'keyword', op: 'eq', values: [literalString(value.value)], options: KEYWORD };
  }
  if (isLoneWildcard(value)) {
    if (field.length === 2 && field[0] === '' && field[1] === '') return TRUE;
    return overFields(fieldNames(field), (f) => ({ type: 'exists', field: f, nullIsMissing: true }));
  }
  if (value.type === 'wildcard') {
    const glob = irWildcard(value.parts);
    return overFields(fieldNames(field), (f) => ({ type: 'compare', field: f, op: 'wildcard', values: [glob], options: KEYWORD }));
  }
  const text = literalString(value.value);
  return overFields(fieldNames(field), (f) => ({ type: 'compare', field: f, op: 'eq', values: [text], options: KEYWORD }));
}

const DATE_MATH = /^now([+\-/]|$)|\|\|/;

function rangePredicate(field: FieldPattern, op: RangeOperator, value: ValueNode): Predicate {
  const text = value.type === 'wildcard' ? irWildcard(value.parts) : literalString(value.value);
  if (DATE_MATH.test(text)) {
    throw new KqlUnsupportedError(`date math in a range (${text}) is resolved by Elasticsearch at run time; not supported`);
  }
  return overFields(fieldNames(field), (f) => ({ type: 'compare', field: f, op, values: [text], options: KEYWORD }));
}

/** Translates a KQL tree to an IR predicate over ECS fields. Throws KqlUnsupportedError. */
export function kqlToPredicate(node: KqlNode, prefix?: FieldPattern): Predicate {
  switch (node.type) {
    case 'match_all':
      return TRUE;
    case 'or':
    case 'and':
      return { type: node.type, args: node.args.map((a) => kqlToPredicate(a, prefix)) };
    case 'not':
      return { type: 'not', arg: kqlToPredicate(node.arg, prefix) };
    case 'is':
      return isPredicate(node.field === null ? null : joinPattern(prefix, fieldPattern(node.field)), node.value);
    case 'range':
      return rangePredicate(joinPattern(prefix, fieldPattern(node.field)), node.op, node.value);
    case 'nested':
      return kqlToPredicate(node.query, joinPattern(prefix, fieldPattern(node.path)));
  }
}
