/**
 * `npm run bench [-- --events N] [-- --json]`
 *
 * On a generated tenant log of N events (default 1,000,000; cached in bench/data/), measures in one
 * run, side by side:
 *   - parse-only: read + JSON.parse + adapt to canonical events (the ceiling: no rule runs)
 *   - pipeline:   the same plus the engine with every loaded rule (built-in rules, plus the Sigma
 *                 and Elastic Okta corpus in ../shared/corpus when present: every rule of them
 *                 that runs), SQLite state, alerts counted
 * and prints events/s, the ratio, peak RSS, state size on disk and rules loaded per dialect.
 * Figures are for one core (the pipeline is single-threaded).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchFile } from './generate.js';
import { readRecords } from '../src/sources/files.js';
import { adaptRecord } from '../src/adapters/index.js';
import { loadRules } from '../src/rules/load.js';
import { runScan } from '../src/pipeline/scan.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { AlertSink } from '../src/sinks/types.js';
import type { RuleIR } from '../src/ir/types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const events = Number(arg('--events') ?? 1_000_000);
const json = process.argv.includes('--json');
const seed = Number(arg('--seed') ?? 7);
if (!Number.isInteger(events) || events <= 0) {
  console.error(`bench: --events must be a positive whole number, got ${arg('--events')}`);
  process.exit(2);
}

const log = (s: string) => {
  if (!json) console.log(s);
};

async function parseOnly(file: string): Promise<{ n: number; seconds: number }> {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for await (const rec of readRecords(file, { onError: () => undefined })) {
    n += adaptRecord(rec.value, rec.origin).length;
  }
  return { n, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function pipeline(file: string, rules: RuleIR[]): Promise<{ n: number; alerts: number; seconds: number; stateBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-bench-'));
  const store = new SqliteStore(join(dir, 'state.sqlite'));
  let alerts = 0;
  const counter: AlertSink = { write: () => void alerts++, close: async () => undefined };
  const t0 = process.hrtime.bigint();
  const result = await runScan({ inputs: [file], rules, store, schema: { org: 'bench.okta.com' }, sinks: [counter] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stateBytes = store.sizeBytes();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { n: result.summary.events, alerts, seconds, stateBytes };
}

async function main(): Promise<void> {
  const dataDir = join(root, 'bench', 'data');
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `tenant-${events}-${seed}.ndjson`);
  if (!existsSync(file)) {
    log(`generating ${events} events into ${file} …`);
    await writeBenchFile(file, events, seed);
  }
  const bytes = statSync(file).size;

  const rulePaths = [join(root, 'rules')];
  for (const dialect of ['sigma', 'elastic']) {
    const corpus = resolve(root, '..', 'shared', 'corpus', dialect);
    if (existsSync(corpus)) rulePaths.push(corpus);
    else log(`(../shared/corpus/${dialect} is absent: its rules are not in this benchmark)`);
  }
  const loaded = await loadRules(rulePaths, { placeholders: { legtimate_identifiers: ['@example.com'] } });
  const perDialect: Record<string, number> = {};
  for (const r of loaded.rules) perDialect[r.dialect] = (perDialect[r.dialect] ?? 0) + 1;

  // Warm up the JIT on a first pass, then measure both phases.
  await parseOnly(file);
  const parse = await parseOnly(file);
  const pipe = await pipeline(file, loaded.rules);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  const parseRate = parse.n / parse.seconds;
  const pipeRate = pipe.n / pipe.seconds;
  const out = {
    events: parse.n,
    input_mb: +(bytes / 1e6).toFixed(1),
    parse_only_events_per_s: Math.round(parseRate),
    pipeline_events_per_s: Math.round(pipeRate),
    ratio: +(pipeRate / parseRate).toFixed(3),
    peak_rss_mb: Math.round(peakRssMb),
    state_bytes: pipe.stateBytes,
    alerts: pipe.alerts,
    rules_loaded: perDialect,
    node: process.version,
  };
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }
  log('');
  log(`events                 ${out.events} (${out.input_mb} MB NDJSON)`);
  log(`rules loaded           ${Object.entries(perDialect).map(([d, n]) => `${d} ${n}`).join(', ')}`);
  log(`parse only             ${out.parse_only_events_per_s.toLocaleString('en')} events/s  (${parse.seconds.toFixed(2)} s)`);
  log(`full pipeline          ${out.pipeline_events_per_s.toLocaleString('en')} events/s  (${pipe.seconds.toFixed(2)} s)`);
  log(`pipeline / parse-only  ${(out.ratio * 100).toFixed(1)} %`);
  log(`alerts                 ${out.alerts}`);
  log(`peak RSS               ${out.peak_rss_mb} MB`);
  log(`state on disk          ${(out.state_bytes / 1e6).toFixed(2)} MB`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  process.exitCode = 2;
});
