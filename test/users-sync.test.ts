/**
 * `oktopus users sync`: the user directory from `GET /api/v1/users`, against a fake Okta org
 * written here (node:http on 127.0.0.1, a random port): pages of 2 users linked by rel="next",
 * a 429 with X-Rate-Limit-Reset, 403 without okta.users.read, the OAuth token endpoint. In-process
 * waits are injected (recorded, not slept); the CLI runs as a child process. Loopback only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OktaAuthError, OktaLogClient, oauthAuth, sswsAuth, type ClientOptions } from '../src/sources/okta-api.js';
import { usersSync } from '../src/enrich/commands.js';
import { importUsers, USERS_NS, type UserProfile } from '../src/enrich/users.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';

const TOKEN = 'ssws-users-secret-9f8e7d6c5b4a';

interface Seen {
  url: URL;
  headers: IncomingMessage['headers'];
}

/** Okta user objects as `GET /api/v1/users` returns them (fields under `profile`). */
function oktaUser(id: number, profile: Record<string, unknown>): Record<string, unknown> {
  return {
    id: `00u${id}`,
    status: 'ACTIVE',
    created: '2026-01-01T00:00:00.000Z',
    profile: { firstName: `First${id}`, lastName: `Last${id}`, mobilePhone: null, secondEmail: null, ...profile },
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `https://example.okta.com/api/v1/users/00u${id}` } },
  };
}

const DIRECTORY = [
  oktaUser(1, { login: 'Ann@acme.com', email: 'ann@acme.com', city: 'Berlin', state: 'Berlin', countryCode: 'DE', timezone: 'Europe/Berlin' }),
  oktaUser(2, { login: 'bob@acme.com', email: 'bob@acme.com', city: 'Austin', state: 'TX', countryCode: 'US', timezone: 'America/Chicago' }),
  oktaUser(3, { login: 'cho@acme.com', email: 'cho@acme.com', countryCode: 'ZZ' }),
  oktaUser(4, { email: 'nologin@acme.com' }),
  oktaUser(5, { login: 'dee@acme.com', email: 'dee@acme.com' }),
];

