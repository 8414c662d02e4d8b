/**
 * The Event Hook endpoint (`oktopus serve`, src/sources/hooks.ts) on loopback: verification,
 * authentication, limits, alerts, duplicate redeliveries, durability across a crash after the 200,
 * health and metrics. Every request has a timeout; the server listens on 127.0.0.1, port 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { MemoryStore } from '../src/store/memory.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import type { RuleIR } from '../src/ir/types.js';
import { HOOK_QUEUE_NS, startHookServer, type HookServer, type HookServerOptions } from '../src/sources/hooks.js';
import { readSecret } from '../src/cli/serve-command.js';
import { connect, type Socket } from 'node:net';
import { logEvent } from './helpers.js';

const SECRET = 'Bearer s3cr3t-hook-value-7f1c';
const RULE_ID = '33333333-3333-4333-8333-333333333333';
const PROXY_RULE = `title: Okta session started through a proxy
id: ${RULE_ID}
status: test
logsource:
  product: okta
  service: okta
detection:
  selection:
    eventType: user.session.start
    securityContext.isProxy: true
  condition: selection
level: high
`;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'oktopus-hooks-'));
}

let rulesCache: { dir: string; rules: RuleIR[] } | undefined;
async function proxyRules(): Promise<{ dir: string; rules: RuleIR[] }> {
  if (rulesCache) return rulesCache;
  const dir = tempDir();
  writeFileSync(join(dir, 'proxy_session.yml'), PROXY_RULE);
  const loaded = await loadRules([dir]);
  assert.deepEqual(loaded.errors, []);
  assert.equal(loaded.rules.length, 1);
  rulesCache = { dir, rules: loaded.rules };
  return rulesCache;
}

interface Harness {
  server: HookServer;
  alerts: StoredAlert[];
  logs: string[];
}

async function start(store: StateStore, over: Partial<HookServerOptions> = {}): Promise<Harness> {
  const alerts: StoredAlert[] = [];
  const logs: string[] = [];
  const server = await startHookServer({
    store,
    rules: (await proxyRules()).rules,
    schema: { org: 'acme.okta.com' },
    sinks: [{ write: (a) => void alerts.push(a), close: async () => undefined }],
    secret: SECRET,
    host: '127.0.0.1',
    port: 0,
    log: (line) => void logs.push(line),
    ...over,
  });
  return { server, alerts, logs };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request on loopback, 5 s at most. `chunks` are written one by one (no content-length). */
function call(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/', headers: o.headers, timeout: 5000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (o.chunks) {
      for (const c of o.chunks) req.write(c);
      req.end();
    } else req.end(o.body);
  });
}

