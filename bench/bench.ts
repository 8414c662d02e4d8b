/**
 * `npm run bench [-- --events N] [-- --seed N] [-- --detail-events N] [-- --json]`
 *
 * On a generated tenant log of N events (default 1,000,000; cached in bench/data/ under a name
 * that carries a fingerprint of the generator), measures in one run, side by side, each run in
 * its own process (run-one.ts) so that each peak RSS is that run's own, and each in wall time and
 * in CPU time (what the run cost on a shared machine, whatever else ran):
 *   - parse only: read + JSON.parse + adapt to canonical events (the ceiling: no rule runs)
 *   - pipeline, all rules: the same plus the engine with every loaded rule (built-in rules, plus
 *     the Sigma, Elastic and Panther Okta corpus in ../shared/corpus when present: every rule of
 *     it that runs; what does not is listed with its reason), SQLite state, alerts counted,
 *     enrichment switched off (enrichment fields read as absent, no user baselines)
 *   - pipeline + enrichment: all rules with an enrichment context (the shipped country MMDB, a Tor
 *     and a VPN list in the state) and user baselines; over the all-rules run, this is what
 *     enrichment adds to a real run (issue 6's goal: under 20 %)
 *   - enrichment, every event: the whole enrichment block (oktopus, ECS, Panther shapes) of each
 *     of the first 200,000 events: its per-event cost with every part computed
 * and, on the first --detail-events of them (default 250,000, so that a run at 1M stays
 * affordable), against a parse-only run of the same events:
 *   - the pipeline without rules (its own cost), and each dialect's rules alone (Sigma, Elastic
 *     KQL, Elastic EQL, Panther) with the CPU time one rule adds per event
 *   - other tools: jq counting the events that the seed Sigma rule matches, against oktopus
 *     running that one rule (both counts printed); the Python EQL reference engine: why not run
 * docs/benchmarks.md describes each row and has the latest figures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { loadRules } from '../src/rules/load.js';
import { writeBenchFile } from './generate.js';
import {
  GROUP_LABELS,
  PLACEHOLDERS,
  RULE_GROUPS,
  cacheFileName,
  prefixFileName,
  generatorFingerprint,
  leftOut,
  machine,
  parseFlags,
  cpuRate,
  rate,
  root,
  ruleGroup,
  rulePaths,
  runChild,
  staleCacheFiles,
  type ChildResult,
  type RuleGroup,
  type RuleSelection,
} from './common.js';

/** The seed Sigma rule that jq is compared with, and the same condition as a jq program. */
const SEED_SIGMA_ID = 'bde30855-5c53-4c18-ae90-1ff79ebc9578';
const SEED_SIGMA_FILE = 'rules/sigma/okta_user_session_start_via_anonymised_proxy.yml';
/**
 * eventType: 'user.session.start' and securityContext.isProxy: 'true', as Sigma compares them:
 * case-insensitive equality of the value as a string (the boolean true reads as "true").
 */
const JQ_PROGRAM =
  'reduce inputs as $e (0; if (($e.eventType | tostring | ascii_downcase) == "user.session.start") ' +
  'and (($e.securityContext.isProxy | tostring | ascii_downcase) == "true") then . + 1 else . end)';
