/**
 * EQL pipes (Elasticsearch `eql-pipe-ref.md`: head, tail; the Python engine `eql/engine.py`:
 * also filter, unique, unique_count, count, sort). A scheduled rule applies them to one
 * execution's results; here to the results of each window of `windowMs` of event time
 * (window = floor(match.time / windowMs); `Infinity` = one window for the whole input).
 *
 *  - Fields in a pipe refer to the FIRST event of a result (Python: a pipe field without
 *    `events[n].` reads `events[0]`); for an event query that is the event. With
 *    `resultEvents` (Python, a pipe after a sequence or sample), `events[n].x` reads field x of
 *    the n-th event of the result, as Python's `query_multiple_events`.
 *  - 'python' only: after `unique_count`, `count` and `percent` read the result's counts (Python
 *    writes them into its first event); after `count`, `key`, `count` and `percent` are the
 *    fields of the synthetic result (Python's new generic event).
 *  - head N:   the first N results of each window, passed on at once.
 *  - tail N:   the last N results of each window, emitted when the window closes.
 *  - filter:   results whose first event satisfies the predicate, at once.
 *  - unique k: the first result per key tuple per window, at once (emitting it at close would
 *    give the same results in the same order). Key values are compared as they are (null is a
 *    value; arrays whole); with `caseInsensitive` (the Python engine's mode) strings fold case
 *    in the keys of unique, unique_count and sort, and count groups keys ignoring case (the
 *    first spelling seen is the one reported), as Python's `_convert_key`.
 *  - count:    at close, one synthetic result per window (no keys: Python's
 *    `{key: 'totals', count}`) or per key tuple (`{key, count, percent}`, ordered by (count,
 *    key)), in `fields['oktopus.count']` with `oktopus.synthetic` (Python emits a new generic
 *    event, no source event: a conformance run expects no event ids for it). The synthetic
 *    match carries the first counted result's events (for ancestry and the alert id).
 *    A window with no result emits nothing (Python's end-of-input `count` of 0 has no event).
 *  - unique_count k: at close, the first result per key tuple, in first-seen order, with
 *    `fields['oktopus.count'] = {key, count, percent}` (Python adds count/percent to its event).
 *  - sort k:   at close, the window's results stably sorted by the keys. Order as Python's
 *    `get_type_converter`: a null sorts as the empty value of the type seen at that position
 *    ("" or 0 or false); values of different types (an error in Python) order by type name.
 *  - A window closes when the watermark reaches its end (every earlier event was seen);
 *    `tick(Infinity)` closes all. A result for a window already closed (a late event) opens it
 *    again and is emitted at the next tick.
 *  - State in the store under `ctx.ns` (restart-safe): head counters and unique keys per window
 *    (expiring at the window's end); the buffered results of tail / sort / count / unique_count
 *    per window (events serialised; deleted when emitted).
 */
import { makeEvent, type CanonicalEvent, type Json, type JsonObject } from '../../event/types.js';
import type { PipeStage } from '../../ir/types.js';
import { compilePredicate } from '../predicate/index.js';
import { keyValue, reviveEvent, storeEvent, valueOf, type StoredEvent } from './sequence.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

/** A result as stored: events serialised. */
interface StoredMatch {
  e: StoredEvent[];
  t: number;
  f: JsonObject;
  s?: string;
  /** Sort key (sort only). */
  k?: Json[];
}

interface Bucket {
  /** Results counted, the first one, the last time. */
  n: number;
  m: StoredMatch;
  t: number;
  /** The key as first seen, when the bucket's key is folded (case-insensitive count). */
  o?: Json[];
}

interface WindowState {
  /** head: results passed. */
  n?: number;
  /** tail / sort: results kept. */
  r?: StoredMatch[];
  /** count / unique_count: per key tuple (JSON), in first-seen order. */
  b?: { [key: string]: Bucket };
}

const toStored = (m: Match, k?: Json[]): StoredMatch => {
  const s: StoredMatch = { e: m.events.map(storeEvent), t: m.time, f: m.fields };
  if (m.idSalt !== undefined) s.s = m.idSalt;
  if (k) s.k = k;
  return s;
};

const fromStored = (s: StoredMatch): Match => {
  const m: Match = { events: s.e.map(reviveEvent), time: s.t, fields: s.f };
  if (s.s !== undefined) m.idSalt = s.s;
  return m;
};

/* ---------------------------------- Python-like ordering ---------------------------------- */

