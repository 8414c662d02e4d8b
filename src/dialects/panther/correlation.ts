/**
 * Panther correlation rules (`AnalysisType: correlation_rule`; docs.panther.com "Correlation
 * Rules" and "Correlation Rule Reference", panther-analysis `CORRELATION_RULES_STYLE_GUIDE.md`,
 * reference panther-okta.md §1.6) -> a RuleIR reading alerts with a correlation stage
 * (runtime: src/engine/stages/correlation.ts; docs/panther.md "Correlation rules").
 *
 *  - Group form: `Detection: [{Group: [{ID, RuleID, MinMatchCount?, Absence?}], MatchCriteria:
 *    {name: [{GroupID, Match: field}]}, EventEvaluationOrder?, LookbackWindowMinutes?}]`.
 *    Every present member needs MinMatchCount (default 1) signals within the lookback window,
 *    with equal MatchCriteria values (each member reads its own field; list values match by
 *    intersection); absent members must have none (see correlation.ts for the range).
 *    `EventEvaluationOrder: Chronological` makes the group ordered (temporal_ordered).
 *  - Sequence form (before panther-analysis 47a62cb9): `Sequence: [...members]`, `Transitions:
 *    [{ID, From, To, WithinTimeFrameMinutes?, Match: [{From: f, To: g} | {On: f}]}]`: the
 *    members in order, each `To` within WithinTimeFrameMinutes (default: the lookback window)
 *    of its `From`; the Match fields of the transitions are the key (the n-th Match entry of
 *    every transition is one key dimension: a member reads the field its transitions name).
 *  - LookbackWindowMinutes (default 15) is the correlation's timespan. `Schedule` is ignored:
 *    this engine evaluates in event time as alerts arrive, not on a schedule (no RateMinutes
 *    delay, no TimeoutMinutes).
 *  - RuleID references Panther rules by RuleID (any dialect's rule id or name works: alerts are
 *    matched by `kibana.alert.rule.rule_id`, then `.name`). A referenced rule that does not run
 *    here (a Python body, another log source) makes the engine report the correlation
 *    unsupported with the missing RuleIDs (checkCorrelationReferences), never a silent no-op.
 *  - Match fields are the referenced rules' event fields: raw Okta paths (read on the alerts
 *    through the ECS mapping) and `p_alert_context.<key>` (the rule's alert_context).
 *  - Not supported (reported): several Detection entries, a member absent from a MatchCriteria
 *    or transition key, transitions with different numbers of Match entries.
 *  - Tests (RuleOutputs) are not run (Panther itself needs `pat validate` against a live instance).
 */
import type { CorrelationMember, CorrelationStage, FieldRef, RuleIR, UnsupportedRule } from '../../ir/types.js';
import { correlationHead } from '../../engine/stages/correlation.js';
import { RuleError } from '../errors.js';
import { defaultRiskScore, normaliseSeverity } from '../severity.js';

type Obj = Record<string, unknown>;

