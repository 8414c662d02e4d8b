/**
 * A scan: files -> records -> adapters -> engine -> sinks, with checkpoints.
 *
 * Records are processed in batches. Each batch runs inside one store transaction that also saves
 * the input position and the engine's reorder window, so after a `kill -9` a rerun with the same
 * state resumes exactly after the last committed batch: no alert lost, none raised twice. Alerts
 * are stored (by deterministic id) in that transaction and handed to the sinks after it commits;
 * alerts committed but not yet delivered when the process died are delivered first on restart.
 *
 * Positions are kept per input file, with a fingerprint (size, modification time, hash of the
 * first 64 KiB): a file scanned to its end is skipped next time; a file that grew (same head,
 * larger) is read on from where the last scan stopped; a file whose content changed is read
 * again from the start (its alerts already raised are not raised again: alert ids are stable).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CanonicalEvent, Json } from '../event/types.js';
import type { RuleIR } from '../ir/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { StateStore } from '../store/types.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { batchPreparer } from '../engine/code/registry.js';
import { adaptRecord, RecordError } from '../adapters/index.js';
import { readRecords } from '../sources/files.js';
import { alertDelivery, internalReason, summarise } from './common.js';
import { limitHeapGrowth } from './heap.js';
import type { AlertSink, ScanSummary } from '../sinks/types.js';
import type { Progress } from '../sinks/progress.js';

export interface ScanOptions {
  inputs: string[];
  rules: RuleIR[];
  store: StateStore;
  schema: SchemaContext;
  sinks: AlertSink[];
  /** A bad record stops the scan (exit 2) instead of being reported and skipped. */
  strict?: boolean;
  /** Dotted path overriding `published` as the event time. */
  timeField?: string;
  reorderWindowMs?: number;
  /** Records per transaction (default 20,000). */
  batchSize?: number;
  /** Receives one line per bad record (`file:line: reason`). */
  onBadRecord?: (line: string) => void;
  /** Receives notes for the user (resume position, nothing left to read…). */
  onNote?: (line: string) => void;
  progress?: Progress;
  engine?: Omit<EngineOptions, 'schema' | 'store'>;
  /**
   * The end of the input is the end of time: windows that close when event time passes them
   * (an EQL sequence waiting on a trailing missing step, a pipe window) close now. For one-off
   * scans (`--memory`, `--close-windows`); a scan that a later one resumes leaves them open.
   */
  closeWindows?: boolean;
  /**
   * Events per `prepare` call when a rule's code runtime evaluates batches before the engine
   * (Python bodies; default 2,000; never more than a transaction holds).
   */
  prepareBatchSize?: number;
}

export interface ScanResult {
  summary: ScanSummary;
  engine: Engine;
  badRecords: number;
  /** Set when --strict stopped the scan at a bad record. */
  fatal?: string;
}

/** What a scan remembers of one input file. */
interface FileCheckpoint {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first `headBytes` bytes (64 KiB, or the whole file when smaller). */
  head: string;
  headBytes: number;
  /** Records consumed (the reader's record index to resume at). */
  next: number;
  /** Read to its end. */
  complete: boolean;
}

type Fingerprint = Pick<FileCheckpoint, 'size' | 'mtimeMs' | 'head' | 'headBytes'>;

export class StrictInputError extends Error {}

const HEAD_BYTES = 64 * 1024;

/** Size, time and a hash of the first `headBytes` bytes (default: up to 64 KiB). */
function fingerprint(path: string, headBytes?: number): Fingerprint {
  const st = statSync(path);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(headBytes ?? HEAD_BYTES, st.size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { size: st.size, mtimeMs: st.mtimeMs, head: createHash('sha256').update(buf.subarray(0, n)).digest('hex'), headBytes: n };
  } finally {
    closeSync(fd);
  }
}

export function checkpointName(path: string): string {
  return `input:${resolve(path)}`;
}

/**
 * Where to start reading a file, given what an earlier scan with this state remembers: the same
 * file (its first bytes, as many as were hashed then, unchanged, and not smaller) is read on from
 * the saved position, or skipped when it was read to its end and has not grown; any other file
 * is read from the start.
 */
function plan(path: string, saved: FileCheckpoint | undefined): { skip: number; fp: Fingerprint; note?: string } | 'done' {
  const now = fingerprint(path);
  if (!saved) return { skip: 0, fp: now };
  const headThen = saved.headBytes === now.headBytes ? now.head : fingerprint(path, saved.headBytes).head;
  const same = now.size >= saved.size && headThen === saved.head;
  if (same) {
    if (saved.complete && now.size === saved.size) {
      if (now.mtimeMs === saved.mtimeMs) return 'done';
      // Same size, same head, but written since: something past the hashed head may differ.
      return { skip: 0, fp: now, note: `${path}: modified since the last scan; reading it again from the start (alerts already raised are not repeated)` };
    }
    if (saved.next === 0) return { skip: 0, fp: now };
    const why = saved.complete ? 'the file grew since the last scan' : 'resuming an interrupted scan';
    return { skip: saved.next, fp: now, note: `${path}: continuing after record ${saved.next} (${why})` };
  }
  return { skip: 0, fp: now, note: `${path}: changed since the last scan with this state; reading it again from the start (alerts already raised are not repeated)` };
}

