/**
 * A scan: files -> records -> adapters -> engine -> sinks, with checkpoints.
 *
 * Records are processed in batches. Each batch runs inside one store transaction that also saves
 * the input position and the engine's reorder buffer, so after a `kill -9` a rerun with the same
 * state resumes exactly after the last committed batch: no alert lost, none raised twice. Alerts
 * are stored (by deterministic id) in that transaction and handed to the sinks after it commits;
 * alerts committed but not yet delivered when the process died are delivered first on restart.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { CanonicalEvent, Json } from '../event/types.js';
import type { RuleIR } from '../ir/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { StateStore, StoredAlert } from '../store/types.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { adaptRecord, RecordError } from '../adapters/index.js';
import { readRecords } from '../sources/files.js';
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
}

export interface ScanResult {
  summary: ScanSummary;
  engine: Engine;
  badRecords: number;
  /** Set when --strict stopped the scan at a bad record. */
  fatal?: string;
}

interface Checkpoint {
  file: number;
  next: number;
  batch: number;
  done: boolean;
  engine: Json;
}

export class StrictInputError extends Error {}

/** Checkpoints are per set of inputs: scanning other files with the same state starts afresh. */
export function checkpointName(inputs: string[]): string {
  const h = createHash('sha256').update(JSON.stringify(inputs.map((p) => (p === '-' ? '-' : resolve(p))))).digest('hex');
  return `scan:${h.slice(0, 24)}`;
}

export async function runScan(opts: ScanOptions): Promise<ScanResult> {
  const started = Date.now();
  const { store } = opts;
  const engine = new Engine(opts.rules, { ...opts.engine, schema: opts.schema, store, reorderWindowMs: opts.reorderWindowMs ?? opts.engine?.reorderWindowMs });
  const batchSize = opts.batchSize ?? 20000;
  const resumable = !opts.inputs.includes('-');
  const cpName = checkpointName(opts.inputs);
  let badRecords = 0;

  const deliver = (alerts: StoredAlert[]): void => {
    if (alerts.length === 0) return;
    for (const a of alerts) for (const s of opts.sinks) s.write(a);
    store.markDelivered(alerts.map((a) => a.uuid));
  };
  const deliverUpdates = (): void => {
    for (const [uuid, doc] of engine.takeUpdates()) for (const s of opts.sinks) s.update?.(uuid, doc);
  };

  // Alerts a killed run committed but never handed to the sinks.
  deliver(store.pendingAlerts());

  let cp: Checkpoint = { file: 0, next: 0, batch: 0, done: false, engine: null };
  const saved = resumable ? (store.getCheckpoint(cpName) as Checkpoint | undefined) : undefined;
  if (saved) {
    cp = saved;
    engine.restore(saved.engine);
    if (saved.done) opts.onNote?.('all input was already processed by an earlier scan with this state (use --fresh to start over)');
    else opts.onNote?.(`resuming from ${opts.inputs[saved.file] ?? 'end'} record ${saved.next + 1} (checkpoint of an earlier scan)`);
  }

  let position = { file: cp.file, next: cp.next };
  let batchNo = cp.batch;
  let inBatch = 0;
  let open = false;

  // Events go to the engine as they are read (no batch of parsed events is held, so the
  // garbage collector never has to promote them); the batch is the transaction around them.
  const begin = (): void => {
    store.begin();
    open = true;
    inBatch = 0;
  };
  const commit = (final: boolean): void => {
    if (final) engine.drain();
    const snapshot = engine.commit(++batchNo);
    if (resumable) {
      const next: Checkpoint = { file: position.file, next: position.next, batch: batchNo, done: final, engine: snapshot };
      store.setCheckpoint(cpName, next as unknown as Json);
    }
    store.commit();
    open = false;
    deliver(engine.takeAlerts());
    deliverUpdates();
    opts.progress?.tick(engine.stats.events, engine.stats.alerts, 'scanning');
  };

  let fatal: string | undefined;
  try {
    if (!cp.done) {
      begin();
      for (let fi = cp.file; fi < opts.inputs.length; fi++) {
        const path = opts.inputs[fi]!;
        const skip = fi === cp.file ? cp.next : 0;
        const reader = readRecords(path, {
          skip,
          onError: (e) => {
            badRecords++;
            const line = `${e.origin}: ${e.reason}`;
            if (opts.strict) throw new StrictInputError(line);
            opts.onBadRecord?.(line);
          },
        });
        for await (const rec of reader) {
          let events: CanonicalEvent[];
          try {
            events = adaptRecord(rec.value, rec.origin, { timeField: opts.timeField });
          } catch (e) {
            if (!(e instanceof RecordError)) throw e;
            badRecords++;
            const line = `${rec.origin}: ${e.message}`;
            if (opts.strict) throw new StrictInputError(line);
            opts.onBadRecord?.(line);
            continue;
          }
          for (const ev of events) engine.push(ev);
          position = { file: fi, next: rec.index + 1 };
          if (++inBatch >= batchSize) {
            commit(false);
            begin();
          }
        }
        position = { file: fi + 1, next: 0 };
      }
      commit(true);
    }
  } catch (e) {
    if (!(e instanceof StrictInputError)) {
      if (open) store.rollback();
      throw e;
    }
    fatal = e.message;
    // Everything accepted before the bad record is kept (and checkpointed).
    if (open) commit(false);
  }
  opts.progress?.done();

  const s = engine.stats;
  const names = new Map(opts.rules.map((r) => [r.id, r.name]));
  const summary: ScanSummary = {
    events: s.events,
    duplicates: s.duplicates,
    late: s.late,
    badRecords,
    alerts: s.alerts,
    replayedAlerts: s.replayedAlerts,
    rulesActive: engine.compiled.length,
    seconds: (Date.now() - started) / 1000,
    perRule: [...s.perRule].map(([id, count]) => ({ id, name: names.get(id) ?? id, count })).sort((a, b) => b.count - a.count),
  };
  return { summary, engine, badRecords, fatal };
}
