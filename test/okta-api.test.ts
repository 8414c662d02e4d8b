/**
 * The System Log API poller and the live pipeline, against a fake Okta org written here
 * (node:http on 127.0.0.1, a random port): paginated polling with next links, empty pages,
 * events out of `published` order, 429 with X-Rate-Limit-Reset, 5xx, dropped connections, 401,
 * bounded (backfill) requests, the OAuth token endpoint; restarts between pages; the CLI.
 * Waits are injected (recorded, not slept) so the suite takes seconds. Loopback traffic only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OktaAuthError, OktaApiError, OktaLogClient, nextLink, oauthAuth, sswsAuth, type ClientOptions, type Page } from '../src/sources/okta-api.js';
import { runStream, pollCheckpointName, type StreamOptions } from '../src/pipeline/stream.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import type { RuleIR } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { eq, logEvent, rule } from './helpers.js';

const TOKEN = 'ssws-secret-0123456789abcdef';

interface Fault {
  status?: number;
  /** X-Rate-Limit-Reset, seconds from now. */
  resetIn?: number;
  /** Destroy the connection instead of answering. */
  drop?: boolean;
  body?: string;
}

interface Seen {
  url: URL;
  headers: IncomingMessage['headers'];
}

/** A fake Okta org: /api/v1/logs (polling and bounded), /oauth2/v1/token. */
class FakeOrg {
  server!: Server;
  base = '';
  /** The System Log in persistence order. */
  log: { event: JsonObject; persisted: number }[] = [];
  /** Largest page served (whatever `limit` asks). */
  pageSize = 3;
  faults: Fault[] = [];
  requests: Seen[] = [];
  /** Remaining-quota header values to send, one per successful response (default 50). */
  remaining: number[] = [];
  /** Accepted Authorization header values. */
  accept = new Set([`SSWS ${TOKEN}`]);
  /** OAuth: the app's public key and client id; tokens issued. */
  oauth?: { clientId: string; key: KeyObject; alg: 'RS256' | 'ES256'; issued: number; expiresIn: number };
  private clock = Date.parse('2026-11-02T10:00:00Z');

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  add(...events: JsonObject[]): void {
    for (const event of events) this.log.push({ event, persisted: (this.clock += 1000) });
  }

