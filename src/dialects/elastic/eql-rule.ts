/**
 * Elastic `eql` rules: an EQL query (Elasticsearch syntax and semantics, eql/) over the rule's
 * index. An event query is one `filter` stage; a sequence is the OR of its clauses as the head
 * filter, then a `sequence` stage; a sample likewise; `| head` / `| tail` become pipe stages
 * over windows of the rule's `interval` (the results of one execution).
 *
 * Rule fields:
 *  - `event_category_override`: the event category field (default `event.category`);
 *  - `timestamp_field` other than `@timestamp`, `tiebreaker_field`: events are ordered by their
 *    time (`@timestamp` = Okta `published`) here; the rule runs, with a note in its description;
 *  - `timestamp_override` only moves Kibana's range filter, nothing to do here;
 *  - `from` (the look-back, `now-6m` when absent): a sequence without `maxspan` keeps a pending
 *    sequence for at most that span of event time from its first event (SequenceStage.stateTtlMs):
 *    one Kibana execution searches `[from, now]`, so it never finds a longer sequence (see
 *    docs/elastic.md, "EQL sequences across executions"). A `from` this engine cannot read leaves
 *    the state unbounded, with a note.
 * Field names are ECS (schema 'ecs' also reads alert documents, so one schema serves the
 * inputs okta, alerts and both). Syntax errors are reported at their place in the rule file
 * with the query line and a caret; constructs Elasticsearch EQL refuses (join, lineage, pipes
 * other than head/tail, unknown functions) make the rule unsupported, by name.
 */
import type { RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { EqlQueryError, EqlSyntaxError, EqlUnsupportedError, parseEql, queryToStages, type Query } from './eql/index.js';
import { queryErrorInFile } from './query-errors.js';
import { elasticMetadata, type Obj } from './metadata.js';
import { historyWindowMs } from './date-math.js';
import { intervalMs } from './suppression.js';
import { DEFAULT_FROM } from './threshold.js';

/**
 * An `eql` rule -> RuleIR, or UnsupportedRule when its query cannot run here.
 * `input` has been checked by the caller.
 */
export function eqlRule(
  r: Obj,
  base: { id: string; name: string; ruleType: string; file: string },
  input: 'okta' | 'alerts' | 'both',
  text: string,
): RuleIR | UnsupportedRule {
  const query = r['query'];
  const language = typeof r['language'] === 'string' ? r['language'] : 'eql';
  if (typeof query !== 'string') throw new RuleError(base.file, 'an eql rule needs a string field query');
  if (language !== 'eql') {
    return { ...base, dialect: 'elastic', status: 'unsupported', reason: `not supported: elastic/eql with language ${language}` };
  }
  const override = r['event_category_override'];
  if (override !== undefined && (typeof override !== 'string' || override.trim() === '')) {
    throw new RuleError(base.file, 'event_category_override must be a field name');
  }
  const windowMs = intervalMs(r, base.file);

  let ast: Query;
  try {
    ast = parseEql(query, { syntax: 'elasticsearch' });
  } catch (e) {
    if (e instanceof EqlSyntaxError) throw queryErrorInFile('EQL', e, text, query, base.file);
    throw e;
  }

  let stages;
  try {
    stages = queryToStages(ast, {
      syntax: 'elasticsearch',
      schema: 'ecs',
      categoryField: typeof override === 'string' ? override.trim() : 'event.category',
      windowMs,
    }).stages;
  } catch (e) {
    if (e instanceof EqlUnsupportedError) {
      return { ...base, dialect: 'elastic', status: 'unsupported', reason: `not supported: elastic/eql: ${e.message}` };
    }
    // Unknown function, wrong arity, mismatched join keys: an error at its place in the file.
    if (e instanceof EqlQueryError) throw queryErrorInFile('EQL', e.toSyntaxError(query), text, query, base.file);
    throw e;
  }

  const meta = elasticMetadata(r, base);
  const notes: string[] = [];
  for (const st of stages) {
    if (st.type !== 'sequence' || st.maxspanMs !== undefined) continue;
    const from = r['from'] ?? DEFAULT_FROM;
    const lookBack = typeof from === 'string' ? historyWindowMs(from) : undefined;
    if (lookBack !== undefined && lookBack > 0) st.stateTtlMs = lookBack;
    else notes.push(`from ${JSON.stringify(from)} is not a look-back this engine reads (now-N): pending sequences are kept until until or forever`);
  }
  const ts = r['timestamp_field'];
  if (typeof ts === 'string' && ts !== '@timestamp') {
    notes.push(`timestamp_field ${ts} is not honoured: events are ordered by @timestamp (Okta published)`);
  }
  const tie = r['tiebreaker_field'];
  if (typeof tie === 'string' && tie !== '') notes.push(`tiebreaker_field ${tie} is not honoured: events with equal times keep their input order`);
  if (notes.length > 0) {
    const note = `[oktopus] ${notes.join('; ')}.`;
    meta.description = meta.description ? `${meta.description}\n\n${note}` : note;
  }
  return { ...meta, input, stages };
}
