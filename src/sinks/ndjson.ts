/** NDJSON: one alert document per line, to stdout or a file (Kibana-compatible documents). */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { StoredAlert } from '../store/types.js';
import type { AlertSink } from './types.js';

export class NdjsonSink implements AlertSink {
  private out: NodeJS.WritableStream;
  private file?: WriteStream;

  constructor(path?: string) {
    if (path && path !== '-') {
      this.file = createWriteStream(path, { flags: 'a' });
      this.out = this.file;
    } else {
      this.out = process.stdout;
    }
  }

  write(alert: StoredAlert): void {
    this.out.write(JSON.stringify(alert.doc) + '\n');
  }

  async close(): Promise<void> {
    if (this.file) {
      const f = this.file;
      await new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }
}
