/**
 * ASN and geolocation from MaxMind DB (MMDB) files, read with `mmdb-lib` (the reader under the
 * `maxmind` package; synchronous, pure JavaScript).
 *
 * Record shapes understood:
 *  - MaxMind GeoIP2 / GeoLite2 City and Country: `country.iso_code`, `country.names.en`,
 *    `subdivisions[0].names.en`, `city.names.en`, `location.latitude/longitude/time_zone`;
 *    ASN: `autonomous_system_number`, `autonomous_system_organization`;
 *  - sapics/ip-location-db (`@ip-location-db/*-mmdb` npm packages): `country_code`, `state1`,
 *    `city`, `latitude`, `longitude`, `timezone`; ASN as MaxMind's.
 *
 * The default database, used when no file is given, is the country database that ships through
 * npm with oktopus (`@ip-location-db/geo-whois-asn-country-mmdb`, CC0); see docs/enrichment.md.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader } from 'mmdb-lib';
import { EnrichInputError } from './errors.js';

export interface GeoRecord {
  country_iso_code?: string;
  country_name?: string;
  region?: string;
  city?: string;
  lat?: number;
  lon?: number;
  timezone?: string;
  /** MaxMind's `location.accuracy_radius` (km), when given. */
  accuracy_km?: number;
}

export interface AsnRecord {
  asn?: number;
  as_org?: string;
}

type Rec = Record<string, unknown>;

const obj = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const en = (v: unknown): string | undefined => str(obj(obj(v)?.['names'])?.['en']);

export function geoOf(r: Rec): GeoRecord {
  const out: GeoRecord = {};
  const country = obj(r['country']) ?? obj(r['registered_country']);
  const cc = str(country?.['iso_code']) ?? str(r['country_code']);
  if (cc) out.country_iso_code = cc.toUpperCase();
  const cn = en(country);
  if (cn) out.country_name = cn;
  const subs = r['subdivisions'];
  const region = (Array.isArray(subs) ? en(subs[0]) : undefined) ?? str(r['state1']);
  if (region) out.region = region;
  const city = en(r['city']) ?? str(r['city']);
  if (city) out.city = city;
  const loc = obj(r['location']);
  const lat = num(loc?.['latitude']) ?? num(r['latitude']);
  const lon = num(loc?.['longitude']) ?? num(r['longitude']);
  if (lat !== undefined && lon !== undefined) {
    out.lat = lat;
    out.lon = lon;
  }
  const acc = num(loc?.['accuracy_radius']);
  if (acc !== undefined) out.accuracy_km = acc;
  const tz = str(loc?.['time_zone']) ?? str(r['timezone']);
  if (tz) out.timezone = tz;
  return out;
}

export function asnOf(r: Rec): AsnRecord {
  const out: AsnRecord = {};
  const n = num(r['autonomous_system_number']);
  if (n !== undefined) out.asn = n;
  const o = str(r['autonomous_system_organization']);
  if (o) out.as_org = o;
  return out;
}

/** One open MMDB file. Lookups never throw: a record the reader cannot decode reads as nothing. */
export class MmdbFile {
  readonly databaseType: string;
  readonly buildEpoch: Date;
  /** Lookup failures (a file damaged past its header), reported once by the caller. */
  failures = 0;
  private readonly reader: Reader<Rec>;

  /**
   * `expect`: what the flag needs: `geo` (City or Country) or `asn` (ASN or ISP). A database whose
   * `database_type` names the other kind (or another product, e.g. Anonymous-IP) is refused with
   * one line naming the flag, the file and its type; a type that names neither is accepted.
   */
  constructor(readonly path: string, readonly label: string, expect?: 'geo' | 'asn') {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new EnrichInputError(`${label} ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      this.reader = new Reader<Rec>(buf);
    } catch (e) {
      throw new EnrichInputError(`${label} ${path}: not a valid MaxMind DB (MMDB) file: ${oneLine(e)}`);
    }
    const md = this.reader.metadata;
    if (!md || typeof md.databaseType !== 'string' || !(md.nodeCount > 0) || ![24, 28, 32].includes(md.recordSize)) {
      throw new EnrichInputError(`${label} ${path}: not a valid MaxMind DB (MMDB) file: bad metadata`);
    }
    this.databaseType = md.databaseType;
    this.buildEpoch = md.buildEpoch;
    const kind = databaseKind(md.databaseType);
    if (expect && kind && kind !== expect) {
      const want = expect === 'asn' ? 'an ASN database' : 'a City or Country database';
      const is = kind === 'asn' ? 'an ASN database, ' : kind === 'geo' ? 'a City/Country database, ' : '';
      throw new EnrichInputError(`${label} ${path}: database_type ${JSON.stringify(md.databaseType)} is ${is}not ${want}`);
    }
    // Walk a few addresses now so that a damaged search tree or data section is reported at
    // start, with the file's name, instead of surfacing (silently) during the scan.
    for (const probe of md.ipVersion === 6 ? ['1.1.1.1', '8.8.8.8', '81.2.69.160', '2001:4860:4860::8888', '2a02:26f0::1'] : ['1.1.1.1', '8.8.8.8', '81.2.69.160']) {
      try {
        this.reader.get(probe);
      } catch (e) {
        throw new EnrichInputError(`${label} ${path}: damaged MaxMind DB (MMDB) file (lookup of ${probe} failed: ${oneLine(e)})`);
      }
    }
  }

  get(ip: string): Rec | undefined {
    try {
      return this.reader.get(ip) ?? undefined;
    } catch {
      this.failures++;
      return undefined;
    }
  }
}

/**
 * What an MMDB's `database_type` says it holds: `geo` (…City…, …Country…, e.g. GeoLite2-City,
 * "country ipvAll"), `asn` (…ASN…, …ISP…), `other` (Anonymous-IP, Connection-Type, Domain, …), or
 * undefined when the name says nothing known (test and custom databases).
 */
export function databaseKind(type: string): 'geo' | 'asn' | 'other' | undefined {
  if (/city|country|enterprise/i.test(type)) return 'geo';
  if (/(^|[^a-z])(asn|isp)([^a-z]|$)/i.test(type)) return 'asn';
  if (/anonymous|connection|domain|user-count|densityincome/i.test(type)) return 'other';
  return undefined;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}

const require = createRequire(import.meta.url);

/** The country MMDB shipped through npm, or undefined when the package is not installed. */
export function defaultCountryDb(): string | undefined {
  try {
    return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  } catch {
    return undefined;
  }
}
