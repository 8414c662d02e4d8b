import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject, LogEvent } from '../src/event/types.js';
import { generateTenant, generateTenantLines, groundTruth, tenantSummary, type TenantOptions } from '../src/simulate/tenant.js';
import { writeBenchFile } from '../bench/generate.js';

const OPTS: TenantOptions = { seed: 42, users: 40, days: 5, start: '2026-11-02', org: 'acme', attacks: true };
const EVENTS: LogEvent[] = [...generateTenant(OPTS)];

function first<T>(gen: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const x of gen) {
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}
const obj = (v: unknown, path: string): JsonObject => {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${path} should be an object`);
  return v as JsonObject;
};
const str = (v: unknown, path: string): string => {
  assert.equal(typeof v, 'string', `${path} should be a string`);
  return v as string;
};
const actorOf = (e: LogEvent) => (e.actor as JsonObject).alternateId as string;
const isProxy = (e: LogEvent) => (e.securityContext as JsonObject).isProxy === true;
const resultOf = (e: LogEvent) => (e.outcome as JsonObject).result;

test('simulate: same seed gives the same events, another seed different ones', () => {
  const a = first(generateTenant(OPTS), 100).map((e) => e.uuid);
  const b = first(generateTenant(OPTS), 100).map((e) => e.uuid);
  const c = first(generateTenant({ ...OPTS, seed: 43 }), 100).map((e) => e.uuid);
  assert.equal(a.length, 100);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.filter((u) => c.includes(u)).length, 0);
  assert.deepEqual(groundTruth(OPTS), groundTruth({ ...OPTS }));
  assert.notDeepEqual(groundTruth(OPTS), groundTruth({ ...OPTS, seed: 43 }));
});

test('simulate: published is ISO with ms and Z, non-decreasing, inside the window; uuids unique', () => {
  assert.ok(EVENTS.length > 2000 && EVENTS.length < 6000, `a few thousand events, got ${EVENTS.length}`);
  const start = Date.parse('2026-11-02T00:00:00Z');
  const end = start + 5 * 86_400_000;
  let last = -Infinity;
  const ids = new Set<string>();
  for (const e of EVENTS) {
    assert.match(e.published, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const t = Date.parse(e.published);
    assert.ok(t >= last, `out of order at ${e.uuid}: ${e.published}`);
    assert.ok(t >= start && t < end, `outside the window: ${e.published}`);
    last = t;
    assert.match(e.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!ids.has(e.uuid), `duplicate uuid ${e.uuid}`);
    ids.add(e.uuid);
  }
});

test('simulate: every event carries the LogEvent fields rules read', () => {
  for (const e of EVENTS) {
    const where = `${e.eventType} ${e.uuid}`;
    str(e.eventType, `${where} eventType`);
    assert.equal(e.version, '0');
    assert.ok(['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(str(e.severity, `${where} severity`)));
    assert.ok(e.legacyEventType === null || typeof e.legacyEventType === 'string');
    str(e.displayMessage, `${where} displayMessage`);
    const actor = obj(e.actor, `${where} actor`);
    assert.equal(actor.type, 'User');
    const id = str(actor.id, `${where} actor.id`);
    assert.ok(id === 'unknown' || /^00u[0-9A-Za-z]{17}$/.test(id), `${where} actor.id ${id}`);
    assert.match(str(actor.alternateId, `${where} actor.alternateId`), /^[^@\s]+@acme\.com$/);
    str(actor.displayName, `${where} actor.displayName`);
    const client = obj(e.client, `${where} client`);
    const ua = obj(client.userAgent, `${where} client.userAgent`);
    str(ua.rawUserAgent, 'rawUserAgent');
    str(ua.os, 'os');
    str(ua.browser, 'browser');
    str(client.zone, 'zone');
    assert.ok(['Computer', 'Mobile', 'Unknown'].includes(str(client.device, 'device')));
    assert.ok(client.id === null || typeof client.id === 'string');
    const ip = str(client.ipAddress, `${where} client.ipAddress`);
    const geo = obj(client.geographicalContext, `${where} geographicalContext`);
    for (const k of ['city', 'state', 'country', 'postalCode']) str(geo[k], `${where} geo.${k}`);
    const ll = obj(geo.geolocation, `${where} geolocation`);
    assert.equal(typeof ll.lat, 'number');
    assert.equal(typeof ll.lon, 'number');
    const chain = (obj(e.request, `${where} request`).ipChain ?? []) as JsonObject[];
    assert.ok(Array.isArray(chain) && chain.length >= 1, `${where} ipChain`);
    assert.equal(chain[0]!.ip, ip);
    assert.equal(chain[0]!.version, ip.includes(':') ? 'V6' : 'V4');
    const outcome = obj(e.outcome, `${where} outcome`);
    assert.ok(['SUCCESS', 'FAILURE', 'ALLOW', 'DENY', 'CHALLENGE'].includes(str(outcome.result, 'result')));
    assert.ok(outcome.reason === null || typeof outcome.reason === 'string');
    assert.ok(e.target === null || Array.isArray(e.target), `${where} target`);
    for (const t of (e.target ?? []) as JsonObject[]) {
      str(t.id, 'target.id');
      str(t.type, 'target.type');
      str(t.displayName, 'target.displayName');
    }
    const tx = obj(e.transaction, `${where} transaction`);
    assert.equal(tx.type, 'WEB');
    const dd = obj(obj(e.debugContext, `${where} debugContext`).debugData, `${where} debugData`);
    assert.equal(dd.requestId, tx.id);
    assert.match(str(dd.requestUri, `${where} requestUri`), /^\//);
    str(dd.url, `${where} url`);
    assert.equal(dd.threatSuspected, 'false');
    if (dd.behaviors !== undefined) assert.match(str(dd.behaviors, 'behaviors'), /^\{New Geo-Location=(POSITIVE|NEGATIVE), .*New City=(POSITIVE|NEGATIVE)\}$/);
    if (dd.dtHash !== undefined) assert.match(str(dd.dtHash, 'dtHash'), /^[0-9a-f]{64}$/);
    const auth = obj(e.authenticationContext, `${where} authenticationContext`);
    assert.equal(auth.authenticationStep, 0);
    str(auth.externalSessionId, `${where} externalSessionId`);
    const sc = obj(e.securityContext, `${where} securityContext`);
    assert.equal(typeof sc.asNumber, 'number');
    str(sc.asOrg, 'asOrg');
    str(sc.isp, 'isp');
    str(sc.domain, 'domain');
    assert.equal(typeof sc.isProxy, 'boolean');
  }
});

test('simulate: daily traffic covers the ordinary event types', () => {
  const types = new Set(EVENTS.map((e) => e.eventType));
  for (const t of [
    'user.session.start', 'user.authentication.sso', 'user.authentication.auth_via_mfa', 'user.authentication.verify',
    'policy.evaluate_sign_on', 'user.session.end', 'system.push.send_factor_verify_push', 'user.session.access_admin_app',
    'group.user_membership.add', 'application.user_membership.add',
  ]) assert.ok(types.has(t), `missing ${t}`);
  const factors = new Set(EVENTS.filter((e) => e.eventType === 'user.authentication.auth_via_mfa').map((e) => obj(obj(e.debugContext, '').debugData, '').factor));
  assert.deepEqual([...factors].sort(), ['GOOGLE_OTP', 'OKTA_VERIFY_PUSH', 'SIGNED_NONCE']);
  const adminConsole = EVENTS.filter(
    (e) => e.eventType === 'policy.evaluate_sign_on' && ((e.target ?? []) as JsonObject[]).some((t) => t.displayName === 'Okta Admin Console'),
  );
  assert.ok(adminConsole.length >= 5, 'admins evaluate the Okta Admin Console policy daily');
  assert.ok(EVENTS.some((e) => e.eventType === 'user.session.start' && resultOf(e) === 'FAILURE' && (e.outcome as JsonObject).reason === 'INVALID_CREDENTIALS'));
});

test('simulate: the attack is in the log as the ground truth says', () => {
  const truth = groundTruth(OPTS);
  assert.deepEqual(truth.map((g) => g.scenario), ['credential-stuffing', 'proxy-session-takeover', 'mfa-reset', 'admin-privilege-grant', 'api-token-creation']);
  const victim = truth[0]!.user;
  assert.ok(truth.every((g) => g.user === victim && g.eventUuids.length > 0 && g.description.length > 0));
  const byId = new Map(EVENTS.map((e) => [e.uuid, e] as const));
  for (const g of truth) for (const id of g.eventUuids) assert.ok(byId.has(id), `${g.scenario}: ${id} not generated`);

  // Stuffing: one source IP, ≥25 failed attempts over ≥15 users, ≤2 attempts each.
  const stuffing = truth[0]!.eventUuids.map((id) => byId.get(id)!);
  const failures = stuffing.filter((e) => resultOf(e) === 'FAILURE' && (e.outcome as JsonObject).reason === 'INVALID_CREDENTIALS');
  assert.equal(new Set(stuffing.map((e) => (e.client as JsonObject).ipAddress)).size, 1);
  const perUser = new Map<string, number>();
  for (const e of failures) perUser.set(actorOf(e), (perUser.get(actorOf(e)) ?? 0) + 1);
  assert.ok(failures.length >= 25 && perUser.size >= 15 && Math.max(...perUser.values()) <= 2);

  // The takeover session start: the victim, through a proxy, first proxied session ever.
  const takeover = truth[1]!.eventUuids.map((id) => byId.get(id)!);
  const start = takeover.find((e) => e.eventType === 'user.session.start')!;
  assert.ok(start, 'takeover has a user.session.start');
  assert.equal(actorOf(start), victim);
  assert.equal(resultOf(start), 'SUCCESS');
  assert.equal(isProxy(start), true);
  const sc = start.securityContext as JsonObject;
  assert.ok(typeof sc.asOrg === 'string' && typeof sc.asNumber === 'number');
  const victimCountry = (EVENTS.find((e) => actorOf(e) === victim && !isProxy(e))!.client as JsonObject).geographicalContext as JsonObject;
  assert.notEqual(((start.client as JsonObject).geographicalContext as JsonObject).country, victimCountry.country, 'foreign exit node');
  assert.match(String((start.debugContext as JsonObject & { debugData: JsonObject }).debugData.behaviors), /New Device=POSITIVE/);
  const before = EVENTS.filter((e) => actorOf(e) === victim && isProxy(e) && e.published < start.published);
  assert.ok(before.every((e) => takeover.includes(e)), 'no proxied activity by the victim before the attack');

  // Then, within minutes, by the victim actor, in the same session, through the proxy.
  const sid = (start.authenticationContext as JsonObject).externalSessionId;
  const t0 = Date.parse(start.published);
  for (const type of ['user.mfa.factor.reset_all', 'user.account.privilege.grant', 'iam.resourceset.bindings.add', 'system.api_token.create']) {
    const e = EVENTS.find((x) => x.eventType === type && actorOf(x) === victim);
    assert.ok(e, `${type} by the victim`);
    assert.ok(truth.some((g) => g.eventUuids.includes(e.uuid)), `${type} is in the ground truth`);
    assert.equal(isProxy(e), true);
    assert.equal((e.authenticationContext as JsonObject).externalSessionId, sid);
    const dt = Date.parse(e.published) - t0;
    assert.ok(dt > 0 && dt < 30 * 60_000, `${type} within 30 minutes of the proxied session start`);
  }
  const grant = EVENTS.find((e) => e.eventType === 'user.account.privilege.grant')!;
  assert.match(String(((grant.debugContext as JsonObject).debugData as JsonObject).privilegeGranted), /administrator/);
  const summary = tenantSummary(OPTS);
  assert.equal(summary.attack?.victim.login, victim);
  assert.equal(summary.attack?.proxy.ip, (start.client as JsonObject).ipAddress);
});

test('simulate: benign proxy users (commercial VPN daily, iCloud Private Relay) and a traveller', () => {
  const summary = tenantSummary(OPTS);
  const victim = summary.attack!.victim.login;
  assert.ok(summary.vpnUsers.length >= 2);
  assert.equal(summary.privateRelayUsers.length, 1);
  assert.equal(summary.travellers.length, 1);
  const proxiedStarts = EVENTS.filter((e) => e.eventType === 'user.session.start' && resultOf(e) === 'SUCCESS' && isProxy(e));
  for (const v of summary.vpnUsers) {
    const mine = proxiedStarts.filter((e) => actorOf(e) === v.login);
    const days = new Set(mine.map((e) => e.published.slice(0, 10)));
    assert.ok(days.size >= 4, `${v.login} on VPN on most days (${days.size})`);
    assert.ok(mine.every((e) => (e.securityContext as JsonObject).asOrg === v.asOrg));
  }
  const relay = proxiedStarts.filter((e) => actorOf(e) === summary.privateRelayUsers[0]!.login);
  assert.ok(relay.length >= 3 && relay.every((e) => (e.securityContext as JsonObject).asOrg === 'Apple Inc.'));
  const benignProxyUsers = new Set(proxiedStarts.map(actorOf).filter((a) => a !== victim));
  assert.ok(benignProxyUsers.size >= 3);
  const traveller = summary.travellers[0]!;
  const countries = new Set(
    EVENTS.filter((e) => actorOf(e) === traveller.login && e.eventType === 'user.session.start' && resultOf(e) === 'SUCCESS').map(
      (e) => ((e.client as JsonObject).geographicalContext as JsonObject).country,
    ),
  );
  assert.ok(countries.size >= 2, 'the traveller signs in from two countries');
});

test('simulate: attacks:false is exactly the attack-free part of attacks:true', () => {
  const truth = new Set(groundTruth(OPTS).flatMap((g) => g.eventUuids));
  const quiet = [...generateTenant({ ...OPTS, attacks: false })];
  assert.deepEqual(groundTruth({ ...OPTS, attacks: false }), []);
  assert.deepEqual(
    quiet.map((e) => JSON.stringify(e)),
    EVENTS.filter((e) => !truth.has(e.uuid)).map((e) => JSON.stringify(e)),
  );
});

test('simulate: generateTenantLines is JSON.stringify of generateTenant', () => {
  const lines = [...generateTenantLines(OPTS)];
  assert.equal(lines.length, EVENTS.length);
  for (let i = 0; i < lines.length; i++) assert.equal(lines[i], JSON.stringify(EVENTS[i]));
});

test('simulate: tiny and odd tenants still generate ordered events', () => {
  for (const o of [
    { seed: 1, users: 1, days: 1, start: '2026-03-28', org: 'solo', attacks: true },
    { seed: -7, users: 3, days: 2, start: '2026-10-31T00:00:00Z', org: 'trio', attacks: true },
  ]) {
    const evs = [...generateTenant(o)];
    for (let i = 1; i < evs.length; i++) assert.ok(evs[i - 1]!.published <= evs[i]!.published);
    const ids = new Set(evs.map((e) => e.uuid));
    for (const g of groundTruth(o)) for (const id of g.eventUuids) assert.ok(ids.has(id));
  }
  assert.throws(() => [...generateTenant({ ...OPTS, start: 'not a date' })], /bad start date/);
  assert.throws(() => [...generateTenant({ ...OPTS, users: 0 })], /users/);
});

test('bench: writeBenchFile writes exactly N ordered NDJSON events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-sim-'));
  try {
    const file = join(dir, 'bench.ndjson');
    await writeBenchFile(file, 5000, 3);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, 5000);
    let last = '';
    for (const l of lines) {
      const e = JSON.parse(l) as LogEvent;
      assert.ok(e.published >= last);
      last = e.published;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
