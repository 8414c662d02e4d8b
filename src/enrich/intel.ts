/**
 * Imported anonymizer lists in the state store, and their in-memory index.
 *
 * Store layout (namespace `intel`): key `list:<kind>` (`list:asn:<category>` for ASN lists) holds
 * the current version `{ kind, category?, version, imported, source, format, sha256, entries,
 * lines }`; key `history:<same>` holds the metadata (no lines) of every version imported, newest
 * last. A re-import of the same content (same SHA-256) only refreshes the date.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../event/types.js';
import type { StateStore } from '../store/types.js';
import { PrefixTable, parseCidr, type ParsedIp } from './prefix.js';
import { parseList, type AsnCategory, type ListKind } from './lists.js';

export const INTEL_NS = 'intel';

export interface ListVersion {
  kind: ListKind;
  category?: AsnCategory;
  version: number;
  /** ISO time of the import. */
  imported: string;
  /** File name or URL (without credentials or query) it came from. */
  source: string;
  format: string;
  sha256: string;
  entries: number;
}

interface StoredList extends ListVersion {
  lines: string[];
}

function listKey(kind: ListKind, category?: AsnCategory): string {
  return kind === 'asn' ? `list:asn:${category ?? 'vpn'}` : `list:${kind}`;
}

export interface ImportResult {
  version: ListVersion;
  unchanged: boolean;
}

/** Parse and store a list (all or nothing). `now` is the import date. */
export function importList(store: StateStore, opts: { kind: ListKind; category?: AsnCategory; text: string; source: string; now?: Date }): ImportResult {
  const parsed = parseList(opts.kind, opts.text, opts.source);
  const key = listKey(opts.kind, opts.category);
  const sha256 = createHash('sha256').update(parsed.lines.join('\n')).digest('hex');
  const prev = store.get(INTEL_NS, key) as unknown as StoredList | undefined;
  const imported = (opts.now ?? new Date()).toISOString();
  const unchanged = prev?.sha256 === sha256;
  const version: ListVersion = {
    kind: opts.kind,
    ...(opts.kind === 'asn' ? { category: opts.category ?? 'vpn' } : {}),
    version: unchanged ? prev!.version : (prev?.version ?? 0) + 1,
    imported,
    source: opts.source,
    format: parsed.format,
    sha256,
    entries: parsed.lines.length,
  };
  const history = ((store.get(INTEL_NS, `history:${key}`) as unknown as ListVersion[] | undefined) ?? []).filter((h) => !(unchanged && h.version === version.version));
  store.transaction(() => {
    store.set(INTEL_NS, key, { ...version, lines: parsed.lines } as unknown as Json);
    store.set(INTEL_NS, `history:${key}`, [...history, version].slice(-50) as unknown as Json);
  });
  return { version, unchanged };
}

/** The current version of every imported list (metadata only). */
export function listVersions(store: StateStore): ListVersion[] {
  const out: ListVersion[] = [];
  for (const [k, v] of store.entries(INTEL_NS, 'list:')) {
    if (!k.startsWith('list:')) continue;
    const { lines: _lines, ...meta } = v as unknown as StoredList;
    out.push(meta);
  }
  return out.sort((a, b) => listKey(a.kind, a.category).localeCompare(listKey(b.kind, b.category)));
}

/** What a list says about an address (or an AS number). */
export interface ListHit {
  kind: ListKind;
  category?: AsnCategory;
  service?: string;
  /** Apple relay ranges: the coarse location Apple publishes for the range. */
  country?: string;
  region?: string;
  city?: string;
  /** `list:<kind>@<import date>`: which list and version said so. */
  source: string;
}

/** The lists of a store, indexed: one prefix table per network list, a map per ASN category. */
export class IntelIndex {
  readonly tables: { kind: ListKind; table: PrefixTable<ListHit> }[] = [];
  readonly asns = new Map<number, ListHit>();
  readonly versions: ListVersion[] = [];

  static fromStore(store: StateStore): IntelIndex {
    const idx = new IntelIndex();
    for (const [k, v] of store.entries(INTEL_NS, 'list:')) {
      if (k.startsWith('list:')) idx.add(v as unknown as StoredList);
    }
    return idx;
  }

  get empty(): boolean {
    return this.tables.length === 0 && this.asns.size === 0;
  }

  add(list: StoredList): void {
    const { lines, ...meta } = list;
    this.versions.push(meta);
    const source = `list:${list.kind}${list.category ? `:${list.category}` : ''}@${list.imported.slice(0, 10)}`;
    if (list.kind === 'asn') {
      for (const line of lines) {
        const [n, name] = line.split('\t');
        this.asns.set(Number(n), { kind: 'asn', category: list.category ?? 'vpn', ...(name ? { service: name } : {}), source });
      }
      return;
    }
    const table = new PrefixTable<ListHit>();
    const shared: ListHit = { kind: list.kind, source, ...(list.kind === 'tor' ? { service: 'Tor' } : {}) };
    for (const line of lines) {
      const cols = line.split('\t');
      const net = parseCidr(cols[0]!);
      if (!net) continue; // validated at import
      if (list.kind === 'apple-relay') {
        const hit: ListHit = { kind: 'apple-relay', service: 'Apple Private Relay', source };
        if (cols[1]) hit.country = cols[1];
        if (cols[2]) hit.region = cols[2];
        if (cols[3]) hit.city = cols[3];
        table.insert(net, hit);
      } else if (cols[1]) table.insert(net, { ...shared, service: cols[1] });
      else table.insert(net, shared);
    }
    this.tables.push({ kind: list.kind, table });
  }

  /** Every list that contains the address, most trusted kind first (tor, apple-relay, vpn, hosting). */
  match(ip: ParsedIp): ListHit[] {
    const out: ListHit[] = [];
    for (const { table } of this.tables) {
      const m = table.match(ip);
      if (m) out.push(m.value);
    }
    return out;
  }

  asn(n: number | undefined): ListHit | undefined {
    return n === undefined ? undefined : this.asns.get(n);
  }
}
