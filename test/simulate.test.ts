import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject, LogEvent } from '../src/event/types.js';
import {
  CORPORATE_VPN_CIDRS, PRIVATE_RELAY_CIDRS, SCENARIO_IDS, generateTenant, generateTenantLines, groundTruth, tenantDirectory, tenantSummary, truthDocument,
  type ScenarioId, type TenantOptions,
} from '../src/simulate/tenant.js';
import { directoryCsv } from '../src/simulate/output.js';
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
/** IPv4 address in an a.b.c.d/n network. */
function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(net!) / size);
}

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
    assert.ok(dd.threatSuspected === 'false' || dd.threatSuspected === 'true', `${where} threatSuspected`);
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

const byUuid = new Map(EVENTS.map((e) => [e.uuid, e] as const));
const scenarioEvents = (id: string): LogEvent[] => {
  const g = groundTruth(OPTS).find((x) => x.id === id);
  assert.ok(g, `scenario ${id} in the truth`);
  return g.eventUuids.map((u) => byUuid.get(u)!);
};
const ipOf = (e: LogEvent) => (e.client as JsonObject).ipAddress as string;
const sidOf = (e: LogEvent) => (e.authenticationContext as JsonObject).externalSessionId as string;
const countryOf = (e: LogEvent) => ((e.client as JsonObject).geographicalContext as JsonObject).country as string;

test('simulate: five scenarios, each labelled, with its own victim, on its own day, events in the log in time order', () => {
  const truth = groundTruth(OPTS);
  assert.deepEqual(truth.map((g) => g.id), [...SCENARIO_IDS]);
  const victims = truth.map((g) => g.users[0]);
  assert.equal(new Set(victims).size, 5, 'five different victims');
  assert.equal(new Set(truth.map((g) => g.start.slice(0, 10))).size, 5, 'five different days');
  for (const g of truth) {
    assert.ok(g.title.length > 10 && g.description.length > 80, `${g.id} title and description`);
    assert.ok(g.eventUuids.length > 0 && g.ips.length > 0 && g.users.length === 1);
    const evs = g.eventUuids.map((u) => byUuid.get(u));
    assert.ok(evs.every(Boolean), `${g.id}: every truth uuid is generated`);
    const times = evs.map((e) => e!.published);
    assert.deepEqual(times, [...times].sort(), `${g.id}: eventUuids in time order`);
    assert.equal(g.start, times[0]);
    assert.equal(g.end, times[times.length - 1]);
    for (const e of evs) assert.ok(g.users.includes(actorOf(e!)) || g.targets.includes(actorOf(e!)), `${g.id}: ${e!.uuid} by a labelled account`);
  }
  // Nothing in the log outside the truth is done from an attacker's address.
  const attackerIps = new Set(truth.flatMap((g) => g.ips));
  const labelled = new Set(truth.flatMap((g) => g.eventUuids));
  assert.ok(EVENTS.filter((e) => attackerIps.has(ipOf(e))).every((e) => labelled.has(e.uuid)));
});

test('simulate: credential-stuffing: one hosting address fails for many users, then a proxied sign-in of the one that verified', () => {
  const g = groundTruth(OPTS).find((x) => x.id === 'credential-stuffing')!;
  const evs = scenarioEvents('credential-stuffing');
  const src = g.ips[0]!;
  const burst = evs.filter((e) => ipOf(e) === src);
  const failures = burst.filter((e) => e.eventType === 'user.session.start' && resultOf(e) === 'FAILURE');
  const perUser = new Map<string, number>();
  for (const e of failures) perUser.set(actorOf(e), (perUser.get(actorOf(e)) ?? 0) + 1);
  assert.ok(failures.length >= 25 && perUser.size >= 15 && Math.max(...perUser.values()) <= 2);
  assert.ok(g.targets.length >= 20 && [...perUser.keys()].every((u) => g.targets.includes(u)));
  const verified = burst.filter((e) => e.eventType === 'user.authentication.verify' && resultOf(e) === 'SUCCESS');
  assert.deepEqual(verified.map(actorOf), g.users);
  const start = evs.find((e) => e.eventType === 'user.session.start' && resultOf(e) === 'SUCCESS')!;
  assert.equal(actorOf(start), g.users[0]);
  assert.equal(isProxy(start), true);
  assert.equal(ipOf(start), g.ips[1]);
  assert.ok(Date.parse(start.published) - Date.parse(g.start) < 40 * 60_000);
});

