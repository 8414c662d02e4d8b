/**
 * Scoring a run's alerts against the ground truth (docs/evaluate.md). Pure: alerts, rules, the
 * truth and the log facts in, the report out; the CLI runs the engine, this only counts.
 *
 * Attribution. An alert names the raw events behind it: `kibana.alert.ancestors` entries of type
 * `event` (a query or new_terms alert: its event; a sequence shell: every event of the sequence;
 * a threshold alert: every counted event; a correlation or other higher-order alert: the events of
 * the alerts it was built from, transitively). An alert is a true positive of a scenario when at
 * least one of those events is one of the scenario's malicious events; otherwise it is a false
 * positive. Every alert oktopus raises names its events this way, threshold alerts included, so no
 * attribution by entity (user, IP) and time is needed or done.
 *
 * What is counted: the alerts delivered to sinks, minus building blocks (Kibana's
 * `kibana.alert.building_block_type`: the per-event alerts of an EQL sequence, whose shell is
 * counted, and the alerts of Elastic building-block rules, hidden from analysts' default view) —
 * those are reported per rule as `buildingBlocks`. Alerts never delivered (Sigma correlation
 * `generate: false`, Panther `CreateAlert: false`) reach no analyst and are not counted: what they
 * detect counts through the correlation alerts built on them.
 *
 * Detection time of an alert: its `@timestamp`, the event time of the match — the newest event
 * behind it (for a window that closes when time passes it, the time it closed): the moment, in
 * the log's own time, at which the engine had the data to raise it. Time to detect a scenario =
 * its first attributed alert's detection time minus the scenario's `start`.
 *
 * Benign populations: a false-positive alert falls on a benign category when one of its events
 * has an actor among the category's users or a client IP in its networks. True positives are
 * never counted against a benign category.
 *
 * Higher-order alert: an alert built from other rules' alerts (an ancestor of type `signal` from
 * another rule; a sequence shell's own building blocks do not count). Higher-order rule: a rule
 * whose input is alerts (`input` alerts or both).
 */
import type { Severity } from '../ir/types.js';
import type { JsonObject } from '../event/types.js';
import type { StoredAlert } from '../store/types.js';
import type { BenignCategory, Truth, TruthScenario } from './truth.js';
import type { LogFacts } from './log-facts.js';

export const SEVERITIES: Severity[] = ['informational', 'low', 'medium', 'high', 'critical'];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/**
 * The benign proxy populations the goal is about — the ones a team's exception lists can
 * describe (its corporate VPN egress, Apple's published Private Relay ranges): their alerts must
 * stay at INFO, none higher-order.
 */
export const PROXY_CATEGORIES: BenignCategory[] = ['corporate-vpn', 'private-relay'];

/**
 * Benign proxy populations outside that check, each with the reason: reported beside it, never
 * silently left out.
 */
export const OTHER_PROXY_CATEGORIES: { category: BenignCategory; why: string }[] = [
  {
    category: 'commercial-vpn',
    why: 'a commercial VPN exit is shared with attackers on the same provider: no exception can separate them',
  },
];

export interface RuleFact {
  /** `kibana.alert.rule.uuid` (dialect and id). */
  uuid: string;
  id: string;
  name: string;
  dialect: string;
  severity: Severity;
  higherOrder: boolean;
}

export interface AlertFact {
  uuid: string;
  /** Rule uuid. */
  rule: string;
  /** Detection time (epoch ms): the alert's `@timestamp`. */
  time: number;
  severity: Severity;
  /** Raw events behind the alert (uuids). */
  events: string[];
  higherOrder: boolean;
  buildingBlock: boolean;
}

interface Ancestor {
  id?: unknown;
  type?: unknown;
  rule?: unknown;
}

