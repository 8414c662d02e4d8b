/**
 * One measured benchmark run in its own process (started by bench.js and memory.js):
 *
 *   node dist/bench/run-one.js '<ChildSpec as JSON>'
 *
 * so that its peak RSS (`process.resourceUsage().maxRSS`) is the run's own. Modes:
 *   - parse:    read + JSON.parse + adapt to canonical events (the ceiling: no rule runs)
 *   - enrich:   the first `limit` events adapted, then the whole enrichment block (oktopus, ECS,
 *               Panther shapes) of each computed; only the enrichment calls are timed
 *   - pipeline: the scan pipeline (`runScan`: adapters, engine, SQLite state in a temporary
 *               folder, alerts counted) with the selected rules; with `sampleEvery`, a sample of
 *               memory and state size is printed every that many events
 *   - generate: the benchmark events as NDJSON on stdout (for a pipeline child reading `-`),
 *               with the number of distinct users so far every `usersEvery` events on fd 3
 * Reports are JSON lines on stdout (fd 3 for `generate`); the last one is the result.
 */
import { mkdtempSync, rmSync, statSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '../src/sources/files.js';
import { adaptRecord } from '../src/adapters/index.js';
import { loadRules } from '../src/rules/load.js';
import { runScan } from '../src/pipeline/scan.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { MemoryStore } from '../src/store/memory.js';
import { Progress } from '../src/sinks/progress.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { importList } from '../src/enrich/intel.js';
import { ecsBlock, enrichmentBlock, pantherBlock } from '../src/enrich/view.js';
import type { AlertSink } from '../src/sinks/types.js';
import type { CanonicalEvent } from '../src/event/types.js';
import type { SchemaContext } from '../src/schema/index.js';
import type { StateStore } from '../src/store/types.js';
import { PLACEHOLDERS, actorLogin, ruleGroup, selectRules, type RuleGroup, type ChildResult, type ChildSpec, type PipelineSample, type StateBreakdown, type UsersSample } from './common.js';
import { writeBenchStream } from './generate.js';

const MB = 1024 * 1024;
const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
/** CPU time (user + system, all threads of this process) since `c0`, in seconds. */
const cpuSeconds = (c0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
};
const maxRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

function report(fd: number, msg: ChildResult | PipelineSample | UsersSample): void {
  writeSync(fd, `${JSON.stringify(msg)}\n`);
}

function result(part: Partial<ChildResult> & Pick<ChildResult, 'n' | 'seconds' | 'cpu_seconds'>): ChildResult {
  return { type: 'result', max_rss_mb: maxRssMb(), rules: 0, alerts: 0, state_bytes: 0, baseline_updates: 0, baseline_rules: 0, ...part };
}

async function parseOnly(input: string): Promise<ChildResult> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  for await (const rec of readRecords(input, { onError: () => undefined })) {
    n += adaptRecord(rec.value, rec.origin).length;
  }
  return result({ n, seconds: seconds(t0), cpu_seconds: cpuSeconds(c0) });
}

/** Lists for the enrichment runs: a few hundred Tor exits and VPN networks (generated). */
function seedLists(store: StateStore): void {
  const tor: string[] = [];
  const vpn: string[] = [];
  for (let i = 0; i < 500; i++) tor.push(`185.220.${100 + (i >> 8)}.${i & 255}`);
  for (let i = 0; i < 300; i++) vpn.push(`149.${88 + (i >> 6)}.${(i & 63) * 4}.0/22 BenchVPN`);
  importList(store, { kind: 'tor', text: tor.join('\n'), source: 'bench-tor' });
  importList(store, { kind: 'vpn', text: vpn.join('\n'), source: 'bench-vpn' });
}

function enrichmentContext(store: StateStore): EnrichmentContext {
  seedLists(store);
  return new EnrichmentContext({ store, defaultGeo: true });
}

async function enrichEvery(input: string, limit: number): Promise<ChildResult> {
  const ctx = enrichmentContext(new MemoryStore());
  // Events are adapted in batches of 10,000 and each batch is enriched between two clock reads.
  let time = 0;
  let cpu = 0;
  let n = 0;
  let batch: CanonicalEvent[] = [];
  const flush = (): void => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (const ev of batch) {
      enrichmentBlock(ev, ctx);
      ecsBlock(ev, ctx);
      pantherBlock(ev, ctx);
    }
    time += seconds(t0);
    cpu += cpuSeconds(c0);
    n += batch.length;
    batch = [];
  };
  for await (const rec of readRecords(input, { onError: () => undefined })) {
    for (const ev of adaptRecord(rec.value, rec.origin)) batch.push(ev);
    if (batch.length >= 10_000) flush();
    if (n + batch.length >= limit) break;
  }
  flush();
  return result({ n, seconds: time, cpu_seconds: cpu });
}

