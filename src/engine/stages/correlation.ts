/**
 * Correlations over the alerts of other rules: Sigma correlation rules (spec 2.x: event_count,
 * value_count, temporal, temporal_ordered, and the v2.1 / pySigma metrics value_sum, value_avg,
 * value_percentile, value_median) and Panther correlation rules (Group and Sequence forms,
 * src/dialects/panther/correlation.ts). The referenced rules may be of any dialect: their alerts
 * are fed back into the engine as events of kind 'alert', and the correlation rule's head filter
 * selects those whose `kibana.alert.rule.rule_id` (or `.name`) is a referenced rule.
 *
 * Semantics (docs/sigma.md "Correlations", docs/panther.md "Correlation rules"):
 *  - Member: each alert is attributed to the referenced rule(s) it comes from (id, else name).
 *  - Group: the tuple of the group-by fields' values on the alert; a member may read its own
 *    fields (Sigma `aliases`, Panther MatchCriteria / Transition Match). Schema `okta` fields are
 *    raw Okta paths read on the alert through the ECS mapping (src/schema/raw-on-alert.ts).
 *    A missing group-by value: the alert is not counted (as a terms aggregation). Multi-valued
 *    values: one group per value (cartesian, at most MAX_GROUPS_PER_ALERT), which gives Panther's
 *    list-on-list "set intersection" matching. No group-by: one group.
 *  - Time: event time (the alerts' time, i.e. their last event's `published`); a window is
 *    `timespanMs` long, both ends inclusive (two alerts exactly `timespan` apart are together).
 *  - Measures: event_count = alerts in the window; value_count = distinct values (tuples for a
 *    list of fields; alerts without the field add none); temporal = referenced rules seen (a
 *    Panther member counts once it has MinMatchCount alerts); temporal_ordered = the longest
 *    prefix of the referenced rules found in order (non-decreasing times, each Panther member
 *    within its WithinTimeFrameMinutes of the previous one, all within the timespan);
 *    value_sum / value_avg / value_percentile (linear interpolation between closest ranks, as
 *    numpy's default) / value_median over the numbers of `field` (numeric strings count; alerts
 *    without a number add none; no number at all = no match).
 *  - Condition: every bound holds (a range is two bounds). Temporal default: gte all rules.
 *  - When a match is decided:
 *     * "eager" (event_count, value_count, temporal, temporal_ordered with lower bounds only,
 *       gt/gte, no absent member): the measure only grows as alerts arrive, so the window
 *       slides: each alert is checked with the alerts of the last `timespan`, and the rule
 *       fires as soon as the condition holds (the spec: "should not be restricted to
 *       boundaries"). The alerts of that window are then used up: the next match needs the
 *       condition reached again by later alerts (no alert per further alert).
 *     * "at window close" (an upper bound — lt, lte, eq, neq, a range — or a value_sum/avg/
 *       percentile/median metric, which may go down as well as up): the window opens at the
 *       group's first alert and closes `timespan` later; the condition is checked once, on the
 *       whole window, when event time passes its end (tick, or a later alert); the match's time
 *       is the window's end. A streaming engine cannot know "fewer than N" earlier.
 *     * Panther absence (`Absence: true` members): the present members are matched as above
 *       (eager); the match then waits until the absent member's range is over and is dropped
 *       if that member has an alert of the same group in it. Group form: the range is every
 *       time within the lookback window of all present alerts, [last - lookback, first +
 *       lookback]. Sequence form: between its neighbours (strictly), before the first present
 *       step [first - within, first), or after the last [last, last + within] (within = its
 *       WithinTimeFrameMinutes, default the lookback window).
 *  - Output: a match whose `events` are the contributing alert events (the alert's ancestors list
 *    them and their own ancestors), `time` = the last one's time (or the window's end),
 *    `fields['oktopus.correlation']` = { type, rules, group: {field: value}, value (the measure),
 *    from, to }; the id salt holds the group.
 *  - State: per group, the alerts of the window (as store rows, so a restart rebuilds the match's
 *    events), the open window and the matches waiting on an absence range, held in memory
 *    (keyed-state.ts) and written back at commit, inside the batch transaction: a restart
 *    resumes mid-window. An entry expires `timespan` (+ the longest within) after its newest
 *    alert. At most MAX_ALERTS_PER_GROUP alerts are held per group (the oldest go first).
 */