/** The facts of one stored alert. */
export function alertFact(a: StoredAlert): AlertFact {
  const d = a.doc;
  const rule = String(d['kibana.alert.rule.uuid'] ?? '');
  const ancestors = Array.isArray(d['kibana.alert.ancestors']) ? (d['kibana.alert.ancestors'] as Ancestor[]) : [];
  const stamp = Date.parse(String(d['@timestamp']));
  // oktopus.severity keeps INFO apart (Kibana writes informational as low); the Kibana word
  // otherwise; none known counts as critical, so that the benign check never passes by default.
  const sev = (d['oktopus'] as JsonObject | undefined)?.['severity'] ?? d['kibana.alert.severity'];
  return {
    uuid: a.uuid,
    rule,
    time: Number.isFinite(stamp) ? stamp : a.time,
    severity: SEVERITIES.includes(sev as Severity) ? (sev as Severity) : 'critical',
    events: ancestors.filter((x) => x.type === 'event' && typeof x.id === 'string').map((x) => x.id as string),
    higherOrder: ancestors.some((x) => x.type === 'signal' && x.rule !== rule),
    buildingBlock: d['kibana.alert.building_block_type'] !== undefined,
  };
}

export interface TenantFacts {
  org?: string;
  users: number;
  days: number;
  start: number;
  end: number;
  /** Where users/days come from: the truth file, or the log (legacy truth format). */
  source: 'truth' | 'log';
}

/** The tenant the rates are per: the truth's, or (legacy truth) the log's days and active users. */
export function tenantOf(truth: Truth, facts: LogFacts): TenantFacts {
  if (truth.tenant) return { org: truth.tenant.org, users: truth.tenant.users, days: truth.tenant.days, start: truth.tenant.start, end: truth.tenant.end, source: 'truth' };
  // UTC calendar days from the first event's to the last event's, both included (a simulated
  // tenant's window is whole days); users: those with a successful event.
  const DAY = 86_400_000;
  const start = Math.floor(facts.first / DAY) * DAY;
  const end = (Math.floor(facts.last / DAY) + 1) * DAY;
  return { users: Math.max(facts.activeUsers, 1), days: (end - start) / DAY, start, end, source: 'log' };
}

export interface ScenarioRule {
  id: string;
  name: string;
  alerts: number;
  firstDetection: string;
  timeToDetectSeconds: number;
}

export interface ScenarioReport {
  id: string;
  title: string;
  users: string[];
  start: string;
  end: string;
  /** Malicious events the truth lists, and how many of them the log holds. */
  events: number;
  eventsInLog: number;
  detected: boolean;
  /** Malicious events (in the log) that are events of some counted alert. */
  coveredEvents: number;
  /** coveredEvents / eventsInLog. */
  coverage: number;
  alerts: number;
  firstDetection: string | null;
  timeToDetectSeconds: number | null;
  withinLimit: boolean;
  rules: ScenarioRule[];
}

export interface RuleReport {
  id: string;
  name: string;
  dialect: string;
  severity: Severity;
  higherOrder: boolean;
  alerts: number;
  buildingBlocks: number;
  truePositives: number;
  falsePositives: number;
  /** truePositives / alerts; null without alerts. */
  precision: number | null;
  alertsPer1kUserDays: number;
  falsePositivesPer1kUserDays: number;
  scenarios: string[];
  /** False positives per benign category they fall on. */
  benign: Partial<Record<BenignCategory, number>>;
  maxBenignSeverity: Severity | null;
}

export interface BenignRuleRow {
  id: string;
  name: string;
  higherOrder: boolean;
  alerts: number;
  bySeverity: Partial<Record<Severity, number>>;
}

export interface BenignReport {
  category: BenignCategory;
  users: string[];
  cidrs: string[];
  alerts: number;
  higherOrderAlerts: number;
  bySeverity: Partial<Record<Severity, number>>;
  maxSeverity: Severity | null;
  rules: BenignRuleRow[];
}

export interface BenignCheck {
  categories: BenignCategory[];
  /** null: the truth names no users of these categories, so there is nothing to check. */
  pass: boolean | null;
  line: string;
  /** Offending alerts per rule: higher-order, or above informational. */
  offending: { id: string; name: string; severity: Severity; higherOrder: boolean; alerts: number }[];
}

/** The alerts above INFO or higher-order on a benign proxy population outside the check. */
export interface BenignProxyNote {
  category: BenignCategory;
  /** Why the category is outside the check. */
  why: string;
  line: string;
  /** False-positive alerts on the category, and how many of them are above INFO or higher-order. */
  alerts: number;
  aboveInfoOrHigherOrder: number;
  offending: BenignCheck['offending'];
}

