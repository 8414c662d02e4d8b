/**
 * `language = "lucene"` query rules run only when the query reads the same in KQL.
 *
 * Kibana sends a Lucene query to Elasticsearch's `query_string`. Many simple queries
 * (`event.action:zone.delete AND NOT user.name:admin*`) mean the same thing in both languages;
 * these are run with the KQL parser. A query is accepted only when it has none of the places
 * where the two differ:
 *  - Lucene-only syntax: `\`, `?` (a wildcard in Lucene, a letter in KQL), `~` `^` `/` `[` `]`
 *    `{` `}` `!` `&&` `||`, and `+`/`-` in front of a term;
 *  - lower- or mixed-case `and`/`or`/`not`: words in Lucene, operators in KQL;
 *  - an unquoted value or field with whitespace inside: one value in KQL, several terms
 *    (default operator OR) in Lucene;
 *  - AND and OR in the same parenthesis level, and NOT under OR: Lucene has no precedence
 *    (`a OR b AND c` makes b and c required, a optional), KQL does;
 *  - ranges (`f < 5` is not Lucene; `f:[1 TO 5]` is not KQL), free text without a field,
 *    wildcards in field names.
 */
import { parseKql, type KqlNode, type ValueNode } from './kql/index.js';

const LUCENE_ONLY = /[?~^/[\]{}!]|&&|\|\|/;
const SIGN_BEFORE_TERM = /(^|[\s(:])[+-]/;
const WORD = /[A-Za-z]+/g;
const OPERATOR_WORDS = new Set(['and', 'or', 'not']);

/** The query with the contents of double-quoted phrases blanked out. */
function outsideQuotes(query: string): string {
  return query.replace(/"(?:[^"\\]|\\.)*"/g, (m) => '"' + ' '.repeat(m.length - 2) + '"');
}

function operatorsAreUpperCase(text: string): boolean {
  for (const m of text.matchAll(WORD)) {
    if (OPERATOR_WORDS.has(m[0].toLowerCase()) && m[0] !== m[0].toUpperCase()) return false;
  }
  return true;
}

/** No parenthesis level holds both AND and OR. */
function noMixedOperators(text: string): boolean {
  const levels: Set<string>[] = [new Set()];
  for (const m of text.matchAll(/\(|\)|\b(AND|OR)\b/g)) {
    if (m[0] === '(') levels.push(new Set());
    else if (m[0] === ')') levels.pop();
    else {
      const level = levels[levels.length - 1];
      if (!level) return false;
      level.add(m[0]);
      if (level.size > 1) return false;
    }
  }
  return true;
}

function plainValue(node: ValueNode): boolean {
  if (node.type === 'wildcard') return !node.parts.some((p) => /\s/.test(p));
  return node.quoted || typeof node.value !== 'string' || !/\s/.test(node.value);
}

function sameMeaning(node: KqlNode): boolean {
  switch (node.type) {
    case 'match_all':
      return true;
    case 'and':
      return node.args.every(sameMeaning);
    case 'or':
      return node.args.every((a) => a.type !== 'not' && sameMeaning(a));
    case 'not':
      return sameMeaning(node.arg);
    case 'is':
      return node.field !== null && node.field.type === 'literal' && plainValue(node.field) && plainValue(node.value);
    case 'range':
    case 'nested':
      return false;
  }
}

/** The query parsed as KQL when it means the same in Lucene; undefined otherwise. */
export function luceneAsKql(query: string): KqlNode | undefined {
  const text = outsideQuotes(query);
  if (query.includes('\\') || LUCENE_ONLY.test(text) || SIGN_BEFORE_TERM.test(text)) return undefined;
  if (!operatorsAreUpperCase(text) || !noMixedOperators(text)) return undefined;
  let ast: KqlNode;
  try {
    ast = parseKql(query);
  } catch {
    return undefined;
  }
  return sameMeaning(ast) ? ast : undefined;
}
