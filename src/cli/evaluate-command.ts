/**
 * `oktopus evaluate LOG... --truth FILE`: run the rules on a simulated log and score their alerts
 * against its ground truth (docs/evaluate.md): per scenario detection, recall, coverage and time
 * to detect; per rule true and false positives, precision and alerts per 1,000 users per day; the
 * benign look-alikes' alerts and the PASS/FAIL check of the benign proxy users; with
 * `--exceptions`, what the team's exception lists remove.
 *   oktopus evaluate examples/tenant.ndjson.gz --truth examples/tenant.truth.json [--rules …]
 *     [--exceptions FILE]… [--within MINUTES] [--json] [--out FILE|-]
 * Rules, enrichment and Python options are scan's. Exit codes: 0 report written, 2 bad input.
 */
import { Command, Option } from 'commander';
import { accessSync, constants as fsConstants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoadedRules } from '../rules/load.js';
import type { StateStore } from '../store/types.js';
import type { SchemaContext } from '../schema/index.js';
import { loadConfig, type Config } from './config.js';
import { enrichmentFor, type EnrichmentFlags } from './enrichment.js';
import { applyPythonFlags, noCodeOption, pythonPathOption, pythonTimeoutOption } from './test-command.js';
import { readTruth, TruthError } from '../evaluate/truth.js';
import { evaluateLog } from '../evaluate/index.js';
import { renderReport } from '../evaluate/render.js';
import type { ExceptionItemCount } from '../evaluate/compare.js';
import type { RuleIR } from '../ir/types.js';
import { exceptionsOption } from '../exceptions/apply.js';
import { collect, err, normaliseOrg, reorderWindowMs } from './common.js';

/** What main.ts lends the command: scan's rule loading, store opening and input expansion. */
export interface EvaluateDeps {
  /** Loads the rules with the exception lists (`exceptions`, else the config's) attached. */
  load(paths: string[] | undefined, config: Config, placeholders?: Record<string, string[]>, exceptions?: string[]): Promise<LoadedRules>;
  openStore(opts: { state?: string; memory?: boolean }, config: Config): StateStore;
  expandInputs(inputs: string[]): string[];
  parsePlaceholders(specs: string[] | undefined, fromConfig: Record<string, string[]> | undefined): Record<string, string[]>;
}

interface EvaluateFlags extends EnrichmentFlags {
  truth: string;
  rules?: string[];
  exceptions?: string[];
  within: string;
  json?: boolean;
  out?: string;
  state?: string;
  org?: string;
  timeField?: string;
  reorderWindow?: string;
  placeholder?: string[];
  config?: string;
}


