/**
 * EQL `sequence` (reference elastic.md §2.1, §2.3; Elasticsearch `eql-syntax.md` "How sequence
 * queries handle matches", `SequenceMatcher` / `TumblingWindow`; Python `eql/engine.py`).
 *
 * Input: single-event matches in event-time order (the rule's head filter is the OR of the steps;
 * the stage sits behind the reorder window). Each step's predicate is evaluated here.
 *
 *  - Steps: `with runs=N` is the step written N times (ES expands it; a missing step with runs
 *    is N missing steps in a row). Positive steps are the states of the machine.
 *  - Join key of an event for a step: the sequence-wide `by` values then the step's own `by`
 *    values, compared as a tuple. A null/missing value means the event does not join, unless the
 *    key expression is an optional field (`?field`) or `semantics: 'python'` (the Python engine
 *    joins null keys). `caseInsensitiveKeys` lower-cases strings (the Python engine).
 *  - Multi-valued keys (Elasticsearch >= 8.5, elastic/elasticsearch PR #89965 "EQL sequences:
 *    support join on multi-values", fixing #64553): "each value is considered as a different join
 *    key, so the same record will be considered multiple times"; with several multi-valued keys
 *    "the resulting keys will be the cartesian product of all the single keys per multi value".
 *    So an event is offered to the state machine once per scalar key tuple (steps, `until` and
 *    missing steps alike), each tuple with its own pending sequences; `join_keys` is that tuple.
 *    Values of one key are de-duplicated, nulls inside an array are dropped (`[]` or all-null is
 *    a null key), and an event takes part with at most MAX_KEYS_PER_EVENT tuples (the product is
 *    cut there, as the grouping stages' cartesian in terms.ts). `semantics: 'python'` keeps the
 *    Python engine's behaviour: the whole array is one value (`[x]` is `x`).
 *  - State machine (ES): per key, one pending sequence per state; a newer partial match replaces
 *    the older one at the same state. An event is offered to the steps from last to first, so it
 *    cannot advance one sequence twice but may advance several (ES `withByKey1`: one event both
 *    completes [2,4]→5 and moves [4] on); Python does the same (callbacks in reverse order).
 *    Advancing takes the pending sequence out of its state even when it then fails a check.
 *  - maxspan: every event within `maxspanMs` of the sequence's first event; exactly maxspan
 *    still matches (ES `delta > maxspan` rejects; Python `first < t - maxspan` drops).
 *    Without maxspan, `stateTtlMs` (an Elastic rule's look-back, eql-rule.ts) bounds pending
 *    sequences the same way (a sequence whose first event is older than that, relative to the
 *    current event, is dropped); with neither, they live until `until` (no expiry).
 *  - until: an event matching it drops every pending sequence of its key (sequence-wide `by` +
 *    the until's `by`), before the steps see the event (Python order); completed sequences that
 *    only wait for a trailing missing step are not affected (ES checks until between matches).
 *  - Missing steps `![...]` (ES TumblingWindow missing-event check; needs maxspan; key = the
 *    step's own key, which must equal the sequence's):
 *      middle:   rejected if such an event occurs strictly between its neighbours' times;
 *      leading:  lead = latest such event strictly before the first positive event;
 *      trailing: trail = earliest such event strictly after the last positive event.
 *    A complete sequence is rejected only when the "filled-in" sequence would fit maxspan:
 *      leading only:  lead exists and last - lead <= maxspan;
 *      trailing only: trail exists and trail - first <= maxspan;
 *      both:          lead and trail exist and trail - lead <= maxspan (so with no lead the
 *                     sequence completes at once, whatever follows: ES's rule, kept).
 *    A sequence waiting for its trailing window is emitted once event time is past the window's
 *    end D = (lead or first) + maxspan (from `tick(watermark)` when watermark > D, or from `push`
 *    when an event later than D arrives), with `time = D`. Several may wait per key (a queue).
 *  - Output: `events` = the positive events in step order, `time` = the last event's time (or D),
 *    `fields['oktopus.sequence'] = { join_keys }` (as ES returns `join_keys`). Completion order.
 *  - State: per key, its pending sequences per state, its waiting completions and its last
 *    leading-missing times, held in memory (keyed-state.ts: loaded from the store once per key,
 *    events kept as live objects) and written back by `persist()` — from the engine's commit,
 *    inside the batch transaction — as one store entry per key under `ctx.ns`, the events
 *    serialised (as the reorder window does), so a restart resumes mid-sequence. An entry
 *    expires with its newest deadline (first + maxspan, or + stateTtlMs). Per key at most one
 *    pending sequence per positive step (bounded by steps × events per sequence) plus at most
 *    MAX_WAITING waiting completions; at most DEFAULT_KEY_CAP keys stay in memory.
 */
