/**
 * What the benchmark scripts share: their flags, the cached input file (named by a fingerprint of
 * the generator, so a stale cache is never reused), the rule sets and their dialect groups, and
 * the child process each measured run happens in (`run-one.ts`), so that every run's peak RSS is
 * its own and not the accumulated memory of the benchmark process.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { RuleIR, UnsupportedRule } from '../src/ir/types.js';
import { benchTenantOptions } from './generate.js';

/** The project root (this file is `<root>/<build dir>/bench/common.js` once compiled). */
export const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bump when the benchmark input changes in a way the compiled simulator does not show (the
 * sizing in generate.ts is part of the fingerprint through its compiled file anyway).
 */
export const GENERATOR_VERSION = 2;

/** Sigma placeholders the corpus rules need (`%legtimate_identifiers%` in one Sigma rule). */
export const PLACEHOLDERS = { legtimate_identifiers: ['@example.com'] };

export class BenchArgError extends Error {}

export interface FlagSpec {
  /** Flags taking a positive whole number. */
  counts: string[];
  /** Flags without a value. */
  switches: string[];
}

/**
 * `--name value` / `--name=value` flags; every value is checked and the first bad one is
 * reported in one line (`--events must be a positive whole number, got "x"`).
 */
export function parseFlags(argv: string[], spec: FlagSpec): { counts: Map<string, number>; switches: Set<string> } {
  const counts = new Map<string, number>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (spec.switches.includes(name)) {
      if (eq > 0) throw new BenchArgError(`${name} takes no value, got "${a.slice(eq + 1)}" (argument ${i + 1})`);
      switches.add(name);
      continue;
    }
    if (!spec.counts.includes(name)) {
      const known = [...spec.counts.map((c) => `${c} N`), ...spec.switches].join(', ');
      throw new BenchArgError(`unknown argument "${a}" (argument ${i + 1}); known: ${known}`);
    }
    const raw = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new BenchArgError(`${name} needs a value (argument ${i})`);
    const n = Number(raw.replace(/_/g, ''));
    if (!/^[0-9_]+$/.test(raw) || !Number.isSafeInteger(n) || n <= 0) {
      throw new BenchArgError(`${name} must be a positive whole number, got "${raw}"`);
    }
    counts.set(name, n);
  }
  return { counts, switches };
}

/** A hash of the compiled simulator and generator, the sizing for N events, and GENERATOR_VERSION. */
export function generatorFingerprint(events: number, seed: number): string {
  const h = createHash('sha256');
  h.update(`v${GENERATOR_VERSION}\n${JSON.stringify(benchTenantOptions(events, seed))}\n`);
  const simulate = fileURLToPath(new URL('../src/simulate/', import.meta.url));
  for (const name of readdirSync(simulate).filter((n) => n.endsWith('.js')).sort()) {
    h.update(`${name}\n`).update(readFileSync(join(simulate, name)));
  }
  h.update(readFileSync(fileURLToPath(new URL('./generate.js', import.meta.url))));
  return h.digest('hex').slice(0, 12);
}

/** The cache file for N events: `tenant-N-SEED-FINGERPRINT.ndjson`. */
export function cacheFileName(events: number, seed: number, fingerprint: string): string {
  return `tenant-${events}-${seed}-${fingerprint}.ndjson`;
}

/** The first `first` events of the cache file for N events (the per-dialect rows' input). */
export function prefixFileName(events: number, seed: number, fingerprint: string, first: number): string {
  return `tenant-${events}-${seed}-${fingerprint}.first-${first}.ndjson`;
}

/** Cached files (and their prefixes) of an older generator for the same N and seed: to be removed. */
export function staleCacheFiles(names: string[], events: number, seed: number, fingerprint: string): string[] {
  const prefix = `tenant-${events}-${seed}-`;
  return names.filter((n) => {
    if (!n.startsWith(prefix)) return false;
    const m = /^([0-9a-f]{12})(\.first-[0-9]+)?\.ndjson(\.partial)?$/.exec(n.slice(prefix.length));
    return m !== null && (m[1] !== fingerprint || m[3] !== undefined);
  });
}

/**
 * The rule groups costed separately. Elastic rules are split by language: `eql` rules are EQL,
 * `query`, `new_terms` and `threshold` rules are KQL (the Okta rules' language).
 */
