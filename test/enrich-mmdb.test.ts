import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MmdbFile, asnOf, defaultCountryDb, geoOf } from '../src/enrich/mmdb.js';
import { EnrichInputError } from '../src/enrich/errors.js';
import { asnRecord, cityRecord, writeMmdb } from './enrich-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'oktopus-mmdb-'));
function file(name: string, buf: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, buf);
  return p;
}

test('a City MMDB made by the test: IPv4 and IPv6, longest prefix, unknown addresses', () => {
  const p = file('city.mmdb', writeMmdb({
    '81.2.69.0/24': cityRecord('GB', 'London', 51.5142, -0.0931),
    '81.2.69.160/27': cityRecord('GB', 'Kent', 51.2, 0.9),
    '2a02:26f7::/32': cityRecord('DE', 'Frankfurt am Main', 50.11, 8.68),
  }));
  const db = new MmdbFile(p, '--geoip-city');
  assert.equal(db.databaseType, 'Test-City');
  assert.deepEqual(geoOf(db.get('81.2.69.1')!), { country_iso_code: 'GB', country_name: 'GB', city: 'London', lat: 51.5142, lon: -0.0931, timezone: 'UTC' });
  assert.equal(geoOf(db.get('81.2.69.170')!).city, 'Kent');
  assert.equal(geoOf(db.get('2a02:26f7:1::5')!).country_iso_code, 'DE');
  assert.equal(db.get('8.8.8.8'), undefined);
  assert.equal(db.get('2001:db8::1'), undefined);
});

test('an ASN MMDB', () => {
  const db = new MmdbFile(file('asn.mmdb', writeMmdb({ '185.220.100.0/22': asnRecord(208294, 'Tor exit operator'), '2a0b:f4c0::/29': asnRecord(205100, 'F3 Netze') }, { databaseType: 'GeoLite2-ASN' })), '--geoip-asn');
  assert.deepEqual(asnOf(db.get('185.220.101.7')!), { asn: 208294, as_org: 'Tor exit operator' });
  assert.deepEqual(asnOf(db.get('2a0b:f4c2::1')!), { asn: 205100, as_org: 'F3 Netze' });
});

test('ip-location-db record shapes are read too', () => {
  assert.deepEqual(geoOf({ country_code: 'fr', state1: 'Île-de-France', city: 'Paris', latitude: 48.85, longitude: 2.35, timezone: 'Europe/Paris' }), {
    country_iso_code: 'FR', region: 'Île-de-France', city: 'Paris', lat: 48.85, lon: 2.35, timezone: 'Europe/Paris',
  });
});

test('a corrupt or missing MMDB is one clear line naming the flag and file', () => {
  const good = { '81.2.69.0/24': cityRecord('GB', 'London', 51.5, -0.09) };
  for (const [name, buf, re] of [
    ['nometa.mmdb', writeMmdb(good, { corrupt: 'metadata' }), /not a valid MaxMind DB \(MMDB\) file/],
    ['truncated.mmdb', writeMmdb(good, { corrupt: 'truncate' }), /not a valid MaxMind DB|damaged MaxMind DB/],
    ['tree.mmdb', writeMmdb(good, { corrupt: 'tree' }), /damaged MaxMind DB|not a valid MaxMind DB/],
    ['text.mmdb', Buffer.from('hello, this is not a database\n'), /not a valid MaxMind DB/],
    ['empty.mmdb', Buffer.alloc(0), /not a valid MaxMind DB/],
  ] as const) {
    const p = file(name, buf);
    assert.throws(() => new MmdbFile(p, '--geoip-city'), (e: unknown) => e instanceof EnrichInputError && e.message.startsWith(`--geoip-city ${p}: `) && re.test(e.message) && !e.message.includes('\n'), name);
  }
  assert.throws(() => new MmdbFile(join(dir, 'missing.mmdb'), '--geoip-asn'), /--geoip-asn .*missing\.mmdb: cannot read the file \(ENOENT\)/);
});

test('the country database shipped through npm is installed and answers offline', () => {
  const p = defaultCountryDb();
  assert.ok(p, '@ip-location-db/geo-whois-asn-country-mmdb is a dependency');
  const db = new MmdbFile(p, 'default country database');
  assert.equal(geoOf(db.get('8.8.8.8')!).country_iso_code, 'US');
  assert.ok(geoOf(db.get('2a00:1450:4001::1')!).country_iso_code);
});
