/**
 * User baselines (src/enrich/baseline.ts): per-user countries, cities, ASNs, devices and user
 * agents with first/last seen, retention, the derived `oktopus.enrichment.user.*` fields
 * (new_country, usual_distance_km, travel_speed_kmh, impossible_travel, …), event-time order
 * through the engine's reorder window, persistence at commit, and no cost when no rule reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { baselineView, type BaselineOptions } from '../src/enrich/baseline.js';
import { haversineKm } from '../src/enrich/geo.js';
import { loadRules } from '../src/rules/load.js';
import type { SchemaContext } from '../src/schema/index.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { Predicate, RuleIR } from '../src/ir/types.js';
import type { StateStore } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));

const PLACES = {
  nyc: { city: 'New York', state: 'New York', country: 'United States', lat: 40.71, lon: -74.01, asn: 701 },
  boston: { city: 'Boston', state: 'Massachusetts', country: 'United States', lat: 42.36, lon: -71.06, asn: 701 },
  london: { city: 'London', state: 'England', country: 'United Kingdom', lat: 51.51, lon: -0.13, asn: 2856 },
  berlin: { city: 'Berlin', state: 'Land Berlin', country: 'Germany', lat: 52.52, lon: 13.4, asn: 60729 },
};
type Place = keyof typeof PLACES;

let n = 0;
/** A sign-in of `user` at `iso` from `place` (overrides merged into the LogEvent). */
function signIn(iso: string, place: Place, over: JsonObject = {}, user = 'homer.simpson@duff.com'): CanonicalEvent {
  const p = PLACES[place];
  return oktaEvent({
    uuid: `bl-${++n}`,
    published: iso,
    eventType: 'user.session.start',
    actor: { id: `00u-${user}`, type: 'User', alternateId: user, displayName: user },
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0 (Macintosh) Chrome/131', os: 'Mac OS X', browser: 'CHROME' },
      device: 'Computer',
      ipAddress: `203.0.113.${Object.keys(PLACES).indexOf(place) + 10}`,
      geographicalContext: { city: p.city, state: p.state, country: p.country, geolocation: { lat: p.lat, lon: p.lon } },
    },
    securityContext: { asNumber: p.asn, asOrg: `as${p.asn}`, isProxy: false },
    ...over,
  });
}

/** A rule that reads a baseline field (so the engine keeps baselines) on session starts. */
const readsBaseline = (id = 'bl', field = 'oktopus.enrichment.user.new_country'): RuleIR =>
  rule(id, { type: 'and', args: [eq('eventType', 'user.session.start'), eq(field, true)] } as Predicate);
/** … on any event type (every event is released through the window and gets its view). */
const readsBaselineAnyType = (): RuleIR => rule('any', eq('oktopus.enrichment.user.new_country', true));

function engineWith(rules: RuleIR[], opts: { store?: StateStore; window?: number; baseline?: Partial<BaselineOptions> } = {}): Engine {
  const schema: SchemaContext = { org: 'duff', enrichment: new EnrichmentContext(opts.baseline ? { baseline: opts.baseline } : {}) };
  return new Engine(rules, { schema, store: opts.store ?? new MemoryStore(), reorderWindowMs: opts.window ?? 0 });
}

/** Push events (in the order given), drain, and return each event's frozen baseline view. */
function views(events: CanonicalEvent[], opts: Parameters<typeof engineWith>[1] = {}): JsonObject[] {
  const e = engineWith([readsBaselineAnyType()], opts);
  for (const ev of events) e.push(ev);
  e.drain();
  return events.map((ev) => baselineView(ev)!);
}

test('first sign-in: no baseline (baseline_events 0, new_* null); then the place is known', () => {
  const [first, second] = views([signIn('2026-11-02T09:00:00Z', 'nyc'), signIn('2026-11-02T18:00:00Z', 'nyc')]);
  assert.deepEqual(
    { n: first!['baseline_events'], c: first!['new_country'], d: first!['new_device'], u: first!['usual_distance_km'], t: first!['impossible_travel'] },
    { n: 0, c: null, d: null, u: null, t: null },
  );
  assert.equal(second!['baseline_events'], 1);
  assert.equal(second!['new_country'], false);
  assert.equal(second!['new_city'], false);
  assert.equal(second!['new_asn'], false);
  assert.equal(second!['new_device'], false);
  assert.equal(second!['new_user_agent'], false);
  assert.equal(second!['usual_distance_km'], 0);
  assert.equal(second!['travel_km'], 0);
  assert.equal(second!['impossible_travel'], false);
  assert.equal((second!['previous_signin'] as JsonObject)['time'], '2026-11-02T09:00:00.000Z');
});

