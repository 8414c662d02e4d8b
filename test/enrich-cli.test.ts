import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logEvent } from './helpers.js';
import { cityRecord, writeMmdb } from './enrich-helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules/sigma/', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: tmpdir() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'oktopus-enrich-cli-'));
const put = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

test('intel import / list: versioned lists in the state; a corrupt list is one line with file:line', () => {
  const state = join(dir, 'state.sqlite');
  const tor = put('torbulkexitlist', '185.220.101.7\n185.220.101.8\n');
  let r = run(['intel', 'import', tor, '--kind', 'tor', '--state', state]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^imported: tor v1, imported \d{4}-\d\d-\d\dT.*, 2 entries \(bulk exit list\)/);
  r = run(['intel', 'import', put('asn.txt', 'AS9009 M247\n'), '--kind', 'asn', '--category', 'vpn', '--state', state]);
  assert.equal(r.code, 0, r.err);
  const bad = put('bad.txt', '185.220.101.7\nnot-an-ip\n');
  r = run(['intel', 'import', bad, '--kind', 'tor', '--state', state]);
  assert.equal(r.code, 2);
  assert.equal(r.err, `error: ${bad}:2: expected an IP address (Tor bulk exit list), got "not-an-ip"\n`);
  r = run(['intel', 'list', '--state', state, '--json']);
  const versions = JSON.parse(r.out) as { kind: string; version: number; entries: number }[];
  assert.deepEqual(versions.map((v) => [v.kind, v.version, v.entries]), [['asn', 1, 1], ['tor', 1, 2]]);
  r = run(['intel', 'import', tor, '--kind', 'socks', '--state', state]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: --kind must be one of tor, apple-relay, vpn, hosting, asn, got: socks\n$/);
});

test('intel import --refresh without network: one clear line, no credentials or tokens shown', () => {
  const state = join(dir, 'state2.sqlite');
  const r = run(['intel', 'import', '--kind', 'tor', '--refresh', 'http://user:s3cret@127.0.0.1:9/list?token=abc123', '--state', state]);
  assert.equal(r.code, 2);
  assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
  assert.match(r.err, /^error: --refresh http:\/\/127\.0\.0\.1:9\/list: cannot download \(/);
  assert.doesNotMatch(r.err, /s3cret|abc123|user:/);
});

test('users import and scan --users / --geoip-city: the mismatch rule fires on the far proxy session', () => {
  const users = put('users.csv', 'login,city,countryCode,lat,lon\nhomer.simpson@duff.com,Springfield,US,39.92,-83.81\n');
  const city = put('city.mmdb', writeMmdb({ '185.220.100.0/22': cityRecord('DE', 'Berlin', 52.52, 13.405) }));
  // No Okta geolocation on the event: the MMDB places the exit node.
  const far = logEvent({ uuid: 'far', client: { ipAddress: '185.220.101.7' }, securityContext: { isProxy: true } });
  const log = put('log.ndjson', JSON.stringify(far) + '\n');
  const r = run(['scan', log, '--rules', `${RULES}okta_threat_brief_proxy_geolocation_mismatch.yml`, '--memory', '--format', 'ndjson', '--users', users, '--geoip-city', city]);
  assert.equal(r.code, 0, r.err);
  const alerts = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].source.geo.city_name, 'Berlin');
  assert.ok(alerts[0].oktopus.enrichment.user.profile_distance_km > 6800);
  const state = join(dir, 'state3.sqlite');
  const imp = run(['users', 'import', users, '--state', state]);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /imported 1 user profiles/);
});

test('a bad --geoip-city or --users file stops the scan with one line naming it', () => {
  const log = put('log2.ndjson', JSON.stringify(logEvent()) + '\n');
  const broken = put('broken.mmdb', 'definitely not an mmdb');
  let r = run(['scan', log, '--memory', '--geoip-city', broken, '--quiet']);
  assert.equal(r.code, 2);
  assert.equal(r.err, `error: --geoip-city ${broken}: not a valid MaxMind DB (MMDB) file: ${r.err.split(': ').slice(3).join(': ').trim()}\n`);
  assert.equal(r.err.trim().split('\n').length, 1);
  const users = put('bad-users.csv', 'login,countryCode\nx@y.z,Narnia\n');
  r = run(['scan', log, '--memory', '--users', users, '--quiet']);
  assert.equal(r.code, 2);
  assert.equal(r.err, `warning: ${users}:2: unknown country "Narnia" (an ISO 3166 two-letter code or an English name); skipped\nerror: ${users}: no usable users (1 bad row skipped)\n`);
});

test('scan --users is for that scan only: nothing is stored in --state; users import warns per bad row and replaces', () => {
  const state = join(dir, 'state-users.sqlite');
  const users = put('scan-users.csv', 'login,city,state,countryCode\nhomer.simpson@duff.com,Springfield,Ohio,US\nbad@duff.com,X,,Narnia\n');
  const far = logEvent({ uuid: 'far2', client: { ipAddress: '185.220.101.7', geographicalContext: { country: 'Germany', city: 'Berlin', geolocation: { lat: 52.52, lon: 13.405 } } }, securityContext: { isProxy: true } });
  const log = put('log-users.ndjson', JSON.stringify(far) + '\n');
  const rule = `${RULES}okta_threat_brief_proxy_geolocation_mismatch.yml`;
  let r = run(['scan', log, '--rules', rule, '--state', state, '--format', 'ndjson', '--users', users, '--fresh']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').filter(Boolean).length, 1, 'the far proxy session alerts with the scan\'s users');
  assert.match(r.err, new RegExp(`warning: ${users.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: unknown country "Narnia" .*; skipped`));
  r = run(['scan', log, '--rules', rule, '--state', state, '--format', 'ndjson', '--fresh', '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), '', 'the users were not stored in the state');
  r = run(['users', 'import', users, '--state', state]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /imported 1 user profiles from .* \(1 bad rows skipped\)/);
  assert.match(r.err, /:3: unknown country "Narnia"/);
});
