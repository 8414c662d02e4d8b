/**
 * Dedup / threshold windows (Panther semantics, reference panther-okta.md §1.4):
 *  - one window per key; it opens at the first match and lasts `periodMs` of event time;
 *  - the alert is raised at once when `threshold` matches (or distinct `unique` values) are
 *    reached inside the window;
 *  - later matches in the same window attach to that alert (count, last seen) instead of
 *    raising a new one; a match after the window closes opens a new window.
 * State lives in the store (survives restarts); entries expire with their window. The working
 * copy is in memory (keyed-state.ts), written back at the engine's commit.
 */
import type { Json, JsonObject } from '../../event/types.js';
import type { DedupStage } from '../../ir/types.js';
import { resolveField, type Accessor } from '../../schema/index.js';
import type { Match, StageContext, StageFactory, StageRuntime } from './types.js';
import { presenterFor } from '../code/registry.js';
import { KeyedState } from './keyed-state.js';

interface Window {
  start: number;
  count: number;
  lastSeen: number;
  alert?: string;
  uniques?: string[];
}

export function keyString(values: unknown[]): string {
  return JSON.stringify(values.map((v) => (v === undefined ? null : v)));
}

export const dedupStage: StageFactory<DedupStage> = {
  type: 'dedup',
  create(stage: DedupStage, ctx: StageContext): StageRuntime {
    const keyFields: Accessor[] = stage.key.map((f) => resolveField(f, ctx.schema));
    const uniqueFields: Accessor[] | undefined = stage.unique?.map((f) => resolveField(f, ctx.schema));
    // Rules presenting their own alerts (Panther): the dialect's presenter (src/engine/code/registry.ts).
    const presenter = stage.pantherKey || stage.uniqueFn ? presenterFor(ctx.rule) : undefined;
    if ((stage.pantherKey || stage.uniqueFn) && !presenter) throw new Error(`rule ${ctx.rule.id}: its dedup key comes from its presentation, which it has none of`);
    /** Time of the latest match pushed: windows that closed before it leave memory. */
    let latest = -Infinity;
    const windows = new KeyedState<Window>(ctx.store, ctx.ns, {
      decode: (v) => ({ ...(v as unknown as Window) }),
      encode: (w) => ({ value: w as unknown as Json, expiresAt: w.start + stage.periodMs }),
    }, undefined, () => latest);
    return {
      push(m: Match): Match[] {
        const ev = m.events[m.events.length - 1]!;
        if (m.time > latest) latest = m.time;
        // Panther: the key is the dedup string (dedup() -> title -> defaultDedupString:<RuleID>).
        const panther = presenter?.present(ctx.rule, ev, ctx.schema);
        const key = stage.pantherKey ? panther!.dedup : keyString(keyFields.map((get) => get(ev)));
        let w = windows.get(key);
        if (!w || m.time >= w.start + stage.periodMs || m.time <= w.start - stage.periodMs) {
          w = { start: m.time, count: 0, lastSeen: m.time };
        } else if (m.time < w.start && !w.alert) {
          // A late match (older than the window's first one): the window opens at the first
          // match in event time, so it moves back to this one while no alert was raised yet.
          w.start = m.time;
        }
        w.count++;
        if (m.time > w.lastSeen) w.lastSeen = m.time;
        let reached: boolean;
        if (uniqueFields || stage.uniqueFn) {
          const u = stage.uniqueFn ? (panther!.unique ?? '') : keyString(uniqueFields!.map((get) => get(ev)));
          const set = new Set(w.uniques ?? []);
          set.add(u);
          w.uniques = [...set];
          reached = set.size >= stage.threshold;
        } else {
          reached = w.count >= stage.threshold;
        }
        const out: Match[] = [];
        if (w.alert) {
          ctx.attach(w.alert, {
            'oktopus.dedup.count': w.count,
            'oktopus.dedup.last_seen': new Date(w.lastSeen).toISOString(),
          });
        } else if (reached) {
          const fields: JsonObject = {
            ...m.fields,
            'oktopus.dedup.key': key,
            'oktopus.dedup.count': w.count,
            'oktopus.dedup.window_start': new Date(w.start).toISOString(),
            'oktopus.dedup.window_end': new Date(w.start + stage.periodMs).toISOString(),
          };
          const emitted: Match = { ...m, fields, idSalt: `${m.idSalt ?? ''}dedup:${key}:${w.start}` };
          w.alert = ctx.alertIdFor(emitted);
          out.push(emitted);
        }
        windows.set(key, w);
        windows.trim();
        return out;
      },
      persist(watermark?: number): void {
        windows.persist(watermark);
      },
    };
  },
};
