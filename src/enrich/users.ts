/**
 * The user directory's profile locations (`oktopus users import FILE`, or `scan --users FILE`).
 *
 * Input: CSV with a header row, or JSON (an array of users, `{ "users": [...] }`, or NDJSON).
 * Columns / keys (case-insensitive): `login` (or `email`), `city`, `state`, `countryCode` (or
 * `country`: a code or an English name), `timezone`, and optionally `lat` / `lon`. JSON may also
 * be Okta's own user objects (`GET /api/v1/users`: the fields under `profile`).
 *
 * The profile location is the given `lat`/`lon` (precision `point`), else the centre of the
 * profile's state when the country has a table of regions (precision `region`, with the region's
 * reach as `uncertainty_km`), else the centroid of the profile's country (precision `country`,
 * too coarse for a distance). No city gazetteer ships with oktopus: docs/enrichment.md.
 *
 * A bad row is skipped with a warning (`FILE:LINE: reason`); a file that cannot be read as a
 * whole (no login column, unterminated quote, invalid JSON document) or has no usable row is
 * refused. Values are stored as given: a city of `=HYPERLINK(…)` stays that string (oktopus writes
 * no spreadsheet; escape it yourself if you export profiles to one).
 *
 * Stored in the state store, namespace `users`, key = lower-cased login. An import replaces the
 * whole directory; `scan --users FILE` keeps the file's profiles in memory for that scan only.
 */
import type { Json, JsonObject } from '../event/types.js';
import type { StateStore } from '../store/types.js';
import { EnrichInputError, shown } from './errors.js';
import { countryCentroid, countryCode, regionOf } from './geo.js';

export const USERS_NS = 'users';

export interface UserProfile {
  login: string;
  city?: string;
  state?: string;
  countryCode?: string;
  timezone?: string;
  /** Where the profile places the user, and how precisely. */
  lat?: number;
  lon?: number;
  precision?: 'point' | 'region' | 'country';
  /** For `region`: how far the user may be from lat/lon (the region's reach), km. */
  uncertainty_km?: number;
}

/**
 * Where a profile places its user: the given lat/lon, else its state's centre (when the country
 * has a table of regions), else its country's centroid. Also for profiles stored by older
 * versions (which placed everyone without lat/lon at the country centroid).
 */
export function profilePlace(p: UserProfile): { lat: number; lon: number; precision: 'point' | 'region' | 'country'; uncertainty_km?: number } | undefined {
  if (p.precision === 'point' && p.lat !== undefined && p.lon !== undefined) return { lat: p.lat, lon: p.lon, precision: 'point' };
  if (!p.countryCode) return undefined;
  const r = regionOf(p.countryCode, p.state);
  if (r) return { lat: r.lat, lon: r.lon, precision: 'region', uncertainty_km: r.reachKm };
  const c = countryCentroid(p.countryCode);
  return c ? { lat: c.lat, lon: c.lon, precision: 'country' } : undefined;
}

const ALIASES: Record<string, keyof UserProfile | 'country'> = {
  login: 'login', email: 'login', username: 'login', alternateid: 'login',
  city: 'city', state: 'state', region: 'state',
  countrycode: 'countryCode', country_code: 'countryCode', country: 'country',
  timezone: 'timezone', time_zone: 'timezone', tz: 'timezone',
  lat: 'lat', latitude: 'lat', lon: 'lon', lng: 'lon', longitude: 'lon',
};

/** Split CSV text into rows of fields (RFC 4180 quotes), with the line each row starts on. */
function csvRows(text: string, name: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell === '' && !quoted) {
      inQuotes = quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      quoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((x) => x.trim() !== '')) rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      quoted = false;
      rowLine = ++line;
    } else cell += c;
  }
  if (inQuotes) throw new EnrichInputError(`${name}:${rowLine}: unterminated quoted field`);
  cells.push(cell);
  if (cells.some((x) => x.trim() !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

function coord(v: unknown, where: string, what: 'lat' | 'lon'): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  const max = what === 'lat' ? 90 : 180;
  if (!Number.isFinite(n) || Math.abs(n) > max) throw new EnrichInputError(`${where}: ${what} must be a number between -${max} and ${max}, got ${shown(String(v))}`);
  return n;
}

/** One user from a flat record of (aliased) fields. */
function toProfile(rec: Record<string, unknown>, where: string): UserProfile {
  const f: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    const a = ALIASES[k.toLowerCase()];
    if (a && f[a] === undefined) f[a] = v;
  }
  const login = typeof f['login'] === 'string' ? f['login'].trim() : '';
  if (!login) throw new EnrichInputError(`${where}: no login (a column or key login or email)`);
  const p: UserProfile = { login };
  for (const k of ['city', 'state', 'timezone'] as const) {
    const v = f[k];
    if (v !== undefined && v !== null && String(v).trim() !== '') p[k] = String(v).trim();
  }
  const c = f['countryCode'] ?? f['country'];
  if (c !== undefined && c !== null && String(c).trim() !== '') {
    const cc = countryCode(String(c));
    if (!cc) throw new EnrichInputError(`${where}: unknown country ${shown(String(c))} (an ISO 3166 two-letter code or an English name)`);
    p.countryCode = cc;
  }
  const lat = coord(f['lat'], where, 'lat');
  const lon = coord(f['lon'], where, 'lon');
  if ((lat === undefined) !== (lon === undefined)) throw new EnrichInputError(`${where}: lat and lon go together (one of them is missing)`);
  if (lat !== undefined && lon !== undefined) {
    p.lat = lat;
    p.lon = lon;
    p.precision = 'point';
  } else placeProfile(p);
  return p;
}

