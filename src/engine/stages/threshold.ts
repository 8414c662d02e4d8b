/**
 * threshold (Elastic, reference elastic.md §3.1, §3.3): the streaming equivalent of Kibana's
 * scheduled threshold rule, which counts the rule's matches per group over each run's look-back
 * [from, to] (a composite `terms` aggregation, bucket selectors `doc_count >= value` and
 * `cardinality(field) >= value`).
 *
 *  - Groups: 0–3 `groupBy` fields; none = one group for every match. A match missing any
 *    group-by field (absent, null, empty string, empty array) is not counted (composite `terms`
 *    sources have no missing bucket). Array values explode: one group per value, the cartesian
 *    product across fields (at most MAX_GROUPS_PER_EVENT per event), each counted separately.
 *  - Window: sliding, `windowMs` of event time (the rule's `from` span). When a match at time t
 *    arrives, the group counts its matches in [t - windowMs, t] (both ends inclusive, as Kibana's
 *    range filter). Events arrive in event-time order (the stage sits behind the reorder window);
 *    a late one is counted against the group's newest time, and not at all when older than the
 *    window.
 *  - Alert: as soon as count >= `value` and, for every `cardinality` entry, the number of distinct
 *    values of its field among the counted matches >= its value (a match missing that field still
 *    counts for `value` but adds no distinct value; array values each count).
 *  - Signal history (Kibana's `getThresholdBucketFilters`): after an alert, the group forgets its
 *    counted matches, and matches at or before the alert's last event time are never counted again
 *    for that group; the count restarts after it, so `value` further matches raise a new alert.
 *  - State: one store entry per group under `ctx.ns`, holding only what lies inside the window
 *    (time and id of each counted match, its distinct values when cardinality is asked, and, for
 *    alert inputs, the ancestry an alert needs) plus the last signal time; it expires one window
 *    after its newest time, so a restart mid-window continues the count. The working copy is in
 *    memory (keyed-state.ts: read from the store once per group, written back by `persist()` from
 *    the engine's commit, inside the batch transaction), so a group counted a thousand times in a
 *    batch costs one store write, not a thousand reads and writes.
 *  - Output: a synthetic match (Kibana builds a new document, not a copy of an event):
 *    `events` = the counted matches (for ancestors and the alert id; those restored from the
 *    store are stubs carrying id, time and ancestry only), `time` = the last counted event's time
 *    (the alert's `@timestamp`), `fields['oktopus.synthetic'] = true` (buildAlert then writes
 *    only the group-by fields, taken from the terms, instead of copying an event) and the flat
 *    field `kibana.alert.threshold_result` = { terms: [{field, value}], count, from: first
 *    counted event time (ISO), cardinality: [{field, value}] } (`terms` and `cardinality` empty
 *    lists when not asked). The id salt holds the group, so one event may raise one alert per
 *    group; the id also hashes the counted events' ids.
 */
import type { CanonicalEvent, Json, JsonObject } from '../../event/types.js';
import { makeEvent } from '../../event/types.js';
import type { ThresholdStage } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { KeyedState } from './keyed-state.js';
import { cartesian } from './terms.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

/** Most groups one event may count in (arrays multiply): more are not tracked. */
export const MAX_GROUPS_PER_EVENT = 100;

/** One counted match. `v`: its distinct values per cardinality field; `a`: an alert input's ancestry. */
interface Entry extends JsonObject {
  t: number;
  id: string;
}

interface GroupState extends JsonObject {
  /** Counted matches, oldest first. */
  e: Entry[];
  /** Event time of the last alert's last event (signal history); -Infinity stored as null. */
  s: number | null;
}

function scalars(v: unknown): (string | number | boolean)[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string | number | boolean => (typeof x === 'string' && x !== '') || typeof x === 'number' || typeof x === 'boolean');
}

/** What an alert needs of a counted event after a restart: id, time and ancestry. */
function ancestry(ev: CanonicalEvent): JsonObject | undefined {
  if (ev.kind !== 'alert') return undefined;
  const a: JsonObject = { depth: ev.depth };
  const anc = ev.doc['kibana.alert.ancestors'];
  if (anc !== undefined) a['kibana.alert.ancestors'] = anc;
  const rule = ev.doc['kibana.alert.rule.uuid'];
  if (rule !== undefined) a['kibana.alert.rule.uuid'] = rule;
  return a;
}

function stub(e: Entry): CanonicalEvent {
  const a = e['a'] as JsonObject | undefined;
  if (a) {
    const { depth, ...doc } = a;
    return makeEvent({ kind: 'alert', id: e.id, time: e.t, eventType: '', doc, origin: 'threshold-state', depth: Number(depth), shape: 'alert' });
  }
  return makeEvent({ kind: 'okta', id: e.id, time: e.t, eventType: '', doc: {}, origin: 'threshold-state', depth: 0, shape: 'okta' });
}