/** Where the state file's bytes are (a second, read-only connection: committed data only). */
function stateBreakdown(path: string, namespaces: boolean): StateBreakdown {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const pages = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[];
    const part = (names: string[]): number => pages.filter((p) => names.includes(p.name)).reduce((a, p) => a + p.bytes, 0);
    const total = pages.reduce((a, p) => a + p.bytes, 0);
    const alerts = part(['alerts', 'alerts_time', 'alerts_pending', 'sqlite_autoindex_alerts_1']);
    const rule = part(['state', 'state_expiry']);
    let wal = 0;
    try {
      wal = statSync(`${path}-wal`).size;
    } catch {
      /* no WAL file: 0 */
    }
    const out: StateBreakdown = { alerts_bytes: alerts, rule_state_bytes: rule, other_bytes: total - alerts - rule, wal_bytes: wal };
    if (namespaces) {
      out.top_namespaces = db
        .prepare('SELECT ns, COUNT(*) AS rows, SUM(LENGTH(key) + LENGTH(value)) AS bytes FROM state GROUP BY ns ORDER BY bytes DESC LIMIT 8')
        .all() as { ns: string; rows: number; bytes: number }[];
    }
    return out;
  } finally {
    db.close();
  }
}

/** The scan's progress hook (called after each committed batch), sampling memory and state. */
class Sampler extends Progress {
  private next: number;
  /** Time (wall, CPU) spent taking samples, left out of the reported scan time. */
  spent = 0;
  spentCpu = 0;
  constructor(
    private readonly every: number,
    private readonly store: SqliteStore,
    private readonly t0: bigint,
  ) {
    super();
    this.next = every;
  }
  override tick(events: number, alerts: number): void {
    if (events < this.next) return;
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    while (this.next <= events) this.next += this.every;
    const mem = process.memoryUsage();
    report(1, {
      type: 'sample',
      events,
      seconds: +(seconds(this.t0) - this.spent).toFixed(2),
      rss_mb: Math.round(mem.rss / MB),
      max_rss_mb: maxRssMb(),
      heap_used_mb: Math.round(mem.heapUsed / MB),
      state_bytes: this.store.sizeBytes(),
      state: stateBreakdown(this.store.path, false),
      alerts,
    });
    this.spent += seconds(t);
    this.spentCpu += cpuSeconds(c);
  }
  override done(): void {}
}

async function pipeline(spec: Extract<ChildSpec, { mode: 'pipeline' }>): Promise<ChildResult> {
  const loaded = await loadRules(spec.paths, { placeholders: PLACEHOLDERS });
  const rules = selectRules(loaded.rules, spec.rules);
  if (rules.length === 0 && spec.rules !== 'none') throw new Error(`no rule loaded for ${JSON.stringify(spec.rules)}`);
  const groups: Partial<Record<RuleGroup, number>> = {};
  for (const r of rules) groups[ruleGroup(r)] = (groups[ruleGroup(r)] ?? 0) + 1;
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-bench-'));
  try {
    const store = new SqliteStore(join(dir, 'state.sqlite'));
    let alerts = 0;
    const counter: AlertSink = { write: () => void alerts++, close: async () => undefined };
    const schema: SchemaContext = { org: 'bench.okta.com' };
    if (spec.enrich === 'full') schema.enrichment = enrichmentContext(store);
    if (spec.enrich === 'off') schema.enrichment = new EnrichmentContext({ disabled: true });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const progress = spec.sampleEvery ? new Sampler(spec.sampleEvery, store, t0) : undefined;
    const scan = await runScan({ inputs: [spec.input], rules, store, schema, sinks: [counter], progress });
    const time = seconds(t0) - (progress?.spent ?? 0);
    const cpu = cpuSeconds(c0) - (progress?.spentCpu ?? 0);
    const stateBytes = store.sizeBytes();
    const state = stateBreakdown(store.path, true);
    store.close();
    return result({
      n: scan.summary.events,
      seconds: time,
      cpu_seconds: cpu,
      rules: rules.length,
      rule_groups: groups,
      alerts,
      state_bytes: stateBytes,
      state,
      baseline_updates: scan.engine.baseline?.updates ?? 0,
      baseline_rules: scan.engine.compiled.filter((c) => c.readsOrdered).length,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function generate(spec: Extract<ChildSpec, { mode: 'generate' }>): Promise<ChildResult> {
  const users = new Set<string>();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await writeBenchStream(process.stdout, spec.events, spec.seed, (line) => {
    const login = actorLogin(line);
    if (login !== undefined) users.add(login);
    if (++n % spec.usersEvery === 0 || n === spec.events) report(3, { type: 'users', events: n, distinct_users: users.size });
  });
  return result({ n, seconds: seconds(t0), cpu_seconds: cpuSeconds(c0) });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? 'null') as ChildSpec | null;
  if (!spec) throw new Error('usage: node run-one.js SPEC_JSON');
  switch (spec.mode) {
    case 'parse':
      return report(1, await parseOnly(spec.input));
    case 'enrich':
      return report(1, await enrichEvery(spec.input, spec.limit));
    case 'pipeline':
      return report(1, await pipeline(spec));
    case 'generate':
      return report(3, await generate(spec));
  }
}

main().catch((e: unknown) => {
  console.error(`bench run: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
