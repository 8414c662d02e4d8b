#!/usr/bin/env node
/**
 * The `oktopus` command line.
 *   oktopus scan FILES... [--rules PATH]... [--format table|ndjson] [--state PATH]
 *   oktopus explain RULE [--rules PATH]... [--json]
 *   oktopus rules list [--rules PATH]... [--json]
 *   oktopus intel import [FILE] --kind tor|apple-relay|vpn|hosting|asn [--category C] [--refresh [URL]]
 *   oktopus intel list
 *   oktopus users import FILE | users sync --org URL
 *   oktopus test [PATHS...] [--junit FILE]
 *   oktopus watch --org URL [--once] | backfill --org URL --since T [--until T]   (src/cli/live-commands.ts)
 *   oktopus serve [--port N]                                                      (src/cli/serve-command.ts)
 * Exit codes: 0 ok, 1 alerts found with --fail-on-alert, 2 usage or input errors.
 */
import { Command, CommanderError, Option } from 'commander';
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules, type LoadedRules } from '../rules/load.js';
import { runScan } from '../pipeline/scan.js';
import { SqliteStore } from '../store/sqlite.js';
import { MemoryStore } from '../store/memory.js';
import type { StateStore } from '../store/types.js';
import type { SchemaContext } from '../schema/index.js';
import { Progress } from '../sinks/progress.js';
import { explain, renderExplanation } from '../explain/explain.js';
import { loadConfig, type Config } from './config.js';
import { walkFiles } from '../util/walk.js';
import { applyNoCode, applyPythonFlags, noCodeOption, pythonPathOption, pythonTimeoutOption, registerTestCommand, setRuleRoots } from './test-command.js';
import { registerServeCommand } from './serve-command.js';
import { EnrichInputError } from '../enrich/errors.js';
import { describeVersion, intelImport, intelList, usersImport } from '../enrich/commands.js';
import { enrichmentFor, type EnrichmentFlags } from './enrichment.js';
import { alertSinks } from './sinks.js';
import { INTEL_NS } from '../enrich/intel.js';
import { USERS_NS } from '../enrich/users.js';
import type { Json } from '../event/types.js';
import { registerLiveCommands } from './live-commands.js';
import { applyExceptionFiles, exceptionSummary, exceptionsOption } from '../exceptions/apply.js';
import { registerEvaluateCommand } from './evaluate-command.js';
import { registerSimulateCommand } from './simulate-command.js';
import { collect, err, normaliseOrg, reorderWindowMs, UsageError } from './common.js';

export const BUILTIN_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));
export const DEFAULT_STATE = join('.oktopus', 'state.sqlite');


