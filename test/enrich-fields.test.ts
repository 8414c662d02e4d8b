/**
 * Enrichment through the schemas, the engine and the alerts: field accessors (Okta, Sigma's
 * oktopus.enrichment.*, Panther's p_enrichment, ECS source.geo / source.as / threat.enrichments),
 * laziness and caching, user profiles and the threat brief's geolocation-mismatch rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveField, type SchemaContext } from '../src/schema/index.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { importList } from '../src/enrich/intel.js';
import { importUsers, parseUsers } from '../src/enrich/users.js';
import { EnrichInputError } from '../src/enrich/errors.js';
import { MemoryStore } from '../src/store/memory.js';
import { Engine } from '../src/engine/engine.js';
import { loadRules } from '../src/rules/load.js';
import type { JsonObject } from '../src/event/types.js';
import { oktaEvent } from './helpers.js';
import { cityRecord, asnRecord, writeMmdb } from './enrich-helpers.js';

const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'oktopus-enrich-'));

function ctxWith(opts: { lists?: [Parameters<typeof importList>[1]['kind'], string][]; users?: string; city?: boolean; asn?: boolean } = {}): { schema: SchemaContext; store: MemoryStore } {
  const store = new MemoryStore();
  for (const [kind, text] of opts.lists ?? []) importList(store, { kind, text, source: `${kind}.txt`, now: new Date('2026-11-21T00:00:00Z') });
  if (opts.users) importUsers(store, parseUsers(opts.users, 'users.csv'));
  let geoipCity: string | undefined;
  let geoipAsn: string | undefined;
  if (opts.city) {
    geoipCity = join(dir, 'city.mmdb');
    writeFileSync(geoipCity, writeMmdb({ '185.220.100.0/22': cityRecord('DE', 'Berlin', 52.52, 13.405), '2a0b:f4c0::/29': cityRecord('NL', 'Amsterdam', 52.37, 4.89) }));
  }
  if (opts.asn) {
    geoipAsn = join(dir, 'asn.mmdb');
    writeFileSync(geoipAsn, writeMmdb({ '185.220.100.0/22': asnRecord(208294, 'Tor exits e.V.') }, { databaseType: 'GeoLite2-ASN' }));
  }
  return { schema: { org: 'duff.okta.com', enrichment: new EnrichmentContext({ store, geoipCity, geoipAsn }) }, store };
}

const okta = (name: string, schema: SchemaContext) => resolveField({ name, schema: 'okta' }, schema);
const ecs = (name: string, schema: SchemaContext) => resolveField({ name, schema: 'ecs' }, schema);

const torEvent = () =>
  oktaEvent({
    client: { ipAddress: '185.220.101.7', userAgent: { rawUserAgent: 'curl' } },
    securityContext: { isProxy: true },
    request: { ipChain: [{ ip: '185.220.101.7', version: 'V4' }, { ip: '10.0.0.5', version: 'V4' }] },
  });

test('without enrichment sources: Okta\'s own fields (securityContext, geographicalContext)', () => {
  const schema: SchemaContext = { org: 'o' };
  const ev = oktaEvent({ securityContext: { asNumber: 62371, asOrg: 'proton ag', isp: 'proton ag', domain: 'protonvpn.com', isProxy: true } });
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.proxy', schema)(ev), true);
  assert.equal(okta('oktopus.enrichment.ip.asn', schema)(ev), 62371);
  assert.equal(okta('oktopus.enrichment.ip.geo.country_iso_code', schema)(ev), 'US', 'United States → US');
  assert.equal(okta('oktopus.enrichment.ip.geo.source', schema)(ev), 'okta');
  assert.equal(ecs('source.as.number', schema)(ev), 62371);
  assert.equal(ecs('source.geo.city_name', schema)(ev), 'Springfield');
  assert.deepEqual(ecs('source.geo.location', schema)(ev), { lat: 39.9, lon: -83.8 });
  assert.equal(okta('oktopus.enrichment.user.profile_distance_km', schema)(ev), undefined, 'no directory');
  // Names that are not enrichment are untouched.
  assert.equal(ecs('source.ip', schema)(ev), '203.0.113.7');
});

test('lists and MMDBs: Tor exit, ASN and city from the files; IP chain entries; private addresses', () => {
  const { schema } = ctxWith({ lists: [['tor', '185.220.101.7\n']], city: true, asn: true });
  const ev = torEvent();
  const ip = okta('oktopus.enrichment.ip', schema)(ev) as JsonObject;
  assert.deepEqual(ip['anonymizer'], { anonymous: true, tor: true, vpn: false, relay: false, hosting: false, proxy: false, service: 'Tor', source: ['okta:isProxy', 'list:tor@2026-11-21'] });
  assert.equal(ip['asn'], 208294);
  assert.equal(ip['as_source'], 'mmdb:asn');
  assert.equal((ip['geo'] as JsonObject)['city'], 'Berlin');
  const chain = okta('oktopus.enrichment.chain', schema)(ev) as JsonObject[];
  assert.equal(chain.length, 2);
  assert.equal((chain[0]!['anonymizer'] as JsonObject)['tor'], true);
  assert.equal(chain[1]!['range'], 'private');
  assert.equal(chain[1]!['geo'], undefined, 'no geolocation for private addresses');
  // Sigma-style case-insensitive names, ECS shapes and Panther's.
  assert.equal(okta('OKTOPUS.enrichment.ip.anonymizer.TOR', schema)(ev), true);
  assert.equal(ecs('source.geo.country_iso_code', schema)(ev), 'DE');
  assert.equal(ecs('source.as.organization.name', schema)(ev), 'Tor exits e.V.');
  const te = ecs('threat.enrichments', schema)(ev) as JsonObject[];
  assert.equal(te.length, 2);
  assert.deepEqual((te[1]!['matched'] as JsonObject)['field'], 'source.ip');
  assert.deepEqual(okta('p_enrichment.ipinfo_privacy.client.ipAddress', schema)(ev), { hosting: false, proxy: false, relay: false, service: 'Tor', tor: true, vpn: false, p_match: '185.220.101.7' });
  assert.equal(okta('p_enrichment.ipinfo_asn.client.ipAddress.asn', schema)(ev), 'AS208294');
  // An IPv6 client.
  const v6 = oktaEvent({ client: { ipAddress: '2a0b:f4c2::1' }, securityContext: {} });
  assert.equal(okta('oktopus.enrichment.ip.geo.city', schema)(v6), 'Amsterdam');
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.anonymous', schema)(v6), false);
  // Unknown address.
  const unknown = oktaEvent({ client: { ipAddress: '198.18.0.1' }, securityContext: {} });
  assert.equal(okta('oktopus.enrichment.ip.geo', schema)(unknown), undefined);
});

test('Apple iCloud Private Relay: relay with service "Apple Private Relay" (the Panther seed\'s INFO case)', () => {
  const { schema } = ctxWith({ lists: [['apple-relay', '172.225.46.0/24,US,US-CA,Oakland,\n']] });
  const ev = oktaEvent({ client: { ipAddress: '172.225.46.215' }, securityContext: { isProxy: true } });
  assert.equal(okta('p_enrichment.ipinfo_privacy.client.ipAddress.service', schema)(ev), 'Apple Private Relay');
  assert.equal(okta('p_enrichment.ipinfo_privacy.client.ipAddress.relay', schema)(ev), true);
  // Without the list, Okta's isp names the relay.
  const bare = oktaEvent({ client: { ipAddress: '172.225.46.215' }, securityContext: { isProxy: true, isp: 'iCloud Private Relay' } });
  assert.equal(okta('oktopus.enrichment.ip.anonymizer.relay', { org: 'o' })(bare), true);
});

test('values the event carries win over computed ones (Panther exports, re-read alerts)', () => {
  const { schema } = ctxWith({ lists: [['tor', '185.220.101.7\n']] });
  const ev = oktaEvent({ client: { ipAddress: '185.220.101.7' }, p_enrichment: { ipinfo_privacy: { 'client.ipAddress': { service: 'Given' } } } });
  assert.equal(okta('p_enrichment.ipinfo_privacy.client.ipAddress.service', schema)(ev), 'Given');
});

test('enrichment is lazy and computed once per event', () => {
  const { schema } = ctxWith({ lists: [['tor', '185.220.101.7\n']] });
  const ev = torEvent();
  assert.equal(ev.cache.size, 0);
  const get = okta('oktopus.enrichment.ip.anonymizer.tor', schema);
  get(ev);
  const first = [...ev.cache.values()].find((v) => typeof v === 'object' && v !== null && 'anonymizer' in (v as object));
  get(ev);
  okta('oktopus.enrichment.ip.asn', schema)(ev);
  const again = [...ev.cache.values()].find((v) => typeof v === 'object' && v !== null && 'anonymizer' in (v as object));
  assert.ok(first && first === again, 'one ip view per event');
});

const USERS = `login,city,state,countryCode,timezone,lat,lon
homer.simpson@duff.com,Springfield,Ohio,US,America/New_York,39.92,-83.81
marge.simpson@duff.com,Paris,,FR,Europe/Paris,,
"bart, the boy",,,,,,
`;

test('users import: CSV and JSON (Okta user objects), profile location and distance', () => {
  const users = parseUsers(USERS, 'users.csv');
  assert.equal(users.length, 3);
  assert.deepEqual(users[1], { login: 'marge.simpson@duff.com', city: 'Paris', countryCode: 'FR', timezone: 'Europe/Paris', lat: 46.2, lon: 2.2, precision: 'country' });
  assert.equal(users[2]!.login, 'bart, the boy');
  const json = parseUsers(JSON.stringify([{ id: '00u1', profile: { login: 'ned@duff.com', city: 'Springfield', countryCode: 'United States' } }]), 'users.json');
  assert.equal(json[0]!.countryCode, 'US');
  const { schema } = ctxWith({ users: USERS });
  // Homer signs in from Berlin through a proxy: far from Springfield.
  const far = oktaEvent({ client: { ipAddress: '185.220.101.7', geographicalContext: { city: 'Berlin', country: 'Germany', geolocation: { lat: 52.52, lon: 13.405 } } }, securityContext: { isProxy: true } });
  const d = okta('oktopus.enrichment.user.profile_distance_km', schema)(far) as number;
  assert.ok(d > 6800 && d < 7200, `Springfield OH → Berlin ≈ 7,000 km, got ${d}`);
  assert.equal(okta('oktopus.enrichment.user.profile_country_match', schema)(far), false);
  // Near home.
  assert.ok((okta('oktopus.enrichment.user.profile_distance_km', schema)(oktaEvent()) as number) < 5);
  // Marge (country-level profile): too coarse for a distance; the country comparison remains.
  const marge = (over: JsonObject) => oktaEvent({ actor: { id: '00u2', type: 'User', alternateId: 'Marge.Simpson@duff.com' }, ...over });
  const lyon = marge({ client: { ipAddress: '90.1.1.1', geographicalContext: { country: 'France', city: 'Lyon', geolocation: { lat: 45.76, lon: 4.83 } } } });
  assert.equal(okta('oktopus.enrichment.user.profile_distance_km', schema)(lyon), undefined);
  assert.equal(okta('oktopus.enrichment.user.profile_country_match', schema)(lyon), true);
  const madrid = marge({ client: { ipAddress: '90.1.1.1', geographicalContext: { country: 'Spain', geolocation: { lat: 40.42, lon: -3.7 } } } });
  assert.equal(okta('oktopus.enrichment.user.profile_distance_km', schema)(madrid), undefined);
  assert.equal(okta('oktopus.enrichment.user.profile_country_match', schema)(madrid), false);
});

test('a bad users file is one line naming file and position', () => {
  const cases: [string, string, RegExp][] = [
    ['city,country\nParis,FR\n', 'u.csv', /^u\.csv:1: the header row needs a login/],
    ['login,countryCode\na@b.c,Atlantis\n', 'u.csv', /^u\.csv:2: unknown country "Atlantis"/],
    ['login,lat,lon\na@b.c,95,10\n', 'u.csv', /^u\.csv:2: lat must be a number between -90 and 90/],
    ['login,lat,lon\na@b.c,45,\n', 'u.csv', /^u\.csv:2: lat and lon go together/],
    ['login,city\n"a@b.c,Paris\n', 'u.csv', /^u\.csv:2: unterminated quoted field/],
    ['[{"login": "a"}, {"city": "x"}]', 'u.json', /^u\.json: user 2: no login/],
    ['[{"login": "a"', 'u.json', /^u\.json: invalid JSON/],
    ['{"login":"a"}\n{"login":\n', 'u.ndjson', /^u\.ndjson:2: invalid JSON/],
  ];
  for (const [text, name, re] of cases) {
    assert.throws(() => parseUsers(text, name), (e: unknown) => e instanceof EnrichInputError && re.test(e.message) && !e.message.includes('\n'), `${name}: ${re}`);
  }
});

async function alertsOf(ruleFile: string, schema: SchemaContext, store: MemoryStore, events: ReturnType<typeof oktaEvent>[]): Promise<JsonObject[]> {
  const loaded = await loadRules([ruleFile]);
  assert.equal(loaded.errors.length, 0);
  const engine = new Engine(loaded.rules, { schema, store, reorderWindowMs: 0 });
  for (const ev of events) engine.push(ev);
  engine.drain();
  return engine.takeAlerts().map((a) => a.doc);
}

test('the threat brief\'s geolocation-mismatch rule fires from real enrichment: far from the profile, not near', async () => {
  const { schema, store } = ctxWith({ users: USERS, lists: [['vpn', '185.220.101.0/24 ExampleVPN\n']] });
  const proxyAt = (uuid: string, place: JsonObject) =>
    oktaEvent({ uuid, client: { ipAddress: '185.220.101.7', geographicalContext: place }, securityContext: { isProxy: true, asNumber: 9009, asOrg: 'M247' } });
  const berlin = proxyAt('far-1', { city: 'Berlin', country: 'Germany', geolocation: { lat: 52.52, lon: 13.405 } });
  const columbus = proxyAt('near-1', { city: 'Columbus', state: 'Ohio', country: 'United States', geolocation: { lat: 39.96, lon: -83.0 } });
  const alerts = await alertsOf(`${RULES}sigma/okta_threat_brief_proxy_geolocation_mismatch.yml`, schema, store, [berlin, columbus]);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.deepEqual((a['oktopus'] as JsonObject)['event_uuids'], ['far-1']);
  // The alert carries the enrichment block and ECS source.geo / source.as.
  const enr = (a['oktopus'] as JsonObject)['enrichment'] as JsonObject;
  const ip = enr['ip'] as JsonObject;
  assert.equal((ip['anonymizer'] as JsonObject)['vpn'], true);
  assert.equal((ip['anonymizer'] as JsonObject)['service'], 'ExampleVPN');
  assert.equal(ip['asn'], 9009);
  assert.ok(((enr['user'] as JsonObject)['profile_distance_km'] as number) > 6800);
  const source = a['source'] as JsonObject;
  assert.equal((source['geo'] as JsonObject)['country_iso_code'], 'DE');
  assert.deepEqual(source['as'], { number: 9009, organization: { name: 'M247' } });
  assert.equal(source['ip'], '185.220.101.7', 'the ECS view is kept');
  assert.ok(Array.isArray((a['threat'] as JsonObject)['enrichments']));
});

test('alerts of events without enrichment sources still carry Okta\'s enrichment; given blocks are kept', async () => {
  const store = new MemoryStore();
  const schema: SchemaContext = { org: 'o' };
  const ev = oktaEvent({ securityContext: { isProxy: true, asNumber: 701, asOrg: 'verizon' } });
  const alerts = await alertsOf(`${RULES}sigma/okta_threat_brief_session_start_via_anonymizing_proxy.yml`, schema, store, [ev]);
  assert.equal(alerts.length, 1);
  const enr = (alerts[0]!['oktopus'] as JsonObject)['enrichment'] as JsonObject;
  assert.equal(((enr['ip'] as JsonObject)['anonymizer'] as JsonObject)['proxy'], true);
  assert.equal(((alerts[0]!['source'] as JsonObject)['as'] as JsonObject)['number'], 701);
});