export interface Totals {
  events: number;
  alerts: number;
  truePositives: number;
  falsePositives: number;
  precision: number | null;
  alertsPer1kUserDays: number;
  falsePositivesPer1kUserDays: number;
  scenarios: number;
  detected: number;
  /** detected / scenarios; null when the truth has no scenario (an attack-free log). */
  recall: number | null;
  withinMinutes: number;
  detectedWithin: number;
  benignProxyCheck: BenignCheck;
  /** One note per benign proxy category the truth names outside the check (OTHER_PROXY_CATEGORIES). */
  otherBenignProxies: BenignProxyNote[];
}

export interface Evaluation {
  tenant: { org?: string; users: number; days: number; start: string; end: string; source: 'truth' | 'log' };
  scenarios: ScenarioReport[];
  rules: RuleReport[];
  benign: BenignReport[];
  totals: Totals;
  /** Per alert uuid: the scenarios it is a true positive of (empty: false positive). */
  attribution: Map<string, string[]>;
  warnings: string[];
}

export interface EvaluateInput {
  truth: Truth;
  facts: LogFacts;
  rules: RuleFact[];
  alerts: AlertFact[];
  /** A scenario counts as detected in time when its time to detect is at most this. */
  withinMs: number;
}

const iso = (t: number): string => new Date(t).toISOString();

/** Scenario start/end: the truth's, or (legacy) its malicious events' times in the log. */
function span(s: TruthScenario, facts: LogFacts): { start: number; end: number } | undefined {
  const times = s.eventUuids.map((u) => facts.malicious.get(u)).filter((t): t is number => t !== undefined);
  if (s.start !== undefined && s.end !== undefined) return { start: s.start, end: s.end };
  if (times.length === 0) return undefined;
  return { start: Math.min(...times), end: Math.max(...times) };
}

function bump<K extends string>(o: Partial<Record<K, number>>, k: K, n = 1): void {
  o[k] = (o[k] ?? 0) + n;
}

