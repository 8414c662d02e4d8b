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
 *    joins null keys). `caseInsensitiveKeys` lower-cases strings (the Python engine). A
 *    multi-valued value is the whole array (`[]` counts as null, `[x]` as `x`).
 *  - State machine (ES): per key, one pending sequence per state; a newer partial match replaces
 *    the older one at the same state. An event is offered to the steps from last to first, so it
 *    cannot advance one sequence twice but may advance several (ES `withByKey1`: one event both
 *    completes [2,4]→5 and moves [4] on); Python does the same (callbacks in reverse order).
 *    Advancing takes the pending sequence out of its state even when it then fails a check.
 *  - maxspan: every event within `maxspanMs` of the sequence's first event; exactly maxspan
 *    still matches (ES `delta > maxspan` rejects; Python `first < t - maxspan` drops).
 *    Without maxspan, pending sequences live until `until` or forever (store expiry undefined).
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
 *  - State: one store entry per key under `ctx.ns` holding its pending sequences per state, its
 *    waiting completions and its last leading-missing times, with the events serialised (as
 *    the reorder window does) so a restart resumes mid-sequence. It expires with its newest
 *    deadline (first + maxspan). Per key at most one pending sequence per positive step
 *    (bounded by steps × events per sequence) plus at most MAX_WAITING waiting completions.
 */
import { makeEvent, type CanonicalEvent, type Json, type JsonObject } from '../../event/types.js';
import type { ExprSemantics, SequenceStage, ValueExpr } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { compileExpr } from '../expr/index.js';
import { compilePredicate, type EventTest } from '../predicate/index.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

/** Most completed sequences one key may hold while they wait for a trailing missing step. */
export const MAX_WAITING = 1000;

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

/** The join key of an event: the tuple of values, or undefined when the event does not join. */
export type KeyFn = (ev: CanonicalEvent) => Json[] | undefined;

export function compileKey(exprs: ValueExpr[], ctx: StageContext, opts: { fold: boolean; semantics?: ExprSemantics }): KeyFn {
  const parts = exprs.map((e) => ({
    get: valueOf(e, ctx, opts.semantics),
    nullable: (e.type === 'field' && e.optional === true) || opts.semantics === 'python',
  }));
  return (ev) => {
    const out: Json[] = [];
    for (const p of parts) {
      const v = keyValue(p.get(ev), opts.fold);
      if (v === null && !p.nullable) return undefined;
      out.push(v);
    }
    return out;
  };
}

/* ------------------------------------------- state ------------------------------------------- */

/** A partial (or completed) sequence. */
interface Partial {
  /** Positive events so far, serialised. */
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

    /* ------------------------------- store access (per push) ------------------------------- */

    let touched = new Map<string, KeyState>();
    const load = (k: string): KeyState => {
      let st = touched.get(k);
      if (!st) {
        const stored = ctx.store.get(ctx.ns, k) as unknown as KeyState | undefined;
        // Shallow copies: stored events are never modified, only replaced.
        st = stored ? { ...stored, p: Object.fromEntries(Object.entries(stored.p).map(([i, p]) => [i, { ...p }])) } : { p: {} };
        touched.set(k, st);
      }
      return st;
    };
    const save = (): void => {
      for (const [k, st] of touched) {
        const deadlines: number[] = [];
        if (maxspan !== undefined) {
          for (const p of Object.values(st.p)) deadlines.push(p.f + maxspan);
          if (st.m) deadlines.push(st.m.t + maxspan);
        }
        for (const a of st.a ?? []) deadlines.push(a.d!);
        if (st.a && st.a.length === 0) delete st.a;
        if (Object.keys(st.p).length === 0 && !st.a && !st.m) ctx.store.delete(ctx.ns, k);
        else ctx.store.set(ctx.ns, k, st as unknown as Json, maxspan === undefined ? undefined : Math.max(...deadlines));
      }
      touched = new Map();
    };

    /* ------------------- completions waiting for a trailing window (in memory) ------------------- */