async function evaluateCommand(inputs: string[], flags: EvaluateFlags, deps: EvaluateDeps): Promise<number> {
  const config = loadConfig(flags.config);
  if (inputs.length === 0) throw new Error('evaluate needs the simulated log (one or more files or folders)');
  if (inputs.includes('-')) throw new Error('evaluate reads the log more than once: standard input (-) cannot be read twice; save it to a file');
  const files = deps.expandInputs(inputs);
  const within = Number(flags.within);
  if (!Number.isFinite(within) || within <= 0) throw new Error(`--within expects minutes (a number > 0), got: ${flags.within}`);
  const reorderMs = reorderWindowMs(flags.reorderWindow, config);

  // A report path that cannot be written fails now, not after the rules have run.
  if (flags.out !== undefined && flags.out !== '-') {
    const why = unwritable(flags.out);
    if (why) throw new Error(`--out ${flags.out}: cannot write the report: ${why}`);
  }

  let truth;
  try {
    truth = readTruth(flags.truth);
  } catch (e) {
    if (!(e instanceof TruthError)) throw e;
    for (const line of e.lines) err(`error: ${line}`);
    return 2;
  }

  applyPythonFlags(flags);
  // The rules as the team deploys them: with its exception lists (--exceptions, else the config's).
  const loaded = await deps.load(flags.rules, config, deps.parsePlaceholders(flags.placeholder, config.placeholders), flags.exceptions);
  if (loaded.rules.length === 0) {
    // A report over no rule would score nothing and end in a vacuous PASS.
    err(`error: no rule loaded from ${flags.rules?.join(', ') ?? 'the built-in rules'}${loaded.errors.length ? ` (${loaded.errors.length} files with errors)` : ''}: nothing to evaluate`);
    return 2;
  }
  const withLists = exceptionRuns(loaded.rules);
  if (!flags.quiet) {
    err(`loaded ${loaded.rules.length} rules from ${loaded.files} files; truth: ${truth.scenarios.length} scenarios, ${truth.benign.length} benign groups (${truth.format})`);
    for (const u of loaded.unsupported.filter((x) => x.status === 'unsupported')) err(`  not run: ${u.name} (${u.id}): ${u.reason}`);
  }
  const org = normaliseOrg(flags.org ?? process.env['OKTOPUS_ORG'] ?? config.org ?? truth.tenant?.orgUrl);
  let first = true;
  const openRun = (): { store: StateStore; schema: SchemaContext } => {
    const store = deps.openStore({ state: flags.state, memory: true }, config);
    try {
      const schema: SchemaContext = { org };
      schema.enrichment = enrichmentFor(store, { ...flags, quiet: flags.quiet || !first }, config, err, { withUsers: true, runName: 'evaluation' });
      if (first && !flags.quiet) for (const line of schema.enrichment.describe()) err(`enrichment: ${line}`);
      first = false;
      return { store, schema };
    } catch (e) {
      store.close();
      throw e;
    }
  };

  let bad = 0;
  const { report, scan } = await evaluateLog({
    inputs: files,
    truth,
    rules: withLists?.baseline ?? loaded.rules,
    withExceptions: withLists?.deployed,
    openRun,
    withinMs: within * 60_000,
    timeField: flags.timeField ?? config.timeField,
    reorderWindowMs: reorderMs,
    onBadRecord: (line) => {
      if (++bad <= 20) err(`bad record: ${line}`);
    },
    onNote: (line) => (flags.quiet ? undefined : err(line)),
  });
  if (bad > 20) err(`bad record: ${bad - 20} more bad records not shown (${bad} in all)`);
  for (const w of report.warnings) err(`warning: ${w}`);
  for (const u of scan.engine.unsupported) err(`error: ${u.file}: rule ${u.id}: ${u.reason}`);
  const exitCode = loaded.errors.length > 0 || scan.engine.unsupported.length > 0 ? 2 : 0;
  if (new Set(scan.engine.unsupported.map((u) => u.id)).size >= loaded.rules.length) {
    err(`error: none of the ${loaded.rules.length} loaded rules could run: nothing to evaluate`);
    return 2;
  }

  const json = JSON.stringify(report, null, 2) + '\n';
  if (flags.out === '-') {
    // '-' is standard output, as for simulate: the JSON report there, instead of the table.
    process.stdout.write(json);
    return exitCode;
  }
  if (flags.out) {
    try {
      writeFileSync(flags.out, json);
    } catch (e) {
      throw new Error(`--out ${flags.out}: cannot write the report: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  process.stdout.write(flags.json ? json : renderReport(report));
  return exitCode;
}

/** Why `path` cannot be written (without creating it), or undefined when it can. */
function unwritable(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'is a directory';
    accessSync(path, fsConstants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return code ?? (e as Error).message;
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/**
 * With exception lists attached, two rule sets: the baseline is the same rules without any list
 * (no items, no `exceptions_list` reference: the rule as written runs), the deployed set is the
 * rules as loaded. Undefined when no rule has an exception list.
 */
function exceptionRuns(rules: RuleIR[]): { baseline: RuleIR[]; deployed: { rules: RuleIR[]; lists: string[]; counts(engine: { exceptionCounts(): Omit<ExceptionItemCount, 'ruleName'>[] }): ExceptionItemCount[] } } | undefined {
  const lists = [...new Set(rules.flatMap((r) => (r.exceptions ?? []).map((x) => x.list)))];
  if (lists.length === 0) return undefined;
  const baseline = rules.map((r) => {
    if (r.exceptions === undefined && r.exceptionLists === undefined) return r;
    const { exceptions: _items, exceptionLists: _refs, ...bare } = r;
    return bare;
  });
  const byKey = new Map(rules.map((r) => [`${r.dialect}:${r.id}`, r]));
  return {
    baseline,
    deployed: {
      rules,
      lists,
      counts: (engine) =>
        engine.exceptionCounts().map((c) => {
          const r = byKey.get(c.rule);
          return { ...c, rule: r?.id ?? c.rule, ruleName: r?.name ?? c.rule };
        }),
    },
  };
}

export function registerEvaluateCommand(program: Command, setExit: (code: number) => void, deps: EvaluateDeps): void {
  program
    .command('evaluate')
    .description('run the rules on a simulated log and score them against its ground truth: recall, time to detect, true/false positives per rule, benign look-alikes (docs/evaluate.md)')
    .argument('[inputs...]', 'the simulated log: files or folders')
    .requiredOption('--truth <file>', 'the ground truth of the log (oktopus-truth/2 JSON, written by the simulator)')
    .addOption(new Option('--rules <path>', 'rule file or folder (repeatable; default: the built-in rules)').argParser(collect))
    .addOption(exceptionsOption()) // runs the rules twice, without and with the lists, and reports what they removed
    .addOption(noCodeOption())
    .addOption(new Option('--within <minutes>', 'a scenario is detected in time when its first alert comes at most this long after its first malicious event').default('15'))
    .option('--json', 'print the report as one JSON object')
    .option('--out <file>', "also write the JSON report to this file; '-' for standard output (the JSON instead of the table)")
    .option('--state <path>', 'state file to read the imported anonymizer lists and user directory from (nothing is written to it)')
    .option('--org <org>', "the Okta org (default: the truth's tenant orgUrl)")
    .option('--time-field <path>', 'event field to use as event time instead of published')
    .option('--reorder-window <seconds>', 'how long (event time) to hold events for reordering (default 300)')
    .addOption(new Option('--placeholder <name=values>', 'Sigma |expand placeholder values, comma-separated (repeatable)').argParser(collect))
    .addOption(new Option('--config <file>', 'configuration file (JSON or YAML; default ./oktopus.yml when present)'))
    .option('--quiet', 'no notes on stderr')
    .option('--geoip-city <file>', 'GeoIP2/GeoLite2 City (or Country) MMDB for geolocation')
    .option('--geoip-asn <file>', 'GeoIP2/GeoLite2 ASN MMDB')
    .option('--geoip-country <file>', 'country MMDB replacing the shipped default')
    .option('--no-default-geoip', 'do not use the country database shipped with oktopus')
    .option('--users <file>', 'user profiles (CSV or JSON) for this evaluation, e.g. examples/users.csv')
    .addOption(pythonPathOption())
    .addOption(pythonTimeoutOption())
    .action(async (inputs: string[], flags: EvaluateFlags) => setExit(await evaluateCommand(inputs, flags, deps)));
}
