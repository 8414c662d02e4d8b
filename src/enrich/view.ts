/**
 * Per-event enrichment views, computed at first read and cached on the event (`ev.cache`), one
 * part at a time: the client address (`ip`), the user (`user`), the request's IP chain
 * (`chain`), and the Panther and ECS shapes built from them. An event no rule or sink reads
 * enrichment from costs nothing.
 *
 *   oktopus.enrichment.ip      { address, range?, anonymizer{…}, asn?, as_org?, as_source?, geo?{…} }
 *   oktopus.enrichment.user    { login, profile?{…}, profile_distance_km?, profile_country_match?,
 *                                + the user-baseline fields (new_country, …: src/enrich/baseline.ts) }
 *   oktopus.enrichment.chain   [ { address, range?, anonymizer, asn?, as_org?, geo? } … ]
 *   p_enrichment.ipinfo_privacy / ipinfo_location / ipinfo_asn   {"client.ipAddress": {…, p_match}}
 *   source.geo.*, source.as.*, threat.enrichments   (ECS)
 *
 * See docs/enrichment.md for every field.
 */
import type { CanonicalEvent, Json, JsonObject } from '../event/types.js';
import { compilePath } from '../schema/path.js';
import { classify, type Anonymizer } from './classify.js';
import type { EnrichmentContext } from './context.js';
import { countryCentroid, countryCode, countryName, placeDistance, regionOf } from './geo.js';
import type { ListHit } from './intel.js';
import { asnOf, geoOf, type GeoRecord } from './mmdb.js';
import { baselineView, isBaselineField } from './baseline.js';
import { nonPublicRange, parseIp } from './prefix.js';
import { profilePlace } from './users.js';

const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && v !== 'null' ? v : undefined);

export interface GeoView extends JsonObject {
  country_iso_code: string | null;
  country_name: string | null;
  region: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  /**
   * How precisely lat/lon place the address: `point` (Okta's geolocation), `city` (an MMDB city
   * record), `region` (the centre of the state / province: src/enrich/geo.ts), `country` (the
   * country's centroid: too coarse for a distance).
   */
  precision: string;
  /** For `region`: how far the address may be from lat/lon (the region's reach), km; else null. */
  uncertainty_km: number | null;
  /** `okta` (geographicalContext), `mmdb:city`, `mmdb:country`, `list:apple-relay`. */
  source: string;
}

/** What the lists and MMDBs say about an address: the same for every event, memoised. */
interface AddressFacts {
  range?: string;
  hits: ListHit[];
  mmdbGeo?: GeoView;
  asn?: number;
  asOrg?: string;
}

function addressFacts(ip: string, ctx: EnrichmentContext): AddressFacts {
  const memo = ctx.ipMemo.get(ip) as AddressFacts | undefined;
  if (memo) return memo;
  const facts: AddressFacts = { hits: [] };
  const range = nonPublicRange(ip);
  const parsed = parseIp(ip);
  if (!parsed) facts.range = 'invalid';
  else if (range) facts.range = range;
  else {
    if (!ctx.intel.empty) facts.hits = ctx.intel.match(parsed);
    const asnRec = ctx.asnDb?.get(ip);
    if (asnRec) {
      const a = asnOf(asnRec);
      facts.asn = a.asn;
      facts.asOrg = a.as_org;
    }
    const cityRec = ctx.city?.get(ip);
    let g = cityRec ? geoOf(cityRec) : undefined;
    if (g && (g.country_iso_code || g.lat !== undefined)) {
      // City precision: a record with a city and coordinates, not flagged as coarse by MaxMind's
      // accuracy radius (country-level records carry a country's centre with ~1000 km).
      const isCity = g.lat !== undefined && g.city !== undefined && !(g.accuracy_km !== undefined && g.accuracy_km > 200);
      facts.mmdbGeo = geoView(g, isCity ? 'city' : undefined, 'mmdb:city');
    } else {
      const cRec = ctx.countryDb?.get(ip);
      g = cRec ? geoOf(cRec) : undefined;
      if (g?.country_iso_code) facts.mmdbGeo = geoView(g, undefined, 'mmdb:country');
    }
  }
  if (ctx.ipMemo.size >= 100_000) ctx.ipMemo.clear();
  ctx.ipMemo.set(ip, facts);
  return facts;
}