function parsePlaceholders(specs: string[] | undefined, fromConfig: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = { ...(fromConfig ?? {}) };
  for (const spec of specs ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--placeholder expects name=value[,value…], got: ${spec}`);
    out[spec.slice(0, eq)] = spec.slice(eq + 1).split(',');
  }
  return out;
}

async function load(paths: string[] | undefined, config: Config, placeholders?: Record<string, string[]>, exceptions?: string[]): Promise<LoadedRules> {
  const rulePaths = paths?.length ? paths : config.rules?.length ? config.rules : [BUILTIN_RULES];
  setRuleRoots(rulePaths); // Panther bodies must sit below these, the YAML's folder or --bodies
  const loaded = await loadRules(rulePaths, { placeholders: placeholders ?? config.placeholders });
  for (const e of loaded.errors) err(`error: ${e.message}`);
  // Exception lists (docs/exceptions.md): --exceptions, else the config's `exceptions:`.
  const withLists = await applyExceptionFiles(loaded, exceptions?.length ? exceptions : (config.exceptions ?? []), (w) => err(`warning: ${w}`));
  for (const e of withLists.errors.slice(loaded.errors.length)) err(`error: ${e.message}`);
  return withLists;
}

/** Files a folder given as input contributes: exported logs, compressed or not. */
const INPUT_ENDINGS = ['.json', '.ndjson', '.jsonl', '.log', '.gz'];

/**
 * Inputs: files (any name), `-` for stdin, folders (their log files, sorted, recursively).
 * A folder entry that cannot be read (a dangling link, a loop) is reported and skipped.
 */
function expandInputs(inputs: string[]): string[] {
  const out: string[] = [];
  const visited = new Set<string>();
  const walk = {
    accept: (name: string) => INPUT_ENDINGS.some((e) => name.toLowerCase().endsWith(e)),
    onError: (path: string, reason: string) => err(`warning: ${path}: ${reason}; skipped`),
  };
  for (const p of inputs) {
    if (p === '-') out.push(p);
    else if (!existsSync(p)) throw new UsageError(`${p}: no such file or folder`);
    else if (statSync(p).isDirectory()) walkFiles(p, walk, out, visited);
    else out.push(p);
  }
  if (inputs.length > 0 && out.length === 0) throw new UsageError(`no log files (${INPUT_ENDINGS.join(', ')}) in ${inputs.join(', ')}`);
  return out;
}

/**
 * Reference data kept in the state file but not part of a scan's state: imported anonymizer
 * lists and the user directory. `--fresh` forgets what scans learned, not what the user
 * imported; `--memory` starts from nothing but still reads them.
 */
const REFERENCE_NAMESPACES = [INTEL_NS, USERS_NS];

function readReference(path: string): [string, string, Json][] {
  if (!existsSync(path)) return [];
  const old = new SqliteStore(path);
  try {
    return REFERENCE_NAMESPACES.flatMap((ns) => [...old.entries(ns)].map(([k, v]) => [ns, k, v] as [string, string, Json]));
  } finally {
    old.close();
  }
}

function writeReference(store: StateStore, rows: [string, string, Json][]): StateStore {
  if (rows.length > 0) store.transaction(() => rows.forEach(([ns, k, v]) => store.set(ns, k, v)));
  return store;
}

function openStore(opts: { state?: string; memory?: boolean; fresh?: boolean }, config: Config): StateStore {
  const path = opts.state ?? config.state ?? DEFAULT_STATE;
  if (opts.memory) {
    let rows: [string, string, Json][] = [];
    try {
      rows = readReference(path);
    } catch {
      // An unreadable state file has no reference data to offer a run that keeps nothing.
    }
    return writeReference(new MemoryStore(), rows);
  }
  if (!opts.fresh) return new SqliteStore(path);
  const keep = readReference(path);
  for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  return writeReference(new SqliteStore(path), keep);
}

interface ScanFlags extends EnrichmentFlags {
  rules?: string[];
  exceptions?: string[];
  format: string;
  output?: string;
  alertsDb?: string;
  state?: string;
  memory?: boolean;
  closeWindows?: boolean;
  fresh?: boolean;
  org?: string;
  strict?: boolean;
  failOnAlert?: boolean;
  timeField?: string;
  reorderWindow?: string;
  duplicateWindow?: string;
  batchSize?: string;
  placeholder?: string[];
  config?: string;
}

/** Bad records, one line each, but at most 20 per input file (a wrong file can have millions). */
class BadRecordReport {
  private perFile = new Map<string, number>();
  constructor(private readonly write: (line: string) => void, private readonly limit = 20) {}
  report(line: string): void {
    const file = line.replace(/:\d+: .*$/s, '');
    const n = (this.perFile.get(file) ?? 0) + 1;
    this.perFile.set(file, n);
    if (n <= this.limit) this.write(`bad record: ${line}`);
  }
  finish(): void {
    for (const [file, n] of this.perFile) {
      if (n > this.limit) this.write(`bad record: ${file}: ${n - this.limit} more bad records not shown (${n} in all)`);
    }
  }
}

async function scanCommand(inputs: string[], flags: ScanFlags): Promise<number> {
  const config = loadConfig(flags.config);
  if (inputs.length === 0) throw new UsageError('scan needs at least one input file (or - for standard input)');
  const files = expandInputs(inputs);
  if (!['table', 'ndjson'].includes(flags.format)) throw new UsageError(`--format must be table or ndjson, got: ${flags.format}`);
  const reorderMs = reorderWindowMs(flags.reorderWindow, config);

  let dedupHorizonMs: number | undefined;
  if (flags.duplicateWindow !== undefined) {
    const h = Number(flags.duplicateWindow);
    if (!Number.isFinite(h) || h < 0) throw new UsageError(`--duplicate-window expects hours (a number >= 0), got: ${flags.duplicateWindow}`);
    dedupHorizonMs = h * 3_600_000;
  }
  let batchSize: number | undefined;
  if (flags.batchSize !== undefined) {
    batchSize = Number(flags.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size expects a whole number >= 1, got: ${flags.batchSize}`);
  }
  const placeholders = parsePlaceholders(flags.placeholder, config.placeholders);
  applyPythonFlags(flags); // --python-path, --python-timeout (Python rule bodies)
  const loaded = await load(flags.rules, config, placeholders, flags.exceptions);
  const schema: SchemaContext = { org: normaliseOrg(flags.org ?? process.env['OKTOPUS_ORG'] ?? config.org) };
  if (!flags.quiet) {
    const unsupported = loaded.unsupported.filter((u) => u.status === 'unsupported');
    const notOkta = loaded.unsupported.length - unsupported.length;
    err(`loaded ${loaded.rules.length} rules from ${loaded.files} files` + (unsupported.length ? `; ${unsupported.length} cannot run yet` : '') + (notOkta ? `; ${notOkta} are not for Okta` : ''));
    for (const u of unsupported) err(`  not run: ${u.name} (${u.id}): ${u.reason}`);
    for (const r of loaded.rules.filter((x) => !x.enabled)) err(`  not run: ${r.name} (${r.id}): disabled by the rule itself (${r.file})`);
  }

  const badRecords = new BadRecordReport(err);
  const store = openStore(flags, config);
  try {
    // Enrichment sources, once per run (docs/enrichment.md).
    schema.enrichment = enrichmentFor(store, flags, config, err, { withUsers: true, runName: 'scan' });
    if (!flags.quiet) for (const line of schema.enrichment.describe()) err(`enrichment: ${line}`);
  } catch (e) {
    store.close();
    throw e;
  }
  const sinks = alertSinks(flags);

  let result;
  try {
    result = await runScan({
      inputs: files,
      rules: loaded.rules,
      store,
      schema,
      sinks,
      strict: flags.strict,
      timeField: flags.timeField ?? config.timeField,
      reorderWindowMs: reorderMs,
      batchSize,
      engine: dedupHorizonMs === undefined ? undefined : { dedupHorizonMs },
      onBadRecord: (line) => badRecords.report(line),
      onNote: (line) => (flags.quiet ? undefined : err(line)),
      progress: new Progress(),
      closeWindows: flags.memory === true || flags.closeWindows === true,
    });
  } finally {
    store.close();
  }
  badRecords.finish();
  if (!flags.quiet) for (const line of exceptionSummary(result.engine.exceptionCounts())) err(line);
  for (const u of result.engine.unsupported) err(`error: ${u.file}: rule ${u.id}: ${u.reason}`);
  for (const s of sinks) s.finish?.(result.summary);
  for (const s of sinks) await s.close();
  if (flags.format === 'ndjson' && !flags.quiet) {
    err(`${result.summary.events} events, ${result.summary.alerts} new alerts` + (result.badRecords ? `, ${result.badRecords} bad records skipped` : ''));
  }
  if (result.fatal) {
    err(`error: ${result.fatal} (--strict)`);
    return 2;
  }
  if (result.summary.events === 0 && result.badRecords > 0) {
    err(`error: none of the ${result.badRecords} records could be used (wrong --time-field, or not Okta System Log data?)`);
    return 2;
  }
  if (loaded.errors.length > 0 || result.engine.unsupported.length > 0) return 2;
  if (flags.failOnAlert && result.summary.alerts > 0) return 1;
  return 0;
}