function maxSeverity(list: Severity[]): Severity | null {
  return list.length === 0 ? null : list.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a));
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { truth, facts, withinMs } = input;
  const tenant = tenantOf(truth, facts);
  const warnings: string[] = [];
  const perK = (n: number): number => (n * 1000) / (tenant.users * tenant.days);
  const ruleOf = new Map(input.rules.map((r) => [r.uuid, r]));
  const counted = input.alerts.filter((a) => !a.buildingBlock);

  // Which scenarios each malicious event belongs to.
  const scenarioOf = new Map<string, string[]>();
  for (const s of truth.scenarios) for (const u of s.eventUuids) scenarioOf.set(u, [...(scenarioOf.get(u) ?? []), s.id]);

  const attribution = new Map<string, string[]>();
  for (const a of counted) {
    const hits = new Set<string>();
    for (const e of a.events) for (const id of scenarioOf.get(e) ?? []) hits.add(id);
    attribution.set(a.uuid, [...hits]);
  }

  const scenarios: ScenarioReport[] = [];
  for (const s of truth.scenarios) {
    const inLog = s.eventUuids.filter((u) => facts.malicious.has(u));
    if (inLog.length < s.eventUuids.length) warnings.push(`${truth.file}: scenario ${s.id}: ${s.eventUuids.length - inLog.length} of its ${s.eventUuids.length} malicious events are not in the log`);
    const when = span(s, facts);
    if (!when) {
      warnings.push(`${truth.file}: scenario ${s.id}: none of its malicious events is in the log and the truth gives no start: not scored`);
      continue;
    }
    const firstInLog = Math.min(...inLog.map((u) => facts.malicious.get(u)!));
    if (inLog.length > 0 && firstInLog !== when.start) warnings.push(`${truth.file}: scenario ${s.id}: start ${iso(when.start)} but its first malicious event in the log is at ${iso(firstInLog)}`);
    const mine = counted.filter((a) => attribution.get(a.uuid)!.includes(s.id)).sort((a, b) => a.time - b.time);
    const malicious = new Set(inLog);
    const covered = new Set<string>();
    for (const a of mine) for (const e of a.events) if (malicious.has(e)) covered.add(e);
    const byRule = new Map<string, AlertFact[]>();
    for (const a of mine) byRule.set(a.rule, [...(byRule.get(a.rule) ?? []), a]);
    const rules: ScenarioRule[] = [...byRule].map(([uuid, list]) => ({
      id: ruleOf.get(uuid)?.id ?? uuid,
      name: ruleOf.get(uuid)?.name ?? uuid,
      alerts: list.length,
      firstDetection: iso(list[0]!.time),
      timeToDetectSeconds: (list[0]!.time - when.start) / 1000,
    }));
    rules.sort((a, b) => a.timeToDetectSeconds - b.timeToDetectSeconds || a.name.localeCompare(b.name));
    const first = mine[0];
    const ttd = first ? first.time - when.start : null;
    scenarios.push({
      id: s.id,
      title: s.title,
      users: s.users,
      start: iso(when.start),
      end: iso(when.end),
      events: s.eventUuids.length,
      eventsInLog: inLog.length,
      detected: first !== undefined,
      coveredEvents: covered.size,
      coverage: inLog.length > 0 ? covered.size / inLog.length : 0,
      alerts: mine.length,
      firstDetection: first ? iso(first.time) : null,
      timeToDetectSeconds: ttd === null ? null : ttd / 1000,
      withinLimit: ttd !== null && ttd <= withinMs,
      rules,
    });
  }

  // Benign categories of each false positive.
  const categoriesOf = (a: AlertFact): BenignCategory[] => {
    const out = new Set<BenignCategory>();
    for (const e of a.events) for (const c of facts.benign.get(e)?.categories ?? []) out.add(c);
    return [...out];
  };

  const rules: RuleReport[] = input.rules.map((r) => {
    const all = input.alerts.filter((a) => a.rule === r.uuid);
    const mine = all.filter((a) => !a.buildingBlock);
    const tp = mine.filter((a) => attribution.get(a.uuid)!.length > 0);
    const fps = mine.filter((a) => attribution.get(a.uuid)!.length === 0);
    const benign: Partial<Record<BenignCategory, number>> = {};
    const benignSev: Severity[] = [];
    for (const a of fps) {
      const cats = categoriesOf(a);
      for (const c of cats) bump(benign, c);
      if (cats.length > 0) benignSev.push(a.severity);
    }
    return {
      id: r.id,
      name: r.name,
      dialect: r.dialect,
      severity: r.severity,
      higherOrder: r.higherOrder,
      alerts: mine.length,
      buildingBlocks: all.length - mine.length,
      truePositives: tp.length,
      falsePositives: fps.length,
      precision: mine.length > 0 ? tp.length / mine.length : null,
      alertsPer1kUserDays: perK(mine.length),
      falsePositivesPer1kUserDays: perK(fps.length),
      scenarios: [...new Set(tp.flatMap((a) => attribution.get(a.uuid)!))].sort(),
      benign,
      maxBenignSeverity: maxSeverity(benignSev),
    };
  });
  for (const a of input.alerts) if (!ruleOf.has(a.rule)) warnings.push(`alert ${a.uuid} names a rule that was not loaded (${a.rule}); not counted per rule`);

  const benign: BenignReport[] = [];
  const categories = [...new Set(truth.benign.map((b) => b.category))];
  for (const category of categories) {
    const groups = truth.benign.filter((b) => b.category === category);
    const fps = counted.filter((a) => attribution.get(a.uuid)!.length === 0 && categoriesOf(a).includes(category));
    const bySeverity: Partial<Record<Severity, number>> = {};
    const perRule = new Map<string, BenignRuleRow>();
    for (const a of fps) {
      bump(bySeverity, a.severity);
      const r = ruleOf.get(a.rule);
      let row = perRule.get(a.rule);
      if (!row) perRule.set(a.rule, (row = { id: r?.id ?? a.rule, name: r?.name ?? a.rule, higherOrder: r?.higherOrder ?? false, alerts: 0, bySeverity: {} }));
      row.alerts++;
      bump(row.bySeverity, a.severity);
    }
    benign.push({
      category,
      users: [...new Set(groups.flatMap((g) => g.users))],
      cidrs: [...new Set(groups.flatMap((g) => g.cidrs))],
      alerts: fps.length,
      higherOrderAlerts: fps.filter((a) => a.higherOrder).length,
      bySeverity,
      maxSeverity: maxSeverity(fps.map((a) => a.severity)),
      rules: [...perRule.values()].sort((a, b) => b.alerts - a.alerts || a.name.localeCompare(b.name)),
    });
  }

  const tp = counted.filter((a) => attribution.get(a.uuid)!.length > 0).length;
  const detected = scenarios.filter((s) => s.detected).length;
  return {
    tenant: { org: tenant.org, users: tenant.users, days: tenant.days, start: iso(tenant.start), end: iso(tenant.end), source: tenant.source },
    scenarios,
    rules,
    benign,
    totals: {
      events: facts.events,
      alerts: counted.length,
      truePositives: tp,
      falsePositives: counted.length - tp,
      precision: counted.length > 0 ? tp / counted.length : null,
      alertsPer1kUserDays: perK(counted.length),
      falsePositivesPer1kUserDays: perK(counted.length - tp),
      scenarios: scenarios.length,
      detected,
      recall: scenarios.length > 0 ? detected / scenarios.length : null,
      withinMinutes: withinMs / 60_000,
      detectedWithin: scenarios.filter((s) => s.withinLimit).length,
      benignProxyCheck: proxyCheck(truth, counted, attribution, categoriesOf, ruleOf),
      otherBenignProxies: OTHER_PROXY_CATEGORIES.filter((o) => truth.benign.some((b) => b.category === o.category)).map((o) =>
        proxyNote(o.category, o.why, counted, attribution, categoriesOf, ruleOf),
      ),
    },
    attribution,
    warnings,
  };
}

