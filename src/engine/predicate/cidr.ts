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
    if (t.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(t);
      checkAddressForm(t.slice(0, t.indexOf('/')), addr);
      return [addr, bits];
    }
    const addr = ipaddr.parse(t);
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

/** A test that the string is an address inside any of the networks. */
export function cidrTest(networks: string[]): StringTest {
  const parsed = networks.map(parseNetwork);
  return (s) => {
    const addr = parseEventAddress(s.trim());
    if (addr === undefined) return false;
    for (let i = 0; i < parsed.length; i++) if (inNetwork(addr, parsed[i]!)) return true;
    return false;
  };
}
