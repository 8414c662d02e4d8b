/**
 * `oktopus watch` as a child process against the fake Okta org (./fake-okta.ts), KILLED (SIGKILL)
 * and restarted at seeded random points ten times, then `watch --once` to drain: the alerts in
 * the --output file must be exactly those of one uninterrupted `watch --once` on a fresh state
 * (same ids, each once: the NDJSON file sink claims exactly-once across crashes). And slow answers:
 * a page not answered (or whose body stalls) within --request-timeout is abandoned and retried.
 *
 * The org serves a few thousand events in pages of 40, persisted out of `published` order (inside
 * the reorder window), with proxy sign-ins, failed sign-ins and MFA denials; the rules are the
 * built-in ones (Sigma proxy rules, the Elastic new_terms rule and its EQL sequence over alerts,
 * the Panther VPN rule with dedup, the baseline's new-country rule) and rules written here: a
 * Sigma rule (stateless), a Sigma event_count correlation and an Elastic threshold TOML
 * (stateful). Pages are paced (a delay before each, a pause in the middle of some bodies) so the
 * kills land before, inside and after pages; each kill's landing point is reported (test
 * diagnostics). The moment between a commit and the sink's writes, rarely hit by timing, is also
 * made exactly (alerts marked undelivered, the file cut mid-line) before the final run.
 * Loopback only; bounded (a watchdog per child). OKTOPUS_KILL_SEED=N replays other seeds (the kill
 * times are seeded, where they land also depends on the machine's speed); OKTOPUS_KILL_KEEP=1
 * keeps the temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '../src/event/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { pollCheckpointName } from '../src/pipeline/stream.js';
import { OktaLogClient, sswsAuth } from '../src/sources/okta-api.js';
import { logEvent } from './helpers.js';
import { FakeOrg, TOKEN, withOrg } from './fake-okta.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const BUILT_IN_RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const SINCE = '2026-11-01T00:00:00Z';
const SEED = Number(process.env['OKTOPUS_KILL_SEED'] ?? 20261102);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed (OKTOPUS_KILL_SEED). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- the rules written here ----------------------------------------------------------------------

const SIGMA_DENIED = `title: Test MFA denied
id: 0b6a3f1e-7c2d-4e8f-9a1b-2c3d4e5f6a7b
logsource: {product: okta, service: okta}
detection:
  sel:
    eventType: user.authentication.auth_via_mfa
    outcome.result: DENY
  condition: sel
level: high
`;

/** Stateful Sigma: 4 failed sign-ins of one user within 15 minutes (event_count correlation). */
const SIGMA_CORRELATION = `title: Test failed sign-in
id: 3c1f7a2b-5d6e-4f80-8a9b-0c1d2e3f4a5b
name: test_failed_signin
logsource: {product: okta, service: okta}
detection:
  sel:
    eventType: user.session.start
    outcome.result: FAILURE
  condition: sel
level: low
---
title: Test repeated failed sign-ins
id: 7d2e8b3c-6f70-4a91-9bac-1d2e3f4a5b6c
level: high
correlation:
  type: event_count
  rules: [test_failed_signin]
  group-by: [actor.alternateId]
  timespan: 15m
  condition: {gte: 4}
`;

/** Stateful Elastic: 3 failed sign-ins of one user from 2+ IPs within 30 minutes. */
const ELASTIC_THRESHOLD = `[metadata]
creation_date = "2026/11/02"
maturity = "production"

[rule]
author = ["Test"]
description = "Several failed sign-ins for one user from several addresses."
from = "now-30m"
index = ["logs-okta*"]
language = "kuery"
name = "Test Okta Brute Force"
risk_score = 47
rule_id = "th-kill-test-1"
severity = "medium"
type = "threshold"

query = '''
event.dataset:okta.system and event.action:user.session.start and okta.outcome.result:FAILURE
'''

[rule.threshold]
field = ["okta.actor.alternate_id"]
value = 3

[[rule.threshold.cardinality]]
field = "okta.client.ip"
value = 2
`;

