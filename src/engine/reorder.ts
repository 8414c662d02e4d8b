/**
 * Bounded reorder window. Sources deliver events roughly, not exactly, in `published` order
 * (the System Log API and Event Hooks both do); the engine holds events for `windowMs` of event
 * time and releases them in order. An event older than what was already released is "late": it
 * is processed at once (never dropped) and counted.
 */
import type { CanonicalEvent } from '../event/types.js';

export class ReorderBuffer {
  private heap: { ev: CanonicalEvent; seq: number }[] = [];
  private seq = 0;
  private maxTime = -Infinity;
  /** Time of the last released event: the engine's watermark. */
  released = -Infinity;
  late = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEvents: number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Add an event; returns the events now due, in time order. */
  push(ev: CanonicalEvent, out: CanonicalEvent[]): void {
    if (ev.time < this.released) {
      this.late++;
      out.push(ev);
      return;
    }
    if (ev.time > this.maxTime) this.maxTime = ev.time;
    if (this.windowMs <= 0) {
      this.released = ev.time;
      out.push(ev);
      return;
    }
    this.insert({ ev, seq: this.seq++ });
    const horizon = this.maxTime - this.windowMs;
    while (this.heap.length > 0 && (this.heap[0]!.ev.time <= horizon || this.heap.length > this.maxEvents)) {
      out.push(this.popMin());
    }
  }

  /** Release everything (end of input). */
  drain(out: CanonicalEvent[]): void {
    while (this.heap.length > 0) out.push(this.popMin());
  }

  /** Buffered events in release order (for checkpoints). */
  contents(): CanonicalEvent[] {
    return [...this.heap].sort((a, b) => a.ev.time - b.ev.time || a.seq - b.seq).map((x) => x.ev);
  }

  restore(events: CanonicalEvent[], released: number): void {
    this.heap = [];
    this.released = released;
    for (const ev of events) {
      if (ev.time > this.maxTime) this.maxTime = ev.time;
      this.insert({ ev, seq: this.seq++ });
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
    if (top.ev.time > this.released) this.released = top.ev.time;
    return top.ev;
  }

  private less(a: { ev: CanonicalEvent; seq: number }, b: { ev: CanonicalEvent; seq: number }): boolean {
    return a.ev.time < b.ev.time || (a.ev.time === b.ev.time && a.seq < b.seq);
  }

  private insert(x: { ev: CanonicalEvent; seq: number }): void {
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
