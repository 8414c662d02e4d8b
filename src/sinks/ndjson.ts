/**
 * NDJSON: one alert document per line, to stdout or a file (Kibana-compatible documents).
 *
 * A file output is exactly-once across crashes: when the file already exists, the alert ids it
 * holds are read first (and a last line cut short by a crash is removed), so alerts redelivered
 * after a restart are not written twice.
 */
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, truncateSync, type WriteStream } from 'node:fs';
import type { StoredAlert } from '../store/types.js';
import type { AlertSink } from './types.js';

export class NdjsonSink implements AlertSink {
  private out: NodeJS.WritableStream;
  private file?: WriteStream;
  private written = new Set<string>();

  constructor(path?: string) {
    if (path && path !== '-') {
      if (existsSync(path)) this.recover(path);
      this.file = createWriteStream(path, { flags: 'a' });
      this.out = this.file;
    } else {
      this.out = process.stdout;
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
    this.out.write(JSON.stringify(alert.doc) + '\n');
  }

  async close(): Promise<void> {
    if (this.file) {
      const f = this.file;
      await new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }
}
