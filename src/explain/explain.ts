/**
 * `explain`: any rule, of any dialect, described from its IR alone: its stages and predicates,
 * its indicators (field, kind, values it looks for), its exclusions (top-level NOT conjuncts:
 * what it actively suppresses), the event types it covers, and the other loaded rules that
 * look at the same actions.
 */
import type { CorrelationMember, FieldRef, Predicate, RuleIR, Scalar, Stage, ValueExpr } from '../ir/types.js';
import { isAbsolute, relative } from 'node:path';
import { requiredEventTypes } from '../engine/event-types.js';

export interface Indicator {
  field: string;
  kind: string;
  values: Scalar[];
}

export interface Explanation {
  id: string;
  name: string;
  dialect: string;
  ruleType: string;
  file: string;
  severity: string;
  riskScore: number;
  input: string;
  enabled: boolean;
  eventTypes: string[] | 'any';
  stages: { index: number; type: string; text: string; detail: Record<string, unknown> }[];
  indicators: Indicator[];
  exclusions: Indicator[];
  threat: string[];
  sameAction: { id: string; name: string; dialect: string; shared: string[] }[];
  /**
   * Exception items attached to the rule (--exceptions, docs/exceptions.md): an event matching
   * any of them is dropped before every stage. `text` renders the item's entries like the
   * rule's own predicates. `missingLists`: lists the rule names that were not provided.
   */
  exceptions: { list: string; listName?: string; item: string; name: string; source: string; expireTime?: string; text: string }[];
  missingLists: string[];
}

/** Long value lists (a value list of IP ranges) are shown by their first values and a count. */
const SHOWN_VALUES = 8;

function abbreviate(p: Predicate): Predicate {
  switch (p.type) {
    case 'and':
    case 'or':
      return { ...p, args: p.args.map(abbreviate) };
    case 'not':
      return { ...p, arg: abbreviate(p.arg) };
    case 'elements':
      return { ...p, where: abbreviate(p.where) };
    case 'compare':
      return p.values.length > SHOWN_VALUES ? { ...p, values: [...p.values.slice(0, SHOWN_VALUES), `…${p.values.length - SHOWN_VALUES} more`] } : p;
    default:
      return p;
  }
}

function exceptionsOf(rule: RuleIR): Explanation['exceptions'] {
  return (rule.exceptions ?? []).map((x) => ({
    list: x.list,
    ...(x.listName ? { listName: x.listName } : {}),
    item: x.item,
    name: x.name,
    source: x.source,
    ...(x.expireTime ? { expireTime: x.expireTime } : {}),
    text: renderPredicate(abbreviate(x.predicate)),
  }));
}

function fieldName(f: FieldRef): string {
  return f.name;
}