function post(port: number, body: unknown, headers: Record<string, string> = { authorization: SECRET }): Promise<Reply> {
  return call(port, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function delivery(events: object[]): object {
  return {
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: 'https://acme.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3',
    eventId: 'b5a188b9-5ece-4636-b041-482ffda96311',
    eventTime: '2026-11-02T09:00:01.000Z',
    contentType: 'application/json',
    data: { events },
  };
}

const proxied = (uuid: string) => logEvent({ uuid, securityContext: { isProxy: true, asNumber: 9009, asOrg: 'm247' } });
const direct = (uuid: string) => logEvent({ uuid });

test('verification GET answers the challenge; a GET without it is refused', async () => {
  const { server } = await start(new MemoryStore());
  try {
    const ok = await call(server.port, { headers: { 'x-okta-verification-challenge': 'X8FvHjmzM2rtW2Iq4cg4' } });
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-type']), /application\/json/);
    assert.deepEqual(JSON.parse(ok.body), { verification: 'X8FvHjmzM2rtW2Iq4cg4' });
    assert.equal((await call(server.port, {})).status, 400);
    assert.equal((await call(server.port, { path: '/elsewhere' })).status, 404);
    assert.equal((await call(server.port, { method: 'PUT', body: '{}' })).status, 405);
  } finally {
    await server.close();
  }
});

test('deliveries need the secret in the configured header: missing or wrong is 401, never echoed', async () => {
  const { server, logs } = await start(new MemoryStore(), { header: 'X-Hook-Secret' });
  try {
    const body = delivery([direct('auth-1')]);
    const missing = await post(server.port, body, {});
    assert.equal(missing.status, 401);
    const wrong = await post(server.port, body, { 'x-hook-secret': 'Bearer guess-123' });
    assert.equal(wrong.status, 401);
    const longer = await post(server.port, body, { 'x-hook-secret': SECRET + 'x' });
    assert.equal(longer.status, 401);
    const otherHeader = await post(server.port, body, { authorization: SECRET });
    assert.equal(otherHeader.status, 401, 'the secret only counts in the configured header');
    for (const r of [missing, wrong, longer, otherHeader]) {
      assert.ok(!r.body.includes('guess-123') && !r.body.includes('s3cr3t'), r.body);
      assert.ok(!JSON.stringify(r.headers).includes('s3cr3t'));
    }
    const good = await post(server.port, body, { 'x-hook-secret': SECRET });
    assert.equal(good.status, 200);
    assert.equal(good.body, '');
    await server.idle();
    const metrics = (await call(server.port, { path: '/metrics' })).body;
    assert.match(metrics, /oktopus_errors_total\{kind="unauthorized"\} 4/);
    assert.ok(!metrics.includes('s3cr3t'));
    assert.ok(logs.every((l) => !l.includes('s3cr3t') && !l.includes('guess-123')), logs.join('\n'));
  } finally {
    await server.close();
  }
});

test('415 for a wrong content type, 413 for a body over the limit (declared or streamed), 400 for malformed JSON or no data.events', async () => {
  const { server } = await start(new MemoryStore(), { maxBodyBytes: 4096 });
  try {
    const wrongType = await call(server.port, { method: 'POST', headers: { authorization: SECRET, 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(wrongType.status, 415);
    const big = JSON.stringify(delivery(Array.from({ length: 20 }, (_, i) => direct(`big-${i}`))));
    assert.ok(big.length > 4096);
    assert.equal((await post(server.port, big)).status, 413);
    const chunks = Array.from({ length: 8 }, () => Buffer.alloc(1024, 0x20));
    const streamed = await call(server.port, { method: 'POST', headers: { authorization: SECRET, 'content-type': 'application/json' }, chunks });
    assert.equal(streamed.status, 413);
    const bad = await post(server.port, '{"data": {"events": [');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /malformed JSON/);
    assert.equal((await post(server.port, { data: { notEvents: [] } })).status, 400);
    assert.equal((await post(server.port, '[1,2]')).status, 400);
    assert.equal(server.queueDepth(), 0);
    // The server still works after the rejections.
    assert.equal((await post(server.port, delivery([direct('small-1')]))).status, 200);
  } finally {
    await server.close();
  }
});

test('a delivery raises its alert; a redelivery raises nothing twice (also after a restart)', async () => {
  const path = join(tempDir(), 'state.sqlite');
  let store = new SqliteStore(path);
  const first = await start(store);
  const body = delivery([direct('d-1'), proxied('d-2'), { uuid: 'd-3', published: '2026-11-02T09:00:00.000Z' }]);
  try {
    assert.equal((await post(first.server.port, body)).status, 200);
    await first.server.idle();
    assert.equal(first.alerts.length, 1);
    assert.equal(first.alerts[0]!.ruleId, RULE_ID);
    assert.ok(JSON.stringify(first.alerts[0]!.doc).includes('"d-2"'), 'the alert is about the proxied event');
    assert.ok(first.logs.some((l) => /bad event: hook delivery 0: data\.events\[2\]: missing eventType/.test(l)), first.logs.join('\n'));
    // Okta redelivers the same events: answered 200, not queued again.
    assert.equal((await post(first.server.port, body)).status, 200);
    await first.server.idle();
    assert.equal(first.alerts.length, 1);
    assert.equal(first.server.counters.deliveriesDuplicate, 1);
    assert.equal(first.server.counters.errors.get('bad_event'), 1);
  } finally {
    await first.server.close();
    store.close();
  }
  // After a restart the recent-uuid set is empty: the delivery is queued, and the engine's
  // persisted duplicate window drops its events.
  store = new SqliteStore(path);
  const second = await start(store);
  try {
    assert.equal((await post(second.server.port, body)).status, 200);
    await second.server.idle();
    assert.equal(second.alerts.length, 0);
    assert.equal(second.server.counters.duplicateEvents, 2);
    assert.equal(store.alertCount(), 1);
  } finally {
    await second.server.close();
    store.close();
  }
});

test('durable before the 200: a crash before processing loses nothing, the restart alerts once', async () => {
  const path = join(tempDir(), 'state.sqlite');
  let store = new SqliteStore(path);
  const crashed = await start(store, { paused: true });
  try {
    assert.equal((await post(crashed.server.port, delivery([proxied('c-1'), direct('c-2')]))).status, 200);
    assert.equal(crashed.server.queueDepth(), 1);
  } finally {
    await crashed.server.close({ drain: false }); // as a crash would: nothing processed
    store.close();
  }
  assert.equal(crashed.alerts.length, 0);
  store = new SqliteStore(path);
  assert.equal([...store.entries(HOOK_QUEUE_NS)].length, 1);
  const restarted = await start(store);
  try {
    await restarted.server.idle();
    assert.equal(restarted.alerts.length, 1);
    assert.equal([...store.entries(HOOK_QUEUE_NS)].length, 0);
    assert.ok(restarted.logs.some((l) => /1 queued deliveries/.test(l)));
  } finally {
    await restarted.server.close();
    store.close();
  }
  store = new SqliteStore(path);
  const again = await start(store);
  try {
    await again.server.idle();
    assert.equal(again.alerts.length, 0, 'nothing left to process or deliver');
    assert.equal(store.alertCount(), 1);
  } finally {
    await again.server.close();
    store.close();
  }
});

test('/healthz and /metrics report queue depth, last event time, events in, alerts out', async () => {
  const { server } = await start(new MemoryStore());
  try {
    assert.equal((await post(server.port, delivery([proxied('h-1'), direct('h-2')]))).status, 200);
    await server.idle();
    const health = await call(server.port, { path: '/healthz' });
    assert.equal(health.status, 200);
    const h = JSON.parse(health.body) as Record<string, unknown>;
    assert.equal(h['status'], 'ok');
    assert.equal(h['queueDepth'], 0);
    assert.equal(h['lastEventTime'], '2026-11-02T09:00:00.000Z');
    assert.equal(typeof h['uptimeSeconds'], 'number');
    const m = await call(server.port, { path: '/metrics' });
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    assert.match(m.body, /^# TYPE oktopus_events_in_total counter$/m);
    assert.match(m.body, /^oktopus_events_in_total 2$/m);
    assert.match(m.body, /^oktopus_alerts_out_total 1$/m);
    assert.match(m.body, /^oktopus_hook_queue_depth 0$/m);
    assert.match(m.body, /^oktopus_hook_lag_seconds 0$/m);
    assert.match(m.body, /^oktopus_hook_deliveries_total\{result="accepted"\} 1$/m);
    assert.match(m.body, /^oktopus_errors_total\{kind="too_large"\} 0$/m);
  } finally {
    await server.close();
  }
});

test('serve in a child process: kill -9 right after the 200, restart, the alert is raised exactly once; SIGTERM drains and exits 0', async () => {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const dir = tempDir();
  const state = join(dir, 'state.sqlite');
  const output = join(dir, 'alerts.ndjson');
  const { dir: rulesDir } = await proxyRules();
  const run = (): Promise<{ child: ChildProcess; port: number; stderr: () => string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--rules', rulesDir, '--state', state, '--output', output], {
        env: { ...process.env, OKTOPUS_HOOK_SECRET: SECRET },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`serve did not start: ${err}`));
      }, 15_000);
      child.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve({ child, port: Number(m[1]), stderr: () => err });
        }
      });
      child.on('exit', () => clearTimeout(timer));
    });
  const exited = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

  const first = await run();
  const r = await post(first.port, delivery([proxied('k-1'), direct('k-2')]));
  assert.equal(r.status, 200);
  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = await run();
  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const h = JSON.parse((await call(second.port, { path: '/healthz' })).body) as { queueDepth: number };
      if (h.queueDepth === 0 && existsSync(output) && readFileSync(output, 'utf8').trim() !== '') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    second.child.kill('SIGTERM');
    assert.equal(await exited(second.child), 0, second.stderr());
  } finally {
    if (second.child.exitCode === null) second.child.kill('SIGKILL');
  }
  const lines = readFileSync(output, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.ok(!second.stderr().includes('s3cr3t'));
  const store = new SqliteStore(state);
  try {
    assert.equal(store.alertCount(), 1);
    assert.equal([...store.entries(HOOK_QUEUE_NS)].length, 0);
  } finally {
    store.close();
  }
});