/**
 * The goal for the benign proxy users (corporate VPN, iCloud Private Relay): no
 * higher-order alert, and no alert above INFO, among the false positives falling on them.
 */
function proxyCheck(
  truth: Truth,
  counted: AlertFact[],
  attribution: Map<string, string[]>,
  categoriesOf: (a: AlertFact) => BenignCategory[],
  ruleOf: Map<string, RuleFact>,
): BenignCheck {
  const categories = PROXY_CATEGORIES.filter((c) => truth.benign.some((b) => b.category === c));
  const label = `benign proxy users (${PROXY_CATEGORIES.join(', ')}): no higher-order alert, no alert above INFO`;
  if (categories.length === 0) return { categories, pass: null, line: `n/a   ${label}: the truth names no such users`, offending: [] };
  const onProxy = counted.filter((a) => attribution.get(a.uuid)!.length === 0 && categoriesOf(a).some((c) => categories.includes(c)));
  const { bad, offending } = offendingAlerts(onProxy, ruleOf);
  const line =
    bad.length === 0
      ? `PASS  ${label} (${onProxy.length} alerts on them, all INFO)`
      : `FAIL  ${label}: ${bad.length} of ${onProxy.length} alerts on them are higher-order or above INFO`;
  return { categories, pass: bad.length === 0, line, offending };
}

/** The alerts among `alerts` that are higher-order or above INFO, and their rows per rule and severity. */
function offendingAlerts(alerts: AlertFact[], ruleOf: Map<string, RuleFact>): { bad: AlertFact[]; offending: BenignCheck['offending'] } {
  const bad = alerts.filter((a) => a.higherOrder || severityRank(a.severity) > severityRank('informational'));
  const rows = new Map<string, BenignCheck['offending'][number]>();
  for (const a of bad) {
    const key = `${a.rule}\n${a.severity}\n${a.higherOrder}`;
    const r = ruleOf.get(a.rule);
    const row = rows.get(key) ?? { id: r?.id ?? a.rule, name: r?.name ?? a.rule, severity: a.severity, higherOrder: a.higherOrder, alerts: 0 };
    row.alerts++;
    rows.set(key, row);
  }
  return { bad, offending: [...rows.values()].sort((a, b) => b.alerts - a.alerts) };
}

/**
 * A benign proxy category outside the check: its false positives above INFO or higher-order,
 * reported (never PASS/FAIL) with the reason no exception list can remove them.
 */
function proxyNote(
  category: BenignCategory,
  why: string,
  counted: AlertFact[],
  attribution: Map<string, string[]>,
  categoriesOf: (a: AlertFact) => BenignCategory[],
  ruleOf: Map<string, RuleFact>,
): BenignProxyNote {
  const on = counted.filter((a) => attribution.get(a.uuid)!.length === 0 && categoriesOf(a).includes(category));
  const { bad, offending } = offendingAlerts(on, ruleOf);
  const line = `note  benign ${category} users, outside the check (${why}): ${bad.length} of ${on.length} alerts on them are higher-order or above INFO`;
  return { category, why, line, alerts: on.length, aboveInfoOrHigherOrder: bad.length, offending };
}