const ENRICH_SAMPLE = 200_000;
/** Events the detail rows (no rules, each dialect alone, jq) read: the first of the N. */
const DETAIL_EVENTS = 250_000;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { counts: ['--events', '--seed', '--detail-events'], switches: ['--json'] });
  const events = flags.counts.get('--events') ?? 1_000_000;
  const seed = flags.counts.get('--seed') ?? 7;
  const detailEvents = Math.min(events, flags.counts.get('--detail-events') ?? DETAIL_EVENTS);
  const json = flags.switches.has('--json');
  const log = (s: string): void => {
    if (!json) console.log(s);
  };
  const started = Date.now();

  // The input: N generated events, cached under the generator's fingerprint; the detail rows
  // read its first `detailEvents` events (a copy of them, so each run reads a whole file).
  const dataDir = join(root, 'bench', 'data');
  mkdirSync(dataDir, { recursive: true });
  const fingerprint = generatorFingerprint(events, seed);
  const file = join(dataDir, cacheFileName(events, seed, fingerprint));
  for (const stale of staleCacheFiles(readdirSync(dataDir), events, seed, fingerprint)) {
    log(`removing bench/data/${stale} (written by an older generator, or unfinished)`);
    rmSync(join(dataDir, stale), { force: true });
  }
  if (!existsSync(file)) {
    log(`generating ${events.toLocaleString('en')} events into ${file} …`);
    const partial = `${file}.partial`;
    await writeBenchFile(partial, events, seed);
    renameSync(partial, file);
  }
  const detailFile = detailEvents === events ? file : join(dataDir, prefixFileName(events, seed, fingerprint, detailEvents));
  if (!existsSync(detailFile)) {
    const partial = `${detailFile}.partial`;
    await copyFirstLines(file, partial, detailEvents);
    renameSync(partial, detailFile);
  }
  const bytes = statSync(file).size;

  // The rules are listed here (what is left out and why); each run loads its own selection.
  const { paths, absent } = rulePaths();
  const loaded = await loadRules(paths, { placeholders: PLACEHOLDERS });
  const left = leftOut(loaded.unsupported);
  const groupsLoaded = new Set(loaded.rules.map(ruleGroup));

  const pipelineRun = (input: string, rules: RuleSelection, enrich: 'off' | 'full' = 'off'): Promise<ChildResult> =>
    runChild({ mode: 'pipeline', input, rules, paths, enrich });
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (!json) process.stderr.write(`  running: ${what} …\n`);
    return run();
  };

  // On all N events: the ceiling, every rule, every rule with enrichment.
  const parse = await step('parse only', () => runChild({ mode: 'parse', input: file }));
  const all = await step('pipeline, all rules', () => pipelineRun(file, 'all'));
  const enriched = await step('pipeline + enrichment', () => pipelineRun(file, 'all', 'full'));
  const every = await step('enrichment of every event', () => runChild({ mode: 'enrich', input: file, limit: Math.min(ENRICH_SAMPLE, events) }));
  // On the first detailEvents: the pipeline without rules, each dialect alone, one rule vs jq.
  const detailParse = detailFile === file ? parse : await step(`parse only, first ${detailEvents} events`, () => runChild({ mode: 'parse', input: detailFile }));
  const none = await step('pipeline, no rules', () => pipelineRun(detailFile, 'none'));
  const perDialect: Partial<Record<RuleGroup, ChildResult>> = {};
  for (const g of RULE_GROUPS) {
    if (groupsLoaded.has(g)) perDialect[g] = await step(`pipeline, ${GROUP_LABELS[g]} rules alone`, () => pipelineRun(detailFile, g));
  }
  const seedRule = await step('the seed Sigma rule alone', () => pipelineRun(detailFile, { id: SEED_SIGMA_ID }));
  const jq = await step('jq, the same filter', () => runJq(detailFile));
  const eql = eqlReference();

  const parseRate = rate(parse);
  const detailParseRate = rate(detailParse);
  const usPerEvent = (r: ChildResult): number => (r.seconds / r.n) * 1e6;
  const cpuUsPerEvent = (r: ChildResult): number => (r.cpu_seconds / r.n) * 1e6;
  // What rules add over the pipeline without rules, in CPU time per event, divided among the rules.
  const perRule = (r: ChildResult): number => +((cpuUsPerEvent(r) - cpuUsPerEvent(none)) / Math.max(r.rules, 1)).toFixed(3);
  const cpuRatio = (r: ChildResult, base: ChildResult): number => +(cpuRate(r) / cpuRate(base)).toFixed(3);
  const dialectRows = Object.fromEntries(
    Object.entries(perDialect).map(([g, r]) => [
      g,
      {
        rules: r.rules,
        events_per_s: rate(r),
        ratio: +(rate(r) / detailParseRate).toFixed(3),
        events_per_cpu_s: cpuRate(r),
        ratio_cpu: cpuRatio(r, detailParse),
        us_per_event_per_rule: perRule(r),
        alerts: r.alerts,
        peak_rss_mb: r.max_rss_mb,
        state_bytes: r.state_bytes,
      },
    ]),
  );
  const jqRate = jq.ran ? Math.round(detailParse.n / jq.seconds) : 0;
  const out = {
    events: parse.n,
    input_mb: +(bytes / 1e6).toFixed(1),
    input_file: file,
    parse_only_events_per_s: parseRate,
    pipeline_events_per_s: rate(all),
    ratio: +(rate(all) / parseRate).toFixed(3),
    ratio_goal: 0.8,
    parse_only_events_per_cpu_s: cpuRate(parse),
    pipeline_events_per_cpu_s: cpuRate(all),
    ratio_cpu: cpuRatio(all, parse),
    peak_rss_mb: all.max_rss_mb,
    parse_only_peak_rss_mb: parse.max_rss_mb,
    state_bytes: all.state_bytes,
    alerts: all.alerts,
    rules_loaded: all.rule_groups ?? {},
    rules_loaded_total: all.rules,
    rules_left_out: left,
    corpus_absent: absent,
    us_per_event_per_rule: perRule(all),
    detail_events: detailParse.n,
    detail_parse_only_events_per_s: detailParseRate,
    no_rules_pipeline_events_per_s: rate(none),
    no_rules_ratio: +(rate(none) / detailParseRate).toFixed(3),
    no_rules_ratio_cpu: cpuRatio(none, detailParse),
    per_dialect: dialectRows,
    enriched_pipeline_events_per_s: rate(enriched),
    enrichment_overhead: +(enriched.seconds / all.seconds - 1).toFixed(3),
    enrichment_overhead_cpu: +(enriched.cpu_seconds / all.cpu_seconds - 1).toFixed(3),
    enriched_peak_rss_mb: enriched.max_rss_mb,
    enriched_state_bytes: enriched.state_bytes,
    enriched_alerts: enriched.alerts,
    baseline_rules: enriched.baseline_rules,
    baseline_updates: enriched.baseline_updates,
    enrichment_us_per_event: +usPerEvent(every).toFixed(2),
    enrichment_cpu_us_per_event: +cpuUsPerEvent(every).toFixed(2),
    enrichment_sample_events: every.n,
    jq: jq.ran
      ? {
          filter: `the condition of ${SEED_SIGMA_FILE}`,
          events: detailParse.n,
          jq_events_per_s: jqRate,
          oktopus_events_per_s: rate(seedRule),
          ratio: +(rate(seedRule) / jqRate).toFixed(2),
          jq_events_per_cpu_s: Math.round(detailParse.n / jq.cpuSeconds),
          oktopus_events_per_cpu_s: cpuRate(seedRule),
          ratio_cpu: +(cpuRate(seedRule) / (detailParse.n / jq.cpuSeconds)).toFixed(2),
          jq_matches: jq.matches,
          oktopus_matches: seedRule.alerts,
          same_matches: jq.matches === seedRule.alerts,
        }
      : null,
    jq_reason: jq.ran ? undefined : jq.reason,
    eql_reference: null,
    eql_reference_reason: eql,
    seconds_total: Math.round((Date.now() - started) / 1000),
    node: process.version,
    ...machine(),
  };
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }

  const n = (x: number): string => x.toLocaleString('en');
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const groupList = (g: Partial<Record<RuleGroup, number>>): string => RULE_GROUPS.map((k) => `${k} ${g[k] ?? 0}`).join(', ');
  log('');
  log(`events                    ${n(out.events)} (${out.input_mb} MB NDJSON); one core per run; ${out.cpus} × ${out.cpu_model}; node ${out.node}`);
  log(`rules loaded              ${all.rules}: ${groupList(out.rules_loaded)}`);
  for (const a of absent) log(`  (${a} is absent: its rules are not in this benchmark)`);
  for (const l of left) log(`  left out: ${l.rules} × ${l.reason}`);
  log('');
  log(`                          events/s (wall)  events/CPU-s   of parse-only (wall; CPU)`);
  log(`parse only                ${n(parseRate).padStart(15)}  ${n(out.parse_only_events_per_cpu_s).padStart(12)}   (${parse.seconds.toFixed(1)} s; peak RSS ${parse.max_rss_mb} MB)`);
  log(`pipeline, all rules       ${n(out.pipeline_events_per_s).padStart(15)}  ${n(out.pipeline_events_per_cpu_s).padStart(12)}   ${pct(out.ratio)}; ${pct(out.ratio_cpu)} (goal: ≥ 80 %)  (${all.seconds.toFixed(1)} s)  [${all.rules} rules, ${all.alerts} alerts]`);
  log(`  peak RSS ${out.peak_rss_mb} MB, state on disk ${(out.state_bytes / 1e6).toFixed(2)} MB; enrichment off (enrichment fields absent, no user baselines)`);
  log(`pipeline + enrichment     ${n(out.enriched_pipeline_events_per_s).padStart(15)}  ${n(cpuRate(enriched)).padStart(12)}   +${pct(out.enrichment_overhead)}; +${pct(out.enrichment_overhead_cpu)} over all rules (goal: < 20 %)  (${enriched.seconds.toFixed(1)} s)  [MMDB, lists, baselines: ${enriched.baseline_rules} rules read them, ${enriched.baseline_updates} sign-ins learned; ${enriched.alerts} alerts; peak RSS ${enriched.max_rss_mb} MB]`);
  log(`enrichment, every event   ${out.enrichment_us_per_event} µs/event (${out.enrichment_cpu_us_per_event} CPU)  (the oktopus, ECS and Panther blocks of the first ${n(every.n)} events, all parts computed; parsing not counted)`);
  log('');
  log(`${`on the first ${n(detailParse.n)} events:`.padEnd(51)}events/s (wall)  events/CPU-s   of parse-only (wall; CPU)`);
  log(`  ${'parse only'.padEnd(48)} ${n(detailParseRate).padStart(9)}  ${n(cpuRate(detailParse)).padStart(12)}`);
  log(`  ${'pipeline, no rules'.padEnd(48)} ${n(out.no_rules_pipeline_events_per_s).padStart(9)}  ${n(cpuRate(none)).padStart(12)}   ${pct(out.no_rules_ratio)}; ${pct(out.no_rules_ratio_cpu)}  (adapters, duplicate ids, reorder window, SQLite checkpoints)`);
  for (const [g, r] of Object.entries(dialectRows)) {
    log(`  ${`${GROUP_LABELS[g as RuleGroup]} alone`.padEnd(48)} ${n(r.events_per_s).padStart(9)}  ${n(r.events_per_cpu_s).padStart(12)}   ${pct(r.ratio)}; ${pct(r.ratio_cpu)}  [${r.rules} rules, ${r.us_per_event_per_rule} CPU-µs/event/rule, ${r.alerts} alerts, peak RSS ${r.peak_rss_mb} MB]`);
  }
  log(`  (CPU-µs/event/rule: the CPU time a group adds over the pipeline without rules, per event, per rule; all rules: ${out.us_per_event_per_rule})`);
  if (out.jq) {
    log(`  ${'jq, the seed Sigma rule\'s condition'.padEnd(48)} ${n(out.jq.jq_events_per_s).padStart(9)}  ${n(out.jq.jq_events_per_cpu_s).padStart(12)}`);
    log(`  ${'oktopus, that one rule'.padEnd(48)} ${n(out.jq.oktopus_events_per_s).padStart(9)}  ${n(out.jq.oktopus_events_per_cpu_s).padStart(12)}   = ${out.jq.ratio}× jq; ${out.jq.ratio_cpu}× jq per CPU-s`);
    log(`  ${''.padEnd(48)} matches: jq ${out.jq.jq_matches}, oktopus ${out.jq.oktopus_matches}${out.jq.same_matches ? ' (the same)' : ' (DIFFERENT)'}`);
  } else log(`  jq: not run (${jq.ran ? '' : jq.reason})`);
  log(`  Python EQL reference engine: not run (${eql})`);
  log(`(${out.seconds_total} s in all)`);
}