// --- review fixes: unstorable deliveries, secret whitespace, slow clients, backpressure, encodings

test('a delivery nested too deep is refused alone (400 bad_delivery); deliveries arriving with it are stored; old queue entries still process', async () => {
  const store = new MemoryStore();
  // A queue entry written by an earlier version (the delivery as an object) is still processed.
  store.set(HOOK_QUEUE_NS, '0000000000000000', { received: Date.now(), events: 1, delivery: delivery([proxied('old-1')]) } as never);
  const { server, alerts } = await start(store);
  try {
    const deep = `{"data":{"events":[{"uuid":"deep-1","x":${'['.repeat(20000)}${']'.repeat(20000)}}]}}`;
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => (i === 20 ? post(server.port, deep) : post(server.port, delivery([proxied(`ok-${i}`)])))));
    assert.equal(replies[20]!.status, 400);
    assert.match(replies[20]!.body, /deeper than 64 levels/);
    assert.deepEqual(replies.filter((_, i) => i !== 20).map((r) => r.status), Array(39).fill(200));
    // At the limit (an event 64 levels deep) a delivery is accepted; one level more is not.
    const nest = (n: number): string => `${'{"a":'.repeat(n - 1)}1${'}'.repeat(n - 1)}`;
    const event = (levels: number) => `{"uuid":"lvl-${levels}","published":"2026-11-02T09:00:00.000Z","eventType":"x","deep":${nest(levels)}}`;
    assert.equal((await post(server.port, `{"data":{"events":[${event(64)}]}}`)).status, 200);
    assert.equal((await post(server.port, `{"data":{"events":[${event(65)}]}}`)).status, 400);
    await server.idle();
    assert.equal(alerts.length, 40, 'the old entry and the 39 stored deliveries');
    assert.equal(server.counters.errors.get('bad_delivery'), 2);
    assert.equal(server.counters.errors.get('enqueue') ?? 0, 0);
  } finally {
    await server.close();
  }
});