    /** (deadline, key) of every waiting completion, by deadline; stale items are skipped. */
    let waiting: { d: number; k: string }[] | undefined;
    const index = (): { d: number; k: string }[] => {
      if (!waiting) {
        waiting = [];
        for (const [k, v] of ctx.store.entries(ctx.ns)) for (const a of (v as unknown as KeyState).a ?? []) waiting.push({ d: a.d!, k });
        waiting.sort((x, y) => x.d - y.d);
      }
      return waiting;
    };
    const wait = (d: number, k: string): void => {
      const list = index();
      let at = list.length;
      while (at > 0 && list[at - 1]!.d > d) at--;
      list.splice(at, 0, { d, k });
    };

    const output = (p: Partial, key: Json[], time: number, current?: CanonicalEvent): Match => ({
      events: p.e.map((row) => (current && row['id'] === current.id && row['time'] === current.time ? current : reviveEvent(row))),
      time,
      fields: { 'oktopus.sequence': { join_keys: key } },
    });

    /** Emit the waiting completions whose trailing window ended before `time`. */
    const due = (time: number): Match[] => {
      const list = index();
      const out: Match[] = [];
      while (list.length > 0 && list[0]!.d < time) {
        const { d, k } = list.shift()!;
        const st = load(k);
        const keep: Partial[] = [];
        for (const a of st.a ?? []) {
          if (a.d === d) out.push(output(a, JSON.parse(k) as Json[], d));
          else keep.push(a);
        }
        st.a = keep;
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
        const out: Match[] = hasTrailing ? due(t) : [];

        // Drop what maxspan no longer allows (an event later than first + maxspan cannot join).
        const fresh = (k: string): KeyState => {
          const st = load(k);
          if (maxspan !== undefined) {
            for (const [i, p] of Object.entries(st.p)) if (t - p.f > maxspan) delete st.p[i];
          }
          return st;
        };

        if (until && until.test(ev)) {
          const key = until.key(ev);
          if (key) fresh(JSON.stringify(key)).p = {};
        }

        for (const i of missingSteps) {
          const step = steps[i]!;
          if (!step.test(ev)) continue;
          const key = step.key(ev);
          if (!key) continue;
          const st = fresh(JSON.stringify(key));
          if (i < first) {
            if (!st.m) st.m = { t, b: null };
            else if (t > st.m.t) st.m = { t, b: st.m.t };
          } else if (i > last) {
            // The first trailing event after a completion inside its window rejects it.
            if (st.a) st.a = st.a.filter((a) => !(a.l < t && t <= a.d!));
          } else {
            const p = st.p[prevPositive(i)];
            if (p && p.l < t && p.x === undefined) p.x = t;
          }
        }

        for (const j of positiveDesc) {
          const step = steps[j]!;
          if (!step.test(ev)) continue;
          const key = step.key(ev);
          if (!key) continue;
          const k = JSON.stringify(key);
          const st = fresh(k);
          let next: Partial;
          if (j === first) {
            next = { e: [storeEvent(ev)], f: t, l: t };
            if (hasLeading) next.b = st.m ? (st.m.t < t ? st.m.t : st.m.b) : null;
          } else {
            const from = String(prevPositive(j));
            const p = st.p[from];
            if (!p || p.l > t) continue; // nothing pending (a late event cannot go before it)
            delete st.p[from];
            if (p.x !== undefined && p.x < t) continue; // a missing event came in between
            next = { ...p, e: [...p.e, storeEvent(ev)], l: t };
            delete next.x;
          }
          if (j === last) {
            complete(next, k, key, st, ev, out);
          } else {
            const older = st.p[String(j)];
            if (!older || older.l <= t) st.p[String(j)] = next; // the newer partial replaces the older
          }
        }
        save();
        return out;
      },
    };
    if (hasTrailing) {
      runtime.tick = (watermark: number): Match[] => {
        const out = due(watermark);
        save();
        return out;
      };
    }
    return runtime;
  },
};