  logRequests(): Seen[] {
    return this.requests.filter((r) => r.url.pathname === '/api/v1/logs');
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    this.requests.push({ url, headers: req.headers });
    if (url.pathname === '/oauth2/v1/token') return void this.token(req, res);
    if (url.pathname !== '/api/v1/logs') return this.json(res, 404, { errorCode: 'E0000022', errorSummary: 'The endpoint does not support the provided HTTP method' });
    if (!this.accept.has(String(req.headers.authorization))) {
      return this.json(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    }
    const fault = this.faults.shift();
    const requestId = `req-${this.requests.length}`;
    if (fault?.drop) return void req.socket.destroy();
    if (fault) {
      const headers: Record<string, string> = { 'x-okta-request-id': requestId };
      if (fault.resetIn !== undefined) {
        Object.assign(headers, { 'x-rate-limit-limit': '60', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + fault.resetIn) });
      }
      res.writeHead(fault.status ?? 500, { 'content-type': 'application/json', ...headers });
      return void res.end(fault.body ?? JSON.stringify(fault.status === 429 ? { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' } : { errorCode: 'E0000009', errorSummary: 'Internal Server Error' }));
    }
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), this.pageSize);
    const after = url.searchParams.get('after');
    let list: JsonObject[];
    let from: number;
    let bounded: { since: string; until: string } | undefined;
    if (after?.startsWith('b:')) {
      const [, i, since, until] = after.split('|').length === 4 ? after.split('|') : [];
      bounded = { since: since!, until: until! };
      from = Number(i);
    } else if (url.searchParams.has('until')) {
      bounded = { since: url.searchParams.get('since')!, until: url.searchParams.get('until')! };
      from = 0;
    } else if (after !== null) from = Number(after);
    else {
      const since = Date.parse(url.searchParams.get('since') ?? '');
      from = this.log.findIndex((e) => e.persisted >= since);
      if (from < 0) from = this.log.length;
    }
    if (bounded) {
      const lo = Date.parse(bounded.since);
      const hi = Date.parse(bounded.until);
      list = this.log
        .map((e) => e.event)
        .filter((e) => Date.parse(String(e['published'])) >= lo && Date.parse(String(e['published'])) < hi)
        .sort((a, b) => Date.parse(String(a['published'])) - Date.parse(String(b['published'])));
    } else list = this.log.map((e) => e.event);
    const page = list.slice(from, from + limit);
    const next = from + page.length;
    const links = [`<${url.href}>; rel="self"`];
    if (!bounded) links.push(`<${this.base}/api/v1/logs?limit=${url.searchParams.get('limit')}&after=${next}>; rel="next"`);
    else if (next < list.length) links.push(`<${this.base}/api/v1/logs?limit=${url.searchParams.get('limit')}&after=b:|${next}|${bounded.since}|${bounded.until}>; rel="next"`);
    const remaining = this.remaining.shift() ?? 50;
    this.json(res, 200, page, {
      link: links.join(', '),
      'x-rate-limit-limit': '60',
      'x-rate-limit-remaining': String(remaining),
      'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 1),
    });
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const form = new URLSearchParams(text);
    const o = this.oauth;
    const bad = (d: string) => this.json(res, 401, { error: 'invalid_client', error_description: d });
    if (!o) return bad('no app');
    if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== 'okta.logs.read') return this.json(res, 400, { error: 'invalid_request' });
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return bad('assertion type');
    const [h, c, s] = (form.get('client_assertion') ?? '').split('.');
    const head = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { alg: string };
    const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
    const ok = verify('sha256', Buffer.from(`${h}.${c}`), o.alg === 'ES256' ? { key: o.key, dsaEncoding: 'ieee-p1363' } : o.key, Buffer.from(s!, 'base64url'));
    if (!ok || head.alg !== o.alg) return bad('The client_assertion signature is invalid.');
    if (claims['iss'] !== o.clientId || claims['sub'] !== o.clientId || claims['aud'] !== `${this.base}/oauth2/v1/token`) return bad('claims');
    if (typeof claims['exp'] !== 'number' || typeof claims['jti'] !== 'string') return bad('exp/jti');
    const token = `at-${++o.issued}`;
    this.accept.add(`Bearer ${token}`);
    this.json(res, 200, { token_type: 'Bearer', expires_in: o.expiresIn, access_token: token, scope: 'okta.logs.read' });
  }
}

async function withOrg(fn: (org: FakeOrg) => Promise<void>): Promise<void> {
  const org = await new FakeOrg().start();
  try {
    await fn(org);
  } finally {
    await org.stop();
  }
}

/** Client options for tests: waits recorded, not slept. */
function client(org: FakeOrg, over: Partial<ClientOptions> = {}, sleeps: number[] = []): OktaLogClient {
  return new OktaLogClient({
    baseUrl: org.base,
    auth: sswsAuth(TOKEN),
    jitterMs: 0,
    retryBaseMs: 10,
    retryMaxMs: 40,
    emptyWaitMs: 10,
    emptyWaitMaxMs: 40,
    sleep: async (ms) => void sleeps.push(ms),
    ...over,
  });
}

const min = (m: number) => new Date(Date.parse('2026-11-02T10:00:00.000Z') + m * 60_000).toISOString();
const ann = { id: '00u1', type: 'User', alternateId: 'ann@acme.com', displayName: 'Ann' };
const bob = { id: '00u2', type: 'User', alternateId: 'bob@acme.com', displayName: 'Bob' };

/** Three sign-ins by one user within 10 minutes (stateful: needs published order). */
const burst: RuleIR = rule('burst', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' }, [
  { type: 'dedup', key: [{ name: 'actor.alternateId', schema: 'okta' }], periodMs: 10 * 60_000, threshold: 3 },
]);
/** Every MFA denial (stateless). */
const denied: RuleIR = rule('denied', eq('outcome.result', 'DENY'));

/** 20 events over 40 minutes, persisted out of `published` order. */
function tenantLog(): JsonObject[] {
  const evs: JsonObject[] = [];
  for (let i = 0; i < 20; i++) {
    const who = i % 3 === 0 ? bob : ann;
    evs.push(logEvent({ uuid: `u${i}`, published: min(i * 2), actor: who, ...(i % 5 === 4 ? { eventType: 'user.authentication.auth_via_mfa', outcome: { result: 'DENY' } } : {}) }));
  }
  // Persistence order differs from published order by up to a few minutes.
  for (let i = 0; i + 1 < evs.length; i += 3) [evs[i], evs[i + 1]] = [evs[i + 1]!, evs[i]!];
  return evs;
}

