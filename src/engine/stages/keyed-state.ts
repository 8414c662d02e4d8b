/**
 * Per-key stage state with an in-memory working copy (sequence, sample, suppress).
 *
 * The store is the durable copy, memory the working one: a key is read from the store the first
 * time the stage needs it (and remembered, also when the store has nothing for it, so an event
 * whose key has no state costs no store access after the first), changed in memory, and written
 * back by `persist()` — which the engine calls from `commit(batch)`, inside the batch transaction
 * that also saves the input checkpoint, so a restart resumes from a state consistent with the
 * input position (the same contract as the reorder window's incremental persist).
 *
 * Memory is bounded: `trim()`, which a stage calls at the end of a push (never in the middle,
 * where it may still hold a key's state object), writes the changed keys to the store (inside
 * whatever transaction is open: the caller's batch) once more than `cap` keys are held, and drops
 * the older half of the keys from memory; they are read again from the store when next needed.
 *
 * The working form `S` may hold live objects (events); `encode` turns it into JSON at persist
 * time only, so a key that changes a hundred times in a batch is serialised once.
 *
 * A key the store cannot hold is not looked up: when the namespace was empty at the first
 * access (a fresh scan, or a stage that never wrote anything yet), the keys written since are
 * remembered with their expiry, and any other key is known absent without a store read. A
 * remembered key is forgotten once the store drops it (its expiry is before the watermark that
 * the engine's commit passes to `persist`, just before `StateStore.expire` with that watermark).
 * Stages keyed by something new on almost every event (a session id) thus cost no store read
 * per event.
 */
import type { Json } from '../../event/types.js';
import type { StateStore } from '../../store/types.js';

/** Default most keys held in memory per stage. */
export const DEFAULT_KEY_CAP = 50_000;

export interface KeyedStateCodec<S> {
  /** Stored JSON -> working state. */
  decode(value: Json): S;
  /** Working state -> stored JSON and its expiry (event time); undefined: nothing to keep (delete). */
  encode(state: S): { value: Json; expiresAt?: number } | undefined;
}

export class KeyedState<S> {
  /** Working copies; undefined = the store has nothing for the key (known absent). */
  private readonly mem = new Map<string, S | undefined>();
  private readonly dirty = new Set<string>();
  /** Expiry (event time) of the keys held, as last written: dead keys leave memory at persist. */
  private readonly expiry = new Map<string, number>();
  /**
   * Keys the store may hold for this namespace, with their expiry (Infinity: none), when that is
   * known (the namespace was empty at the first access); null: unknown (always ask the store);
   * undefined: not checked yet.
   */
  private written: Map<string, number> | null | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly ns: string,
    private readonly codec: KeyedStateCodec<S>,
    private readonly cap: number = DEFAULT_KEY_CAP,
    /** The stage's current event time: keys whose state expired before it are dropped from memory. */
    private readonly now: () => number = () => -Infinity,
  ) {}

  /** The key's state (loaded from the store once), or undefined when there is none. */
  get(key: string): S | undefined {
    if (this.mem.has(key)) return this.mem.get(key);
    const written = this.knownKeys();
    const stored = written && !written.has(key) ? undefined : this.store.get(this.ns, key);
    const s = stored === undefined ? undefined : this.codec.decode(stored);
    this.mem.set(key, s);
    return s;
  }

  /** The key's state, or `make()` held in memory (not yet changed: nothing to write back). */
  ensure(key: string, make: () => S): S {
    let s = this.get(key);
    if (s === undefined) {
      s = make();
      this.mem.set(key, s);
    }
    return s;
  }

  /** Replace the key's state (undefined: none); written back at the next persist. */
  set(key: string, state: S | undefined): void {
    this.mem.set(key, state);
    this.dirty.add(key);
  }

  /** The key's state was changed in place: write it back at the next persist. */
  touch(key: string): void {
    if (this.mem.has(key)) this.dirty.add(key);
  }

  /** The keys the store may hold (see the header), checking the namespace once. */
  private knownKeys(): Map<string, number> | null {
    if (this.written === undefined) this.written = this.store.hasEntries(this.ns) ? null : new Map();
    return this.written;
  }

  /**
   * Write every changed key to the store (the caller's transaction), then drop from memory the
   * keys whose state has expired (the store's copy expires with it: nothing is lost).
   * `watermark`: the engine's commit is about to expire the store's entries older than it (the
   * keys known to be stored that expire before it are forgotten); absent for a mid-batch write.
   */
  persist(watermark?: number): void {
    const written = this.knownKeys();
    for (const key of this.dirty) {
      const s = this.mem.get(key);
      const row = s === undefined ? undefined : this.codec.encode(s);
      if (row === undefined) {
        this.store.delete(this.ns, key);
        this.expiry.delete(key);
        written?.delete(key);
      } else {
        this.store.set(this.ns, key, row.value, row.expiresAt);
        if (row.expiresAt !== undefined) this.expiry.set(key, row.expiresAt);
        else this.expiry.delete(key);
        written?.set(key, row.expiresAt ?? Infinity);
      }
    }
    this.dirty.clear();
    if (written && watermark !== undefined && Number.isFinite(watermark)) {
      for (const [key, at] of written) if (at < watermark) written.delete(key);
    }
    // The store drops what expires before the commit's watermark: memory must not keep it either,
    // or a late event would see state the store (and a restarted engine) no longer has.
    const now = Math.max(this.now(), watermark ?? -Infinity);
    for (const [key, at] of this.expiry) {
      if (at < now) {
        this.mem.delete(key);
        this.expiry.delete(key);
      }
    }
  }

  /** Keys held in memory (tests). */
  get size(): number {
    return this.mem.size;
  }

  /** Over the cap: persist the changed keys, then drop the older half of the keys from memory. */
  trim(): void {
    if (this.mem.size <= this.cap) return;
    this.persist();
    let drop = this.mem.size - Math.floor(this.cap / 2);
    for (const key of this.mem.keys()) {
      if (drop-- <= 0) break;
      this.mem.delete(key);
      this.expiry.delete(key);
    }
  }
}