function writeRules(dir: string): string {
  const r = join(dir, 'test-rules');
  mkdirSync(r, { recursive: true });
  writeFileSync(join(r, 'mfa_denied.yml'), SIGMA_DENIED);
  writeFileSync(join(r, 'failed_signins.yml'), SIGMA_CORRELATION);
  writeFileSync(join(r, 'brute_force.toml'), ELASTIC_THRESHOLD);
  return r;
}

// --- the tenant ---------------------------------------------------------------------------------

const HOME = [
  { ip: '8.8.8.8', country: 'United States', city: 'Mountain View' },
  { ip: '81.2.69.142', country: 'United Kingdom', city: 'London' },
  { ip: '5.9.0.1', country: 'Germany', city: 'Nuremberg' },
  { ip: '1.1.1.1', country: 'Australia', city: 'Sydney' },
];
const PROXY = [
  { ip: '185.220.101.1', country: 'Germany', asOrg: 'Tor exit', isp: 'Tor' },
  { ip: '104.244.72.115', country: 'Luxembourg', asOrg: 'FranTech Solutions', isp: 'BuyVM' },
  { ip: '45.83.64.1', country: 'Netherlands', asOrg: 'Anonymizer', isp: 'M247' },
];

/** `n` LogEvents over n*2 s of event time, in persistence order (shuffled within 40 events = 80 s). */
function tenant(n: number, rand: () => number): JsonObject[] {
  const t0 = Date.parse('2026-11-02T06:00:00.000Z');
  const users = Array.from({ length: 30 }, (_, i) => ({
    id: `00u${String(i).padStart(4, '0')}`,
    login: `user${i}@acme.com`,
    home: HOME[i % HOME.length]!,
  }));
  const evs: JsonObject[] = [];
  for (let i = 0; i < n; i++) {
    const u = users[Math.floor(rand() * users.length)]!;
    const actor = { id: u.id, type: 'User', alternateId: u.login, displayName: u.login };
    const published = new Date(t0 + i * 2000 + Math.floor(rand() * 1500)).toISOString();
    const r = rand();
    const ip = (x: { ip: string; country: string; city?: string }, proxy: boolean, extra: JsonObject = {}): JsonObject => ({
      client: {
        userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
        zone: 'null',
        device: 'Computer',
        ipAddress: x.ip,
        geographicalContext: { city: x.city ?? null, state: null, country: x.country, postalCode: null, geolocation: { lat: 0, lon: 0 } },
      },
      request: { ipChain: [{ ip: x.ip, version: 'V4' }] },
      securityContext: { asNumber: 64500, asOrg: 'isp', isp: 'isp', domain: 'example.net', isProxy: proxy, ...extra },
    });
    const base = { uuid: `k-${String(i).padStart(5, '0')}`, published, actor };
    if (r < 0.06) {
      const p = PROXY[Math.floor(rand() * PROXY.length)]!;
      evs.push(logEvent({ ...base, eventType: 'user.session.start', outcome: { result: 'SUCCESS' }, ...ip(p, true, { asOrg: p.asOrg, isp: p.isp }) }));
    } else if (r < 0.2) {
      // Failed sign-ins, from home or from one of a few other addresses.
      const from = rand() < 0.5 ? u.home : HOME[Math.floor(rand() * HOME.length)]!;
      evs.push(logEvent({ ...base, eventType: 'user.session.start', outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' }, ...ip(from, false) }));
    } else if (r < 0.24) {
      evs.push(logEvent({ ...base, eventType: 'user.authentication.auth_via_mfa', outcome: { result: 'DENY' }, ...ip(u.home, false) }));
    } else {
      evs.push(logEvent({ ...base, eventType: 'user.session.start', outcome: { result: 'SUCCESS' }, ...ip(u.home, false) }));
    }
  }
  // Persistence order is not `published` order (inside the 5-minute reorder window).
  for (let b = 0; b < evs.length; b += 40) {
    const block = evs.slice(b, b + 40);
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [block[i], block[j]] = [block[j]!, block[i]!];
    }
    evs.splice(b, block.length, ...block);
  }
  return evs;
}

// --- the CLI child ------------------------------------------------------------------------------

interface Child {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(): void;
}

function watch(org: FakeOrg, dir: string, rulesDir: string, extra: string[] = [], watchdogMs = 20_000): Child {
  mkdirSync(dir, { recursive: true });
  const args = [
    CLI, 'watch', '--org', org.base, '--since', SINCE,
    '--state', join(dir, 'state.sqlite'), '--output', join(dir, 'alerts.ndjson'),
    '--rules', BUILT_IN_RULES, '--rules', rulesDir,
    '--empty-wait', '0.05', '--empty-wait-max', '0.1', '--quiet',
    // The fake org serves pages of PAGE events; a shorter page means "caught up" (as in Okta).
    '--limit', String(PAGE),
    ...extra,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OKTA_API_TOKEN: TOKEN, OKTOPUS_ORG: undefined },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Bounded: a child that hangs is killed (and the test then fails on its exit status).
  const watchdog = setTimeout(() => child.kill('SIGKILL'), watchdogMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, stderr });
    }),
  );
  return { exited, kill: () => void child.kill('SIGKILL') };
}