/** Copies the first `lines` lines of `from` into `to`. */
async function copyFirstLines(from: string, to: string, lines: number): Promise<void> {
  const out = createWriteStream(to);
  let left = lines;
  for await (const chunk of createReadStream(from) as AsyncIterable<Buffer>) {
    let at = 0;
    while (left > 0) {
      const nl = chunk.indexOf(10, at);
      if (nl < 0) break;
      at = nl + 1;
      left--;
    }
    const piece = left > 0 ? chunk : chunk.subarray(0, at);
    if (!out.write(piece)) await once(out, 'drain');
    if (left === 0) break;
  }
  out.end();
  await once(out, 'finish');
}

type JqRun = { ran: true; seconds: number; cpuSeconds: number; matches: number } | { ran: false; reason: string };

/**
 * jq over the file with the seed Sigma rule's condition, counting matches. It runs under bash so
 * that bash's `times` reports jq's CPU time (user and system) on the line after the count.
 */
function runJq(file: string): Promise<JqRun> {
  return new Promise((resolveRun) => {
    const t0 = process.hrtime.bigint();
    const script = 'jq -n "$0" "$1" || exit $?; times';
    const child = spawn('bash', ['-c', script, JQ_PROGRAM, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolveRun({ ran: false, reason: `jq could not be started: ${e.message}` }));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      // stdout: the count, then `times`: the shell's user/system times, then its children's.
      const lines = out.trim().split('\n');
      const matches = Number(lines[0]);
      const children = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[2] ?? '');
      if (code !== 0 || !Number.isInteger(matches) || !children) {
        const why = code === 127 ? 'jq is not installed' : `jq exited with code ${code}: ${err.trim().split('\n')[0] ?? out.slice(0, 100)}`;
        return resolveRun({ ran: false, reason: why });
      }
      const [, um, us, sm, ss] = children.map(Number) as [number, number, number, number, number];
      resolveRun({ ran: true, seconds, cpuSeconds: um * 60 + us + sm * 60 + ss, matches });
    });
  });
}

/**
 * Why the Python EQL reference engine is not compared. The seed sequence
 * (rules/elastic/initial_access_okta_alerts_following_unusual_proxy_authentication.toml) reads
 * alerts of another rule, which that engine does not produce; and it must first be importable.
 */
function eqlReference(): string {
  let importable = false;
  let why = '';
  try {
    execFileSync('python3', ['-c', 'import eql'], { stdio: ['ignore', 'ignore', 'pipe'] });
    importable = true;
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
    why = stderr || (e as Error).message;
  }
  const alerts = 'the seed sequence reads alerts of another rule (kibana.alert.rule.rule_id), which the Python engine does not produce';
  return importable ? alerts : `python3 cannot import eql (${why}; pip install eql); also, ${alerts}`;
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
