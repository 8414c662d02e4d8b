/**
 * SQLite state store (better-sqlite3). One file holds rule state, checkpoints and alerts.
 * WAL mode; the engine wraps each batch in `transaction`, so state and checkpoint move together.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Json, JsonObject } from '../event/types.js';
import type { StateStore, StoredAlert } from './types.js';

const SCHEMA_VERSION = 1;

export class SqliteStore implements StateStore {
  private db: Database.Database;
  private stmts: ReturnType<SqliteStore['prepare']>;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
    } catch (e) {
      throw new Error(`state store ${path}: ${(e as Error).message}`);
    }
    this.stmts = this.prepare();
  }

  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS state (
        ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER,
        PRIMARY KEY (ns, key)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS state_expiry ON state(expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS alerts (
        uuid TEXT PRIMARY KEY, rule_id TEXT NOT NULL, time INTEGER NOT NULL,
        doc TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);
      CREATE INDEX IF NOT EXISTS alerts_pending ON alerts(delivered) WHERE delivered = 0;
    `);
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (!row) this.db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
    else if (Number(row.value) !== SCHEMA_VERSION)
      throw new Error(`schema version ${row.value} is not supported by this oktopus (expects ${SCHEMA_VERSION})`);
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare(`SELECT value FROM state WHERE ns = ? AND key = ?`),
      set: db.prepare(`INSERT INTO state (ns, key, value, expires_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`),
      del: db.prepare(`DELETE FROM state WHERE ns = ? AND key = ?`),
      any: db.prepare(`SELECT 1 FROM state WHERE ns = ? LIMIT 1`),
      entries: db.prepare(`SELECT key, value FROM state WHERE ns = ? ORDER BY key`),
      entriesPrefix: db.prepare(`SELECT key, value FROM state WHERE ns = ? AND key >= ? AND key < ? ORDER BY key`),
      expire: db.prepare(`DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at < ?`),
      getCp: db.prepare(`SELECT value FROM checkpoints WHERE name = ?`),
      setCp: db.prepare(`INSERT INTO checkpoints (name, value) VALUES (?, ?)
                         ON CONFLICT(name) DO UPDATE SET value = excluded.value`),
      addAlert: db.prepare(`INSERT OR IGNORE INTO alerts (uuid, rule_id, time, doc) VALUES (?, ?, ?, ?)`),
      getAlert: db.prepare(`SELECT uuid, rule_id, time, doc FROM alerts WHERE uuid = ?`),
      updAlert: db.prepare(`UPDATE alerts SET doc = ?, delivered = 0 WHERE uuid = ?`),
      pending: db.prepare(`SELECT uuid, rule_id, time, doc FROM alerts WHERE delivered = 0 ORDER BY time, uuid`),
      deliver: db.prepare(`UPDATE alerts SET delivered = 1 WHERE uuid = ?`),
      count: db.prepare(`SELECT count(*) AS n FROM alerts`),
      all: db.prepare(`SELECT uuid, rule_id, time, doc FROM alerts ORDER BY time, uuid`),
    };
  }

  get(ns: string, key: string): Json | undefined {
    const row = this.stmts.get.get(ns, key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as Json) : undefined;
  }
  set(ns: string, key: string, value: Json, expiresAt?: number): void {
    this.stmts.set.run(ns, key, JSON.stringify(value), expiresAt ?? null);
  }
  delete(ns: string, key: string): void {
    this.stmts.del.run(ns, key);
  }
  hasEntries(ns: string): boolean {
    return this.stmts.any.get(ns) !== undefined;
  }
  *entries(ns: string, prefix?: string): Iterable<[string, Json]> {
    const rows = (
      prefix ? this.stmts.entriesPrefix.all(ns, prefix, prefix + '\uffff') : this.stmts.entries.all(ns)
    ) as { key: string; value: string }[];
    for (const r of rows) yield [r.key, JSON.parse(r.value) as Json];
  }
  expire(time: number): number {
    return this.stmts.expire.run(time).changes;
  }
  getCheckpoint(name: string): Json | undefined {
    const row = this.stmts.getCp.get(name) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as Json) : undefined;
  }
  setCheckpoint(name: string, value: Json): void {
    this.stmts.setCp.run(name, JSON.stringify(value));
  }
  addAlert(a: StoredAlert): boolean {
    return this.stmts.addAlert.run(a.uuid, a.ruleId, a.time, JSON.stringify(a.doc)).changes === 1;
  }
  getAlert(uuid: string): StoredAlert | undefined {
    const row = this.stmts.getAlert.get(uuid) as AlertRow | undefined;
    return row ? rowToAlert(row) : undefined;
  }
  updateAlert(uuid: string, doc: JsonObject): void {
    this.stmts.updAlert.run(JSON.stringify(doc), uuid);
  }
  pendingAlerts(): StoredAlert[] {
    return (this.stmts.pending.all() as AlertRow[]).map(rowToAlert);
  }
  markDelivered(uuids: string[]): void {
    if (uuids.length === 0) return;
    this.transaction(() => {
      for (const u of uuids) this.stmts.deliver.run(u);
    });
  }
  alertCount(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }
  allAlerts(): StoredAlert[] {
    return (this.stmts.all.all() as AlertRow[]).map(rowToAlert);
  }
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }
  begin(): void {
    this.db.exec('BEGIN');
  }
  commit(): void {
    this.db.exec('COMMIT');
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
  sizeBytes(): number {
    if (this.path === ':memory:') return 0;
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        /* file absent: counts as 0 */
      }
    }
    return total;
  }
  close(): void {
    this.db.close();
  }
}

interface AlertRow {
  uuid: string;
  rule_id: string;
  time: number;
  doc: string;
}
function rowToAlert(r: AlertRow): StoredAlert {
  return { uuid: r.uuid, ruleId: r.rule_id, time: r.time, doc: JSON.parse(r.doc) as JsonObject };
}