test('the hook secret: surrounding whitespace and a BOM are removed (env or file); an empty one is refused', () => {
  const dir = tempDir();
  const flags = { header: 'Authorization' };
  for (const v of [`${SECRET}\n`, `${SECRET} `, `\ufeff${SECRET}`, `\t${SECRET}\r\n`]) assert.equal(readSecret(flags, { OKTOPUS_HOOK_SECRET: v }), SECRET);
  for (const text of [`\ufeff${SECRET}\n`, `${SECRET}  \n`, `${SECRET}\r\nsecond line\n`]) {
    const file = join(dir, 'secret');
    writeFileSync(file, text);
    assert.equal(readSecret({ ...flags, secretFile: file }, {}), SECRET);
  }
  for (const v of ['', '   \n', '\ufeff \n']) assert.throws(() => readSecret(flags, { OKTOPUS_HOOK_SECRET: v }), /OKTOPUS_HOOK_SECRET/);
  writeFileSync(join(dir, 'blank'), '\ufeff  \nsecret on line 2\n');
  assert.throws(() => readSecret({ ...flags, secretFile: join(dir, 'blank') }, {}), /first line of the file is empty/);
});

/** A raw connection to the server (closed by the caller). */
function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

test('nosniff on answers; a compressed body is 415; 503 with Retry-After past the in-flight limit or the queue-lag limit; connections capped', async () => {
  const { server } = await start(new MemoryStore(), { paused: true, maxInFlight: 1, maxQueueLagSeconds: 0.2, retryAfterSeconds: 7, maxConnections: 3 });
  const sockets: Socket[] = [];
  try {
    const ok = await post(server.port, delivery([direct('b-1')]));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    assert.equal((await call(server.port, { path: '/healthz' })).headers['x-content-type-options'], 'nosniff');
    const gz = await post(server.port, delivery([direct('b-2')]), { authorization: SECRET, 'content-encoding': 'gzip' });
    assert.equal(gz.status, 415);
    // One delivery whose body is still coming: the next is turned away, not queued.
    const slow = await rawSocket(server.port);
    sockets.push(slow);
    slow.write(`POST / HTTP/1.1\r\nhost: x\r\nauthorization: ${SECRET}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"data":`);
    await new Promise((r) => setTimeout(r, 50));
    const busy = await post(server.port, delivery([direct('b-3')]));
    assert.equal(busy.status, 503);
    assert.equal(busy.headers['retry-after'], '7');
    slow.destroy();
    await new Promise((r) => setTimeout(r, 50));
    // The consumer is paused: the queued delivery ages past 0.2 s, and deliveries are turned away.
    await new Promise((r) => setTimeout(r, 250));
    const lagging = await post(server.port, delivery([direct('b-4')]));
    assert.equal(lagging.status, 503);
    assert.match(lagging.body, /falling behind/);
    assert.equal(server.queueDepth(), 1);
    assert.equal(server.counters.errors.get('overloaded'), 2);
    // At most 3 open connections: a fourth is closed at once.
    for (let i = 0; i < 3; i++) sockets.push(await rawSocket(server.port));
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(call(server.port, { path: '/healthz' }));
  } finally {
    for (const s of sockets) s.destroy();
    await server.close({ drain: false });
  }
});