/**
 * A GeoView. `precise`: the record's lat/lon place the address (`point` or `city`); otherwise
 * they are replaced by the centre of its region (when src/enrich/geo.ts knows the region) or of
 * its country, with that precision.
 */
function geoView(g: GeoRecord, precise: 'point' | 'city' | undefined, source: string): GeoView {
  let lat: number | null = null;
  let lon: number | null = null;
  let p = 'country';
  let uncertainty: number | null = null;
  if (precise && g.lat !== undefined && g.lon !== undefined) {
    lat = g.lat;
    lon = g.lon;
    p = precise;
  } else if (g.country_iso_code) {
    const r = regionOf(g.country_iso_code, g.region);
    const c = r ? undefined : countryCentroid(g.country_iso_code);
    if (r) {
      lat = r.lat;
      lon = r.lon;
      p = 'region';
      uncertainty = r.reachKm;
    } else if (c) {
      lat = c.lat;
      lon = c.lon;
    }
  }
  return {
    country_iso_code: g.country_iso_code ?? null,
    country_name: g.country_name ?? (g.country_iso_code ? countryName(g.country_iso_code) ?? null : null),
    region: g.region ?? null,
    city: g.city ?? null,
    lat,
    lon,
    precision: p,
    uncertainty_km: uncertainty,
    source,
  };
}

/** Okta's `geographicalContext` as a GeoView (undefined when it names no place). */
function oktaGeo(gc: unknown): GeoView | undefined {
  if (!isObj(gc)) return undefined;
  const country = str(gc['country']);
  const loc = isObj(gc['geolocation']) ? gc['geolocation'] : undefined;
  const lat = num(loc?.['lat']);
  const lon = num(loc?.['lon']);
  if (!country && lat === undefined) return undefined;
  const cc = countryCode(country);
  const g: GeoRecord = {};
  if (cc) g.country_iso_code = cc;
  if (country) g.country_name = country;
  const region = str(gc['state']);
  if (region) g.region = region;
  const city = str(gc['city']);
  if (city) g.city = city;
  if (lat !== undefined && lon !== undefined) {
    g.lat = lat;
    g.lon = lon;
  }
  return geoView(g, lat !== undefined && lon !== undefined ? 'point' : undefined, 'okta');
}

export interface IpView extends JsonObject {
  address: string;
  anonymizer: Anonymizer;
}

/** One address's view; `okta` holds what the event itself says about it. */
function ipViewOf(address: string, okta: { geo?: unknown; isProxy?: Json; ipDetails?: Json; isp?: Json; asn?: Json; asOrg?: Json }, ctx: EnrichmentContext): IpView {
  const facts = addressFacts(address, ctx);
  const oktaAsn = num(okta.asn);
  const asn = oktaAsn ?? facts.asn;
  const anonymizer = classify(okta, facts.hits, ctx.intel.asn(asn));
  const view: IpView = { address, anonymizer };
  if (facts.range) view['range'] = facts.range;
  if (oktaAsn !== undefined) {
    view['asn'] = oktaAsn;
    const org = str(okta.asOrg);
    if (org) view['as_org'] = org;
    view['as_source'] = 'okta';
  } else if (facts.asn !== undefined) {
    view['asn'] = facts.asn;
    if (facts.asOrg) view['as_org'] = facts.asOrg;
    view['as_source'] = 'mmdb:asn';
  }
  let geo = oktaGeo(okta.geo) ?? facts.mmdbGeo;
  if (!geo) {
    const relay = facts.hits.find((h) => h.kind === 'apple-relay' && h.country);
    if (relay) geo = geoView({ country_iso_code: relay.country!, ...(relay.region ? { region: relay.region } : {}), ...(relay.city ? { city: relay.city } : {}) }, undefined, 'list:apple-relay');
  }
  if (geo) view['geo'] = geo;
  return view;
}