import type { CanonicalEvent, Json, JsonObject } from '../../event/types.js';
import type { CorrelationMember, CorrelationOp, CorrelationStage, FieldRef, Predicate, RuleIR } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { rawOnAlert } from '../../schema/raw-on-alert.js';
import { setField } from '../../alerts/build.js';
import { KeyedState } from './keyed-state.js';
import { keyValue, keyValues, reviveEvent, storeEvent, type StoredEvent } from './sequence.js';
import { cartesian } from './terms.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';
import { DeadlineQueue } from './deadlines.js';

/** Most groups one alert is counted in (multi-valued group-by fields multiply). */
export const MAX_GROUPS_PER_ALERT = 100;
/** Most alerts held per group (a window with more keeps the newest). */
export const MAX_ALERTS_PER_GROUP = 1000;

/* ------------------------------------------------------------------------------------------ */
/* Rule-level helpers (the engine and the dialects)                                            */
/* ------------------------------------------------------------------------------------------ */

/** The members of a correlation (plain ones from `rules` when `members` is not given). */
export function membersOf(stage: CorrelationStage): CorrelationMember[] {
  return stage.members ?? stage.rules.map((rule) => ({ rule }));
}

/** The head filter of a correlation rule: alerts of the referenced rules, by id or name. */
export function correlationHead(refs: string[]): Predicate {
  const values = [...new Set(refs)];
  return {
    type: 'or',
    args: [
      { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values, options: { caseSensitive: true } },
      { type: 'compare', field: { name: 'kibana.alert.rule.name', schema: 'alert' }, op: 'eq', values, options: { caseSensitive: true } },
    ],
  };
}

function refersTo(r: RuleIR, ref: string): boolean {
  return r.id === ref || r.name === ref;
}

/**
 * A correlation whose referenced rules do not run here (not loaded, disabled, or reported
 * unsupported — a Panther Python body) would silently never fire, or fire on every alert when
 * the missing rule is an absent one: the engine reports it unsupported instead, naming them.
 */
export function checkCorrelationReferences(ir: RuleIR, all: RuleIR[]): void {
  for (const s of ir.stages) {
    if (s.type !== 'correlation') continue;
    const missing: string[] = [];
    const missingAbsent: string[] = [];
    for (const m of membersOf(s)) {
      if (all.some((r) => r !== ir && r.enabled && refersTo(r, m.rule))) continue;
      (m.absent ? missingAbsent : missing).push(m.rule);
    }
    if (missing.length === 0 && missingAbsent.length === 0) continue;
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`${missing.join(', ')} (so it could never fire)`);
    if (missingAbsent.length > 0) parts.push(`${missingAbsent.join(', ')} (an absent member: it would fire on every match)`);
    throw new Error(`correlation references rules that do not run here (not loaded, disabled or unsupported): ${parts.join('; ')}`);
  }
}

/**
 * Rules whose own alerts are hidden (Sigma `generate: false`, the default: the referenced rules
 * feed the correlation but are not stand-alone alerts, pySigma `disable_output`), as
 * `dialect:id` keys. Only enabled correlations hide their rules.
 */
export function hiddenRules(rules: RuleIR[]): Set<string> {
  const out = new Set<string>();
  for (const ir of rules) {
    if (!ir.enabled) continue;
    for (const s of ir.stages) {
      if (s.type !== 'correlation' || s.generate !== false) continue;
      for (const m of membersOf(s)) for (const r of rules) if (r !== ir && refersTo(r, m.rule)) out.add(`${r.dialect}:${r.id}`);
    }
  }
  return out;
}

/** Mark a hidden alert: Kibana's building-block flag and `oktopus.hidden` (the scan's sinks skip it). */
export function hideAlert(doc: JsonObject): void {
  doc['kibana.alert.building_block_type'] = 'default';
  setField(doc, 'oktopus.hidden', true);
}

export function isHiddenAlert(doc: JsonObject): boolean {
  const o = doc['oktopus'];
  return o !== null && typeof o === 'object' && !Array.isArray(o) && o['hidden'] === true;
}

