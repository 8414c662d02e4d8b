/**
 * new_terms (Elastic, reference elastic.md §3.2): a match raises an alert when the tuple of its
 * values of `fields` was not seen within `historyMs` before it.
 *  - a document missing any of the fields makes no term (Kibana's composite aggregation has no
 *    missing bucket);
 *  - array values explode: one term per value, the cartesian product across fields, each term
 *    its own alert (`kibana.alert.new_terms` = the tuple, in field order);
 *  - the store keeps, per tuple, the last time it was seen (expiring `historyMs` after it), so a
 *    restart does not raise a term again and a term unseen for the whole history is new again;
 *    the working copy is in memory (keyed-state.ts), written back at the engine's commit.
 * Streaming equivalent of Kibana's scheduled check "first seen in [history start, to] is after the
 * run's `from`": events are in time order here (a stateful stage sits behind the reorder window).
 */
import type { Json } from '../../event/types.js';
import type { NewTermsStage } from '../../ir/types.js';
import { resolveField } from '../../schema/index.js';
import { KeyedState } from './keyed-state.js';
import { cartesian } from './terms.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';

/** Most terms one event may make (arrays multiply): more are not tracked. */
export const MAX_TERMS_PER_EVENT = 100;

function values(v: unknown): Json[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is Json => x !== undefined && x !== null && (typeof x !== 'object' || Array.isArray(x)) && x !== '');
}

export const newTermsStage: StageFactory<NewTermsStage> = {
  type: 'new_terms',
  create(stage: NewTermsStage, ctx: StageContext): StageRuntime {
    const getters = stage.fields.map((f) => resolveField(f, ctx.schema));
    /** Time of the latest match pushed: terms last seen a whole history before it leave memory. */
    let latest = -Infinity;
    const seen = new KeyedState<number>(ctx.store, ctx.ns, {
      decode: (v) => (typeof v === 'number' ? v : -Infinity),
      encode: (t) => ({ value: t, expiresAt: t + stage.historyMs }),
    }, undefined, () => latest);
    return {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        if (m.time > latest) latest = m.time;
        const lists = getters.map((get) => values(get(ev)));
        if (lists.some((l) => l.length === 0)) return [];
        const out: Match[] = [];
        for (const tuple of cartesian(lists, MAX_TERMS_PER_EVENT)) {
          const key = JSON.stringify(tuple);
          const last = seen.get(key);
          const isNew = last === undefined || last <= m.time - stage.historyMs;
          if (last === undefined || m.time > last) seen.set(key, m.time);
          if (isNew) out.push({ ...m, fields: { ...m.fields, 'kibana.alert.new_terms': tuple }, idSalt: `${m.idSalt ?? ''}new_terms:${key}` });
        }
        seen.trim();
        return out;
      },
      persist(watermark?: number): void {
        seen.persist(watermark);
      },
    };
  },
};