function collector(): { alerts: StoredAlert[]; sink: StreamOptions['sinks'][number] } {
  const alerts: StoredAlert[] = [];
  return { alerts, sink: { write: (a) => void alerts.push(a), close: async () => undefined } };
}

function stream(org: FakeOrg, store: StateStore, over: Partial<StreamOptions> & { sinks: StreamOptions['sinks'] }) {
  return runStream({
    client: client(org),
    org: 'acme.okta.com',
    mode: 'once',
    since: '2026-11-01T00:00:00Z',
    rules: [burst, denied],
    store,
    schema: { org: 'acme.okta.com' },
    ...over,
  });
}

test('nextLink reads rel="next" among several links', () => {
  assert.equal(nextLink('<https://a.okta.com/api/v1/logs?q=1>; rel="self", <https://a.okta.com/api/v1/logs?after=X&limit=5>; rel="next"'), 'https://a.okta.com/api/v1/logs?after=X&limit=5');
  assert.equal(nextLink('<https://a.okta.com/x>; rel="self"'), undefined);
  assert.equal(nextLink(null), undefined);
});

test('polling: since + ASCENDING + limit=1000, no until; next links followed; raw events unmodified; empty pages back off, capped', async () => {
  await withOrg(async (org) => {
    const first = [logEvent({ uuid: 'a', device: { id: 'dev1', managed: true }, authenticationContext: { rootSessionId: 'root1', authenticationStep: 0 } }), logEvent({ uuid: 'b' }), logEvent({ uuid: 'c' }), logEvent({ uuid: 'd' })];
    org.add(...first);
    const sleeps: number[] = [];
    const c = client(org, { sleep: async (ms) => {
      sleeps.push(ms);
      if (sleeps.length === 4) org.add(logEvent({ uuid: 'late' })); // arrives while we wait
    } });
    const pages: Page[] = [];
    for await (const p of c.poll(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=1000`)) {
      pages.push(p);
      if (p.events.some((e) => (e as JsonObject)['uuid'] === 'late') || pages.length > 10) break;
    }
    assert.deepEqual(pages.map((p) => p.events.length), [3, 1, 0, 0, 0, 0, 1]);
    assert.deepEqual(pages.slice(0, 2).flatMap((p) => p.events), first, 'events are passed on exactly as served (device, rootSessionId kept)');
    assert.deepEqual(sleeps, [10, 20, 40, 40], 'empty pages: doubling wait, capped');
    const reqs = org.logRequests();
    assert.equal(reqs[0]!.url.searchParams.get('sortOrder'), 'ASCENDING');
    assert.equal(reqs[0]!.url.searchParams.has('until'), false);
    assert.equal(reqs[0]!.headers.authorization, `SSWS ${TOKEN}`);
    assert.ok(reqs.slice(1).every((r) => r.url.searchParams.has('after') && !r.url.searchParams.has('since')), 'later pages follow the next links');
  });
});

test('a 429 waits until X-Rate-Limit-Reset and retries with X-Okta-Retry-For/Count; quota near zero slows down', async () => {
  await withOrg(async (org) => {
    org.add(logEvent(), logEvent(), logEvent(), logEvent());
    org.faults.push({ status: 429, resetIn: 3 });
    org.remaining = [0]; // the first successful page uses up the quota
    const sleeps: number[] = [];
    const notes: string[] = [];
    const c = client(org, { sleep: async (ms) => void sleeps.push(ms), onNote: (l) => notes.push(l) });
    const pages: Page[] = [];
    for await (const p of c.poll(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=1000`, { stopWhenEmpty: true })) pages.push(p);
    assert.deepEqual(pages.map((p) => p.events.length), [3, 1, 0]);
    // Reset is 3 s after now, measured against the response's Date header (1 s resolution).
    assert.ok(sleeps[0]! >= 2000 && sleeps[0]! <= 4000, `429 wait ${sleeps[0]}`);
    assert.ok(sleeps.length >= 2 && sleeps[1]! > 0, 'the request after a page with no quota left waits for the reset');
    const reqs = org.logRequests();
    assert.equal(reqs[1]!.headers['x-okta-retry-count'], '1');
    assert.equal(reqs[1]!.headers['x-okta-retry-for'], 'req-1');
    assert.ok(notes.some((n) => /429/.test(n)));
  });
});