/** A correlation's field on alert events: raw Okta paths through the ECS mapping, others as their schema says. */
export function correlationField(f: FieldRef, ctx: StageContext): (ev: CanonicalEvent) => unknown {
  return f.schema === 'okta' ? rawOnAlert(f.name) : resolveField(f, ctx.schema);
}

/* ------------------------------------------------------------------------------------------ */
/* Measures                                                                                    */
/* ------------------------------------------------------------------------------------------ */

function holds(op: CorrelationOp, x: number, v: number): boolean {
  switch (op) {
    case 'gt':
      return x > v;
    case 'gte':
      return x >= v;
    case 'lt':
      return x < v;
    case 'lte':
      return x <= v;
    case 'eq':
      return x === v;
    case 'neq':
      return x !== v;
  }
}

/** Linear interpolation between closest ranks (numpy `percentile` default), p in 0..100. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * Math.min(100, Math.max(0, p))) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function numbers(v: unknown): number[] {
  const out: number[] = [];
  const add = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) add(y);
    else if (typeof x === 'number' && Number.isFinite(x)) out.push(x);
    else if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) out.push(Number(x));
  };
  add(v);
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** One alert counted in a group. */
interface Entry extends JsonObject {
  t: number;
  /** Member index. */
  m: number;
  /** The alert (a store row; in memory it references the live event's document). */
  r: StoredEvent;
}

/** A match waiting for an absent member's range to pass. */
interface Pending extends JsonObject {
  /** Decided once event time is past `d`. */
  d: number;
  /** The present alerts of the match, in time order. */
  e: Entry[];
  /** Rejection ranges [from, to] (inclusive; `lo`/`hi` open ends) per absent member. */
  x: { m: number; from: number; to: number; lo: boolean; hi: boolean }[];
  v: number;
}

interface GroupState {
  /** Alerts of the current window, oldest first. */
  e: Entry[];
  /** Start of the open window (at-window-close mode). */
  w?: number;
  /** Matches waiting on an absence range. */
  p?: Pending[];
}

type Mode = 'eager' | 'close' | 'absence';

