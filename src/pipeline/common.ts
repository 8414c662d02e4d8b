/**
 * Pieces every pipeline shares (file scans, the System Log poller): handing committed alerts to
 * the sinks, and the run summary.
 */
import type { RuleIR } from '../ir/types.js';
import type { Engine } from '../engine/engine.js';
import { isHiddenAlert } from '../engine/stages/correlation.js';
import type { StateStore, StoredAlert } from '../store/types.js';
import type { AlertSink, ScanSummary } from '../sinks/types.js';

export interface AlertDelivery {
  /** Hand alerts (committed) to the sinks and mark them delivered. */
  deliver(alerts: StoredAlert[]): void;
  /** Hand the engine's alert updates (committed) to the sinks and mark them delivered. */
  deliverUpdates(): void;
  /** After a commit: the engine's new alerts, then its updates. */
  afterCommit(): void;
}

export function alertDelivery(engine: Engine, store: StateStore, sinks: AlertSink[]): AlertDelivery {
  const deliver = (alerts: StoredAlert[]): void => {
    if (alerts.length === 0) return;
    // Hidden alerts (Sigma correlation `generate: false`) are stored and fed back, not delivered.
    for (const a of alerts) if (!isHiddenAlert(a.doc)) for (const s of sinks) s.write(a);
    store.markDelivered(alerts.map((a) => a.uuid));
  };
  const deliverUpdates = (): void => {
    const updates = engine.takeUpdates();
    for (const [uuid, doc] of updates) for (const s of sinks) s.update?.(uuid, doc);
    store.markDelivered([...updates.keys()]);
  };
  return {
    deliver,
    deliverUpdates,
    afterCommit: () => {
      deliver(engine.takeAlerts());
      deliverUpdates();
    },
  };
}

/** Why processing one record failed, for its one-line report. */
export function internalReason(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'nested too deeply';
  return e instanceof Error ? e.message : String(e);
}

export function summarise(engine: Engine, rules: RuleIR[], started: number, badRecords: number): ScanSummary {
  const s = engine.stats;
  const names = new Map(rules.map((r) => [r.id, r.name]));
  return {
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
}
