/**
 * The Okta System Log API client: `GET /api/v1/logs` with Node's built-in fetch, no SDK (the
 * SDK's model classes drop LogEvent fields they do not know, and mishandle empty polling pages).
 *
 * Two kinds of request (Okta's system-log-query reference):
 *  - polling: `since` + `sortOrder=ASCENDING` + `limit`, no `until`. Pages never end: every
 *    response, even an empty one, carries `Link: <…>; rel="next"`. Events come in persistence
 *    order, so possibly out of `published` order (the engine's reorder window absorbs that).
 *  - bounded: `since` + `until`: ordered by `published`, finite (the last page has no next link).
 * Either way the caller follows the `next` links and never crafts cursors itself; the `next` URL
 * is the position to persist.
 *
 * Faults: `X-Rate-Limit-Remaining/Reset` slow requests down near the end of the quota; a 429
 * waits until the reset time (+ jitter) and retries; 5xx, network errors and timeouts retry with
 * capped exponential backoff; 401/403 stop with one line naming the `okta.logs.read` permission
 * (or the client's `scope`); other 4xx stop with Okta's error summary. The credential never
 * appears in any message.
 *
 * The same request code (`request`, `list`) serves the user listing `GET /api/v1/users`
 * (`oktopus users sync`, scope `okta.users.read`).
 *
 * Events are handed on as the parsed JSON of the response, unmodified.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The scope (and, for API tokens, the admin permission) reading the System Log needs. */
export const LOGS_SCOPE = 'okta.logs.read';
/** The scope listing users (`GET /api/v1/users`, `oktopus users sync`) needs. */
export const USERS_SCOPE = 'okta.users.read';

/** What a scope lets an admin do, for messages. */
function scopeMeaning(scope: string): string {
  if (scope === LOGS_SCOPE) return 'read the System Log';
  if (scope === USERS_SCOPE) return 'read users';
  return `use ${scope}`;
}

export interface OktaAuth {
  /** The `Authorization` header value. */
  header(signal?: AbortSignal): Promise<string>;
  /** Forget a cached credential (called once after a 401, before giving up). */
  invalidate?(): void;
  /** Secrets to remove from any message that could quote them. */
  secrets(): string[];
  /** For messages: "API token" or "OAuth app X". */
  readonly describe: string;
}

/** An SSWS API token (from OKTA_API_TOKEN or a file; never from a command-line value). */
export function sswsAuth(token: string): OktaAuth {
  const t = token.trim();
  if (!t) throw new OktaApiError('the API token is empty');
  checkCredential(t, 'the API token');
  return { header: async () => `SSWS ${t}`, secrets: () => [t], describe: 'API token' };
}

/**
 * A credential goes into an HTTP header: only visible ASCII (no space, control or non-Latin-1
 * character, which fetch would refuse with an error quoting the header, or retry forever).
 * Checked up front; the message never quotes the value.
 */
const CREDENTIAL = /^[\x21-\x7e]+$/;
export function checkCredential(value: string, what: string): void {
  if (!CREDENTIAL.test(value)) {
    throw new OktaAuthError(`${what} contains a character not allowed in an HTTP header (a space, a control or a non-ASCII character, e.g. from copy and paste): check it (its value is not shown)`);
  }
}

/** Reads a token file: the first non-empty line. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OktaApiError(`--token-file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
  }
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (!line) throw new OktaApiError(`--token-file ${path}: the file is empty`);
  return line.trim();
}

/** Any error of this module: the message is one line, names no secret, and may be shown as is. */
export class OktaApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** A fault that may pass (network, 5xx, 429): the request may be retried, after `retryInMs` at least. */
    readonly retry?: { afterMs?: number },
  ) {
    super(message);
  }
}
/** 401/403: the credential is wrong or lacks `okta.logs.read`. Retrying cannot help. */
export class OktaAuthError extends OktaApiError {}

export interface Page {
  /** The events of the page, as parsed from the response (unmodified). */
  events: unknown[];
  /** The `rel="next"` link (absent at the end of a bounded query). */
  next?: string;
  /** The URL this page was fetched from. */
  url: string;
}

