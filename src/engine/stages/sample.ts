/**
 * EQL `sample by k [...] [...]` (Elasticsearch `eql-syntax.md` "Samples", `test_sample.toml`;
 * not in the Python engine).
 *
 *  - A sample is one event per step with equal join keys (sample-wide `by` then the step's own
 *    `by`), in any time order, with no time bound (`maxspan`, `runs`, `until` and missing steps do
 *    not exist for samples in ES). Null keys: as sequences (an event with a null key does not take
 *    part unless the key is an optional `?field`, ES `nullValueAsJoinKey` /
 *    `optionalFieldAsKeyAndFirstFilter`, or `semantics: 'python'`). Multi-valued keys: one
 *    scalar key tuple per combination of values, the event offered once per tuple (as sequences,
 *    see sequence.ts's header: Elasticsearch PR #89965).
 *  - An event fills the first step (in query order) that it matches and whose slot for its key is
 *    still empty; it never fills two steps. The first event per slot is kept (ES picks any).
 *  - When every step of a key is filled, the sample is emitted and the key starts over. ES returns
 *    one sample per distinct key per search; a rule run every interval would find the key again
 *    in a later run, which starting over approximates in a stream.
 *  - Output: `events` in step order (ES lists "events in the order of the filters they match", not
 *    in time order), `time` = the latest of them, `fields['oktopus.sample'] = { join_keys }`.
 *  - State: per key, the filled slots, held in memory (keyed-state.ts) and persisted at the
 *    engine's commit as one store entry per key under `ctx.ns` (events serialised); no expiry
 *    (samples have no time bound), so the store grows with the number of keys seen with
 *    unfinished samples (memory is capped: older keys are read back from the store when needed).
 */
import type { CanonicalEvent, Json } from '../../event/types.js';
import type { SampleStage } from '../../ir/types.js';
import { compilePredicate } from '../predicate/index.js';
import { KeyedState } from './keyed-state.js';
import { compileKey, reviveEvent, storeEvent, type StoredEvent } from './sequence.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

interface SampleState {
  /** One slot per step: the event that filled it (a store row referencing its document), or null. */
  s: (StoredEvent | null)[];
}

export const sampleStage: StageFactory<SampleStage> = {
  type: 'sample',
  create(stage: SampleStage, ctx: StageContext): StageRuntime {
    if (stage.steps.length === 0) throw new Error('sample: no steps');
    if (stage.steps.some((s) => s.missing || (s.runs ?? 1) !== 1)) throw new Error('sample: missing steps and runs are not supported for samples');
    const keyLengths = new Set(stage.steps.map((s) => stage.by.length + (s.by?.length ?? 0)));
    if (keyLengths.size > 1) throw new Error('sample: every step must have the same number of join keys');
    const steps = stage.steps.map((s) => ({
      test: compilePredicate(s.predicate, ctx.schema),
      key: compileKey([...stage.by, ...(s.by ?? [])], ctx, { fold: false, semantics: stage.semantics }),
    }));
    const state = new KeyedState<SampleState>(ctx.store, ctx.ns, {
      decode: (v) => ({ s: [...(v as unknown as SampleState).s] }),
      encode: (st) => (st.s.some((x) => x !== null) ? { value: st as unknown as Json } : undefined),
    });

    return {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        // Per key tuple, the first step the event matches whose slot is empty.
        const offers = new Map<string, { i: number; key: Json[] }>();
        for (let i = 0; i < steps.length; i++) {
          const step = steps[i]!;
          if (!step.test(ev)) continue;
          for (const key of step.key(ev)) {
            const k = JSON.stringify(key);
            if (offers.has(k)) continue;
            if (state.get(k)?.s[i]) continue; // this step is taken for the key: try the next one
            offers.set(k, { i, key });
          }
        }
        const out: Match[] = [];
        for (const [k, { i, key }] of offers) {
          const st = state.ensure(k, () => ({ s: steps.map(() => null) }));
          st.s[i] = storeEvent(ev);
          if (st.s.every((x) => x !== null)) {
            const events: CanonicalEvent[] = st.s.map((row) => (row!['doc'] === ev.doc ? ev : reviveEvent(row!)));
            const time = Math.max(...events.map((e) => e.time));
            state.set(k, undefined);
            out.push({ events, time, fields: { 'oktopus.sample': { join_keys: key } } });
          } else state.touch(k);
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
