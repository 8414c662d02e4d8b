/**
 * Elastic rule metadata -> RuleIR fields. The same keys in TOML (`[rule]`) and in the
 * Kibana / detection-rules API JSON form.
 *
 *   rule_id, name, description, author (list, joined with ", "), tags, references,
 *   false_positives, severity (normalised; the word kept as severityRaw), risk_score (Kibana's
 *   default for the severity when absent), building_block_type (any value: a building block),
 *   threat (`[[rule.threat]]`: framework, tactic, technique[].subtechnique[]; the
 *   `reference` URLs are not kept).
 */
import type { RuleIR, ThreatRef } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { defaultRiskScore, normaliseSeverity } from '../severity.js';

export type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function idName(v: unknown): { id: string; name: string } | undefined {
  if (!isObj(v) || typeof v['id'] !== 'string') return undefined;
  return { id: v['id'], name: typeof v['name'] === 'string' ? v['name'] : v['id'] };
}

/** `threat` entries as written; entries without a framework are dropped. */
export function elasticThreat(v: unknown): ThreatRef[] {
  if (!Array.isArray(v)) return [];
  const out: ThreatRef[] = [];
  for (const t of v) {
    if (!isObj(t) || typeof t['framework'] !== 'string') continue;
    const entry: ThreatRef = { framework: t['framework'], techniques: [] };
    const tactic = idName(t['tactic']);
    if (tactic) entry.tactic = tactic;
    for (const tech of Array.isArray(t['technique']) ? t['technique'] : []) {
      const ref = idName(tech);
      if (!ref) continue;
      const subs = (Array.isArray((tech as Obj)['subtechnique']) ? ((tech as Obj)['subtechnique'] as unknown[]) : [])
        .map(idName)
        .filter((s): s is { id: string; name: string } => s !== undefined);
      entry.techniques.push(subs.length > 0 ? { ...ref, subtechniques: subs } : ref);
    }
    out.push(entry);
  }
  return out;
}

/** Every RuleIR field except stages and input, from a rule object. */
export function elasticMetadata(
  r: Obj,
  base: { id: string; name: string; ruleType: string; file: string },
): Omit<RuleIR, 'stages' | 'input'> {
  const severity = normaliseSeverity(r['severity']);
  if (severity === undefined) {
    throw new RuleError(base.file, `severity must be one of low, medium, high, critical (got ${JSON.stringify(r['severity'])})`);
  }
  const risk = r['risk_score'];
  const meta: Omit<RuleIR, 'stages' | 'input'> = {
    ...base,
    dialect: 'elastic',
    severity,
    severityRaw: String(r['severity']),
    riskScore: typeof risk === 'number' && Number.isFinite(risk) ? risk : defaultRiskScore(severity),
    tags: strings(r['tags']),
    threat: elasticThreat(r['threat']),
    references: strings(r['references']),
    falsePositives: strings(r['false_positives']),
    enabled: true,
  };
  if (typeof r['description'] === 'string') meta.description = r['description'];
  const author = strings(r['author']);
  if (author.length > 0) meta.author = author.join(', ');
  if (r['building_block_type'] !== undefined && r['building_block_type'] !== null) meta.buildingBlock = true;
  const mapping = severityMapping(r['severity_mapping'], base.file);
  if (mapping.length > 0) meta.severityMapping = mapping;
  const riskMapping = Array.isArray(r['risk_score_mapping']) ? (r['risk_score_mapping'] as Record<string, unknown>[]) : [];
  const riskField = riskMapping.find((m) => typeof m?.['field'] === 'string')?.['field'];
  if (typeof riskField === 'string') meta.riskScoreField = { name: riskField, schema: 'ecs' };
  return meta;
}

/** `[[rule.severity_mapping]]` entries (`field`, `operator = "equals"`, `value`, `severity`). */
function severityMapping(raw: unknown, file: string): NonNullable<RuleIR['severityMapping']> {
  if (!Array.isArray(raw)) return [];
  return raw.map((m: Record<string, unknown>, i) => {
    const severity = normaliseSeverity(m?.['severity']);
    if (typeof m?.['field'] !== 'string' || m['value'] === undefined || !severity || (m['operator'] ?? 'equals') !== 'equals') {
      throw new RuleError(file, `severity_mapping[${i}] needs field, operator "equals", value and a severity`);
    }
    return { field: { name: m['field'], schema: 'ecs' as const }, value: String(m['value']), severity };
  });
}
