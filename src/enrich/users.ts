/**
 * The user directory's profile locations (`oktopus users import FILE`, or `scan --users FILE`).
 *
 * Input: CSV with a header row, or JSON (an array of users, `{ "users": [...] }`, or NDJSON).
 * Columns / keys (case-insensitive): `login` (or `email`), `city`, `state`, `countryCode` (or
 * `country`: a code or an English name), `timezone`, and optionally `lat` / `lon`. JSON may also
 * be Okta's own user objects (`GET /api/v1/users`: the fields under `profile`).
 *
 * The profile location is the given `lat`/`lon` (precision `point`), else the centroid of the
 * profile's country (precision `country`): no city gazetteer ships with oktopus; see
 * docs/enrichment.md for what that means for distances.
 *
 * Stored in the state store, namespace `users`, key = lower-cased login.
 */
import type { Json, JsonObject } from '../event/types.js';
import type { StateStore } from '../store/types.js';
import { EnrichInputError, shown } from './errors.js';
import { countryCentroid, countryCode } from './geo.js';

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
  precision?: 'point' | 'country';
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
  } else if (p.countryCode) {
    const c0 = countryCentroid(p.countryCode);
    if (c0) {
      p.lat = c0.lat;
      p.lon = c0.lon;
      p.precision = 'country';
    }
  }
  return p;
}

function parseCsv(text: string, name: string): UserProfile[] {
  const rows = csvRows(text, name);
  const header = rows.shift();
  if (!header) throw new EnrichInputError(`${name}: empty users file`);
  const cols = header.cells.map((c) => c.trim());
  if (!cols.some((c) => ALIASES[c.toLowerCase()] === 'login')) {
    throw new EnrichInputError(`${name}:${header.line}: the header row needs a login (or email) column, got ${shown(header.cells.join(','))}`);
  }
  return rows.map((r) => {
    if (r.cells.length > cols.length) throw new EnrichInputError(`${name}:${r.line}: ${r.cells.length} fields, the header has ${cols.length}`);
    const rec: Record<string, unknown> = {};
    cols.forEach((c, i) => (rec[c] = r.cells[i]));
    return toProfile(rec, `${name}:${r.line}`);
  });
}

function flatten(u: unknown, where: string): Record<string, unknown> {
  if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new EnrichInputError(`${where}: a user is an object`);
  const o = u as Record<string, unknown>;
  const profile = o['profile'];
  // Okta user objects: the fields are under `profile`.
  return profile && typeof profile === 'object' && !Array.isArray(profile) ? { ...(profile as object) } : o;
}

function parseJson(text: string, name: string): UserProfile[] {
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
    return list.map((u, i) => toProfile(flatten(u, `${name}: user ${i + 1}`), `${name}: user ${i + 1}`));
  }
  // NDJSON: one user per line.
  const out: UserProfile[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return;
    let u: unknown;
    try {
      u = JSON.parse(l);
    } catch (e) {
      throw new EnrichInputError(`${name}:${i + 1}: invalid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    out.push(toProfile(flatten(u, `${name}:${i + 1}`), `${name}:${i + 1}`));
  });
  return out;
}

/** Parse a users file's text: JSON when it starts with `[` or `{`, CSV otherwise. */
export function parseUsers(text: string, name: string): UserProfile[] {
  const t = text.replace(/^\uFEFF/, '');
  const first = t.trimStart()[0];
  const users = first === '[' || first === '{' ? parseJson(t, name) : parseCsv(t, name);
  if (users.length === 0) throw new EnrichInputError(`${name}: no users`);
  return users;
}

/** Store profiles (all or nothing); returns how many. */
export function importUsers(store: StateStore, users: UserProfile[]): number {
  store.transaction(() => {
    for (const u of users) store.set(USERS_NS, u.login.toLowerCase(), u as unknown as Json);
  });
  return users.length;
}

/** Profiles by login, read from the store once each and remembered for the run. */
export class UserDirectory {
  private readonly memo = new Map<string, UserProfile | null>();
  constructor(private readonly store?: StateStore) {}

  get(login: string): UserProfile | undefined {
    const key = login.toLowerCase();
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
