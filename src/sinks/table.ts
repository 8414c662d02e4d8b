/**
 * Human output: a compact table, one row per alert as it is raised, colour by severity on a
 * terminal (NO_COLOR honoured), and a summary per rule at the end.
 */
import type { Json } from '../event/types.js';
import type { StoredAlert } from '../store/types.js';
import { getPath } from '../schema/path.js';
import type { AlertSink, ScanSummary } from './types.js';

const COLOURS: Record<string, string> = {
  critical: '\x1b[1;35m',
  high: '\x1b[1;31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  informational: '\x1b[2m',
};
const RESET = '\x1b[0m';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  return Array.isArray(v) ? v.map(String).join(',') : String(v);
}

function fit(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

export class TableSink implements AlertSink {
  private rows = 0;
  private readonly colour: boolean;
  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.colour = Boolean(out.isTTY) && !process.env['NO_COLOR'];
  }

  private paint(sev: string, s: string): string {
    return this.colour ? `${COLOURS[sev] ?? ''}${s}${RESET}` : s;
  }

  write(alert: StoredAlert): void {
    const d = alert.doc as Record<string, Json>;
    if (this.rows === 0) {
      this.out.write(`${fit('TIME', 24)} ${fit('SEVERITY', 13)} ${fit('DIALECT', 8)} ${fit('RULE', 58)} ${fit('USER', 22)} ${fit('SOURCE IP', 16)} EVENT\n`);
    }
    this.rows++;
    const sev = cell(getPath(d, 'oktopus.severity'));
    const line = [
      fit(new Date(alert.time).toISOString(), 24),
      this.paint(sev, fit(sev, 13)),
      fit(cell(getPath(d, 'oktopus.dialect')), 8),
      fit(cell(d['kibana.alert.rule.name']), 58),
      fit(cell(getPath(d, 'user.name')), 22),
      fit(cell(getPath(d, 'source.ip')), 16),
      cell(getPath(d, 'event.action')),
    ].join(' ');
    this.out.write(line + '\n');
  }

  finish(s: ScanSummary): void {
    const w = (x: string) => this.out.write(x + '\n');
    if (this.rows === 0) w('no new alerts');
    w('');
    w(
      `${s.events} events in ${s.seconds.toFixed(1)} s (${Math.round(s.events / Math.max(s.seconds, 1e-3))}/s), ` +
        `${s.rulesActive} rules active, ${s.alerts} new alerts` +
        (s.duplicates ? `, ${s.duplicates} duplicate events dropped` : '') +
        (s.badRecords ? `, ${s.badRecords} bad records skipped` : '') +
        (s.late ? `, ${s.late} late events` : '') +
        (s.replayedAlerts ? `, ${s.replayedAlerts} alerts already raised earlier` : ''),
    );
    for (const r of s.perRule) w(`  ${String(r.count).padStart(6)}  ${r.name} (${r.id})`);
  }

  async close(): Promise<void> {}
}
