/**
 * The System Log API poller and the live pipeline, against the fake Okta org of ./fake-okta.ts
 * (node:http on 127.0.0.1, a random port): paginated polling with next links, empty pages,
 * events out of `published` order, 429 with X-Rate-Limit-Reset, 5xx, dropped connections, 401,
 * bounded (backfill) requests, the OAuth token endpoint; restarts between pages; the CLI.
 * Waits are injected (recorded, not slept) so the suite takes seconds. Loopback traffic only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OktaAuthError, OktaApiError, OktaLogClient, nextLink, oauthAuth, sswsAuth, type ClientOptions, type Page } from '../src/sources/okta-api.js';
import { runStream, pollCheckpointName, backfillCheckpointName, type BackfillCheckpoint, type StreamOptions } from '../src/pipeline/stream.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import type { RuleIR } from '../src/ir/types.js';
import type { JsonObject } from '../src/event/types.js';
import { eq, logEvent, rule } from './helpers.js';
import { FakeOrg, TOKEN, withOrg } from './fake-okta.js';

/** Client options for tests: waits recorded, not slept. */
function client(org: FakeOrg, over: Partial<ClientOptions> = {}, sleeps: number[] = []): OktaLogClient {
  return new OktaLogClient({
    baseUrl: org.base,
    auth: sswsAuth(TOKEN),
    limit: 3, // the fake org's page size: a page with fewer events means caught up
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
    for await (const p of c.poll(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=3`)) {
      pages.push(p);
      if (p.events.some((e) => (e as JsonObject)['uuid'] === 'late') || pages.length > 10) break;
    }
    assert.deepEqual(pages.map((p) => p.events.length), [3, 1, 0, 0, 0, 1], 'a page with fewer than limit events is followed by a wait, as an empty one');
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
    for await (const p of c.poll(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=3`, { stopWhenEmpty: true })) pages.push(p);
    assert.deepEqual(pages.map((p) => p.events.length), [3, 1], 'a page not full: caught up');
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
    const args = ['watch', '--org', org.base, '--once', '--since', '2026-11-01T00:00:00Z', '--rules', join(dir, 'rule.yml'), '--state', join(dir, 's.sqlite'), '--format', 'ndjson', '--no-code', '--limit', '3'];
    const a = await cli(args, { OKTA_API_TOKEN: TOKEN }).done;
    assert.equal(a.code, 0, a.stderr);
    const alerts = a.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    assert.equal(alerts.length, 4, 'one per DENY event');
    assert.match(JSON.stringify(alerts[0]), /127\.0\.0\.1/, 'the org host is the tenant id (cloud.account.id)');
    assert.match(a.stderr, /watch: 7 pages, 20 events, 4 new alerts/);
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

// --- review fixes: caught-up detection, token-endpoint faults, bad next links, backfill end, 429 waits, credentials

/** A bare org on 127.0.0.1 (port 0) answering with `handler`; closed by `fn`'s end. */
async function withServer(handler: (req: IncomingMessage, res: ServerResponse, base: string) => void, fn: (base: string) => Promise<void>): Promise<void> {
  let base = '';
  const server = createServer((req, res) => handler(req, res, base));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await fn(base);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

test('a page with fewer than limit events is caught up (--once stops on a busy org); a next link equal to its page waits like an empty page', async () => {
  // Busy: a new event with every request, so no page is ever empty.
  const log: JsonObject[] = [];
  let requests = 0;
  await withServer(
    (req, res, base) => {
      requests++;
      log.push(logEvent({ uuid: `busy-${log.length}` }));
      const after = Number(new URL(req.url ?? '/', base).searchParams.get('after') ?? 0);
      const page = log.slice(after, after + 1000);
      sendJson(res, 200, page, { link: `<${base}/api/v1/logs?after=${after + page.length}&limit=1000>; rel="next"` });
    },
    async (base) => {
      const c = new OktaLogClient({ baseUrl: base, auth: sswsAuth(TOKEN), sleep: async () => assert.fail('no wait with --once') });
      const r = await runStream({ client: c, org: 'acme.okta.com', mode: 'once', since: '2026-11-01T00:00:00Z', rules: [denied], store: new MemoryStore(), schema: { org: 'acme.okta.com' }, sinks: [] });
      assert.equal(r.stopped, 'caught-up');
      assert.equal(requests, 1, 'one page of fewer than 1000 events: caught up');
    },
  );
  // Stuck: a non-empty page whose next link is its own URL must not be fetched back to back.
  await withServer(
    (req, res, base) => sendJson(res, 200, Array.from({ length: 3 }, (_, i) => logEvent({ uuid: `s${i}` })), { link: `<${base}/api/v1/logs?after=STUCK&limit=3>; rel="next"` }),
    async (base) => {
      const sleeps: number[] = [];
      const c = new OktaLogClient({ baseUrl: base, auth: sswsAuth(TOKEN), limit: 3, emptyWaitMs: 10, emptyWaitMaxMs: 40, sleep: async (ms) => void sleeps.push(ms) });
      let pages = 0;
      for await (const p of c.poll(`${base}/api/v1/logs?after=STUCK&limit=3`)) {
        assert.equal(p.events.length, 3);
        if (++pages === 4) break;
      }
      assert.deepEqual(sleeps, [10, 20, 40], 'full pages, but the same URL again: the empty-page wait');
      const once: Page[] = [];
      for await (const p of c.poll(`${base}/api/v1/logs?after=STUCK&limit=3`, { stopWhenEmpty: true })) once.push(p);
      assert.equal(once.length, 1, '--once stops there');
    },
  );
});

test('OAuth: a transient token-endpoint fault (503, 429 with reset, dropped connection) is retried; 400/401/403 there are fatal auth errors', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const faults: (number | 'drop')[] = [503, 429, 'drop'];
  let tokenCalls = 0;
  await withServer(
    (req, res, base) => {
      const url = new URL(req.url ?? '/', base);
      if (url.pathname === '/oauth2/v1/token') {
        tokenCalls++;
        req.resume();
        const f = faults.shift();
        if (f === 'drop') return void req.socket.destroy();
        if (f === 429) return sendJson(res, 429, { errorCode: 'E0000047' }, { 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 7) });
        if (f !== undefined) return sendJson(res, f, { errorCode: f === 503 ? 'E0000009' : 'invalid_client' });
        return sendJson(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: 'at-good' });
      }
      if (req.headers.authorization !== 'Bearer at-good') return sendJson(res, 401, {});
      sendJson(res, 200, [logEvent({ uuid: 'o1' })]);
    },
    async (base) => {
      const sleeps: number[] = [];
      const notes: string[] = [];
      const c = new OktaLogClient({ baseUrl: base, auth: oauthAuth({ baseUrl: base, clientId: '0oa-app', privateKey: pem }), jitterMs: 0, retryBaseMs: 10, retryMaxMs: 40, sleep: async (ms) => void sleeps.push(ms), onNote: (l) => notes.push(l) });
      const page = await c.fetchPage(`${base}/api/v1/logs?after=0&limit=1000`);
      assert.equal(page.events.length, 1);
      assert.equal(tokenCalls, 4);
      assert.equal(sleeps.length, 3);
      assert.ok(sleeps[1]! >= 5000, `the 429 waits for its reset: ${sleeps[1]}`);
      assert.ok(notes.every((n) => !n.includes('at-good')));
      for (const status of [400, 401, 403]) {
        faults.push(status);
        const before: number = tokenCalls;
        const d = new OktaLogClient({ baseUrl: base, auth: oauthAuth({ baseUrl: base, clientId: '0oa-app', privateKey: pem }), sleep: async () => assert.fail('no retry') });
        await assert.rejects(d.fetchPage(`${base}/api/v1/logs?after=0&limit=1000`), (e: Error) => e instanceof OktaAuthError && e.message.includes(String(status)));
        assert.equal(tokenCalls, before + 1);
      }
    },
  );
});

test('a next link to another origin refuses its page (nothing committed); a relative one is resolved and saved absolute; no next link saves the page URL', async () => {
  let mode: 'foreign' | 'relative' | 'none' = 'foreign';
  await withServer(
    (req, res, base) => {
      const next = mode === 'foreign' ? `<http://localhost:1/api/v1/logs?after=1>; rel="next"` : mode === 'relative' ? `</api/v1/logs?after=1&limit=1000>; rel="next"` : '';
      sendJson(res, 200, [logEvent({ uuid: `n-${mode}` })], next ? { link: next } : {});
    },
    async (base) => {
      const store = new MemoryStore();
      const run = () => runStream({ client: new OktaLogClient({ baseUrl: base, auth: sswsAuth(TOKEN), sleep: async () => undefined }), org: 'acme.okta.com', mode: 'once', since: '2026-11-01T00:00:00Z', rules: [denied], store, schema: { org: 'acme.okta.com' }, sinks: [] });
      await assert.rejects(run(), (e: Error) => e instanceof OktaApiError && /refusing a next link outside/.test(e.message));
      assert.equal(store.getCheckpoint(pollCheckpointName('acme.okta.com')), undefined, 'the bad link was not saved');
      mode = 'relative';
      const r = await run();
      assert.equal(r.summary.events, 1);
      assert.equal((store.getCheckpoint(pollCheckpointName('acme.okta.com')) as { next: string }).next, `${base}/api/v1/logs?after=1&limit=1000`);
      mode = 'none';
      await run(); // resumes at after=1, which has no next link: the page's own URL is saved
      assert.equal((store.getCheckpoint(pollCheckpointName('acme.okta.com')) as { next: string }).next, `${base}/api/v1/logs?after=1&limit=1000`);
    },
  );
});

test('backfill stopped after its last page was committed: the rerun fetches nothing, drains and completes', async () => {
  await withOrg(async (org) => {
    org.add(...tenantLog());
    const store = new MemoryStore();
    const opts = { mode: 'backfill' as const, since: '2026-11-02T09:00:00Z', until: '2026-11-02T12:00:00Z', sinks: [] };
    const r1 = await stream(org, store, { ...opts, maxPages: 7 }); // 20 events, 3 a page: the 7th is the last
    assert.equal(r1.stopped, 'max-pages');
    const saved = store.getCheckpoint(backfillCheckpointName('acme.okta.com')) as unknown as BackfillCheckpoint;
    assert.equal(saved.atEnd, true);
    assert.equal(saved.complete, false);
    const before = org.logRequests().length;
    const c = collector();
    const r2 = await stream(org, store, { ...opts, sinks: [c.sink] });
    assert.equal(r2.stopped, 'end');
    assert.equal(org.logRequests().length, before, 'nothing fetched again');
    assert.equal(r2.summary.events, 0);
    assert.ok(c.alerts.some((a) => a.ruleId === 'burst'), 'the drain released the held events to the stateful rule');
    assert.equal((store.getCheckpoint(backfillCheckpointName('acme.okta.com')) as unknown as BackfillCheckpoint).complete, true);
  });
});

test('a 429 whose reset is already past backs off (at least the exponential backoff), not every half second', async () => {
  let calls = 0;
  await withServer(
    (_req, res) => {
      calls++;
      sendJson(res, 429, { errorCode: 'E0000047' }, { 'x-rate-limit-limit': '60', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) - 30) });
    },
    async (base) => {
      const sleeps: number[] = [];
      const c = new OktaLogClient({ baseUrl: base, auth: sswsAuth(TOKEN), maxRetries: 5, jitterMs: 0, retryBaseMs: 1000, retryMaxMs: 60_000, sleep: async (ms) => void sleeps.push(ms) });
      await assert.rejects(c.fetchPage(`${base}/api/v1/logs`), /429 rate limit exceeded; gave up after 5 retries/);
      assert.deepEqual(sleeps, [1000, 2000, 4000, 8000, 16000]);
      assert.equal(calls, 6);
    },
  );
});

test('a token with a control or non-ASCII character fails up front with one line that does not quote it', async () => {
  for (const bad of ['abc\u200bdef-SECRET', 'tök-SECRET', 'abc\ndef-SECRET', 'ab c-SECRET']) {
    assert.throws(() => sswsAuth(bad), (e: Error) => e instanceof OktaAuthError && !e.message.includes('SECRET') && !e.message.includes('\n') && /not allowed in an HTTP header/.test(e.message));
  }
  assert.doesNotThrow(() => sswsAuth(' good-token \n'), 'surrounding whitespace is trimmed');
  // An access token the endpoint returns is checked too.
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await withServer(
    (req, res) => {
      req.resume();
      sendJson(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: 'at\u00e9-SECRET' });
    },
    async (base) => {
      const c = new OktaLogClient({ baseUrl: base, auth: oauthAuth({ baseUrl: base, clientId: '0oa', privateKey: pem }), sleep: async () => assert.fail('no retry') });
      await assert.rejects(c.fetchPage(`${base}/api/v1/logs`), (e: Error) => e instanceof OktaAuthError && !e.message.includes('SECRET'));
    },
  );
});