export interface ClientOptions {
  /** The org's base URL, e.g. https://acme.okta.com (its origin is the only host ever contacted). */
  baseUrl: string;
  auth: OktaAuth;
  /** Events per page (default 1000, Okta's maximum). */
  limit?: number;
  /** The scope (permission) named when a request is refused with 401/403 (default okta.logs.read). */
  scope?: string;
  /** First wait after an empty polling page (default 10 s); doubles on each further empty page… */
  emptyWaitMs?: number;
  /** …up to this (default 60 s). */
  emptyWaitMaxMs?: number;
  /** First retry delay after a 5xx or network error (default 1 s); doubles on each retry… */
  retryBaseMs?: number;
  /** …up to this (default 60 s). */
  retryMaxMs?: number;
  /** Retries of one request before giving up (default: unlimited; the CLI bounds `watch --once` and `users sync` to 10). */
  maxRetries?: number;
  /** Random extra wait added to rate-limit waits and retries, 0..jitterMs (default 1 s). */
  jitterMs?: number;
  /** Longest wait for a rate-limit reset (default 5 minutes; guards against a bogus header). */
  rateWaitMaxMs?: number;
  /** Per-request timeout (default 60 s; Okta ends a query after 30 s). */
  timeoutMs?: number;
  /** Stops sleeps and requests; the running iteration ends with an AbortError. */
  signal?: AbortSignal;
  /** Notes for the user (waits, retries). Never contain a secret. */
  onNote?: (line: string) => void;
  /** Injectable for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `https://acme.okta.com`, `acme.okta.com` → the org's origin (https unless a scheme is given). */
export function orgBaseUrl(org: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(org) ? org : `https://${org}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new OktaApiError(`--org: not a URL or host name: ${org}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new OktaApiError(`--org: not an http(s) URL: ${org}`);
  return u.origin;
}

/** The first request of a poll: `since`, ascending, no `until` (Okta's "polling request"). */
export function pollingUrl(baseUrl: string, since: string, limit = 1000): string {
  const u = new URL('/api/v1/logs', baseUrl);
  u.searchParams.set('since', since);
  u.searchParams.set('sortOrder', 'ASCENDING');
  u.searchParams.set('limit', String(limit));
  return u.href;
}

/** The first request of a backfill: `since` and `until` (Okta's "bounded request"). */
export function boundedUrl(baseUrl: string, since: string, until: string, limit = 1000): string {
  const u = new URL('/api/v1/logs', baseUrl);
  u.searchParams.set('since', since);
  u.searchParams.set('until', until);
  u.searchParams.set('sortOrder', 'ASCENDING');
  u.searchParams.set('limit', String(limit));
  return u.href;
}

/** The `rel="next"` target of a Link header (`<url>; rel="next", <url>; rel="self"`). */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  const re = /<([^>]*)>\s*((?:;\s*[^;,]*)*)/g;
  for (let m = re.exec(link); m; m = re.exec(link)) {
    const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(m[2] ?? '');
    if (rel && rel[1]!.split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

/** The first request of a user listing (`GET /api/v1/users`, 200 per page, Okta's maximum). */
export function usersUrl(baseUrl: string, limit = 200): string {
  const u = new URL('/api/v1/users', baseUrl);
  u.searchParams.set('limit', String(limit));
  return u.href;
}

/** A URL fit for a message: no user info (the query holds only since/until/after/limit). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}

function header(res: Response, name: string): number | undefined {
  const v = res.headers.get(name);
  // Duplicate headers come joined by commas: not a number we can trust.
  if (v === null || v.includes(',')) return undefined;
  const n = Number(v.trim());
  return v.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

export class OktaLogClient {
  private readonly o: Required<Omit<ClientOptions, 'signal' | 'onNote' | 'maxRetries'>> & Pick<ClientOptions, 'signal' | 'onNote'> & { maxRetries: number };
  private readonly origin: string;
  /** Earliest time (ms) the next request may go out (rate-limit pacing). */
  private notBefore = 0;

  constructor(opts: ClientOptions) {
    this.origin = orgBaseUrl(opts.baseUrl);
    // Options given as `undefined` (the CLI passes `emptyWaitMs: seconds(flag)` for a flag not
    // used) must not override the defaults below: spread as is, `emptyWaitMs: undefined` made the
    // empty-page wait NaN, i.e. a `watch` without --empty-wait polled an idle org back to back.
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as ClientOptions;
    this.o = {
      limit: 1000,
      scope: LOGS_SCOPE,
      emptyWaitMs: 10_000,
      emptyWaitMaxMs: 60_000,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      jitterMs: 1000,
      rateWaitMaxMs: 5 * 60_000,
      timeoutMs: 60_000,
      fetch: (...a) => fetch(...a),
      sleep: defaultSleep,
      now: Date.now,
      random: Math.random,
      ...given,
      maxRetries: opts.maxRetries ?? Infinity,
      baseUrl: this.origin,
    };
  }

  get baseUrl(): string {
    return this.origin;
  }

  /** Events per page asked for in the first request of a poll or backfill. */
  get limit(): number {
    return this.o.limit;
  }

  /** Polling pages from `start` (a polling URL or a saved next link), forever (or until abort). */
  async *poll(start: string, opts: { stopWhenEmpty?: boolean } = {}): AsyncGenerator<Page> {
    let url = start;
    let empties = 0;
    for (;;) {
      const page = await this.fetchPage(url);
      yield page;
      if (!page.next) return; // a polling request always has one; be safe anyway
      url = page.next;
      // A full page: more is waiting, fetch it at once. Fewer events than `limit` means caught up
      // (on a busy org a page is never empty: waiting for an empty one would never end), and a
      // next link equal to the page's own URL would fetch the same page again: wait, as when empty.
      const full = page.events.length >= pageLimit(page.url, this.o.limit);
      if (full && page.next !== sameUrl(page.url)) {
        empties = 0;
        continue;
      }
      if (opts.stopWhenEmpty) return;
      const wait = Math.min(this.o.emptyWaitMaxMs, this.o.emptyWaitMs * 2 ** Math.min(empties++, 30));
      await this.o.sleep(wait, this.o.signal);
    }
  }

  /** Bounded pages from `start` until the page without a next link (or an empty page). */
  async *bounded(start: string): AsyncGenerator<Page> {
    yield* this.list(start, 'events');
  }

  /**
   * Pages of a finite listing (e.g. `GET /api/v1/users`) from `start`, following `rel="next"`
   * until a page has no next link (or is empty); `what` names the items in messages.
   */
  async *list(start: string, what = 'items'): AsyncGenerator<Page> {
    let url: string | undefined = start;
    while (url) {
      const page = await this.fetchPage(url, what);
      yield page;
      url = page.events.length > 0 ? page.next : undefined;
    }
  }

  /** One page of events (or of `what`): a JSON array, with rate limiting and retries. */
  async fetchPage(url: string, what = 'events'): Promise<Page> {
    const { body, next } = await this.request(url);
    if (!Array.isArray(body)) throw new OktaApiError(`GET ${describeUrl(url)}: expected a JSON array of ${what}, got ${body === null ? 'null' : typeof body}`, 200);
    return { events: body, next, url };
  }

  /**
   * One authenticated GET of the org's API, answered 200 with JSON: the parsed body and the
   * `rel="next"` link. Paces near the end of the rate-limit quota, waits for the reset on a 429,
   * retries 5xx, network errors, timeouts and truncated bodies with capped exponential backoff,
   * renews an OAuth token once after a 401; 401/403 throw OktaAuthError naming the client's scope,
   * other statuses OktaApiError. No message contains the credential.
   */
  async request(url: string): Promise<{ body: unknown; next?: string }> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OktaApiError(`not an absolute URL: ${describeUrl(url)} (a saved position from an older version? use --fresh or another --state)`);
    }
    // The credential goes to the org only: a next link elsewhere is refused, not followed.
    if (target.origin !== this.origin) throw new OktaApiError(`refusing to follow a link outside ${this.origin}: ${describeUrl(url)}`);
    let attempt = 0;
    let retryFor: string | undefined;
    let reauthorised = false;
    for (;;) {
      const { signal } = this.o;
      if (signal?.aborted) throw abortError();
      const pace = this.notBefore - this.o.now();
      if (pace > 0) await this.o.sleep(pace, signal);

      let authorization: string;
      try {
        authorization = await this.o.auth.header(signal);
      } catch (e) {
        // A transient fault of the token endpoint (network, 5xx, 429) is retried like one of the
        // API; a refused credential (OktaAuthError) or anything else ends the run.
        if (signal?.aborted || isAbort(e)) throw abortError();
        if (!(e instanceof OktaApiError) || e instanceof OktaAuthError || !e.retry) throw e;
        await this.retry(++attempt, this.redact(e.message), e.retry.afterMs);
        continue;
      }
      const headers: Record<string, string> = { accept: 'application/json', authorization };
      if (retryFor !== undefined) {
        headers['x-okta-retry-for'] = retryFor;
        headers['x-okta-retry-count'] = String(attempt);
      }
      let res: Response;
      let text: string;
      const timeout = AbortSignal.timeout(this.o.timeoutMs);
      try {
        res = await this.o.fetch(target.href, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
        text = await res.text();
      } catch (e) {
        if (signal?.aborted) throw abortError();
        const why = timeout.aborted ? `no answer within ${this.o.timeoutMs / 1000} s` : this.redact(networkReason(e));
        await this.retry(++attempt, `GET ${describeUrl(url)}: ${why}`);
        continue;
      }
      this.pace(res);

      if (res.status === 200) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          // A body cut short on the way: the same request again.
          await this.retry(++attempt, `GET ${describeUrl(url)}: the response is not complete JSON`);
          continue;
        }
        return { body, next: this.resolveNext(nextLink(res.headers.get('link')), target.href) };
      }
      const summary = this.redact(errorSummary(text));
      if (res.status === 401 || res.status === 403) {
        // An OAuth access token may have been revoked or expired early: one fresh token, once.
        if (res.status === 401 && this.o.auth.invalidate && !reauthorised) {
          reauthorised = true;
          this.o.auth.invalidate();
          continue;
        }
        throw new OktaAuthError(
          `GET ${describeUrl(url)}: ${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}${summary ? ` (${summary})` : ''}: ` +
            `the ${this.o.auth.describe} is not valid or lacks the ${this.o.scope} permission (an API token of an admin who may ${scopeMeaning(this.o.scope)}, or an OAuth service app granted the ${this.o.scope} scope with an admin role)`,
          res.status,
        );
      }
      if (res.status === 429) {
        retryFor = res.headers.get('x-okta-request-id') ?? retryFor;
        attempt++;
        if (attempt > this.o.maxRetries) throw new OktaApiError(`GET ${describeUrl(url)}: 429 rate limit exceeded; gave up after ${attempt - 1} retries`, 429);
        const wait = this.untilReset(res);
        // A reset already past (or a clock off) must not mean retrying at once, forever.
        const ms = Math.max(wait ?? 0, this.backoff(attempt));
        this.o.onNote?.(`okta api: rate limit exceeded (429); waiting ${(ms / 1000).toFixed(1)} s${wait === undefined ? '' : ' for the reset'}`);
        await this.o.sleep(ms, signal);
        continue;
      }
      if (res.status >= 500) {
        retryFor = res.headers.get('x-okta-request-id') ?? retryFor;
        await this.retry(++attempt, `GET ${describeUrl(url)}: ${res.status}${summary ? ` (${summary})` : ''}`);
        continue;
      }
      if (res.status >= 300 && res.status < 400) throw new OktaApiError(`GET ${describeUrl(url)}: ${res.status} redirect (is --org the Okta org URL, e.g. https://acme.okta.com?)`, res.status);
      throw new OktaApiError(`GET ${describeUrl(url)}: ${res.status}${summary ? ` (${summary})` : ''}`, res.status);
    }
  }

  /**
   * The `rel="next"` link, resolved against the page's URL and checked before the page is handed
   * on (a caller commits the link as its saved position: a bad one must never be saved).
   */
  private resolveNext(next: string | undefined, url: string): string | undefined {
    if (next === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(next, url);
    } catch {
      throw new OktaApiError(`GET ${describeUrl(url)}: the next link is not a URL; the page is refused (nothing saved)`);
    }
    if (u.origin !== this.origin) throw new OktaApiError(`GET ${describeUrl(url)}: refusing a next link outside ${this.origin} (${describeUrl(u.href)}); the page is refused (nothing saved)`);
    return u.href;
  }

  private backoff(attempt: number): number {
    return Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(attempt - 1, 30)) + this.jitter();
  }

  private jitter(): number {
    return Math.floor(this.o.random() * this.o.jitterMs);
  }

  private async retry(attempt: number, what: string, atLeastMs = 0): Promise<void> {
    if (attempt > this.o.maxRetries) throw new OktaApiError(`${what}; gave up after ${attempt - 1} retries`);
    const ms = Math.max(Math.min(atLeastMs, this.o.rateWaitMaxMs), this.backoff(attempt));
    this.o.onNote?.(`okta api: ${what}; retry ${attempt} in ${(ms / 1000).toFixed(1)} s`);
    await this.o.sleep(ms, this.o.signal);
  }

  /**
   * Milliseconds until `X-Rate-Limit-Reset` (epoch seconds), measured against the response's
   * `Date` header when present (the org's clock, as the Okta SDK does), plus jitter; undefined
   * without a usable header.
   */
  private untilReset(res: Response): number | undefined {
    const reset = header(res, 'x-rate-limit-reset');
    if (reset === undefined) return undefined;
    const date = Date.parse(res.headers.get('date') ?? '');
    const now = Number.isFinite(date) ? date : this.o.now();
    return Math.min(this.o.rateWaitMaxMs, Math.max(0, reset * 1000 - now)) + this.jitter();
  }

  /**
   * Slow down near the end of the quota: with nothing left, the next request waits for the reset;
   * with less than a tenth left, the remaining requests are spread over the time to the reset.
   */
  private pace(res: Response): void {
    const remaining = header(res, 'x-rate-limit-remaining');
    const limit = header(res, 'x-rate-limit-limit');
    if (remaining === undefined || res.status === 429) return;
    const low = limit !== undefined && limit > 0 ? remaining < limit / 10 : remaining <= 2;
    if (!low) return;
    const wait = this.untilReset(res);
    if (wait === undefined) return;
    const ms = remaining <= 0 ? wait : Math.floor(wait / (remaining + 1));
    if (remaining <= 0) this.o.onNote?.(`okta api: rate limit quota used up; waiting ${(ms / 1000).toFixed(1)} s for the reset`);
    this.notBefore = this.o.now() + ms;
  }

  private redact(s: string): string {
    let out = s;
    for (const secret of this.o.auth.secrets()) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  }
}