const NULL = Symbol('none');

function cached<T>(ev: CanonicalEvent, key: string, build: () => T | undefined): T | undefined {
  const hit = ev.cache.get(key);
  if (hit !== undefined) return hit === NULL ? undefined : (hit as T);
  const v = build();
  ev.cache.set(key, v === undefined ? NULL : v);
  return v;
}

const clientIpOf = compilePath('client.ipAddress');
const secOf = compilePath('securityContext');
const geoOfClient = compilePath('client.geographicalContext');
const chainOf = compilePath('request.ipChain');
const loginOf = compilePath('actor.alternateId');

/** `oktopus.enrichment.ip`: the client address (the exit node of a proxied request). */
export function ipBlock(ev: CanonicalEvent, ctx: EnrichmentContext): IpView | undefined {
  if (ev.kind !== 'okta') return undefined;
  return cached(ev, `enrich.ip#${ctx.id}`, () => {
    const ip = clientIpOf(ev.doc);
    if (typeof ip !== 'string' || ip === '') return undefined;
    const sc = secOf(ev.doc);
    const s = isObj(sc) ? sc : {};
    return ipViewOf(ip, { geo: geoOfClient(ev.doc), isProxy: s['isProxy'], ipDetails: s['ipDetails'], isp: s['isp'], asn: s['asNumber'], asOrg: s['asOrg'] }, ctx);
  });
}

/** `oktopus.enrichment.chain`: every `request.ipChain` entry (Okta's per-entry ipDetails trusted first). */
export function chainBlock(ev: CanonicalEvent, ctx: EnrichmentContext): IpView[] | undefined {
  if (ev.kind !== 'okta') return undefined;
  return cached(ev, `enrich.chain#${ctx.id}`, () => {
    const chain = chainOf(ev.doc);
    if (!Array.isArray(chain) || chain.length === 0) return undefined;
    const out: IpView[] = [];
    for (const e of chain) {
      if (!isObj(e) || typeof e['ip'] !== 'string') continue;
      const d = isObj(e['ipDetails']) ? e['ipDetails'] : undefined;
      out.push(ipViewOf(e['ip'], { geo: e['geographicalContext'], ipDetails: e['ipDetails'], asn: d?.['asNumber'], asOrg: d?.['asOrg'], isp: d?.['isp'] }, ctx));
    }
    return out.length > 0 ? out : undefined;
  });
}

/** `oktopus.enrichment.user`: the actor's directory profile and the distance to this event. */
export function userBlock(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  if (ev.kind !== 'okta') return undefined;
  return cached(ev, `enrich.user#${ctx.id}`, () => {
    const login = loginOf(ev.doc);
    if (typeof login !== 'string' || login === '') return undefined;
    const out: JsonObject = { login };
    const p = ctx.users.get(login);
    if (!p) return out;
    const profile: JsonObject = {};
    if (p.city) profile['city'] = p.city;
    if (p.state) profile['state'] = p.state;
    if (p.countryCode) profile['country_iso_code'] = p.countryCode;
    if (p.timezone) profile['timezone'] = p.timezone;
    const home = profilePlace(p);
    if (home) {
      profile['lat'] = home.lat;
      profile['lon'] = home.lon;
      profile['precision'] = home.precision;
      if (home.uncertainty_km !== undefined) profile['uncertainty_km'] = home.uncertainty_km;
    }
    out['profile'] = profile;
    const geo = ipBlock(ev, ctx)?.['geo'] as GeoView | undefined;
    if (geo?.country_iso_code && p.countryCode) out['profile_country_match'] = geo.country_iso_code === p.countryCode;
    if (geo && geo.lat !== null && geo.lon !== null && home) {
      // Only when both ends are known to at least region precision (a country centroid is
      // thousands of km off in a large country); with a region end, a lower bound.
      const d = placeDistance(home, { lat: geo.lat, lon: geo.lon, precision: geo.precision, uncertainty_km: geo.uncertainty_km });
      if (d) {
        out['profile_distance_km'] = d.km;
        out['profile_distance_precision'] = d.precision;
      }
    }
    return out;
  });
}