async function explainCommand(rule: string, flags: { rules?: string[]; exceptions?: string[]; json?: boolean; config?: string }): Promise<number> {
  const config = loadConfig(flags.config);
  const isFile = existsSync(rule);
  const paths = flags.rules?.length ? flags.rules : config.rules?.length ? config.rules : [BUILTIN_RULES];
  const all = await load(isFile ? [...paths, rule] : paths, config, undefined, flags.exceptions);
  const target = isFile ? resolve(rule) : undefined;
  const matches = all.rules.filter((r) => (target ? resolve(r.file) === target : r.id === rule || r.name === rule));
  const unsupported = all.unsupported.filter((r) => (target ? resolve(r.file) === target : r.id === rule || r.name === rule));
  if (matches.length === 0 && unsupported.length === 0) {
    if (target && all.errors.some((e) => resolve(e.file) === target)) return 2;
    throw new UsageError(`no loaded rule is ${isFile ? 'in' : 'named'} ${rule}`);
  }
  const explanations = matches.map((r) => explain(r, all.rules));
  if (flags.json) {
    process.stdout.write(JSON.stringify({ rules: explanations, unsupported }, null, 2) + '\n');
  } else {
    for (const e of explanations) process.stdout.write(renderExplanation(e) + '\n');
    for (const u of unsupported) process.stdout.write(`${u.name}\n  id ${u.id} · ${u.dialect}/${u.ruleType}\n  file ${u.file}\n  ${u.status === 'not-applicable' ? 'not for Okta' : 'cannot run'}: ${u.reason}\n\n`);
  }
  return 0;
}

