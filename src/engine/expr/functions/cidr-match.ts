/**
 * cidrMatch(ip, cidr, ...): whether the address is in one of the networks. IPv4 and IPv6 (the
 * Python engine knows only IPv4: accepting IPv6 too is a superset), via the predicate compiler's
 * CIDR helpers (src/engine/predicate/cidr.ts): an IPv4-mapped IPv6 address is tested as IPv4.
 *
 * The networks must be constant strings and are parsed when the rule compiles (an invalid one is
 * a compile error naming it); a null network makes the call null (Elasticsearch docs). A value
 * that is not an IP address is false. A null address is null in 'elasticsearch' and false in
 * 'python' (`is_string` check, no null propagation). Elasticsearch tests a multi-valued address
 * by value (true when one is in a network).
 */
import { cidrTest } from '../../predicate/cidr.js';
import { testValue } from '../patterns.js';
import type { FunctionDef } from './types.js';

export const cidrMatch: FunctionDef = {
  name: 'cidrMatch',
  minArgs: 2,
  maxArgs: Infinity,
  caseSensitivity: 'none',
  argKinds: ['string'],
  restKind: 'string',
  compile: (args, ctx) => {
    const networks: string[] = [];
    let nullNetwork = false;
    args.slice(1).forEach((a, i) => {
      const c = ctx.constant(a);
      if (c === undefined) throw new Error(`cidrMatch: argument ${i + 2} must be a constant CIDR block`);
      if (c.value === null || c.value === undefined) nullNetwork = true;
      else if (typeof c.value === 'string') networks.push(c.value);
      else throw new Error(`cidrMatch: argument ${i + 2} must be a CIDR string, not ${JSON.stringify(c.value)}`);
    });
    const test = cidrTest(networks);
    const ip = ctx.compile(args[0]!);
    if (nullNetwork) return () => null;
    if (ctx.semantics === 'python') {
      return (ev) => {
        const v = ip(ev);
        return typeof v === 'string' ? test(v) : false;
      };
    }
    return (ev) => testValue(test, ip(ev), 'elasticsearch');
  },
};