/** `url` as `new URL` writes it (as next links are resolved), for comparisons. */
function sameUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** The `limit` a page was asked for (from its URL), else the client's. */
function pageLimit(url: string, fallback: number): number {
  try {
    const n = Number(new URL(url).searchParams.get('limit') ?? '');
    return Number.isInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** `E0000047 API call exceeded rate limit…` from Okta's error body (one line, bounded). */
function errorSummary(text: string): string {
  try {
    const body = JSON.parse(text) as { errorCode?: unknown; errorSummary?: unknown; error?: unknown; error_description?: unknown };
    const parts = [body.errorCode ?? body.error, body.errorSummary ?? body.error_description].filter((x) => typeof x === 'string');
    return parts.join(' ').replace(/\s+/g, ' ').slice(0, 200);
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0 service app (client credentials with private_key_jwt)

export interface OAuthOptions {
  baseUrl: string;
  clientId: string;
  /** PEM (PKCS#8 or PKCS#1/SEC1) or a JWK (JSON, private part included). */
  privateKey: string;
  /** `kid` of the key registered with the app (default: the JWK's `kid`, if any). */
  keyId?: string;
  scope?: string;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

interface SigningKey {
  key: KeyObject;
  alg: 'RS256' | 'ES256';
  kid?: string;
}

function loadSigningKey(text: string, keyId?: string): SigningKey {
  let key: KeyObject;
  let kid = keyId;
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as JsonWebKey & { kid?: string };
      kid ??= typeof jwk.kid === 'string' ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk, format: 'jwk' });
    } else key = createPrivateKey(trimmed);
  } catch {
    throw new OktaApiError('--private-key: not a private key (PEM, or a JWK with its private part)');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { key, alg: 'RS256', kid };
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256', kid };
  throw new OktaApiError(`--private-key: an RSA or P-256 EC key is needed (got ${type ?? 'an unknown key type'})`);
}

/** Milliseconds until a token endpoint 429's `X-Rate-Limit-Reset` (against its `Date`), if any. */
function tokenResetWait(res: Response, nowMs: number): number | undefined {
  const reset = header(res, 'x-rate-limit-reset');
  if (reset === undefined) return undefined;
  const date = Date.parse(res.headers.get('date') ?? '');
  return Math.max(0, reset * 1000 - (Number.isFinite(date) ? date : nowMs));
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** A signed client assertion (RFC 7523) for Okta's token endpoint. */
export function clientAssertion(key: SigningKey, clientId: string, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const head = b64url(JSON.stringify({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) }));
  const claims = b64url(JSON.stringify({ iss: clientId, sub: clientId, aud: audience, iat, exp: iat + 300, jti: randomUUID() }));
  const input = `${head}.${claims}`;
  const sig = key.alg === 'RS256' ? sign('sha256', Buffer.from(input), key.key) : sign('sha256', Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

/**
 * An OAuth 2.0 service app: `client_credentials` with a `private_key_jwt` client assertion,
 * scope `okta.logs.read` (or `opts.scope`); the access token is cached until a minute before it expires.
 */
export function oauthAuth(opts: OAuthOptions): OktaAuth {
  const key = loadSigningKey(opts.privateKey, opts.keyId);
  const base = orgBaseUrl(opts.baseUrl);
  const tokenUrl = new URL('/oauth2/v1/token', base).href;
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  let cached: { token: string; until: number } | undefined;
  const secrets: string[] = [];
  const describe = `OAuth app ${opts.clientId}`;
  const scope = opts.scope ?? LOGS_SCOPE;

  async function fetchToken(signal?: AbortSignal): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(key, opts.clientId, tokenUrl, now()),
    });
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(tokenUrl, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw abortError();
      throw new OktaApiError(`POST ${tokenUrl}: ${timeout.aborted ? 'no answer' : networkReason(e)}`, undefined, {});
    }
    const summary = errorSummary(text);
    if (res.status !== 200) {
      const hint =
        res.status === 400 || res.status === 401
          ? `: the ${describe} could not get an access token with the ${scope} scope (check the client id, the registered public key, that the app uses private_key_jwt, and that ${scope} is granted)`
          : '';
      const message = `POST ${tokenUrl}: ${res.status}${summary ? ` (${summary})` : ''}${hint}`;
      if (res.status === 400 || res.status === 401 || res.status === 403) throw new OktaAuthError(message, res.status);
      // 429 (wait for the reset) and 5xx pass: the caller retries; other statuses do not.
      if (res.status === 429) throw new OktaApiError(message, res.status, { afterMs: tokenResetWait(res, now()) });
      throw new OktaApiError(message, res.status, res.status >= 500 ? {} : undefined);
    }
    let parsed: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new OktaApiError(`POST ${tokenUrl}: the response is not JSON`, 200, {});
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') throw new OktaApiError(`POST ${tokenUrl}: no access_token in the response`);
    if (typeof parsed.token_type === 'string' && parsed.token_type.toLowerCase() === 'dpop') {
      throw new OktaAuthError(`POST ${tokenUrl}: the ${describe} requires DPoP-bound tokens, which oktopus does not support yet; turn off "Require DPoP" for the app`);
    }
    checkCredential(parsed.access_token, `POST ${tokenUrl}: the access token`);
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    secrets.push(parsed.access_token);
    if (secrets.length > 8) secrets.shift();
    cached = { token: parsed.access_token, until: now() + Math.max(0, expiresIn - 60) * 1000 };
    return parsed.access_token;
  }

  return {
    describe,
    async header(signal) {
      const token = cached && now() < cached.until ? cached.token : await fetchToken(signal);
      return `Bearer ${token}`;
    },
    invalidate() {
      cached = undefined;
    },
    secrets: () => [...secrets],
  };
}