/** Panther's default lookback window (style guide: "LookbackWindowMinutes: 15 is the default value"). */
export const DEFAULT_LOOKBACK_MINUTES = 15;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function minutes(v: unknown, what: string, file: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RuleError(file, `${what} must be a positive number of minutes, not ${JSON.stringify(v)}`);
  return v * 60_000;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

function okta(name: string): FieldRef {
  return { name, schema: 'okta' };
}

class Unsupported extends Error {}

function membersOf(list: unknown, form: string, file: string): (CorrelationMember & { label: string })[] {
  if (!Array.isArray(list) || list.length === 0) throw new RuleError(file, `${form} needs a list of {ID, RuleID}`);
  return list.map((m, i) => {
    if (!isObj(m) || typeof m['RuleID'] !== 'string') throw new RuleError(file, `${form}[${i}] needs a RuleID`);
    const label = typeof m['ID'] === 'string' ? m['ID'] : m['RuleID'];
    const member: CorrelationMember & { label: string } = { rule: m['RuleID'], label };
    if (m['MinMatchCount'] !== undefined) {
      const n = m['MinMatchCount'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new RuleError(file, `${form}[${i}].MinMatchCount must be a positive integer`);
      member.minCount = n;
    }
    if (m['Absence'] === true) member.absent = true;
    return member;
  });
}

function groupStage(d: Obj, lookbackMs: number, file: string): CorrelationStage {
  const members = membersOf(d['Group'], 'Group', file);
  const criteria = isObj(d['MatchCriteria']) ? Object.entries(d['MatchCriteria']) : [];
  const groupBy = criteria.map(([name]) => okta(name));
  for (const m of members) {
    m.keys = criteria.map(([name, list]) => {
      const hit = (Array.isArray(list) ? list : []).find((x) => isObj(x) && x['GroupID'] === m.label) as Obj | undefined;
      if (!hit || typeof hit['Match'] !== 'string') throw new Unsupported(`MatchCriteria ${name} names no Match field for group member ${m.label}`);
      return okta(hit['Match']);
    });
  }
  const ordered = d['EventEvaluationOrder'] === 'Chronological';
  const present = members.filter((m) => !m.absent).length;
  if (present === 0) throw new RuleError(file, 'a Group needs at least one member without Absence');
  return {
    type: 'correlation',
    kind: ordered ? 'temporal_ordered' : 'temporal',
    rules: members.map((m) => m.rule),
    members,
    groupBy,
    timespanMs: lookbackMs,
    condition: { op: 'gte', value: present },
  };
}

function sequenceStage(d: Obj, lookbackMs: number, file: string): CorrelationStage {
  const members = membersOf(d['Sequence'], 'Sequence', file);
  const transitions = Array.isArray(d['Transitions']) ? (d['Transitions'] as unknown[]) : [];
  const byLabel = new Map(members.map((m) => [m.label, m] as const));
  let dims: number | undefined;
  const keys = new Map<string, FieldRef[]>();
  transitions.forEach((t, i) => {
    if (!isObj(t)) throw new RuleError(file, `Transitions[${i}] must be a mapping`);
    const from = byLabel.get(String(t['From']));
    const to = byLabel.get(String(t['To']));
    if (!from || !to) throw new RuleError(file, `Transitions[${i}]: From and To must name Sequence IDs`);
    const within = minutes(t['WithinTimeFrameMinutes'], `Transitions[${i}].WithinTimeFrameMinutes`, file);
    if (within !== undefined) to.withinMs = within;
    const match = Array.isArray(t['Match']) ? (t['Match'] as unknown[]) : [];
    if (dims !== undefined && match.length !== dims) throw new Unsupported('transitions with different numbers of Match entries');
    dims = match.length;
    const sides = match.map((x, j) => {
      if (!isObj(x)) throw new RuleError(file, `Transitions[${i}].Match[${j}] must be {From, To} or {On}`);
      if (typeof x['On'] === 'string') return [okta(x['On']), okta(x['On'])] as const;
      if (typeof x['From'] === 'string' && typeof x['To'] === 'string') return [okta(x['From']), okta(x['To'])] as const;
      throw new RuleError(file, `Transitions[${i}].Match[${j}] must be {From, To} or {On}`);
    });
    if (!keys.has(from.label)) keys.set(from.label, sides.map((s) => s[0]));
    if (!keys.has(to.label)) keys.set(to.label, sides.map((s) => s[1]));
  });
  const n = dims ?? 0;
  for (const m of members) {
    const k = keys.get(m.label);
    if (n > 0 && !k) throw new Unsupported(`sequence member ${m.label} takes part in no transition, so it has no Match field`);
    m.keys = k ?? [];
  }
  const present = members.filter((m) => !m.absent).length;
  if (present === 0) throw new RuleError(file, 'a Sequence needs at least one member without Absence');
  return {
    type: 'correlation',
    kind: 'temporal_ordered',
    rules: members.map((m) => m.rule),
    members,
    groupBy: Array.from({ length: n }, (_, j) => okta(`match${j + 1}`)),
    timespanMs: lookbackMs,
    condition: { op: 'gte', value: present },
  };
}

/** One correlation_rule mapping -> a rule, or the reason it cannot run. */
export function pantherCorrelation(y: Obj, file: string): { rule?: RuleIR; unsupported?: UnsupportedRule } {
  const id = y['RuleID'];
  if (typeof id !== 'string' || id === '') throw new RuleError(file, 'a Panther correlation rule needs a RuleID');
  const name = typeof y['DisplayName'] === 'string' && y['DisplayName'] !== '' ? y['DisplayName'] : id;
  const base = { id, name, dialect: 'panther' as const, ruleType: 'correlation_rule', file };
  const severity = normaliseSeverity(y['Severity']);
  if (!severity) throw new RuleError(file, `Severity must be Info, Low, Medium, High or Critical, not ${JSON.stringify(y['Severity'] ?? null)}`);
  const detection = y['Detection'];
  if (!Array.isArray(detection) || detection.length === 0 || !isObj(detection[0])) throw new RuleError(file, 'a correlation rule needs Detection: [ {Group: …} or {Sequence: …} ]');
  try {
    if (detection.length > 1) throw new Unsupported('several Detection entries');
    const d = detection[0] as Obj;
    const lookbackMs = minutes(d['LookbackWindowMinutes'], 'LookbackWindowMinutes', file) ?? DEFAULT_LOOKBACK_MINUTES * 60_000;
    let stage: CorrelationStage;
    if (d['Group'] !== undefined) stage = groupStage(d, lookbackMs, file);
    else if (d['Sequence'] !== undefined) stage = sequenceStage(d, lookbackMs, file);
    else throw new RuleError(file, 'a correlation rule Detection needs Group or Sequence');
    const rule: RuleIR = {
      ...base,
      severity,
      severityRaw: String(y['Severity']),
      riskScore: defaultRiskScore(severity),
      tags: strings(y['Tags']),
      threat: [],
      references: strings(y['Reference']),
      falsePositives: [],
      input: 'alerts',
      stages: [{ type: 'filter', predicate: correlationHead(stage.rules) }, stage],
      enabled: y['Enabled'] !== false,
    };
    if (typeof y['Description'] === 'string') rule.description = y['Description'].trim();
    return { rule };
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    return { unsupported: { ...base, status: 'unsupported', reason: `panther/correlation_rule: ${e.message}` } };
  }
}