test('5xx and dropped connections retry with capped exponential backoff; a persistent 5xx gives up after --max-retries', async () => {
  await withOrg(async (org) => {
    org.add(logEvent(), logEvent());
    org.faults.push({ status: 500 }, { drop: true }, { status: 503 }, { status: 502 });
    const sleeps: number[] = [];
    const page = await client(org, {}, sleeps).fetchPage(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=1000`);
    assert.equal(page.events.length, 2);
    assert.deepEqual(sleeps, [10, 20, 40, 40]);

    org.faults.push(...Array.from({ length: 5 }, () => ({ status: 500 })));
    await assert.rejects(client(org, { maxRetries: 2 }).fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`), (e: Error) => {
      assert.ok(e instanceof OktaApiError);
      assert.match(e.message, /500 .*gave up after 2 retries/);
      return true;
    });
  });
});

test('401 stops with one line naming okta.logs.read, without the token; next links to another host are refused', async () => {
  await withOrg(async (org) => {
    org.accept.clear();
    await assert.rejects(client(org).fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`), (e: Error) => {
      assert.ok(e instanceof OktaAuthError);
      assert.match(e.message, /401 Unauthorized \(E0000011 Invalid token provided\).*okta\.logs\.read/);
      assert.ok(!e.message.includes(TOKEN) && !e.message.includes('\n'));
      return true;
    });
    assert.equal(org.logRequests().length, 1, 'no retry on 401');
    await assert.rejects(client(org).fetchPage('http://127.0.0.2:1/api/v1/logs?after=1'), /refusing to follow a link outside/);
  });
});

test('restarts between pages (ten, at varying points, with events arriving meanwhile) give exactly the alerts of one uninterrupted run', async () => {
  const log = tenantLog();
  // One uninterrupted run over the whole log.
  let reference: string[] = [];
  await withOrg(async (org) => {
    org.add(...log);
    const c = collector();
    const r = await stream(org, new MemoryStore(), { sinks: [c.sink] });
    assert.equal(r.stopped, 'caught-up');
    assert.equal(r.summary.events, 20);
    reference = c.alerts.map((a) => a.uuid).sort();
    assert.ok(c.alerts.some((a) => a.ruleId === 'burst') && c.alerts.some((a) => a.ruleId === 'denied'));
  });
  await withOrg(async (org) => {
    org.add(...log.slice(0, 8)); // the rest arrives while the watch restarts
    const path = join(mkdtempSync(join(tmpdir(), 'oktopus-api-')), 'state.sqlite');
    const c = collector();
    let events = 0;
    let duplicates = 0;
    const stops = [1, 2, 1, 3, 1, 1, 2, 1, 2, 1];
    for (let run = 0; run < stops.length; run++) {
      if (run === 3) org.add(...log.slice(8, 14));
      if (run === 6) org.add(...log.slice(14));
      const store = new SqliteStore(path);
      try {
        const r = await stream(org, store, { sinks: [c.sink], mode: 'watch', maxPages: stops[run] });
        assert.equal(r.stopped, 'max-pages');
        events += r.summary.events;
        duplicates += r.summary.duplicates;
      } finally {
        store.close();
      }
    }
    // And a last run to the end.
    const store = new SqliteStore(path);
    try {
      const r = await stream(org, store, { sinks: [c.sink], since: '2030-01-01T00:00:00Z' });
      assert.equal(r.stopped, 'caught-up');
      events += r.summary.events;
      duplicates += r.summary.duplicates;
      const saved = store.getCheckpoint(pollCheckpointName('acme.okta.com')) as { next: string; since: string };
      assert.equal(saved.since, '2026-11-01T00:00:00.000Z', 'the saved poll keeps its start; a later --since is ignored');
      assert.match(saved.next, /after=20/);
    } finally {
      store.close();
    }
    assert.equal(events, 20, 'every event once');
    assert.equal(duplicates, 0, 'no page fetched twice');
    assert.deepEqual(c.alerts.map((a) => a.uuid).sort(), reference);
    const polls = org.logRequests().filter((r) => r.url.searchParams.has('since'));
    assert.equal(polls.length, 1, 'only the first run starts a poll; the others resume from the saved next link');
  });
});

test('an abort while waiting (SIGINT/SIGTERM) stops after the last committed page; the next run resumes there', async () => {
  await withOrg(async (org) => {
    org.add(...tenantLog().slice(0, 5));
    const store = new MemoryStore();
    const ac = new AbortController();
    const c = collector();
    const r = await stream(org, store, {
      sinks: [c.sink],
      mode: 'watch',
      signal: ac.signal,
      client: client(org, {
        signal: ac.signal,
        sleep: async () => {
          ac.abort();
          const e = new Error('aborted');
          e.name = 'AbortError';
          throw e;
        },
      }),
    });
    assert.equal(r.stopped, 'aborted');
    assert.equal(r.summary.events, 5);
    org.add(...tenantLog().slice(5, 7).map((e) => ({ ...e, uuid: `x-${String(e['uuid'])}` })));
    const r2 = await stream(org, store, { sinks: [c.sink] });
    assert.equal(r2.summary.events, 2);
    assert.equal(r2.summary.duplicates, 0);
  });
});

test('backfill: bounded requests (since + until) to the last page, windows drained at the end; a finished range is not fetched again', async () => {
  await withOrg(async (org) => {
    org.add(...tenantLog());
    const store = new MemoryStore();
    const c = collector();
    const opts = { sinks: [c.sink], mode: 'backfill' as const, since: min(0), until: min(20) };
    const r = await stream(org, store, { ...opts, maxPages: 2 });
    assert.equal(r.stopped, 'max-pages');
    const r2 = await stream(org, store, opts);
    assert.equal(r2.stopped, 'end');
    assert.equal(r.summary.events + r2.summary.events, 10, 'published in [since, until)');
    assert.equal(r2.engine.buffered, 0, 'the reorder window is drained at the end of the range');
    const first = org.logRequests()[0]!.url.searchParams;
    assert.equal(first.get('until'), min(20));
    assert.equal(first.get('since'), min(0));
    assert.ok(c.alerts.some((a) => a.ruleId === 'burst'));
    const before = org.logRequests().length;
    const r3 = await stream(org, store, opts);
    assert.equal(r3.stopped, 'already-done');
    assert.equal(org.logRequests().length, before);
  });
});

test('a bad event is reported on one line and the page goes on', async () => {
  await withOrg(async (org) => {
    org.add(logEvent({ uuid: 'ok1' }), { uuid: 'broken', published: 'yesterday-ish' } as JsonObject, logEvent({ uuid: 'ok2' }));
    const bad: string[] = [];
    const r = await stream(org, new MemoryStore(), { sinks: [], onBadRecord: (l) => bad.push(l) });
    assert.equal(r.summary.events, 2);
    assert.equal(bad.length, 1);
    assert.match(bad[0]!, /^okta-api:page 1:2: /);
  });
});

for (const alg of ['RS256', 'ES256'] as const) {
  test(`OAuth service app (${alg}): private_key_jwt assertion, scope okta.logs.read, token cached until expiry, renewed after a 401`, async () => {
    await withOrg(async (org) => {
      const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      org.oauth = { clientId: '0oa-app', key: publicKey, alg, issued: 0, expiresIn: 3600 };
      org.add(logEvent(), logEvent(), logEvent(), logEvent());
      let now = Date.parse('2026-11-02T10:00:00Z');
      const pem = alg === 'RS256' ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() : JSON.stringify(privateKey.export({ format: 'jwk' }));
      const auth = oauthAuth({ baseUrl: org.base, clientId: '0oa-app', privateKey: pem, now: () => now });
      const c = client(org, { auth });
      await c.fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`);
      await c.fetchPage(`${org.base}/api/v1/logs?after=3&limit=1000`);
      assert.equal(org.oauth.issued, 1, 'one token for both pages');
      assert.equal(org.logRequests()[0]!.headers.authorization, 'Bearer at-1');
      now += 3600_000;
      await c.fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`);
      assert.equal(org.oauth.issued, 2, 'renewed at expiry');
      org.accept.delete('Bearer at-2'); // revoked
      await c.fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`);
      assert.equal(org.oauth.issued, 3, 'a 401 gets one fresh token');
      // A key the app does not know: a clear error, no token or assertion in it.
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const wrong = client(org, { auth: oauthAuth({ baseUrl: org.base, clientId: '0oa-app', privateKey: other }) });
      await assert.rejects(wrong.fetchPage(`${org.base}/api/v1/logs?after=0&limit=1000`), (e: Error) => {
        assert.ok(e instanceof OktaAuthError);
        assert.match(e.message, /401 \(invalid_client The client_assertion signature is invalid\.\).*okta\.logs\.read/);
        return true;
      });
    });
  });
}

