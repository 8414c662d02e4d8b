/**
 * `oktopus simulate`: a realistic Okta tenant's System Log, deterministic from a seed
 * (src/simulate, docs/simulate.md).
 *
 *   oktopus simulate [--users N] [--days N] [--seed N] [--start YYYY-MM-DD] [--org NAME]
 *     [--scenarios a,b|all|none] [--out FILE|-] [--truth FILE] [--directory FILE]
 *
 * The log is streamed (NDJSON, gzip when FILE ends in .gz) with backpressure, so memory stays
 * flat whatever the size; the ground truth (`oktopus-truth/2`) and the user directory (users.csv
 * as `oktopus users import` reads it) are computed without generating the log. One summary line
 * goes to stderr. Exit code: 0 written, 1 a file could not be written, 2 a bad flag value.
 */
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SCENARIO_IDS, type ScenarioId, type TenantOptions } from '../simulate/tenant.js';
import { directoryCsv, truthJson, writeTenantLog } from '../simulate/output.js';
import { err } from './common.js';

export interface SimulateFlags {
  users: string;
  days: string;
  seed: string;
  start: string;
  org: string;
  scenarios: string;
  out: string;
  truth?: string;
  directory?: string;
}


class FlagError extends Error {}

function whole(flag: string, value: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new FlagError(`${flag}: expected a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

function startDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value) throw new FlagError(`--start: expected a date YYYY-MM-DD, got '${value}'`);
  return value;
}

function orgName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(value)) throw new FlagError(`--org: expected an Okta subdomain (letters, digits, '-'), got '${value}'`);
  return value.toLowerCase();
}

/** 'all' | 'none' | a comma-separated list of scenario ids. */
export function parseScenarios(value: string): ScenarioId[] {
  const v = value.trim();
  if (v === 'all') return [...SCENARIO_IDS];
  if (v === 'none' || v === '') return [];
  const out: ScenarioId[] = [];
  v.split(',').forEach((raw, i) => {
    const id = raw.trim();
    if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new FlagError(`--scenarios: unknown scenario '${id}' (item ${i + 1}); known: ${SCENARIO_IDS.join(', ')}, or all, none`);
    if (!out.includes(id as ScenarioId)) out.push(id as ScenarioId);
  });
  // The generator's order, whatever the order given.
  return SCENARIO_IDS.filter((id) => out.includes(id));
}

/**
 * The largest --users. Each local day is planned for every user before it is written, so memory
 * grows with the population (not with days or events): measured peak RSS for one day, default
 * heap — 5,000 users 249 MB, 20,000 users 587 MB, 50,000 users 1.33 GB, 100,000 users 2.3 GB
 * (docs/simulate.md). 20,000 keeps a run well under 1 GB; more events come from more days.
 */
export const MAX_USERS = 20_000;

export function simulateOptions(flags: SimulateFlags): TenantOptions {
  const scenarios = parseScenarios(flags.scenarios);
  return {
    users: whole('--users', flags.users, 1, MAX_USERS),
    days: whole('--days', flags.days, 1, 3660),
    seed: whole('--seed', flags.seed, -(2 ** 31), 2 ** 32 - 1),
    start: startDate(flags.start),
    org: orgName(flags.org),
    attacks: scenarios.length > 0,
    scenarios,
  };
}

export async function simulateCommand(flags: SimulateFlags): Promise<number> {
  let opts: TenantOptions;
  try {
    opts = simulateOptions(flags);
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.out !== '-' && !/\.(ndjson|jsonl)(\.gz)?$/i.test(flags.out)) {
    err(`error: --out: expected a .ndjson or .ndjson.gz file name (or - for stdout), got '${flags.out}'`);
    return 2;
  }
  // Every output is opened before anything is written, and a failure removes the files this run
  // created: no truth without its log, no half-written log left behind.
  const created: string[] = [];
  const fail = (flag: string, file: string, e: unknown): number => {
    err(`error: ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    for (const f of created) rmSync(f, { force: true });
    return 1;
  };
  let fd: number | undefined;
  if (flags.out !== '-') {
    try {
      fd = openSync(flags.out, 'w');
      created.push(flags.out);
    } catch (e) {
      return fail('--out', flags.out, e);
    }
  }
  const write = (flag: string, file: string, text: () => string): boolean => {
    try {
      writeFileSync(file, text());
      created.push(file);
      return true;
    } catch (e) {
      fail(flag, file, e);
      return false;
    }
  };
  // Truth and directory before the log: they are cheap, and a bad path fails before the long write.
  if ((flags.truth && !write('--truth', flags.truth, () => truthJson(opts))) || (flags.directory && !write('--directory', flags.directory, () => directoryCsv(opts)))) {
    if (fd !== undefined) closeSync(fd);
    return 1;
  }
  const t0 = process.hrtime.bigint();
  let stats;
  try {
    stats = await writeTenantLog(opts, flags.out, { fd });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return 141;
    return fail('--out', flags.out, e);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const end = new Date(Date.parse(`${opts.start}T00:00:00Z`) + opts.days * 86_400_000).toISOString().slice(0, 10);
  err(
    `simulate: ${stats.events} events (${(stats.bytes / 1e6).toFixed(1)} MB NDJSON) for ${opts.org}: ${opts.users} users, ${opts.start} – ${end}, ` +
      `seed ${opts.seed}, scenarios ${opts.scenarios!.length ? opts.scenarios!.join(',') : 'none'} → ${flags.out === '-' ? 'stdout' : flags.out}` +
      `${flags.truth ? `, truth ${flags.truth}` : ''}${flags.directory ? `, directory ${flags.directory}` : ''} in ${s.toFixed(1)} s`,
  );
  return 0;
}

export function registerSimulateCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description('generate a realistic Okta tenant System Log with labelled attack scenarios, deterministic from a seed (docs/simulate.md)')
    .option('--users <n>', `number of employees (at most ${MAX_USERS.toLocaleString('en-US')}: memory grows with it; more days make more events)`, '200')
    .option('--days <n>', 'length of the window in days', '14')
    .option('--seed <n>', 'random seed: the same seed gives the same log, byte for byte', '42')
    .option('--start <date>', 'first UTC day of the window (YYYY-MM-DD)', '2026-11-02')
    .option('--org <name>', 'Okta org subdomain (logins are first.last@NAME.com)', 'acme')
    .option('--scenarios <list>', `attack scenarios: all, none, or a comma-separated list of ${SCENARIO_IDS.join(', ')}`, 'all')
    .option('--out <file>', "System Log output: .ndjson, or .ndjson.gz for gzip; '-' for stdout", '-')
    .option('--truth <file>', 'write the ground truth (oktopus-truth/2 JSON) to this file')
    .option('--directory <file>', 'write the user directory (users.csv for `oktopus users import` / `scan --users`)')
    .action(async (flags: SimulateFlags) => setExit(await simulateCommand(flags)));
}
