/**
 * Elastic detection-rules (TOML, or the Kibana / detection-rules API JSON form).
 *
 * `query` rules (KQL, or Lucene that reads the same as KQL; query.ts), `new_terms` rules
 * (new-terms.ts), `threshold` rules (threshold.ts) and `eql` rules (eql-rule.ts) are translated,
 * with their `alert_suppression` (suppression.ts: a `suppress` stage after the rule's own stages;
 * refused on EQL sequences and samples: not implemented yet). `exceptions_list` references become
 * `RuleIR.exceptionLists`; the lists themselves come from --exceptions (src/exceptions).
 * ES|QL and machine_learning rules can never run here and say so.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import type { RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import type { DialectModule, ParsedRules } from '../types.js';
import { queryRule } from './query.js';
import { newTermsRule } from './new-terms.js';
import { thresholdRule } from './threshold.js';
import { eqlRule } from './eql-rule.js';
import { parseSuppression, withSuppression } from './suppression.js';

type Obj = Record<string, unknown>;

/** Which events a rule reads, from its index patterns. */
export type ElasticInput = 'okta' | 'alerts' | 'both';

/**
 * Index patterns that hold Okta System Log events (`logs-okta*`, `filebeat-*`; no index at all
 * is the default data view, read as Okta logs) and/or security alerts (`.alerts-security.*`):
 * both kinds named -> 'both'; undefined when neither is named.
 */
export function elasticInput(index: unknown): ElasticInput | undefined {
  const list = Array.isArray(index) ? index.map(String) : [];
  const alerts = list.some((i) => i.startsWith('.alerts-security'));
  const okta = list.length === 0 || list.some((i) => /okta|filebeat-\*/.test(i));
  if (alerts) return okta ? 'both' : 'alerts';
  return okta ? 'okta' : undefined;
}

/** The `rule` object of a TOML file or of a Kibana/API JSON export. */
export function elasticRuleObject(text: string, file: string): Obj {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new RuleError(file, `not valid JSON: ${(e as Error).message}`);
    }
    const o = doc as Obj;
    return (o['rule'] as Obj | undefined) ?? o;
  }
  let doc: Obj;
  try {
    doc = parseToml(text) as Obj;
  } catch (e) {
    if (e instanceof TomlError) throw new RuleError(file, e.message.split('\n')[0]!, e.line, e.column);
    throw new RuleError(file, (e as Error).message);
  }
  const rule = doc['rule'];
  if (!rule || typeof rule !== 'object') throw new RuleError(file, 'no [rule] table');
  return rule as Obj;
}

/**
 * The exception lists a rule names (`exceptions_list`: `{id, list_id, namespace_type, type}`
 * each). An empty list (as Kibana exports carry) names none. The lists are attached later
 * (src/exceptions); a rule naming one that was not provided cannot run.
 */
function exceptionListRefs(r: Obj, file: string): RuleIR['exceptionLists'] {
  const refs = r['exceptions_list'];
  if (refs === undefined || refs === null) return undefined;
  if (!Array.isArray(refs)) throw new RuleError(file, 'exceptions_list must be a list of {id, list_id, namespace_type, type}');
  if (refs.length === 0) return undefined;
  return refs.map((ref: unknown, i) => {
    const o = (ref ?? {}) as Obj;
    const listId = o['list_id'];
    const ns = o['namespace_type'] ?? 'single';
    if (typeof listId !== 'string' || listId === '') throw new RuleError(file, `exceptions_list entry ${i + 1} has no list_id`);
    if (ns !== 'single' && ns !== 'agnostic') throw new RuleError(file, `exceptions_list entry ${i + 1}: namespace_type ${JSON.stringify(ns)} is not single or agnostic`);
    return { listId, namespaceType: ns };
  });
}

type Builder = (r: Obj, base: { id: string; name: string; ruleType: string; file: string }, input: ElasticInput, text: string) => RuleIR | UnsupportedRule;

/** The rule types translated here, by `type`. */
const BUILDERS = new Map<string, Builder>([
  ['query', queryRule],
  ['new_terms', newTermsRule],
  ['threshold', thresholdRule],
  ['eql', eqlRule],
]);

export function parseElastic(text: string, file: string): ParsedRules {
  const r = elasticRuleObject(text, file);
  const id = r['rule_id'];
  const name = r['name'];
  const type = r['type'];
  if (typeof id !== 'string' || typeof name !== 'string' || typeof type !== 'string') {
    throw new RuleError(file, 'an Elastic rule needs string fields rule_id, name and type');
  }
  const base = { id, name, dialect: 'elastic' as const, ruleType: type, file };
  const input = elasticInput(r['index']);
  const build = BUILDERS.get(type);
  if (input !== undefined && build) {
    const exceptionLists = exceptionListRefs(r, file);
    // A malformed alert_suppression is an error whatever the rest of the rule says.
    const suppression = parseSuppression(r, type, file, text);
    let built: RuleIR | UnsupportedRule = build(r, { id, name, ruleType: type, file }, input, text);
    if (suppression && 'stages' in built) {
      // Not yet: suppression of EQL sequence alerts (Kibana has it since 8.16, kibana#189725).
      const multiEvent = built.stages.find((st) => st.type === 'sequence' || st.type === 'sample');
      built = multiEvent
        ? { ...base, status: 'unsupported', reason: `not supported: elastic/${type} ${multiEvent.type} with alert_suppression (oktopus suppresses single-event EQL queries only; suppressing ${multiEvent.type} alerts is not implemented yet)` }
        : withSuppression(built, suppression, r);
    }
    if ('stages' in built && exceptionLists) built = { ...built, exceptionLists };
    return 'stages' in built ? { rules: [built], unsupported: [] } : { rules: [], unsupported: [built] };
  }
  let entry: UnsupportedRule;
  if (input === undefined) {
    entry = { ...base, status: 'not-applicable', reason: `index ${JSON.stringify(r['index'])} holds no Okta events or alerts` };
  } else if (type === 'esql') {
    entry = { ...base, status: 'unsupported', reason: 'not supported: elastic/esql (ES|QL queries run only inside Elasticsearch)' };
  } else if (type === 'machine_learning') {
    const job = Array.isArray(r['machine_learning_job_id']) ? r['machine_learning_job_id'].join(', ') : String(r['machine_learning_job_id'] ?? '');
    entry = { ...base, status: 'unsupported', reason: `not supported: elastic/machine_learning (needs the Elastic ML job ${job})` };
  } else {
    entry = { ...base, status: 'unsupported', reason: `not yet supported: elastic/${type}${r['language'] ? ` (${String(r['language'])})` : ''}` };
  }
  return { rules: [], unsupported: [entry] };
}

export const dialect: DialectModule = {
  name: 'elastic',
  extensions: ['.toml', '.json'],
  recognise(text: string, file: string): boolean {
    if (file.toLowerCase().endsWith('.json')) return /"rule_id"\s*:/.test(text) && /"type"\s*:/.test(text);
    return /^\s*\[rule\]\s*$/m.test(text);
  },
  parse: (text, file) => parseElastic(text, file),
};
