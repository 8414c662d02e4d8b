/**
 * NDJSON: one alert document per line, to stdout or a file (Kibana-compatible documents).
 *
 * A file output is exactly-once across crashes: lines are written synchronously (the engine marks
 * an alert delivered only after its line is in the file), and when the file already exists the
 * alert ids it holds are read first (a last line cut short by a crash is removed), so alerts
 * redelivered after a restart are not written twice.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredAlert } from '../store/types.js';
import type { AlertSink } from './types.js';

export class NdjsonSink implements AlertSink {
  private fd?: number;
  private written = new Set<string>();

  constructor(path?: string) {
    if (path && path !== '-') {
      if (existsSync(path)) this.recover(path);
      else mkdirSync(dirname(path), { recursive: true }); // as --state does for its folder
      this.fd = openSync(path, 'a');
    }
  }

  private recover(path: string): void {
    const text = readFileSync(path, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
    for (const line of text.slice(0, end).split('\n')) {
      const m = /"kibana\.alert\.uuid":"([0-9a-f]+)"/.exec(line);
      if (m) this.written.add(m[1]!);
    }
    closeSync(openSync(path, 'a'));
  }

  write(alert: StoredAlert): void {
    if (this.written.has(alert.uuid)) return;
    this.written.add(alert.uuid);
    const line = JSON.stringify(alert.doc) + '\n';
    if (this.fd !== undefined) writeSync(this.fd, line);
    else process.stdout.write(line);
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