import { makeEvent, type CanonicalEvent, type Json, type JsonObject } from '../../event/types.js';
import type { ExprSemantics, SequenceStage, ValueExpr } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { compileExpr } from '../expr/index.js';
import { compilePredicate, type EventTest } from '../predicate/index.js';
import { KeyedState } from './keyed-state.js';
import { cartesian } from './terms.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';
import { DeadlineQueue } from './deadlines.js';

/** Most completed sequences one key may hold while they wait for a trailing missing step. */
export const MAX_WAITING = 1000;

/** Most join-key tuples one event takes part with (multi-valued keys multiply). */
export const MAX_KEYS_PER_EVENT = 100;

/* ---------------------------- helpers shared with sample.ts / pipe.ts ---------------------------- */

/** An event as stored in the state store (the reorder window's row shape). */
export type StoredEvent = JsonObject;

export function storeEvent(ev: CanonicalEvent): StoredEvent {
  return { kind: ev.kind, id: ev.id, time: ev.time, eventType: ev.eventType, doc: ev.doc, origin: ev.origin, depth: ev.depth, shape: ev.shape };
}

export function reviveEvent(row: Json): CanonicalEvent {
  return makeEvent(row as unknown as Omit<CanonicalEvent, 'cache'>);
}

/** A value expression as a function of an event: fields directly, the rest via compileExpr. */
export function valueOf(e: ValueExpr, ctx: StageContext, semantics?: ExprSemantics): (ev: CanonicalEvent) => unknown {
  if (e.type === 'field') return resolveField(e.field, ctx.schema);
  return compileExpr(e, (f) => resolveField(f, ctx.schema), semantics);
}

/** A key value as JSON: missing/[] -> null, [x] -> x, arrays kept whole, strings folded on demand. */
export function keyValue(v: unknown, fold: boolean): Json {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) {
    const list = v.map((x) => keyValue(x, fold));
    return list.length === 0 ? null : list.length === 1 ? list[0]! : list;
  }
  if (typeof v === 'string') return fold ? v.toLowerCase() : v;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return v as Json;
}

/** Each value of a (possibly multi-valued) key on its own: arrays flattened, nulls dropped, once each. */
export function keyValues(v: unknown, fold: boolean): Json[] {
  if (typeof v === 'string') return [fold ? v.toLowerCase() : v];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return [v as Json];
  const out: Json[] = [];
  const seen = new Set<string>();
  const add = (x: unknown): void => {
    if (x === undefined || x === null) return;
    if (Array.isArray(x)) {
      for (const y of x) add(y);
      return;
    }
    const value = (typeof x === 'string' && fold ? x.toLowerCase() : x) as Json;
    const id = typeof value === 'string' ? `s${value}` : JSON.stringify(value);
    if (seen.has(id)) return;
    seen.add(id);
    out.push(value);
  };
  add(v);
  return out;
}

/** The join keys of an event: one tuple per combination of values; none when it does not join. */
export type KeyFn = (ev: CanonicalEvent) => Json[][];

/**
 * Elasticsearch: one tuple per combination of the keys' values (see the header); Python
 * (`semantics: 'python'`): one tuple, arrays whole.
 */
