/**
 * What the `oktopus intel …` and `oktopus users …` commands do (the CLI only parses flags).
 * `users sync` (the directory from `GET /api/v1/users`) is registered in src/cli/live-commands.ts
 * with the other Okta API commands; its work is `usersSync` here.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { StateStore } from '../store/types.js';
import { EnrichInputError, safeUrl, shown } from './errors.js';
import { importList, listVersions, type ImportResult, type ListVersion } from './intel.js';
import { ASN_CATEGORIES, DEFAULT_SOURCES, LIST_KINDS, type AsnCategory, type ListKind } from './lists.js';
import { importUsers, parseUsers, placeProfile, type UserProfile } from './users.js';
import { countryCode } from './geo.js';
import { usersUrl, type OktaLogClient } from '../sources/okta-api.js';

export function checkKind(kind: string | undefined): ListKind {
  if (!kind) throw new EnrichInputError(`--kind is required (one of ${LIST_KINDS.join(', ')})`);
  if (!(LIST_KINDS as readonly string[]).includes(kind)) throw new EnrichInputError(`--kind must be one of ${LIST_KINDS.join(', ')}, got: ${kind}`);
  return kind as ListKind;
}

export function checkCategory(kind: ListKind, category: string | undefined): AsnCategory | undefined {
  if (category === undefined) return kind === 'asn' ? 'vpn' : undefined;
  if (kind !== 'asn') throw new EnrichInputError('--category applies to --kind asn only');
  if (!(ASN_CATEGORIES as readonly string[]).includes(category)) throw new EnrichInputError(`--category must be one of ${ASN_CATEGORIES.join(', ')}, got: ${category}`);
  return category as AsnCategory;
}

/** A text file, gunzipped when it is gzip. */
export function readText(path: string, what: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EnrichInputError(`${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new EnrichInputError(`${path}: damaged gzip data (${(e as Error).message})`);
    }
  }
  return buf.toString('utf8');
}

/** The largest list `--refresh` downloads (Apple's relay CSV, the largest source, is ~12 MB). */
export const MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;

/** Download a list; any failure is one line naming the URL (without credentials or query). */
export async function download(url: string, timeoutMs = 30_000, maxBytes = MAX_DOWNLOAD_BYTES): Promise<string> {
  const shownUrl = safeUrl(url);
  let res: Response;
  try {
    // Credentials in the URL go in an Authorization header (fetch refuses them in the URL).
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (u.username || u.password) {
      headers['authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow', headers });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    // Never echo the URL as given (credentials, tokens in the query): keep the reason only.
    const why = (cause?.code ?? cause?.message ?? (e as Error).message).replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, shownUrl).split('\n')[0];
    throw new EnrichInputError(`--refresh ${shownUrl}: cannot download (${why}); offline? import a downloaded copy with: oktopus intel import FILE --kind KIND`);
  }
  if (!res.ok) throw new EnrichInputError(`--refresh ${shownUrl}: the server answered HTTP ${res.status}`);
  const tooBig = () => new EnrichInputError(`--refresh ${shownUrl}: the download is larger than ${Math.round(maxBytes / 1048576)} MiB, the most a list may be; download it yourself and import the file if it is right`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig();
  }
  // Count what arrives (the length may be absent, wrong, or of compressed data).
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > maxBytes) {
          await res.body.cancel().catch(() => undefined);
          throw tooBig();
        }
        chunks.push(chunk);
      }
    }
  } catch (e) {
    if (e instanceof EnrichInputError) throw e;
    throw new EnrichInputError(`--refresh ${shownUrl}: the download failed (${(e as Error).message.split('\n')[0]})`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface IntelImportOptions {
  kind?: string;
  category?: string;
  /** `true` for the kind's default source, or a URL. */
  refresh?: string | boolean;
}

export async function intelImport(store: StateStore, file: string | undefined, opts: IntelImportOptions): Promise<ImportResult> {
  const kind = checkKind(opts.kind);
  const category = checkCategory(kind, opts.category);
  if (opts.refresh !== undefined && opts.refresh !== false) {
    if (file) throw new EnrichInputError('give either FILE or --refresh, not both');
    const url = typeof opts.refresh === 'string' ? opts.refresh : DEFAULT_SOURCES[kind];
    if (!url) throw new EnrichInputError(`--refresh: no default source for --kind ${kind}; give its URL (--refresh URL)`);
    if (!/^https?:\/\//i.test(url)) throw new EnrichInputError(`--refresh expects an http(s) URL, got: ${safeUrl(url)}`);
    const text = await download(url);
    return importList(store, { kind, category, text, source: safeUrl(url) });
  }
  if (!file) throw new EnrichInputError('intel import needs a FILE (or --refresh [URL])');
  return importList(store, { kind, category, text: readText(file, 'list'), source: file });
}

export function describeVersion(v: ListVersion): string {
  return `${v.kind}${v.category ? `:${v.category}` : ''} v${v.version}, imported ${v.imported}, ${v.entries} entries (${v.format}) from ${v.source}`;
}

export function intelList(store: StateStore): ListVersion[] {
  return listVersions(store);
}

/**
 * A users file's profiles; each bad row skipped is one `warn` line (`FILE:LINE: reason`), at most
 * 20, then one line with the count of the others.
 */
export function readUsers(file: string, warn: (line: string) => void, limit = 20): { users: UserProfile[]; skipped: number } {
  let skipped = 0;
  const users = parseUsers(readText(file, 'users file'), file, (m) => {
    if (++skipped <= limit) warn(`warning: ${m}; skipped`);
  });
  if (skipped > limit) warn(`warning: ${file}: ${skipped - limit} more bad rows skipped (${skipped} in all)`);
  return { users, skipped };
}

/** `oktopus users import FILE`: replaces the stored directory with the file's profiles. */
export function usersImport(store: StateStore, file: string, warn: (line: string) => void = () => {}): { imported: number; skipped: number } {
  const { users, skipped } = readUsers(file, warn);
  return { imported: importUsers(store, users), skipped };
}

/**
 * One Okta user object (`GET /api/v1/users`) as a directory profile: `profile.login`, `city`,
 * `state`, `countryCode`, `timezone`, placed as `users import` places them (the state's centre,
 * else the country's centroid). A user without a login is skipped (the reason is returned); an
 * unknown country code is dropped with a warning and the user kept (the login still matters).
 */
export function oktaUserProfile(user: unknown, where: string, warn: (line: string) => void): UserProfile | string {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) return `${where}: not a user object`;
  const profile = (user as Record<string, unknown>)['profile'];
  if (profile === null || typeof profile !== 'object' || Array.isArray(profile)) return `${where}: no profile`;
  const f = profile as Record<string, unknown>;
  const text = (k: string): string | undefined => {
    const v = f[k];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const login = text('login');
  if (!login) return `${where}: no profile.login`;
  const p: UserProfile = { login };
  for (const k of ['city', 'state', 'timezone'] as const) {
    const v = text(k);
    if (v !== undefined) p[k] = v;
  }
  const cc = text('countryCode');
  if (cc !== undefined) {
    const code = countryCode(cc);
    if (code) p.countryCode = code;
    else warn(`warning: ${where} (${shown(login)}): unknown countryCode ${shown(cc)}; kept without a country`);
  }
  placeProfile(p);
  return p;
}

export interface UsersSyncResult {
  imported: number;
  pages: number;
  /** Users with a profile location (a country at least). */
  located: number;
  skipped: number;
}

/**
 * `oktopus users sync`: every user of the org (`GET /api/v1/users?limit=200`, following
 * `rel="next"`), then the stored directory replaced by them in one transaction, as `users import`
 * does. Nothing is stored unless the whole listing was read (an error midway leaves the stored
 * directory as it was); an org listing no user leaves it as it was too.
 */
export async function usersSync(store: StateStore, client: OktaLogClient, warn: (line: string) => void = () => {}, limit = 200): Promise<UsersSyncResult> {
  const users: UserProfile[] = [];
  let pages = 0;
  let skipped = 0;
  let n = 0;
  for await (const page of client.list(usersUrl(client.baseUrl, limit), 'users')) {
    pages++;
    for (const u of page.events) {
      const p = oktaUserProfile(u, `user ${++n}`, warn);
      if (typeof p === 'string') {
        if (++skipped <= 20) warn(`warning: ${p}; skipped`);
        continue;
      }
      users.push(p);
    }
  }
  if (skipped > 20) warn(`warning: ${skipped - 20} more users skipped (${skipped} in all)`);
  if (users.length === 0) throw new EnrichInputError(`GET /api/v1/users listed no usable user${skipped ? ` (${skipped} skipped)` : ''}; the stored directory is unchanged`);
  const imported = importUsers(store, users);
  const byLogin = new Map(users.map((u) => [u.login.toLowerCase(), u]));
  return { imported, pages, located: [...byLogin.values()].filter((u) => u.countryCode !== undefined).length, skipped };
}
