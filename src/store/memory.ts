/** In-memory state store: same contract as SQLite, nothing survives the process. */
import type { Json, JsonObject } from '../event/types.js';
import type { StateStore, StoredAlert } from './types.js';

interface Entry {
  value: Json;
  expiresAt?: number;
}

export class MemoryStore implements StateStore {
  private ns = new Map<string, Map<string, Entry>>();
  private checkpoints = new Map<string, Json>();
  private alerts = new Map<string, { alert: StoredAlert; delivered: boolean }>();
  private inTx = false;

  private space(ns: string): Map<string, Entry> {
    let m = this.ns.get(ns);
    if (!m) {
      m = new Map();
      this.ns.set(ns, m);
    }
    return m;
  }

  get(ns: string, key: string): Json | undefined {
    return this.ns.get(ns)?.get(key)?.value;
  }
  set(ns: string, key: string, value: Json, expiresAt?: number): void {
    this.space(ns).set(key, { value: clone(value), expiresAt });
  }
  delete(ns: string, key: string): void {
    this.ns.get(ns)?.delete(key);
  }
  hasEntries(ns: string): boolean {
    return (this.ns.get(ns)?.size ?? 0) > 0;
  }
  *entries(ns: string, prefix?: string): Iterable<[string, Json]> {
    const m = this.ns.get(ns);
    if (!m) return;
    for (const [k, e] of m) if (!prefix || k.startsWith(prefix)) yield [k, e.value];
  }
  expire(time: number): number {
    let n = 0;
    for (const m of this.ns.values()) {
      for (const [k, e] of m) {
        if (e.expiresAt !== undefined && e.expiresAt < time) {
          m.delete(k);
          n++;
        }
      }
    }
    return n;
  }
  getCheckpoint(name: string): Json | undefined {
    return this.checkpoints.get(name);
  }
  setCheckpoint(name: string, value: Json): void {
    this.checkpoints.set(name, clone(value));
  }
  addAlert(alert: StoredAlert): boolean {
    if (this.alerts.has(alert.uuid)) return false;
    this.alerts.set(alert.uuid, { alert, delivered: false });
    return true;
  }
  getAlert(uuid: string): StoredAlert | undefined {
    return this.alerts.get(uuid)?.alert;
  }
  updateAlert(uuid: string, doc: JsonObject): void {
    const a = this.alerts.get(uuid);
    if (a) {
      a.alert = { ...a.alert, doc };
      a.delivered = false;
    }
  }
  pendingAlerts(): StoredAlert[] {
    return [...this.alerts.values()].filter((a) => !a.delivered).map((a) => a.alert);
  }
  markDelivered(uuids: string[]): void {
    for (const u of uuids) {
      const a = this.alerts.get(u);
      if (a) a.delivered = true;
    }
  }
  alertCount(): number {
    return this.alerts.size;
  }
  allAlerts(): StoredAlert[] {
    return [...this.alerts.values()].map((a) => a.alert).sort((a, b) => a.time - b.time || cmp(a.uuid, b.uuid));
  }
  transaction<T>(fn: () => T): T {
    // Memory has nothing to roll back to after a crash; nested calls just run.
    if (this.inTx) return fn();
    this.inTx = true;
    try {
      return fn();
    } finally {
      this.inTx = false;
    }
  }
  begin(): void {
    this.inTx = true;
  }
  commit(): void {
    this.inTx = false;
  }
  /** Memory keeps no undo log: a rollback only ends the bracket (memory state dies with the process). */
  rollback(): void {
    this.inTx = false;
  }
  sizeBytes(): number {
    return 0;
  }
  close(): void {}
}

function clone(v: Json): Json {
  return v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as Json);
}
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
