/**
 * Elastic `alert_suppression` (reference elastic.md §3.4) -> a `suppress` stage appended to the
 * rule's stages. The same keys in TOML and in the Kibana / API JSON form:
 *
 *   [rule.alert_suppression]
 *   group_by = ["user.name"]                   (1–3 fields)
 *   missing_fields_strategy = "suppress"       (or "doNotSuppress"; default "suppress")
 *   [rule.alert_suppression.duration]          (optional: without it, per rule execution)
 *   value = 30
 *   unit = "m"                                 (s, m or h)
 *
 * Threshold rules take only the duration (`alert_suppression = { duration = {...} }`, which is
 * required): they suppress by their `threshold.field` (0–3 fields; a `group_by` must name the
 * same fields). Multi-valued group-by fields: one group per value for query and threshold rules,
 * the whole array for EQL and new_terms rules (Kibana's documented behaviour).
 * Without a duration the window is the rule's `interval` (default 5m; `Ns`, `Nm`, `Nh` or `Nd`).
 * A malformed setting is a RuleError naming the key.
 */
import type { FieldRef, RuleIR, SuppressStage } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import type { Obj } from './metadata.js';

/** Kibana's (and detection-rules') default rule interval. */
export const DEFAULT_INTERVAL = '5m';

const DURATION_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };
const INTERVAL_UNIT_MS: Record<string, number> = { ...DURATION_UNIT_MS, d: 86_400_000 };

/** The rule types that take `alert_suppression` here. */
export const SUPPRESSIBLE_TYPES = new Set(['query', 'threshold', 'new_terms', 'eql']);

/** The parsed setting, before the rule is built (threshold rules' fields come from their stage). */
export interface SuppressionConfig {
  groupBy?: string[];
  durationMs?: number;
  missingFields: 'suppress' | 'doNotSuppress';
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The line of the first `alert_suppression` in a TOML text (for the error's position). */
function lineOf(text: string | undefined, word: string): number | undefined {
  if (text === undefined || text.trimStart().startsWith('{')) return undefined;
  const at = text.indexOf(word);
  return at < 0 ? undefined : text.slice(0, at).split('\n').length;
}

/** `interval` ("5m") in ms. */
export function intervalMs(r: Obj, file: string): number {
  const raw = r['interval'] ?? DEFAULT_INTERVAL;
  const m = typeof raw === 'string' ? /^\s*(\d+)\s*([smhd])\s*$/.exec(raw) : null;
  const ms = m ? Number(m[1]) * INTERVAL_UNIT_MS[m[2]!]! : 0;
  if (!(ms > 0)) throw new RuleError(file, `interval must be a number with s, m, h or d, such as "5m" (got ${JSON.stringify(raw)})`);
  return ms;
}

/**
 * The rule's `alert_suppression`, validated; undefined when the rule has none.
 * Throws a RuleError naming the key for a malformed setting.
 */
export function parseSuppression(r: Obj, ruleType: string, file: string, text?: string): SuppressionConfig | undefined {
  const raw = r['alert_suppression'];
  if (raw === undefined || raw === null) return undefined;
  const fail = (key: string, message: string): never => {
    throw new RuleError(file, `${key} ${message}`, lineOf(text, 'alert_suppression'));
  };
  if (!isObj(raw)) fail('alert_suppression', 'must be a table (group_by, duration, missing_fields_strategy)');
  const s = raw as Obj;

  let durationMs: number | undefined;
  const d = s['duration'];
  if (d !== undefined && d !== null) {
    if (!isObj(d)) fail('alert_suppression.duration', 'must be a table with value and unit');
    const dur = d as Obj;
    const value = dur['value'];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      fail('alert_suppression.duration.value', `must be an integer >= 1 (got ${JSON.stringify(value)})`);
    }
    const unit = dur['unit'];
    if (typeof unit !== 'string' || !(unit in DURATION_UNIT_MS)) {
      fail('alert_suppression.duration.unit', `must be "s", "m" or "h" (got ${JSON.stringify(unit)})`);
    }
    durationMs = (value as number) * DURATION_UNIT_MS[unit as string]!;
  }

  const strategy = s['missing_fields_strategy'] ?? 'suppress';
  if (strategy !== 'suppress' && strategy !== 'doNotSuppress') {
    fail('alert_suppression.missing_fields_strategy', `must be "suppress" or "doNotSuppress" (got ${JSON.stringify(strategy)})`);
  }

  const g = s['group_by'];
  let groupBy: string[] | undefined;
  if (g !== undefined && g !== null) {
    if (!Array.isArray(g) || g.length < 1 || g.length > 3 || !g.every((f) => typeof f === 'string' && f.trim() !== '')) {
      fail('alert_suppression.group_by', `must list 1 to 3 field names (got ${JSON.stringify(g)})`);
    }
    groupBy = g as string[];
  }

  if (ruleType === 'threshold') {
    // Kibana: threshold rules suppress only per time period, by their own group-by fields.
    if (durationMs === undefined) fail('alert_suppression.duration', 'is required for a threshold rule (threshold rules suppress only per time period)');
  } else if (groupBy === undefined) {
    fail('alert_suppression.group_by', 'must list 1 to 3 field names');
  }
  const out: SuppressionConfig = { missingFields: strategy as 'suppress' | 'doNotSuppress' };
  if (groupBy) out.groupBy = groupBy;
  if (durationMs !== undefined) out.durationMs = durationMs;
  return out;
}

/**
 * The rule with its `suppress` stage appended. A threshold rule's group-by fields are its
 * threshold stage's; a `group_by` written on a threshold rule must name the same fields.
 */
export function withSuppression(rule: RuleIR, config: SuppressionConfig, r: Obj): RuleIR {
  let groupBy: FieldRef[] = (config.groupBy ?? []).map((name) => ({ name, schema: 'ecs' }));
  if (rule.ruleType === 'threshold') {
    const th = rule.stages.find((st) => st.type === 'threshold');
    const fields = th && th.type === 'threshold' ? th.groupBy : [];
    if (config.groupBy && JSON.stringify(config.groupBy) !== JSON.stringify(fields.map((f) => f.name))) {
      throw new RuleError(rule.file, `alert_suppression.group_by must be the threshold's fields ${JSON.stringify(fields.map((f) => f.name))} (got ${JSON.stringify(config.groupBy)})`);
    }
    groupBy = fields.map((f) => ({ ...f }));
  }
  const stage: SuppressStage = {
    type: 'suppress',
    groupBy,
    intervalMs: intervalMs(r, rule.file),
    missingFields: config.missingFields,
    arrays: rule.ruleType === 'query' || rule.ruleType === 'threshold' ? 'explode' : 'whole',
  };
  if (config.durationMs !== undefined) stage.durationMs = config.durationMs;
  return { ...rule, stages: [...rule.stages, stage] };
}
