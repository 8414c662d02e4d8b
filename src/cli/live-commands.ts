/**
 * `oktopus watch` and `oktopus backfill`: the System Log API as input (docs/live.md).
 *   oktopus watch --org URL [--once] [--since T] [--rules …] [--state …] [--format …] [--output …]
 *   oktopus backfill --org URL --since T [--until T] …
 *   oktopus users sync --org URL [--state S]   (the user directory from GET /api/v1/users)
 * Credentials: env OKTA_API_TOKEN, or --token-file FILE (an API token is never a flag value: it
 * would show in `ps`), or an OAuth service app (--oauth-client-id ID --private-key FILE).
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { LoadedRules } from '../rules/load.js';
import type { StateStore } from '../store/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { AlertSink } from '../sinks/types.js';
import { Progress } from '../sinks/progress.js';
import { enrichmentFor, type EnrichmentFlags } from './enrichment.js';
import { alertSinks } from './sinks.js';
import { loadConfig, type Config } from './config.js';
import { applyPythonFlags, noCodeOption, pythonPathOption, pythonTimeoutOption } from './test-command.js';
import { LOGS_SCOPE, oauthAuth, OktaApiError, OktaLogClient, orgBaseUrl, readTokenFile, sswsAuth, USERS_SCOPE, type OktaAuth } from '../sources/okta-api.js';
import { usersSync } from '../enrich/commands.js';
import { runStream, type StreamMode } from '../pipeline/stream.js';
import { exceptionsOption } from '../exceptions/apply.js';
import { err } from './common.js';

/** What main.ts lends these commands (its rule loading and store opening, shared with scan). */
export interface LiveDeps {
  load(paths: string[] | undefined, config: Config, placeholders?: Record<string, string[]>, exceptions?: string[]): Promise<LoadedRules>;
  openStore(opts: { state?: string; memory?: boolean; fresh?: boolean }, config: Config): StateStore;
}

interface LiveFlags extends EnrichmentFlags {
  org?: string;
  once?: boolean;
  since?: string;
  until?: string;
  rules?: string[];
  exceptions?: string[];
  format: string;
  output?: string;
  alertsDb?: string;
  state?: string;
  memory?: boolean;
  fresh?: boolean;
  tokenFile?: string;
  oauthClientId?: string;
  privateKey?: string;
  keyId?: string;
  timeField?: string;
  reorderWindow?: string;
  emptyWait?: string;
  emptyWaitMax?: string;
  maxRetries?: string;
  requestTimeout?: string;
  limit?: string;
  config?: string;
}


function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!Number.isFinite(s) || s < 0) throw new OktaApiError(`${flag} expects seconds (a number >= 0), got: ${value}`);
  return s * 1000;
}

