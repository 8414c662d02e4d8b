/**
 * Benchmark input: an NDJSON file of exactly N Okta System Log events from the tenant simulator.
 *
 *   node dist/bench/generate.js OUT N [SEED]
 *
 * The tenant is sized so one window holds N events (up to 5,000 users over at least 14 days),
 * with the attack scenario in the middle of the window. Events are
 * streamed to disk in ~1 MB chunks, honouring the stream's backpressure, so memory stays flat
 * whatever N is. Should a window run short, the next one (next seed, starting where the last
 * ended) continues it, so the file always has N lines in `published` order.
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { generateTenantLines, type TenantOptions } from '../src/simulate/tenant.js';

/**
 * Sizing: about 11.5 events per user per calendar day (weekends included); 10.5 is used so a
 * window always holds N. The org grows to MAX_USERS over a 14-day window, beyond that the window
 * gets longer instead, so memory (which follows the user count) stays bounded for any N.
 */
const EVENTS_PER_USER_DAY = 10.5;
const MIN_DAYS = 14;
const MIN_USERS = 40;
const MAX_USERS = 5000;
const CHUNK_CHARS = 1 << 20;

export function benchTenantOptions(events: number, seed = 7): TenantOptions {
  const users = Math.min(MAX_USERS, Math.max(MIN_USERS, Math.ceil(events / (EVENTS_PER_USER_DAY * MIN_DAYS))));
  const days = Math.max(MIN_DAYS, Math.ceil(events / (EVENTS_PER_USER_DAY * users)));
  return { seed, users, days, start: '2026-11-02', org: 'bench', attacks: true };
}

export async function writeBenchFile(path: string, events: number, seed = 7): Promise<void> {
  if (!Number.isInteger(events) || events < 0) throw new Error(`writeBenchFile: events must be a whole number, got ${events}`);
  const out = createWriteStream(path, { encoding: 'utf8', highWaterMark: 4 * CHUNK_CHARS });
  // A failure is read from `out.errored` (and thrown) at the next write or at the end.
  out.on('error', () => undefined);
  await writeBenchStream(out, events, seed);
  const finished = settle(out, 'finish');
  out.end();
  await finished;
  if (out.errored) throw out.errored;
}

/** Resolves on the stream's next `event`, or as soon as it has failed. */
function settle(out: Writable, event: 'drain' | 'finish'): Promise<void> {
  return new Promise<void>((resolveWait) => {
    const done = () => {
      out.off(event, done);
      out.off('error', done);
      resolveWait();
    };
    if (out.errored) return resolveWait();
    out.on(event, done);
    out.on('error', done);
  });
}

/**
 * Writes the N events of `writeBenchFile` to any stream (a file, stdout), honouring its
 * backpressure; the stream is left open. `onLine` sees each line as it is written.
 */
export async function writeBenchStream(out: Writable, events: number, seed = 7, onLine?: (line: string) => void): Promise<void> {
  if (!Number.isInteger(events) || events < 0) throw new Error(`writeBenchStream: events must be a whole number, got ${events}`);
  // A failure (a full disk, a reader gone) is read from `out.errored` and thrown at the next write.
  const ignore = (): void => undefined;
  out.on('error', ignore);
  try {
    await writeAll(out, events, seed, onLine);
  } finally {
    out.off('error', ignore);
  }
}

async function writeAll(out: Writable, events: number, seed: number, onLine?: (line: string) => void): Promise<void> {
  const write = async (chunk: string) => {
    if (out.errored) throw out.errored;
    if (!out.write(chunk)) await settle(out, 'drain');
    if (out.errored) throw out.errored;
  };

  let written = 0;
  let lines: string[] = [];
  let chars = 0;
  let opts = benchTenantOptions(events, seed);
  while (written < events) {
    const before = written;
    for (const line of generateTenantLines(opts)) {
      onLine?.(line);
      lines.push(line);
      chars += line.length;
      if (chars >= CHUNK_CHARS) {
        lines.push('');
        await write(lines.join('\n'));
        lines = [];
        chars = 0;
      }
      if (++written >= events) break;
    }
    if (written === before) throw new Error('writeBenchStream: the tenant window produced no events');
    // Window exhausted before N: continue with a fresh tenant right after it.
    const next = new Date(Date.parse(`${opts.start}T00:00:00Z`) + opts.days * 86_400_000).toISOString().slice(0, 10);
    opts = { ...opts, seed: opts.seed + 1, start: next };
  }
  if (lines.length) {
    lines.push('');
    await write(lines.join('\n'));
  }
}

async function main(argv: string[]): Promise<void> {
  const [outArg, nArg, seedArg] = argv;
  const n = Number(nArg);
  const seed = seedArg === undefined ? 7 : Number(seedArg);
  if (!outArg || !Number.isInteger(n) || n < 0 || !Number.isFinite(seed)) {
    console.error('usage: node dist/bench/generate.js OUT N [SEED]');
    process.exitCode = 2;
    return;
  }
  const out = resolve(outArg);
  const t0 = process.hrtime.bigint();
  await writeBenchFile(out, n, seed);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const o = benchTenantOptions(n, seed);
  console.log(`${out}: ${n} events (${o.users} users, ${o.days} days from ${o.start}, seed ${seed}) in ${s.toFixed(1)} s, ${Math.round(n / s)} events/s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
