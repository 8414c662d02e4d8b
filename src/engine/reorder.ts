/**
 * Bounded reorder window. Sources deliver events roughly, not exactly, in `published` order
 * (the System Log API and Event Hooks both do); the engine holds the events that stateful rules
 * need for `windowMs` of event time and releases them in order. An event older than what was
 * already released is "late": it is processed at once (never dropped) and counted.
 *
 * Persistence is incremental: `persist` writes the events added to the window since the last
 * call and deletes those released since, so a checkpoint costs what changed, not the window.
 */
import { makeEvent, type CanonicalEvent, type Json } from '../event/types.js';
import type { StateStore } from '../store/types.js';

const NS = 'engine:reorder';
const META = 'engine:reorder-released';

interface Entry {
  ev: CanonicalEvent;
  seq: number;
}

function key(seq: number): string {
  return String(seq).padStart(15, '0');
}

export class ReorderBuffer {
  private heap: Entry[] = [];
  private seq = 0;
  private maxTime = -Infinity;
  private added = new Map<number, CanonicalEvent>();
  private removed = new Set<number>();
  /** Event time up to which stateful rules have seen everything (the engine's watermark). */
  released = -Infinity;
  late = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEvents: number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /**
   * Event time moved on (every event the engine sees, held or not, calls this): the held events
   * now older than the window are appended to `out`, in time order. Once nothing older than the
   * horizon is held, everything up to the horizon counts as released (a later event from before
   * it is late).
   */
  advance(time: number, out: CanonicalEvent[]): void {
    if (time <= this.maxTime) return;
    this.maxTime = time;
    const horizon = this.maxTime - this.windowMs;
    while (this.heap.length > 0 && this.heap[0]!.ev.time <= horizon) out.push(this.popMin());
    if (horizon > this.released) this.released = horizon;
  }

  /** Hold an event; late ones (older than what was released) come straight back in `out`. */
  push(ev: CanonicalEvent, out: CanonicalEvent[]): void {
    if (ev.time < this.released) {
      if (ev.kind === 'okta') this.late++;
      out.push(ev);
      return;
    }
    this.advance(ev.time, out);
    if (this.windowMs <= 0) {
      out.push(ev);
      return;
    }
    const entry = { ev, seq: this.seq++ };
    this.insert(entry);
    this.added.set(entry.seq, ev);
    while (this.heap.length > this.maxEvents) out.push(this.popMin());
  }

  /** Release everything (end of input). */
  drain(out: CanonicalEvent[]): void {
    while (this.heap.length > 0) out.push(this.popMin());
  }

  /** Write what changed since the last call (inside the caller's transaction). */
  persist(store: StateStore): void {
    for (const [seq, ev] of this.added) {
      const row = { kind: ev.kind, id: ev.id, time: ev.time, eventType: ev.eventType, doc: ev.doc, origin: ev.origin, depth: ev.depth, shape: ev.shape };
      store.set(NS, key(seq), row as unknown as Json);
    }
    for (const seq of this.removed) store.delete(NS, key(seq));
    this.added.clear();
    this.removed.clear();
    store.setCheckpoint(META, Number.isFinite(this.released) ? this.released : null);
  }

  /** Reload the window a previous run persisted. */
  load(store: StateStore): void {
    const released = store.getCheckpoint(META);
    if (typeof released === 'number') this.released = released;
    for (const [k, v] of store.entries(NS)) {
      const seq = Number(k);
      const ev = makeEvent(v as unknown as Omit<CanonicalEvent, 'cache'>);
      if (ev.time > this.maxTime) this.maxTime = ev.time;
      this.insert({ ev, seq });
      if (seq >= this.seq) this.seq = seq + 1;
    }
  }

  private popMin(): CanonicalEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    if (!this.added.delete(top.seq)) this.removed.add(top.seq);
    if (top.ev.time > this.released) this.released = top.ev.time;
    return top.ev;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.ev.time < b.ev.time || (a.ev.time === b.ev.time && a.seq < b.seq);
  }

  private insert(x: Entry): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