/** The lines of an alerts file: ids in order, and whether the file ends inside a line. */
function readAlerts(path: string): { ids: string[]; cut: boolean } {
  if (!existsSync(path)) return { ids: [], cut: false };
  const text = readFileSync(path, 'utf8');
  const cut = text.length > 0 && !text.endsWith('\n');
  const lines = text.split('\n');
  if (cut || lines[lines.length - 1] === '') lines.pop();
  return { ids: lines.map((l) => String((JSON.parse(l) as JsonObject)['kibana.alert.uuid'])), cut };
}

function tally(ids: string[]): { unique: Set<string>; repeated: string[] } {
  const unique = new Set<string>();
  const repeated: string[] = [];
  for (const id of ids) {
    if (unique.has(id)) repeated.push(id);
    else unique.add(id);
  }
  return { unique, repeated };
}

/** What the state says after a kill: alerts committed but not delivered, and the saved position. */
function inspectState(path: string): { pending: number; next?: string } {
  if (!existsSync(path)) return { pending: 0 };
  const store = new SqliteStore(path);
  try {
    const saved = store.getCheckpoint(pollCheckpointName('127.0.0.1')) as { next?: string } | undefined;
    return { pending: store.pendingAlerts().length, next: saved?.next };
  } finally {
    store.close();
  }
}

/** The `after` cursor of a next link of the fake org (the index of the next event). */
const afterOf = (url: string | undefined): number | undefined => {
  const a = url === undefined ? null : new URL(url).searchParams.get('after');
  return a === null ? undefined : Number(a);
};

const EVENTS = 3000;
const PAGE = 40;

