/**
 * Deterministic Okta tenant simulator.
 *
 * Produces the System Log of a fictional organisation, as `GET /api/v1/logs` would return it
 * (Okta LogEvent objects, camelCase, in `published` order), from a seed:
 *
 * - a population of users with a home city, an ISP, a time zone, working hours, a computer and
 *   maybe a phone, a department with its set of SSO applications and an MFA habit (Okta Verify
 *   push, TOTP or FastPass); some work from an office network on fixed weekdays;
 * - daily traffic: sign-on policy evaluation, password verification, MFA, `user.session.start`,
 *   application SSO (each preceded by its authentication-policy evaluation), sign-outs, mobile
 *   sign-ins, occasional mistyped passwords, lockouts with self-service unlock, password resets
 *   and phone re-enrolments;
 * - one or two administrators doing ordinary admin work (group and app assignments, on- and
 *   off-boarding, app and policy-rule edits) from the Okta Admin Console;
 * - benign traffic that looks suspicious (`securityContext.isProxy: true`): remote staff on the
 *   company's always-on corporate VPN, users on a commercial VPN every day, iCloud Private Relay
 *   users; and travellers signing in from abroad;
 * - the attack scenarios of SCENARIO_IDS, each with its own victim, day and time (docs/simulate.md).
 *
 * Everything random comes from seeded mulberry32 streams, so a seed gives the same events, byte
 * for byte, on every machine. Independent streams are used for the population, the benign
 * traffic, the event ids and each scenario, so `attacks: false` yields exactly the attack-free
 * subset of `attacks: true` (and any selection of scenarios the benign log plus exactly those
 * scenarios' events), and `truthDocument()` names the attack events without generating the log.
 *
 * The window is `[start, start + days)` in UTC. Each user's activity is planned per local
 * calendar day (real time zones via Intl, so DST is honoured) and merged in time order with a
 * bounded look-ahead, so memory stays at about a day of planned events whatever the length.
 */
import type { Json, JsonObject, LogEvent } from '../event/types.js';

// ───────────────────────────────────────────────────────────────────────────── public API

export interface TenantOptions {
  seed: number;
  users: number;
  days: number;
  /** First UTC day of the window, e.g. '2026-11-02' (a full ISO timestamp is accepted). */
  start: string;
  /** Org subdomain, e.g. 'acme' → users are first.last@acme.com, org URL acme.okta.com. */
  org: string;
  /** false: no attack at all. true: the scenarios listed in `scenarios` (all when absent). */
  attacks: boolean;
  scenarios?: readonly ScenarioId[];
}

/** One injected scenario in the ground truth (`oktopus-truth/2`). */
export interface TruthScenario {
  id: ScenarioId;
  title: string;
  description: string;
  /** Accounts the attacker acts as (actor.alternateId of the attacker's events). */
  users: string[];
  /** Other accounts affected: sprayed logins, the account given admin rights. */
  targets: string[];
  /** Source addresses the attacker used. */
  ips: string[];
  /** published of the first and last malicious event. */
  start: string;
  end: string;
  /** uuid of every malicious event, in time order. */
  eventUuids: string[];
}

export type BenignCategory = 'corporate-vpn' | 'commercial-vpn' | 'private-relay' | 'traveller';

/** A benign population whose traffic looks suspicious (its alerts are the rules' false positives). */
export interface TruthBenign {
  category: BenignCategory;
  users: string[];
  /** The egress networks they use (what a team's exception list would hold). */
  cidrs: string[];
  description: string;
}

export interface TruthDocument {
  format: 'oktopus-truth/2';
  tenant: { org: string; orgUrl: string; seed: number; users: number; days: number; start: string; end: string };
  scenarios: TruthScenario[];
  benign: TruthBenign[];
}

/** Who is who in a generated tenant, for documentation and tests. */
export interface TenantSummary {
  org: string;
  window: { start: string; end: string };
  users: number;
  admins: { id: string; login: string; name: string; city: string; timeZone: string }[];
  corporateVpnUsers: { id: string; login: string; name: string; egress: string }[];
  vpnUsers: { id: string; login: string; name: string; provider: string; asOrg: string }[];
  privateRelayUsers: { id: string; login: string; name: string; asOrg: string }[];
  travellers: { id: string; login: string; name: string; home: string; destination: string; from: string; to: string }[];
  dormantUsers: { id: string; login: string; name: string }[];
  scenarios: ScenarioSummary[];
}

export interface ScenarioSummary extends TruthScenario {
  /** The key moments, in time order. */
  timeline: TimelineEntry[];
}

export function* generateTenant(opts: TenantOptions): Generator<LogEvent> {
  const tenant = buildTenant(opts);
  const emitter = new Emitter(tenant, new Rng(mix(tenant.seed, 3)), 0, false);
  for (const s of plannedSpecs(tenant, selectedScenarios(opts))) yield emitter.build(s) as LogEvent;
}

/**
 * The same events as `generateTenant`, already serialised: each string is exactly
 * `JSON.stringify(event)` (no trailing newline). About twice as fast as stringifying the
 * objects, because the per-session parts (actor, client, security context, ip chain,
 * authentication context) are serialised once per session; used to write large NDJSON files.
 */
export function* generateTenantLines(opts: TenantOptions): Generator<string> {
  const tenant = buildTenant(opts);
  const emitter = new Emitter(tenant, new Rng(mix(tenant.seed, 3)), 0, true);
  for (const s of plannedSpecs(tenant, selectedScenarios(opts))) yield emitter.build(s) as string;
}

/** Planned events inside the window, in published order (ties keep planning order). */
function* plannedSpecs(tenant: Tenant, scenarios: readonly ScenarioId[]): Generator<Spec> {
  const planner = new Planner(tenant, new Rng(mix(tenant.seed, 2)));
  let pending: Spec[] = planScenarios(tenant, scenarios).flatMap((p) => p.specs);
  pending.sort(bySpecTime);
  const { winStart, winEnd } = tenant;
  for (let L = -1; L <= tenant.days; L++) {
    const fresh = planner.planLocalDay(L);
    fresh.sort(bySpecTime);
    pending = mergeSorted(pending, fresh);
    // Nothing planned for a later local day can fall before the next day's earliest local midnight.
    const horizon = L === tenant.days ? Infinity : tenant.dayStart(L + 1) - tenant.maxEastMs - HOUR;
    let i = 0;
    for (; i < pending.length; i++) {
      const s = pending[i]!;
      if (s.t >= horizon) break;
      if (s.t >= winStart && s.t < winEnd) yield s;
    }
    pending = i === pending.length ? [] : pending.slice(i);
  }
}

/** The selected scenarios' ground truth, computed without generating the log. */
export function groundTruth(opts: TenantOptions): TruthScenario[] {
  return planScenarios(buildTenant(opts), selectedScenarios(opts)).map((p) => p.truth);
}

const cidr24 = (ip: string) => ip.split('.').slice(0, 3).join('.') + '.0/24';
const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** The whole ground-truth file (`oktopus-truth/2`): tenant, scenarios, benign populations. */
export function truthDocument(opts: TenantOptions): TruthDocument {
  const T = buildTenant(opts);
  const iso = (ms: number) => new Date(ms).toISOString();
  const of = (kind: UserKind) => T.users.filter((u) => u.kind === kind);
  const benign: TruthBenign[] = [];
  const corp = of('corpvpn');
  if (corp.length) benign.push({
    category: 'corporate-vpn', users: corp.map((u) => u.alternateId), cidrs: [...CORPORATE_VPN_CIDRS],
    description: `remote staff on ${T.org}'s always-on corporate VPN: every sign-in leaves through the company's dedicated egress addresses (${CORPORATE_VPN.asOrg}, AS${CORPORATE_VPN.asNumber}), which Okta flags as a proxy`,
  });
  const vpn = of('vpn');
  if (vpn.length) benign.push({
    category: 'commercial-vpn', users: vpn.map((u) => u.alternateId), cidrs: uniq(vpn.flatMap((u) => u.proxyExits.map((n) => cidr24(n.ip)))).sort(),
    description: `users on a commercial VPN every day (${uniq(vpn.map((u) => u.vpn!.name)).join(', ')}), exits near home; Okta flags them as proxies`,
  });
  const relay = of('relay');
  if (relay.length) benign.push({
    category: 'private-relay', users: relay.map((u) => u.alternateId), cidrs: [...PRIVATE_RELAY_CIDRS],
    description: 'Safari users with iCloud Private Relay: egress addresses of the relay operators (Akamai, Cloudflare) in their own region, isProxy true',
  });
  const trav = of('traveller');
  if (trav.length) benign.push({
    category: 'traveller', users: trav.map((u) => u.alternateId), cidrs: uniq(trav.map((u) => cidr24(u.trip!.net.ip))),
    description: 'employees on a business trip abroad: a hotel network in a new country for a few days, known device, no proxy',
  });
  return {
    format: 'oktopus-truth/2',
    tenant: { org: T.org, orgUrl: `https://${T.org}.okta.com`, seed: opts.seed, users: T.users.length, days: T.days, start: iso(T.winStart), end: iso(T.winEnd) },
    scenarios: planScenarios(T, selectedScenarios(opts)).map((p) => p.truth),
    benign,
  };
}

/** One row of the tenant's user directory (the Okta user profile fields enrichment reads). */
export interface DirectoryUser {
  login: string;
  city: string;
  state: string;
  countryCode: string;
  timezone: string;
}

/** The tenant's user directory: every user's profile location, as `/api/v1/users` would give it. */
export function tenantDirectory(opts: TenantOptions): DirectoryUser[] {
  return buildTenant(opts).users.map((u) => ({ login: u.alternateId, city: u.home.city, state: u.home.state, countryCode: u.home.cc, timezone: u.tz }));
}

export function tenantSummary(opts: TenantOptions): TenantSummary {
  const T = buildTenant(opts);
  const iso = (ms: number) => new Date(ms).toISOString();
  const ref = (u: User) => ({ id: u.id, login: u.alternateId, name: u.displayName });
  return {
    org: T.org,
    window: { start: iso(T.winStart), end: iso(T.winEnd) },
    users: T.users.length,
    admins: T.admins.map((u) => ({ ...ref(u), city: `${u.home.city}, ${u.home.country}`, timeZone: u.tz })),
    corporateVpnUsers: T.users.filter((u) => u.kind === 'corpvpn').map((u) => ({ ...ref(u), egress: `${u.proxyExits[0]!.city} (${u.proxyExits.map((n) => n.ip).join(', ')})` })),
    vpnUsers: T.users.filter((u) => u.kind === 'vpn').map((u) => ({ ...ref(u), provider: u.vpn!.name, asOrg: u.vpn!.asOrg })),
    privateRelayUsers: T.users.filter((u) => u.kind === 'relay').map((u) => ({ ...ref(u), asOrg: u.proxyExits[0]!.asOrg })),
    travellers: T.users
      .filter((u) => u.kind === 'traveller')
      .map((u) => ({
        ...ref(u),
        home: `${u.home.city}, ${u.home.country}`,
        destination: `${u.trip!.place.city}, ${u.trip!.place.country}`,
        from: T.dateString(u.trip!.from),
        to: T.dateString(u.trip!.to),
      })),
    dormantUsers: T.users.filter((u) => u.kind === 'dormant').map(ref),
    scenarios: planScenarios(T, selectedScenarios(opts)).map((p) => ({ ...p.truth, timeline: p.timeline })),
  };
}

// ───────────────────────────────────────────────────────────────────────────── PRNG

/** mulberry32: small, fast, good enough for simulation; 32-bit state. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  u32(): number {
    let t = (this.a = (this.a + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.next() * arr.length)]!;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1]![0];
  }
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  }
}

/** Mix integers into a 32-bit seed (murmur3 finaliser per part). */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0) ^ Math.floor(p / 4294967296), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

// ───────────────────────────────────────────────────────────────────────────── ids

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SID_CHARS = B62 + '-_';
const RID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@-';
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEXCH = '0123456789abcdef';

function chars(rng: Rng, n: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.u32() % alphabet.length];
  return s;
}
function hexStr(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEXCH[rng.u32() & 15];
  return s;
}
function hex8(n: number): string {
  return HEX[(n >>> 24) & 255]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}