test('simulate: tor-takeover: Tor exit, MFA fatigue, MFA reset and admin-role grant in one session', () => {
  const g = groundTruth(OPTS).find((x) => x.id === 'tor-takeover')!;
  const evs = scenarioEvents('tor-takeover');
  const victim = g.users[0]!;
  assert.ok(tenantSummary(OPTS).admins.some((a) => a.login === victim), 'the victim is an administrator');
  assert.equal(evs.filter((e) => e.eventType === 'user.mfa.okta_verify.deny_push').length, 2);
  const start = evs.find((e) => e.eventType === 'user.session.start')!;
  assert.equal(isProxy(start), true);
  assert.equal((start.securityContext as JsonObject).asOrg, 'stiftung erneuerbare freiheit');
  assert.match(ipOf(start), /^185\.220\.10[01]\./);
  assert.match(String(((start.debugContext as JsonObject).debugData as JsonObject).behaviors), /New Device=POSITIVE/);
  const before = EVENTS.filter((e) => actorOf(e) === victim && isProxy(e) && e.published < start.published);
  assert.ok(before.every((e) => evs.includes(e)), 'no proxied activity by the victim before the attack');
  for (const type of ['user.mfa.factor.reset_all', 'user.account.privilege.grant', 'iam.resourceset.bindings.add']) {
    const e = evs.find((x) => x.eventType === type);
    assert.ok(e, type);
    assert.equal(actorOf(e), victim);
    assert.equal(sidOf(e), sidOf(start));
    assert.deepEqual(((e.target ?? []) as JsonObject[]).filter((t) => t.type === 'User').map((t) => t.alternateId), g.targets);
    assert.ok(Date.parse(e.published) - Date.parse(start.published) < 30 * 60_000);
  }
  assert.ok(g.targets.every((t) => tenantSummary(OPTS).dormantUsers.some((d) => d.login === t)), 'the backdoor is the dormant account');
});

test('simulate: residential-proxy-geo-mismatch: a consumer ISP exit flagged as proxy, thousands of km from the profile', () => {
  const g = groundTruth(OPTS).find((x) => x.id === 'residential-proxy-geo-mismatch')!;
  const start = scenarioEvents('residential-proxy-geo-mismatch').find((e) => e.eventType === 'user.session.start')!;
  assert.equal(isProxy(start), true);
  const profile = tenantDirectory(OPTS).find((u) => u.login === g.users[0])!;
  assert.ok(['Brazil', 'Vietnam', 'Indonesia'].includes(countryOf(start)));
  assert.notEqual(countryOf(start), profile.countryCode);
  assert.match(String((start.securityContext as JsonObject).asOrg), /telefonica|viettel|telekomunikasi/);
  assert.ok(scenarioEvents('residential-proxy-geo-mismatch').some((e) => e.eventType === 'user.authentication.sso'));
});

test('simulate: session-replay: the victim\'s own session id, then from another ASN and browser, with no sign-in', () => {
  const g = groundTruth(OPTS).find((x) => x.id === 'session-replay')!;
  const evs = scenarioEvents('session-replay');
  assert.ok(evs.length >= 6 && evs.every((e) => e.eventType === 'user.authentication.sso' || e.eventType === 'policy.evaluate_sign_on'));
  const sid = sidOf(evs[0]!);
  assert.ok(evs.every((e) => sidOf(e) === sid && ipOf(e) === g.ips[0]));
  const own = EVENTS.filter((e) => sidOf(e) === sid && !evs.includes(e));
  const signIn = own.find((e) => e.eventType === 'user.session.start');
  assert.ok(signIn, 'the stolen session was started by the victim');
  assert.equal(actorOf(signIn), g.users[0]);
  assert.ok(signIn.published < g.start);
  assert.notEqual((signIn.securityContext as JsonObject).asNumber, (evs[0]!.securityContext as JsonObject).asNumber);
  assert.notEqual(((signIn.client as JsonObject).userAgent as JsonObject).rawUserAgent, ((evs[0]!.client as JsonObject).userAgent as JsonObject).rawUserAgent);
  assert.equal(isProxy(evs[0]!), false);
});