test('watch killed (SIGKILL) at ten random points and restarted, then drained with --once: exactly the alerts of one uninterrupted run, each once in the file', { timeout: 50_000 }, async (t) => {
  const log = tenant(EVENTS, prng(SEED));
  const root = mkdtempSync(join(tmpdir(), 'oktopus-kill-'));
  const rulesDir = writeRules(root);
  try {
    // One uninterrupted run over the whole log, on a fresh state.
    const refDir = join(root, 'reference');
    let reference: string[] = [];
    await withOrg(async (org) => {
      org.pageSize = PAGE;
      org.add(...log);
      const r = await watch(org, refDir, rulesDir, ['--once']).exited;
      assert.equal(r.code, 0, r.stderr);
      reference = readAlerts(join(refDir, 'alerts.ndjson')).ids;
    });
    const refDocs = readFileSync(join(refDir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    const perRule = new Map<string, number>();
    for (const d of refDocs) perRule.set(String(d['kibana.alert.rule.name']), (perRule.get(String(d['kibana.alert.rule.name'])) ?? 0) + 1);
    t.diagnostic(`reference: ${reference.length} alerts: ${[...perRule].map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    assert.equal(new Set(reference).size, reference.length, 'the uninterrupted run writes each alert once');
    const types = new Set(refDocs.map((d) => String(d['kibana.alert.rule.type'])));
    const expected = [
      'Test MFA denied', // Sigma, stateless
      'Okta User Session Start Via An Anonymising Proxy Service', // Sigma, stateless
      'Test repeated failed sign-ins', // Sigma event_count correlation
      'Test Okta Brute Force', // Elastic threshold (with cardinality)
      'First Occurrence of Okta User Session Started via Proxy', // Elastic new_terms
      'Okta Alerts Following Unusual Proxy Authentication', // Elastic EQL sequence over alerts
      'Okta Sign-In from VPN Anonymizer', // Panther, dedup
      'Okta User Session Start From A New Country Via An Anonymizing Proxy', // the user baseline
    ];
    for (const name of expected) {
      assert.ok((perRule.get(name) ?? 0) > 0, `rule "${name}" alerts in the reference run (${[...types].join(', ')})`);
    }

    // The same log, arriving in chunks, read by a watch killed ten times.
    const dir = join(root, 'killed');
    const rand = prng(SEED + 1);
    let redelivered: string[] = [];
    await withOrg(async (org) => {
      org.pageSize = PAGE;
      // Paced pages: a short wait before each, and a third of the bodies stall half-way.
      const paceRand = prng(SEED + 10);
      org.pace = { before: () => Math.floor(paceRand() * 12), middle: () => (paceRand() < 0.33 ? 1 + Math.floor(paceRand() * 15) : 0) };
      const chunk = Math.ceil(EVENTS / 12);
      let released = 0;
      const release = (n: number): void => {
        org.add(...log.slice(released, released + n));
        released = Math.min(log.length, released + n);
      };
      const hits = { beforeFirstRequest: 0, midPage: 0, committedNotDelivered: 0, cutLine: 0, between: 0, caughtUp: 0 };
      const notes: string[] = [];
      for (let run = 0; run < 10; run++) {
        release(chunk);
        const before = org.logRequests().length;
        const child = watch(org, dir, rulesDir);
        let earlyKill = false;
        if (rand() < 0.2) {
          // Some kills during start-up (loading rules, delivering alerts left pending).
          earlyKill = true;
          await sleep(50 + Math.floor(rand() * 400));
        } else {
          // Otherwise once it is polling, after a random time (pages take a few ms to tens of ms).
          for (let i = 0; i < 400 && org.logRequests().length === before; i++) await sleep(5);
          // Events also arrive while it runs.
          if (rand() < 0.5) release(Math.floor(chunk / 4));
          // Mostly while pages come in; sometimes late enough that it has caught up and polls
          // empty pages (committed too, with the same next link).
          await sleep(rand() < 0.3 ? 600 + Math.floor(rand() * 900) : Math.floor(rand() * 350));
        }
        child.kill();
        const r = await child.exited;
        assert.equal(r.signal, 'SIGKILL', `run ${run} was killed, not ended by itself: ${r.code} ${r.stderr}`);
        // Where did the kill land?
        const served = org.logRequests().slice(before);
        const state = inspectState(join(dir, 'state.sqlite'));
        const file = readAlerts(join(dir, 'alerts.ndjson'));
        const last = served[served.length - 1];
        const lastUrl = last?.url.href;
        let where: string;
        if (served.length === 0) {
          hits.beforeFirstRequest++;
          where = 'before its first request';
        } else if (state.pending > 0) {
          hits.committedNotDelivered++;
          where = `after a commit, ${state.pending} alerts not yet delivered`;
        } else if (file.cut) {
          hits.cutLine++;
          where = 'in the middle of writing an alert line';
        } else if (afterOf(state.next) === released) {
          hits.caughtUp++;
          where = 'caught up (polling empty pages)';
        } else if (lastUrl !== undefined && afterOf(state.next) === afterOf(lastUrl)) {
          hits.midPage++;
          where = 'with a page requested but not committed (in flight or being processed)';
        } else {
          hits.between++;
          where = 'between pages';
        }
        if (earlyKill && served.length > 0) where += ' (start-up kill)';
        notes.push(`run ${run}: ${served.length} requests, killed ${where}; file ${file.ids.length} lines`);
      }
      // The narrowest point, between a commit and the sink's writes, is rarely hit by timing: made
      // exactly here. The file's last 12 alerts are marked not delivered (as after a commit the
      // kill interrupted), and the file keeps 5 of them whole and half of the 6th line. The next
      // start must deliver the 12 again: the 6 missing written, the 5 present not repeated.
      const path = join(dir, 'alerts.ndjson');
      const before = readAlerts(path);
      assert.ok(before.ids.length >= 20 && !before.cut, `alerts so far: ${before.ids.length}`);
      const batch = before.ids.slice(-12);
      redelivered = batch;
      const db = new Database(join(dir, 'state.sqlite'));
      const undeliver = db.prepare('UPDATE alerts SET delivered = 0 WHERE uuid = ?');
      db.transaction(() => batch.forEach((u) => assert.equal(undeliver.run(u).changes, 1)))();
      db.close();
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n').slice(0, -1);
      const keep = lines.slice(0, lines.length - 7).join('\n') + '\n' + lines[lines.length - 7]!.slice(0, 100);
      truncateSync(path, Buffer.byteLength(keep));
      assert.equal(readAlerts(path).ids.length, before.ids.length - 7);
      release(log.length);
      // Drain what is there now.
      const last = await watch(org, dir, rulesDir, ['--once']).exited;
      assert.equal(last.code, 0, last.stderr);
      const saved = inspectState(join(dir, 'state.sqlite'));
      assert.equal(saved.pending, 0, 'every committed alert delivered');
      assert.match(saved.next ?? '', new RegExp(`after=${EVENTS}$`), 'the saved position is the end of the log');
      const polls = org.logRequests().filter((r) => r.url.searchParams.has('since'));
      for (const n of notes) t.diagnostic(n);
      t.diagnostic(`kills: ${JSON.stringify(hits)}; ${polls.length} polling requests (the rest followed saved next links)`);
    });

    const got = readAlerts(join(dir, 'alerts.ndjson'));
    assert.equal(got.cut, false, 'the file ends with a whole line');
    const { unique, repeated } = tally(got.ids);
    assert.deepEqual(repeated, [], 'the file sink wrote no alert twice across the kills (exactly-once)');
    const missing = reference.filter((id) => !unique.has(id));
    const extra = [...unique].filter((id) => !reference.includes(id));
    assert.deepEqual({ missing: missing.length, extra: extra.length }, { missing: 0, extra: 0 }, `missing ${missing.slice(0, 5).join(',')} extra ${extra.slice(0, 5).join(',')}`);
    assert.deepEqual([...unique].sort(), [...reference].sort());
    // Not only the ids: the documents are those of the uninterrupted run (no wall-clock field in
    // them). An alert delivered after a restart is read back from the state store, which holds its
    // latest version: a later match of the same batch may have attached to it (Panther dedup
    // count and last seen), while the uninterrupted run's file keeps the first version written.
    // That happens to the 12 redelivered here and to any alert a natural kill caught between the
    // commit and the write; so the dedup progress fields are set aside, everything else must match.
    const dedupProgress = (d: JsonObject): JsonObject => {
      const copy = JSON.parse(JSON.stringify(d)) as JsonObject;
      const dedup = ((copy['oktopus'] as JsonObject | undefined)?.['dedup'] ?? undefined) as JsonObject | undefined;
      if (dedup) {
        delete dedup['count'];
        delete dedup['last_seen'];
      }
      delete copy['oktopus.dedup.count'];
      delete copy['oktopus.dedup.last_seen'];
      return copy;
    };
    const docs = (path: string) => new Map(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JsonObject).map((d) => [String(d['kibana.alert.uuid']), d]));
    const mine = docs(join(dir, 'alerts.ndjson'));
    for (const [id, doc] of docs(join(refDir, 'alerts.ndjson'))) {
      const other = mine.get(id)!;
      assert.deepEqual(dedupProgress(other), dedupProgress(doc), `alert ${id} (${String(doc['kibana.alert.rule.name'])}) differs from the uninterrupted run's`);
      if (!redelivered.includes(id)) continue;
      const count = (d: JsonObject) => Number(((d['oktopus'] as JsonObject | undefined)?.['dedup'] as JsonObject | undefined)?.['count'] ?? d['oktopus.dedup.count'] ?? 0);
      assert.ok(count(other) >= count(doc), `${id}: a redelivered alert's dedup count only moves forward`);
    }
  } finally {
    if (!process.env['OKTOPUS_KILL_KEEP']) rmSync(root, { recursive: true, force: true });
  }
});

test('slow answers: a page not answered within --request-timeout, or whose body stalls, is abandoned and retried; the run completes', { timeout: 30_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'oktopus-slow-'));
  const rulesDir = writeRules(root);
  try {
    await withOrg(async (org) => {
      org.pageSize = PAGE;
      const log = tenant(200, prng(SEED + 2));
      org.add(...log);
      const denies = log.filter((e) => (e['outcome'] as JsonObject)['result'] === 'DENY').length;
      // Page 1 at once; page 2 answered after 3 s (the timeout is 0.5 s); pages 3 and 4 at once,
      // then page 5's body stops half-way for 3 s. Each is fetched again.
      org.faults.push({ delayMs: 0 }, { delayMs: 3000 });
      let bodies = 0;
      org.pace = { middle: () => (++bodies === 4 ? 3000 : 0) };
      const dir = join(root, 'slow');
      const started = Date.now();
      const r = await watch(org, dir, rulesDir, ['--once', '--request-timeout', '0.5'], 25_000).exited;
      const took = Date.now() - started;
      assert.equal(r.code, 0, r.stderr);
      const reqs = org.logRequests().map((x) => x.url.searchParams.get('after') ?? 'first');
      assert.deepEqual(reqs.slice(0, 7), ['first', '40', '40', '80', '120', '120', '160'], 'the slow page and the stalled page are each requested again');
      const alerts = readAlerts(join(dir, 'alerts.ndjson'));
      const docs = readFileSync(join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
      assert.equal(docs.filter((d) => d['kibana.alert.rule.name'] === 'Test MFA denied').length, denies, 'every event processed (one alert per MFA denial)');
      assert.equal(new Set(alerts.ids).size, alerts.ids.length);
      assert.ok(took < 15_000, `bounded: ${took} ms`);
    });
    // The retry note names the timeout (and never the token).
    await withOrg(async (org) => {
      org.pageSize = PAGE;
      org.add(...tenant(50, prng(SEED + 3)));
      org.faults.push({ delayMs: 2000 });
      const args = [CLI, 'watch', '--org', org.base, '--since', SINCE, '--once', '--memory', '--rules', rulesDir, '--format', 'ndjson', '--request-timeout', '0.3', '--limit', String(PAGE)];
      const child = spawn(process.execPath, args, { env: { ...process.env, OKTA_API_TOKEN: TOKEN, OKTOPUS_ORG: undefined }, stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(watchdog);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /no answer within 0\.3 s; retry 1/);
      assert.match(stderr, /watch: \d+ pages, 50 events/);
      assert.ok(!stderr.includes(TOKEN) && !stdout.includes(TOKEN));
    });
    // A bad value is refused.
    await withOrg(async (org) => {
      const child = spawn(process.execPath, [CLI, 'watch', '--org', org.base, '--once', '--memory', '--request-timeout', '0'], { env: { ...process.env, OKTA_API_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 2);
      assert.match(stderr, /--request-timeout must be more than 0 seconds/);
    });
  } finally {
    if (!process.env['OKTOPUS_KILL_KEEP']) rmSync(root, { recursive: true, force: true });
  }
});

test('client options given as undefined (flags not used) keep their defaults: 10 s after an empty page, not NaN', async () => {
  await withOrg(async (org) => {
    const sleeps: number[] = [];
    const c = new OktaLogClient({
      baseUrl: org.base,
      auth: sswsAuth(TOKEN),
      // What the CLI passes for --empty-wait, --empty-wait-max, --request-timeout not given.
      emptyWaitMs: undefined,
      emptyWaitMaxMs: undefined,
      timeoutMs: undefined,
      sleep: async (ms) => void sleeps.push(ms),
    });
    let pages = 0;
    for await (const p of c.poll(`${org.base}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=1000`)) {
      assert.equal(p.events.length, 0);
      if (++pages === 4) break;
    }
    assert.deepEqual(sleeps, [10_000, 20_000, 40_000]);
  });
});