/** The credential, from the flags and the environment; never from a flag's value. */
export function authFrom(
  flags: Pick<LiveFlags, 'oauthClientId' | 'privateKey' | 'keyId' | 'tokenFile'>,
  baseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
  scope: string = LOGS_SCOPE,
): OktaAuth {
  if (flags.oauthClientId !== undefined) {
    if (!flags.privateKey) throw new OktaApiError('--oauth-client-id needs --private-key FILE (PEM or JWK)');
    let key: string;
    try {
      key = readFileSync(flags.privateKey, 'utf8');
    } catch (e) {
      throw new OktaApiError(`--private-key ${flags.privateKey}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
    }
    return oauthAuth({ baseUrl, clientId: flags.oauthClientId, privateKey: key, keyId: flags.keyId, scope });
  }
  if (flags.privateKey) throw new OktaApiError('--private-key needs --oauth-client-id');
  if (flags.tokenFile) return sswsAuth(readTokenFile(flags.tokenFile));
  const token = env['OKTA_API_TOKEN'];
  if (token && token.trim()) return sswsAuth(token);
  throw new OktaApiError(`no Okta credential: set OKTA_API_TOKEN, or give --token-file FILE, or --oauth-client-id ID --private-key FILE (scope ${scope})`);
}

function buildSinks(flags: LiveFlags): AlertSink[] {
  if (!['table', 'ndjson'].includes(flags.format)) throw new OktaApiError(`--format must be table or ndjson, got: ${flags.format}`);
  return alertSinks(flags);
}

async function liveCommand(mode: StreamMode, flags: LiveFlags, deps: LiveDeps): Promise<number> {
  const config = loadConfig(flags.config);
  const org = flags.org ?? process.env['OKTOPUS_ORG'] ?? config.org;
  if (!org) throw new OktaApiError(`${mode === 'backfill' ? 'backfill' : 'watch'} needs --org, the Okta org URL (e.g. https://acme.okta.com)`);
  const baseUrl = orgBaseUrl(org);
  const tenant = new URL(baseUrl).hostname; // as scan's --org: cloud.account.id
  const auth = authFrom(flags, baseUrl);
  const reorderWindowMs = seconds(flags.reorderWindow, '--reorder-window') ?? (config.reorderWindowSeconds === undefined ? undefined : config.reorderWindowSeconds * 1000);
  const emptyWaitMs = seconds(flags.emptyWait, '--empty-wait');
  const emptyWaitMaxMs = seconds(flags.emptyWaitMax, '--empty-wait-max');
  const timeoutMs = seconds(flags.requestTimeout, '--request-timeout');
  if (timeoutMs === 0) throw new OktaApiError('--request-timeout must be more than 0 seconds');
  let maxRetries: number | undefined;
  if (flags.maxRetries !== undefined) {
    maxRetries = Number(flags.maxRetries);
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new OktaApiError(`--max-retries expects a whole number >= 0, got: ${flags.maxRetries}`);
  }
  // A one-shot run (cron) against an unreachable org must end: bounded retries by default.
  if (maxRetries === undefined && mode === 'watch' && flags.once) maxRetries = 10;
  let limit: number | undefined;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new OktaApiError(`--limit expects a whole number from 1 to 1000, got: ${flags.limit}`);
  }

  applyPythonFlags(flags);
  const loaded = await deps.load(flags.rules, config, undefined, flags.exceptions);
  if (!flags.quiet) err(`loaded ${loaded.rules.length} rules from ${loaded.files} files`);
  const schema: SchemaContext = { org: tenant };
  const sinks = buildSinks(flags);
  const store = deps.openStore(flags, config);

  const ac = new AbortController();
  const onSignal = (sig: string): void => {
    if (!flags.quiet) err(`${sig}: stopping after the current page (its position is saved)`);
    ac.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const note = (line: string): void => (flags.quiet ? undefined : err(line));
  let result;
  try {
    schema.enrichment = enrichmentFor(store, flags, config, err, { withUsers: false });
    const client = new OktaLogClient({ baseUrl, auth, limit, emptyWaitMs, emptyWaitMaxMs, maxRetries, timeoutMs, signal: ac.signal, onNote: note });
    result = await runStream({
      client,
      org: tenant,
      mode: mode === 'watch' && flags.once ? 'once' : mode,
      since: flags.since,
      until: flags.until,
      rules: loaded.rules,
      store,
      schema,
      sinks,
      timeField: flags.timeField ?? config.timeField,
      reorderWindowMs,
      onBadRecord: (line) => err(`bad event: ${line}`),
      onNote: note,
      progress: new Progress(),
      signal: ac.signal,
    });
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    store.close();
    if (!result) for (const s of sinks) await s.close();
  }
  for (const u of result.engine.unsupported) err(`error: ${u.file}: rule ${u.id}: ${u.reason}`);
  for (const s of sinks) s.finish?.(result.summary);
  for (const s of sinks) await s.close();
  if (!flags.quiet) {
    const s = result.summary;
    err(`${mode}: ${result.pages} pages, ${s.events} events, ${s.alerts} new alerts` + (result.badRecords ? `, ${result.badRecords} bad events skipped` : '') + (flags.memory ? '' : ' (position saved)'));
  }
  if (loaded.errors.length > 0 || result.engine.unsupported.length > 0) return 2;
  return 0;
}

interface UsersSyncFlags {
  org?: string;
  state?: string;
  tokenFile?: string;
  oauthClientId?: string;
  privateKey?: string;
  keyId?: string;
  maxRetries?: string;
  config?: string;
  quiet?: boolean;
}

/** `oktopus users sync`: the stored user directory replaced by the org's users. */
async function usersSyncCommand(flags: UsersSyncFlags, deps: LiveDeps): Promise<number> {
  const config = loadConfig(flags.config);
  const org = flags.org ?? process.env['OKTOPUS_ORG'] ?? config.org;
  if (!org) throw new OktaApiError('users sync needs --org, the Okta org URL (e.g. https://acme.okta.com)');
  const baseUrl = orgBaseUrl(org);
  const auth = authFrom(flags, baseUrl, process.env, USERS_SCOPE);
  let maxRetries: number | undefined;
  if (flags.maxRetries !== undefined) {
    maxRetries = Number(flags.maxRetries);
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new OktaApiError(`--max-retries expects a whole number >= 0, got: ${flags.maxRetries}`);
  }
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onInt);
  const note = (line: string): void => (flags.quiet ? undefined : err(line));
  // Retries are bounded by default here: a one-shot command should end (watch retries forever).
  const client = new OktaLogClient({ baseUrl, auth, scope: USERS_SCOPE, maxRetries: maxRetries ?? 10, signal: ac.signal, onNote: note });
  const store = deps.openStore({ state: flags.state }, config);
  try {
    const r = await usersSync(store, client, err);
    process.stdout.write(
      `synced ${r.imported} user profiles from ${baseUrl} (${r.pages} ${r.pages === 1 ? 'page' : 'pages'}, ${r.located} with a country` +
        `${r.skipped ? `, ${r.skipped} skipped` : ''}); the directory now holds these only\n`,
    );
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onInt);
    store.close();
  }
  return 0;
}

export function registerLiveCommands(program: Command, setExit: (code: number) => void, deps: LiveDeps): void {
  const common = (cmd: Command): Command =>
    cmd
      .option('--org <url>', 'the Okta org, e.g. https://acme.okta.com (base URL, and cloud.account.id; env OKTOPUS_ORG)')
      .addOption(new Option('--rules <path>', 'rule file or folder (repeatable; default: the built-in rules)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
      .addOption(exceptionsOption())
      .addOption(noCodeOption())
      .addOption(new Option('--format <format>', 'alert output: table or ndjson').default('table'))
      .option('--output <file>', 'append alerts as NDJSON to this file')
      .option('--alerts-db <file>', 'also write alerts to an SQLite alerts table in this file')
      .option('--state <path>', 'state store file (holds the saved API position; default .oktopus/state.sqlite)')
      .option('--memory', 'keep state in memory only (nothing, not even the position, survives the run)')
      .option('--fresh', 'start from an empty state file (forget the saved position and rule state)')
      .option('--token-file <file>', 'read the SSWS API token from this file (default: env OKTA_API_TOKEN)')
      .option('--oauth-client-id <id>', 'use an OAuth 2.0 service app (private_key_jwt, scope okta.logs.read) instead of an API token')
      .option('--private-key <file>', "the service app's private key (PEM or JWK; RSA or P-256)")
      .option('--key-id <kid>', 'the key id registered with the app (default: the JWK kid)')
      .option('--time-field <path>', 'event field to use as event time instead of published')
      .option('--reorder-window <seconds>', 'how long (event time) to hold events for reordering (default 300)')
      .option('--max-retries <n>', 'retries of one request after 5xx, network errors and 429s (default: unlimited; 10 with watch --once)')
      .option('--limit <n>', 'events per request, 1-1000 (default 1000, Okta\'s maximum); a page with fewer means caught up')
      .option('--request-timeout <seconds>', 'give up on a request not answered within this time, and retry it (default 60)')
      .addOption(new Option('--config <file>', 'configuration file (JSON or YAML; default ./oktopus.yml when present)'))
      .option('--quiet', 'no notes on stderr')
      .option('--geoip-city <file>', 'GeoIP2/GeoLite2 City (or Country) MMDB for geolocation')
      .option('--geoip-asn <file>', 'GeoIP2/GeoLite2 ASN MMDB')
      .option('--no-default-geoip', 'do not use the country database shipped with oktopus')
      .addOption(pythonPathOption())
      .addOption(pythonTimeoutOption());

  common(
    program
      .command('watch')
      .description('poll the Okta System Log API (/api/v1/logs) and alert live; resumes where the last run stopped')
      .option('--once', 'process what is available now, then exit (for cron jobs)')
      .option('--since <time>', 'where a first poll starts (ISO-8601; default now; ignored when resuming)')
      .option('--empty-wait <seconds>', 'wait after an empty page, doubling while pages stay empty (default 10)')
      .option('--empty-wait-max <seconds>', 'longest wait between empty pages (default 60)'),
  ).action(async (flags: LiveFlags) => setExit(await liveCommand('watch', flags, deps)));

  common(
    program
      .command('backfill')
      .description('run the rules over a past range of the System Log (bounded requests); a rerun of the same range resumes')
      .requiredOption('--since <time>', 'start of the range (ISO-8601)')
      .option('--until <time>', 'end of the range (ISO-8601; default now)'),
  ).action(async (flags: LiveFlags) => setExit(await liveCommand('backfill', flags, deps)));

  // Next to `users import` (main.ts): the same directory, read from the org instead of a file.
  const users = program.commands.find((c) => c.name() === 'users') ?? program.command('users').description('user directory profiles (location) kept in the state store');
  users
    .command('sync')
    .description('replace the stored user profiles with the org\'s users (GET /api/v1/users: login, city, state, countryCode, timezone); needs okta.users.read')
    .option('--org <url>', 'the Okta org, e.g. https://acme.okta.com (env OKTOPUS_ORG)')
    .option('--token-file <file>', 'read the SSWS API token from this file (default: env OKTA_API_TOKEN)')
    .option('--oauth-client-id <id>', `use an OAuth 2.0 service app (private_key_jwt, scope ${USERS_SCOPE}) instead of an API token`)
    .option('--private-key <file>', "the service app's private key (PEM or JWK; RSA or P-256)")
    .option('--key-id <kid>', 'the key id registered with the app (default: the JWK kid)')
    .option('--state <path>', 'state store file (default .oktopus/state.sqlite)')
    .option('--max-retries <n>', 'retries of one request after 5xx, network errors and 429s (default 10)')
    .addOption(new Option('--config <file>', 'configuration file (JSON or YAML; default ./oktopus.yml when present)'))
    .option('--quiet', 'no notes on stderr (rate-limit waits, retries)')
    .action(async (flags: UsersSyncFlags) => setExit(await usersSyncCommand(flags, deps)));
}