const typeName = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function compareValues(a: Json, b: Json): number {
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (ta === 'number' || ta === 'boolean' || ta === 'string') return a! < b! ? -1 : a! > b! ? 1 : 0;
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/** Python's get_type_converter: null becomes the empty value of the first type seen per position. */
function nullFiller(rows: Json[][]): (row: Json[]) => Json[] {
  const empty: Json[] = [];
  for (const row of rows) {
    row.forEach((v, i) => {
      if (empty[i] === undefined && v !== null) {
        empty[i] = typeof v === 'string' ? '' : typeof v === 'number' ? 0 : typeof v === 'boolean' ? false : null;
      }
    });
  }
  return (row) => row.map((v, i) => (v === null ? (empty[i] ?? null) : v));
}

function compareRows(a: Json[], b: Json[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareValues(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}

/* ------------------------------------------ stage ------------------------------------------ */

const pad = (w: number): string => String(w).padStart(16, '0');

export const pipeStage: StageFactory<PipeStage> = {
  type: 'pipe',
  create(stage: PipeStage, ctx: StageContext): StageRuntime {
    const finite = Number.isFinite(stage.windowMs);
    if (finite && !(stage.windowMs > 0)) throw new Error(`pipe: windowMs must be positive, got ${stage.windowMs}`);
    const windowOf = (time: number): number => (finite ? Math.floor(time / stage.windowMs) : 0);
    const endOf = (w: number): number => (finite ? (w + 1) * stage.windowMs : Infinity);
    const expiry = (w: number): number | undefined => (finite ? endOf(w) : undefined);

    const getters = (stage.keys ?? []).map((e) => valueOf(e, ctx, stage.semantics));
    const python = stage.semantics === 'python';
    const fold = python && stage.caseInsensitive === true;
    /** The event a pipe's fields read (see the header): the first event, or a view of the result. */
    const view = (m: Match): CanonicalEvent => {
      const first = m.events[0]!;
      if (!python) return first;
      const count = m.fields['oktopus.count'];
      const counted = count !== null && typeof count === 'object' && !Array.isArray(count);
      if (!counted && !stage.resultEvents) return first;
      let doc: JsonObject = first.doc;
      if (counted) {
        doc =
          m.fields['oktopus.synthetic'] === true
            ? { ...count }
            : { ...doc, count: count['count'] ?? null, percent: count['percent'] ?? null };
      }
      if (stage.resultEvents) doc = { ...doc, events: m.events.map((e) => e.doc) };
      return makeEvent({ ...first, doc });
    };
    const rawKey = (ev: CanonicalEvent): Json[] => getters.map((get) => keyValue(get(ev), false));
    const keyOf = (m: Match): Json[] => {
      const ev = view(m);
      return getters.map((get) => keyValue(get(ev), fold));
    };
    const n = stage.n ?? 0;
    if ((stage.pipe === 'head' || stage.pipe === 'tail') && !(Number.isInteger(n) && n >= 0)) throw new Error(`pipe ${stage.pipe}: N must be a whole number`);
    if ((stage.pipe === 'unique' || stage.pipe === 'unique_count' || stage.pipe === 'sort') && getters.length === 0) {
      throw new Error(`pipe ${stage.pipe}: needs at least one key`);
    }

    const get = (w: number): WindowState => (ctx.store.get(ctx.ns, `w:${pad(w)}`) as unknown as WindowState | undefined) ?? {};
    const put = (w: number, st: WindowState, exp?: number): void => ctx.store.set(ctx.ns, `w:${pad(w)}`, st as unknown as Json, exp);

    /* Windows buffered until they close (tail, sort, count, unique_count); loaded once. */
    let open: Set<number> | undefined;
    const openWindows = (): Set<number> => {
      if (!open) {
        open = new Set();
        for (const [k] of ctx.store.entries(ctx.ns, 'w:')) open.add(Number(k.slice(2)));
      }
      return open;
    };

    /** What a closing window emits. */
    const close = (st: WindowState, w: number): Match[] => {
      switch (stage.pipe) {
        case 'tail':
          return (st.r ?? []).map(fromStored);
        case 'sort': {
          const rows = st.r ?? [];
          const fill = nullFiller(rows.map((r) => r.k ?? []));
          const keyed = rows.map((r, i) => ({ r, k: fill(r.k ?? []), i }));
          keyed.sort((a, b) => compareRows(a.k, b.k) || a.i - b.i);
          return keyed.map((x) => fromStored(x.r));
        }
        case 'unique_count': {
          const buckets = Object.entries(st.b ?? {});
          const total = buckets.reduce((s, [, b]) => s + b.n, 0);
          return buckets.map(([k, b]) => {
            const m = fromStored(b.m);
            return { ...m, fields: { ...m.fields, 'oktopus.count': { key: countKey(k), count: b.n, percent: b.n / total } } };
          });
        }
        case 'count': {
          const buckets = Object.entries(st.b ?? {});
          if (getters.length === 0) {
            const [k, b] = buckets[0]!;
            return [synthetic(b, { key: 'totals', count: b.n }, `count:${w}:${k}`)];
          }
          const total = buckets.reduce((s, [, b]) => s + b.n, 0);
          const keyOfBucket = (k: string, b: Bucket): Json[] => b.o ?? (JSON.parse(k) as Json[]);
          const fill = nullFiller(buckets.map(([k, b]) => keyOfBucket(k, b)));
          const rows = buckets.map(([k, b]) => ({ k, b, order: [b.n, ...fill(keyOfBucket(k, b))] }));
          rows.sort((x, y) => compareRows(x.order, y.order));
          return rows.map(({ k, b }) => synthetic(b, { key: countKey(JSON.stringify(keyOfBucket(k, b))), count: b.n, percent: b.n / total }, `count:${w}:${k}`));
        }
        default:
          return [];
      }
    };
    /** Python's key: the value for one key, the tuple for several. */
    const countKey = (k: string): Json => {
      const tuple = JSON.parse(k) as Json[];
      return tuple.length === 1 ? tuple[0]! : tuple;
    };
    const synthetic = (b: Bucket, count: JsonObject, salt: string): Match => ({
      events: b.m.e.map(reviveEvent),
      time: b.t,
      fields: { 'oktopus.synthetic': true, 'oktopus.count': count },
      idSalt: salt,
    });

    const buffer = (w: number, update: (st: WindowState) => void): Match[] => {
      const st = get(w);
      update(st);
      put(w, st);
      openWindows().add(w);
      return [];
    };

    const runtime: StageRuntime = {
      push(m: Match): Match[] {
        const w = windowOf(m.time);
        switch (stage.pipe) {
          case 'filter':
            return test!(view(m)) ? [m] : [];
          case 'head': {
            const st = get(w);
            const seen = st.n ?? 0;
            if (seen >= n) return [];
            put(w, { n: seen + 1 }, expiry(w));
            return [m];
          }
          case 'unique': {
            const k = `u:${pad(w)}:${JSON.stringify(keyOf(m))}`;
            if (ctx.store.get(ctx.ns, k) !== undefined) return [];
            ctx.store.set(ctx.ns, k, 1, expiry(w));
            return [m];
          }
          case 'tail':
            return buffer(w, (st) => {
              st.r = [...(st.r ?? []), toStored(m)];
              while (st.r.length > n) st.r.shift();
            });
          case 'sort':
            return buffer(w, (st) => {
              st.r = [...(st.r ?? []), toStored(m, keyOf(m))];
            });
          case 'count':
          case 'unique_count':
            return buffer(w, (st) => {
              const k = JSON.stringify(keyOf(m));
              const b = { ...(st.b ?? {}) };
              const old = b[k];
              if (old) b[k] = { ...old, n: old.n + 1, t: Math.max(old.t, m.time) };
              else {
                b[k] = { n: 1, m: toStored(m), t: m.time };
                // count reports the key as first seen, not folded (Python's key_lookup).
                if (fold && stage.pipe === 'count') b[k]!.o = rawKey(view(m));
              }
              st.b = b;
            });
        }
      },
    };
    const test = stage.pipe === 'filter' ? compilePredicate(stage.predicate ?? { type: 'const', value: true }, ctx.schema) : undefined;

    if (stage.pipe === 'tail' || stage.pipe === 'sort' || stage.pipe === 'count' || stage.pipe === 'unique_count') {
      runtime.tick = (watermark: number): Match[] => {
        const due = [...openWindows()].filter((w) => endOf(w) <= watermark).sort((a, b) => a - b);
        const out: Match[] = [];
        for (const w of due) {
          const st = get(w);
          ctx.store.delete(ctx.ns, `w:${pad(w)}`);
          open!.delete(w);
          out.push(...close(st, w));
        }
        return out;
      };
    }
    return runtime;
  },
};
