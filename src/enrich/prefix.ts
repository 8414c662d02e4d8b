/**
 * Longest-prefix match over IPv4 and IPv6 networks (ipaddr.js parses; we match).
 *
 * Layout: per address family, one hash map per prefix length present, keyed by the network
 * address masked to that length (IPv4: an unsigned 32-bit number; IPv6: the masked 128-bit
 * address as a bigint). A lookup tries the lengths present from longest to shortest, so it costs
 * at most one mask and one map probe per distinct length (≤ 33 for IPv4, ≤ 129 for IPv6; real
 * lists use a handful). Building is O(n). An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is
 * looked up as IPv4.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

/** A parsed address: IPv4 as a uint32 number, IPv6 as a 128-bit bigint. */
export type ParsedIp = { family: 4; v4: number } | { family: 6; v6: bigint };

/** Dotted quads only: ipaddr.js also takes `1.2.3`, `0x7f.1` and other inet_aton forms. */
const FOUR_PART = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const plausible = (addr: string): boolean => addr.includes(':') || FOUR_PART.test(addr);

export function parseIp(text: string): ParsedIp | undefined {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  if (!plausible(text.trim())) return undefined;
  try {
    a = ipaddr.parse(text.trim());
  } catch {
    return undefined;
  }
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return fromAddr(a);
}

function fromAddr(a: ipaddr.IPv4 | ipaddr.IPv6): ParsedIp {
  const bytes = a.toByteArray();
  if (a.kind() === 'ipv4') return { family: 4, v4: ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0 };
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: 6, v6: v };
}

/** `a.b.c.d/n`, `v6::/n`, or a bare address (a host route). Undefined when not a network. */
export function parseCidr(text: string): { ip: ParsedIp; bits: number } | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(t);
    return ip ? { ip, bits: ip.family === 4 ? 32 : 128 } : undefined;
  }
  const addrText = t.slice(0, slash);
  const lenText = t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || !plausible(addrText)) return undefined;
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(addrText);
  } catch {
    return undefined;
  }
  let bits = Number(lenText);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    a = (a as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  if (bits > (a.kind() === 'ipv4' ? 32 : 128)) return undefined;
  return { ip: fromAddr(a), bits };
}

const V4_MASKS: number[] = Array.from({ length: 33 }, (_, n) => (n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0));
const ALL128 = (1n << 128n) - 1n;
const V6_MASKS: bigint[] = Array.from({ length: 129 }, (_, n) => (n === 0 ? 0n : (ALL128 >> BigInt(128 - n)) << BigInt(128 - n)));

export interface PrefixMatch<T> {
  value: T;
  /** Prefix length of the matching network. */
  bits: number;
}

export class PrefixTable<T> {
  private readonly v4 = new Map<number, Map<number, T>>();
  private readonly v6 = new Map<number, Map<bigint, T>>();
  private v4Lengths: number[] = [];
  private v6Lengths: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Add a network; a later insert of the same network replaces the earlier value. */
  insert(net: { ip: ParsedIp; bits: number }, value: T): void {
    if (net.ip.family === 4) {
      let m = this.v4.get(net.bits);
      if (!m) {
        this.v4.set(net.bits, (m = new Map()));
        this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
      }
      const key = (net.ip.v4 & V4_MASKS[net.bits]!) >>> 0;
      if (!m.has(key)) this.count++;
      m.set(key, value);
    } else {
      let m = this.v6.get(net.bits);
      if (!m) {
        this.v6.set(net.bits, (m = new Map()));
        this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
      }
      const key = net.ip.v6 & V6_MASKS[net.bits]!;
      if (!m.has(key)) this.count++;
      m.set(key, value);
    }
  }

  /** Insert from text; false when the text is not an address or network. */
  insertText(cidr: string, value: T): boolean {
    const net = parseCidr(cidr);
    if (!net) return false;
    this.insert(net, value);
    return true;
  }

  /** The most specific network containing the address. */
  match(ip: ParsedIp): PrefixMatch<T> | undefined {
    if (ip.family === 4) {
      for (const bits of this.v4Lengths) {
        const v = this.v4.get(bits)!.get((ip.v4 & V4_MASKS[bits]!) >>> 0);
        if (v !== undefined) return { value: v, bits };
      }
      return undefined;
    }
    for (const bits of this.v6Lengths) {
      const v = this.v6.get(bits)!.get(ip.v6 & V6_MASKS[bits]!);
      if (v !== undefined) return { value: v, bits };
    }
    return undefined;
  }

  lookup(text: string): PrefixMatch<T> | undefined {
    const ip = parseIp(text);
    return ip ? this.match(ip) : undefined;
  }
}

/**
 * ipaddr.js's range name for addresses that are not on the public internet (private,
 * loopback, link-local, unique-local, reserved, documentation…), or undefined for a public
 * ('unicast') address. No geolocation or list applies to these.
 */
export function nonPublicRange(text: string): string | undefined {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(text.trim());
  } catch {
    return undefined;
  }
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  const r = a.range();
  return r === 'unicast' ? undefined : r;
}