export type RuleGroup = 'sigma' | 'kql' | 'eql' | 'panther';
export const RULE_GROUPS: readonly RuleGroup[] = ['sigma', 'kql', 'eql', 'panther'];
export const GROUP_LABELS: Record<RuleGroup, string> = {
  sigma: 'Sigma',
  kql: 'Elastic KQL (query, new_terms, threshold)',
  eql: 'Elastic EQL',
  panther: 'Panther',
};

export function ruleGroup(rule: Pick<RuleIR, 'dialect' | 'ruleType'>): RuleGroup {
  if (rule.dialect === 'sigma') return 'sigma';
  if (rule.dialect === 'panther') return 'panther';
  if (rule.dialect === 'elastic') return rule.ruleType === 'eql' ? 'eql' : 'kql';
  throw new Error(`rule dialect "${rule.dialect}" has no benchmark group`);
}

/** Which rules a run loads: all, none (the pipeline's own cost), one group, or one rule by id. */
export type RuleSelection = 'all' | 'none' | RuleGroup | { id: string };

export function selectRules(rules: RuleIR[], sel: RuleSelection): RuleIR[] {
  if (sel === 'all') return rules;
  if (sel === 'none') return [];
  if (typeof sel === 'string') return rules.filter((r) => ruleGroup(r) === sel);
  return rules.filter((r) => r.id === sel.id);
}

/**
 * The rule folders: the built-in rules, then the vendors' Okta rules in ../shared/corpus when
 * present (Sigma, Elastic, Panther). Absent corpus folders are named in `absent`.
 */
export function rulePaths(): { paths: string[]; absent: string[] } {
  const paths = [join(root, 'rules')];
  const absent: string[] = [];
  for (const d of ['sigma', 'elastic', 'panther']) {
    const p = resolve(root, '..', 'shared', 'corpus', d);
    if (existsSync(p)) paths.push(p);
    else absent.push(`../shared/corpus/${d}`);
  }
  return { paths, absent };
}

/** Rules that did not load, counted by reason (`not supported: elastic/esql` → 10). */
export function leftOut(unsupported: UnsupportedRule[]): { reason: string; rules: number }[] {
  const by = new Map<string, number>();
  for (const u of unsupported) {
    // One line per kind of reason: the per-rule detail (a body file, an ML job name) is dropped.
    const reason = `${u.dialect}/${u.ruleType}: ${u.reason.replace(/\s*\(.*$/, '').replace(/^no rule body: .*$/, 'no rule body (Python body not in the corpus)')}`;
    by.set(reason, (by.get(reason) ?? 0) + 1);
  }
  return [...by].map(([reason, rules]) => ({ reason, rules })).sort((a, b) => b.rules - a.rules || a.reason.localeCompare(b.reason));
}

/** actor.alternateId of a serialised LogEvent (the generator writes `actor` with it inside). */
export function actorLogin(line: string): string | undefined {
  const actor = line.indexOf('"actor":{');
  if (actor < 0) return undefined;
  const key = '"alternateId":"';
  const start = line.indexOf(key, actor);
  const close = line.indexOf('}', actor);
  if (start < 0 || (close >= 0 && close < start)) return undefined;
  const end = line.indexOf('"', start + key.length);
  return line.slice(start + key.length, end);
}

export type EnrichMode = 'off' | 'okta' | 'full';

/** One measured run, done by `run-one.js` in its own process. */
export type ChildSpec =
  | { mode: 'parse'; input: string }
  | { mode: 'enrich'; input: string; limit: number }
  | { mode: 'pipeline'; input: string; rules: RuleSelection; paths: string[]; enrich: EnrichMode; sampleEvery?: number }
  | { mode: 'generate'; events: number; seed: number; usersEvery: number };

/** What a child prints last (one JSON line). */
export interface ChildResult {
  type: 'result';
  /** Events processed (for `generate`: written). */
  n: number;
  /** Time of the measured part (not process start nor rule loading). */
  seconds: number;
  /**
   * CPU time of the measured part (user + system, all threads, garbage collector included): on a
   * shared machine, what the run cost whatever else was running.
   */
  cpu_seconds: number;
  /** `process.resourceUsage().maxRSS` of the child at its end, in MB. */
  max_rss_mb: number;
  rules: number;
  /** Rules run, per group (pipeline runs). */
  rule_groups?: Partial<Record<RuleGroup, number>>;
  alerts: number;
  state_bytes: number;
  /** Pipeline runs: where the state's bytes are at the end. */
  state?: StateBreakdown;
  baseline_updates: number;
  baseline_rules: number;
}

