/**
 * `npm run bench:memory [-- --events N] [-- --sample-every N] [-- --json]`
 *
 * The memory replay (issue 7: "peak RSS under 300 MB on a 10M-event replay; state growth linear
 * in distinct users, not in events"), without the file: a generator process writes the benchmark
 * events (default 10,000,000) as NDJSON into a pipe, and a scanner process reads the pipe as
 * `oktopus scan -` does (stdin), with every rule loaded, enrichment on (the shipped country MMDB,
 * a Tor and a VPN list, user baselines) and SQLite state. Only the scanner is measured: every
 * `--sample-every` events (default 1,000,000) it reports its RSS, peak RSS, V8 heap and state
 * size on disk; the generator reports how many distinct users (actor.alternateId) it has written
 * so far. The curve shows whether state follows the users or the events.
 */
import { availableParallelism } from 'node:os';
import { loadRules } from '../src/rules/load.js';
import { PLACEHOLDERS, machine, parseFlags, rulePaths, ruleGroup, startChild, type PipelineSample, type UsersSample } from './common.js';

const BATCH = 20_000; // records per scan transaction: the scanner samples after a commit
const PEAK_RSS_GOAL_MB = 300;

interface Row extends PipelineSample {
  distinct_users: number | null;
  interval_events_per_s: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { counts: ['--events', '--seed', '--sample-every'], switches: ['--json'] });
  const events = flags.counts.get('--events') ?? 10_000_000;
  const seed = flags.counts.get('--seed') ?? 7;
  const json = flags.switches.has('--json');
  // Samples land on committed batches: the interval is a whole number of batches.
  const asked = Math.min(flags.counts.get('--sample-every') ?? 1_000_000, events);
  const every = Math.ceil(asked / BATCH) * BATCH;
  const log = (s: string): void => {
    if (!json) console.log(s);
  };

  const { paths, absent } = rulePaths();
  const loaded = await loadRules(paths, { placeholders: PLACEHOLDERS });
  const perDialect: Record<string, number> = {};
  for (const r of loaded.rules) perDialect[ruleGroup(r)] = (perDialect[ruleGroup(r)] ?? 0) + 1;
  log(`memory replay: ${events.toLocaleString('en')} generated events piped into a scan (stdin), sampled every ${every.toLocaleString('en')} events`);
  log(`rules: ${loaded.rules.length} (${Object.entries(perDialect).map(([g, n]) => `${g} ${n}`).join(', ')}); enrichment on (MMDB, lists, user baselines); SQLite state`);
  for (const a of absent) log(`(${a} is absent: its rules are not loaded)`);
  log(`${availableParallelism()} cores: the generator and the scanner run side by side; the scanner's figures only`);
  log('');
  log('    events   elapsed  events/s   RSS MB  peak MB  heap MB   state MB  alerts MB  rule st. MB   users  rule st. B/user  state B/event');

  const users = new Map<number, number>();
  const rows: Row[] = [];
  let prev = { events: 0, seconds: 0 };
  const gen = startChild({ mode: 'generate', events, seed, usersEvery: every }, {
    dataOnStdout: true,
    onMessage: (m) => {
      if (m.type === 'users') users.set(m.events, (m as UsersSample).distinct_users);
    },
  });
  const scan = startChild(
    { mode: 'pipeline', input: '-', rules: 'all', paths, enrich: 'full', sampleEvery: every },
    {
      stdin: gen.data,
      onMessage: (m) => {
        if (m.type !== 'sample') return;
        const s = m as PipelineSample;
        const row: Row = {
          ...s,
          distinct_users: users.get(s.events) ?? null,
          interval_events_per_s: Math.round((s.events - prev.events) / Math.max(s.seconds - prev.seconds, 1e-9)),
        };
        prev = s;
        rows.push(row);
        log(line(row));
      },
    },
  );
  // The scanner holds its own copy of the pipe; ours is closed so the scanner sees the end.
  gen.data?.destroy();
  const [genResult, scanResult] = await Promise.all([gen.result, scan.result]);
  const distinct = users.get(events) ?? null;

  const rule = scanResult.state?.rule_state_bytes ?? 0;
  const out = {
    events: scanResult.n,
    peak_rss_mb: scanResult.max_rss_mb,
    peak_rss_goal_mb: PEAK_RSS_GOAL_MB,
    pipeline_events_per_s: Math.round(scanResult.n / scanResult.seconds),
    seconds: +scanResult.seconds.toFixed(1),
    state_bytes: scanResult.state_bytes,
    state: scanResult.state,
    distinct_users: distinct,
    rule_state_bytes_per_user: distinct ? Math.round(rule / distinct) : null,
    rule_state_bytes_per_event: +(rule / scanResult.n).toFixed(2),
    state_bytes_per_event: +(scanResult.state_bytes / scanResult.n).toFixed(2),
    alerts: scanResult.alerts,
    rules_loaded: scanResult.rule_groups ?? {},
    sample_every: every,
    samples: rows,
    generator_seconds: +genResult.seconds.toFixed(1),
    node: process.version,
    ...machine(),
  };
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }
  const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
  log('');
  log(`rules run            ${scanResult.rules}: ${Object.entries(out.rules_loaded).map(([g, k]) => `${g} ${k}`).join(', ')}`);
  log(`peak RSS (scanner)   ${out.peak_rss_mb} MB  (goal: < ${PEAK_RSS_GOAL_MB} MB)`);
  log(`events/s (scanner)   ${out.pipeline_events_per_s.toLocaleString('en')}  over ${out.seconds} s`);
  log(`state on disk        ${mb(out.state_bytes)}: alerts ${mb(scanResult.state?.alerts_bytes ?? 0)} (${out.alerts} alerts), rule state ${mb(rule)}, other ${mb(scanResult.state?.other_bytes ?? 0)}, WAL ${mb(scanResult.state?.wal_bytes ?? 0)}`);
  log(`rule state           ${out.rule_state_bytes_per_user?.toLocaleString('en') ?? '?'} bytes per distinct user (${distinct ?? '?'} users), ${out.rule_state_bytes_per_event} bytes per event`);
  const half = rows.find((r) => r.events >= scanResult.n / 2);
  if (half && half.events < scanResult.n && half.state.rule_state_bytes > 0) {
    const growth = (x: number, y: number): string => {
      const g = Math.round((y / x - 1) * 100);
      return `${g >= 0 ? '+' : '−'}${Math.abs(g)} %`;
    };
    log(
      `second half          events ${growth(half.events, scanResult.n)}, distinct users ${half.distinct_users && distinct ? growth(half.distinct_users, distinct) : '?'}, ` +
        `rule state ${growth(half.state.rule_state_bytes, rule)}, alerts stored ${growth(half.state.alerts_bytes, scanResult.state?.alerts_bytes ?? 0)}  (from event ${half.events.toLocaleString('en')} to the end)`,
    );
  }
  log('largest state namespaces (rows; bytes of keys and values):');
  for (const ns of scanResult.state?.top_namespaces ?? []) log(`  ${ns.ns.padEnd(60)} ${String(ns.rows).padStart(9)} ${mb(ns.bytes).padStart(12)}`);
}

function line(r: Row): string {
  const users = r.distinct_users;
  const mb = (b: number): string => (b / 1e6).toFixed(2);
  return [
    r.events.toLocaleString('en').padStart(10),
    `${r.seconds.toFixed(0)} s`.padStart(9),
    r.interval_events_per_s.toLocaleString('en').padStart(9),
    String(r.rss_mb).padStart(8),
    String(r.max_rss_mb).padStart(8),
    String(r.heap_used_mb).padStart(8),
    mb(r.state_bytes).padStart(10),
    mb(r.state.alerts_bytes).padStart(10),
    mb(r.state.rule_state_bytes).padStart(12),
    String(users ?? '?').padStart(7),
    (users ? Math.round(r.state.rule_state_bytes / users).toLocaleString('en') : '?').padStart(16),
    (r.state_bytes / r.events).toFixed(1).padStart(14),
  ].join(' ');
}

main().catch((e: unknown) => {
  console.error(`bench:memory: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
