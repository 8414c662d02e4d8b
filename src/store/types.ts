/**
 * The state store: everything the engine must remember across restarts (first-seen terms,
 * sequence partials, threshold and dedup windows, input checkpoints, alerts) lives behind this
 * one interface. Implementations: SQLite (default, durable) and memory (tests, dry runs).
 *
 * The interface is synchronous on purpose: the engine processes a batch of events and then
 * commits its state and the input checkpoint in one transaction (`transaction`), so that a
 * `kill -9` leaves the store either before or after the whole batch.
 */
import type { Json, JsonObject } from '../event/types.js';

export interface StoredAlert {
  uuid: string;
  ruleId: string;
  time: number;
  doc: JsonObject;
}

export interface StateStore {
  /** Key/value state in a namespace (one namespace per rule and stage). */
  get(ns: string, key: string): Json | undefined;
  set(ns: string, key: string, value: Json, expiresAt?: number): void;
  delete(ns: string, key: string): void;
  /** Whether the namespace holds any entry (expired ones not yet dropped included). */
  hasEntries(ns: string): boolean;
  /** Entries of a namespace, optionally those whose key starts with `prefix`. */
  entries(ns: string, prefix?: string): Iterable<[string, Json]>;
  /** Drop entries whose expiry (event time, ms) is before `time`; returns how many. */
  expire(time: number): number;

  /** Named checkpoints (input positions, engine buffers). */
  getCheckpoint(name: string): Json | undefined;
  setCheckpoint(name: string, value: Json): void;

  /**
   * Alerts: `addAlert` returns false when an alert with that uuid is already stored (a replay),
   * so the caller emits it once only. `pendingAlerts` are those not yet marked delivered to
   * the sinks (recovered after a crash between commit and write); `updateAlert` makes an alert
   * pending again, so an update (dedup count, last seen) reaches the sinks even after a crash.
   */
  addAlert(alert: StoredAlert): boolean;
  getAlert(uuid: string): StoredAlert | undefined;
  updateAlert(uuid: string, doc: JsonObject): void;
  pendingAlerts(): StoredAlert[];
  markDelivered(uuids: string[]): void;
  alertCount(): number;
  allAlerts(): StoredAlert[];

  /** Run `fn` atomically: all writes inside commit together or not at all. */
  transaction<T>(fn: () => T): T;
  /**
   * The same as an explicit bracket, for a batch whose records arrive asynchronously: `begin`,
   * any number of writes, then `commit` (or `rollback`). Nothing else may use the store between.
   */
  begin(): void;
  commit(): void;
  rollback(): void;
  /** Bytes on disk (0 for memory). */
  sizeBytes(): number;
  close(): void;
}