async function listCommand(flags: { rules?: string[]; exceptions?: string[]; json?: boolean; config?: string }): Promise<number> {
  const config = loadConfig(flags.config);
  const all = await load(flags.rules, config, undefined, flags.exceptions);
  const rows = all.rules.map((r) => {
    const e = explain(r);
    return { id: r.id, name: r.name, dialect: r.dialect, type: r.ruleType, severity: r.severity, status: r.enabled ? 'ok' : 'disabled', eventTypes: e.eventTypes, exceptions: r.exceptions?.length ?? 0, file: r.file };
  });
  const unsupported = all.unsupported.map((u) => ({ id: u.id, name: u.name, dialect: u.dialect, type: u.ruleType, status: u.status, reason: u.reason, file: u.file }));
  if (flags.json) {
    process.stdout.write(JSON.stringify({ rules: rows, unsupported, errors: all.errors }, null, 2) + '\n');
    return all.errors.length ? 2 : 0;
  }
  const line = (cols: string[], widths: number[]) => cols.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  const w = [10, 10, 13, 58];
  process.stdout.write(line(['DIALECT', 'TYPE', 'SEVERITY', 'NAME', 'EVENT TYPES'], w) + '\n');
  for (const r of rows) {
    const types = r.eventTypes === 'any' ? 'any' : r.eventTypes.join(', ');
    const exc = r.exceptions > 0 ? ` [${r.exceptions} exception${r.exceptions > 1 ? 's' : ''}]` : ''; // exception items attached (--exceptions)
    process.stdout.write(line([r.dialect, r.type, r.status === 'ok' ? r.severity : `${r.severity} (off)`, (r.name.length + exc.length > 58 ? r.name.slice(0, 57 - exc.length) + '…' : r.name) + exc, types], w) + '\n');
  }
  for (const u of unsupported) {
    process.stdout.write(line([u.dialect, u.type, u.status === 'not-applicable' ? 'n/a' : 'unsupported', u.name.slice(0, 58), u.reason], w) + '\n');
  }
  process.stdout.write(`\n${rows.length} rules loaded, ${unsupported.filter((u) => u.status === 'unsupported').length} not supported, ${unsupported.filter((u) => u.status === 'not-applicable').length} not for Okta, ${all.errors.length} files with errors\n`);
  return all.errors.length ? 2 : 0;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('oktopus')
    .description('Detection engine for the Okta System Log: Sigma, Elastic and Panther rules as written, no SIEM.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(oktopus --help shows the usage)');
  const rulesOpt = () =>
    new Option('--rules <path>', 'rule file or folder (repeatable; default: the built-in rules). TypeScript/JavaScript/Python bodies that Panther YAMLs name run as code with your rights (--no-code: do not run them)').argParser(collect);
  program.hook('preAction', (_program, command) => applyNoCode(command.opts())); // --no-code
  const configOpt = () => new Option('--config <file>', 'configuration file (JSON or YAML; default ./oktopus.yml when present)');
  const exceptionsOpt = () => exceptionsOption();

  program
    .command('scan')
    .description('scan exported Okta System Log files (NDJSON, JSON array or object, gzip or not; - for stdin)')
    .argument('[inputs...]', 'input files or folders')
    .addOption(rulesOpt())
    .addOption(exceptionsOpt())
    .addOption(noCodeOption())
    .addOption(new Option('--format <format>', 'alert output: table or ndjson').default('table'))
    .option('--output <file>', 'append alerts as NDJSON to this file')
    .option('--alerts-db <file>', 'also write alerts to an SQLite alerts table in this file')
    .option('--state <path>', `state store file (default ${DEFAULT_STATE})`)
    .option('--memory', 'keep state in memory only (nothing survives the run; implies --close-windows)')
    .option('--close-windows', 'treat the end of the input as the end of time: sequences waiting on a missing event and pipe windows close now')
    .option('--fresh', 'start from an empty state file (forget earlier scans)')
    .option('--org <org>', 'the Okta org, e.g. https://acme.okta.com (sets cloud.account.id; env OKTOPUS_ORG)')
    .option('--strict', 'stop at the first bad record (exit 2) instead of skipping it')
    .option('--fail-on-alert', 'exit 1 when new alerts were raised')
    .option('--time-field <path>', 'event field to use as event time instead of published')
    .option('--reorder-window <seconds>', 'how long (event time) to hold events for reordering (default 300)')
    .option('--duplicate-window <hours>', 'events with the same uuid within this many hours are one event (default 24)')
    .option('--batch-size <records>', 'records per checkpointed transaction (default 20000)')
    .addOption(new Option('--placeholder <name=values>', 'Sigma |expand placeholder values, comma-separated (repeatable)').argParser(collect))
    .addOption(configOpt())
    .option('--quiet', 'no notes on stderr')
    .option('--geoip-city <file>', 'GeoIP2/GeoLite2 City (or Country) MMDB for geolocation (docs/enrichment.md)')
    .option('--geoip-asn <file>', 'GeoIP2/GeoLite2 ASN MMDB')
    .option('--geoip-country <file>', 'country MMDB replacing the shipped default')
    .option('--no-default-geoip', 'do not use the country database shipped with oktopus')
    .option('--users <file>', 'user profiles (CSV or JSON: login, city, state, countryCode, timezone, lat, lon) for this scan only, in memory (instead of the stored directory)')
    .addOption(pythonPathOption())
    .addOption(pythonTimeoutOption())
    .action(async (inputs: string[], flags: ScanFlags) => setExit(await scanCommand(inputs, flags)));

  const stateOpt = () => new Option('--state <path>', `state store file (default ${DEFAULT_STATE})`);
  const intel = program.command('intel').description('anonymizer lists (Tor exits, iCloud Private Relay, VPN, hosting, ASNs) kept in the state store');
  intel
    .command('import')
    .description('import (or with --refresh, download) a list; a bad line fails the import, the list in use stays')
    .argument('[file]', 'the list file (text, or gzip)')
    .addOption(new Option('--kind <kind>', 'tor, apple-relay, vpn, hosting or asn'))
    .option('--category <category>', 'for --kind asn: what those ASNs are (vpn, hosting, proxy, tor; default vpn)')
    .option('--refresh [url]', "download the list (default: the kind's public source) instead of reading FILE")
    .addOption(stateOpt())
    .addOption(configOpt())
    .action(async (file: string | undefined, flags: { kind?: string; category?: string; refresh?: string | boolean; state?: string; config?: string }) => {
      const store = openStore({ state: flags.state }, loadConfig(flags.config));
      try {
        const r = await intelImport(store, file, flags);
        process.stdout.write(`${r.unchanged ? 'unchanged' : 'imported'}: ${describeVersion(r.version)}\n`);
      } finally {
        store.close();
      }
      setExit(0);
    });
  intel
    .command('list')
    .description('the lists in the state store, with version and import date')
    .option('--json', 'print JSON')
    .addOption(stateOpt())
    .addOption(configOpt())
    .action((flags: { json?: boolean; state?: string; config?: string }) => {
      const store = openStore({ state: flags.state }, loadConfig(flags.config));
      try {
        const versions = intelList(store);
        if (flags.json) process.stdout.write(JSON.stringify(versions, null, 2) + '\n');
        else if (versions.length === 0) process.stdout.write('no lists imported (oktopus intel import FILE --kind KIND)\n');
        else for (const v of versions) process.stdout.write(describeVersion(v) + '\n');
      } finally {
        store.close();
      }
      setExit(0);
    });

  const users = program.command('users').description('user directory profiles (location) kept in the state store');
  users
    .command('import')
    .description('replace the stored user profiles: CSV with a header, or JSON (login, city, state, countryCode, timezone, lat, lon); bad rows are skipped with a warning')
    .argument('<file>', 'CSV or JSON file')
    .addOption(stateOpt())
    .addOption(configOpt())
    .action((file: string, flags: { state?: string; config?: string }) => {
      const store = openStore({ state: flags.state }, loadConfig(flags.config));
      try {
        const r = usersImport(store, file, err);
        process.stdout.write(`imported ${r.imported} user profiles from ${file}${r.skipped ? ` (${r.skipped} bad rows skipped)` : ''}; the directory now holds these only\n`);
      } finally {
        store.close();
      }
      setExit(0);
    });

  program
    .command('explain')
    .description('explain a rule: stages, predicates, indicators, exclusions, event types, same-action rules')
    .argument('<rule>', 'a rule file, or the id or name of a loaded rule')
    .addOption(rulesOpt())
    .addOption(exceptionsOpt())
    .addOption(noCodeOption())
    .option('--json', 'print JSON')
    .addOption(configOpt())
    .action(async (rule: string, flags: { rules?: string[]; exceptions?: string[]; json?: boolean; config?: string }) => setExit(await explainCommand(rule, flags)));

  registerTestCommand(program, setExit);
  registerLiveCommands(program, setExit, { load, openStore }); // watch, backfill (docs/live.md)
  registerServeCommand(program, setExit); // oktopus serve (Event Hooks)
  registerEvaluateCommand(program, setExit, { load, openStore, expandInputs, parsePlaceholders }); // oktopus evaluate (docs/evaluate.md)
  registerSimulateCommand(program, setExit); // oktopus simulate (docs/simulate.md)
  const rules = program.command('rules').description('rule catalog');
  rules
    .command('list')
    .description('list loaded rules, and the rules that cannot run here with the reason')
    .addOption(rulesOpt())
    .addOption(exceptionsOpt())
    .addOption(noCodeOption())
    .option('--json', 'print JSON')
    .addOption(configOpt())
    .action(async (flags: { rules?: string[]; exceptions?: string[]; json?: boolean; config?: string }) => setExit(await listCommand(flags)));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that closed our output (`oktopus scan … | head`) ends the run quietly with 141, as
  // Unix tools killed by SIGPIPE do. The open batch rolls back; alerts written into the pipe
  // before it closed are marked delivered (stdout cannot tell what the reader took).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError || e instanceof EnrichInputError) {
      err(`error: ${e.message}`);
      return 2;
    }
    err(`error: ${(e as Error).message}`);
    return 2;
  }
  return code;
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
