/**
 * SQLite alerts table: one row per alert (upserted when later matches attach), with the columns
 * an analyst filters on and the whole document as JSON.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Json, JsonObject } from '../event/types.js';
import type { StoredAlert } from '../store/types.js';
import { getPath } from '../schema/path.js';
import type { AlertSink } from './types.js';

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v.map(String).join(',') : String(v);
}

export class SqliteAlertSink implements AlertSink {
  private db: Database.Database;
  private upsert: Database.Statement;
  private updateDoc: Database.Statement;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS alerts (
      uuid TEXT PRIMARY KEY, time TEXT NOT NULL, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
      dialect TEXT, severity TEXT, user_name TEXT, source_ip TEXT, event_action TEXT,
      reason TEXT, doc TEXT NOT NULL)`);
    this.upsert = this.db.prepare(`INSERT INTO alerts (uuid, time, rule_id, rule_name, dialect, severity, user_name, source_ip, event_action, reason, doc)
      VALUES (@uuid, @time, @rule_id, @rule_name, @dialect, @severity, @user_name, @source_ip, @event_action, @reason, @doc)
      ON CONFLICT(uuid) DO UPDATE SET doc = excluded.doc`);
    this.updateDoc = this.db.prepare(`UPDATE alerts SET doc = ? WHERE uuid = ?`);
  }

  write(alert: StoredAlert): void {
    const d = alert.doc as Record<string, Json>;
    this.upsert.run({
      uuid: alert.uuid,
      time: new Date(alert.time).toISOString(),
      rule_id: alert.ruleId,
      rule_name: text(d['kibana.alert.rule.name']) ?? '',
      dialect: text(getPath(d, 'oktopus.dialect')),
      severity: text(getPath(d, 'oktopus.severity')),
      user_name: text(getPath(d, 'user.name')),
      source_ip: text(getPath(d, 'source.ip')),
      event_action: text(getPath(d, 'event.action')),
      reason: text(d['kibana.alert.reason']),
      doc: JSON.stringify(d),
    });
  }

  update(uuid: string, doc: JsonObject): void {
    this.updateDoc.run(JSON.stringify(doc), uuid);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