export async function runScan(opts: ScanOptions): Promise<ScanResult> {
  const started = Date.now();
  // V8 collects once the old generation is 1.5× what is alive, not 4× (./heap.ts).
  limitHeapGrowth();
  const { store } = opts;
  const engine = new Engine(opts.rules, { ...opts.engine, schema: opts.schema, store, reorderWindowMs: opts.reorderWindowMs ?? opts.engine?.reorderWindowMs });
  const batchSize = opts.batchSize ?? 20000;
  let badRecords = 0;

  const { deliver, deliverUpdates } = alertDelivery(engine, store, opts.sinks);

  // Alerts a killed run committed but never handed to the sinks.
  deliver(store.pendingAlerts());

  // Per input: where to start (and the fingerprint to save with its position).
  const inputs = opts.inputs.map((path) => {
    if (path === '-') return { path, skip: 0, fp: undefined };
    const start = plan(path, store.getCheckpoint(checkpointName(path)) as FileCheckpoint | undefined);
    if (start === 'done') return { path, skip: -1, fp: undefined };
    if (start.note) opts.onNote?.(start.note);
    return { path, skip: start.skip, fp: start.fp };
  });
  if (inputs.every((p) => p.skip < 0)) {
    opts.onNote?.('all input was already processed by an earlier scan with this state (use --fresh or another --state to scan it again)');
  }

  let current: { path: string; fp?: Fingerprint; next: number; complete: boolean } | undefined;
  let batchNo = Number(store.getCheckpoint('engine:batch') ?? 0);
  let inBatch = 0;
  let open = false;

  // Events go to the engine as they are read (no batch of parsed events is held, so the
  // garbage collector never has to promote them); the batch is the transaction around them.
  const begin = (): void => {
    store.begin();
    open = true;
    inBatch = 0;
  };
  const saveCurrent = (): void => {
    if (!current?.fp) return;
    const cp: FileCheckpoint = { ...current.fp, next: current.next, complete: current.complete };
    store.setCheckpoint(checkpointName(current.path), cp as unknown as Json);
  };
  const commit = (final: boolean): void => {
    if (final) {
      if (opts.closeWindows) engine.flush();
      else engine.drain();
    }
    engine.commit(++batchNo);
    saveCurrent();
    store.setCheckpoint('engine:batch', batchNo);
    store.commit();
    open = false;
    deliver(engine.takeAlerts());
    deliverUpdates();
    opts.progress?.tick(engine.stats.events, engine.stats.alerts, 'scanning');
  };

  const bad = (origin: string, reason: string): void => {
    badRecords++;
    const line = `${origin}: ${reason}`;
    if (opts.strict) throw new StrictInputError(line);
    opts.onBadRecord?.(line);
  };

  // Code runtimes that evaluate batches before the engine (Python rule bodies): events are
  // collected, the runtime's evaluation awaited, then the same events pushed in the same order.
  // Without such a rule, events go to the engine as they are read.
  const preparer = batchPreparer(opts.rules, { schema: opts.schema, onNote: opts.onNote });
  const prepareSize = Math.max(1, Math.min(opts.prepareBatchSize ?? 2000, batchSize));
  const pending: CanonicalEvent[] = [];
  const flushPending = async (): Promise<void> => {
    if (!preparer || pending.length === 0) return;
    const evs = pending.splice(0, pending.length);
    await preparer.prepare(evs);
    for (const ev of evs) engine.push(ev);
  };

  let fatal: string | undefined;
  try {
    begin();
    for (const input of inputs) {
      if (input.skip < 0) continue;
      current = { path: input.path, fp: input.fp, next: input.skip, complete: false };
      const reader = readRecords(input.path, { skip: input.skip, onError: (e) => bad(e.origin, e.reason) });
      for await (const rec of reader) {
        let events;
        try {
          events = adaptRecord(rec.value, rec.origin, {
            timeField: opts.timeField,
            onPartialError: (reason) => bad(rec.origin, reason),
          });
        } catch (e) {
          if (e instanceof StrictInputError) throw e;
          // One record must never stop a scan: a record the adapters reject, and any other
          // failure while adapting it (a pathological structure), is reported and skipped.
          bad(rec.origin, e instanceof RecordError ? e.message : `cannot process this record: ${internalReason(e)}`);
          continue;
        }
        // An error inside the engine or the store is not the record's fault: it ends the scan
        // and the open batch rolls back (the rerun starts from the last commit).
        if (preparer) {
          for (const ev of events) pending.push(ev);
          if (pending.length >= prepareSize) await flushPending();
        } else for (const ev of events) engine.push(ev);
        current.next = rec.index + 1;
        if (++inBatch >= batchSize) {
          await flushPending();
          commit(false);
          begin();
        }
      }
      await flushPending();
      current.complete = true;
      saveCurrent();
    }
    await flushPending();
    commit(true);
  } catch (e) {
    if (!(e instanceof StrictInputError)) {
      if (open) store.rollback();
      await preparer?.close();
      throw e;
    }
    fatal = e.message;
    // Everything accepted before the bad record is kept and checkpointed, and, as at the end of
    // input, events waiting in the reorder window are processed now.
    if (open) {
      await flushPending();
      commit(true);
    }
  }
  await preparer?.close();
  opts.progress?.done();

  const summary = summarise(engine, opts.rules, started, badRecords);
  return { summary, engine, badRecords, fatal };
}
