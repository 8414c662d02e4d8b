/**
 * (deadline, key) pairs in deadline order, for stages whose output waits for event time to pass a
 * deadline (trailing EQL sequence windows, correlation windows). Built from the stage's stored
 * state at first use (before anything is held in memory, the store is whole), then kept up to date
 * by `add`. Items may go stale (the key's state moved on): the stage skips them when they fall due.
 */
export interface Deadline {
  d: number;
  k: string;
}

export class DeadlineQueue {
  private list: Deadline[] | undefined;

  constructor(private readonly load: () => Iterable<Deadline>) {}

  private items(): Deadline[] {
    if (!this.list) {
      this.list = [...this.load()];
      this.list.sort((a, b) => a.d - b.d);
    }
    return this.list;
  }

  add(d: number, k: string): void {
    const list = this.items();
    let at = list.length;
    while (at > 0 && list[at - 1]!.d > d) at--;
    list.splice(at, 0, { d, k });
  }

  /** Removes and yields, in deadline order, the items whose deadline is before `time`. */
  *takeBefore(time: number): Generator<Deadline> {
    const list = this.items();
    while (list.length > 0 && list[0]!.d < time) yield list.shift()!;
  }
}
