/**
 * Writing a simulated tenant to disk: the System Log as NDJSON (gzip when the name ends in .gz),
 * the user directory as the CSV `oktopus users import` reads, the ground truth as JSON.
 *
 * The log is streamed: lines are gathered into ~1 MB chunks and written honouring the stream's
 * backpressure (and through a streaming gzip), so memory does not grow with the event count.
 */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { generateTenantLines, tenantDirectory, truthDocument, type TenantOptions } from './tenant.js';

const CHUNK_CHARS = 1 << 20;

export interface WriteStats {
  events: number;
  /** Bytes of NDJSON (before compression). */
  bytes: number;
}

/** The tenant's log as NDJSON chunks (each ends with a newline). */
async function* ndjsonChunks(opts: TenantOptions, stats: WriteStats): AsyncGenerator<string> {
  let lines: string[] = [];
  let chars = 0;
  for (const line of generateTenantLines(opts)) {
    lines.push(line);
    chars += line.length + 1;
    stats.events++;
    if (chars >= CHUNK_CHARS) {
      lines.push('');
      yield lines.join('\n');
      stats.bytes += chars;
      lines = [];
      chars = 0;
    }
  }
  if (lines.length) {
    lines.push('');
    yield lines.join('\n');
    stats.bytes += chars;
  }
}

/**
 * Write the log to `path` ('-' = `stdout`, left open). Gzip when `path` ends in `.gz`
 * (`gzip` forces it either way, e.g. for stdout).
 */
export async function writeTenantLog(
  opts: TenantOptions,
  path: string,
  o: { stdout?: Writable; gzip?: boolean; level?: number; /** `path` already opened for writing (closed when done). */ fd?: number } = {},
): Promise<WriteStats> {
  const stats: WriteStats = { events: 0, bytes: 0 };
  const gzip = o.gzip ?? /\.gz$/i.test(path);
  const source = Readable.from(ndjsonChunks(opts, stats), { objectMode: false, highWaterMark: 1 });
  const zip = () => createGzip({ level: o.level ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  if (path === '-') {
    const out = o.stdout ?? process.stdout;
    if (gzip) await pipeline(source, zip(), out, { end: false });
    else await pipeline(source, out, { end: false });
  } else {
    const file = o.fd === undefined ? createWriteStream(path) : createWriteStream(path, { fd: o.fd });
    if (gzip) await pipeline(source, zip(), file);
    else await pipeline(source, file);
  }
  return stats;
}

/** The user directory as CSV (login, city, state, countryCode, timezone), as `users import` reads it. */
export function directoryCsv(opts: TenantOptions): string {
  const csv = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = tenantDirectory(opts).map((u) => [u.login, u.city, u.state, u.countryCode, u.timezone].map(csv).join(','));
  return ['login,city,state,countryCode,timezone', ...rows].join('\n') + '\n';
}

/** The ground-truth file's text (`oktopus-truth/2`, pretty-printed). */
export function truthJson(opts: TenantOptions): string {
  return JSON.stringify(truthDocument(opts), null, 2) + '\n';
}