export const thresholdStage: StageFactory<ThresholdStage> = {
  type: 'threshold',
  create(stage: ThresholdStage, ctx: StageContext): StageRuntime {
    const groupGetters = stage.groupBy.map((f) => resolveField(f, ctx.schema));
    const cardinality = (stage.cardinality ?? []).map((c) => ({ name: c.field.name, value: c.value, get: resolveField(c.field, ctx.schema) }));
    /**
     * Per group, how many counted matches hold each distinct value of each cardinality field, kept
     * up to date as matches enter and leave the window (not stored: rebuilt from the entries when
     * a group is read back from the store), so a push costs its own values, not the whole window.
     */
    const distinctCounts = new WeakMap<GroupState, Map<string, number>[]>();
    const countValues = (counts: Map<string, number>[], e: Entry, delta: 1 | -1): void => {
      const values = e['v'] as string[][] | undefined;
      if (!values) return;
      for (let i = 0; i < counts.length; i++) {
        for (const v of values[i] ?? []) {
          const n = (counts[i]!.get(v) ?? 0) + delta;
          if (n === 0) counts[i]!.delete(v);
          else counts[i]!.set(v, n);
        }
      }
    };
    const countsOf = (st: GroupState): Map<string, number>[] => {
      let counts = distinctCounts.get(st);
      if (!counts) {
        counts = cardinality.map(() => new Map<string, number>());
        for (const e of st.e) countValues(counts, e, 1);
        distinctCounts.set(st, counts);
      }
      return counts;
    };
    /** Time of the latest match pushed: a group whose entry expired before it is dropped from memory. */
    let latest = -Infinity;
    const state = new KeyedState<GroupState>(ctx.store, ctx.ns, {
      // Entries are never changed once counted: a copy of the list is enough.
      decode: (v) => {
        const stored = v as GroupState;
        return { e: [...stored.e], s: stored.s };
      },
      encode: (st) => {
        const horizon = Math.max(st.s ?? -Infinity, st.e.length > 0 ? st.e[st.e.length - 1]!.t : -Infinity);
        return { value: st, expiresAt: horizon + stage.windowMs };
      },
    }, undefined, () => latest);
    return {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        if (m.time > latest) latest = m.time;
        const lists = groupGetters.map((get) => scalars(get(ev)));
        if (lists.some((l) => l.length === 0)) return [];
        const distinct = cardinality.length > 0 ? cardinality.map((c) => [...new Set(scalars(c.get(ev)).map(String))]) : undefined;
        const anc = ancestry(ev);
        const out: Match[] = [];
        for (const tuple of cartesian(lists, MAX_GROUPS_PER_EVENT)) {
          const key = JSON.stringify(tuple);
          const st = state.ensure(key, () => ({ e: [], s: null }));
          // Signal history: matches at or before the last alert's last event are not counted again.
          if (st.s !== null && m.time <= st.s) continue;
          const newest = Math.max(m.time, st.e.length > 0 ? st.e[st.e.length - 1]!.t : -Infinity);
          const start = newest - stage.windowMs;
          if (m.time < start) continue; // a late match older than the window
          const entry: Entry = { t: m.time, id: ev.id };
          if (distinct) entry['v'] = distinct;
          if (anc) entry['a'] = anc;
          // Keep time order (a late match goes before newer ones), then drop what left the window.
          const counts = cardinality.length > 0 ? countsOf(st) : undefined;
          let at = st.e.length;
          while (at > 0 && st.e[at - 1]!.t > m.time) at--;
          st.e.splice(at, 0, entry);
          if (counts) countValues(counts, entry, 1);
          while (st.e.length > 0 && st.e[0]!.t < start) {
            const gone = st.e.shift()!;
            if (counts) countValues(counts, gone, -1);
          }

          const count = st.e.length;
          const cards = cardinality.map((c, i) => {
            const size = counts![i]!.size;
            return { field: c.name, value: size, reached: size >= c.value };
          });
          if (count >= stage.value && cards.every((c) => c.reached)) {
            const counted = st.e;
            const first = counted[0]!.t;
            const last = counted[counted.length - 1]!.t;
            const events = counted.map((e) => (e.id === ev.id && e.t === m.time ? ev : stub(e)));
            const terms: Json[] = stage.groupBy.map((f, i) => ({ field: f.name, value: tuple[i]! }));
            out.push({
              events,
              time: last,
              fields: {
                ...m.fields,
                'oktopus.synthetic': true,
                'kibana.alert.threshold_result': {
                  terms,
                  count,
                  from: new Date(first).toISOString(),
                  cardinality: cards.map((c) => ({ field: c.field, value: c.value })),
                },
              },
              idSalt: `${m.idSalt ?? ''}threshold:${key}`,
            });
            st.e = [];
            st.s = last;
            distinctCounts.delete(st);
          }
          state.set(key, st);
        }
        state.trim();
        return out;
      },
      persist(watermark?: number): void {
        state.persist(watermark);
      },
    };
  },
};
