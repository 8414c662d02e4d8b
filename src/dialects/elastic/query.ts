/**
 * Elastic `query` rules: a KQL (or KQL-compatible Lucene) filter over the rule's index.
 * One stage: `filter` with the query's predicate. The query's syntax errors are reported at
 * their place in the rule file, with the query line and a caret.
 */
import type { RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { queryErrorInFile } from './query-errors.js';
import { KqlSyntaxError, KqlUnsupportedError, kqlToPredicate, parseKql, type KqlNode } from './kql/index.js';
import { luceneAsKql } from './lucene.js';
import { elasticMetadata, type Obj } from './metadata.js';

/**
 * A `query` rule -> RuleIR, or UnsupportedRule when its query cannot run here.
 * `input` has been checked by the caller.
 */
export function queryRule(
  r: Obj,
  base: { id: string; name: string; ruleType: string; file: string },
  input: 'okta' | 'alerts' | 'both',
  text: string,
): RuleIR | UnsupportedRule {
  const query = r['query'];
  const language = typeof r['language'] === 'string' ? r['language'] : 'kuery';
  if (typeof query !== 'string') throw new RuleError(base.file, 'a query rule needs a string field query');

  let ast: KqlNode;
  if (language === 'kuery') {
    try {
      ast = parseKql(query);
    } catch (e) {
      if (e instanceof KqlSyntaxError) throw queryErrorInFile('KQL', e, text, query, base.file);
      throw e;
    }
  } else {
    const same = language === 'lucene' ? luceneAsKql(query) : undefined;
    if (same === undefined) {
      return { ...base, dialect: 'elastic', status: 'unsupported', reason: `not yet supported: elastic/query (${language})` };
    }
    ast = same;
  }

  let predicate;
  try {
    predicate = kqlToPredicate(ast);
  } catch (e) {
    if (e instanceof KqlUnsupportedError) {
      return { ...base, dialect: 'elastic', status: 'unsupported', reason: `not supported: elastic/query: ${e.message}` };
    }
    throw e;
  }
  return { ...elasticMetadata(r, base), input, stages: [{ type: 'filter', predicate }] };
}