/** Places a profile without coordinates from its city/state/country (geo.ts), when it can. */
export function placeProfile(p: UserProfile): void {
  const at = profilePlace(p);
  if (!at) return;
  p.lat = at.lat;
  p.lon = at.lon;
  p.precision = at.precision;
  if (at.uncertainty_km !== undefined) p.uncertainty_km = at.uncertainty_km;
}

/** Called for each row that is skipped, with `FILE:LINE: reason`. */
export type OnSkip = (message: string) => void;

/** `toProfile`, or undefined after reporting the row's problem to `skip`. */
function tryProfile(make: () => UserProfile, skip: OnSkip): UserProfile | undefined {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof EnrichInputError)) throw e;
    skip(e.message);
    return undefined;
  }
}

function parseCsv(text: string, name: string, skip: OnSkip): UserProfile[] {
  const rows = csvRows(text, name);
  const header = rows.shift();
  if (!header) throw new EnrichInputError(`${name}: empty users file`);
  const cols = header.cells.map((c) => c.trim());
  if (!cols.some((c) => ALIASES[c.toLowerCase()] === 'login')) {
    throw new EnrichInputError(`${name}:${header.line}: the header row needs a login (or email) column, got ${shown(header.cells.join(','))}`);
  }
  const out: UserProfile[] = [];
  for (const r of rows) {
    const p = tryProfile(() => {
      if (r.cells.length > cols.length) throw new EnrichInputError(`${name}:${r.line}: ${r.cells.length} fields, the header has ${cols.length}`);
      const rec: Record<string, unknown> = {};
      cols.forEach((c, i) => (rec[c] = r.cells[i]));
      return toProfile(rec, `${name}:${r.line}`);
    }, skip);
    if (p) out.push(p);
  }
  return out;
}

function flatten(u: unknown, where: string): Record<string, unknown> {
  if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new EnrichInputError(`${where}: a user is an object`);
  const o = u as Record<string, unknown>;
  const profile = o['profile'];
  // Okta user objects: the fields are under `profile`.
  return profile && typeof profile === 'object' && !Array.isArray(profile) ? { ...(profile as object) } : o;
}

function parseJson(text: string, name: string, skip: OnSkip): UserProfile[] {
  const trimmed = text.trim();
  let list: unknown[];
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !trimmed.includes('\n{'))) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new EnrichInputError(`${name}: invalid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    const users = Array.isArray(doc) ? doc : (doc as Record<string, unknown>)['users'];
    list = Array.isArray(users) ? users : [doc];
    const out: UserProfile[] = [];
    list.forEach((u, i) => {
      const p = tryProfile(() => toProfile(flatten(u, `${name}: user ${i + 1}`), `${name}: user ${i + 1}`), skip);
      if (p) out.push(p);
    });
    return out;
  }
  // NDJSON: one user per line.
  const out: UserProfile[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return;
    const p = tryProfile(() => {
      let u: unknown;
      try {
        u = JSON.parse(l);
      } catch (e) {
        throw new EnrichInputError(`${name}:${i + 1}: invalid JSON: ${(e as Error).message.split('\n')[0]}`);
      }
      return toProfile(flatten(u, `${name}:${i + 1}`), `${name}:${i + 1}`);
    }, skip);
    if (p) out.push(p);
  });
  return out;
}

/**
 * Parse a users file's text: JSON when it starts with `[` or `{`, CSV otherwise. A bad row is
 * skipped and reported to `skip` (default: the first bad row refuses the file); a file with no
 * usable row is refused.
 */
export function parseUsers(text: string, name: string, skip?: OnSkip): UserProfile[] {
  const t = text.replace(/^\uFEFF/, '');
  const first = t.trimStart()[0];
  let skipped = 0;
  const onSkip: OnSkip = (m) => {
    skipped++;
    if (!skip) throw new EnrichInputError(m);
    skip(m);
  };
  const users = first === '[' || first === '{' ? parseJson(t, name, onSkip) : parseCsv(t, name, onSkip);
  if (users.length === 0) throw new EnrichInputError(skipped ? `${name}: no usable users (${skipped} bad ${skipped === 1 ? 'row' : 'rows'} skipped)` : `${name}: no users`);
  return users;
}

/**
 * Replace the stored directory with these profiles (in one transaction: users no longer in the
 * file disappear); returns how many. A login given twice keeps its last row.
 */
export function importUsers(store: StateStore, users: UserProfile[]): number {
  const byLogin = new Map(users.map((u) => [u.login.toLowerCase(), u]));
  store.transaction(() => {
    const old = [...store.entries(USERS_NS)].map(([k]) => k);
    for (const k of old) if (!byLogin.has(k)) store.delete(USERS_NS, k);
    for (const [k, u] of byLogin) store.set(USERS_NS, k, u as unknown as Json);
  });
  return byLogin.size;
}

/**
 * Profiles by login: from the store (read once each and remembered for the run), or, when given
 * (`scan --users FILE`), from these profiles only, in memory.
 */
export class UserDirectory {
  private readonly memo = new Map<string, UserProfile | null>();
  private readonly fixed?: Map<string, UserProfile>;
  constructor(private readonly store?: StateStore, profiles?: readonly UserProfile[]) {
    if (profiles) this.fixed = new Map(profiles.map((u) => [u.login.toLowerCase(), u]));
  }

  get(login: string): UserProfile | undefined {
    const key = login.toLowerCase();
    if (this.fixed) return this.fixed.get(key);
    let p = this.memo.get(key);
    if (p === undefined) {
      const v = this.store?.get(USERS_NS, key) as JsonObject | undefined;
      p = v ? (v as unknown as UserProfile) : null;
      if (this.memo.size > 100_000) this.memo.clear();
      this.memo.set(key, p);
    }
    return p ?? undefined;
  }
}
