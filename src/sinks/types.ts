/** Where alerts go. Sinks receive each alert once (after its batch committed) and its updates. */
import type { JsonObject } from '../event/types.js';
import type { StoredAlert } from '../store/types.js';

export interface AlertSink {
  write(alert: StoredAlert): void;
  /** A later match attached to an alert already written (dedup count, last seen). */
  update?(uuid: string, doc: JsonObject): void;
  /** Called once at the end with the scan's summary, before close. */
  finish?(summary: ScanSummary): void;
  close(): Promise<void>;
}

export interface ScanSummary {
  events: number;
  duplicates: number;
  late: number;
  badRecords: number;
  alerts: number;
  replayedAlerts: number;
  rulesActive: number;
  seconds: number;
  perRule: { id: string; name: string; count: number }[];
}
