/**
 * suppress (Elastic alert suppression, reference elastic.md §3.4): one alert per group of
 * `groupBy` values; later matches of the group attach to it instead of raising alerts.
 *
 *  - Group: the tuple of the match's `groupBy` values. `arrays: 'explode'` (query, threshold):
 *    a multi-valued field makes one group per value, the cartesian product across fields (at
 *    most MAX_GROUPS_PER_MATCH per match), each group suppressed on its own; `'whole'` (EQL,
 *    new_terms): the array is one value, written as a list (a single value as a one-element
 *    list), as Kibana reads it from the `fields` API, its values sorted (Kibana's
 *    getSuppressionTerms sorts them), so the order of the values does not make another group.
 *    A threshold match is grouped by the terms of its `kibana.alert.threshold_result` (its own
 *    group), not by a source event.
 *  - Missing field (absent, null, empty array, an array of nulls): `missingFields: 'suppress'`
 *    makes it the value null (one group for "missing"); `'doNotSuppress'` passes the match on
 *    untouched (a plain alert, no suppression fields).
 *  - Window with `durationMs`: it opens at the first alert of the group (its match's event time)
 *    and lasts `durationMs` of event time; matches inside it attach to that alert; the first
 *    match at or after its end raises a new alert and opens a new window.
 *  - Window without `durationMs` ("per rule execution"): Kibana suppresses within one scheduled
 *    run. Streaming, a run is modelled as the window of `intervalMs` of event time that the
 *    match falls in, aligned to the epoch: [floor(t / interval) * interval, + interval). The
 *    first match of a group in such a window raises the alert, the others attach to it.
 *  - Alert fields (Kibana's names): `kibana.alert.suppression.terms` = [{field, value}] in
 *    `groupBy` order, `.start` and `.end` = the match's event time (a threshold match: its
 *    first and last counted event), `.docs_count` = 0, `kibana.alert.instance.id` = sha256 of
 *    the rule and the terms (the same for every window of the group, as Kibana's instance id).
 *    A later match attaches through `ctx.attach`: `.docs_count` + 1, `.end` = the latest and
 *    `.start` = the earliest event time seen (a late match may be older than the first).
 *  - State: one store entry per group (per window and group without a duration) holding the
 *    alert id, window start, start/end and count; it expires when its window ends, so a restart
 *    mid-window keeps suppressing into the same alert (the alert is read back from the store).
 *    A match whose window's entry has already expired (a late event older than the engine's
 *    watermark) raises a new alert.
 */
import { createHash } from 'node:crypto';
import type { Json, JsonObject } from '../../event/types.js';
import type { SuppressStage } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { cartesian } from './terms.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

/** Most groups one match may fall in (arrays multiply): more are not tracked. */
export const MAX_GROUPS_PER_MATCH = 100;

interface SuppressState extends JsonObject {
  /** The suppressing alert's id. */
  a: string;
  /** Window start (event time, ms). */
  w: number;
  /** kibana.alert.suppression.start / .end (event time, ms). */
  s: number;
  e: number;
  /** kibana.alert.suppression.docs_count. */
  n: number;
}

const MISSING = Symbol('missing');

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Every value of a field for 'explode': scalars, each once, in order; MISSING when none. */
function explode(v: unknown): Json[] | typeof MISSING {
  const list = (Array.isArray(v) ? v : [v]).filter(isScalar);
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const x of list) {
    const k = JSON.stringify(x);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(x);
    }
  }
  return out.length > 0 ? out : MISSING;
}

/** Kibana's order of a multi-valued term (lodash sortBy: numbers numerically, then by type, then text). */
function compareTerm(a: Json, b: Json): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The field's value for 'whole': always a list (non-null elements), MISSING when empty. The
 * values are sorted, as Kibana's getSuppressionTerms does (`sortBy`), so [A, B] and [B, A] are
 * one group and the terms list them in that order.
 */
function whole(v: unknown): Json | typeof MISSING {
  const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined && x !== null) as Json[];
  return list.length > 0 ? list.sort(compareTerm) : MISSING;
}

/** The group-by values of a threshold match: its `kibana.alert.threshold_result.terms`. */
function thresholdTerms(m: Match): Map<string, Json> | undefined {
  const result = m.fields['kibana.alert.threshold_result'];
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return undefined;
  const terms = result['terms'];
  if (!Array.isArray(terms)) return undefined;
  const out = new Map<string, Json>();
  for (const t of terms) {
    if (t !== null && typeof t === 'object' && !Array.isArray(t) && typeof t['field'] === 'string') out.set(t['field'], t['value'] ?? null);
  }
  return out;
}

