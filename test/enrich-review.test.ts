/**
 * Enrichment review fixes: location precision and profile distances, list safety (too-wide
 * networks, download cap, secrets in URL paths), lenient and replacing user imports, Okta's
 * explicit not-anonymous, MMDB database type vs its flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveField, type SchemaContext } from '../src/schema/index.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { importList } from '../src/enrich/intel.js';
import { parseList } from '../src/enrich/lists.js';
import { importUsers, parseUsers, USERS_NS } from '../src/enrich/users.js';
import { download, readUsers, usersImport } from '../src/enrich/commands.js';
import { EnrichInputError, safeUrl } from '../src/enrich/errors.js';
import { placeDistance, regionOf } from '../src/enrich/geo.js';
import { MmdbFile } from '../src/enrich/mmdb.js';
import { MemoryStore } from '../src/store/memory.js';
import { Engine } from '../src/engine/engine.js';
import { loadRules } from '../src/rules/load.js';
import type { JsonObject } from '../src/event/types.js';
import { oktaEvent } from './helpers.js';
import { asnRecord, cityRecord, writeMmdb } from './enrich-helpers.js';

const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'oktopus-enrich-review-'));
const put = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const okta = (name: string, schema: SchemaContext) => resolveField({ name, schema: 'okta' }, schema);

// Profiles as Okta directories have them: city / state / country, no coordinates.
const USERS = `login,city,state,countryCode
miami@x.com,Miami,FL,US
brooklyn@x.com,Brooklyn,New York,US
countryonly@x.com,Paris,,FR
point@x.com,Seattle,WA,US
`;

function ctx(users = USERS, lists: [Parameters<typeof importList>[1]['kind'], string][] = []): { schema: SchemaContext; store: MemoryStore } {
  const store = new MemoryStore();
  for (const [kind, text] of lists) importList(store, { kind, text, source: `${kind}.txt`, now: new Date('2026-11-21T00:00:00Z') });
  importUsers(store, parseUsers(users, 'users.csv'));
  return { schema: { org: 'x.okta.com', enrichment: new EnrichmentContext({ store }) }, store };
}

const signIn = (login: string, place: JsonObject, uuid = 'e1') =>
  oktaEvent({ uuid, actor: { id: '00u1', type: 'User', alternateId: login }, client: { ipAddress: '185.220.101.7', geographicalContext: place }, securityContext: { isProxy: true } });

test('profile distance: region precision from the state, none at country precision', () => {
  const { schema } = ctx();
  const dist = okta('oktopus.enrichment.user.profile_distance_km', schema);
  const prec = okta('oktopus.enrichment.user.profile_distance_precision', schema);
  const match = okta('oktopus.enrichment.user.profile_country_match', schema);
  // A Miami (Florida) user signing in from Anchorage (~6,500 km): same country, far away.
  const anchorage = signIn('miami@x.com', { country: 'United States', state: 'Alaska', city: 'Anchorage', geolocation: { lat: 61.2, lon: -149.9 } });
  const d = dist(anchorage) as number;
  assert.ok(d > 5000 && d < 6500, `Florida → Anchorage: a lower bound below ~6,500 km, got ${d}`);
  assert.equal(prec(anchorage), 'region');
  assert.equal(match(anchorage), true);
  assert.equal(okta('oktopus.enrichment.user.profile.precision', schema)(anchorage), 'region');
  // In Florida: 0 (within the state's reach).
  assert.equal(dist(signIn('miami@x.com', { country: 'United States', state: 'Florida', city: 'Tampa', geolocation: { lat: 27.95, lon: -82.46 } })), 0);
  // A profile known only to its country: no distance (a centroid is thousands of km off), country match only.
  const lyon = signIn('countryonly@x.com', { country: 'France', city: 'Lyon', geolocation: { lat: 45.76, lon: 4.83 } });
  assert.equal(dist(lyon), undefined);
  assert.equal(prec(lyon), undefined);
  assert.equal(match(lyon), true);
  // An event geolocated only to its country: no distance either (no country centroid).
  const usOnly = signIn('brooklyn@x.com', { country: 'United States' });
  assert.equal(okta('oktopus.enrichment.ip.geo.precision', schema)(usOnly), 'country');
  assert.equal(dist(usOnly), undefined);
  assert.equal(match(usOnly), true);
  // An event known by its state: region precision, with the state's reach.
  const texas = signIn('brooklyn@x.com', { country: 'United States', state: 'Texas' });
  assert.equal(okta('oktopus.enrichment.ip.geo.precision', schema)(texas), 'region');
  assert.equal(okta('oktopus.enrichment.ip.geo.uncertainty_km', schema)(texas), 750);
  assert.ok((dist(texas) as number) > 1000, 'New York ↔ Texas');
  // Both ends points: a plain distance.
  const pt = signIn('point@x.com', { country: 'United States', city: 'Seattle', geolocation: { lat: 47.61, lon: -122.33 } });
  assert.equal(prec(pt), 'region', 'the profile is Washington state (no lat/lon in the CSV)');
  const withLatLon = ctx('login,lat,lon\npoint@x.com,47.6,-122.3\n').schema;
  assert.equal(okta('oktopus.enrichment.user.profile_distance_precision', withLatLon)(pt), 'point');
  assert.ok((okta('oktopus.enrichment.user.profile_distance_km', withLatLon)(pt) as number) < 5);
});

test('regions: codes, names, ISO 3166-2 forms; small countries; placeDistance', () => {
  assert.deepEqual(regionOf('US', 'NY'), regionOf('us', 'New York'));
  assert.deepEqual(regionOf('US', 'US-NY'), regionOf('US', 'new york'));
  assert.deepEqual(regionOf('DE', 'Bayern'), regionOf('DE', 'Bavaria'));
  assert.deepEqual(regionOf('CA', 'Québec'), regionOf('CA', 'Quebec'));
  assert.ok(regionOf('GB', 'GB-EN'), 'Apple relay region code');
  assert.equal(regionOf('US', 'Atlantis'), undefined);
  assert.equal(regionOf('FR', 'Île-de-France'), undefined, 'no table for France');
  assert.equal(regionOf('SG', 'Central Singapore')?.reachKm, 30);
  assert.equal(regionOf('SG', undefined)?.reachKm, 30);
  assert.equal(placeDistance({ lat: 0, lon: 0, precision: 'country' }, { lat: 10, lon: 10, precision: 'point' }), undefined);
  const r = placeDistance({ lat: 0, lon: 0, precision: 'region', uncertainty_km: 100 }, { lat: 0, lon: 10, precision: 'city' })!;
  assert.equal(r.precision, 'region');
  assert.equal(r.km, 1112 - 100);
});

async function alertsOf(ruleFile: string, schema: SchemaContext, store: MemoryStore, events: ReturnType<typeof oktaEvent>[]): Promise<JsonObject[]> {
  const loaded = await loadRules([ruleFile]);
  assert.equal(loaded.errors.length, 0);
  const engine = new Engine(loaded.rules, { schema, store, reorderWindowMs: 0 });
  for (const ev of events) engine.push(ev);
  engine.drain();
  return engine.takeAlerts().map((a) => a.doc);
}

test('the geolocation-mismatch rule: a US (state) profile → a proxy in another far state fires; nearby does not', async () => {
  const { schema, store } = ctx();
  const la = signIn('brooklyn@x.com', { country: 'United States', state: 'California', city: 'Los Angeles', geolocation: { lat: 34.05, lon: -118.24 } }, 'far');
  const newark = signIn('brooklyn@x.com', { country: 'United States', state: 'New Jersey', city: 'Newark', geolocation: { lat: 40.74, lon: -74.17 } }, 'near');
  const paris = signIn('countryonly@x.com', { country: 'France', city: 'Lyon', geolocation: { lat: 45.76, lon: 4.83 } }, 'country-only');
  const alerts = await alertsOf(`${RULES}sigma/okta_threat_brief_proxy_geolocation_mismatch.yml`, schema, store, [la, newark, paris]);
  assert.deepEqual(alerts.map((a) => (a['oktopus'] as JsonObject)['event_uuids']), [['far']]);
});

test('lists: networks wider than /8 (IPv4) or /16 (IPv6) are refused with file:line', () => {
  const cases: [Parameters<typeof parseList>[0], string, RegExp][] = [
    ['vpn', '1.2.3.0/24\n0.0.0.0/0\n', /^vpn\.txt:2: network "0\.0\.0\.0\/0" is too wide \(\/0; at most \/8 for IPv4\)/],
    ['hosting', '::/0\n', /^vpn\.txt:1: network "::\/0" is too wide \(\/0; at most \/16 for IPv6\)/],
    ['tor', '# x\n10.0.0.0/7\n', /^vpn\.txt:2: network "10\.0\.0\.0\/7" is too wide/],
    ['apple-relay', '2a02::/15,US,US-CA,,\n', /^vpn\.txt:1: network "2a02::\/15" is too wide/],
    ['vpn', '::ffff:0.0.0.0/96\n', /^vpn\.txt:1: .* too wide \(\/0; at most \/8 for IPv4\)/],
  ];
  for (const [kind, text, re] of cases) {
    assert.throws(() => parseList(kind, text, 'vpn.txt'), (e: unknown) => e instanceof EnrichInputError && re.test(e.message) && !e.message.includes('\n'), `${kind}: ${text}`);
  }
  assert.equal(parseList('vpn', '10.0.0.0/8\n2a02::/16\n', 'vpn.txt').lines.length, 2, '/8 and /16 are accepted');
});

test('--refresh: downloads over the cap are refused with one line; secrets in URL paths are redacted', async () => {
  const big = 'x'.repeat(4096);
  const server = createServer((req, res) => {
    if (req.url === '/declared') {
      res.writeHead(200, { 'content-length': String(big.length) });
      res.end(big);
    } else {
      res.writeHead(200); // chunked: no length
      for (let i = 0; i < 8; i++) res.write(big);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    for (const path of ['/declared', '/chunked']) {
      await assert.rejects(download(`http://127.0.0.1:${port}${path}`, 5000, 1000), (e: unknown) => e instanceof EnrichInputError && /^--refresh http:\/\/127\.0\.0\.1:\d+\/(declared|chunked): the download is larger than 0 MiB/.test(e.message));
    }
    assert.equal((await download(`http://127.0.0.1:${port}/declared`, 5000, 10_000)).length, 4096);
  } finally {
    server.close();
  }
  assert.equal(safeUrl('http://u:p@127.0.0.1:18091/api/APIKEY-IN-PATH-123/list?token=abc#x'), 'http://127.0.0.1:18091/api/REDACTED/list');
  assert.equal(safeUrl('https://h.example/lists/3f9a1c2e4b5d6e7f8a9b0c1d2e3f4a5b/vpn.txt'), 'https://h.example/lists/REDACTED/vpn.txt');
  assert.equal(safeUrl('https://h.example/v1/token/vpn.txt'), 'https://h.example/v1/REDACTED/vpn.txt');
  for (const u of ['https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/vpn/ipv4.txt', 'https://mask-api.icloud.com/egress-ip-ranges.csv', 'https://check.torproject.org/torbulkexitlist']) {
    assert.equal(safeUrl(u), u, 'the default sources are shown as they are');
  }
});

test('users import: bad rows skipped with FILE:LINE warnings (at most 20, then a count), the rest kept', () => {
  const rows = ['login,city,countryCode', 'a@x.com,"=HYPERLINK(""http://evil"",""x"")",US', 'b@x.com,Nowhere,ZZ', 'c@x.com,Paris,FR'];
  for (let i = 0; i < 25; i++) rows.push(`bad${i}@x.com,X,Narnia`);
  const file = put('users-bad.csv', rows.join('\n') + '\n');
  const warnings: string[] = [];
  const { users, skipped } = readUsers(file, (l) => warnings.push(l));
  assert.deepEqual(users.map((u) => u.login), ['a@x.com', 'c@x.com']);
  assert.equal(skipped, 26);
  assert.equal(warnings.length, 21);
  assert.equal(warnings[0], `warning: ${file}:3: unknown country "ZZ" (an ISO 3166 two-letter code or an English name); skipped`);
  assert.equal(warnings[20], `warning: ${file}: 6 more bad rows skipped (26 in all)`);
  assert.equal(users[0]!.city, '=HYPERLINK("http://evil","x")', 'stored as given (no CSV sink)');
  // Without a callback, parseUsers stays strict; a file with no usable row is refused.
  assert.throws(() => parseUsers('login,countryCode\nx@y.z,Narnia\n', 'u.csv'), { message: /^u\.csv:2: unknown country/ });
  assert.throws(() => parseUsers('login,countryCode\nx@y.z,Narnia\n', 'u.csv', () => {}), { message: /^u\.csv: no usable users \(1 bad row skipped\)$/ });
  // NDJSON: a broken line is one skipped row.
  const nd = parseUsers('{"login":"a@x.com"}\n{"login":\n{"login":"b@x.com"}\n', 'u.ndjson', (m) => assert.match(m, /^u\.ndjson:2: invalid JSON/));
  assert.equal(nd.length, 2);
});

test('users import replaces the directory; scan --users (EnrichmentContext users) is in memory only', () => {
  const store = new MemoryStore();
  const first = put('u-first.csv', 'login,city,countryCode\na@x.com,Paris,FR\nb@x.com,Berlin,DE\n');
  const second = put('u-second.csv', 'login,city,countryCode\nb@x.com,Munich,DE\n');
  assert.deepEqual(usersImport(store, first), { imported: 2, skipped: 0 });
  assert.deepEqual(usersImport(store, second), { imported: 1, skipped: 0 });
  assert.deepEqual([...store.entries(USERS_NS)].map(([k, v]) => [k, (v as JsonObject)['city']]), [['b@x.com', 'Munich']]);
  // The scan's own users: used instead of the stored directory, never written to it.
  const scanUsers = parseUsers('login,city,countryCode\nz@x.com,Rome,IT\n', 'scan.csv');
  const c = new EnrichmentContext({ store, users: scanUsers });
  assert.equal(c.users.get('Z@x.com')?.city, 'Rome');
  assert.equal(c.users.get('b@x.com'), undefined);
  assert.deepEqual([...store.entries(USERS_NS)].map(([k]) => k), ['b@x.com']);
});

test('Okta\'s explicit isAnonymous: false (a corporate VPN) is not an anonymizer, even on a VPN list', () => {
  const { schema } = ctx(USERS, [['vpn', '8.8.4.0/24 SomeVPN\n'], ['tor', '9.9.9.9\n']]);
  const gp = (ip: string, isProxy: boolean) =>
    oktaEvent({ client: { ipAddress: ip }, securityContext: { isProxy, ipDetails: { ipServiceCategories: [{ type: 'VPN', operator: 'GLOBALPROTECT_VPN', isAnonymous: false }] } } });
  const a = okta('oktopus.enrichment.ip.anonymizer', schema)(gp('8.8.4.4', false)) as JsonObject;
  assert.equal(a['anonymous'], false);
  assert.equal(a['vpn'], false);
  assert.equal(a['proxy'], false);
  assert.equal(a['service'], 'GLOBALPROTECT_VPN');
  assert.deepEqual(a['source'], ['okta:ipServiceCategories']);
  assert.equal(okta('p_enrichment.ipinfo_privacy', schema)(gp('8.8.4.4', false)), undefined, 'no ipinfo_privacy: Panther\'s VPN rule stays quiet');
  assert.equal((okta('oktopus.enrichment.ip.anonymizer', schema)(gp('8.8.4.4', true)) as JsonObject)['anonymous'], false, 'a bare isProxy does not override it');
  // A Tor exit list still counts.
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.tor', schema)(gp('9.9.9.9', false)), true);
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.anonymous', schema)(gp('9.9.9.9', false)), true);
  // isAnonymous: true still makes a VPN an anonymizer.
  const anon = oktaEvent({ client: { ipAddress: '1.1.1.1' }, securityContext: { ipDetails: { ipServiceCategories: [{ type: 'VPN', operator: 'NORD_VPN', isAnonymous: true }] } } });
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.vpn', schema)(anon), true);
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.anonymous', schema)(anon), true);
});

test('an MMDB of the wrong kind for its flag is one line naming the flag, the file and its database_type', () => {
  const country = put('country.mmdb', writeMmdb({ '1.0.0.0/8': { country: { iso_code: 'AU' } } }, { databaseType: 'GeoLite2-Country' }));
  const asn = put('asn.mmdb', writeMmdb({ '1.0.0.0/8': asnRecord(13335, 'Cloudflare') }, { databaseType: 'GeoLite2-ASN' }));
  const anon = put('anon.mmdb', writeMmdb({ '1.0.0.0/8': { is_anonymous: true } }, { databaseType: 'GeoIP2-Anonymous-IP' }));
  const check = (fn: () => unknown, expected: string) =>
    assert.throws(fn, (e: unknown) => e instanceof EnrichInputError && e.message === expected, expected);
  check(() => new EnrichmentContext({ geoipAsn: country }), `--geoip-asn ${country}: database_type "GeoLite2-Country" is a City/Country database, not an ASN database`);
  check(() => new EnrichmentContext({ geoipCity: asn }), `--geoip-city ${asn}: database_type "GeoLite2-ASN" is an ASN database, not a City or Country database`);
  check(() => new EnrichmentContext({ geoipCountry: asn }), `--geoip-country ${asn}: database_type "GeoLite2-ASN" is an ASN database, not a City or Country database`);
  check(() => new EnrichmentContext({ geoipCity: anon }), `--geoip-city ${anon}: database_type "GeoIP2-Anonymous-IP" is not a City or Country database`);
  // The right kinds, and types that name neither (custom builds), are accepted.
  assert.ok(new EnrichmentContext({ geoipCity: country, geoipAsn: asn }));
  assert.ok(new MmdbFile(put('custom.mmdb', writeMmdb({ '1.0.0.0/8': cityRecord('AU', 'Sydney', -33.9, 151.2) }, { databaseType: 'Test-City' })), '--geoip-city', 'geo'));
  assert.ok(new MmdbFile(put('custom2.mmdb', writeMmdb({ '1.0.0.0/8': asnRecord(1, 'x') }, { databaseType: 'my-build' })), '--geoip-asn', 'asn'));
});