test('simulate: api-token-after-proxy: an administrator\'s proxied sign-in, then an API token within minutes', () => {
  const g = groundTruth(OPTS).find((x) => x.id === 'api-token-after-proxy')!;
  const evs = scenarioEvents('api-token-after-proxy');
  const start = evs.find((e) => e.eventType === 'user.session.start')!;
  const token = evs.find((e) => e.eventType === 'system.api_token.create')!;
  assert.equal(isProxy(start), true);
  assert.equal(actorOf(token), g.users[0]);
  assert.equal(sidOf(token), sidOf(start));
  const dt = Date.parse(token.published) - Date.parse(start.published);
  assert.ok(dt > 0 && dt < 20 * 60_000, `token ${dt / 60_000} min after the sign-in`);
  const malicious = new Set(g.eventUuids);
  assert.equal(EVENTS.filter((e) => e.eventType === 'system.api_token.create' && malicious.has(e.uuid)).length, 1, 'one malicious token');
});

test('simulate: benign look-alikes of the attacks\' later steps: admin tokens, role grants and factor resets, some on the corporate VPN; sessions carried from home to the office', () => {
  const opts: TenantOptions = { seed: 3, users: 300, days: 14, start: '2026-11-02', org: 'acme', attacks: false };
  const events = [...generateTenant(opts)];
  const admins = new Set(tenantSummary(opts).admins.map((a) => a.login));
  const adminWork = (type: string) => events.filter((e) => e.eventType === type);
  for (const type of ['system.api_token.create', 'user.account.privilege.grant', 'user.mfa.factor.reset_all']) {
    const list = adminWork(type);
    assert.ok(list.length >= 1 && list.length <= 10, `${type}: occasional (${list.length} in 14 days)`);
    assert.ok(list.every((e) => admins.has(actorOf(e))), `${type}: by administrators`);
  }
  // Administrators working from home through the corporate VPN (Okta flags its egress as a proxy).
  const adminVpn = events.filter((e) => admins.has(actorOf(e)) && e.eventType === 'user.session.start' && isProxy(e));
  assert.ok(adminVpn.length > 0 && adminVpn.every((e) => CORPORATE_VPN_CIDRS.some((c) => inCidr(ipOf(e), c))));
  // Hybrid workers: one Okta session seen from two ASNs (home ISP, then the office), the same day.
  const asnsBySession = new Map<string, Set<unknown>>();
  for (const e of events) {
    if (e.eventType !== 'user.authentication.sso') continue;
    const set = asnsBySession.get(sidOf(e)) ?? new Set();
    set.add((e.securityContext as JsonObject).asNumber);
    asnsBySession.set(sidOf(e), set);
  }
  const carried = [...asnsBySession.values()].filter((x) => x.size > 1).length;
  assert.ok(carried >= 1 && carried < 60, `${carried} sessions carried between networks: a small share`);
  // Still deterministic, and still an attack-free subset of the log with attacks.
  assert.deepEqual([...generateTenantLines(opts)].slice(0, 500), events.slice(0, 500).map((e) => JSON.stringify(e)));
});

test('simulate: benign proxy users: corporate VPN, commercial VPN daily, iCloud Private Relay; travellers', () => {
  const summary = tenantSummary(OPTS);
  const victims = new Set(groundTruth(OPTS).flatMap((g) => g.users));
  const proxiedStarts = EVENTS.filter((e) => e.eventType === 'user.session.start' && resultOf(e) === 'SUCCESS' && isProxy(e));
  assert.ok(summary.corporateVpnUsers.length >= 2 && summary.vpnUsers.length >= 2);
  assert.equal(summary.privateRelayUsers.length, 1);
  assert.equal(summary.travellers.length, 1);
  for (const v of [...summary.vpnUsers, ...summary.corporateVpnUsers]) {
    const days = new Set(proxiedStarts.filter((e) => actorOf(e) === v.login).map((e) => e.published.slice(0, 10)));
    assert.ok(days.size >= 4, `${v.login} on VPN on most days (${days.size})`);
  }
  for (const v of summary.vpnUsers) assert.ok(proxiedStarts.filter((e) => actorOf(e) === v.login).every((e) => (e.securityContext as JsonObject).asOrg === v.asOrg));
  const corp = summary.corporateVpnUsers.map((u) => u.login);
  const corpIps = new Set(proxiedStarts.filter((e) => corp.includes(actorOf(e))).map(ipOf));
  assert.ok([...corpIps].every((ip) => CORPORATE_VPN_CIDRS.some((c) => inCidr(ip, c))), `corporate egress ${[...corpIps].join(', ')}`);
  const relay = proxiedStarts.filter((e) => actorOf(e) === summary.privateRelayUsers[0]!.login);
  assert.ok(relay.length >= 3 && relay.every((e) => PRIVATE_RELAY_CIDRS.some((c) => inCidr(ipOf(e), c))));
  const benignProxyUsers = new Set(proxiedStarts.map(actorOf).filter((a) => !victims.has(a)));
  assert.ok(benignProxyUsers.size >= 5);
  const traveller = summary.travellers[0]!;
  const countries = new Set(EVENTS.filter((e) => actorOf(e) === traveller.login && e.eventType === 'user.session.start' && resultOf(e) === 'SUCCESS').map(countryOf));
  assert.ok(countries.size >= 2, 'the traveller signs in from two countries');
});

