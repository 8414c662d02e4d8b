/**
 * The alert sinks a command's flags ask for (scan, watch, backfill, serve): NDJSON on stdout or
 * the terminal table; `--output FILE` (NDJSON, also beside the table); `--alerts-db FILE`.
 */
import type { AlertSink } from '../sinks/types.js';
import { NdjsonSink } from '../sinks/ndjson.js';
import { TableSink } from '../sinks/table.js';
import { SqliteAlertSink } from '../sinks/sqlite.js';

export function alertSinks(flags: { format: string; output?: string; alertsDb?: string }): AlertSink[] {
  const sinks: AlertSink[] = [flags.format === 'ndjson' ? new NdjsonSink(flags.output) : new TableSink()];
  if (flags.format === 'table' && flags.output) sinks.push(new NdjsonSink(flags.output));
  if (flags.alertsDb) sinks.push(new SqliteAlertSink(flags.alertsDb));
  return sinks;
}
