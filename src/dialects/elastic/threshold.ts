/**
 * Elastic `threshold` rules (reference elastic.md §3.1, §3.3): the KQL filter of a query rule,
 * then a `threshold` stage.
 *   [rule.threshold] field = ["okta.actor.id"]   (a string or a list of 0–3 fields; API form too)
 *                    value = 3                   (count >= value)
 *   [[rule.threshold.cardinality]] field = "...", value = 3   (distinct values >= value)
 * The window is the rule's look-back: the span of `from` (`now-6m` when absent). Kibana counts
 * per scheduled run over [from, to]; streaming, the stage counts over the last `from` span of
 * event time, sliding (the run `interval` plays no part). `from` date math this engine does not
 * take (months, rounding, absolute dates) makes the rule unsupported, by reason.
 */
import type { FieldRef, RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import type { Obj } from './metadata.js';
import { historyWindowMs } from './date-math.js';
import { queryRule } from './query.js';

/** Kibana's (and detection-rules') default look-back. */
export const DEFAULT_FROM = 'now-6m';

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

export function thresholdRule(
  r: Obj,
  base: { id: string; name: string; ruleType: string; file: string },
  input: 'okta' | 'alerts' | 'both',
  text: string,
): RuleIR | UnsupportedRule {
  const t = r['threshold'];
  if (!isObj(t)) throw new RuleError(base.file, 'a threshold rule needs a threshold table (field, value)');
  const rawField = t['field'];
  const fields = rawField === undefined || rawField === null || rawField === '' ? [] : typeof rawField === 'string' ? [rawField] : rawField;
  if (!Array.isArray(fields) || fields.length > 3 || !fields.every((f) => typeof f === 'string' && f !== '')) {
    throw new RuleError(base.file, 'threshold.field must be a field name or a list of 0 to 3 field names');
  }
  if (!positiveInt(t['value'])) throw new RuleError(base.file, `threshold.value must be an integer >= 1 (got ${JSON.stringify(t['value'])})`);
  const rawCard = t['cardinality'];
  const cardList = rawCard === undefined || rawCard === null ? [] : Array.isArray(rawCard) ? rawCard : [rawCard];
  const cardinality: { field: FieldRef; value: number }[] = [];
  for (const c of cardList) {
    if (!isObj(c) || typeof c['field'] !== 'string' || c['field'] === '' || !positiveInt(c['value'])) {
      throw new RuleError(base.file, 'threshold.cardinality entries need a field name and an integer value >= 1');
    }
    cardinality.push({ field: { name: c['field'], schema: 'ecs' }, value: c['value'] });
  }
  const from = r['from'] ?? DEFAULT_FROM;
  const windowMs = typeof from === 'string' ? historyWindowMs(from) : undefined;
  if (windowMs === undefined || windowMs <= 0) {
    return {
      ...base,
      dialect: 'elastic',
      status: 'unsupported',
      reason: `not supported: elastic/threshold from ${JSON.stringify(from)} (the look-back must be now-N with s, m, h, d or w)`,
    };
  }
  const filter = queryRule(r, base, input, text);
  if (!('stages' in filter)) return filter;
  return {
    ...filter,
    stages: [
      ...filter.stages,
      {
        type: 'threshold',
        groupBy: (fields as string[]).map((name) => ({ name, schema: 'ecs' as const })),
        value: t['value'],
        windowMs,
        ...(cardinality.length > 0 ? { cardinality } : {}),
      },
    ],
  };
}
