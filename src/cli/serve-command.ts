/**
 * `oktopus serve`: the Okta Event Hook endpoint (src/sources/hooks.ts) as a long-running process.
 *
 *   OKTOPUS_HOOK_SECRET=... oktopus serve --port 8080 [--host 127.0.0.1] [--path /]
 *     [--header Authorization] [--secret-file FILE] [--rules PATH]… [--state PATH]
 *     [--format ndjson|table] [--output FILE] [--alerts-db FILE] [--org URL] [--max-body-mb N]
 *
 * The secret comes from the environment or a file, never from a flag (flags show in `ps`); it is
 * never printed. SIGINT/SIGTERM: stop accepting, finish requests in flight, process what is
 * queued, commit, exit 0 (a second signal exits at once; what is queued is processed next start).
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../rules/load.js';
import { applyExceptionFiles, exceptionsOption } from '../exceptions/apply.js';
import { SqliteStore } from '../store/sqlite.js';
import type { SchemaContext } from '../schema/index.js';
import type { AlertSink } from '../sinks/types.js';
import { loadConfig } from './config.js';
import { applyPythonFlags, noCodeOption, pythonPathOption, pythonTimeoutOption, setRuleRoots } from './test-command.js';
import { enrichmentFor, type EnrichmentFlags } from './enrichment.js';
import { alertSinks } from './sinks.js';
import { DEFAULT_MAX_BODY_BYTES, startHookServer } from '../sources/hooks.js';
import { err, normaliseOrg } from './common.js';

const BUILTIN_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));
const DEFAULT_STATE = join('.oktopus', 'state.sqlite');

export interface ServeFlags extends EnrichmentFlags {
  exceptions?: string[];
  port: string;
  host: string;
  path: string;
  header: string;
  secretFile?: string;
  rules?: string[];
  state?: string;
  format: string;
  output?: string;
  alertsDb?: string;
  org?: string;
  timeField?: string;
  reorderWindow?: string;
  duplicateWindow?: string;
  maxBodyMb?: string;
  maxConnections?: string;
  maxInFlight?: string;
  maxQueueLag?: string;
  config?: string;
}


function number(flag: string, value: string | undefined, min: number, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`${flag} expects ${integer ? 'a whole number' : 'a number'} >= ${min}, got: ${value}`);
  return n;
}

/**
 * The secret: OKTOPUS_HOOK_SECRET, or the first line of --secret-file. Never echoed. Surrounding
 * whitespace and a byte-order mark are removed: HTTP strips a header value's surrounding
 * whitespace, so a secret keeping them (a file's trailing newline or spaces, an editor's BOM)
 * could never match.
 */
