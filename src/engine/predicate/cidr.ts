/**
 * IP network membership (`cidr`), IPv4 and IPv6, via ipaddr.js.
 *
 * Rule networks are parsed once, at compile time (`10.0.0.0/8`, `2001:db8::/32`; a bare address
 * is a /32 or /128). Event values must be textual addresses: IPv4 in dotted four-part decimal
 * (`ipaddr.js` would also accept `0x7f.1`-style forms, which are not IP addresses in logs),
 * or IPv6 (zone ids allowed). An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is tested as
 * the IPv4 address, and an IPv4 address against an IPv6 network as its mapped form.
 * Anything that is not an IP address does not match.
 */
import ipaddr from 'ipaddr.js';
import type { StringTest } from './values.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
type Network = [Addr, number];

/** Parses `addr/bits` or a bare address; throws an Error naming the value when invalid. */
export function parseNetwork(text: string): Network {
  const t = text.trim();
  try {
    // The family is known from the text (ipaddr.parse tries IPv6 first: slow for long IPv4 lists).
    const family = t.includes(':') ? ipaddr.IPv6 : ipaddr.IPv4;
    if (t.includes('/')) {
      const [addr, bits] = family.parseCIDR(t);
      checkAddressForm(t.slice(0, t.indexOf('/')), addr);
      return [addr, bits];
    }
    const addr = family.parse(t);
    checkAddressForm(t, addr);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cidr '${text}' is not an IPv4/IPv6 network: ${why}`);
  }
}

function checkAddressForm(text: string, addr: Addr): void {
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw new Error('IPv4 addresses must be written as four decimal parts');
  }
}

/** Parses an event value as an IP address, or undefined when it is not one. */
export function parseEventAddress(s: string): Addr | undefined {
  if (s.includes(':')) {
    if (!ipaddr.IPv6.isValid(s)) return undefined;
    return ipaddr.IPv6.parse(s);
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return ipaddr.IPv4.parse(s);
}

function inNetwork(addr: Addr, [net, bits]: Network): boolean {
  if (addr.kind() === net.kind()) return addr.match(net, bits);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    return v6.isIPv4MappedAddress() && v6.toIPv4Address().match(net, bits);
  }
  return (addr as ipaddr.IPv4).toIPv4MappedAddress().match(net, bits);
}

/** Above this many networks, membership is looked up per prefix length instead of network by network. */
const INDEX_FROM = 32;

/** The address's first `bits` bits as a lookup key. */
function prefixKey(bytes: number[], bits: number): string {
  let key = '';
  for (let i = 0; i * 8 < bits; i++) {
    const keep = Math.min(8, bits - i * 8);
    key += String.fromCharCode(bytes[i]! & ((0xff << (8 - keep)) & 0xff));
  }
  return key;
}

/**
 * Many networks (an exception value list of IP ranges, src/exceptions): one set of network
 * prefixes per family and prefix length, so a test costs one lookup per distinct length. Same
 * answers as the linear test, IPv4-mapped IPv6 addresses included.
 */
function indexedCidrTest(parsed: Network[]): StringTest {
  const sets = { ipv4: new Map<number, Set<string>>(), ipv6: new Map<number, Set<string>>() };
  for (const [net, bits] of parsed) {
    const byLen = sets[net.kind()];
    let set = byLen.get(bits);
    if (!set) byLen.set(bits, (set = new Set()));
    set.add(prefixKey(net.toByteArray(), bits));
  }
  const inFamily = (byLen: Map<number, Set<string>>, bytes: number[]): boolean => {
    for (const [bits, set] of byLen) if (set.has(prefixKey(bytes, bits))) return true;
    return false;
  };
  return (s) => {
    const addr = parseEventAddress(s.trim());
    if (addr === undefined) return false;
    if (addr.kind() === 'ipv4') return inFamily(sets.ipv4, addr.toByteArray()) || (sets.ipv6.size > 0 && inFamily(sets.ipv6, (addr as ipaddr.IPv4).toIPv4MappedAddress().toByteArray()));
    const v6 = addr as ipaddr.IPv6;
    return inFamily(sets.ipv6, v6.toByteArray()) || (v6.isIPv4MappedAddress() && inFamily(sets.ipv4, v6.toIPv4Address().toByteArray()));
  };
}

/** A test that the string is an address inside any of the networks. */
export function cidrTest(networks: string[]): StringTest {
  const parsed = networks.map(parseNetwork);
  if (parsed.length > INDEX_FROM) return indexedCidrTest(parsed);
  return (s) => {
    const addr = parseEventAddress(s.trim());
    if (addr === undefined) return false;
    for (let i = 0; i < parsed.length; i++) if (inNetwork(addr, parsed[i]!)) return true;
    return false;
  };
}