export const correlationStage: StageFactory<CorrelationStage> = {
  type: 'correlation',
  create(stage: CorrelationStage, ctx: StageContext): StageRuntime {
    const span = stage.timespanMs;
    if (!(span > 0)) throw new Error(`correlation: the timespan must be positive, got ${span}`);
    const members = membersOf(stage);
    if (members.length === 0) throw new Error('correlation: no referenced rules');
    const bounds = [{ op: stage.condition.op, value: stage.condition.value }, ...(stage.condition.and ?? [])];
    const kind = stage.kind;
    const counting = kind === 'event_count' || kind === 'value_count' || kind === 'temporal' || kind === 'temporal_ordered';
    const hasAbsent = members.some((m) => m.absent);
    if (hasAbsent && kind !== 'temporal' && kind !== 'temporal_ordered') throw new Error('correlation: absent members need a temporal (group) or temporal_ordered (sequence) correlation');
    const lowerOnly = bounds.every((b) => b.op === 'gt' || b.op === 'gte');
    if (hasAbsent && !lowerOnly) throw new Error('correlation: absent members need a gt/gte condition');
    const mode: Mode = hasAbsent ? 'absence' : counting && lowerOnly ? 'eager' : 'close';
    const valueFields = stage.condition.fields ?? (stage.condition.field ? [stage.condition.field] : []);
    if (kind !== 'event_count' && kind !== 'temporal' && kind !== 'temporal_ordered' && valueFields.length === 0) {
      throw new Error(`correlation: ${kind} needs a field`);
    }
    const pct = kind === 'value_median' ? 50 : (stage.condition.percentile ?? 50);
    const maxWithin = Math.max(0, ...members.map((m) => m.withinMs ?? 0));
    const keep = Math.max(span, maxWithin);

    // Members by referenced rule id/name; key and value accessors per member.
    const byRef = new Map<string, number[]>();
    members.forEach((m, i) => byRef.set(m.rule, [...(byRef.get(m.rule) ?? []), i]));
    const ruleId = resolveField({ name: 'kibana.alert.rule.rule_id', schema: 'alert' }, ctx.schema);
    const ruleName = resolveField({ name: 'kibana.alert.rule.name', schema: 'alert' }, ctx.schema);
    const keyGetters = members.map((m) => {
      const fields = m.keys ?? stage.groupBy;
      if (fields.length !== stage.groupBy.length) throw new Error(`correlation: member ${m.label ?? m.rule} has ${fields.length} key fields, the correlation ${stage.groupBy.length}`);
      return fields.map((f) => correlationField(f, ctx));
    });
    const valueGetters = valueFields.map((f) => correlationField(f, ctx));
    const present = members.flatMap((m, i) => (m.absent ? [] : [i]));

    const memberIndexes = (ev: CanonicalEvent): number[] => {
      const out = new Set<number>();
      for (const v of [ruleId(ev), ruleName(ev)]) if (typeof v === 'string') for (const i of byRef.get(v) ?? []) out.add(i);
      return [...out];
    };

    /* ---------------------------------- measure of a window ---------------------------------- */

    const valueOf = (e: Entry): Json | undefined => {
      const ev = (e['ev'] as unknown as CanonicalEvent | undefined) ?? reviveEvent(e.r);
      if (kind === 'value_count') {
        const tuple = valueGetters.map((g) => keyValue(g(ev), false));
        return tuple.every((x) => x === null) ? undefined : JSON.stringify(tuple);
      }
      return numbers(valueGetters[0]!(ev)) as unknown as Json;
    };

    /** The ordered chain (temporal_ordered): longest prefix of present members found in order. */
    const chain = (entries: Entry[]): { n: number; used: Entry[] } => {
      let best = { n: 0, used: [] as Entry[] };
      const first = present[0]!;
      const need0 = members[first]!.minCount ?? 1;
      const starts = entries.filter((e) => e.m === first);
      for (let s = 0; s + need0 <= starts.length; s++) {
        const used = starts.slice(s, s + need0);
        const t0 = used[0]!.t;
        let tau = used[used.length - 1]!.t;
        if (tau - t0 > span) continue;
        let n = 1;
        for (const j of present.slice(1)) {
          const need = members[j]!.minCount ?? 1;
          const within = members[j]!.withinMs;
          const picks = entries.filter((e) => e.m === j && e.t >= tau && !used.includes(e)).slice(0, need);
          if (picks.length < need) break;
          if (within !== undefined && picks[0]!.t - tau > within) break;
          if (picks[picks.length - 1]!.t - t0 > span) break;
          used.push(...picks);
          tau = picks[picks.length - 1]!.t;
          n++;
        }
        if (n > best.n) best = { n, used };
        if (n === present.length) break;
      }
      return best;
    };

    /** The measure over `entries` and the alerts behind it; undefined = no measure (no numbers). */
    const measure = (entries: Entry[]): { value: number; used: Entry[] } | undefined => {
      const mine = entries.filter((e) => !members[e.m]!.absent);
      switch (kind) {
        case 'event_count':
          return { value: mine.length, used: mine };
        case 'value_count': {
          const set = new Set<string>();
          for (const e of mine) {
            const v = valueOf(e);
            if (typeof v === 'string') set.add(v);
          }
          return { value: set.size, used: mine };
        }
        case 'temporal': {
          let n = 0;
          for (const i of present) if (mine.filter((e) => e.m === i).length >= (members[i]!.minCount ?? 1)) n++;
          return { value: n, used: mine };
        }
        case 'temporal_ordered': {
          const c = chain(mine);
          return { value: c.n, used: c.n > 0 ? c.used.sort((a, b) => a.t - b.t) : mine };
        }
        default: {
          const xs = mine.flatMap((e) => valueOf(e) as number[]);
          if (xs.length === 0) return undefined;
          const sum = xs.reduce((a, b) => a + b, 0);
          const value = kind === 'value_sum' ? sum : kind === 'value_avg' ? sum / xs.length : percentile(xs, pct);
          return { value, used: mine };
        }
      }
    };

    const ok = (value: number): boolean => bounds.every((b) => holds(b.op, value, b.value));

    /* ------------------------------- state: memory + store ---------------------------------- */

    /** Time of the latest alert pushed (state older than `keep` before it is dead). */
    let latest = -Infinity;
    const slim = (e: Entry): Entry => ({ t: e.t, m: e.m, r: e.r });
    const state = new KeyedState<GroupState>(
      ctx.store,
      ctx.ns,
      {
        decode: (v) => {
          const s = v as unknown as GroupState;
          const st: GroupState = { e: [...s.e] };
          if (s.w !== undefined) st.w = s.w;
          if (s.p) st.p = [...s.p];
          return st;
        },
        encode: (st) => {
          if (st.p && st.p.length === 0) delete st.p;
          if (st.e.length === 0 && st.w === undefined && !st.p) return undefined;
          const times = [
            ...st.e.map((e) => e.t + keep),
            ...(st.w !== undefined ? [st.w + span + 1] : []),
            ...(st.p ?? []).map((p) => p.d + 1),
          ];
          const value: GroupState = { e: st.e.map(slim) };
          if (st.w !== undefined) value.w = st.w;
          if (st.p) value.p = st.p.map((p) => ({ ...p, e: p.e.map(slim) }));
          return { value: value as unknown as Json, expiresAt: Math.max(...times) };
        },
      },
      undefined,
      () => latest - keep,
    );

    /** (deadline, group) of every open window and waiting match, by deadline; stale items are skipped. */
    const deadlines = new DeadlineQueue(function* () {
      for (const [k, v] of ctx.store.entries(ctx.ns)) {
        const st = v as unknown as GroupState;
        if (st.w !== undefined) yield { d: st.w + span, k };
        for (const p of st.p ?? []) yield { d: p.d, k };
      }
    });
    const schedule = (d: number, k: string): void => deadlines.add(d, k);

    /* ------------------------------------------ output ------------------------------------------ */

    const output = (k: string, used: Entry[], value: number, time: number, current?: CanonicalEvent): Match => {
      const sorted = [...used].sort((a, b) => a.t - b.t);
      const events = sorted.map((e) => (current && e.r['doc'] === current.doc ? current : ((e['ev'] as unknown as CanonicalEvent | undefined) ?? reviveEvent(e.r))));
      // One event per alert even when it counted for two members.
      const seen = new Set<string>();
      const unique = events.filter((ev) => (seen.has(ev.id) ? false : (seen.add(ev.id), true)));
      const tuple = JSON.parse(k) as Json[];
      const group: JsonObject = {};
      stage.groupBy.forEach((f, i) => (group[f.name] = tuple[i] ?? null));
      return {
        events: unique,
        time,
        fields: {
          'oktopus.correlation': {
            type: kind,
            rules: members.map((m) => m.rule),
            group,
            value,
            count: unique.length,
            from: new Date(sorted[0]!.t).toISOString(),
            to: new Date(sorted[sorted.length - 1]!.t).toISOString(),
          },
        },
        idSalt: `correlation:${k}`,
      };
    };

    /** Decide what is due in group `k` before `time`: windows that closed, absence ranges that passed. */
    const settle = (k: string, st: GroupState, time: number, out: Match[]): void => {
      if (st.w !== undefined && st.w + span < time) {
        const end = st.w + span;
        const inside = st.e.filter((e) => e.t >= st.w! && e.t <= end);
        const r = measure(inside);
        if (r && r.used.length > 0 && ok(r.value)) out.push(output(k, r.used, r.value, end));
        st.e = st.e.filter((e) => e.t > end);
        delete st.w;
        // Alerts after the closed window open the next one.
        if (st.e.length > 0) {
          st.w = st.e[0]!.t;
          schedule(st.w + span, k);
        }
        state.touch(k);
      }
      if (st.p && st.p.some((p) => p.d < time)) {
        const keepP: Pending[] = [];
        for (const p of st.p) {
          if (p.d >= time) {
            keepP.push(p);
            continue;
          }
          const rejected = p.x.some((x) => st.e.some((e) => e.m === x.m && (x.lo ? e.t > x.from : e.t >= x.from) && (x.hi ? e.t < x.to : e.t <= x.to)));
          if (!rejected) out.push(output(k, p.e, p.v, Math.max(p.d, p.e[p.e.length - 1]!.t)));
        }
        st.p = keepP;
        state.touch(k);
      }
    };

    const due = (time: number): Match[] => {
      const out: Match[] = [];
      for (const { k } of deadlines.takeBefore(time)) {
        const st = state.get(k);
        if (st) settle(k, st, time, out);
      }
      return out;
    };

    /** A match of the present members: the ranges the absent members must stay out of. */
    const absenceRanges = (used: Entry[]): { d: number; x: Pending['x'] } => {
      const first = used[0]!.t;
      const last = used[used.length - 1]!.t;
      const x: Pending['x'] = [];
      let d = last;
      if (kind === 'temporal') {
        for (const [i, m] of members.entries()) if (m.absent) x.push({ m: i, from: last - span, to: first + span, lo: false, hi: false });
        d = first + span;
      } else {
        // Ordered: the neighbours of each absent member in the sequence.
        const at = new Map<number, { first: number; last: number }>();
        for (const e of used) {
          const cur = at.get(e.m);
          at.set(e.m, { first: Math.min(cur?.first ?? e.t, e.t), last: Math.max(cur?.last ?? e.t, e.t) });
        }
        members.forEach((m, i) => {
          if (!m.absent) return;
          const prev = [...present].reverse().find((j) => j < i);
          const next = present.find((j) => j > i);
          const within = m.withinMs ?? (next !== undefined ? members[next]!.withinMs : undefined) ?? span;
          if (prev !== undefined && next !== undefined) x.push({ m: i, from: at.get(prev)!.last, to: at.get(next)!.first, lo: true, hi: true });
          else if (next !== undefined) x.push({ m: i, from: at.get(next)!.first - within, to: at.get(next)!.first, lo: false, hi: true });
          else if (prev !== undefined) {
            const end = at.get(prev)!.last + (m.withinMs ?? span);
            x.push({ m: i, from: at.get(prev)!.last, to: end, lo: false, hi: false });
            d = Math.max(d, end);
          }
        });
      }
      return { d, x };
    };

    const runtime: StageRuntime = {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        if (ev.kind !== 'alert') return [];
        const t = m.time;
        if (t > latest) latest = t;
        const out = mode === 'eager' ? [] : due(t);
        const idx = memberIndexes(ev);
        let row: StoredEvent | undefined;
        for (const mi of idx) {
          const lists = keyGetters[mi]!.map((get) => keyValues(get(ev), false));
          if (lists.some((l) => l.length === 0)) continue;
          for (const tuple of cartesian(lists, MAX_GROUPS_PER_ALERT)) {
            const k = JSON.stringify(tuple);
            const st = state.ensure(k, () => ({ e: [] }));
            // Alerts older than the window of the newest one are not counted (late).
            const newest = st.e.length > 0 ? st.e[st.e.length - 1]!.t : -Infinity;
            if (t < newest - span) continue;
            const entry: Entry = { t, m: mi, r: (row ??= storeEvent(ev)) };
            Object.defineProperty(entry, 'ev', { value: ev, enumerable: false });
            let at = st.e.length;
            while (at > 0 && st.e[at - 1]!.t > t) at--;
            st.e.splice(at, 0, entry);
            if (st.e.length > MAX_ALERTS_PER_GROUP) st.e.shift();
            state.touch(k);

            if (mode === 'close') {
              if (st.w === undefined) {
                st.w = t;
                schedule(t + span, k);
              }
              continue;
            }
            // Sliding window: the alerts of the last `timespan` (absent members: of `keep`).
            st.e = st.e.filter((e) => e.t >= t - (members[e.m]!.absent ? keep : span));
            if (members[mi]!.absent) continue;
            const r = measure(st.e);
            if (!r || r.used.length === 0 || !ok(r.value)) continue;
            // Used up: the next match needs the condition reached again by later alerts.
            st.e = st.e.filter((e) => members[e.m]!.absent);
            if (mode === 'eager') {
              out.push(output(k, r.used, r.value, t, ev));
              continue;
            }
            const used = [...r.used].sort((a, b) => a.t - b.t);
            const { d, x } = absenceRanges(used);
            (st.p ??= []).push({ d, e: used, x, v: r.value });
            schedule(d, k);
          }
        }
        if (mode === 'absence') {
          // Decisions whose range is already over (no trailing absence): event time is at `t`.
          out.push(...due(t + 1));
        }
        state.trim();
        return out;
      },
      persist(watermark?: number): void {
        state.persist(watermark);
      },
    };
    if (mode !== 'eager') {
      runtime.tick = (watermark: number): Match[] => {
        const out = due(watermark);
        state.trim();
        return out;
      };
    }
    return runtime;
  },
};