export function readSecret(flags: Pick<ServeFlags, 'secretFile' | 'header'>, env: NodeJS.ProcessEnv = process.env): string {
  let secret: string | undefined;
  if (flags.secretFile) {
    try {
      secret = readFileSync(flags.secretFile, 'utf8');
    } catch (e) {
      throw new Error(`--secret-file: cannot read ${flags.secretFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    secret = secret.replace(/^\uFEFF/, '').split(/\r?\n/)[0];
  } else secret = env['OKTOPUS_HOOK_SECRET'];
  secret = secret?.replace(/^\uFEFF/, '').trim();
  if (!secret) {
    throw new Error(
      `serve needs the value Okta sends in the ${flags.header} header: set OKTOPUS_HOOK_SECRET or give --secret-file (${flags.secretFile ? 'the first line of the file is empty' : 'neither is set, or it is blank'})`,
    );
  }
  return secret;
}

export async function serveCommand(flags: ServeFlags): Promise<number> {
  const config = loadConfig(flags.config);
  const port = number('--port', flags.port, 0, true)!;
  if (port > 65535) throw new Error(`--port expects 0-65535, got: ${flags.port}`);
  if (!flags.path.startsWith('/')) throw new Error(`--path must start with /, got: ${flags.path}`);
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(flags.header)) throw new Error(`--header: not an HTTP header name: ${flags.header}`);
  if (!['table', 'ndjson'].includes(flags.format)) throw new Error(`--format must be table or ndjson, got: ${flags.format}`);
  const reorder = number('--reorder-window', flags.reorderWindow, 0);
  const reorderWindowMs = reorder !== undefined ? reorder * 1000 : config.reorderWindowSeconds !== undefined ? config.reorderWindowSeconds * 1000 : undefined;
  const dupHours = number('--duplicate-window', flags.duplicateWindow, 0);
  const maxMb = number('--max-body-mb', flags.maxBodyMb, 0.001);
  const maxConnections = number('--max-connections', flags.maxConnections, 1, true);
  const maxInFlight = number('--max-in-flight', flags.maxInFlight, 1, true);
  const maxQueueLag = number('--max-queue-lag', flags.maxQueueLag, 0);
  const secret = readSecret(flags);
  applyPythonFlags(flags);

  const rulePaths = flags.rules?.length ? flags.rules : config.rules?.length ? config.rules : [BUILTIN_RULES];
  setRuleRoots(rulePaths);
  const read = await loadRules(rulePaths, { placeholders: config.placeholders });
  // Exception lists (docs/exceptions.md): --exceptions, else the config's `exceptions:`.
  const loaded = await applyExceptionFiles(read, flags.exceptions?.length ? flags.exceptions : (config.exceptions ?? []), (w) => err(`warning: ${w}`));
  for (const e of loaded.errors) err(`error: ${e.message}`);
  if (!flags.quiet) {
    err(`loaded ${loaded.rules.length} rules from ${loaded.files} files`);
    for (const u of loaded.unsupported.filter((x) => x.status === 'unsupported')) err(`  not run: ${u.name} (${u.id}): ${u.reason}`);
  }
  if (loaded.rules.length === 0) throw new Error('no rules to run');

  const store = new SqliteStore(flags.state ?? config.state ?? DEFAULT_STATE);
  const sinks: AlertSink[] = [];
  let server;
  try {
    const schema: SchemaContext = { org: normaliseOrg(flags.org ?? process.env['OKTOPUS_ORG'] ?? config.org) };
    schema.enrichment = enrichmentFor(store, flags, config, err, { withUsers: true });
    sinks.push(...alertSinks(flags));

    server = await startHookServer({
      store,
      rules: loaded.rules,
      schema,
      sinks,
      secret,
      header: flags.header,
      host: flags.host,
      port,
      path: flags.path,
      maxBodyBytes: maxMb === undefined ? DEFAULT_MAX_BODY_BYTES : Math.floor(maxMb * 1024 * 1024),
      maxConnections,
      maxInFlight,
      maxQueueLagSeconds: maxQueueLag,
      timeField: flags.timeField ?? config.timeField,
      reorderWindowMs,
      engine: dupHours === undefined ? undefined : { dedupHorizonMs: dupHours * 3_600_000 },
      log: (line) => (flags.quiet && !line.startsWith('error') ? undefined : err(line)),
    });
  } catch (e) {
    for (const s of sinks) await s.close();
    store.close();
    throw e;
  }
  if (!flags.quiet) err(`listening on ${server.url}${flags.path} (Event Hook deliveries; ${flags.header} header checked), /healthz, /metrics`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  if (!flags.quiet) err(`${signal}: stopping (processing ${server.queueDepth()} queued deliveries; again to exit at once)`);
  const again = (): never => process.exit(130);
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  try {
    await server.close({ drain: true });
  } finally {
    for (const s of sinks) await s.close();
    store.close();
  }
  if (!flags.quiet) err(`stopped: ${server.counters.eventsIn} events in, ${server.counters.alertsOut} alerts out`);
  return loaded.errors.length > 0 ? 2 : 0;
}

export function registerServeCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('run an Okta Event Hook endpoint: verify, accept deliveries (secret from OKTOPUS_HOOK_SECRET), queue them durably, alert live')
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on (put a TLS reverse proxy in front: Okta requires HTTPS)', '127.0.0.1')
    .option('--path <path>', "the hook's URL path", '/')
    .option('--header <name>', 'the header Okta sends the secret in (the Event Hook\'s authScheme key)', 'Authorization')
    .option('--secret-file <file>', 'read the secret from this file (first line) instead of OKTOPUS_HOOK_SECRET')
    .addOption(new Option('--rules <path>', 'rule file or folder (repeatable; default: the built-in rules)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(exceptionsOption())
    .addOption(noCodeOption())
    .option('--state <path>', `state store file: engine state and the delivery queue (default ${DEFAULT_STATE})`)
    .addOption(new Option('--format <format>', 'alert output: ndjson or table').default('ndjson'))
    .option('--output <file>', 'append alerts as NDJSON to this file (instead of stdout with --format ndjson)')
    .option('--alerts-db <file>', 'also write alerts to an SQLite alerts table in this file')
    .option('--org <org>', 'the Okta org, e.g. https://acme.okta.com (sets cloud.account.id; env OKTOPUS_ORG)')
    .option('--time-field <path>', 'event field to use as event time instead of published')
    .option('--reorder-window <seconds>', 'how long (event time) to hold events for reordering (default 300)')
    .option('--duplicate-window <hours>', 'events with the same uuid within this many hours are one event (default 24)')
    .option('--max-body-mb <mebibytes>', 'largest delivery accepted (default 5; larger: 413)')
    .option('--max-connections <n>', 'open connections at most (default 1024)')
    .option('--max-in-flight <n>', 'deliveries received or stored at once at most; more are answered 503 with Retry-After (default 256)')
    .option('--max-queue-lag <seconds>', 'answer 503 with Retry-After while the oldest queued delivery is older than this (default 0: never)')
    .option('--users <file>', 'user profiles (CSV or JSON) for this run (instead of the stored directory)')
    .option('--geoip-city <file>', 'GeoIP2/GeoLite2 City (or Country) MMDB')
    .option('--geoip-asn <file>', 'GeoIP2/GeoLite2 ASN MMDB')
    .option('--geoip-country <file>', 'country MMDB replacing the shipped default')
    .option('--no-default-geoip', 'do not use the country database shipped with oktopus')
    .addOption(new Option('--config <file>', 'configuration file (JSON or YAML; default ./oktopus.yml when present)'))
    .option('--quiet', 'only errors on stderr')
    .addOption(pythonPathOption())
    .addOption(pythonTimeoutOption())
    .action(async (flags: ServeFlags) => setExit(await serveCommand(flags)));
}
