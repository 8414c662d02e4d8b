/**
 * A fake Okta org for the tests (node:http on 127.0.0.1, a random port): the System Log API
 * (`GET /api/v1/logs`, polling and bounded requests, `rel="next"` links, events in persistence
 * order), the OAuth token endpoint, faults (429 with X-Rate-Limit-Reset, 5xx, dropped
 * connections, slow answers) and, for the kill tests, paced pages (a delay before each page, and
 * a pause in the middle of a page's body). Loopback traffic only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify, type KeyObject } from 'node:crypto';
import type { JsonObject } from '../src/event/types.js';

export const TOKEN = 'ssws-secret-0123456789abcdef';

export interface Fault {
  status?: number;
  /** X-Rate-Limit-Reset, seconds from now. */
  resetIn?: number;
  /** Destroy the connection instead of answering. */
  drop?: boolean;
  body?: string;
  /**
   * A slow answer: wait this long, then answer (with `status`, or the page as usual when no
   * status is given). Longer than the client's timeout, it is abandoned and retried.
   */
  delayMs?: number;
}

/** Pacing of successful pages (the kill tests: a watch is busy for a while, and mid-page often). */
export interface Pace {
  /** Wait before answering a page (ms); called once per page request. */
  before?: () => number;
  /** Send the first half of the body, wait this long (ms), then the rest (0: all at once). */
  middle?: () => number;
}

export interface Seen {
  url: URL;
  headers: IncomingMessage['headers'];
}

/** A fake Okta org: /api/v1/logs (polling and bounded), /oauth2/v1/token. */
export class FakeOrg {
  server!: Server;
  base = '';
  /** The System Log in persistence order. */
  log: { event: JsonObject; persisted: number }[] = [];
  /** Largest page served (whatever `limit` asks). */
  pageSize = 3;
  faults: Fault[] = [];
  /** Delays of successful pages (none by default). */
  pace: Pace = {};
  /** Pending delayed answers, cleared on stop. */
  private timers = new Set<NodeJS.Timeout>();
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
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  add(...events: JsonObject[]): void {
    for (const event of events) this.log.push({ event, persisted: (this.clock += 1000) });
  }

  logRequests(): Seen[] {
    return this.requests.filter((r) => r.url.pathname === '/api/v1/logs');
  }

  /** Run `fn` after `ms` (at once when 0), unless the org stops first. */
  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
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
    if (fault?.delayMs !== undefined && fault.status === undefined) return this.later(fault.delayMs, () => this.page(url, res));
    if (fault) {
      const headers: Record<string, string> = { 'x-okta-request-id': requestId };
      if (fault.resetIn !== undefined) {
        Object.assign(headers, { 'x-rate-limit-limit': '60', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + fault.resetIn) });
      }
      return this.later(fault.delayMs ?? 0, () => {
        res.writeHead(fault.status ?? 500, { 'content-type': 'application/json', ...headers });
        res.end(fault.body ?? JSON.stringify(fault.status === 429 ? { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' } : { errorCode: 'E0000009', errorSummary: 'Internal Server Error' }));
      });
    }
    this.later(this.pace.before?.() ?? 0, () => this.page(url, res));
  }

  /** A successful page of /api/v1/logs for `url`. */
  private page(url: URL, res: ServerResponse): void {
    if (res.destroyed) return; // the client gave up (timeout) or was killed
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
    const headers = {
      link: links.join(', '),
      'x-rate-limit-limit': '60',
      'x-rate-limit-remaining': String(remaining),
      'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 1),
    };
    const pause = this.pace.middle?.() ?? 0;
    if (pause <= 0) return this.json(res, 200, page, headers);
    // Half the body now, the rest after a pause: a client killed meanwhile is mid-page.
    const body = Buffer.from(JSON.stringify(page));
    const half = Math.floor(body.length / 2);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
    res.write(body.subarray(0, half));
    this.later(pause, () => {
      if (!res.destroyed) res.end(body.subarray(half));
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

export async function withOrg(fn: (org: FakeOrg) => Promise<void>): Promise<void> {
  const org = await new FakeOrg().start();
  try {
    await fn(org);
  } finally {
    await org.stop();
  }
}