/**
 * Where the state's bytes are: pages of the SQLite file per part (SQLite's dbstat, tables with
 * their indexes), and the largest state namespaces (rows, bytes of keys and values).
 */
export interface StateBreakdown {
  /** Stored alerts (the `alerts` table and its indexes). */
  alerts_bytes: number;
  /** Rule, stage, engine and baseline state (the `state` table and its index). */
  rule_state_bytes: number;
  /** Input positions and engine buffers (`checkpoints`), and the rest (meta, free pages). */
  other_bytes: number;
  /** The WAL file not yet checkpointed into the database. */
  wal_bytes: number;
  top_namespaces?: { ns: string; rows: number; bytes: number }[];
}

/** A progress sample of a pipeline child (every `sampleEvery` events). */
export interface PipelineSample {
  type: 'sample';
  events: number;
  /** Scan time so far, without the time the samples took. */
  seconds: number;
  rss_mb: number;
  max_rss_mb: number;
  heap_used_mb: number;
  state_bytes: number;
  state: StateBreakdown;
  alerts: number;
}

/** A sample of the generator: distinct users (actor.alternateId) among the first `events`. */
export interface UsersSample {
  type: 'users';
  events: number;
  distinct_users: number;
}

export interface ChildHandle {
  result: Promise<ChildResult>;
  /** The child's stdout when it carries data (`dataOnStdout`), for another child's stdin. */
  data?: Readable;
}

/**
 * Starts `run-one.js` with a spec. It reports in JSON lines (samples, then its result) on its
 * stdout, or on fd 3 when its stdout carries data (`dataOnStdout`: the generator); stderr goes to
 * ours. `stdin` may be another child's data (a pipe between the two processes).
 */
export function startChild(
  spec: ChildSpec,
  opts: { stdin?: Readable; dataOnStdout?: boolean; onMessage?: (msg: PipelineSample | UsersSample) => void } = {},
): ChildHandle {
  const script = fileURLToPath(new URL('./run-one.js', import.meta.url));
  const stdio: StdioOptions = [opts.stdin ?? 'ignore', 'pipe', 'inherit'];
  if (opts.dataOnStdout) stdio.push('pipe');
  const child = spawn(process.execPath, [script, JSON.stringify(spec)], { stdio });
  const reports = (opts.dataOnStdout ? child.stdio[3] : child.stdout) as Readable;
  const result = new Promise<ChildResult>((resolveResult, reject) => {
    let last: ChildResult | undefined;
    let bad: string | undefined;
    createInterface({ input: reports }).on('line', (line) => {
      let msg: ChildResult | PipelineSample | UsersSample;
      try {
        msg = JSON.parse(line) as ChildResult | PipelineSample | UsersSample;
      } catch {
        bad ??= line.slice(0, 200);
        return;
      }
      if (msg.type === 'result') last = msg;
      else opts.onMessage?.(msg);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`the ${spec.mode} run ended with ${signal ?? `exit code ${code}`}`));
      if (bad !== undefined) return reject(new Error(`the ${spec.mode} run printed a line that is not JSON: ${bad}`));
      if (!last) return reject(new Error(`the ${spec.mode} run printed no result`));
      resolveResult(last);
    });
  });
  return { result, data: opts.dataOnStdout ? child.stdout! : undefined };
}

/** Runs one child to its end. */
export function runChild(spec: ChildSpec, onMessage?: (msg: PipelineSample | UsersSample) => void): Promise<ChildResult> {
  return startChild(spec, { onMessage }).result;
}

/** events/s, rounded. */
export const rate = (r: { n: number; seconds: number }): number => Math.round(r.n / r.seconds);
/** events per CPU-second, rounded. */
export const cpuRate = (r: { n: number; cpu_seconds: number }): number => Math.round(r.n / r.cpu_seconds);

/** The core count and the first CPU's model, for the record. */
export function machine(): { cpus: number; cpu_model: string } {
  const list = cpus();
  return { cpus: availableParallelism(), cpu_model: list[0]?.model.trim() || 'unknown' };
}