/**
 * `oktopus.enrichment.user` with the user-baseline fields (src/enrich/baseline.ts) once the engine
 * has released the event and frozen its baseline view; before that (or with no rule reading
 * baselines), the profile part alone.
 */
export function userWithBaseline(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  const user = userBlock(ev, ctx);
  const bl = baselineView(ev, false);
  if (!bl) return user;
  return cached(ev, `enrich.user+baseline#${ctx.id}`, () => ({ ...(user ?? {}), ...bl }));
}

/** The whole `oktopus.enrichment` block (what alerts carry), with the baseline fields when frozen. */
export function enrichmentBlock(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  if (ctx.disabled) return undefined;
  const all = enrichmentBase(ev, ctx);
  if (!baselineView(ev, false)) return all;
  return cached(ev, `enrich.all+baseline#${ctx.id}`, () => ({ ...(all ?? {}), user: userWithBaseline(ev, ctx)! }));
}

function enrichmentBase(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  if (ev.kind !== 'okta') return undefined;
  return cached(ev, `enrich.all#${ctx.id}`, () => {
    const out: JsonObject = {};
    const ip = ipBlock(ev, ctx);
    if (ip) out['ip'] = ip;
    const chain = chainBlock(ev, ctx);
    if (chain) out['chain'] = chain;
    const user = userBlock(ev, ctx);
    if (user) out['user'] = user;
    return Object.keys(out).length > 0 ? out : undefined;
  });
}