// --- the CLI, as a child process (the fake org answers from this process) -----------------------

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SIGMA_RULE = `title: Test sign-in denied
id: 6f1d8c2e-0a4b-4c1e-9b7a-3d2e1f0a9b8c
logsource: {product: okta, service: okta}
detection:
  sel: {outcome.result: DENY}
  condition: sel
level: high
`;

function cli(args: string[], env: Record<string, string | undefined> = {}): { done: Promise<{ code: number; stdout: string; stderr: string }>; kill: (sig: NodeJS.Signals) => void } {
  let child!: ReturnType<typeof execFile>;
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, OKTA_API_TOKEN: undefined, OKTOPUS_ORG: undefined, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
  return { done, kill: (sig) => child.kill(sig) };
}

test('CLI: watch --once drains what is there and exits; a rerun resumes (nothing twice); the token never shows', async () => {
  await withOrg(async (org) => {
    org.add(...tenantLog());
    const dir = mkdtempSync(join(tmpdir(), 'oktopus-cli-'));
    writeFileSync(join(dir, 'rule.yml'), SIGMA_RULE);
    const args = ['watch', '--org', org.base, '--once', '--since', '2026-11-01T00:00:00Z', '--rules', join(dir, 'rule.yml'), '--state', join(dir, 's.sqlite'), '--format', 'ndjson', '--no-code'];
    const a = await cli(args, { OKTA_API_TOKEN: TOKEN }).done;
    assert.equal(a.code, 0, a.stderr);
    const alerts = a.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    assert.equal(alerts.length, 4, 'one per DENY event');
    assert.match(JSON.stringify(alerts[0]), /127\.0\.0\.1/, 'the org host is the tenant id (cloud.account.id)');
    assert.match(a.stderr, /watch: 8 pages, 20 events, 4 new alerts/);
    org.add(logEvent({ uuid: 'new-deny', outcome: { result: 'DENY' } }));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN + '\n');
    const b = await cli([...args, '--token-file', tokenFile]).done;
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.trim().split('\n').length, 1, 'only the new event alerts');
    assert.match(b.stderr, /resuming the poll/);
    for (const out of [a.stdout, a.stderr, b.stdout, b.stderr]) assert.ok(!out.includes(TOKEN));
  });
});

