/**
 * Anonymizer lists: parsing the published formats into normalised entries.
 *
 *  - `tor`: the Tor Project's bulk exit list (one address per line) or its `exit-addresses`
 *    file (TorDNSEL format: `ExitNode` / `Published` / `LastStatus` / `ExitAddress ip time`);
 *    the format is recognised from the content.
 *  - `apple-relay`: Apple's iCloud Private Relay `egress-ip-ranges.csv` (`cidr,country,region,city,`,
 *    no header, IPv4 and IPv6 mixed).
 *  - `vpn`, `hosting`: CIDR lists in the X4BNet `lists_vpn` style: one address or network per
 *    line, `#` or `;` comments; an optional service name after the network (`1.2.3.0/24 NordVPN`
 *    or `1.2.3.0/24 # NordVPN`).
 *  - `asn`: one AS number per line (`AS9009`, `9009`), optionally followed by the organisation
 *    (`AS9009 M247`, `AS9009 # M247`, `9009,M247`); imported with a category (`vpn` by default,
 *    or `hosting`, `proxy`, `tor`): which class an address announced by those ASNs gets.
 *
 * A line that is none of these makes the whole import fail with `file:line: reason`; nothing is
 * stored then (the previous version of the list stays in use). So does a network wider than
 * /8 (IPv4) or /16 (IPv6): `0.0.0.0/0` in a VPN list would mark every address as a VPN.
 */
import { parseCidr } from './prefix.js';
import { EnrichInputError, shown } from './errors.js';

export const LIST_KINDS = ['tor', 'apple-relay', 'vpn', 'hosting', 'asn'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export const ASN_CATEGORIES = ['vpn', 'hosting', 'proxy', 'tor'] as const;
export type AsnCategory = (typeof ASN_CATEGORIES)[number];

/** Where to refresh each kind from when `--refresh` is given without a URL. */
export const DEFAULT_SOURCES: Partial<Record<ListKind, string>> = {
  tor: 'https://check.torproject.org/torbulkexitlist',
  'apple-relay': 'https://mask-api.icloud.com/egress-ip-ranges.csv',
  vpn: 'https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/vpn/ipv4.txt',
  hosting: 'https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/datacenter/ipv4.txt',
};

/**
 * Normalised entry lines, as stored: network kinds `cidr` or `cidr\tservice`; apple-relay
 * `cidr\tcountry\tregion\tcity`; asn `number\torganisation`.
 */
export interface ParsedList {
  kind: ListKind;
  lines: string[];
  /** For tor: which of the two formats was read. */
  format: string;
}

function isComment(line: string): boolean {
  return line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('//');
}

/** The widest network a list may hold: /8 for IPv4, /16 for IPv6. */
export const MIN_PREFIX = { 4: 8, 6: 16 } as const;

function networkOrFail(text: string, where: string, what = 'an IP address or network (CIDR)'): string {
  const net = parseCidr(text);
  if (!net) throw new EnrichInputError(`${where}: expected ${what}, got ${shown(text)}`);
  const min = MIN_PREFIX[net.ip.family];
  if (net.bits < min) {
    throw new EnrichInputError(`${where}: network ${shown(text.trim())} is too wide (/${net.bits}; at most /${min} for IPv${net.ip.family}): it would classify a large part of the internet`);
  }
  return text.trim();
}

function parseTor(lines: string[], name: string): ParsedList {
  const exitAddresses = lines.some((l) => /^ExitNode\s/.test(l.trim()));
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `${name}:${i + 1}`;
    if (isComment(line)) return;
    if (!exitAddresses) {
      out.push(networkOrFail(line, where, 'an IP address (Tor bulk exit list)'));
      return;
    }
    const [key, value] = line.split(/\s+/, 2);
    if (key === 'ExitAddress') {
      if (!value) throw new EnrichInputError(`${where}: ExitAddress without an address`);
      out.push(networkOrFail(value, where, 'an IP address after ExitAddress'));
    } else if (key !== 'ExitNode' && key !== 'Published' && key !== 'LastStatus') {
      throw new EnrichInputError(`${where}: not a line of the Tor exit-addresses format (ExitNode, Published, LastStatus, ExitAddress): ${shown(line)}`);
    }
  });
  return { kind: 'tor', lines: out, format: exitAddresses ? 'exit-addresses' : 'bulk exit list' };
}

function parseAppleRelay(lines: string[], name: string): ParsedList {
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (isComment(line)) return;
    const where = `${name}:${i + 1}`;
    const cols = line.split(',');
    if (cols.length < 2) throw new EnrichInputError(`${where}: expected cidr,country,region,city (Apple egress-ip-ranges.csv), got ${shown(line)}`);
    const cidr = networkOrFail(cols[0]!, where, 'a network (CIDR) in the first column');
    const cc = (cols[1] ?? '').trim();
    if (cc !== '' && !/^[A-Za-z]{2}$/.test(cc)) throw new EnrichInputError(`${where}: expected a two-letter country code in the second column, got ${shown(cc)}`);
    out.push([cidr, cc.toUpperCase(), (cols[2] ?? '').trim(), (cols[3] ?? '').trim()].join('\t'));
  });
  return { kind: 'apple-relay', lines: out, format: 'egress-ip-ranges.csv' };
}

function parseCidrList(kind: ListKind, lines: string[], name: string): ParsedList {
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (isComment(line)) return;
    const m = /^(\S+?)(?:\s*[,\s]\s*#?\s*(.*))?$/.exec(line);
    const cidr = networkOrFail(m?.[1] ?? line, `${name}:${i + 1}`);
    const service = (m?.[2] ?? '').trim();
    out.push(service ? `${cidr}\t${service}` : cidr);
  });
  return { kind, lines: out, format: 'CIDR list' };
}

function parseAsnList(lines: string[], name: string): ParsedList {
  const out: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (isComment(line)) return;
    const m = /^(?:AS)?(\d{1,10})(?:\s*[,\s]\s*#?\s*(.*))?$/i.exec(line);
    const n = m ? Number(m[1]) : NaN;
    if (!m || n > 4294967295) throw new EnrichInputError(`${name}:${i + 1}: expected an AS number (AS9009 or 9009, optionally followed by a name), got ${shown(line)}`);
    out.push(`${n}\t${(m[2] ?? '').trim()}`);
  });
  return { kind: 'asn', lines: out, format: 'ASN list' };
}

/** Parse a list's text; `name` is how errors name the input (a file name or a safe URL). */
export function parseList(kind: ListKind, text: string, name: string): ParsedList {
  if (text.includes('\u0000')) throw new EnrichInputError(`${name}:1: binary data, not a text list`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let parsed: ParsedList;
  switch (kind) {
    case 'tor':
      parsed = parseTor(lines, name);
      break;
    case 'apple-relay':
      parsed = parseAppleRelay(lines, name);
      break;
    case 'vpn':
    case 'hosting':
      parsed = parseCidrList(kind, lines, name);
      break;
    case 'asn':
      parsed = parseAsnList(lines, name);
      break;
  }
  if (parsed.lines.length === 0) throw new EnrichInputError(`${name}: no entries (an empty ${kind} list would erase the one in use)`);
  return parsed;
}