/** Panther's `p_enrichment` shapes (ipinfo), keyed by the enriched field `client.ipAddress`. */
export function pantherBlock(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  if (ev.kind !== 'okta' || ctx.disabled) return undefined;
  return cached(ev, `enrich.panther#${ctx.id}`, () => {
    const ip = ipBlock(ev, ctx);
    if (!ip) return undefined;
    const out: JsonObject = {};
    const a = ip.anonymizer;
    const p_match = ip.address;
    if (a.anonymous || a.hosting) {
      out['ipinfo_privacy'] = { 'client.ipAddress': { hosting: a.hosting, proxy: a.proxy, relay: a.relay, service: a.service ?? '', tor: a.tor, vpn: a.vpn, p_match } };
    }
    const g = ip['geo'] as GeoView | undefined;
    if (g) {
      const loc: JsonObject = { country: g.country_iso_code, p_match };
      if (g.city) loc['city'] = g.city;
      if (g.region) loc['region'] = g.region;
      if (g.lat !== null && g.lon !== null) {
        loc['lat'] = String(g.lat);
        loc['lng'] = String(g.lon);
      }
      out['ipinfo_location'] = { 'client.ipAddress': loc };
    }
    if (ip['asn'] !== undefined) {
      const asn: JsonObject = { asn: `AS${String(ip['asn'])}`, p_match };
      if (ip['as_org']) asn['name'] = ip['as_org'];
      if (a.hosting) asn['type'] = 'hosting';
      out['ipinfo_asn'] = { 'client.ipAddress': asn };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  });
}

/** ECS: `source.geo`, `source.as` (as the GeoIP processors write them) and `threat.enrichments`. */
export function ecsBlock(ev: CanonicalEvent, ctx: EnrichmentContext): JsonObject | undefined {
  if (ev.kind !== 'okta' || ctx.disabled) return undefined;
  return cached(ev, `enrich.ecs#${ctx.id}`, () => {
    const ip = ipBlock(ev, ctx);
    if (!ip) return undefined;
    const source: JsonObject = {};
    const g = ip['geo'] as GeoView | undefined;
    if (g) {
      const geo: JsonObject = {};
      if (g.country_iso_code) geo['country_iso_code'] = g.country_iso_code;
      if (g.country_name) geo['country_name'] = g.country_name;
      if (g.region) geo['region_name'] = g.region;
      if (g.city) geo['city_name'] = g.city;
      if (g.lat !== null && g.lon !== null && (g.precision === 'point' || g.precision === 'city')) geo['location'] = { lat: g.lat, lon: g.lon };
      if (Object.keys(geo).length > 0) source['geo'] = geo;
    }
    if (ip['asn'] !== undefined) {
      const as: JsonObject = { number: ip['asn'] as Json };
      if (ip['as_org']) as['organization'] = { name: ip['as_org'] as Json };
      source['as'] = as;
    }
    const out: JsonObject = {};
    if (Object.keys(source).length > 0) out['source'] = source;
    const a = ip.anonymizer;
    if (a.source.length > 0) {
      const kind = [a.tor && 'tor', a.relay && 'relay', a.vpn && 'vpn', a.proxy && 'proxy', a.hosting && 'hosting'].filter(Boolean).join(',');
      out['threat'] = {
        enrichments: a.source.map((src) => ({
          indicator: {
            type: ip.address.includes(':') ? 'ipv6-addr' : 'ipv4-addr',
            ip: ip.address,
            provider: src,
            description: `anonymizer: ${kind || 'none'}${a.service ? ` (${a.service})` : ''}`,
          },
          matched: { atomic: ip.address, field: 'source.ip', type: 'indicator_match_rule' },
        })),
      };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  });
}

type Block = (ev: CanonicalEvent, ctx: EnrichmentContext) => Json | undefined;

/** Field-name prefixes served by enrichment, per schema, longest first. */
const OKTA_PREFIXES: [string, Block][] = [
  ['oktopus.enrichment.ip', ipBlock as Block],
  ['oktopus.enrichment.user', userWithBaseline],
  ['oktopus.enrichment.chain', chainBlock as Block],
  ['oktopus.enrichment', enrichmentBlock],
  ['p_enrichment', pantherBlock],
];
const ECS_PREFIXES: [string, Block][] = [...OKTA_PREFIXES, ['source', ecsSource], ['threat', ecsThreat]];

function ecsSource(ev: CanonicalEvent, ctx: EnrichmentContext): Json | undefined {
  return ecsBlock(ev, ctx)?.['source'];
}
function ecsThreat(ev: CanonicalEvent, ctx: EnrichmentContext): Json | undefined {
  return ecsBlock(ev, ctx)?.['threat'];
}
const ECS_ONLY = ['source.geo', 'source.as', 'threat.enrichments'];

/**
 * The accessor of an enrichment field, or undefined when the name is not one (resolved once per
 * rule). The ECS schema serves `source.geo.*`, `source.as.*` and `threat.enrichments*` too.
 */
export function enrichmentGetter(name: string, schema: 'okta' | 'ecs', ctx: EnrichmentContext): ((ev: CanonicalEvent) => unknown) | undefined {
  if (ctx.disabled) return undefined;
  const lower = name.toLowerCase();
  if (isBaselineField(lower)) {
    // User-baseline fields: read from the view the engine froze at release (event-time order);
    // absent before that, and when no engine tracks baselines.
    const sub = compilePath(name.slice('oktopus.enrichment.user.'.length), { caseInsensitive: true });
    return (ev) => {
      const b = baselineView(ev);
      return b === undefined ? undefined : sub(b);
    };
  }
  if (schema === 'ecs' && (lower === 'source' || lower === 'threat')) return undefined;
  if (schema === 'ecs' && (lower.startsWith('source.') || lower.startsWith('threat.')) && !ECS_ONLY.some((p) => lower === p || lower.startsWith(p + '.'))) return undefined;
  for (const [prefix, block] of schema === 'ecs' ? ECS_PREFIXES : OKTA_PREFIXES) {
    if (lower === prefix) return (ev) => block(ev, ctx);
    if (lower.startsWith(prefix + '.')) {
      const sub = compilePath(name.slice(prefix.length + 1), { caseInsensitive: schema === 'okta' });
      return (ev) => {
        const b = block(ev, ctx);
        return b === undefined ? undefined : sub(b);
      };
    }
  }
  return undefined;
}