/** Where the match's suppression span starts: a threshold match's first counted event, else its time. */
function matchStart(m: Match): number {
  const result = m.fields['kibana.alert.threshold_result'];
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && typeof result['from'] === 'string') {
    const t = Date.parse(result['from']);
    if (Number.isFinite(t) && t <= m.time) return t;
  }
  return m.time;
}

const iso = (t: number) => new Date(t).toISOString();

export const suppressStage: StageFactory<SuppressStage> = {
  type: 'suppress',
  create(stage: SuppressStage, ctx: StageContext): StageRuntime {
    const fields = stage.groupBy.map((f) => ({ name: f.name, get: resolveField(f, ctx.schema) }));
    const ruleKey = `${ctx.rule.dialect}:${ctx.rule.id}`;
    const interval = stage.intervalMs > 0 ? stage.intervalMs : 5 * 60_000;

    /** Per field, the list of values to combine; undefined when the match passes unsuppressed. */
    function groups(m: Match): Json[][] | undefined {
      const ev = m.events[m.events.length - 1]!;
      const fromThreshold = thresholdTerms(m);
      const lists: Json[][] = [];
      for (const f of fields) {
        const raw = fromThreshold?.has(f.name) ? fromThreshold.get(f.name) : f.get(ev);
        const v = stage.arrays === 'explode' ? explode(raw) : whole(raw);
        if (v === MISSING) {
          if (stage.missingFields === 'doNotSuppress') return undefined;
          lists.push([null]);
        } else lists.push(stage.arrays === 'explode' ? (v as Json[]) : [v]);
      }
      return cartesian(lists, MAX_GROUPS_PER_MATCH);
    }

    return {
      push(m: Match): Match[] {
        const tuples = groups(m);
        if (tuples === undefined) return [m];
        const out: Match[] = [];
        const start = matchStart(m);
        for (const tuple of tuples) {
          const group = JSON.stringify(tuple);
          let windowStart: number;
          let key: string;
          let st = undefined as SuppressState | undefined;
          if (stage.durationMs !== undefined) {
            key = group;
            const stored = ctx.store.get(ctx.ns, key) as SuppressState | undefined;
            // Inside the window [w, w + duration); a late match (before w) still belongs to it
            // while it is less than one duration older.
            if (stored && m.time < stored.w + stage.durationMs && m.time > stored.w - stage.durationMs) st = { ...stored };
            windowStart = st ? st.w : m.time;
          } else {
            windowStart = Math.floor(m.time / interval) * interval;
            key = `${windowStart}|${group}`;
            const stored = ctx.store.get(ctx.ns, key) as SuppressState | undefined;
            if (stored) st = { ...stored };
          }
          const windowEnd = stage.durationMs !== undefined ? windowStart + stage.durationMs : windowStart + interval;

          if (st) {
            st.n += 1;
            st.s = Math.min(st.s, start);
            st.e = Math.max(st.e, m.time);
            ctx.attach(st.a, {
              'kibana.alert.suppression.docs_count': st.n,
              'kibana.alert.suppression.start': iso(st.s),
              'kibana.alert.suppression.end': iso(st.e),
            });
            ctx.store.set(ctx.ns, key, st, windowEnd);
            continue;
          }
          const terms: Json[] = stage.groupBy.map((f, i) => ({ field: f.name, value: tuple[i] ?? null }));
          const instanceId = createHash('sha256').update(`${ruleKey}\n${JSON.stringify(terms)}`).digest('hex');
          const emitted: Match = {
            ...m,
            fields: {
              ...m.fields,
              'kibana.alert.suppression.terms': terms,
              'kibana.alert.suppression.start': iso(start),
              'kibana.alert.suppression.end': iso(m.time),
              'kibana.alert.suppression.docs_count': 0,
              'kibana.alert.instance.id': instanceId,
            },
            idSalt: `${m.idSalt ?? ''}suppress:${group}:${windowStart}`,
          };
          const fresh: SuppressState = { a: ctx.alertIdFor(emitted), w: windowStart, s: start, e: m.time, n: 0 };
          ctx.store.set(ctx.ns, key, fresh, windowEnd);
          out.push(emitted);
        }
        return out;
      },
    };
  },
};