/** A fake org: /api/v1/users (pages of `pageSize`, cursor `after`), /oauth2/v1/token. */
class FakeOrg {
  server!: Server;
  base = '';
  users = DIRECTORY;
  pageSize = 2;
  requests: Seen[] = [];
  /** Statuses to answer instead of the next users request (429 carries reset headers). */
  faults: number[] = [];
  accept = new Set([`SSWS ${TOKEN}`]);
  /** Scope each token request asked for. */
  scopes: string[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  usersRequests(): Seen[] {
    return this.requests.filter((r) => r.url.pathname === '/api/v1/users');
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    this.requests.push({ url, headers: req.headers });
    if (url.pathname === '/oauth2/v1/token') {
      let text = '';
      for await (const chunk of req) text += chunk;
      const form = new URLSearchParams(text);
      this.scopes.push(form.get('scope') ?? '');
      if (form.get('grant_type') !== 'client_credentials' || !form.get('client_assertion')) return this.json(res, 400, { error: 'invalid_request' });
      const token = `at-users-${this.scopes.length}`;
      this.accept.add(`Bearer ${token}`);
      return this.json(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: token, scope: form.get('scope') });
    }
    if (url.pathname !== '/api/v1/users') return this.json(res, 404, { errorCode: 'E0000022', errorSummary: 'not found' });
    if (!this.accept.has(String(req.headers.authorization))) return this.json(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    const fault = this.faults.shift();
    if (fault === 403) return this.json(res, 403, { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action' });
    if (fault === 429) {
      return this.json(res, 429, { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' }, {
        'x-okta-request-id': `req-${this.requests.length}`,
        'x-rate-limit-limit': '600',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(Math.floor(Date.now() / 1000)),
      });
    }
    if (fault !== undefined) return this.json(res, fault, { errorCode: 'E0000009', errorSummary: 'Internal Server Error' });
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 200), this.pageSize);
    const after = Number(url.searchParams.get('after') ?? 0);
    const page = this.users.slice(after, after + limit);
    const headers: Record<string, string> = { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '599', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 60) };
    const links = [`<${this.base}/api/v1/users?limit=${url.searchParams.get('limit')}${after ? `&after=${after}` : ''}>; rel="self"`];
    if (after + limit < this.users.length) links.push(`<${this.base}/api/v1/users?after=${after + limit}&limit=${url.searchParams.get('limit')}>; rel="next"`);
    headers['link'] = links.join(', ');
    this.json(res, 200, page, headers);
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

function client(org: FakeOrg, over: Partial<ClientOptions> = {}, sleeps: number[] = []): OktaLogClient {
  return new OktaLogClient({
    baseUrl: org.base,
    auth: sswsAuth(TOKEN),
    scope: 'okta.users.read',
    jitterMs: 0,
    retryBaseMs: 10,
    retryMaxMs: 40,
    maxRetries: 3,
    sleep: async (ms) => void sleeps.push(ms),
    ...over,
  });
}

const stored = (store: MemoryStore | SqliteStore): Map<string, UserProfile> => new Map([...store.entries(USERS_NS)].map(([k, v]) => [k, v as unknown as UserProfile]));

test('users sync: limit=200, rel="next" followed over the pages, a 429 waits and retries, profiles mapped, the directory replaced in one go', async () => {
  await withOrg(async (org) => {
    const store = new MemoryStore();
    importUsers(store, [{ login: 'gone@acme.com', countryCode: 'FR' }, { login: 'bob@acme.com', city: 'Old City' }]);
    const sleeps: number[] = [];
    const warnings: string[] = [];
    // The first page answers at once; the second page's first try gets a 429.
    let n = 0;
    const fetchWith429: typeof fetch = async (input, init) => {
      if (++n === 2) org.faults.push(429);
      return fetch(input, init);
    };
    const r = await usersSync(store, client(org, { fetch: fetchWith429 }, sleeps), (l) => void warnings.push(l));

    const reqs = org.usersRequests();
    assert.equal(reqs.length, 4, 'three pages of two users, one of them asked twice (429)');
    assert.equal(reqs[0]!.url.searchParams.get('limit'), '200');
    assert.equal(reqs[0]!.url.searchParams.get('after'), null);
    assert.equal(reqs[1]!.url.searchParams.get('after'), '2', 'the next link, as given');
    assert.equal(reqs[2]!.url.searchParams.get('after'), '2', 'the same page again after the 429');
    assert.ok(reqs[2]!.headers['x-okta-retry-for'], 'the retry names the request it retries');
    assert.equal(reqs[2]!.headers['x-okta-retry-count'], '1');
    assert.equal(reqs[3]!.url.searchParams.get('after'), '4');
    assert.equal(sleeps.length, 1, 'one wait, for the rate-limit reset');
    assert.ok(sleeps[0]! <= 1000, `waited until the reset (now), got ${sleeps[0]} ms`);
    for (const q of reqs) assert.equal(q.headers.authorization, `SSWS ${TOKEN}`);

    assert.deepEqual(r, { imported: 4, pages: 3, located: 2, skipped: 1 });
    const dir = stored(store);
    assert.deepEqual([...dir.keys()].sort(), ['ann@acme.com', 'bob@acme.com', 'cho@acme.com', 'dee@acme.com'], 'gone@ removed; keys lower-cased');
    const ann = dir.get('ann@acme.com')!;
    assert.equal(ann.login, 'Ann@acme.com');
    assert.equal(ann.city, 'Berlin');
    assert.equal(ann.state, 'Berlin');
    assert.equal(ann.countryCode, 'DE');
    assert.equal(ann.timezone, 'Europe/Berlin');
    assert.ok(ann.precision === 'region' || ann.precision === 'country');
    assert.equal(typeof ann.lat, 'number');
    const bob = dir.get('bob@acme.com')!;
    assert.equal(bob.city, 'Austin', 'the old profile was replaced');
    assert.equal(bob.countryCode, 'US');
    assert.equal(bob.precision, 'region', 'US state TX: the state centre');
    assert.equal(dir.get('cho@acme.com')!.countryCode, undefined, 'an unknown country code is dropped, the user kept');
    assert.equal(dir.get('dee@acme.com')!.lat, undefined, 'no location: no place');
    assert.ok(warnings.some((w) => /unknown countryCode "ZZ"/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /user 4: no profile\.login; skipped/.test(w)), warnings.join('\n'));
  });
});

test('users sync: 403 names okta.users.read without the token; a failure midway leaves the stored directory as it was', async () => {
  await withOrg(async (org) => {
    const store = new MemoryStore();
    importUsers(store, [{ login: 'keep@acme.com', countryCode: 'FR' }]);
    org.faults = [403];
    await assert.rejects(usersSync(store, client(org)), (e: Error) => {
      assert.ok(e instanceof OktaAuthError);
      assert.match(e.message, /403 Forbidden/);
      assert.match(e.message, /okta\.users\.read/);
      assert.match(e.message, /read users/);
      assert.doesNotMatch(e.message, /okta\.logs\.read/);
      assert.ok(!e.message.includes(TOKEN));
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.deepEqual([...stored(store).keys()], ['keep@acme.com']);

    // The second page fails for good (5xx past --max-retries): nothing replaced.
    let n = 0;
    const failSecond: typeof fetch = async (input, init) => {
      if (++n >= 2) org.faults.push(500);
      return fetch(input, init);
    };
    await assert.rejects(usersSync(store, client(org, { fetch: failSecond, maxRetries: 2 })), /500.*gave up after 2 retries/);
    assert.deepEqual([...stored(store).keys()], ['keep@acme.com']);
  });
});

test('users sync: an OAuth service app asks for the okta.users.read scope', async () => {
  await withOrg(async (org) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const auth = oauthAuth({ baseUrl: org.base, clientId: '0oaUsers', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), scope: 'okta.users.read' });
    const store = new MemoryStore();
    const r = await usersSync(store, client(org, { auth }));
    assert.equal(r.imported, 4);
    assert.deepEqual(org.scopes, ['okta.users.read'], 'one token, cached for the three pages');
    assert.ok(org.usersRequests().every((q) => q.headers.authorization === 'Bearer at-users-1'));
  });
});

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, OKTA_API_TOKEN: undefined, OKTOPUS_ORG: undefined, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('CLI: users sync (two pages, a 429) prints one summary line, stores the directory; the token never shows', async () => {
  await withOrg(async (org) => {
    org.users = DIRECTORY.slice(0, 3);
    org.faults = [429]; // on the first request: reset = now, so the wait is the jitter only (< 1 s)
    const dir = mkdtempSync(join(tmpdir(), 'oktopus-users-sync-'));
    const state = join(dir, 's.sqlite');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN + '\n');
    const a = await cli(['users', 'sync', '--org', org.base, '--token-file', tokenFile, '--state', state]);
    assert.equal(a.code, 0, a.stderr);
    const lines = a.stdout.trim().split('\n');
    assert.equal(lines.length, 1, a.stdout);
    assert.match(lines[0]!, /^synced 3 user profiles from http:\/\/127\.0\.0\.1:\d+ \(2 pages, 2 with a country\); the directory now holds these only$/);
    assert.match(a.stderr, /rate limit exceeded \(429\); waiting/);
    assert.equal(org.usersRequests().length, 3);
    const store = new SqliteStore(state);
    try {
      assert.deepEqual([...stored(store).keys()].sort(), ['ann@acme.com', 'bob@acme.com', 'cho@acme.com']);
    } finally {
      store.close();
    }
    const b = await cli(['users', 'sync', '--org', org.base, '--state', state], { OKTA_API_TOKEN: TOKEN });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^synced 3 user profiles/);
    for (const out of [a.stdout, a.stderr, b.stdout, b.stderr]) assert.ok(!out.includes(TOKEN));
  });
});

test('CLI: users sync with a rejected token exits 2 with one line naming okta.users.read; no credential names it too', async () => {
  await withOrg(async (org) => {
    const dir = mkdtempSync(join(tmpdir(), 'oktopus-users-sync-'));
    const r = await cli(['users', 'sync', '--org', org.base, '--state', join(dir, 's.sqlite')], { OKTA_API_TOKEN: 'wrong-' + TOKEN });
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/users\?limit=200: 401 Unauthorized .*okta\.users\.read/);
    assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
    assert.equal(r.stdout, '');
    const none = await cli(['users', 'sync', '--org', org.base, '--state', join(dir, 's.sqlite')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no Okta credential: .*scope okta\.users\.read/);
    const noOrg = await cli(['users', 'sync', '--state', join(dir, 's.sqlite')], { OKTA_API_TOKEN: TOKEN });
    assert.equal(noOrg.code, 2);
    assert.match(noOrg.stderr, /users sync needs --org/);
  });
});