function quote(v: Scalar): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const ARITH_PRECEDENCE: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2 };
const COMPARE_TEXT = { eq: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** Render a value expression in EQL-like syntax (`~` marks a case-insensitive node). */
export function renderExpr(e: ValueExpr): string {
  const ci = (x: { caseInsensitive?: boolean }): string => (x.caseInsensitive ? '~' : '');
  const inner = (x: ValueExpr): string => (x.type === 'and' || x.type === 'or' || x.type === 'arith' ? `(${renderExpr(x)})` : renderExpr(x));
  switch (e.type) {
    case 'literal':
      return e.value === null ? 'null' : quote(e.value);
    case 'field':
      return `${e.optional ? '?' : ''}${e.field.name}`;
    case 'call':
      return `${e.fn}${ci(e)}(${e.args.map(renderExpr).join(', ')})`;
    case 'arith': {
      const side = (x: ValueExpr): string => (x.type === 'arith' && ARITH_PRECEDENCE[x.op]! < ARITH_PRECEDENCE[e.op]! ? `(${renderExpr(x)})` : inner(x));
      return `${side(e.left)} ${e.op} ${side(e.right)}`;
    }
    case 'neg':
      return `-${inner(e.arg)}`;
    case 'compare':
      return `${inner(e.left)} ${COMPARE_TEXT[e.op]}${ci(e)} ${inner(e.right)}`;
    case 'in':
      return `${inner(e.arg)} in${ci(e)} (${e.values.map(renderExpr).join(', ')})`;
    case 'match':
      return `${inner(e.arg)} ${e.op === 'wildcard' ? 'like' : 'regex'}${ci(e)} (${e.patterns.map(renderExpr).join(', ')})`;
    case 'and':
    case 'or':
      return e.args.map(inner).join(` ${e.type} `);
    case 'not':
      return `not ${inner(e.arg)}`;
  }
}

/** Fields an expression reads. */
function exprFields(e: ValueExpr, out: string[] = []): string[] {
  switch (e.type) {
    case 'literal':
      break;
    case 'field':
      out.push(e.field.name);
      break;
    case 'call':
      e.args.forEach((a) => exprFields(a, out));
      break;
    case 'arith':
    case 'compare':
      exprFields(e.left, out);
      exprFields(e.right, out);
      break;
    case 'neg':
    case 'not':
      exprFields(e.arg, out);
      break;
    case 'in':
      exprFields(e.arg, out);
      e.values.forEach((a) => exprFields(a, out));
      break;
    case 'match':
      exprFields(e.arg, out);
      e.patterns.forEach((a) => exprFields(a, out));
      break;
    case 'and':
    case 'or':
      e.args.forEach((a) => exprFields(a, out));
      break;
  }
  return out;
}

/** The comparison's kind as the catalog names it (eq, in, starts_with, …). */
function kindOf(p: Predicate): string {
  switch (p.type) {
    case 'compare': {
      const base = { eq: 'eq', wildcard: 'wildcard', contains: 'contains', startswith: 'starts_with', endswith: 'ends_with', regex: 'regex', cidr: 'cidr', lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte' }[p.op];
      if (p.op === 'eq' && p.values.length > 1 && !p.options?.all) return 'in';
      if (p.op === 'wildcard' && p.values.every((v) => /^[^*?\\]*\*$/.test(String(v)))) return 'starts_with';
      return p.options?.all ? `${base} (all)` : base;
    }
    case 'exists':
      return 'is_not_null';
    case 'null':
      return 'is_null';
    case 'fieldref':
      return `${p.op}_field`;
    case 'keyword':
      return `keyword_${p.op}`;
    default:
      return p.type;
  }
}

function valuesOf(p: Predicate): Scalar[] {
  switch (p.type) {
    case 'compare': {
      if (p.op === 'wildcard' && kindOf(p) === 'starts_with') return p.values.map((v) => String(v).slice(0, -1));
      return [...p.values].sort((a, b) => String(a).localeCompare(String(b)));
    }
    case 'fieldref':
      return [p.other.name];
    case 'keyword':
      return p.values;
    default:
      return [];
  }
}

/** Render a predicate as one readable expression. */
export function renderPredicate(p: Predicate, parentOp?: 'and' | 'or'): string {
  switch (p.type) {
    case 'and':
    case 'or': {
      const s = p.args.map((a) => renderPredicate(a, p.type)).join(` ${p.type} `);
      return parentOp && parentOp !== p.type ? `(${s})` : s;
    }
    case 'not':
      return `not ${renderPredicate(p.arg, 'and')}`;
    case 'const':
      return String(p.value);
    case 'compare': {
      const flags = [p.options?.caseSensitive ? 'cased' : '', p.options?.flags ? `/${p.options.flags}` : ''].filter(Boolean);
      const vals = p.values.length === 1 ? quote(p.values[0]!) : `(${p.values.map(quote).join(', ')})`;
      return `${fieldName(p.field)} ${kindOf(p)}${flags.length ? `[${flags.join(',')}]` : ''} ${vals}`;
    }
    case 'exists':
      return `${fieldName(p.field)} exists`;
    case 'null':
      return `${fieldName(p.field)} is null`;
    case 'fieldref':
      return `${fieldName(p.field)} ${p.op} field ${fieldName(p.other)}`;
    case 'keyword':
      return `any value ${p.op} (${p.values.map(quote).join(', ')})`;
    case 'expr':
      return `eval(${renderExpr(p.expr)})`;
    case 'elements': {
      const which = p.index !== undefined ? `element [${p.index}]` : `${p.quantifier} element`;
      return `${which} of ${fieldName(p.field) || 'the element'} where (${renderPredicate(p.where)})`;
    }
    case 'code':
      return `panther ${p.fn}() in ${displayFile(p.module)}`;
  }
}

/** A module path relative to the working folder when inside it. */
function displayFile(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function collect(p: Predicate, negated: boolean, pos: Indicator[], neg: Indicator[]): void {
  switch (p.type) {
    case 'and':
    case 'or':
      for (const a of p.args) collect(a, negated, pos, neg);
      return;
    case 'not':
      collect(p.arg, !negated, pos, neg);
      return;
    case 'const':
      return;
    case 'expr':
      for (const field of new Set(exprFields(p.expr))) (negated ? neg : pos).push({ field, kind: 'computed', values: [] });
      return;
    case 'elements': {
      // Fields inside are relative to the list's elements: report them under the list's name.
      const inner: Indicator[] = [];
      const innerNeg: Indicator[] = [];
      collect(p.where, false, inner, innerNeg);
      const quant = p.index !== undefined ? `[${p.index}]` : `(${p.quantifier})`;
      const neg2 = negated !== (p.quantifier === 'none');
      for (const i of inner) (neg2 ? neg : pos).push({ ...i, field: `${fieldName(p.field)}${quant}${i.field ? `.${i.field}` : ''}` });
      for (const i of innerNeg) (neg2 ? pos : neg).push({ ...i, field: `${fieldName(p.field)}${quant}${i.field ? `.${i.field}` : ''}` });
      return;
    }
    case 'code':
      (negated ? neg : pos).push({ field: '*', kind: 'code', values: [`${p.fn}() in ${displayFile(p.module)}`] });
      return;
    default: {
      const field = p.type === 'keyword' ? '*' : fieldName(p.field);
      (negated ? neg : pos).push({ field, kind: kindOf(p), values: valuesOf(p) });
    }
  }
}

function stagePredicates(s: Stage): Predicate[] {
  if (s.type === 'filter') return [s.predicate];
  if (s.type === 'sequence') return [...s.steps.map((x) => x.predicate), ...(s.until ? [s.until.predicate] : [])];
  if (s.type === 'sample') return s.steps.map((x) => x.predicate);
  if (s.type === 'pipe' && s.predicate) return [s.predicate];
  return [];
}

/**
 * What a rule looks for, and what must NOT happen for it to fire. For a sequence, the head
 * filter only routes events (the OR of every step, missing steps and `until` included): the
 * steps are what it detects, and its missing steps and `until` are absence/cancel conditions.
 */
function detectionPredicates(rule: RuleIR): { look: Predicate[]; absent: Predicate[] } {
  const seq = rule.stages.find((s) => s.type === 'sequence' || s.type === 'sample');
  if (!seq) return { look: rule.stages.flatMap(stagePredicates), absent: [] };
  const look: Predicate[] = [];
  const absent: Predicate[] = [];
  for (const s of rule.stages) {
    if (s.type === 'filter' && rule.stages.indexOf(s) === 0) continue;
    if (s.type === 'sequence') {
      for (const step of s.steps) (step.missing ? absent : look).push(step.predicate);
      if (s.until) absent.push(s.until.predicate);
    } else look.push(...stagePredicates(s));
  }
  return { look, absent };
}

/** A duration as EQL writes it: the largest unit that divides it (`12h`, `30m`, `500ms`). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unbounded';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function stageText(s: Stage): { text: string; detail: Record<string, unknown> } {
  switch (s.type) {
    case 'filter':
      return { text: renderPredicate(s.predicate), detail: {} };
    case 'dedup':
      return {
        text: `one alert per ${s.pantherKey ? 'Panther dedup string' : s.key.length ? s.key.map(fieldName).join(', ') : 'rule'} per ${s.periodMs / 60000} min, after ${s.threshold} match(es)${s.unique ? ` with distinct ${s.unique.map(fieldName).join(', ')}` : s.uniqueFn ? ' with distinct unique() values' : ''}`,
        detail: { key: s.key.map(fieldName), periodMinutes: s.periodMs / 60000, threshold: s.threshold },
      };
    case 'new_terms':
      return { text: `new terms ${s.fields.map(fieldName).join(', ')} within ${s.historyMs / 86400000} days`, detail: { fields: s.fields.map(fieldName), historyDays: s.historyMs / 86400000 } };
    case 'threshold':
      return { text: `count >= ${s.value} by ${s.groupBy.map(fieldName).join(', ') || 'all'}`, detail: { groupBy: s.groupBy.map(fieldName), value: s.value } };
    case 'sequence': {
      const by = s.by.map(renderExpr);
      const step = (x: { predicate: Predicate; by?: ValueExpr[]; missing?: boolean; runs?: number }): string =>
        `${x.missing ? '!' : ''}[${renderPredicate(x.predicate)}]${x.by?.length ? ` by ${x.by.map(renderExpr).join(', ')}` : ''}${x.runs && x.runs > 1 ? ` with runs=${x.runs}` : ''}`;
      return {
        text: `sequence${by.length ? ` by ${by.join(', ')}` : ''}${s.maxspanMs !== undefined ? ` with maxspan=${formatDuration(s.maxspanMs)}` : ''}: ${s.steps.map(step).join(' ')}${s.until ? ` until ${step(s.until)}` : ''}`,
        detail: { by, maxspanMs: s.maxspanMs, steps: s.steps.length, missingSteps: s.steps.filter((x) => x.missing).length },
      };
    }
    case 'sample': {
      const by = s.by.map(renderExpr);
      return { text: `sample${by.length ? ` by ${by.join(', ')}` : ''}: ${s.steps.map((x) => `[${renderPredicate(x.predicate)}]`).join(' ')}`, detail: { by, steps: s.steps.length } };
    }
    case 'pipe': {
      const args = s.n !== undefined ? ` ${s.n}` : s.predicate ? ` ${renderPredicate(s.predicate)}` : s.keys?.length ? ` ${s.keys.map(renderExpr).join(', ')}` : '';
      const per = Number.isFinite(s.windowMs) ? ` (per ${formatDuration(s.windowMs)} window)` : '';
      return { text: `| ${s.pipe}${args}${per}`, detail: { pipe: s.pipe, windowMs: Number.isFinite(s.windowMs) ? s.windowMs : null } };
    }
    case 'suppress':
      return {
        text: `one alert per ${s.groupBy.length ? s.groupBy.map(fieldName).join(', ') : 'rule'} ${s.durationMs ? `per ${s.durationMs / 60000} min` : 'per rule execution'}; missing fields: ${s.missingFields}`,
        detail: { groupBy: s.groupBy.map(fieldName), durationMs: s.durationMs ?? null, missingFields: s.missingFields },
      };
    case 'correlation': {
      // e.g. "correlation temporal of [Okta] Okta.Login.Success, no [Push] Push.Security… by actor.alternateId | new.email within 30h: rules seen gte 1"
      const members = s.members ?? s.rules.map((rule) => ({ rule }) as CorrelationMember);
      const who = members
        .map((m) => `${m.absent ? 'no ' : ''}${m.label && m.label !== m.rule ? `[${m.label}] ` : ''}${m.rule}${m.minCount && m.minCount > 1 ? ` (${m.minCount}×)` : ''}${m.withinMs !== undefined ? ` within ${formatDuration(m.withinMs)}` : ''}`)
        .join(s.kind === 'temporal_ordered' ? ' then ' : ', ');
      const by = s.groupBy.map((f, i) => {
        const own = [...new Set(members.map((m) => (m.keys?.[i] ? fieldName(m.keys[i]!) : fieldName(f))))];
        return own.length === 1 ? own[0]! : own.join(' | ');
      });
      const c = s.condition;
      const measure = s.kind === 'value_percentile' ? `p${c.percentile ?? 50}(${c.field ? fieldName(c.field) : ''})` : c.fields ? `${s.kind}(${c.fields.map(fieldName).join(', ')})` : c.field ? `${s.kind}(${fieldName(c.field)})` : s.kind === 'temporal' || s.kind === 'temporal_ordered' ? 'rules seen' : 'count';
      const bounds = [{ op: c.op, value: c.value }, ...(c.and ?? [])].map((b) => `${b.op} ${b.value}`).join(' and ');
      const hidden = s.generate === false ? '; the referenced rules\' own alerts are hidden (generate: false)' : '';
      return {
        text: `correlation ${s.kind} of ${who}${by.length ? ` by ${by.join(', ')}` : ''} within ${formatDuration(s.timespanMs)}: ${measure} ${bounds}${hidden}`,
        detail: { kind: s.kind, rules: s.rules, groupBy: by, timespanMs: s.timespanMs, condition: bounds, generate: s.generate ?? null },
      };
    }
  }
}

function eventTypesOf(rule: RuleIR): Set<string> | undefined {
  const first = rule.stages[0];
  if (!first) return undefined;
  const hasSteps = rule.stages.some((s) => s.type === 'sequence' || s.type === 'sample');
  if (first.type === 'filter' && !hasSteps) return requiredEventTypes(first.predicate);
  const preds = detectionPredicates(rule).look;
  if (preds.length === 0) return undefined;
  const out = new Set<string>();
  for (const p of preds) {
    const s = requiredEventTypes(p);
    if (!s) return undefined;
    for (const t of s) out.add(t);
  }
  return out;
}

export function explain(rule: RuleIR, others: RuleIR[] = []): Explanation {
  const indicators: Indicator[] = [];
  const exclusions: Indicator[] = [];
  const { look, absent } = detectionPredicates(rule);
  for (const p of look) {
    // Indicators are what the rule looks for: comparisons not under a NOT.
    collect(p, false, indicators, []);
    // Exclusions: top-level NOT conjuncts of the predicate.
    const conjuncts = p.type === 'and' ? p.args : [p];
    for (const c of conjuncts) if (c.type === 'not') collect(c.arg, false, exclusions, []);
  }
  // A sequence's missing steps and `until` are what must not happen: exclusions too.
  for (const p of absent) collect(p, false, exclusions, []);
  const types = eventTypesOf(rule);
  const sameAction: Explanation['sameAction'] = [];
  if (types && types.size > 0) {
    for (const o of others) {
      if (o === rule || (o.id === rule.id && o.dialect === rule.dialect)) continue;
      const ot = eventTypesOf(o);
      if (!ot) continue;
      const shared = [...types].filter((t) => ot.has(t)).sort();
      if (shared.length > 0) sameAction.push({ id: o.id, name: o.name, dialect: o.dialect, shared });
    }
  }
  return {
    id: rule.id,
    name: rule.name,
    dialect: rule.dialect,
    ruleType: rule.ruleType,
    file: rule.file,
    severity: rule.severity,
    riskScore: rule.riskScore,
    input: rule.input,
    enabled: rule.enabled,
    eventTypes: types ? [...types].sort() : 'any',
    stages: rule.stages.map((s, i) => ({ index: i + 1, type: s.type, ...stageText(s) })),
    indicators: dedupe(indicators),
    exclusions: dedupe(exclusions),
    threat: rule.threat.flatMap((t) => [
      ...(t.tactic ? [label(t.tactic.id, t.tactic.name)] : []),
      ...t.techniques.map((x) => label(x.id, x.name)),
    ]),
    sameAction,
    exceptions: exceptionsOf(rule),
    missingLists: (rule.exceptionLists ?? []).filter((l) => !l.attached).map((l) => l.listId),
  };
}

function label(id: string, name: string): string {
  return name && name !== id ? `${id} ${name}` : id;
}

function dedupe(list: Indicator[]): Indicator[] {
  const seen = new Set<string>();
  return list.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function table(rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '  ' + r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function renderExplanation(e: Explanation): string {
  let s = `${e.name}\n`;
  s += `  id ${e.id} · ${e.dialect}/${e.ruleType} · severity ${e.severity} (risk ${e.riskScore}) · reads ${e.input === 'alerts' ? 'alerts of other rules' : e.input === 'both' ? 'Okta System Log and alerts of other rules' : 'Okta System Log'}${e.enabled ? '' : ' · disabled'}\n`;
  s += `  file ${e.file}\n`;
  if (e.threat.length) s += `  MITRE ATT&CK: ${e.threat.join('; ')}\n`;
  s += `\nEvent types covered\n  ${e.eventTypes === 'any' ? 'any (no event type constraint: the rule meets every event)' : e.eventTypes.join(', ')}\n`;
  s += `\nStages and predicates\n`;
  for (const st of e.stages) s += `  Stage ${st.index}: ${st.type}\n    ${st.text}\n`;
  s += `\nIndicators\n` + table(e.indicators.length ? [['FIELD', 'KIND', 'VALUES'], ...e.indicators.map((i) => [i.field, i.kind, i.values.map(String).join(', ')])] : []);
  s += `\nExclusions (top-level NOT conjuncts)\n` + table(e.exclusions.length ? [['FIELD', 'KIND', 'EXCLUDED VALUES'], ...e.exclusions.map((i) => [i.field, i.kind, i.values.map(String).join(', ')])] : []);
  s += `\nRules detecting the same action\n` + table(e.sameAction.map((o) => [`${o.name} (${o.dialect})`, o.shared.join(', ')]));
  if (e.exceptions.length > 0 || e.missingLists.length > 0) {
    s += `\nExceptions (an event matching any item is dropped before every stage)\n`;
    for (const x of e.exceptions) {
      s += `  list ${x.listName ? `${x.listName} (${x.list})` : x.list} · item ${x.name}${x.name !== x.item ? ` (${x.item})` : ''}${x.expireTime ? ` · until ${x.expireTime}` : ''} · ${x.source}\n`;
      s += `    NOT (${x.text})\n`;
    }
    for (const m of e.missingLists) s += `  list ${m}: named in exceptions_list but not provided (--exceptions): the rule cannot run\n`;
  }
  return s;
}