test('CLI: a rejected token exits 2 with one line naming okta.logs.read and without the token; no credential is a usage error', async () => {
  await withOrg(async (org) => {
    const dir = mkdtempSync(join(tmpdir(), 'oktopus-cli-'));
    writeFileSync(join(dir, 'rule.yml'), SIGMA_RULE);
    const r = await cli(['watch', '--org', org.base, '--once', '--memory', '--no-code', '--quiet', '--rules', join(dir, 'rule.yml')], { OKTA_API_TOKEN: 'wrong-' + TOKEN }).done;
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs\?since=.* 401 .*okta\.logs\.read/);
    assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
    const none = await cli(['watch', '--org', org.base, '--once', '--memory', '--no-code']).done;
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no Okta credential: set OKTA_API_TOKEN/);
  });
});

test('CLI: watch runs until SIGTERM, then commits and exits 0', async () => {
  await withOrg(async (org) => {
    org.add(...tenantLog().slice(0, 4));
    const dir = mkdtempSync(join(tmpdir(), 'oktopus-cli-'));
    writeFileSync(join(dir, 'rule.yml'), SIGMA_RULE);
    const run = cli(['watch', '--org', org.base, '--rules', join(dir, 'rule.yml'), '--state', join(dir, 's.sqlite'), '--no-code', '--format', 'ndjson', '--empty-wait', '0.05', '--empty-wait-max', '0.05', '--since', '2026-11-01T00:00:00Z'], { OKTA_API_TOKEN: TOKEN });
    for (let i = 0; i < 200 && org.logRequests().length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(org.logRequests().length >= 5, 'the watch keeps polling');
    run.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /SIGTERM: stopping/);
    assert.match(r.stderr, /watch: \d+ pages, 4 events/);
  });
});