test('simulate: the truth document (oktopus-truth/2) and its benign populations', () => {
  const doc = truthDocument(OPTS);
  assert.deepEqual(Object.keys(doc), ['format', 'tenant', 'scenarios', 'benign']);
  assert.equal(doc.format, 'oktopus-truth/2');
  assert.deepEqual(doc.tenant, { org: 'acme', orgUrl: 'https://acme.okta.com', seed: 42, users: 40, days: 5, start: '2026-11-02T00:00:00.000Z', end: '2026-11-07T00:00:00.000Z' });
  assert.deepEqual(doc.scenarios, groundTruth(OPTS));
  for (const s of doc.scenarios) assert.deepEqual(Object.keys(s), ['id', 'title', 'description', 'users', 'targets', 'ips', 'start', 'end', 'eventUuids']);
  assert.deepEqual(doc.benign.map((b) => b.category), ['corporate-vpn', 'commercial-vpn', 'private-relay', 'traveller']);
  const summary = tenantSummary(OPTS);
  assert.deepEqual(doc.benign[0]!.users, summary.corporateVpnUsers.map((u) => u.login));
  assert.deepEqual(doc.benign[0]!.cidrs, [...CORPORATE_VPN_CIDRS]);
  assert.deepEqual(doc.benign[2]!.cidrs, [...PRIVATE_RELAY_CIDRS]);
  for (const b of doc.benign) {
    assert.ok(b.users.length > 0 && b.cidrs.length > 0 && b.description.length > 20);
    for (const c of b.cidrs) assert.match(c, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    // Every proxied session start of these users comes from one of the listed networks.
    const ips = EVENTS.filter((e) => b.users.includes(actorOf(e)) && e.eventType === 'user.session.start' && isProxy(e)).map(ipOf);
    assert.ok(ips.every((ip) => b.cidrs.some((c) => inCidr(ip, c))), `${b.category}: ${ips.find((ip) => !b.cidrs.some((c) => inCidr(ip, c)))}`);
  }
  assert.deepEqual(truthDocument({ ...OPTS, attacks: false }).scenarios, []);
  assert.deepEqual(truthDocument({ ...OPTS, scenarios: ['session-replay'] }).scenarios.map((s) => s.id), ['session-replay']);
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

test('simulate: a selection of scenarios is the benign log plus exactly those scenarios, with the same truth', () => {
  const pick: ScenarioId[] = ['session-replay', 'credential-stuffing'];
  const truth = groundTruth({ ...OPTS, scenarios: pick });
  assert.deepEqual(truth.map((g) => g.id), ['credential-stuffing', 'session-replay'], 'in SCENARIO_IDS order');
  const all = groundTruth(OPTS);
  for (const g of truth) assert.deepEqual(g, all.find((x) => x.id === g.id), `${g.id} does not depend on the selection`);
  const keep = new Set(truth.flatMap((g) => g.eventUuids));
  const drop = new Set(all.flatMap((g) => g.eventUuids).filter((u) => !keep.has(u)));
  const some = [...generateTenant({ ...OPTS, scenarios: pick })];
  // Whole events, not only uuids: request and transaction ids come from each scenario's own stream.
  assert.deepEqual(some.map((e) => JSON.stringify(e)), EVENTS.filter((e) => !drop.has(e.uuid)).map((e) => JSON.stringify(e)));
  for (const id of SCENARIO_IDS) {
    const alone = new Set(generateTenantLines({ ...OPTS, scenarios: [id] }));
    const mine = new Set(groundTruth(OPTS).find((g) => g.id === id)!.eventUuids);
    const inAll = EVENTS.filter((e) => mine.has(e.uuid)).map((e) => JSON.stringify(e));
    assert.ok(inAll.length > 0 && inAll.every((line) => alone.has(line)), `${id} alone gives the same lines as in all`);
  }
  const replay = some.filter((e) => truth[1]!.eventUuids.includes(e.uuid));
  assert.equal(sidOf(replay[0]!), sidOf(scenarioEvents('session-replay')[0]!), 'the replay steals the same session');
  assert.throws(() => groundTruth({ ...OPTS, scenarios: ['nope' as ScenarioId] }), /unknown scenario 'nope'/);
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

test('examples/: the demo truth and directory are what the generator gives for the example options (npm run examples regenerates them)', () => {
  const examples = new URL('../../examples/', import.meta.url);
  const truth = JSON.parse(readFileSync(new URL('tenant.truth.json', examples), 'utf8')) as unknown;
  assert.deepEqual(truth, JSON.parse(JSON.stringify(truthDocument(OPTS))));
  assert.equal(readFileSync(new URL('users.csv', examples), 'utf8'), directoryCsv(OPTS));
  const exceptions = readFileSync(new URL('exceptions.yml', examples), 'utf8');
  for (const c of [...CORPORATE_VPN_CIDRS, ...PRIVATE_RELAY_CIDRS]) assert.ok(exceptions.includes(c), `exceptions.yml lists ${c}`);
});

test('simulate: the credential-stuffing ghost logins are never real employees nor repeated (several seeds, 1,000+ users)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const opts: TenantOptions = { seed, users: 1500, days: 1, start: '2026-11-02', org: 'acme', attacks: true, scenarios: ['credential-stuffing'] };
    const logins = new Set(tenantDirectory(opts).map((u) => u.login.toLowerCase()));
    const stuffing = groundTruth(opts)[0]!;
    const ghosts = stuffing.targets.filter((t) => !logins.has(t.toLowerCase()));
    assert.equal(ghosts.length, 6, `seed ${seed}: six non-existent logins among the targets`);
    assert.equal(new Set(ghosts).size, 6, `seed ${seed}: no ghost repeated`);
    // In the log, every VERIFICATION_ERROR names a ghost (an unknown user), every INVALID_CREDENTIALS an employee.
    const failures = [...generateTenant(opts)].filter((e) => stuffing.eventUuids.includes(e.uuid) && e.eventType === 'user.session.start' && resultOf(e) === 'FAILURE');
    for (const e of failures) {
      const reason = (e.outcome as JsonObject).reason;
      assert.equal(logins.has(actorOf(e).toLowerCase()), reason === 'INVALID_CREDENTIALS', `seed ${seed}: ${actorOf(e)} ${String(reason)}`);
    }
  }
});

test('simulate: the credential-stuffing spray reaches the stuffing rule\'s thresholds whatever the tenant size; ThreatInsight flags only its source', () => {
  for (const users of [1, 5, 9, 12, 40]) {
    const opts: TenantOptions = { seed: 7, users, days: 2, start: '2026-11-02', org: 'acme', attacks: true, scenarios: ['credential-stuffing'] };
    const g = groundTruth(opts)[0]!;
    const events = [...generateTenant(opts)];
    const malicious = new Set(g.eventUuids);
    const failures = events.filter((e) => malicious.has(e.uuid) && e.eventType === 'user.session.start' && resultOf(e) === 'FAILURE');
    assert.ok(failures.every((e) => ipOf(e) === g.ips[0]));
    // The rule: ≥10 failures from one address for ≥8 distinct logins within 10 minutes.
    assert.ok(failures.length >= 10, `${users} users: ${failures.length} failures`);
    assert.ok(new Set(failures.map(actorOf)).size >= 8, `${users} users: ${new Set(failures.map(actorOf)).size} logins`);
    const span = Date.parse(failures[failures.length - 1]!.published) - Date.parse(failures[0]!.published);
    assert.ok(span < 10 * 60_000);
    // debugData.threatSuspected is "true" on the stuffing source's requests, and only there.
    const flagged = events.filter((e) => ((e.debugContext as JsonObject).debugData as JsonObject).threatSuspected === 'true');
    assert.ok(flagged.length >= failures.length);
    assert.ok(flagged.every((e) => malicious.has(e.uuid) && ipOf(e) === g.ips[0]), `${users} users: a flagged event outside the stuffing source`);
  }
});