function hex4(n: number): string {
  return HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

/** Okta object id: 3-char type prefix, 14 random chars, 3-char org cell suffix (20 chars). */
function oktaId(rng: Rng, prefix: string, suffix: string): string {
  return prefix + chars(rng, 14, B62) + suffix;
}

/**
 * RFC 4122 version-1 UUID for `ms` (Okta's System Log uuids are time-based). `sub` is the
 * 100-ns tick within the millisecond (0..9999); with distinct subs per millisecond per stream
 * the ids are unique.
 */
function uuidV1(ms: number, sub: number, clockSeq: number, node: string): string {
  const T = ms + 12219292800000;
  const tHi = Math.floor(T / 4294967296);
  const tLo = T - tHi * 4294967296;
  const low = tLo * 10000 + sub;
  const carry = Math.floor(low / 4294967296);
  const timeLow = low - carry * 4294967296;
  const upper = tHi * 10000 + carry;
  return (
    hex8(timeLow) + '-' + hex4(upper & 0xffff) + '-' + hex4(((upper >>> 16) & 0x0fff) | 0x1000) + '-' +
    hex4(0x8000 | (clockSeq & 0x3fff)) + '-' + node
  );
}

/** Okta request id: base64 of the epoch second, random middle, `AA` + 3 chars (27 chars). */
function requestId(rng: Rng, ms: number): string {
  const v = Math.floor(ms / 1000) >>> 0;
  return (
    RID_CHARS[(v >>> 26) & 63]! + RID_CHARS[(v >>> 20) & 63]! + RID_CHARS[(v >>> 14) & 63]! +
    RID_CHARS[(v >>> 8) & 63]! + RID_CHARS[(v >>> 2) & 63]! + RID_CHARS[((v & 3) << 4) | (rng.u32() & 15)]! +
    chars(rng, 16, RID_CHARS) + 'AA' + RID_CHARS[rng.u32() & 3]! + chars(rng, 2, RID_CHARS)
  );
}

// ───────────────────────────────────────────────────────────────────────────── time

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const dtfCache = new Map<string, Intl.DateTimeFormat>();
/** Offset of `tz` from UTC at `utcMs`, in milliseconds (positive east of Greenwich). */
function tzOffsetMs(tz: string, utcMs: number): number {
  let f = dtfCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    dtfCache.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

function parseStart(start: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(start) ? `${start}T00:00:00Z` : start);
  if (!Number.isFinite(ms)) throw new Error(`generateTenant: bad start date '${start}'`);
  return Math.floor(ms / DAY) * DAY;
}

function browserVersions(ms: number): { chrome: number; firefox: number; safari: number } {
  const chrome = 131 + Math.floor((ms - Date.UTC(2024, 10, 12)) / (28 * DAY));
  const firefox = 132 + Math.floor((ms - Date.UTC(2024, 9, 29)) / (28 * DAY));
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const lateYear = d.getUTCMonth() >= 8;
  // Safari 18 shipped Sept 2024; Apple renumbered to 26 in Sept 2025 (year-based from then on).
  const safari = y > 2025 || (y === 2025 && lateYear) ? 26 + (y - 2025) - (lateYear ? 0 : 1) : 18 - (2024 - y) - (lateYear ? 0 : 1);
  return { chrome: Math.max(100, chrome), firefox: Math.max(100, firefox), safari: Math.max(14, safari) };
}

// ───────────────────────────────────────────────────────────────────────────── reference data

interface Place {
  city: string; state: string; country: string; cc: string; postal: readonly string[];
  lat: number; lon: number; tz: string;
}
const place = (city: string, state: string, country: string, cc: string, postal: string[], lat: number, lon: number, tz: string): Place =>
  ({ city, state, country, cc, postal, lat, lon, tz });

const PLACES = {
  sf: place('San Francisco', 'California', 'United States', 'US', ['94105', '94110', '94117', '94122'], 37.7749, -122.4194, 'America/Los_Angeles'),
  oakland: place('Oakland', 'California', 'United States', 'US', ['94607', '94611', '94618'], 37.8044, -122.2712, 'America/Los_Angeles'),
  sanjose: place('San Jose', 'California', 'United States', 'US', ['95112', '95126'], 37.3382, -121.8863, 'America/Los_Angeles'),
  la: place('Los Angeles', 'California', 'United States', 'US', ['90012', '90026', '90045'], 34.0522, -118.2437, 'America/Los_Angeles'),
  seattle: place('Seattle', 'Washington', 'United States', 'US', ['98101', '98115', '98122'], 47.6062, -122.3321, 'America/Los_Angeles'),
  portland: place('Portland', 'Oregon', 'United States', 'US', ['97205', '97214'], 45.5152, -122.6784, 'America/Los_Angeles'),
  denver: place('Denver', 'Colorado', 'United States', 'US', ['80202', '80218'], 39.7392, -104.9903, 'America/Denver'),
  austin: place('Austin', 'Texas', 'United States', 'US', ['78701', '78704', '78745'], 30.2672, -97.7431, 'America/Chicago'),
  dallas: place('Dallas', 'Texas', 'United States', 'US', ['75201', '75204'], 32.7767, -96.797, 'America/Chicago'),
  chicago: place('Chicago', 'Illinois', 'United States', 'US', ['60601', '60614', '60647'], 41.8781, -87.6298, 'America/Chicago'),
  minneapolis: place('Minneapolis', 'Minnesota', 'United States', 'US', ['55401', '55408'], 44.9778, -93.265, 'America/Chicago'),
  nyc: place('New York', 'New York', 'United States', 'US', ['10001', '10011', '10025'], 40.7128, -74.006, 'America/New_York'),
  brooklyn: place('Brooklyn', 'New York', 'United States', 'US', ['11201', '11215', '11222'], 40.6782, -73.9442, 'America/New_York'),
  jerseycity: place('Jersey City', 'New Jersey', 'United States', 'US', ['07302', '07306'], 40.7178, -74.0431, 'America/New_York'),
  boston: place('Boston', 'Massachusetts', 'United States', 'US', ['02110', '02116'], 42.3601, -71.0589, 'America/New_York'),
  atlanta: place('Atlanta', 'Georgia', 'United States', 'US', ['30303', '30309'], 33.749, -84.388, 'America/New_York'),
  raleigh: place('Raleigh', 'North Carolina', 'United States', 'US', ['27601', '27606'], 35.7796, -78.6382, 'America/New_York'),
  miami: place('Miami', 'Florida', 'United States', 'US', ['33130', '33137'], 25.7617, -80.1918, 'America/New_York'),
  toronto: place('Toronto', 'Ontario', 'Canada', 'CA', ['M5V', 'M4C', 'M6J'], 43.6532, -79.3832, 'America/Toronto'),
  vancouver: place('Vancouver', 'British Columbia', 'Canada', 'CA', ['V6B', 'V5K'], 49.2827, -123.1207, 'America/Vancouver'),
  london: place('London', 'England', 'United Kingdom', 'GB', ['EC2A', 'SE1', 'N1', 'E2'], 51.5074, -0.1278, 'Europe/London'),
  manchester: place('Manchester', 'England', 'United Kingdom', 'GB', ['M1', 'M4'], 53.4808, -2.2426, 'Europe/London'),
  edinburgh: place('Edinburgh', 'Scotland', 'United Kingdom', 'GB', ['EH1', 'EH6'], 55.9533, -3.1883, 'Europe/London'),
  dublin: place('Dublin', 'Leinster', 'Ireland', 'IE', ['D02', 'D08'], 53.3498, -6.2603, 'Europe/Dublin'),
  berlin: place('Berlin', 'Land Berlin', 'Germany', 'DE', ['10115', '10435', '10997'], 52.52, 13.405, 'Europe/Berlin'),
  munich: place('Munich', 'Bavaria', 'Germany', 'DE', ['80331', '80469'], 48.1351, 11.582, 'Europe/Berlin'),
  frankfurt: place('Frankfurt am Main', 'Hesse', 'Germany', 'DE', ['60313', '60549'], 50.1109, 8.6821, 'Europe/Berlin'),
  paris: place('Paris', 'Ile-de-France', 'France', 'FR', ['75002', '75011'], 48.8566, 2.3522, 'Europe/Paris'),
  amsterdam: place('Amsterdam', 'North Holland', 'Netherlands', 'NL', ['1012', '1017'], 52.3676, 4.9041, 'Europe/Amsterdam'),
  bucharest: place('Bucharest', 'Bucuresti', 'Romania', 'RO', ['050595', '010011'], 44.4268, 26.1025, 'Europe/Bucharest'),
  bengaluru: place('Bengaluru', 'Karnataka', 'India', 'IN', ['560001', '560034'], 12.9716, 77.5946, 'Asia/Kolkata'),
  singapore: place('Singapore', 'Central Singapore', 'Singapore', 'SG', ['018956', '238859'], 1.3521, 103.8198, 'Asia/Singapore'),
  sydney: place('Sydney', 'New South Wales', 'Australia', 'AU', ['2000', '2010'], -33.8688, 151.2093, 'Australia/Sydney'),
  tokyo: place('Tokyo', 'Tokyo', 'Japan', 'JP', ['100-0005', '150-0002'], 35.6762, 139.6503, 'Asia/Tokyo'),
  // Attacker infrastructure only (no employee lives there).
  saopaulo: place('Sao Paulo', 'Sao Paulo', 'Brazil', 'BR', ['01310', '04538'], -23.5505, -46.6333, 'America/Sao_Paulo'),
  hochiminh: place('Ho Chi Minh City', 'Ho Chi Minh', 'Vietnam', 'VN', ['700000'], 10.8231, 106.6297, 'Asia/Ho_Chi_Minh'),
  jakarta: place('Jakarta', 'Jakarta', 'Indonesia', 'ID', ['10110', '12190'], -6.2088, 106.8456, 'Asia/Jakarta'),
  helsinki: place('Helsinki', 'Uusimaa', 'Finland', 'FI', ['00100', '00180'], 60.1699, 24.9384, 'Europe/Helsinki'),
} as const;
type PlaceKey = keyof typeof PLACES;

interface Isp { asNumber: number; asOrg: string; isp: string; domain: string; prefixes: readonly string[]; v6?: boolean }
const isp = (asNumber: number, asOrg: string, ispName: string, domain: string, prefixes: string[], v6 = false): Isp =>
  ({ asNumber, asOrg, isp: ispName, domain, prefixes, v6 });

/** Residential ISPs by country (two-octet IPv4 prefixes). */
const HOME_ISPS: Record<string, readonly Isp[]> = {
  US: [
    isp(7922, 'comcast cable communications, llc', 'comcast cable communications, llc', 'comcast.net', ['73.158', '98.207', '24.130', '67.161']),
    isp(7018, 'at&t services, inc.', 'at&t internet', 'sbcglobal.net', ['99.108', '107.200', '104.3', '76.220']),
    isp(701, 'verizon business', 'verizon fios', 'verizon.net', ['71.105', '108.46', '96.250', '72.89']),
    isp(20115, 'charter communications inc', 'spectrum', 'charter.com', ['66.190', '76.170', '174.109', '97.88']),
    isp(22773, 'cox communications inc.', 'cox communications', 'cox.net', ['68.104', '70.176', '98.164']),
  ],
  CA: [
    isp(812, 'rogers communications canada inc.', 'rogers', 'rogers.com', ['99.230', '174.112', '72.139']),
    isp(577, 'bell canada', 'bell canada', 'bell.ca', ['70.49', '142.114', '184.146']),
  ],
  GB: [
    isp(2856, 'british telecommunications plc', 'bt', 'bt.com', ['86.150', '81.156', '109.148']),
    isp(5089, 'virgin media limited', 'virgin media', 'virginmedia.com', ['82.15', '86.17', '92.237']),
    isp(5607, 'sky uk limited', 'sky broadband', 'sky.com', ['2.96', '5.64', '90.216']),
  ],
  IE: [
    isp(5466, 'eircom limited', 'eir', 'eircom.net', ['86.46', '109.76']),
    isp(6830, 'liberty global b.v.', 'virgin media ireland', 'virginmedia.ie', ['89.100', '37.228']),
  ],
  DE: [
    isp(3320, 'deutsche telekom ag', 'deutsche telekom ag', 't-ipconnect.de', ['91.64', '79.240', '87.150']),
    isp(3209, 'vodafone gmbh', 'vodafone kabel deutschland', 'kabel-deutschland.de', ['95.90', '178.24']),
  ],
  FR: [
    isp(3215, 'orange s.a.', 'orange', 'orange.fr', ['90.66', '86.246']),
    isp(12322, 'free sas', 'free sas', 'proxad.net', ['82.64', '88.160']),
  ],
  NL: [
    isp(1136, 'kpn b.v.', 'kpn', 'kpn.net', ['77.161', '84.86']),
    isp(33915, 'vodafone libertel b.v.', 'ziggo', 'ziggo.nl', ['84.104', '62.163']),
  ],
  IN: [
    isp(24560, 'bharti airtel ltd.', 'airtel broadband', 'airtel.in', ['122.171', '106.51']),
    isp(55836, 'reliance jio infocomm limited', 'jio', 'jio.com', ['49.36', '157.45']),
  ],
  SG: [isp(9506, 'singtel fibre broadband', 'singtel', 'singnet.com.sg', ['116.86', '118.200'])],
  AU: [
    isp(1221, 'telstra limited', 'telstra', 'bigpond.net.au', ['120.148', '58.165']),
    isp(7545, 'tpg telecom limited', 'tpg', 'tpg.com.au', ['203.206', '101.160']),
  ],
  JP: [isp(4713, 'ntt communications corporation', 'ocn', 'ocn.ne.jp', ['153.156', '180.12'])],
};

/** Mobile carriers (US carriers hand out IPv6; the 2-group prefix is completed at random). */
const MOBILE_ISPS: Record<string, readonly Isp[]> = {
  US: [
    isp(21928, 't-mobile usa, inc.', 't-mobile usa, inc.', 'tmobile.com', ['2607:fb90', '2607:fb91'], true),
    isp(22394, 'verizon wireless', 'verizon wireless', 'myvzw.com', ['2600:1010', '2600:1012'], true),
  ],
  CA: [isp(812, 'rogers communications canada inc.', 'rogers wireless', 'rogers.com', ['174.88'])],
  GB: [isp(25135, 'vodafone limited', 'vodafone uk', 'vodafone.co.uk', ['148.252', '185.69'])],
  IE: [isp(15502, 'vodafone ireland limited', 'vodafone ireland', 'vodafone.ie', ['89.19'])],
  DE: [isp(3320, 'deutsche telekom ag', 'telekom mobil', 't-mobile.de', ['80.187'])],
  FR: [isp(3215, 'orange s.a.', 'orange mobile', 'orange.fr', ['92.184'])],
  NL: [isp(1136, 'kpn b.v.', 'kpn mobile', 'kpn.net', ['145.133'])],
};

interface Office { name: string; place: Place; net: Isp; ipBase: string }
const OFFICES: readonly Office[] = [
  { name: 'San Francisco HQ', place: PLACES.sf, net: isp(6461, 'zayo bandwidth', 'zayo bandwidth', 'zayo.com', []), ipBase: '64.125.188.' },
  { name: 'New York', place: PLACES.nyc, net: isp(3356, 'level 3 parent, llc', 'lumen technologies', 'lumen.com', []), ipBase: '4.35.92.' },
  { name: 'London', place: PLACES.london, net: isp(8220, 'colt technology services group limited', 'colt', 'colt.net', []), ipBase: '212.36.172.' },
];
const OFFICE_ZONE = 'Corporate Offices';

interface ProxyNet { name: string; asNumber: number; asOrg: string; isp: string; domain: string; prefixes: readonly string[] }
/** Commercial VPN providers (hosting ASNs; Okta flags their exits as proxies). Three-octet prefixes. */
const VPN_PROVIDERS: readonly ProxyNet[] = [
  { name: 'NordVPN', asNumber: 212238, asOrg: 'datacamp limited', isp: 'datacamp limited', domain: 'nordvpn.com', prefixes: ['185.202.220', '89.187.163', '156.146.54'] },
  { name: 'Mullvad VPN', asNumber: 39351, asOrg: '31173 services ab', isp: '31173 services ab', domain: 'mullvad.net', prefixes: ['193.138.218', '185.213.154', '146.70.117'] },
  { name: 'Proton VPN', asNumber: 62371, asOrg: 'proton ag', isp: 'proton ag', domain: 'protonvpn.com', prefixes: ['185.159.157', '149.88.26'] },
  { name: 'ExpressVPN', asNumber: 147049, asOrg: 'packethub s.a.', isp: 'packethub s.a.', domain: 'expressvpn.com', prefixes: ['45.87.213', '91.132.137'] },
];
const VPN_EXITS: Record<string, readonly PlaceKey[]> = {
  US: ['la', 'nyc', 'chicago', 'seattle', 'dallas', 'miami'],
  CA: ['toronto', 'vancouver'],
  GB: ['london', 'manchester'],
  IE: ['dublin'],
  DE: ['frankfurt', 'berlin'],
  FR: ['paris'],
  NL: ['amsterdam'],
  IN: ['singapore'],
  SG: ['singapore'],
  AU: ['sydney'],
};
/**
 * iCloud Private Relay egress (second hop): operated by partner CDNs, published by Apple in
 * mask-api.icloud.com/egress-ip-ranges.csv. The /24s used here lie inside the operators' relay
 * blocks (Akamai 172.224.0.0/12, Cloudflare 104.28.0.0/16).
 */
const PRIVATE_RELAY: readonly ProxyNet[] = [
  { name: 'iCloud Private Relay', asNumber: 36183, asOrg: 'akamai technologies, inc.', isp: 'iCloud Private Relay', domain: 'icloud.com', prefixes: ['172.225.46', '172.226.18', '172.224.226'] },
  { name: 'iCloud Private Relay', asNumber: 13335, asOrg: 'cloudflare, inc.', isp: 'iCloud Private Relay', domain: 'icloud.com', prefixes: ['104.28.38', '104.28.54'] },
];
/** The /24 networks of PRIVATE_RELAY (what a team puts on its Private Relay exception list). */
export const PRIVATE_RELAY_CIDRS: readonly string[] = PRIVATE_RELAY.flatMap((n) => n.prefixes.map((p) => `${p}.0/24`));

/**
 * The company's always-on VPN: acme's dedicated egress addresses on a cloud security service,
 * one /28 per region. Okta's IP intelligence knows the service as a proxy (isProxy true).
 */
const CORPORATE_VPN: ProxyNet = { name: 'Corporate VPN (Zscaler)', asNumber: 53813, asOrg: 'zscaler, inc.', isp: 'zscaler, inc.', domain: 'zscaler.net', prefixes: [] };
const CORPORATE_EGRESS: readonly { region: string; place: PlaceKey; base: string; first: number; cidr: string }[] = [
  { region: 'Americas', place: 'sanjose', base: '165.225.242.', first: 4, cidr: '165.225.242.0/28' },
  { region: 'EMEA', place: 'amsterdam', base: '165.225.72.', first: 20, cidr: '165.225.72.16/28' },
  { region: 'APAC', place: 'singapore', base: '165.225.112.', first: 36, cidr: '165.225.112.32/28' },
];
/** The corporate VPN egress networks (what a team puts on its corporate-VPN exception list). */
export const CORPORATE_VPN_CIDRS: readonly string[] = CORPORATE_EGRESS.map((e) => e.cidr);
function corporateEgressFor(home: Place): (typeof CORPORATE_EGRESS)[number] {
  if (home.cc === 'US' || home.cc === 'CA') return CORPORATE_EGRESS[0]!;
  if (['IN', 'SG', 'AU', 'JP'].includes(home.cc)) return CORPORATE_EGRESS[2]!;
  return CORPORATE_EGRESS[1]!;
}

interface AttackInfra { net: ProxyNet; place: PlaceKey }
const STUFFING_SOURCES: readonly AttackInfra[] = [
  { net: { name: 'DigitalOcean', asNumber: 14061, asOrg: 'digitalocean, llc', isp: 'digitalocean, llc', domain: 'digitalocean.com', prefixes: ['167.99.138', '164.92.201'] }, place: 'frankfurt' },
  { net: { name: 'OVH', asNumber: 16276, asOrg: 'ovh sas', isp: 'ovh sas', domain: 'ovh.net', prefixes: ['51.75.144', '54.37.19'] }, place: 'paris' },
  { net: { name: 'Vultr', asNumber: 20473, asOrg: 'the constant company, llc', isp: 'vultr holdings llc', domain: 'vultr.com', prefixes: ['45.77.54', '95.179.141'] }, place: 'amsterdam' },
];
const ATTACK_EXITS: readonly AttackInfra[] = [
  { net: { name: 'M247 VPN exit', asNumber: 9009, asOrg: 'm247 europe srl', isp: 'm247 europe srl', domain: 'm247.com', prefixes: ['185.225.28', '89.46.223'] }, place: 'bucharest' },
  { net: { name: 'Tor exit relay', asNumber: 60729, asOrg: 'stiftung erneuerbare freiheit', isp: 'stiftung erneuerbare freiheit', domain: 'torservers.net', prefixes: ['185.220.101', '185.220.100'] }, place: 'berlin' },
  { net: { name: 'Datacamp VPN exit', asNumber: 212238, asOrg: 'datacamp limited', isp: 'datacamp limited', domain: 'cdn77.com', prefixes: ['89.187.180', '195.181.170'] }, place: 'amsterdam' },
];

/**
 * Residential-proxy exits: consumer broadband addresses rented out by proxy networks. The ASN is
 * an ordinary ISP; Okta's IP intelligence lists many of these exits as proxies (isProxy true).
 */
const RESIDENTIAL_EXITS: readonly AttackInfra[] = [
  { net: { name: 'residential proxy (Brazil)', asNumber: 27699, asOrg: 'telefonica brasil s.a', isp: 'vivo', domain: 'telesp.net.br', prefixes: ['177.139.54', '187.35.148'] }, place: 'saopaulo' },
  { net: { name: 'residential proxy (Vietnam)', asNumber: 7552, asOrg: 'viettel group', isp: 'viettel group', domain: 'viettel.vn', prefixes: ['27.72.98', '171.224.178'] }, place: 'hochiminh' },
  { net: { name: 'residential proxy (Indonesia)', asNumber: 7713, asOrg: 'pt telekomunikasi indonesia', isp: 'indihome', domain: 'telkom.net.id', prefixes: ['36.72.218', '180.252.87'] }, place: 'jakarta' },
];
/** Hosting networks a stolen session cookie is replayed from (not flagged as proxies). */
const REPLAY_HOSTS: readonly AttackInfra[] = [
  { net: { name: 'Hetzner', asNumber: 24940, asOrg: 'hetzner online gmbh', isp: 'hetzner online gmbh', domain: 'hetzner.com', prefixes: ['95.216.154', '65.21.232'] }, place: 'helsinki' },
  { net: { name: 'OVH', asNumber: 16276, asOrg: 'ovh sas', isp: 'ovh sas', domain: 'ovh.net', prefixes: ['51.178.42', '141.94.77'] }, place: 'paris' },
];

interface AppDef { label: string; name: string; mode: 'SAML_2_0' | 'OPENID_CONNECT' | 'WS_FEDERATION'; policy: string; rule: string }
const APP_DEFS: readonly AppDef[] = [
  { label: 'Google Workspace', name: 'google', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Slack', name: 'slack', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Zoom', name: 'zoomus', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Salesforce', name: 'salesforce', mode: 'SAML_2_0', policy: 'Business Critical Apps', rule: 'Managed devices or MFA' },
  { label: 'GitHub Enterprise Cloud', name: 'githubcloud', mode: 'SAML_2_0', policy: 'Engineering Apps', rule: 'Require MFA every 12 hours' },
  { label: 'AWS IAM Identity Center', name: 'amazon_aws_sso', mode: 'SAML_2_0', policy: 'Engineering Apps', rule: 'Require MFA every 12 hours' },
  { label: 'Atlassian Cloud', name: 'atlassian', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Workday', name: 'workday', mode: 'SAML_2_0', policy: 'Business Critical Apps', rule: 'Managed devices or MFA' },
  { label: 'Box', name: 'boxnet', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Microsoft Office 365', name: 'office365', mode: 'WS_FEDERATION', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Figma', name: 'figma', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Notion', name: 'notion', mode: 'OPENID_CONNECT', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'DocuSign', name: 'docusign', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'Datadog', name: 'datadog', mode: 'SAML_2_0', policy: 'Engineering Apps', rule: 'Require MFA every 12 hours' },
  { label: 'Zendesk', name: 'zendesk', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'HubSpot', name: 'hubspot', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
  { label: 'NetSuite', name: 'netsuite', mode: 'SAML_2_0', policy: 'Business Critical Apps', rule: 'Managed devices or MFA' },
  { label: 'Expensify', name: 'expensify', mode: 'SAML_2_0', policy: 'Any two factors', rule: 'Catch-all Rule' },
];

interface Dept { name: string; weight: number; titles: readonly string[]; apps: readonly string[] }
const DEPTS: readonly Dept[] = [
  { name: 'Engineering', weight: 34, titles: ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'Engineering Manager', 'Site Reliability Engineer'], apps: ['Google Workspace', 'Slack', 'Zoom', 'GitHub Enterprise Cloud', 'AWS IAM Identity Center', 'Atlassian Cloud', 'Datadog', 'Notion'] },
  { name: 'Sales', weight: 17, titles: ['Account Executive', 'Sales Development Representative', 'Sales Engineer', 'Regional Sales Director'], apps: ['Google Workspace', 'Slack', 'Zoom', 'Salesforce', 'DocuSign', 'HubSpot'] },
  { name: 'Customer Support', weight: 10, titles: ['Support Engineer', 'Customer Success Manager', 'Support Team Lead'], apps: ['Google Workspace', 'Slack', 'Zoom', 'Zendesk', 'Salesforce', 'Atlassian Cloud'] },
  { name: 'Marketing', weight: 10, titles: ['Product Marketing Manager', 'Content Strategist', 'Growth Marketer', 'Brand Designer'], apps: ['Google Workspace', 'Slack', 'Zoom', 'HubSpot', 'Figma', 'Notion'] },
  { name: 'Product', weight: 9, titles: ['Product Manager', 'Product Designer', 'UX Researcher'], apps: ['Google Workspace', 'Slack', 'Zoom', 'Figma', 'Atlassian Cloud', 'Notion'] },
  { name: 'Finance', weight: 7, titles: ['Financial Analyst', 'Controller', 'Accountant'], apps: ['Google Workspace', 'Slack', 'Zoom', 'NetSuite', 'Expensify', 'Box', 'Workday'] },
  { name: 'People', weight: 5, titles: ['People Partner', 'Recruiter', 'People Operations Manager'], apps: ['Google Workspace', 'Slack', 'Zoom', 'Workday', 'Box', 'DocuSign'] },
  { name: 'IT', weight: 4, titles: ['IT Support Specialist', 'IT Systems Engineer'], apps: ['Google Workspace', 'Slack', 'Zoom', 'AWS IAM Identity Center', 'Atlassian Cloud', 'Box', 'Workday', 'Microsoft Office 365'] },
];

const FIRST_NAMES = [
  'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'James', 'Isabella', 'Lucas', 'Mia', 'Mateo',
  'Amelia', 'Ethan', 'Harper', 'Aiden', 'Evelyn', 'Daniel', 'Abigail', 'Henry', 'Emily', 'Sebastian', 'Ella',
  'Jack', 'Camila', 'Samuel', 'Aria', 'David', 'Scarlett', 'Joseph', 'Priya', 'Arjun', 'Wei', 'Mei', 'Hiroshi',
  'Yuki', 'Fatima', 'Omar', 'Aisha', 'Carlos', 'Sofia', 'Diego', 'Lucia', 'Chloe', 'Gabriel', 'Nora', 'Owen',
  'Grace', 'Leo', 'Zoe', 'Isaac', 'Hannah', 'Ravi', 'Ananya', 'Kwame', 'Amara', 'Lars', 'Freya', 'Mateus',
  'Ines', 'Tomasz', 'Katarzyna', 'Niamh', 'Declan', 'Siobhan', 'Felix', 'Clara', 'Jonas', 'Elena', 'Marco',
];
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker',
  'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson',
  'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Patel', 'Shah', 'Chen', 'Wang',
  'Kim', 'Tanaka', 'Sato', 'Okafor', 'Mensah', 'Kowalski', 'Nowak', 'Murphy', "O'Brien", 'Byrne', 'Schmidt',
  'Muller', 'Fischer', 'Rossi', 'Dubois', 'Larsen', 'Silva', 'Costa', 'Haddad', 'Khan', 'Iyer', 'Reddy',
];

const GROUP_NAMES = [
  'Engineering', 'Sales', 'Customer Support', 'Marketing', 'Product', 'Finance', 'People', 'IT',
  'GitHub - Developers', 'AWS - ReadOnly', 'AWS - PowerUsers', 'Salesforce - Users', 'Figma Editors',
  'Zoom Licensed', 'Contractors', 'Managers', 'On-call', 'Office - San Francisco', 'Office - New York', 'Office - London',
];
const POLICY_RULES: readonly [string, string][] = [
  ['Any two factors', 'Catch-all Rule'],
  ['Business Critical Apps', 'Managed devices or MFA'],
  ['Engineering Apps', 'Require MFA every 12 hours'],
  ['Okta Admin Console', 'Admins require phishing-resistant MFA'],
  ['Default Policy', 'Default Rule'],
  ['Okta Dashboard', 'Catch-all Rule'],
];

const DASHBOARD_CLIENT = 'okta.2b1959c8-bcc0-56eb-a589-cfcfb7422f26';
const ADMIN_CONSOLE_CLIENT = 'okta.b58d5b75-07d4-5f25-bf59-368a1261a405';

const BEHAVIOR_NAMES = ['New Geo-Location', 'New Device', 'New IP', 'New State', 'New Country', 'Velocity', 'New City'] as const;
const B_GEO = 1, B_DEVICE = 2, B_IP = 4, B_STATE = 8, B_COUNTRY = 16, B_VELOCITY = 32, B_CITY = 64;

// ───────────────────────────────────────────────────────────────────────────── model

interface Actor {
  id: string; alternateId: string; displayName: string;
  /** Line-mode caches: the actor's JSON, and fixed per-actor fragments (targets). */
  jActor?: string; fx?: Map<unknown, Raw>;
}

interface Device { kind: 'Computer' | 'Mobile' | 'Unknown'; os: string; browser: string; ua: string; dtHash: string | null }

interface Net {
  ip: string; v6: boolean; city: string; state: string; country: string; postal: string; lat: number; lon: number;
  asNumber: number; asOrg: string; isp: string; domain: string; isProxy: boolean; zone: string;
  /** Okta ThreatInsight has flagged the address (debugData.threatSuspected "true" on its requests). */
  threat?: boolean;
  /** Line-mode cache: securityContext and request JSON. */
  j?: { sec: string; req: string };
}

interface App extends AppDef { id: string; policyId: string; ruleId: string; fx?: Map<unknown, Raw> }

interface Seen {
  ips: Set<string>; cities: Set<string>; states: Set<string>; countries: Set<string>; devices: Set<string>;
  lat: number; lon: number; t: number;
}

type UserKind = 'regular' | 'vpn' | 'corpvpn' | 'relay' | 'traveller' | 'dormant';

interface User extends Actor {
  idx: number; first: string; last: string; dept: Dept; title: string;
  admin: boolean; kind: UserKind;
  home: Place; tz: string; homeIsp: Isp; homeNet: Net;
  office: Office | null; officeNets: Net[]; officeDays: number;
  startMin: number; workMin: number;
  computer: Device; mobile: Device | null; mobileNets: Net[];
  mfa: 'push' | 'totp' | 'fastpass';
  apps: App[]; appUserIds: Map<string, string>;
  factors: { password: string; oktaVerify: string; totp: string };
  vpn: ProxyNet | null;
  /** A vpn/relay/corpvpn user's exits; an administrator's corporate VPN egress (used on some days at home). */
  proxyExits: Net[];
  /** A hybrid worker who, on some office days, signs in at home and carries the session to the office. */
  roams: boolean;
  trip: { from: number; to: number; place: Place; net: Net } | null;
  seen: Seen;
}

interface Group { id: string; name: string }
interface Policy { id: string; name: string; ruleId: string; ruleName: string; type: string }

interface Tenant {
  seed: number; org: string; domain: string; days: number; suffix: string;
  winStart: number; winEnd: number; maxEastMs: number;
  users: User[]; admins: User[];
  apps: App[]; appByLabel: Map<string, App>; dashboard: App; adminConsole: App;
  groups: Group[]; policies: Policy[]; gsp: Policy;
  versions: { chrome: number; firefox: number; safari: number };
  /** The attack scenarios' victims (chosen whether or not attacks are generated). */
  cast: Cast;
  /** Session starts of the users whose session a scenario steals (only those users: a handful per day). */
  sessions: Map<User, { t: number; sid: string }[]>;
  dayStart(L: number): number;
  localMidnight(tz: string, L: number): number;
  dateString(L: number): string;
}

/** Planned event: time, tie-break sequence, kind, session context, kind-specific data. */
interface Spec {
  t: number; q: number; k: Kind; s: Sess; x: SpecX | null; id: string | null;
}
interface SpecX {
  ok?: boolean; reason?: string | null; app?: App; target?: Actor; group?: Group; policy?: Policy;
  factor?: 'push' | 'totp' | 'fastpass'; uri?: string; name?: string; tokenId?: string; privilege?: string;
  resourceSet?: { id: string; name: string }; role?: { id: string; name: string };
}

/** A sign-in context: who, from which network and device, in which Okta session. */
interface Sess {
  a: Actor; u: User | null; net: Net; dev: Device; sid: string;
  behaviors: string; logOnly: string; risk: string;
  /** A replayed session cookie: `sid` is the victim's latest session started at or before `before` (set when first emitted). */
  replay?: { user: User; before: number; fallback: string };
  /** Line-mode caches: client JSON per client id, authenticationContext JSON per AuthKind, debugData tail. */
  jClient?: Map<string | null, string>; jAuth?: (string | undefined)[]; jTail?: string;
}

const enum Kind {
  PolicyLogin, PolicyApp, PolicyAdmin, VerifyPassword, VerifyFastPass, PushSent, PushDeny, Mfa,
  SessionStart, SessionStartFail, Sso, SsoAdmin, AdminAppAccess, SessionEnd, AccountLock,
  UnlockEmail, Unlock, PwResetEmail, PwReset, FactorDeactivate, FactorActivate, FactorResetAll,
  PrivilegeGrant, ResourceSetBindingAdd, ApiTokenCreate, GroupAdd, GroupRemove, AppAssign,
  UserCreate, UserActivate, UserDeactivate, AppUpdate, PolicyRuleUpdate,
}

function bySpecTime(a: Spec, b: Spec): number {
  return a.t - b.t || a.q - b.q;
}
function mergeSorted(a: Spec[], b: Spec[]): Spec[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: Spec[] = new Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = bySpecTime(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

// ───────────────────────────────────────────────────────────────────────────── behaviour strings

const behaviorCache = new Map<number, string>();
function behaviorsString(mask: number): string {
  let s = behaviorCache.get(mask);
  if (s === undefined) {
    s = '{' + BEHAVIOR_NAMES.map((n, i) => `${n}=${mask & (1 << i) ? 'POSITIVE' : 'NEGATIVE'}`).join(', ') + '}';
    behaviorCache.set(mask, s);
  }
  return s;
}
function riskLevel(mask: number, proxy: boolean): 'LOW' | 'MEDIUM' | 'HIGH' {
  if (mask === 0) return 'LOW';
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  if ((mask & B_DEVICE && mask & B_COUNTRY) || n >= 5 || (proxy && mask & B_DEVICE)) return 'HIGH';
  return n >= 2 ? 'MEDIUM' : 'LOW';
}
const logOnlyCache = new Map<string, string>();
function logOnlyString(mask: number, level: string): string {
  const key = `${mask}:${level}`;
  let s = logOnlyCache.get(key);
  if (s === undefined) {
    const behaviors: Record<string, string> = {};
    BEHAVIOR_NAMES.forEach((n, i) => (behaviors[n] = mask & (1 << i) ? 'POSITIVE' : 'NEGATIVE'));
    s = JSON.stringify({ risk: { level }, behaviors });
    logOnlyCache.set(key, s);
  }
  return s;
}
function riskString(mask: number, level: string): string {
  if (level === 'LOW') return '{level=LOW}';
  const reasons: string[] = [];
  if (mask & B_DEVICE) reasons.push('Anomalous Device');
  if (mask & (B_GEO | B_CITY | B_STATE | B_COUNTRY)) reasons.push('Anomalous Location');
  if (mask & B_VELOCITY) reasons.push('Impossible Travel');
  if (mask & B_IP && reasons.length === 0) reasons.push('New IP');
  return `{reasons=${reasons.join(', ')}, level=${level}}`;
}

function kmBetween(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 12742 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Okta's user-behaviour flags for a sign-in from `net`/`dev`, then remember them. */
function observe(u: User, net: Net, dev: Device, t: number, remember = true): number {
  const s = u.seen;
  let mask = 0;
  if (!s.ips.has(net.ip)) mask |= B_IP;
  if (dev.dtHash && !s.devices.has(dev.dtHash)) mask |= B_DEVICE;
  if (!s.countries.has(net.country)) mask |= B_COUNTRY;
  if (!s.states.has(`${net.country}/${net.state}`)) mask |= B_STATE;
  if (!s.cities.has(`${net.country}/${net.city}`)) mask |= B_CITY | B_GEO;
  if (s.t > 0) {
    const km = kmBetween(s.lat, s.lon, net.lat, net.lon);
    const hours = Math.max((t - s.t) / HOUR, 1 / 60);
    if (km > 300 && km / hours > 805) mask |= B_VELOCITY;
  }
  if (remember) {
    s.ips.add(net.ip);
    if (dev.dtHash) s.devices.add(dev.dtHash);
    s.countries.add(net.country);
    s.states.add(`${net.country}/${net.state}`);
    s.cities.add(`${net.country}/${net.city}`);
    s.lat = net.lat;
    s.lon = net.lon;
    s.t = t;
  }
  return mask;
}

// ───────────────────────────────────────────────────────────────────────────── tenant

function ipFrom(rng: Rng, prefix: string, v6: boolean): string {
  if (v6) {
    let s = prefix;
    for (let i = 0; i < 6; i++) s += ':' + (rng.u32() & 0xffff).toString(16);
    return s;
  }
  const parts = prefix.split('.').length;
  let s = prefix;
  for (let i = parts; i < 4; i++) s += '.' + (i === 3 ? 2 + rng.int(252) : rng.int(256));
  return s;
}

function makeNet(rng: Rng, p: Place, ispDef: { asNumber: number; asOrg: string; isp: string; domain: string }, ip: string, v6: boolean, isProxy: boolean, zone = 'null'): Net {
  return {
    ip, v6, city: p.city, state: p.state, country: p.country, postal: rng.pick(p.postal),
    lat: Math.round((p.lat + rng.range(-0.04, 0.04)) * 10000) / 10000,
    lon: Math.round((p.lon + rng.range(-0.04, 0.04)) * 10000) / 10000,
    asNumber: ispDef.asNumber, asOrg: ispDef.asOrg, isp: ispDef.isp, domain: ispDef.domain, isProxy, zone,
  };
}
function ispNet(rng: Rng, p: Place, i: Isp): Net {
  return makeNet(rng, p, i, ipFrom(rng, rng.pick(i.prefixes), !!i.v6), !!i.v6, false);
}
function proxyNet(rng: Rng, p: Place, n: ProxyNet): Net {
  return makeNet(rng, p, n, ipFrom(rng, rng.pick(n.prefixes), false), false, true);
}

function computerFor(rng: Rng, v: Tenant['versions'], dept: Dept): Device {
  const mac = 'Macintosh; Intel Mac OS X 10_15_7';
  const win = 'Windows NT 10.0; Win64; x64';
  const chrome = (os: string) => `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome}.0.0.0 Safari/537.36`;
  const choice = rng.weighted<string>(
    dept.name === 'Engineering'
      ? [['mac-chrome', 55], ['mac-firefox', 12], ['mac-safari', 8], ['linux-chrome', 12], ['linux-firefox', 5], ['win-chrome', 8]]
      : [['mac-chrome', 40], ['mac-safari', 15], ['win-chrome', 20], ['win-edge', 20], ['mac-firefox', 5]],
  );
  const dtHash = hexStr(rng, 64);
  switch (choice) {
    case 'mac-firefox':
      return { kind: 'Computer', os: 'Mac OS X', browser: 'FIREFOX', ua: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${v.firefox}.0) Gecko/20100101 Firefox/${v.firefox}.0`, dtHash };
    case 'mac-safari':
      return { kind: 'Computer', os: 'Mac OS X', browser: 'SAFARI', ua: `Mozilla/5.0 (${mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v.safari}.1 Safari/605.1.15`, dtHash };
    case 'linux-chrome':
      return { kind: 'Computer', os: 'Linux', browser: 'CHROME', ua: chrome('X11; Linux x86_64'), dtHash };
    case 'linux-firefox':
      return { kind: 'Computer', os: 'Linux', browser: 'FIREFOX', ua: `Mozilla/5.0 (X11; Linux x86_64; rv:${v.firefox}.0) Gecko/20100101 Firefox/${v.firefox}.0`, dtHash };
    case 'win-chrome':
      return { kind: 'Computer', os: 'Windows 10', browser: 'CHROME', ua: chrome(win), dtHash };
    case 'win-edge':
      return { kind: 'Computer', os: 'Windows 10', browser: 'EDGE', ua: `${chrome(win)} Edg/${v.chrome}.0.0.0`, dtHash };
    default:
      return { kind: 'Computer', os: 'Mac OS X', browser: 'CHROME', ua: chrome(mac), dtHash };
  }
}
function phoneFor(rng: Rng, v: Tenant['versions']): Device {
  const dtHash = hexStr(rng, 64);
  if (rng.chance(0.6)) {
    return { kind: 'Mobile', os: 'iOS', browser: 'SAFARI', ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1', dtHash };
  }
  return { kind: 'Mobile', os: 'Android', browser: 'CHROME', ua: `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome}.0.0.0 Mobile Safari/537.36`, dtHash };
}

function buildTenant(opts: TenantOptions): Tenant {
  if (!Number.isFinite(opts.seed)) throw new Error('generateTenant: seed must be a number');
  if (!Number.isInteger(opts.users) || opts.users < 1) throw new Error('generateTenant: users must be a positive integer');
  if (!Number.isInteger(opts.days) || opts.days < 1) throw new Error('generateTenant: days must be a positive integer');
  const org = (opts.org || 'acme').toLowerCase().replace(/[^a-z0-9-]/g, '') || 'acme';
  const seed = mix(Math.floor(opts.seed), 0x51ed);
  const rng = new Rng(mix(seed, 1));
  const winStart = parseStart(opts.start);
  const winEnd = winStart + opts.days * DAY;
  const suffix = chars(rng, 3, B62);
  const versions = browserVersions(winStart);
  const id = (prefix: string) => oktaId(rng, prefix, suffix);

  const midnightCache = new Map<string, number>();
  const dayStart = (L: number) => winStart + L * DAY;
  const localMidnight = (tz: string, L: number) => {
    const k = `${tz}|${L}`;
    let v = midnightCache.get(k);
    if (v === undefined) {
      const d = dayStart(L);
      v = d - tzOffsetMs(tz, d + 12 * HOUR);
      midnightCache.set(k, v);
    }
    return v;
  };
  const dateString = (L: number) => new Date(dayStart(L)).toISOString().slice(0, 10);

  // Applications, policies, groups.
  const apps: App[] = APP_DEFS.map((d) => ({ ...d, id: id('0oa'), policyId: '', ruleId: '' }));
  const dashboard: App = { label: 'Okta Dashboard', name: 'okta_enduser', mode: 'OPENID_CONNECT', policy: 'Okta Dashboard', rule: 'Catch-all Rule', id: id('0oa'), policyId: '', ruleId: '' };
  const adminConsole: App = { label: 'Okta Admin Console', name: 'saasure', mode: 'OPENID_CONNECT', policy: 'Okta Admin Console', rule: 'Admins require phishing-resistant MFA', id: id('0oa'), policyId: '', ruleId: '' };
  const policies: Policy[] = POLICY_RULES.map(([name, rule]) => ({ id: id('00p'), name, ruleId: id('0pr'), ruleName: rule, type: name === 'Default Policy' ? 'OKTA_SIGN_ON' : 'ACCESS_POLICY' }));
  for (const a of [...apps, dashboard, adminConsole]) {
    const p = policies.find((x) => x.name === a.policy)!;
    a.policyId = p.id;
    a.ruleId = p.ruleId;
  }
  const gsp = policies.find((p) => p.name === 'Default Policy')!;
  const groups: Group[] = GROUP_NAMES.map((name) => ({ id: id('00g'), name }));
  const appByLabel = new Map(apps.map((a) => [a.label, a] as const));

  // Users.
  const nUsers = opts.users;
  const nAdmins = nUsers >= 4 ? 2 : 1;
  const usedNames = new Set<string>();
  const users: User[] = [];
  const homePlan: readonly (readonly [string, number])[] = [
    ['office:0', 34], ['office:1', 20], ['office:2', 14], ['remote:US', 16], ['remote:CA', 3], ['remote:EU', 8], ['remote:APAC', 5],
  ];
  const remote: Record<string, readonly PlaceKey[]> = {
    US: ['seattle', 'portland', 'denver', 'austin', 'chicago', 'minneapolis', 'boston', 'atlanta', 'raleigh', 'miami', 'la', 'dallas'],
    CA: ['toronto', 'vancouver'],
    EU: ['berlin', 'munich', 'dublin', 'paris', 'amsterdam', 'manchester', 'edinburgh'],
    APAC: ['bengaluru', 'sydney', 'singapore'],
  };
  const nearOffice: readonly (readonly PlaceKey[])[] = [['sf', 'sf', 'oakland', 'sanjose'], ['nyc', 'brooklyn', 'jerseycity'], ['london', 'london']];

  for (let i = 0; i < nUsers; i++) {
    let first = '', last = '', name = '';
    for (let tries = 0; ; tries++) {
      first = rng.pick(FIRST_NAMES);
      last = rng.pick(LAST_NAMES);
      name = tries > 50 ? `${first} ${last} ${tries}` : `${first} ${last}`;
      if (!usedNames.has(name)) break;
    }
    usedNames.add(name);
    const local = (first + '.' + last).toLowerCase().replace(/[^a-z.]/g, '') + (name.split(' ').length > 2 ? name.split(' ')[2] : '');
    const email = `${local}@${org}.com`;
    const admin = i < nAdmins;
    const dept = admin ? DEPTS.find((d) => d.name === 'IT')! : rng.weighted(DEPTS.map((d) => [d, d.weight] as const));
    const title = admin ? (i === 0 ? 'IT Manager' : 'Senior IT Systems Engineer') : rng.pick(dept.titles);
    const where = admin ? `office:${i === 0 ? 0 : 1}` : rng.weighted(homePlan);
    let home: Place;
    let office: Office | null = null;
    if (where.startsWith('office:')) {
      const oi = Number(where.slice(7));
      office = OFFICES[oi]!;
      home = PLACES[rng.pick(nearOffice[oi]!)];
    } else {
      home = PLACES[rng.pick(remote[where.slice(7)]!)];
    }
    const homeIsp = rng.pick(HOME_ISPS[home.cc]!);
    const homeNet = ispNet(rng, home, homeIsp);
    let officeDays = 0;
    if (office) {
      const pattern = rng.weighted<number[]>([[[2, 3, 4], 40], [[1, 2, 3, 4], 25], [[1, 2, 3, 4, 5], 15], [[2, 4], 20]]);
      for (const d of pattern) officeDays |= 1 << d;
    }
    const officeNets = office
      ? [0, 1, 2].map((k) => makeNet(rng, office!.place, office!.net, office!.ipBase + (17 + k), false, false, OFFICE_ZONE))
      : [];
    const computer = computerFor(rng, versions, dept);
    const hasPhone = rng.chance(0.55);
    const mobile = hasPhone ? phoneFor(rng, versions) : null;
    const mobileIsp = hasPhone ? rng.pick(MOBILE_ISPS[home.cc] ?? HOME_ISPS[home.cc]!) : null;
    const mobileNets = mobileIsp ? [0, 1, 2].map(() => ispNet(rng, home, mobileIsp)) : [];
    const mfa = admin ? 'fastpass' : rng.weighted<User['mfa']>([['push', 60], ['totp', 14], ['fastpass', 26]]);
    const appLabels = dept.apps.filter(() => rng.chance(0.92));
    if (!appLabels.includes('Slack')) appLabels.push('Slack');
    if (rng.chance(0.3)) appLabels.push('Workday');
    if (rng.chance(0.25)) appLabels.push('Expensify');
    const userApps = [...new Set(appLabels)].map((l) => appByLabel.get(l)!);
    const startMin = Math.round(Math.min(10.5 * 60, Math.max(7 * 60, rng.normal(8.9 * 60, 40))));
    const workMin = Math.round(Math.min(10.5 * 60, Math.max(7 * 60, rng.normal(8.6 * 60, 35))));
    const u: User = {
      idx: i, id: id('00u'), alternateId: email, displayName: name, first, last, dept, title, admin, kind: 'regular',
      home, tz: home.tz, homeIsp, homeNet, office, officeNets, officeDays, startMin, workMin,
      computer, mobile, mobileNets, mfa, apps: userApps, appUserIds: new Map(),
      factors: { password: id('lae'), oktaVerify: id('pfd'), totp: id('ost') },
      vpn: null, proxyExits: [], roams: false, trip: null,
      seen: { ips: new Set(), cities: new Set(), states: new Set(), countries: new Set(), devices: new Set(), lat: 0, lon: 0, t: 0 },
    };
    for (const a of userApps) u.appUserIds.set(a.label, id('0ua'));
    users.push(u);
  }
  const admins = users.slice(0, nAdmins);

  // Special populations among non-admins.
  const pool = rng.shuffle(users.filter((u) => !u.admin).map((u) => u.idx));
  const take = (n: number) => pool.splice(0, Math.min(n, pool.length)).map((i) => users[i]!);
  const nAfterAdmins = nUsers - nAdmins;
  const dormant = take(nAfterAdmins >= 3 ? Math.max(1, Math.round(nUsers * 0.02)) : 0);
  for (const u of dormant) {
    u.kind = 'dormant';
    u.title = 'Contractor';
  }
  const vpnUsers = take(nAfterAdmins >= 5 ? Math.max(2, Math.round(nUsers * 0.02)) : nAfterAdmins >= 2 ? 1 : 0);
  for (const u of vpnUsers) {
    u.kind = 'vpn';
    u.vpn = rng.pick(VPN_PROVIDERS);
    const exits = VPN_EXITS[u.home.cc] ?? ['amsterdam'];
    u.proxyExits = [0, 1, 2, 3, 4].map((k) => proxyNet(rng, PLACES[k < 3 ? exits[0]! : rng.pick(exits)], u.vpn!));
  }
  const relayUsers = take(nAfterAdmins >= 6 ? Math.max(1, Math.round(nUsers * 0.015)) : 0);
  for (const u of relayUsers) {
    u.kind = 'relay';
    u.computer = { kind: 'Computer', os: 'Mac OS X', browser: 'SAFARI', ua: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${versions.safari}.1 Safari/605.1.15`, dtHash: u.computer.dtHash };
    // Private Relay hands out egress addresses of one operator near the user, rotating often.
    const operator = rng.pick(PRIVATE_RELAY);
    u.proxyExits = [0, 1, 2, 3].map(() => proxyNet(rng, u.home, operator));
  }
  const travellers = take(nAfterAdmins >= 7 ? Math.max(1, Math.round(nUsers * 0.01)) : 0);
  const destinations: PlaceKey[] = ['london', 'tokyo', 'nyc', 'berlin', 'toronto', 'sydney', 'paris', 'singapore'];
  for (const u of travellers) {
    u.kind = 'traveller';
    const dest = PLACES[rng.pick(destinations.filter((k) => PLACES[k].cc !== u.home.cc))];
    const from = opts.days <= 3 ? 0 : Math.min(opts.days - 2, 1 + rng.int(Math.max(1, Math.floor(opts.days / 2))));
    const to = Math.min(opts.days - 1, from + 1 + rng.int(3));
    u.trip = { from, to, place: dest, net: ispNet(rng, dest, HOME_ISPS[dest.cc]![0]!) };
  }
  // Remote staff whose laptops run the company's always-on VPN: every sign-in leaves through
  // acme's dedicated egress addresses in the nearest region, which Okta flags as a proxy.
  const corpVpnUsers = take(nAfterAdmins >= 8 ? Math.max(2, Math.round(nUsers * 0.05)) : 0);
  for (const u of corpVpnUsers) {
    u.kind = 'corpvpn';
    const egress = corporateEgressFor(u.home);
    u.proxyExits = [0, 1].map((k) => makeNet(rng, PLACES[egress.place], CORPORATE_VPN, `${egress.base}${egress.first + k}`, false, true));
  }

  // From a stream of their own (the population above does not depend on them): the administrators'
  // corporate VPN egress, for the days they work from home, and the hybrid workers who sign in at
  // home and carry the laptop's session to the office (about 5 % of office staff).
  const xr = new Rng(mix(seed, 7));
  for (const u of admins) {
    const egress = corporateEgressFor(u.home);
    u.proxyExits = [0, 1].map((k) => makeNet(xr, PLACES[egress.place], CORPORATE_VPN, `${egress.base}${egress.first + k}`, false, true));
  }
  for (const u of users) if (u.office && !u.admin && u.kind === 'regular' && xr.chance(0.05)) u.roams = true;

  // History Okta has from before the window: home, office, phone, habitual proxy exits.
  for (const u of users) {
    const s = u.seen;
    const nets = [u.homeNet, ...u.officeNets, ...u.mobileNets, ...u.proxyExits.slice(0, 2)];
    for (const n of nets) {
      s.ips.add(n.ip);
      s.cities.add(`${n.country}/${n.city}`);
      s.states.add(`${n.country}/${n.state}`);
      s.countries.add(n.country);
    }
    if (u.computer.dtHash) s.devices.add(u.computer.dtHash);
    if (u.mobile?.dtHash) s.devices.add(u.mobile.dtHash);
  }

  let maxEastMs = 0;
  for (const tz of new Set(users.map((u) => u.tz).concat(users.filter((u) => u.trip).map((u) => u.trip!.place.tz)))) {
    maxEastMs = Math.max(maxEastMs, tzOffsetMs(tz, winStart), tzOffsetMs(tz, winEnd));
  }

  const cast = castVictims({ seed, users, admins });
  return {
    seed, org, domain: `${org}.com`, days: opts.days, suffix, winStart, winEnd, maxEastMs,
    users, admins, apps, appByLabel, dashboard, adminConsole, groups, policies, gsp, versions,
    cast, sessions: new Map([[cast.replayVictim, []]]),
    dayStart, localMidnight, dateString,
  };
}

// ───────────────────────────────────────────────────────────────────────────── planner (benign traffic)

/** API tokens administrators create for integrations (named after the service that uses them). */
const INTEGRATION_TOKENS = ['Workday provisioning', 'Jamf Pro sync', 'ServiceNow user sync', 'Terraform okta provider', 'SIEM log export'];
/** Administrator roles delegated to IT staff. */
const DELEGATED_ROLES = ['Help Desk Administrator', 'Read-only Administrator', 'Group Membership Administrator'];

class Planner {
  private q = 0;
  private out: Spec[] = [];
  /** Time of the last sign-in's user.session.start. */
  private lastT = 0;
  private readonly T: Tenant;
  private readonly rng: Rng;
  private readonly sidRng: Rng;
  /**
   * The stream of the occasional benign look-alikes of the attacks' later steps: administrators on
   * the corporate VPN, integration tokens, role grants and factor resets, sessions carried from home
   * to the office. Its own, so that drawing them does not reshuffle the rest of the day.
   */
  private readonly xr: Rng;
  constructor(T: Tenant, rng: Rng) {
    this.T = T;
    this.rng = rng;
    this.sidRng = new Rng(mix(T.seed, 5));
    this.xr = new Rng(mix(T.seed, 8));
  }

  private push(t: number, k: Kind, s: Sess, x: SpecX | null = null): void {
    this.out.push({ t: Math.round(t), q: this.q++, k, s, x, id: null });
  }

  private session(u: User, net: Net, dev: Device, t: number): Sess {
    const mask = observe(u, net, dev, t);
    const level = riskLevel(mask, net.isProxy);
    const sid = '102' + chars(this.sidRng, 22, SID_CHARS);
    this.T.sessions.get(u)?.push({ t, sid });
    return { a: u, u, net, dev, sid, behaviors: behaviorsString(mask), logOnly: logOnlyString(mask, level), risk: riskString(mask, level) };
  }

  /** Plan local calendar day L (−1 … days) for every user; returns the day's specs (unsorted). */
  planLocalDay(L: number): Spec[] {
    this.out = [];
    const T = this.T;
    const dow = new Date(T.dayStart(L)).getUTCDay();
    const workday = dow >= 1 && dow <= 5;
    for (const u of T.users) {
      if (u.kind === 'dormant') continue;
      this.planUserDay(u, L, dow, workday);
    }
    return this.out;
  }

  private networkFor(u: User, L: number, dow: number, workday: boolean): { net: Net; tz: string } {
    const r = this.rng;
    if (u.trip && L >= u.trip.from && L <= u.trip.to) return { net: u.trip.net, tz: u.trip.place.tz };
    if (u.kind === 'vpn') {
      // Habitual exit most days, another exit of the same provider now and then.
      const n = r.chance(0.7) ? u.proxyExits[r.int(2)]! : r.pick(u.proxyExits);
      return { net: n, tz: u.tz };
    }
    if (u.kind === 'relay' || u.kind === 'corpvpn') return { net: r.pick(u.proxyExits), tz: u.tz };
    if (workday && u.office && u.officeDays & (1 << dow) && r.chance(0.85)) return { net: r.pick(u.officeNets), tz: u.tz };
    if (r.chance(0.012)) {
      // The home router got a new lease from the ISP.
      const { j: _cached, ...h } = u.homeNet;
      u.homeNet = { ...h, ip: ipFrom(r, r.pick(u.homeIsp.prefixes), false) };
    }
    // An administrator working from home connects through the corporate VPN on most of those days.
    if (u.admin && workday && u.proxyExits.length > 0 && this.xr.chance(0.75)) return { net: this.xr.pick(u.proxyExits), tz: u.tz };
    return { net: u.homeNet, tz: u.tz };
  }

  private planUserDay(u: User, L: number, dow: number, workday: boolean): void {
    const r = this.rng;
    const T = this.T;
    // VPN and Private Relay users are in every working day: their proxied sign-ins are daily noise.
    const habitual = u.kind === 'vpn' || u.kind === 'relay' || u.kind === 'corpvpn';
    const active = workday ? habitual || r.chance(u.admin ? 0.97 : 0.93) : r.chance(0.12);
    if (!active) return;
    const { net, tz } = this.networkFor(u, L, dow, workday);
    const midnight = T.localMidnight(tz, L);
    const startMin = workday ? u.startMin + r.normal(0, 14) : r.range(10 * 60, 20 * 60);
    let t = midnight + Math.max(5 * 60, startMin) * MIN + r.int(60_000);
    const workLen = workday ? (u.workMin + r.normal(0, 25)) * MIN : r.range(15, 90) * MIN;
    const dayEnd = t + workLen;
    const dev = u.computer;

    // Forgotten password → self-service reset before signing in.
    if (r.chance(0.003)) t = this.passwordReset(u, net, dev, t);
    // Mistyped password(s), or a lockout and self-service unlock.
    if (r.chance(0.0025)) t = this.lockout(u, net, dev, t);
    else if (r.chance(0.035)) {
      const n = r.chance(0.8) ? 1 : 2;
      for (let i = 0; i < n; i++) t = this.failedSignIn(u, net, dev, t, 'INVALID_CREDENTIALS');
    }

    // A hybrid worker's office day that starts at home: the laptop signs in on the home network and
    // the same Okta session goes on from the office network (another ASN) after the commute.
    const commute = u.roams && net.zone === OFFICE_ZONE && this.xr.chance(0.35) ? { at: t + this.xr.range(40, 100) * MIN, net } : null;
    let s = this.signIn(u, commute ? u.homeNet : net, dev, t, u.mfa, false);
    t = this.lastT;
    const atHome = s;
    const atOffice: Sess | null = commute ? { a: u, u, net: commute.net, dev, sid: s.sid, behaviors: s.behaviors, logOnly: s.logOnly, risk: s.risk } : null;

    // Phone replaced: old Okta Verify enrolment removed, new one set up.
    if (u.mfa !== 'totp' && r.chance(0.002)) {
      t += r.range(2, 20) * MIN;
      this.push(t, Kind.FactorDeactivate, s, { target: u, reason: 'User reset OKTA_VERIFY_PUSH factor' });
      this.push(t + r.range(60, 300) * 1000, Kind.FactorActivate, s, { target: u });
    }

    // Admin console and admin work.
    if (u.admin && workday) {
      this.adminWork(u, s, t + r.range(2, 40) * MIN, dayEnd);
      this.occasionalAdminWork(s, t + 5 * MIN, dayEnd);
    }

    // Application SSO through the day; some people's session expires after lunch.
    const relogAt = workday && r.chance(0.2) ? t + workLen * r.range(0.45, 0.65) : Infinity;
    let relogged = false;
    const nSso = workday ? 3 + r.int(6) : 1 + r.int(2);
    const times: number[] = [t + r.range(4, 120) * 1000];
    for (let i = 1; i < nSso; i++) times.push(t + r.next() * workLen);
    times.sort((a, b) => a - b);
    for (const at of times) {
      if (!relogged && at > relogAt) {
        relogged = true;
        s = this.signIn(u, net, dev, relogAt, u.mfa, false);
      }
      const app = r.pick(u.apps);
      // Still the morning's session: from the office once the commute is over.
      const from = s === atHome && atOffice && at >= commute!.at ? atOffice : s;
      this.sso(from, app, Math.max(at, relogged ? this.lastT : at));
    }
    if (r.chance(0.35)) this.push(dayEnd + r.range(0, 20) * MIN, Kind.SessionEnd, s === atHome && atOffice ? atOffice : s);

    // Phone sign-in (Slack/Google on the go), from the carrier network (or Private Relay).
    if (u.mobile && r.chance(workday ? 0.12 : 0.2) && u.mobileNets.length && u.kind !== 'vpn' && u.kind !== 'traveller') {
      const mnet = u.kind === 'relay' ? r.pick(u.proxyExits) : r.pick(u.mobileNets);
      const mt = midnight + r.range(7 * 60, 22 * 60) * MIN;
      const ms = this.signIn(u, mnet, u.mobile, mt, u.mfa === 'totp' ? 'totp' : 'push', true);
      const app = mobileApp(u, r);
      this.sso(ms, app, this.lastT + r.range(2, 30) * 1000);
    }
  }

  /** policy → (password) → (push) → MFA → session.start. Returns the session; `lastT` is its start. */
  private signIn(u: User, net: Net, dev: Device, t: number, mfa: User['mfa'], mobile: boolean): Sess {
    const r = this.rng;
    const s = this.session(u, net, dev, t);
    const app = this.T.dashboard;
    this.push(t, Kind.PolicyLogin, s, { app, ok: mfa === 'fastpass' });
    t += r.range(0.3, 2) * 1000;
    if (mfa === 'fastpass') {
      t += r.range(0.5, 3) * 1000;
      this.push(t, Kind.VerifyFastPass, s, { app });
      t += r.range(0.2, 1) * 1000;
    } else {
      t += r.range(3, 12) * 1000;
      this.push(t, Kind.VerifyPassword, s, { ok: true, app });
      if (mfa === 'push') {
        t += r.range(0.2, 1) * 1000;
        this.push(t, Kind.PushSent, s, { app });
        t += r.range(3, mobile ? 8 : 25) * 1000;
      } else {
        t += r.range(8, 30) * 1000;
      }
    }
    this.push(t, Kind.Mfa, s, { factor: mfa, ok: true, app });
    t += r.range(0.1, 0.9) * 1000;
    this.push(t, Kind.SessionStart, s, { ok: true, uri: mfa === 'totp' ? '/idp/idx/challenge/answer' : '/idp/idx/authenticators/poll' });
    this.lastT = t;
    return s;
  }

  private failedSessionCtx(u: User, net: Net, dev: Device): Sess {
    return { a: u, u, net, dev, sid: 'unknown', behaviors: behaviorsString(0), logOnly: logOnlyString(0, 'LOW'), risk: '{level=LOW}' };
  }

  private failedSignIn(u: User, net: Net, dev: Device, t: number, reason: string): number {
    const s = this.failedSessionCtx(u, net, dev);
    this.push(t, Kind.SessionStartFail, s, { reason, uri: '/idp/idx/identify' });
    return t + this.rng.range(6, 40) * 1000;
  }

  private lockout(u: User, net: Net, dev: Device, t: number): number {
    const r = this.rng;
    for (let i = 0; i < 5; i++) t = this.failedSignIn(u, net, dev, t, 'INVALID_CREDENTIALS');
    const s = this.failedSessionCtx(u, net, dev);
    this.push(t, Kind.SessionStartFail, s, { reason: 'LOCKED_OUT', uri: '/idp/idx/identify' });
    this.push(t + r.range(20, 400), Kind.AccountLock, s);
    t += r.range(2, 15) * MIN;
    this.push(t, Kind.UnlockEmail, s);
    t += r.range(1, 6) * MIN;
    this.push(t, Kind.Unlock, s);
    return t + r.range(20, 90) * 1000;
  }

  private passwordReset(u: User, net: Net, dev: Device, t: number): number {
    const r = this.rng;
    const s = this.failedSessionCtx(u, net, dev);
    this.push(t, Kind.PwResetEmail, s);
    t += r.range(1, 8) * MIN;
    this.push(t, Kind.PwReset, s);
    return t + r.range(10, 60) * 1000;
  }

  private sso(s: Sess, app: App, t: number): void {
    this.push(t, Kind.PolicyApp, s, { app });
    this.push(t + this.rng.range(0.1, 0.8) * 1000, Kind.Sso, s, { app });
  }

  private adminWork(u: User, s: Sess, t: number, dayEnd: number): void {
    const r = this.rng;
    const T = this.T;
    this.push(t, Kind.PolicyAdmin, s, { app: T.adminConsole });
    this.push(t + r.range(0.2, 1) * 1000, Kind.SsoAdmin, s, { app: T.adminConsole });
    this.push(t + r.range(1.5, 4) * 1000, Kind.AdminAppAccess, s, { app: T.adminConsole });
    const n = (u.idx === 0 ? 2 : 1) + r.int(u.idx === 0 ? 5 : 3);
    const span = Math.max(10 * MIN, dayEnd - t);
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(t + 30_000 + r.next() * span);
    times.sort((a, b) => a - b);
    const active = T.users.filter((x) => x.kind !== 'dormant');
    for (const at of times) {
      const task = r.weighted<string>([['group-add', 38], ['app-assign', 22], ['group-remove', 10], ['onboard', 6], ['offboard', 4], ['app-update', 5], ['policy-rule', 2]]);
      const target = r.pick(active);
      switch (task) {
        case 'group-add':
          this.push(at, Kind.GroupAdd, s, { target, group: r.pick(T.groups) });
          break;
        case 'group-remove':
          this.push(at, Kind.GroupRemove, s, { target, group: r.pick(T.groups) });
          break;
        case 'app-assign':
          this.push(at, Kind.AppAssign, s, { target, app: r.pick(T.apps) });
          break;
        case 'onboard': {
          const hire = this.person();
          this.push(at, Kind.UserCreate, s, { target: hire });
          this.push(at + r.range(2, 15) * 1000, Kind.UserActivate, s, { target: hire });
          this.push(at + r.range(20, 60) * 1000, Kind.GroupAdd, s, { target: hire, group: r.pick(T.groups.slice(0, 8)) });
          break;
        }
        case 'offboard':
          this.push(at, Kind.UserDeactivate, s, { target: this.person() });
          break;
        case 'app-update':
          this.push(at, Kind.AppUpdate, s, { app: r.pick(T.apps) });
          break;
        default:
          this.push(at, Kind.PolicyRuleUpdate, s, { policy: r.pick(T.policies.filter((p) => p.name !== 'Okta Admin Console')) });
      }
    }
  }

  /**
   * Rarer administration that the attacks also do, on a few admin days: an API token for an
   * integration, an administrator role for a new IT colleague, all factors reset for a user who
   * lost a phone (done from wherever the admin works that day, the corporate VPN included).
   */
  private occasionalAdminWork(s: Sess, from: number, dayEnd: number): void {
    const x = this.xr;
    const T = this.T;
    const at = () => from + x.next() * Math.max(10 * MIN, dayEnd - from);
    if (x.chance(0.07)) this.push(at(), Kind.ApiTokenCreate, s, { tokenId: oktaId(x, '00T', T.suffix), name: x.pick(INTEGRATION_TOKENS) });
    if (x.chance(0.04)) {
      const it = T.users.filter((u) => !u.admin && u.kind !== 'dormant' && u.dept.name === 'IT');
      if (it.length > 0) this.push(at(), Kind.PrivilegeGrant, s, { target: x.pick(it), privilege: x.pick(DELEGATED_ROLES) });
    }
    if (x.chance(0.1)) {
      const lost = T.users.filter((u) => !u.admin && u.kind !== 'dormant' && u.mfa !== 'totp');
      if (lost.length > 0) this.push(at(), Kind.FactorResetAll, s, { target: x.pick(lost) });
    }
  }

  /** Someone outside the active population: a new hire or a leaver. */
  private person(): Actor {
    const r = this.rng;
    const first = r.pick(FIRST_NAMES);
    const last = r.pick(LAST_NAMES);
    return {
      id: oktaId(r, '00u', this.T.suffix),
      alternateId: `${(first + '.' + last).toLowerCase().replace(/[^a-z.]/g, '')}${r.chance(0.3) ? 2 + r.int(8) : ''}@${this.T.domain}`,
      displayName: `${first} ${last}`,
    };
  }
}


function mobileApp(u: User, r: Rng): App {
  const preferred = u.apps.filter((a) => a.label === 'Slack' || a.label === 'Google Workspace');
  return r.pick(preferred.length ? preferred : u.apps);
}

// ───────────────────────────────────────────────────────────────────────────── uuids

class UuidSource {
  private sub = 0;
  private readonly nodes: { node: string; clock: number }[];
  private readonly rng: Rng;
  private readonly base: number;
  /** `base` 0 or 5000 keeps two sources (benign, attack) from ever sharing a 100-ns tick. */
  constructor(rng: Rng, base: number) {
    this.rng = rng;
    this.base = base;
    this.nodes = Array.from({ length: 8 }, () => ({ node: hexStr(rng, 12), clock: rng.u32() & 0x3fff }));
  }
  next(ms: number): string {
    this.sub = (this.sub + 1) % 5000;
    const n = this.nodes[this.rng.u32() & 7]!;
    return uuidV1(ms, this.base + this.sub, n.clock, n.node);
  }
}

// ───────────────────────────────────────────────────────────────────────────── attack scenarios

/** Who the attacks hit, chosen once per tenant from its own stream (independent of what is selected). */
interface Cast {
  stuffing: User; torVictim: User; backdoor: User; geoVictim: User; replayVictim: User; tokenVictim: User;
}

function castVictims(T: Pick<Tenant, 'seed' | 'users' | 'admins'>): Cast {
  const r = new Rng(mix(T.seed, 4, 0));
  const admins = T.admins;
  const regulars = r.shuffle(T.users.filter((u) => u.kind === 'regular' && !u.admin));
  const others = T.users.filter((u) => !u.admin && u.kind !== 'dormant' && !regulars.includes(u));
  const pool = [...regulars, ...others, ...T.users];
  let next = 0;
  const pick = (prefer: (u: User) => boolean = () => true): User => {
    const i = pool.findIndex((u, k) => k >= next && prefer(u));
    const j = i >= 0 ? i : Math.min(next, pool.length - 1);
    const u = pool[j]!;
    // Move the chosen user in front of the cursor so the next pick takes someone else.
    pool.splice(j, 1);
    pool.splice(next, 0, u);
    next = Math.min(next + 1, pool.length - 1);
    return u;
  };
  const stuffing = pick((u) => u.mfa === 'push');
  // A profile placed to its state or province (oktopus knows these countries' regions; a profile
  // known only to its country gives no distance for the geolocation-mismatch rule).
  const geoVictim = pick((u) => (u.mfa === 'totp' || u.mfa === 'push') && REGION_PROFILE_COUNTRIES.has(u.home.cc));
  const replayVictim = pick();
  const torVictim = admins[admins.length - 1]!;
  const tokenVictim = admins[0]!;
  const backdoor = T.users.find((u) => u.kind === 'dormant') ?? T.users.find((u) => !u.admin && u !== stuffing) ?? torVictim;
  return { stuffing, torVictim, backdoor, geoVictim, replayVictim, tokenVictim };
}

/** Countries whose profile state oktopus's enrichment places to a region (src/enrich/geo.ts). */
const REGION_PROFILE_COUNTRIES = new Set(['US', 'CA', 'GB', 'IE', 'DE', 'AU', 'SG']);

export const SCENARIO_IDS = ['credential-stuffing', 'tor-takeover', 'residential-proxy-geo-mismatch', 'session-replay', 'api-token-after-proxy'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** One key moment of a scenario, for the README and the docs. */
export interface TimelineEntry { published: string; eventType: string; detail: string }

interface ScenarioPlan {
  truth: TruthScenario;
  timeline: TimelineEntry[];
  specs: Spec[];
}

/** Tie-break sequence numbers of scenario `i`'s specs: STORY_Q0 + i * STORY_Q_SPAN onwards (benign specs count from 0). */
const STORY_Q0 = -1_000_000;
const STORY_Q_SPAN = 100_000;
/** The index of the scenario that planned an attack spec, from its tie-break sequence number. */
const storyIndex = (q: number): number => Math.floor((q - STORY_Q0) / STORY_Q_SPAN);

/** The stream, ids and clock of one scenario. */
class Story {
  readonly r: Rng;
  readonly specs: Spec[] = [];
  readonly timeline: TimelineEntry[] = [];
  private readonly uuids: UuidSource;
  private q: number;
  constructor(T: Tenant, index: number) {
    this.r = new Rng(mix(T.seed, 4, index + 1));
    this.uuids = new UuidSource(this.r, 5000);
    // Scenario specs sort before benign specs planned for the same millisecond.
    this.q = STORY_Q0 + index * STORY_Q_SPAN;
  }
  add(t: number, k: Kind, s: Sess, x: SpecX | null = null): Spec {
    const spec: Spec = { t: Math.round(t), q: this.q++, k, s, x, id: this.uuids.next(Math.round(t)) };
    this.specs.push(spec);
    return spec;
  }
  mark(spec: Spec, eventType: string, detail: string): void {
    this.timeline.push({ published: new Date(spec.t).toISOString(), eventType, detail });
  }
  /** An attacker's sign-in context as `victim` from `net`/`dev`: Okta's verdicts from the victim's history. */
  session(victim: User, net: Net, dev: Device, t: number, extra = 0): Sess {
    const mask = observe(victim, net, dev, t, false) | extra;
    const level = riskLevel(mask, net.isProxy);
    return {
      a: victim, u: victim, net, dev, sid: '102' + chars(this.r, 22, SID_CHARS),
      behaviors: behaviorsString(mask), logOnly: logOnlyString(mask, level), risk: riskString(mask, level),
    };
  }
  finish(T: Tenant, id: ScenarioId, title: string, description: string, users: string[], targets: string[], ips: string[]): ScenarioPlan {
    const specs = [...this.specs].sort(bySpecTime);
    const iso = (ms: number) => new Date(ms).toISOString();
    const inWindow = specs.filter((s) => s.t >= T.winStart && s.t < T.winEnd);
    return {
      truth: {
        id, title, description, users, targets, ips,
        start: iso(inWindow[0]?.t ?? T.winStart), end: iso(inWindow[inWindow.length - 1]?.t ?? T.winStart),
        eventUuids: inWindow.map((s) => s.id!),
      },
      timeline: this.timeline,
      specs: inWindow,
    };
  }
}

/** Local day for a scenario: a fraction of the window, moved to a working day when the window has one. */
function scenarioDay(T: Tenant, frac: number, workday: boolean): number {
  let L = Math.min(T.days - 1, Math.floor(T.days * frac));
  const dow = (d: number) => new Date(T.dayStart(d)).getUTCDay();
  if (workday) {
    for (let k = 0; k < 7; k++) {
      const fwd = L + k, back = L - k;
      if (fwd < T.days && dow(fwd) >= 1 && dow(fwd) <= 5) return fwd;
      if (back >= 0 && dow(back) >= 1 && dow(back) <= 5) return back;
    }
  }
  return L;
}
function scenarioStart(T: Tenant, u: User, L: number, minute: number, r: Rng): number {
  const t = T.localMidnight(u.tz, L) + minute * MIN + r.int(60_000);
  return Math.max(T.winStart + HOUR, Math.min(t, T.winEnd - 2 * HOUR));
}
function attackerComputer(T: Tenant, r: Rng, os: 'win' | 'linux' = 'win'): Device {
  const platform = os === 'win' ? 'Windows NT 10.0; Win64; x64' : 'X11; Linux x86_64';
  return {
    kind: 'Computer', os: os === 'win' ? 'Windows 10' : 'Linux', browser: 'CHROME', dtHash: hexStr(r, 64),
    ua: `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${T.versions.chrome}.0.0.0 Safari/537.36`,
  };
}
const who = (u: Actor) => `${u.displayName} <${u.alternateId}>`;
const netText = (n: Net) => `${n.ip} (${n.asOrg}, AS${n.asNumber}, ${n.city}, ${n.country}${n.isProxy ? '; isProxy true' : ''})`;

/**
 * The attacker completes a sign-in as `victim` with the password and an approved factor:
 * policy evaluation → password → (push sent) → MFA → user.session.start. Returns the start.
 */
function attackerSignIn(story: Story, T: Tenant, s: Sess, t: number, factor: 'push' | 'totp'): { start: Spec; t: number } {
  const r = story.r;
  story.add(t, Kind.PolicyLogin, s, { app: T.dashboard, ok: false });
  t += r.range(5, 14) * 1000;
  story.add(t, Kind.VerifyPassword, s, { ok: true, app: T.dashboard });
  if (factor === 'push') {
    t += r.range(0.3, 1.2) * 1000;
    story.add(t, Kind.PushSent, s, { app: T.dashboard });
    t += r.range(8, 30) * 1000;
  } else {
    t += r.range(10, 40) * 1000;
  }
  story.add(t, Kind.Mfa, s, { factor, ok: true, app: T.dashboard });
  t += r.range(0.2, 0.9) * 1000;
  const start = story.add(t, Kind.SessionStart, s, { ok: true, uri: factor === 'totp' ? '/idp/idx/challenge/answer' : '/idp/idx/authenticators/poll' });
  return { start, t };
}
function openAdminConsole(story: Story, T: Tenant, s: Sess, t: number): { spec: Spec; t: number } {
  const r = story.r;
  story.add(t, Kind.PolicyAdmin, s, { app: T.adminConsole });
  t += r.range(0.3, 1) * 1000;
  story.add(t, Kind.SsoAdmin, s, { app: T.adminConsole });
  t += r.range(1.5, 4) * 1000;
  return { spec: story.add(t, Kind.AdminAppAccess, s, { app: T.adminConsole }), t };
}
function appsOf(u: User, r: Rng, n: number): App[] {
  const apps = r.shuffle([...u.apps]);
  return apps.slice(0, Math.max(1, Math.min(n, apps.length)));
}

/** credential-stuffing: a breached list replayed from a VPS; the one reused password is used through a proxy. */
function planCredentialStuffing(T: Tenant, cast: Cast): ScenarioPlan {
  const story = new Story(T, 0);
  const r = story.r;
  const victim = cast.stuffing;
  const L = scenarioDay(T, 0.1, true);
  const t0 = scenarioStart(T, victim, L, 13 * 60 + 10 + r.int(50), r);

  const src = r.pick(STUFFING_SOURCES);
  // Okta does not call the VPS a proxy, but ThreatInsight flags an address spraying passwords
  // at many accounts: its requests carry debugData.threatSuspected "true".
  const srcNet: Net = { ...proxyNet(r, PLACES[src.place], src.net), isProxy: false, threat: true };
  const bot: Device = { kind: 'Unknown', os: 'Unknown', browser: 'UNKNOWN', ua: 'python-requests/2.32.3', dtHash: null };
  const victims = new Set<User>([cast.stuffing, cast.torVictim, cast.backdoor, cast.geoVictim, cast.replayVictim, cast.tokenVictim]);
  const candidates = r.shuffle(T.users.filter((u) => !victims.has(u)));
  const k = Math.min(20, candidates.length);
  const sprayed = candidates.slice(0, k);
  const doubles = Math.min(k, k >= 15 ? Math.max(Math.ceil(k * 0.3), 26 - k) : Math.ceil(k * 0.3));
  type Attempt = { a: Actor; u: User | null; reason: string | null };
  const attempts: Attempt[] = [];
  sprayed.forEach((u, i) => {
    attempts.push({ a: u, u, reason: 'INVALID_CREDENTIALS' });
    if (i < doubles) attempts.push({ a: u, u, reason: 'INVALID_CREDENTIALS' });
  });
  // Non-existent logins: guessed from common names, redrawn while the guess is a real employee's
  // login (Okta would then log that user's failure, not a VERIFICATION_ERROR) or already guessed.
  // A breached list does not shrink with the tenant: in a small one, where few employees are left
  // to spray, more of its logins miss, so that the spray reaches the stuffing rule's thresholds
  // (10 failures from one address, 8 distinct logins) whatever the tenant's size.
  const ghosts: string[] = [];
  const logins = new Set(T.users.map((u) => u.alternateId.toLowerCase()));
  const nGhosts = Math.max(6, 8 - k, 10 - k - doubles);
  for (let i = 0; i < nGhosts; i++) {
    let login: string;
    do {
      const first = r.pick(FIRST_NAMES).toLowerCase();
      const last = r.pick(LAST_NAMES).toLowerCase().replace(/[^a-z]/g, '');
      login = r.pick([`${first}.${last}`, `${first[0]}${last}`, `${first}`, `${first}.${last}${1 + r.int(99)}`]) + `@${T.domain}`;
    } while (logins.has(login) || ghosts.includes(login));
    ghosts.push(login);
    attempts.push({ a: { id: 'unknown', alternateId: login, displayName: 'unknown' }, u: null, reason: 'VERIFICATION_ERROR' });
  }
  attempts.push({ a: victim, u: victim, reason: null });
  r.shuffle(attempts);
  let t = t0;
  let first: Spec | null = null;
  let verified: Spec | null = null;
  for (const at of attempts) {
    const s: Sess = { a: at.a, u: at.u, net: srcNet, dev: bot, sid: 'unknown', behaviors: behaviorsString(0), logOnly: logOnlyString(0, 'LOW'), risk: '{level=LOW}' };
    const spec = at.reason === null
      ? (verified = story.add(t, Kind.VerifyPassword, s, { ok: true, app: T.dashboard }))
      : story.add(t, Kind.SessionStartFail, s, { reason: at.reason, uri: '/api/v1/authn' });
    first ??= spec;
    t += r.range(2, 9) * 1000;
  }
  const stuffEnd = t;
  story.mark(first!, 'user.session.start', `stuffing begins: ${attempts.length - 1} failures from ${srcNet.ip}`);
  story.mark(verified!, 'user.authentication.verify', `${victim.alternateId}'s password verifies from the stuffing host`);

  // The reused password is then used through a commercial VPN exit, from a new device.
  t = stuffEnd + r.range(14, 22) * MIN;
  const exit = r.pick(ATTACK_EXITS.filter((e) => e.net.name !== 'Tor exit relay'));
  const exitNet = proxyNet(r, PLACES[exit.place], exit.net);
  const s = story.session(victim, exitNet, attackerComputer(T, r), t);
  const signIn = attackerSignIn(story, T, s, t, 'push');
  story.mark(signIn.start, 'user.session.start', `proxied session of ${victim.alternateId} from ${exitNet.ip} (the push is approved)`);
  t = signIn.t;
  for (const app of appsOf(victim, r, 2)) {
    t += r.range(40, 240) * 1000;
    story.add(t, Kind.PolicyApp, s, { app });
    story.add(t + r.range(0.1, 0.8) * 1000, Kind.Sso, s, { app });
  }
  const end = story.add(t + r.range(10, 25) * MIN, Kind.SessionEnd, s);
  story.mark(end, 'user.session.end', 'attacker signs out');
  return story.finish(
    T, 'credential-stuffing', `Credential stuffing from ${src.net.name}, then a proxied sign-in as ${victim.alternateId}`,
    `${attempts.length} password attempts in ${Math.round((stuffEnd - t0) / 1000)}s from ${netText(srcNet)}, UA python-requests, via ` +
      `/api/v1/authn, against ${k} employees and ${ghosts.length} non-existent logins (user.session.start FAILURE INVALID_CREDENTIALS / ` +
      `VERIFICATION_ERROR); only ${who(victim)}'s reused password verifies. About ${Math.round((signIn.start.t - stuffEnd) / MIN)} minutes later ` +
      `the account signs in through ${netText(exitNet)} from a new Windows device, the Okta Verify push is approved, and the attacker opens two applications.`,
    [victim.alternateId], [...sprayed.map((u) => u.alternateId), ...ghosts], [srcNet.ip, exitNet.ip],
  );
}

/** tor-takeover: stolen administrator credentials used via Tor, MFA fatigue, MFA reset and admin-role grant. */
function planTorTakeover(T: Tenant, cast: Cast): ScenarioPlan {
  const story = new Story(T, 1);
  const r = story.r;
  const victim = cast.torVictim;
  const backdoor = cast.backdoor;
  const L = scenarioDay(T, 0.5, false);
  let t = scenarioStart(T, victim, L, 17 * 60 + 15 + r.int(40), r);

  const exit = ATTACK_EXITS.find((e) => e.net.name === 'Tor exit relay')!;
  const exitNet = proxyNet(r, PLACES[exit.place], exit.net);
  const att = story.session(victim, exitNet, attackerComputer(T, r), t, B_VELOCITY);
  // The victim's phone answers the pushes from home.
  const phone: Device = victim.mobile ?? { kind: 'Mobile', os: 'iOS', browser: 'SAFARI', ua: '', dtHash: hexStr(r, 64) };
  const verifyApp: Device = { kind: 'Mobile', os: phone.os, browser: 'UNKNOWN', ua: `OktaVerify/9.${40 + r.int(15)}.0 DeviceSDK/1.${r.int(9)}.0 ${phone.os === 'iOS' ? 'iOS/18.6 iPhone15,2' : 'Android/14 Pixel 8'}`, dtHash: phone.dtHash };
  const phoneSess: Sess = { ...att, net: victim.homeNet, dev: verifyApp, jClient: undefined, jAuth: undefined, jTail: undefined };
  const first = story.add(t, Kind.PolicyLogin, att, { app: T.dashboard, ok: false });
  story.mark(first, 'policy.evaluate_sign_on', `attacker starts signing in as ${victim.alternateId} via Tor exit ${exitNet.ip}`);
  t += r.range(6, 14) * 1000;
  story.add(t, Kind.VerifyPassword, att, { ok: true, app: T.dashboard });
  for (let i = 0; i < 3; i++) {
    t += r.range(0.4, 1.2) * 1000;
    story.add(t, Kind.PushSent, att, { app: T.dashboard });
    t += r.range(18, 45) * 1000;
    if (i < 2) {
      const deny = story.add(t, Kind.PushDeny, phoneSess, { app: T.dashboard });
      if (i === 0) story.mark(deny, 'user.mfa.okta_verify.deny_push', 'the victim denies the first push');
    } else story.add(t, Kind.Mfa, att, { factor: 'push', ok: true, app: T.dashboard });
  }
  t += r.range(0.2, 0.9) * 1000;
  const start = story.add(t, Kind.SessionStart, att, { ok: true, uri: '/idp/idx/authenticators/poll' });
  story.mark(start, 'user.session.start', 'the third push is approved (MFA fatigue): session through Tor');
  t += r.range(60, 150) * 1000;
  const consoleOpen = openAdminConsole(story, T, att, t);
  story.mark(consoleOpen.spec, 'user.session.access_admin_app', 'Okta Admin Console opened');
  t = consoleOpen.t + r.range(3, 5) * MIN;
  const resetAll = story.add(t, Kind.FactorResetAll, att, { target: backdoor });
  story.mark(resetAll, 'user.mfa.factor.reset_all', `every factor of ${backdoor.alternateId} reset`);
  t += r.range(60, 120) * 1000;
  const privilege = 'Super administrator';
  const grant = story.add(t, Kind.PrivilegeGrant, att, { target: backdoor, privilege });
  story.mark(grant, 'user.account.privilege.grant', `${privilege} granted to ${backdoor.alternateId}`);
  t += r.range(30, 90) * 1000;
  const resourceSet = { id: 'iam' + chars(r, 14, B62) + T.suffix, name: 'All Users and Groups' };
  const role = { id: 'cr0' + chars(r, 14, B62) + T.suffix, name: 'Identity Operations' };
  const binding = story.add(t, Kind.ResourceSetBindingAdd, att, { target: backdoor, resourceSet, role });
  story.mark(binding, 'iam.resourceset.bindings.add', `custom role '${role.name}' on '${resourceSet.name}' bound to ${backdoor.alternateId}`);
  t += r.range(1, 3) * MIN;
  story.mark(story.add(t, Kind.SessionEnd, att), 'user.session.end', 'attacker signs out');
  return story.finish(
    T, 'tor-takeover', `Stolen administrator credentials via Tor, MFA fatigue, MFA reset and admin-role grant`,
    `${who(victim)} (administrator) signs in through Tor exit ${netText(exitNet)} from a new Windows device with a stolen password; ` +
      `two Okta Verify pushes are denied from the victim's phone, the third approved (MFA fatigue); every behaviour POSITIVE. ` +
      `In the same session the attacker opens the Admin Console, resets every factor of the dormant account ${who(backdoor)} ` +
      `(user.mfa.factor.reset_all), grants it ${privilege} (user.account.privilege.grant) and binds the custom role '${role.name}' ` +
      `(iam.resourceset.bindings.add), all within a quarter of an hour.`,
    [victim.alternateId], [backdoor.alternateId], [exitNet.ip],
  );
}

/** residential-proxy-geo-mismatch: a phished password and one-time code used through a residential proxy far from the user's profile. */
function planResidentialProxy(T: Tenant, cast: Cast): ScenarioPlan {
  const story = new Story(T, 2);
  const r = story.r;
  const victim = cast.geoVictim;
  const L = scenarioDay(T, 0.7, false);
  let t = scenarioStart(T, victim, L, 5 * 60 + 40 + r.int(70), r);
  const far = RESIDENTIAL_EXITS.filter((e) => kmBetween(victim.home.lat, victim.home.lon, PLACES[e.place].lat, PLACES[e.place].lon) > 5000);
  const exit = r.pick(far.length ? far : RESIDENTIAL_EXITS);
  const exitNet = proxyNet(r, PLACES[exit.place], exit.net);
  const km = Math.round(kmBetween(victim.home.lat, victim.home.lon, exitNet.lat, exitNet.lon));
  const s = story.session(victim, exitNet, attackerComputer(T, r), t);
  // The one-time code was phished together with the password (adversary in the middle), so TOTP.
  const signIn = attackerSignIn(story, T, s, t, 'totp');
  story.mark(signIn.start, 'user.session.start', `session of ${victim.alternateId} from ${exitNet.city}, ${exitNet.country} (${km} km from the profile location)`);
  t = signIn.t;
  const apps = appsOf(victim, r, 4);
  for (const app of apps) {
    t += r.range(20, 180) * 1000;
    story.add(t, Kind.PolicyApp, s, { app });
    story.add(t + r.range(0.1, 0.8) * 1000, Kind.Sso, s, { app });
  }
  story.mark(story.specs[story.specs.length - 1]!, 'user.authentication.sso', `${apps.length} applications opened`);
  return story.finish(
    T, 'residential-proxy-geo-mismatch', `Sign-in through a residential proxy in ${exitNet.country}, far from ${victim.alternateId}'s profile location`,
    `${who(victim)}, whose directory profile places them in ${victim.home.city}, ${victim.home.country}, signs in before dawn local time (daytime where the attacker is) through a ` +
      `residential proxy exit ${netText(exitNet)}, ${km} km from the profile location: an ordinary consumer ISP address that Okta's IP ` +
      `intelligence lists as a proxy. Password and a phished one-time code (TOTP), a new device, new country; then ${apps.length} applications.`,
    [victim.alternateId], [], [exitNet.ip],
  );
}

/** session-replay: a session cookie stolen from the victim's browser is replayed from a hosting network. */
function planSessionReplay(T: Tenant, cast: Cast): ScenarioPlan {
  const story = new Story(T, 3);
  const r = story.r;
  const victim = cast.replayVictim;
  const L = scenarioDay(T, 0.9, true);
  let t = scenarioStart(T, victim, L, 12 * 60 + 40 + r.int(70), r);
  const host = r.pick(REPLAY_HOSTS);
  const hostNet: Net = { ...proxyNet(r, PLACES[host.place], host.net), isProxy: false };
  const linux = victim.computer.os !== 'Linux' && r.chance(0.5);
  const dev: Device = { ...attackerComputer(T, r, linux ? 'linux' : 'win'), dtHash: null };
  // No sign-in: the replayed cookie carries the victim's existing Okta session.
  const s: Sess = {
    a: victim, u: victim, net: hostNet, dev, sid: '',
    replay: { user: victim, before: t - 5 * MIN, fallback: '102' + chars(r, 22, SID_CHARS) },
    behaviors: behaviorsString(0), logOnly: logOnlyString(0, 'LOW'), risk: '{level=LOW}',
  };
  const apps = appsOf(victim, r, 3 + r.int(3));
  let first: Spec | null = null;
  for (const app of apps) {
    const p = story.add(t, Kind.PolicyApp, s, { app });
    first ??= p;
    story.add(t + r.range(0.1, 0.8) * 1000, Kind.Sso, s, { app });
    t += r.range(1, 6) * MIN;
  }
  story.mark(first!, 'user.authentication.sso', `the stolen session is used from ${hostNet.ip} (${hostNet.asOrg}) with no new sign-in`);
  return story.finish(
    T, 'session-replay', `Stolen Okta session cookie of ${victim.alternateId} replayed from a hosting network`,
    `An infostealer took ${who(victim)}'s Okta session cookie; ${apps.length} application sign-ons (policy.evaluate_sign_on + ` +
      `user.authentication.sso) then come from ${netText(hostNet)} with another browser (${dev.os}/${dev.browser}) under the same ` +
      `authenticationContext.externalSessionId as the victim's latest sign-in, without any user.session.start from that address.`,
    [victim.alternateId], [], [hostNet.ip],
  );
}

/** api-token-after-proxy: an administrator account signs in through a VPN exit and mints an API token. */
function planApiTokenAfterProxy(T: Tenant, cast: Cast): ScenarioPlan {
  const story = new Story(T, 4);
  const r = story.r;
  const victim = cast.tokenVictim;
  const L = scenarioDay(T, 0.3, false);
  let t = scenarioStart(T, victim, L, 7 * 60 + 5 + r.int(50), r);
  const exit = r.pick(ATTACK_EXITS.filter((e) => e.net.name !== 'Tor exit relay' && PLACES[e.place].cc !== victim.home.cc));
  const exitNet = proxyNet(r, PLACES[exit.place], exit.net);
  const s = story.session(victim, exitNet, attackerComputer(T, r), t);
  const signIn = attackerSignIn(story, T, s, t, 'push');
  story.mark(signIn.start, 'user.session.start', `proxied session of ${victim.alternateId} from ${exitNet.ip} (${exitNet.asOrg})`);
  t = signIn.t + r.range(40, 120) * 1000;
  const consoleOpen = openAdminConsole(story, T, s, t);
  t = consoleOpen.t + r.range(3, 8) * MIN;
  const tokenName = r.pick(['okta-sync-svc', 'svc-directory-sync', 'scim-connector', 'backup-integration']);
  const token = story.add(t, Kind.ApiTokenCreate, s, { tokenId: oktaId(r, '00T', T.suffix), name: tokenName });
  story.mark(token, 'system.api_token.create', `API token '${tokenName}' created`);
  t += r.range(1, 3) * MIN;
  story.mark(story.add(t, Kind.SessionEnd, s), 'user.session.end', 'attacker signs out');
  return story.finish(
    T, 'api-token-after-proxy', `API token created by ${victim.alternateId} minutes after a proxied sign-in`,
    `${who(victim)} (administrator) signs in through ${netText(exitNet)} from a new Windows device (push approved), opens the Admin ` +
      `Console and, ${Math.round((token.t - signIn.start.t) / MIN)} minutes after the session start, creates the API token '${tokenName}' ` +
      `(system.api_token.create): persistent API access that outlives the session and the password.`,
    [victim.alternateId], [], [exitNet.ip],
  );
}

const SCENARIO_PLANNERS: Record<ScenarioId, (T: Tenant, cast: Cast) => ScenarioPlan> = {
  'credential-stuffing': planCredentialStuffing,
  'tor-takeover': planTorTakeover,
  'residential-proxy-geo-mismatch': planResidentialProxy,
  'session-replay': planSessionReplay,
  'api-token-after-proxy': planApiTokenAfterProxy,
};

/** The selected scenarios, in SCENARIO_IDS order; `attacks: false` selects none, no list all. */
function selectedScenarios(opts: TenantOptions): ScenarioId[] {
  if (!opts.attacks) return [];
  const want = opts.scenarios ?? SCENARIO_IDS;
  for (const id of want) if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`generateTenant: unknown scenario '${id}' (known: ${SCENARIO_IDS.join(', ')})`);
  return SCENARIO_IDS.filter((id) => want.includes(id));
}

function planScenarios(T: Tenant, ids: readonly ScenarioId[]): ScenarioPlan[] {
  return ids.map((id) => SCENARIO_PLANNERS[id](T, T.cast));
}

// ───────────────────────────────────────────────────────────────────────────── emitter

function sessionsOf(T: Tenant, u: User): { t: number; sid: string }[] {
  return T.sessions.get(u) ?? [];
}
/** The externalSessionId of the latest session started at or before `before`. */
function stolenSession(list: readonly { t: number; sid: string }[], before: number): string | undefined {
  let best: { t: number; sid: string } | undefined;
  for (const x of list) if (x.t <= before && (!best || x.t >= best.t)) best = x;
  return best?.sid;
}

const SIGN_ON_MODE: Record<App['mode'], string> = { SAML_2_0: 'SAML 2.0', OPENID_CONNECT: 'OpenID Connect', WS_FEDERATION: 'WS-Federation' };
const PUSH_PROPS = '[DEVICE_BOUND, HARDWARE_PROTECTED, USER_PRESENCE]';
const FASTPASS_PROPS = '[DEVICE_BOUND, HARDWARE_PROTECTED, PHISHING_RESISTANT, USER_PRESENCE, USER_VERIFYING]';

function geo(n: Net): JsonObject {
  return { city: n.city, state: n.state, country: n.country, postalCode: n.postal, geolocation: { lat: n.lat, lon: n.lon } };
}
function userTarget(a: Actor): JsonObject {
  return { id: a.id, type: 'User', alternateId: a.alternateId, displayName: a.displayName, detailEntry: null };
}
function appTarget(app: App): JsonObject {
  return { id: app.id, type: 'AppInstance', alternateId: app.label, displayName: app.label, detailEntry: { signOnModeType: app.mode } };
}
function policyTargets(policyId: string, policyName: string, policyType: string, ruleId: string, ruleName: string): JsonObject[] {
  return [
    { id: policyId, type: 'PolicyEntity', alternateId: 'unknown', displayName: policyName, detailEntry: { policyType } },
    { id: ruleId, type: 'PolicyRule', alternateId: policyId, displayName: ruleName, detailEntry: null },
  ];
}
function authenticatorTarget(id: string, name: string, method: string, props: string): JsonObject {
  return { id, type: 'AuthenticatorEnrollment', alternateId: 'unknown', displayName: name, detailEntry: { methodTypeUsed: method, methodUsedVerifiedProperties: props } };
}
function ssoUri(app: App): string {
  if (app.mode === 'OPENID_CONNECT') return '/oauth2/v1/authorize';
  if (app.mode === 'WS_FEDERATION') return `/app/${app.name}/${app.id}/sso/wsfed/passive`;
  return `/app/${app.name}/${app.id}/sso/saml`;
}

type Out = LogEvent | string;
const MFA_KEY = { push: 'mfa-push', totp: 'mfa-totp', fastpass: 'mfa-fastpass' } as const;

/** authenticationContext provider triple: [authenticationProvider, credentialProvider, credentialType]. */
interface AuthKind { i: number; provider: string | null; credProvider: string | null; credType: string | null }
const AUTH_NONE: AuthKind = { i: 0, provider: null, credProvider: null, credType: null };
const AUTH_PASSWORD: AuthKind = { i: 1, provider: 'OKTA_AUTHENTICATION_PROVIDER', credProvider: 'OKTA_CREDENTIAL_PROVIDER', credType: 'PASSWORD' };
const AUTH_FACTOR: AuthKind = { i: 2, provider: 'FACTOR_PROVIDER', credProvider: 'OKTA_CREDENTIAL_PROVIDER', credType: null };
const AUTH_TOTP: AuthKind = { i: 3, provider: 'FACTOR_PROVIDER', credProvider: 'GOOGLE', credType: 'OTP' };

/** Already-serialised JSON (line mode only). */
class Raw {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

function actorObject(a: Actor): JsonObject {
  return { id: a.id, type: 'User', alternateId: a.alternateId, displayName: a.displayName, detailEntry: null };
}
function clientObject(s: Sess, clientId: string | null): JsonObject {
  const n = s.net;
  const d = s.dev;
  return {
    userAgent: { rawUserAgent: d.ua, os: d.os, browser: d.browser },
    zone: n.zone, device: d.kind, id: clientId, ipAddress: n.ip, geographicalContext: geo(n),
  };
}
function authObject(s: Sess, a: AuthKind): JsonObject {
  return {
    authenticationProvider: a.provider, credentialProvider: a.credProvider, credentialType: a.credType, issuer: null,
    interface: null, authenticationStep: 0, externalSessionId: s.sid, rootSessionId: s.sid === 'unknown' ? null : s.sid,
  };
}
/** Okta ThreatInsight's verdict on the request's source address. */
function threatSuspected(s: Sess): 'true' | 'false' {
  return s.net.threat ? 'true' : 'false';
}
/** The end of an authentication step's debugData: device token hash and Okta's behaviour/risk verdicts. */
function appendAuthTail(s: Sess, d: JsonObject): JsonObject {
  if (s.dev.dtHash) d.dtHash = s.dev.dtHash;
  d.behaviors = s.behaviors;
  d.logOnlySecurityData = s.logOnly;
  d.risk = s.risk;
  d.threatSuspected = threatSuspected(s);
  return d;
}

// JSON fragments for line mode, cached on the (never mutated) actor, session and network objects.
function actorJson(a: Actor): string {
  return a.jActor ?? (a.jActor = JSON.stringify(actorObject(a)));
}
function clientJson(s: Sess, clientId: string | null): string {
  const m = s.jClient ?? (s.jClient = new Map());
  let j = m.get(clientId);
  if (j === undefined) m.set(clientId, (j = JSON.stringify(clientObject(s, clientId))));
  return j;
}
function authJson(s: Sess, a: AuthKind): string {
  const c = s.jAuth ?? (s.jAuth = []);
  return c[a.i] ?? (c[a.i] = JSON.stringify(authObject(s, a)));
}
/** appendAuthTail's keys as a JSON member list (no braces). */
function authTailJson(s: Sess): string {
  return s.jTail ?? (s.jTail = JSON.stringify(appendAuthTail(s, {})).slice(1, -1));
}
function netJson(n: Net): { sec: string; req: string } {
  return n.j ?? (n.j = {
    sec: JSON.stringify({ asNumber: n.asNumber, asOrg: n.asOrg, isp: n.isp, domain: n.domain, isProxy: n.isProxy }),
    req: JSON.stringify({ ipChain: [{ ip: n.ip, geographicalContext: geo(n), version: n.v6 ? 'V6' : 'V4', source: null }] }),
  });
}

class Emitter {
  private readonly T: Tenant;
  private readonly benignRng: Rng;
  /**
   * One stream per scenario (request and transaction ids, random path parts), so that a scenario's
   * events are the same bytes whichever other scenarios are selected.
   */
  private readonly attackRngs: Rng[];
  /** Stream for the event being built: attack events (pre-assigned uuid) draw from their scenario's. */
  private cur: Rng;
  private readonly uuids: UuidSource;
  private readonly adminUrl: string;
  /** Line mode: build the NDJSON string directly instead of the object. */
  private readonly lines: boolean;

  constructor(T: Tenant, rng: Rng, base: number, lines: boolean) {
    this.T = T;
    this.lines = lines;
    this.benignRng = rng;
    this.attackRngs = SCENARIO_IDS.map((_, i) => new Rng(mix(T.seed, 6, i)));
    this.cur = rng;
    this.uuids = new UuidSource(rng, base);
    this.adminUrl =
      `/oauth2/v1/authorize?client_id=${ADMIN_CONSOLE_CLIENT}&response_type=code&response_mode=query&scope=openid%20okta.users.read.self` +
      `&redirect_uri=https%3A%2F%2F${T.org}-admin.okta.com%2Fadmin%2Fsso%2Fcallback`;
  }

  /** A value that is always the same for (owner, key): in line mode serialised once. */
  private fixed(owner: { fx?: Map<unknown, Raw> }, key: unknown, make: () => Json): Json | Raw {
    if (!this.lines) return make();
    const m = owner.fx ?? (owner.fx = new Map());
    let r = m.get(key);
    if (r === undefined) m.set(key, (r = new Raw(JSON.stringify(make()))));
    return r;
  }

  /**
   * Assemble one LogEvent. `tail` appends the session's authentication verdicts to debugData.
   * In line mode the result is exactly JSON.stringify of the object built otherwise; the scalars
   * interpolated there (uuid, timestamp, event type, severity, messages, request id) are plain
   * ASCII without quotes or backslashes.
   */
  private ev(
    uuid: string, t: number, eventType: string, severity: string, legacy: string | null, msg: string, s: Sess,
    clientId: string | null, result: string, reason: string | null, target: Json | Raw, debugData: JsonObject, tail: boolean,
    auth: AuthKind, rid: string,
  ): Out {
    const n = s.net;
    if (this.lines) {
      const dd = JSON.stringify(debugData);
      return (
        '{"uuid":"' + uuid + '","published":"' + new Date(t).toISOString() + '","eventType":"' + eventType +
        '","version":"0","severity":"' + severity + '","legacyEventType":' + (legacy === null ? 'null' : '"' + legacy + '"') +
        ',"displayMessage":"' + msg + '","actor":' + actorJson(s.a) + ',"client":' + clientJson(s, clientId) +
        ',"outcome":{"result":"' + result + '","reason":' + (reason === null ? 'null' : JSON.stringify(reason)) +
        '},"target":' + (target instanceof Raw ? target.json : JSON.stringify(target)) +
        ',"transaction":{"type":"WEB","id":"' + rid + '","detail":{}},"debugContext":{"debugData":' +
        (tail ? dd.slice(0, -1) + ',' + authTailJson(s) + '}' : dd) +
        '},"authenticationContext":' + authJson(s, auth) + ',"securityContext":' + netJson(n).sec + ',"request":' + netJson(n).req + '}'
      );
    }
    return {
      uuid,
      published: new Date(t).toISOString(),
      eventType,
      version: '0',
      severity,
      legacyEventType: legacy,
      displayMessage: msg,
      actor: actorObject(s.a),
      client: clientObject(s, clientId),
      outcome: { result, reason },
      target: target as Json,
      transaction: { type: 'WEB', id: rid, detail: {} },
      debugContext: { debugData: tail ? appendAuthTail(s, debugData) : debugData },
      authenticationContext: authObject(s, auth),
      securityContext: { asNumber: n.asNumber, asOrg: n.asOrg, isp: n.isp, domain: n.domain, isProxy: n.isProxy },
      request: { ipChain: [{ ip: n.ip, geographicalContext: geo(n), version: n.v6 ? 'V6' : 'V4', source: null }] },
    };
  }

  private dbg(rid: string, uri: string, url: string = uri + '?'): JsonObject {
    return { requestId: rid, requestUri: uri, url, threatSuspected: 'false' };
  }

  build(s: Spec): Out {
    const t = s.t;
    const x: SpecX = s.x ?? {};
    this.cur = s.id === null ? this.benignRng : this.attackRngs[storyIndex(s.q)]!;
    const rid = requestId(this.cur, t);
    const uuid = s.id ?? this.uuids.next(t);
    const ss = s.s;
    if (ss.replay && ss.sid === '') ss.sid = stolenSession(sessionsOf(this.T, ss.replay.user), ss.replay.before) ?? ss.replay.fallback;
    const T = this.T;
    const u = ss.u;
    const head = (uri: string, url: string = uri + '?'): JsonObject => ({ requestId: rid, requestUri: uri, url });
    switch (s.k) {
      case Kind.PolicyLogin: {
        const allow = !!x.ok;
        return this.ev(uuid, t, 'policy.evaluate_sign_on', 'INFO', null, 'Evaluation of sign-on policy', ss, DASHBOARD_CLIENT,
          allow ? 'ALLOW' : 'CHALLENGE', `Sign-on policy evaluation resulted in ${allow ? 'AUTHENTICATED' : 'CHALLENGE'}`,
          this.fixed(T.dashboard, 'login-policy', () => [...policyTargets(T.gsp.id, T.gsp.name, T.gsp.type, T.gsp.ruleId, T.gsp.ruleName), appTarget(T.dashboard)]),
          head('/idp/idx/identify'), true, AUTH_NONE, rid);
      }
      case Kind.PolicyApp:
      case Kind.PolicyAdmin: {
        const app = x.app!;
        const admin = s.k === Kind.PolicyAdmin;
        const uri = admin ? '/oauth2/v1/authorize' : ssoUri(app);
        return this.ev(uuid, t, 'policy.evaluate_sign_on', 'INFO', null, 'Evaluation of sign-on policy', ss, admin ? ADMIN_CONSOLE_CLIENT : null,
          'ALLOW', 'Sign-on policy evaluation resulted in AUTHENTICATED',
          this.fixed(app, 'app-policy', () => [...policyTargets(app.policyId, app.policy, 'ACCESS_POLICY', app.ruleId, app.rule), appTarget(app)]),
          head(uri, admin ? this.adminUrl : uri + '?'), true, AUTH_NONE, rid);
      }
      case Kind.VerifyPassword: {
        const bot = ss.dev.kind === 'Unknown';
        return this.ev(uuid, t, 'user.authentication.verify', 'INFO', null, 'Verify user identity', ss, bot ? null : DASHBOARD_CLIENT,
          x.ok ? 'SUCCESS' : 'FAILURE', x.ok ? null : 'INVALID_CREDENTIALS',
          this.fixed(u!, 'verify-password', () => [authenticatorTarget(u!.factors.password, 'Password', 'Password', '[]'), appTarget(T.dashboard)]),
          head(bot ? '/api/v1/authn' : '/idp/idx/challenge/answer'), true, AUTH_PASSWORD, rid);
      }
      case Kind.VerifyFastPass:
        return this.ev(uuid, t, 'user.authentication.verify', 'INFO', null, 'Verify user identity', ss, DASHBOARD_CLIENT, 'SUCCESS', null,
          this.fixed(u!, 'verify-fastpass', () => [authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Use Okta FastPass', FASTPASS_PROPS), appTarget(T.dashboard)]),
          head('/idp/idx/authenticators/poll'), true, AUTH_FACTOR, rid);
      case Kind.PushSent:
        return this.ev(uuid, t, 'system.push.send_factor_verify_push', 'INFO', null, 'Push notification sent to Okta Verify', ss, DASHBOARD_CLIENT,
          'SUCCESS', null, this.fixed(u!, 'push', () => [authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Get a push notification', PUSH_PROPS)]),
          this.dbg(rid, '/idp/idx/challenge'), false, AUTH_NONE, rid);
      case Kind.PushDeny: {
        const dd = this.dbg(rid, `/idp/authenticators/${u!.factors.oktaVerify}/transactions/${chars(this.cur, 20, B62)}/verify`);
        dd.factor = 'OKTA_VERIFY_PUSH';
        return this.ev(uuid, t, 'user.mfa.okta_verify.deny_push', 'WARN', 'core.user.factor.attempt_fail', 'User rejected Okta push verify', ss, null,
          'FAILURE', null, this.fixed(u!, 'push', () => [authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Get a push notification', PUSH_PROPS)]),
          dd, false, AUTH_FACTOR, rid);
      }
      case Kind.Mfa: {
        const f = x.factor ?? 'push';
        const uri = f === 'totp' ? '/idp/idx/challenge/answer' : '/idp/idx/authenticators/poll';
        const dd = head(uri);
        dd.factor = f === 'totp' ? 'GOOGLE_OTP' : f === 'fastpass' ? 'SIGNED_NONCE' : 'OKTA_VERIFY_PUSH';
        dd.factorIntent = 'AUTHENTICATION';
        const target = this.fixed(u!, MFA_KEY[f], () => [
          f === 'totp'
            ? authenticatorTarget(u!.factors.totp, 'Google Authenticator', 'Enter a code', '[]')
            : f === 'fastpass'
              ? authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Use Okta FastPass', FASTPASS_PROPS)
              : authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Get a push notification', PUSH_PROPS),
          appTarget(T.dashboard),
        ]);
        return this.ev(uuid, t, 'user.authentication.auth_via_mfa', 'INFO', x.ok ? 'core.user.factor.attempt_success' : 'core.user.factor.attempt_fail',
          'Authentication of user via MFA', ss, DASHBOARD_CLIENT, x.ok ? 'SUCCESS' : 'FAILURE', x.ok ? null : 'INVALID_CREDENTIALS',
          target, dd, true, f === 'totp' ? AUTH_TOTP : AUTH_FACTOR, rid);
      }
      case Kind.SessionStart:
        return this.ev(uuid, t, 'user.session.start', 'INFO', 'core.user_auth.login_success', 'User login to Okta', ss, DASHBOARD_CLIENT, 'SUCCESS', null, null,
          head(x.uri ?? '/idp/idx/authenticators/poll'), true, AUTH_PASSWORD, rid);
      case Kind.SessionStartFail: {
        const uri = x.uri ?? '/idp/idx/identify';
        const reason = x.reason ?? 'INVALID_CREDENTIALS';
        const dd = head(uri);
        dd.loginResult = reason;
        if (ss.dev.dtHash) dd.dtHash = ss.dev.dtHash;
        dd.threatSuspected = threatSuspected(ss);
        return this.ev(uuid, t, 'user.session.start', 'WARN', 'core.user_auth.login_failed', 'User login to Okta', ss, uri === '/api/v1/authn' ? null : DASHBOARD_CLIENT,
          'FAILURE', reason, null, dd, false, AUTH_PASSWORD, rid);
      }
      case Kind.Sso: {
        const app = x.app!;
        const dd = head(ssoUri(app));
        if (ss.dev.dtHash) dd.dtHash = ss.dev.dtHash;
        dd.initiationType = app.mode === 'OPENID_CONNECT' ? 'SP_INITIATED' : 'IDP_INITIATED';
        dd.signOnMode = SIGN_ON_MODE[app.mode];
        dd.threatSuspected = 'false';
        const a = ss.a;
        return this.ev(uuid, t, 'user.authentication.sso', 'INFO', 'app.auth.sso', 'User single sign on to app', ss, null, 'SUCCESS', null,
          this.fixed(a, app, () => [
            appTarget(app),
            { id: u?.appUserIds.get(app.label) ?? app.id, type: 'AppUser', alternateId: a.alternateId, displayName: a.displayName, detailEntry: null },
          ]),
          dd, false, AUTH_NONE, rid);
      }
      case Kind.SsoAdmin: {
        const dd = head('/oauth2/v1/authorize', this.adminUrl);
        if (ss.dev.dtHash) dd.dtHash = ss.dev.dtHash;
        dd.initiationType = 'SP_INITIATED';
        dd.signOnMode = 'OpenID Connect';
        dd.threatSuspected = 'false';
        return this.ev(uuid, t, 'user.authentication.sso', 'INFO', 'app.auth.sso', 'User single sign on to app', ss, ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          this.fixed(T.adminConsole, 'app', () => [appTarget(T.adminConsole)]), dd, false, AUTH_NONE, rid);
      }
      case Kind.AdminAppAccess:
        return this.ev(uuid, t, 'user.session.access_admin_app', 'INFO', 'app.admin.sso.login.success', 'User accessing Okta admin app', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, this.fixed(T.adminConsole, 'app', () => [appTarget(T.adminConsole)]),
          this.dbg(rid, '/admin/sso/callback', '/admin/sso/callback?code=******&state=' + chars(this.cur, 20, B62)), false, AUTH_NONE, rid);
      case Kind.SessionEnd:
        return this.ev(uuid, t, 'user.session.end', 'INFO', 'core.user_auth.logout_success', 'User logout from Okta', ss, DASHBOARD_CLIENT, 'SUCCESS', null, null,
          this.dbg(rid, '/login/signout'), false, AUTH_NONE, rid);
      case Kind.AccountLock:
        return this.ev(uuid, t, 'user.account.lock', 'WARN', 'core.user_auth.account_locked', 'Max sign in attempts exceeded', ss, DASHBOARD_CLIENT,
          'FAILURE', 'LOCKED_OUT', this.fixed(ss.a, 'self', () => [userTarget(ss.a)]), this.dbg(rid, '/idp/idx/identify'), false, AUTH_NONE, rid);
      case Kind.UnlockEmail:
        return this.ev(uuid, t, 'system.email.account_unlock.sent_message', 'INFO', 'core.user.email.message_sent.self_service_unlock',
          'Send self-service account unlock email', ss, DASHBOARD_CLIENT, 'SUCCESS', null, this.fixed(ss.a, 'self', () => [userTarget(ss.a)]),
          this.dbg(rid, '/idp/idx/unlock-account'), false, AUTH_NONE, rid);
      case Kind.Unlock:
        return this.ev(uuid, t, 'user.account.unlock', 'INFO', 'core.user.config.user_unlocked', 'Unlock Okta user', ss, DASHBOARD_CLIENT, 'SUCCESS', null,
          this.fixed(ss.a, 'self', () => [userTarget(ss.a)]), this.dbg(rid, '/idp/idx/challenge/answer'), false, AUTH_NONE, rid);
      case Kind.PwResetEmail:
        return this.ev(uuid, t, 'system.email.password_reset.sent_message', 'INFO', 'core.user.email.message_sent.self_service_reset',
          'Send self-service password reset email', ss, DASHBOARD_CLIENT, 'SUCCESS', null, this.fixed(ss.a, 'self', () => [userTarget(ss.a)]),
          this.dbg(rid, '/idp/idx/recover'), false, AUTH_NONE, rid);
      case Kind.PwReset:
        return this.ev(uuid, t, 'user.account.reset_password', 'INFO', 'core.user.config.password_update.success', 'Reset password for Okta user', ss,
          DASHBOARD_CLIENT, 'SUCCESS', null, this.fixed(ss.a, 'self', () => [userTarget(ss.a)]), this.dbg(rid, '/idp/idx/challenge/answer'), false, AUTH_NONE, rid);
      case Kind.FactorDeactivate:
        return this.ev(uuid, t, 'user.mfa.factor.deactivate', 'WARN', 'core.user.factor.deactivate', 'Reset factor for user', ss, null,
          'SUCCESS', x.reason ?? 'User reset OKTA_VERIFY_PUSH factor',
          [userTarget(x.target!), authenticatorTarget(u!.factors.oktaVerify, 'Okta Verify', 'Get a push notification', PUSH_PROPS)],
          this.dbg(rid, `/idp/myaccount/authenticators/${u!.factors.oktaVerify}`), false, AUTH_NONE, rid);
      case Kind.FactorActivate:
        return this.ev(uuid, t, 'user.mfa.factor.activate', 'INFO', 'core.user.factor.activate', 'Activate factor for user', ss, null,
          'SUCCESS', 'User set up OKTA_VERIFY_PUSH factor',
          [userTarget(x.target!), authenticatorTarget(oktaId(this.cur, 'pfd', T.suffix), 'Okta Verify', 'Get a push notification', PUSH_PROPS)],
          this.dbg(rid, '/idp/myaccount/authenticators/okta_verify/enroll'), false, AUTH_NONE, rid);
      case Kind.FactorResetAll: {
        const tgt = x.target!;
        return this.ev(uuid, t, 'user.mfa.factor.reset_all', 'WARN', 'core.user.factor.reset_all', 'Reset all factors for user', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', 'User reset all factors', [userTarget(tgt)],
          this.dbg(rid, `/api/v1/users/${tgt.id}/lifecycle/reset_factors`), false, AUTH_NONE, rid);
      }
      case Kind.PrivilegeGrant: {
        const tgt = x.target!;
        const dd = head(`/api/internal/administrators/${tgt.id}`);
        dd.privilegeGranted = x.privilege ?? 'Super administrator';
        dd.threatSuspected = 'false';
        return this.ev(uuid, t, 'user.account.privilege.grant', 'INFO', 'core.user.admin_privilege.granted', 'Grant user privilege', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, [userTarget(tgt)], dd, false, AUTH_NONE, rid);
      }
      case Kind.ResourceSetBindingAdd: {
        const rs = x.resourceSet!;
        const role = x.role!;
        return this.ev(uuid, t, 'iam.resourceset.bindings.add', 'INFO', null, 'Add a binding to a resource set', ss, ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          [
            { id: rs.id, type: 'ResourceSet', alternateId: rs.name, displayName: rs.name, detailEntry: null },
            { id: role.id, type: 'CustomRole', alternateId: role.name, displayName: role.name, detailEntry: null },
            userTarget(x.target!),
          ],
          this.dbg(rid, `/api/v1/iam/resource-sets/${rs.id}/bindings`), false, AUTH_NONE, rid);
      }
      case Kind.ApiTokenCreate:
        return this.ev(uuid, t, 'system.api_token.create', 'INFO', 'api.token.create', 'Create API token', ss, ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          [{ id: x.tokenId!, type: 'Token', alternateId: 'unknown', displayName: x.name!, detailEntry: null }],
          this.dbg(rid, '/api/internal/tokens'), false, AUTH_NONE, rid);
      case Kind.GroupAdd:
      case Kind.GroupRemove: {
        const g = x.group!;
        const tgt = x.target!;
        const add = s.k === Kind.GroupAdd;
        return this.ev(uuid, t, add ? 'group.user_membership.add' : 'group.user_membership.remove', 'INFO',
          add ? 'core.user_group_member.user_add' : 'core.user_group_member.user_remove',
          add ? 'Add user to group membership' : 'Remove user from group membership', ss, ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          [userTarget(tgt), { id: g.id, type: 'UserGroup', alternateId: 'unknown', displayName: g.name, detailEntry: null }],
          this.dbg(rid, `/api/v1/groups/${g.id}/users/${tgt.id}`), false, AUTH_NONE, rid);
      }
      case Kind.AppAssign: {
        const app = x.app!;
        const tgt = x.target!;
        return this.ev(uuid, t, 'application.user_membership.add', 'INFO', 'app.generic.provision.assign_user_to_app', 'Add user to application membership', ss,
          ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          [
            { id: oktaId(this.cur, '0ua', T.suffix), type: 'AppUser', alternateId: tgt.alternateId, displayName: tgt.displayName, detailEntry: null },
            appTarget(app),
            userTarget(tgt),
          ],
          this.dbg(rid, `/api/v1/apps/${app.id}/users`), false, AUTH_NONE, rid);
      }
      case Kind.UserCreate:
        return this.ev(uuid, t, 'user.lifecycle.create', 'INFO', 'core.user.config.user_creation.success', 'Create Okta user', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, [userTarget(x.target!)], this.dbg(rid, '/api/v1/users', '/api/v1/users?activate=false'), false, AUTH_NONE, rid);
      case Kind.UserActivate:
        return this.ev(uuid, t, 'user.lifecycle.activate', 'INFO', 'core.user.config.user_activated', 'Activate Okta user', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, [userTarget(x.target!)], this.dbg(rid, `/api/v1/users/${x.target!.id}/lifecycle/activate`), false, AUTH_NONE, rid);
      case Kind.UserDeactivate:
        return this.ev(uuid, t, 'user.lifecycle.deactivate', 'INFO', 'core.user.config.user_deactivated', 'Deactivate Okta user', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, [userTarget(x.target!)], this.dbg(rid, `/api/v1/users/${x.target!.id}/lifecycle/deactivate`), false, AUTH_NONE, rid);
      case Kind.AppUpdate:
        return this.ev(uuid, t, 'application.lifecycle.update', 'INFO', 'app.generic.config.app_updated', 'Update application', ss, ADMIN_CONSOLE_CLIENT,
          'SUCCESS', null, [appTarget(x.app!)], this.dbg(rid, `/api/v1/apps/${x.app!.id}`), false, AUTH_NONE, rid);
      case Kind.PolicyRuleUpdate: {
        const p = x.policy!;
        return this.ev(uuid, t, 'policy.rule.update', 'INFO', null, 'Update policy rule', ss, ADMIN_CONSOLE_CLIENT, 'SUCCESS', null,
          [{ id: p.ruleId, type: 'PolicyRule', alternateId: p.id, displayName: p.ruleName, detailEntry: { policyType: p.type } }],
          this.dbg(rid, `/api/v1/policies/${p.id}/rules/${p.ruleId}`), false, AUTH_NONE, rid);
      }
    }
  }
}