export function compileKey(exprs: ValueExpr[], ctx: StageContext, opts: { fold: boolean; semantics?: ExprSemantics }): KeyFn {
  const python = opts.semantics === 'python';
  const parts = exprs.map((e) => ({
    get: valueOf(e, ctx, opts.semantics),
    nullable: (e.type === 'field' && e.optional === true) || python,
  }));
  if (python) {
    return (ev) => {
      const out: Json[] = [];
      for (const p of parts) {
        const v = keyValue(p.get(ev), opts.fold);
        if (v === null && !p.nullable) return [];
        out.push(v);
      }
      return [out];
    };
  }
  return (ev) => {
    const lists: Json[][] = [];
    let single = true;
    for (const p of parts) {
      const values = keyValues(p.get(ev), opts.fold);
      if (values.length === 0) {
        if (!p.nullable) return [];
        lists.push([null]);
      } else {
        if (values.length > 1) single = false;
        lists.push(values);
      }
    }
    return single ? [lists.map((l) => l[0]!)] : cartesian(lists, MAX_KEYS_PER_EVENT);
  };
}

/* ------------------------------------------- state ------------------------------------------- */

/** A partial (or completed) sequence. */
interface Partial {
  /**
   * Positive events so far, as store rows: in memory they reference the events' documents (no
   * copy, no serialisation; the live events' caches are not kept), the store serialises them.
   */
  e: StoredEvent[];
  /** Time of the first and of the last positive event. */
  f: number;
  l: number;
  /** Time of a middle missing event seen after `l` (rejects the next advance if earlier than it). */
  x?: number;
  /** Latest leading missing event strictly before `f` (leading missing steps only). */
  b?: number | null;
  /** Waiting completions: end of the trailing window. */
  d?: number;
}

interface KeyState {
  /** Pending sequences by the index of the positive step they last matched. */
  p: { [step: string]: Partial };
  /** Completed sequences waiting for their trailing window to pass, oldest first. */
  a?: Partial[];
  /** Leading missing events: latest time `t` and the latest time before it `b`. */
  m?: { t: number; b: number | null };
}

interface Step {
  test: EventTest;
  key: KeyFn;
  missing: boolean;
}

