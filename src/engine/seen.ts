/**
 * Duplicate events (same Okta `uuid`) are dropped: overlapping exports, polling overlap and
 * Event Hook redeliveries all repeat events. Ids are remembered for `horizonMs` of event time
 * after the event, so memory is bounded by the event rate, not by the log's length.
 *
 * Persistence: ids added since the last checkpoint are written as one row per batch (with an
 * expiry), so a restarted scan still recognises a duplicate of an event read before the kill.
 */
import type { Json } from '../event/types.js';
import type { StateStore } from '../store/types.js';

const NS = 'engine:seen';

export class SeenIds {
  private ids = new Map<string, number>();
  /** Arrival order (parallel arrays: no object per event), evicted from `head`. */
  private orderIds: string[] = [];
  private orderTimes: number[] = [];
  private head = 0;
  private fresh: string[] = [];
  private freshNewest = -Infinity;
  private maxTime = -Infinity;
  duplicates = 0;

  constructor(private readonly horizonMs: number) {}

  /** True when `id` was seen before (and counts it); otherwise remembers it. */
  check(id: string, time: number): boolean {
    if (this.ids.has(id)) {
      this.duplicates++;
      return true;
    }
    this.ids.set(id, time);
    this.orderIds.push(id);
    this.orderTimes.push(time);
    this.fresh.push(id);
    if (time > this.freshNewest) this.freshNewest = time;
    if (time > this.maxTime) {
      this.maxTime = time;
      this.evict();
    }
    return false;
  }

  private evict(): void {
    const limit = this.maxTime - this.horizonMs;
    const ids = this.orderIds;
    const times = this.orderTimes;
    while (this.head < ids.length && times[this.head]! < limit) {
      const id = ids[this.head]!;
      if (this.ids.get(id) === times[this.head]) this.ids.delete(id);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > ids.length) {
      this.orderIds = ids.slice(this.head);
      this.orderTimes = times.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Write ids added since the last call (inside the batch transaction): one row per batch, the
   * ids and the batch's newest event time (after a restart every id of the row is remembered as
   * of that time, which can only keep it a little longer).
   */
  persist(store: StateStore, batch: number): void {
    if (this.fresh.length === 0) return;
    const row = { newest: this.freshNewest, ids: this.fresh };
    store.set(NS, String(batch).padStart(12, '0'), row as unknown as Json, this.freshNewest + this.horizonMs);
    this.fresh = [];
    this.freshNewest = -Infinity;
  }

  load(store: StateStore): void {
    for (const [, v] of store.entries(NS)) {
      const row = v as { newest: number; ids: string[] };
      for (const id of row.ids) {
        const time = row.newest;
        if (!this.ids.has(id)) {
          this.ids.set(id, time);
          this.orderIds.push(id);
          this.orderTimes.push(time);
          if (time > this.maxTime) this.maxTime = time;
        }
      }
    }
    this.evict();
  }

  get size(): number {
    return this.ids.size;
  }
}