test('new country, new network, new device: what the baseline has not seen', () => {
  const vs = views([
    signIn('2026-11-02T09:00:00Z', 'nyc'),
    signIn('2026-11-03T09:00:00Z', 'berlin', { client: { userAgent: { rawUserAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/131', os: 'Windows 10', browser: 'CHROME' }, device: 'Computer', ipAddress: '185.220.100.211', geographicalContext: { city: 'Berlin', country: 'Germany', geolocation: { lat: 52.52, lon: 13.4 } } } }),
  ]);
  const v = vs[1]!;
  assert.equal(v['new_country'], true);
  assert.equal(v['new_city'], true);
  assert.equal(v['new_asn'], true);
  assert.equal(v['new_device'], true);
  assert.equal(v['new_user_agent'], true);
  assert.equal(v['usual_distance_km'], Math.round(haversineKm(40.71, -74.01, 52.52, 13.4)));
  assert.equal(v['impossible_travel'], false, '24 h for ~6,400 km is a flight');
});

test('known country, new city; usual distance is to the nearest known place', () => {
  const vs = views([signIn('2026-11-02T09:00:00Z', 'nyc'), signIn('2026-11-02T12:00:00Z', 'london'), signIn('2026-11-05T09:00:00Z', 'boston')]);
  const v = vs[2]!;
  assert.equal(v['new_country'], false);
  assert.equal(v['new_city'], true);
  assert.equal(v['new_asn'], false);
  assert.equal(v['usual_distance_km'], Math.round(haversineKm(42.36, -71.06, 40.71, -74.01)), 'Boston → New York, not → London');
  assert.equal(v['baseline_events'], 2);
  assert.equal(vs[1]!['impossible_travel'], true, 'New York → London in 3 hours');
});

test('failed sign-ins and pre-session steps get the fields but do not teach the baseline', () => {
  const vs = views([
    signIn('2026-11-02T09:00:00Z', 'nyc'),
    signIn('2026-11-02T10:00:00Z', 'berlin', { outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } }),
    signIn('2026-11-02T10:01:00Z', 'berlin', { eventType: 'user.authentication.verify' }),
    signIn('2026-11-02T10:02:00Z', 'berlin'),
    signIn('2026-11-02T10:03:00Z', 'berlin', { eventType: 'user.authentication.sso' }),
  ]);
  assert.equal(vs[1]!['new_country'], true);
  assert.equal(vs[2]!['new_country'], true);
  assert.equal(vs[3]!['new_country'], true, 'the session start is still new: verify did not teach the baseline');
  assert.equal(vs[3]!['baseline_events'], 1);
  assert.equal(vs[4]!['new_country'], false, 'the session start did');
});

test('retention: entries not seen for retentionDays are forgotten; a silent user starts over', () => {
  const vs = views(
    [
      signIn('2026-11-01T09:00:00Z', 'london'),
      signIn('2026-11-06T09:00:00Z', 'nyc'),
      signIn('2026-11-12T09:00:00Z', 'london'), // London last seen 11 days ago: forgotten
      signIn('2026-11-13T09:00:00Z', 'nyc'), // New York seen 7 days ago: known
      signIn('2026-12-01T09:00:00Z', 'nyc'), // 18 days of silence: the baseline starts over
    ],
    { baseline: { retentionDays: 10 } },
  );
  assert.equal(vs[2]!['new_country'], true);
  assert.equal(vs[2]!['new_city'], true);
  assert.equal(vs[3]!['new_country'], false);
  assert.equal(vs[4]!['baseline_events'], 0);
  assert.equal(vs[4]!['new_country'], null);
  assert.equal(vs[4]!['previous_signin'], null);
});

test('bounded: at most maxEntries per list, the least recently seen dropped', () => {
  const agents = ['ua-1', 'ua-2', 'ua-3', 'ua-1'];
  const evs = agents.map((ua, i) => signIn(`2026-11-02T0${i}:00:00Z`, 'nyc', { client: { userAgent: { rawUserAgent: ua }, ipAddress: '198.51.100.1', geographicalContext: { country: 'United States', city: 'New York', geolocation: { lat: 40.71, lon: -74.01 } } } }));
  const vs = views(evs, { baseline: { maxEntries: 2 } });
  assert.equal(vs[3]!['new_user_agent'], true, 'ua-1 was the least recently seen of three: dropped');
});

test('impossible travel: over 1000 km/h and at least 500 km apart (boundaries)', () => {
  const km = haversineKm(40.71, -74.01, 51.51, -0.13);
  const at = (ms: number) => new Date(Date.parse('2026-11-02T09:00:00Z') + ms).toISOString();
  const exact = Math.ceil((km / 1000) * 3_600_000); // just under 1000 km/h
  const [, slow] = views([signIn(at(0), 'nyc'), signIn(at(exact), 'london')]);
  assert.equal(slow!['impossible_travel'], false);
  assert.ok((slow!['travel_speed_kmh'] as number) <= 1000);
  const [, fast] = views([signIn(at(0), 'nyc'), signIn(at(exact - 60_000), 'london')]);
  assert.equal(fast!['impossible_travel'], true);
  assert.ok((fast!['travel_speed_kmh'] as number) > 1000);
  assert.equal(fast!['travel_km'], Math.round(km));
  // New York → Boston (~300 km) in a minute: fast, but under the 500 km minimum.
  const [, near] = views([signIn(at(0), 'nyc'), signIn(at(60_000), 'boston')]);
  assert.ok((near!['travel_speed_kmh'] as number) > 1000);
  assert.equal(near!['impossible_travel'], false);
  // Thresholds are settings.
  const [, strict] = views([signIn(at(0), 'nyc'), signIn(at(60_000), 'boston')], { baseline: { minTravelKm: 100 } });
  assert.equal(strict!['impossible_travel'], true);
});

test('out-of-order events within the reorder window give the same views as in order', () => {
  const make = () => [
    signIn('2026-11-02T09:00:00Z', 'nyc'),
    signIn('2026-11-02T09:01:00Z', 'nyc', { eventType: 'user.authentication.sso' }),
    signIn('2026-11-02T09:02:00Z', 'london'),
    signIn('2026-11-02T09:03:00Z', 'berlin'),
    signIn('2026-11-02T09:04:00Z', 'nyc'),
    signIn('2026-11-02T09:05:00Z', 'boston', {}, 'marge.simpson@duff.com'),
  ];
  const strip = (vs: JsonObject[]) => JSON.stringify(vs);
  const ordered = views(make(), { window: 10 * 60_000 });
  const shuffled = make();
  const order = [3, 0, 5, 2, 4, 1];
  const e = engineWith([readsBaselineAnyType()], { window: 10 * 60_000 });
  for (const i of order) e.push(shuffled[i]!);
  e.drain();
  assert.equal(e.stats.late, 0);
  assert.equal(strip(shuffled.map((ev) => baselineView(ev)!)), strip(ordered));
  assert.equal(ordered[3]!['new_country'], true);
  assert.equal(ordered[4]!['new_country'], false);
});

test('a stateless rule reading a baseline field runs after the reorder window, in event-time order', () => {
  const e = engineWith([readsBaseline()], { window: 5 * 60_000 });
  e.push(signIn('2026-11-02T09:00:00Z', 'nyc'));
  e.push(signIn('2026-11-02T10:00:00Z', 'berlin'));
  assert.equal(e.takeAlerts().length, 0, 'held in the window');
  assert.equal(e.buffered, 1);
  e.push(signIn('2026-11-02T10:10:00Z', 'berlin', { eventType: 'user.authentication.sso' }));
  const alerts = e.takeAlerts();
  assert.equal(alerts.length, 1);
  const user = ((alerts[0]!.doc['oktopus'] as JsonObject)['enrichment'] as JsonObject)['user'] as JsonObject;
  assert.equal(user['new_country'], true, 'the alert carries the baseline fields');
  assert.equal(user['baseline_events'], 1);
});

test('restart mid-stream (SQLite): the baseline and the held events survive a commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-baseline-'));
  const make = () => [
    signIn('2026-11-02T09:00:00Z', 'nyc'),
    signIn('2026-11-03T09:00:00Z', 'nyc'),
    signIn('2026-11-04T09:00:00Z', 'london'),
    signIn('2026-11-04T09:02:00Z', 'nyc'),
    signIn('2026-11-05T09:00:00Z', 'london'),
    signIn('2026-11-05T09:00:30Z', 'berlin'),
    signIn('2026-11-06T09:00:00Z', 'berlin'),
  ];
  const summary = (alerts: { time: number; doc: JsonObject }[]) =>
    alerts
      .map((a) => ({ time: a.time, user: ((a.doc['oktopus'] as JsonObject)['enrichment'] as JsonObject)['user'] }))
      .sort((a, b) => a.time - b.time);
  const rules = [readsBaseline('nc'), readsBaseline('it', 'oktopus.enrichment.user.impossible_travel')];
  // One run.
  const once = new SqliteStore(join(dir, 'once.sqlite'));
  let e = new Engine(rules, { schema: { org: 'duff' }, store: once, reorderWindowMs: 5 * 60_000 });
  once.transaction(() => {
    for (const ev of make()) e.push(ev);
    e.drain();
    e.commit(1);
  });
  const expected = summary(once.allAlerts());
  once.close();
  assert.ok(expected.length >= 3);
  // The same events in two runs, with a commit and a new process (engine, store) between.
  const path = join(dir, 'twice.sqlite');
  let store = new SqliteStore(path);
  const evs = make();
  e = new Engine(rules, { schema: { org: 'duff' }, store, reorderWindowMs: 5 * 60_000 });
  store.transaction(() => {
    for (const ev of evs.slice(0, 4)) e.push(ev);
    e.commit(1);
  });
  assert.equal(e.buffered, 2, 'the last two sign-ins are still in the window');
  store.close();
  store = new SqliteStore(path);
  e = new Engine(rules, { schema: { org: 'duff' }, store, reorderWindowMs: 5 * 60_000 });
  store.transaction(() => {
    for (const ev of evs.slice(4)) e.push(ev);
    e.drain();
    e.commit(2);
  });
  assert.deepEqual(summary(store.allAlerts()), expected);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('no baseline work when no rule reads a baseline field', () => {
  const profileOnly = rule('p', { type: 'and', args: [eq('eventType', 'user.session.start'), { type: 'exists', field: { name: 'oktopus.enrichment.ip.asn', schema: 'okta' } }] } as Predicate);
  const e = engineWith([profileOnly], { window: 5 * 60_000 });
  assert.equal(e.baseline, undefined);
  assert.equal(e.compiled[0]!.readsOrdered, false);
  const ev = signIn('2026-11-02T09:00:00Z', 'nyc');
  e.push(ev);
  assert.equal(e.buffered, 0, 'not held: no stateful rule, no baseline');
  assert.equal(e.takeAlerts().length, 1, 'ran at once');
  assert.equal(baselineView(ev), undefined);
  const with_ = engineWith([readsBaseline()], { window: 5 * 60_000 });
  assert.ok(with_.baseline);
  assert.equal(with_.compiled[0]!.readsOrdered, true);
});

test('built-in rule: session start from a new country via an anonymizing proxy', async () => {
  const loaded = await loadRules([join(RULES, 'sigma', 'okta_user_session_start_new_country_via_anonymizing_proxy.yml')]);
  assert.equal(loaded.rules.length, 1);
  const e = new Engine(loaded.rules, { schema: { org: 'duff' }, store: new MemoryStore(), reorderWindowMs: 5 * 60_000 });
  const proxy = { securityContext: { asNumber: 60729, asOrg: 'stiftung erneuerbare freiheit', isProxy: true } };
  e.push(signIn('2026-11-02T09:00:00Z', 'nyc'));
  e.push(signIn('2026-11-02T10:00:00Z', 'nyc', proxy)); // a proxy, but a known country
  e.push(signIn('2026-11-03T09:00:00Z', 'berlin')); // a new country, no proxy
  e.push(signIn('2026-11-04T09:00:00Z', 'london', proxy)); // both: the alert
  e.push(signIn('2026-11-04T09:00:00Z', 'london', proxy, 'new.hire@duff.com')); // no history: no alert
  e.drain();
  const alerts = e.takeAlerts();
  assert.deepEqual(alerts.map((a) => new Date(a.time).toISOString()), ['2026-11-04T09:00:00.000Z']);
  assert.equal(e.compiled[0]!.readsOrdered, true);
});