export const sequenceStage: StageFactory<SequenceStage> = {
  type: 'sequence',
  create(stage: SequenceStage, ctx: StageContext): StageRuntime {
    const fold = stage.caseInsensitiveKeys === true;
    const maxspan = stage.maxspanMs;
    const ttl = stage.stateTtlMs;
    if (ttl !== undefined && !(ttl > 0)) throw new Error(`sequence: stateTtlMs must be positive, got ${ttl}`);
    /** How long a pending sequence may wait for its next event: maxspan, else the state TTL. */
    const horizon = maxspan ?? ttl;
    const keyOpts = { fold, semantics: stage.semantics };

    // Expand runs: the step repeated N times (ES, Python `runs` are syntactic).
    const steps: Step[] = [];
    const keyLengths = new Set<number>();
    for (const s of stage.steps) {
      const runs = s.runs ?? 1;
      if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`sequence: runs must be 1..100, got ${runs}`);
      const by = [...stage.by, ...(s.by ?? [])];
      keyLengths.add(by.length);
      const step: Step = { test: compilePredicate(s.predicate, ctx.schema), key: compileKey(by, ctx, keyOpts), missing: s.missing === true };
      for (let i = 0; i < runs; i++) steps.push(step);
    }
    const positive = steps.flatMap((s, i) => (s.missing ? [] : [i]));
    if (positive.length === 0) throw new Error('sequence: at least one step must not be a missing (![...]) step');
    const hasMissing = positive.length < steps.length;
    if (hasMissing && maxspan === undefined) throw new Error('sequence: missing-event steps (![...]) need `with maxspan`');
    const until = stage.until
      ? { test: compilePredicate(stage.until.predicate, ctx.schema), key: compileKey([...stage.by, ...(stage.until.by ?? [])], ctx, keyOpts) }
      : undefined;
    if (stage.until) keyLengths.add(stage.by.length + (stage.until.by?.length ?? 0));
    // The EQL translation reports this with its place in the query; kept for other IR producers.
    if (keyLengths.size > 1) throw new Error('sequence: every step must have the same number of join keys');

    const first = positive[0]!;
    const last = positive[positive.length - 1]!;
    const hasLeading = first > 0;
    const hasTrailing = last < steps.length - 1;
    /** The positive step before step i (the state a missing step i or positive step i follows). */
    const prevPositive = (i: number): number => {
      for (let j = i - 1; j >= 0; j--) if (!steps[j]!.missing) return j;
      return -1;
    };
    const missingSteps = steps.flatMap((s, i) => (s.missing ? [i] : []));
    const positiveDesc = [...positive].reverse();

    /* ------------------------- state: in memory, persisted at commit ------------------------- */

    const state = new KeyedState<KeyState>(ctx.store, ctx.ns, {
      // Shallow copies (partials are changed in place; stored events never are).
      decode: (v) => {
        const stored = v as unknown as KeyState;
        const st: KeyState = { p: Object.fromEntries(Object.entries(stored.p).map(([i, p]) => [i, { ...p }])) };
        if (stored.a) st.a = [...stored.a];
        if (stored.m) st.m = stored.m;
        return st;
      },
      encode: (st) => {
        if (st.a && st.a.length === 0) delete st.a;
        if (Object.keys(st.p).length === 0 && !st.a && !st.m) return undefined;
        const deadlines: number[] = [];
        if (horizon !== undefined) {
          for (const p of Object.values(st.p)) deadlines.push(p.f + horizon);
          if (st.m) deadlines.push(st.m.t + horizon);
        }
        for (const a of st.a ?? []) deadlines.push(a.d!);
        const expiresAt = horizon === undefined && !st.a ? undefined : Math.max(...deadlines);
        return { value: st as unknown as Json, expiresAt };
      },
    }, undefined, () => latest);
    /** Time of the latest event pushed (state that expired before it is dead). */
    let latest = -Infinity;
    const empty = (): KeyState => ({ p: {} });

    /* ------------------- completions waiting for a trailing window (in memory) ------------------- */

    /** (deadline, key) of every waiting completion, by deadline; stale items are skipped. */
    // Built on the first push or tick, before anything is held in memory: the store is whole.
    const waiting = new DeadlineQueue(function* () {
      for (const [k, v] of ctx.store.entries(ctx.ns)) for (const a of (v as unknown as KeyState).a ?? []) yield { d: a.d!, k };
    });
    const wait = (d: number, k: string): void => waiting.add(d, k);

    const output = (p: Partial, key: Json[], time: number, current?: CanonicalEvent): Match => ({
      events: p.e.map((row) => (current && row['doc'] === current.doc ? current : reviveEvent(row))),
      time,
      fields: { 'oktopus.sequence': { join_keys: key } },
    });

    /** Emit the waiting completions whose trailing window ended before `time`. */
    const due = (time: number): Match[] => {
      const out: Match[] = [];
      for (const { d, k } of waiting.takeBefore(time)) {
        const st = state.get(k);
        if (!st?.a) continue;
        const keep: Partial[] = [];
        for (const a of st.a) {
          if (a.d === d) out.push(output(a, JSON.parse(k) as Json[], d));
          else keep.push(a);
        }
        if (keep.length !== st.a.length) {
          st.a = keep;
          state.touch(k);
        }
      }
      return out;
    };

    /** A sequence whose positive steps are all matched: emit, reject, or wait for its trailing window. */
    const complete = (p: Partial, k: string, key: Json[], st: KeyState, ev: CanonicalEvent, out: Match[]): void => {
      const lead = p.b ?? null;
      if (hasLeading && !hasTrailing) {
        if (lead === null || p.l - lead > maxspan!) out.push(output(p, key, p.l, ev));
        return;
      }
      if (!hasTrailing || (hasLeading && lead === null)) {
        out.push(output(p, key, p.l, ev));
        return;
      }
      const d = (hasLeading ? lead! : p.f) + maxspan!;
      if (d <= p.l) {
        out.push(output(p, key, p.l, ev));
        return;
      }
      const a = { ...p, d };
      delete a.b;
      st.a = [...(st.a ?? []), a];
      if (st.a.length > MAX_WAITING) st.a.shift();
      wait(d, k);
    };

    const runtime: StageRuntime = {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        const t = ev.time;
        if (t > latest) latest = t;
        const out: Match[] = hasTrailing ? due(t) : [];
        // A step written `with runs=N` is N steps sharing one predicate and key: each is computed
        // once per event. null: the step's predicate does not match.
        const matched = new Map<Step, Json[][] | null>();
        const keysIfMatch = (step: Step): Json[][] | null => {
          let keys = matched.get(step);
          if (keys === undefined) {
            keys = step.test(ev) ? step.key(ev) : null;
            matched.set(step, keys);
          }
          return keys;
        };
        let stored: StoredEvent | undefined;
        /** The event as a store row, made once (it may join several keys). */
        const row = (): StoredEvent => (stored ??= storeEvent(ev));

        /** The key's state, without what maxspan (or the state TTL) no longer allows. */
        const fresh = (k: string): KeyState => {
          const st = state.ensure(k, empty);
          if (horizon !== undefined) {
            for (const [i, p] of Object.entries(st.p)) {
              if (t - p.f > horizon) {
                delete st.p[i];
                state.touch(k);
              }
            }
            if (st.m && t - st.m.t > horizon) {
              delete st.m;
              state.touch(k);
            }
          }
          return st;
        };

        if (until && until.test(ev)) {
          // Only a key with pending sequences changes: no state is made for the others (an
          // `until` such as "any successful sign-in" matches most events).
          for (const key of until.key(ev)) {
            const k = JSON.stringify(key);
            const st = state.get(k);
            if (st && Object.keys(st.p).length > 0) {
              st.p = {};
              state.touch(k);
            }
          }
        }

        for (const i of missingSteps) {
          const keys = keysIfMatch(steps[i]!);
          if (!keys) continue;
          for (const key of keys) {
            const k = JSON.stringify(key);
            // Only a leading missing step records something for a key without state.
            if (i >= first && !state.get(k)) continue;
            const st = fresh(k);
            if (i < first) {
              if (!st.m) st.m = { t, b: null };
              else if (t > st.m.t) st.m = { t, b: st.m.t };
              else continue;
              state.touch(k);
            } else if (i > last) {
              // The first trailing event after a completion inside its window rejects it.
              if (!st.a) continue;
              const kept = st.a.filter((a) => !(a.l < t && t <= a.d!));
              if (kept.length !== st.a.length) {
                st.a = kept;
                state.touch(k);
              }
            } else {
              const p = st.p[prevPositive(i)];
              if (p && p.l < t && p.x === undefined) {
                p.x = t;
                state.touch(k);
              }
            }
          }
        }

        for (const j of positiveDesc) {
          const keys = keysIfMatch(steps[j]!);
          if (!keys) continue;
          for (const key of keys) {
            const k = JSON.stringify(key);
            // A later step only advances a pending sequence: a key without state has none.
            if (j !== first && !state.get(k)) continue;
            const st = fresh(k);
            let next: Partial;
            if (j === first) {
              next = { e: [row()], f: t, l: t };
              if (hasLeading) next.b = st.m ? (st.m.t < t ? st.m.t : st.m.b) : null;
            } else {
              const from = String(prevPositive(j));
              const p = st.p[from];
              if (!p || p.l > t) continue; // nothing pending (a late event cannot go before it)
              delete st.p[from];
              state.touch(k);
              if (p.x !== undefined && p.x < t) continue; // a missing event came in between
              next = { ...p, e: [...p.e, row()], l: t };
              delete next.x;
            }
            if (j === last) {
              complete(next, k, key, st, ev, out);
              state.touch(k);
            } else {
              const older = st.p[String(j)];
              if (!older || older.l <= t) {
                st.p[String(j)] = next; // the newer partial replaces the older
                state.touch(k);
              }
            }
          }
        }
        state.trim();
        return out;
      },
      persist(watermark?: number): void {
        state.persist(watermark);
      },
    };
    if (hasTrailing) {
      runtime.tick = (watermark: number): Match[] => {
        const out = due(watermark);
        state.trim();
        return out;
      };
    }
    return runtime;
  },
};
