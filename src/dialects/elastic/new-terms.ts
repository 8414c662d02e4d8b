/**
 * Elastic `new_terms` rules: the KQL filter of a query rule, then a `new_terms` stage over 1–3
 * fields with the history window of `history_window_start` (`now-7d`).
 * TOML form: `[rule.new_terms] field = "new_terms_fields", value = [...]` and
 * `[[rule.new_terms.history_window_start]] value = "now-7d"`; API/JSON form: `new_terms_fields`
 * and `history_window_start`.
 */
import type { RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import type { Obj } from './metadata.js';
import { queryRule } from './query.js';
import { historyWindowMs } from './date-math.js';

function termsConfig(r: Obj): { fields: unknown; history: unknown } {
  const nt = r['new_terms'];
  if (nt && typeof nt === 'object' && !Array.isArray(nt)) {
    const o = nt as Obj;
    const hw = o['history_window_start'];
    const history = Array.isArray(hw) ? (hw[0] as Obj | undefined)?.['value'] : hw;
    return { fields: o['value'], history };
  }
  return { fields: r['new_terms_fields'], history: r['history_window_start'] };
}

export function newTermsRule(
  r: Obj,
  base: { id: string; name: string; ruleType: string; file: string },
  input: 'okta' | 'alerts' | 'both',
  text: string,
): RuleIR | UnsupportedRule {
  const { fields, history } = termsConfig(r);
  if (!Array.isArray(fields) || fields.length < 1 || fields.length > 3 || !fields.every((f) => typeof f === 'string')) {
    throw new RuleError(base.file, 'a new_terms rule needs 1 to 3 new terms fields');
  }
  if (typeof history !== 'string') throw new RuleError(base.file, 'a new_terms rule needs a history_window_start such as "now-7d"');
  const historyMs = historyWindowMs(history);
  if (historyMs === undefined) {
    return { ...base, dialect: 'elastic', status: 'unsupported', reason: `not supported: elastic/new_terms history_window_start ${JSON.stringify(history)} (only now-N with s, m, h, d or w)` };
  }
  const filter = queryRule(r, base, input, text);
  if (!('stages' in filter)) return filter;
  return {
    ...filter,
    stages: [...filter.stages, { type: 'new_terms', fields: (fields as string[]).map((name) => ({ name, schema: 'ecs' as const })), historyMs }],
  };
}
