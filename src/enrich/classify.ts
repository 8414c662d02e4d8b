/**
 * Anonymizer classification of one address, in order of trust:
 *  1. Okta's own verdicts on the event: `securityContext.ipDetails.ipServiceCategories[]` (type
 *     VPN / Proxy / Tor / Residential Proxy / Blockchain VPN, operator, isAnonymous; or
 *     `request.ipChain[].ipDetails` for a chain entry), and `securityContext.isProxy`;
 *  2. the imported lists (Tor exits, Apple iCloud Private Relay egress ranges, VPN and hosting
 *     networks, ASN lists by the address's AS number).
 * A flag is true when any source says so; `service` is the first name given, most trusted
 * source first; `source` lists every source that classified the address, most trusted first.
 * Okta's `isProxy: false` does not clear a list's verdict (Okta's "known proxy" set is not a
 * superset of the Tor exit list), and a list never clears Okta's `isProxy: true`.
 *
 * Okta's explicit not-anonymous: when the address's service categories say `isAnonymous: false`
 * (and none says true) — a corporate VPN such as GlobalProtect — the address is not anonymous:
 * those categories set no vpn/proxy flag (their operator is still the `service`), and neither do
 * VPN or proxy lists (Okta's per-event verdict on that very address is more specific than a
 * network list); Tor and Apple relay lists still count (`isProxy: true` alone does not).
 */
import type { Json, JsonObject } from '../event/types.js';
import type { ListHit } from './intel.js';

export interface Anonymizer extends JsonObject {
  /** Any anonymizing service: tor, vpn, relay or proxy (hosting alone is not anonymous). */
  anonymous: boolean;
  tor: boolean;
  vpn: boolean;
  relay: boolean;
  hosting: boolean;
  /** An anonymizing proxy that is not known to be Tor, a VPN or a relay (ipinfo's `proxy`). */
  proxy: boolean;
  service: string | null;
  source: string[];
}

const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Okta's service categories, wherever Okta puts them (`ipServiceCategories[]`, or one object). */
function categoriesOf(ipDetails: unknown): JsonObject[] {
  if (!isObj(ipDetails)) return [];
  const cats = ipDetails['ipServiceCategories'];
  if (Array.isArray(cats)) return cats.filter(isObj);
  return typeof ipDetails['type'] === 'string' ? [ipDetails] : [];
}

const RELAY = /apple|icloud/i;

export interface OktaVerdict {
  isProxy?: Json;
  ipDetails?: Json;
  /** securityContext.isp: "iCloud Private Relay" names Apple's relay. */
  isp?: Json;
}

export function classify(okta: OktaVerdict, hits: readonly ListHit[], asnHit: ListHit | undefined): Anonymizer {
  const a: Anonymizer = { anonymous: false, tor: false, vpn: false, relay: false, hosting: false, proxy: false, service: null, source: [] };
  let oktaProxy = false;
  const name = (s: string | undefined) => {
    if (s && a.service === null) a.service = s;
  };
  const cats = categoriesOf(okta.ipDetails);
  const notAnonymous = cats.some((c) => c['isAnonymous'] === false || c['isAnonymous'] === 'false') && !cats.some((c) => c['isAnonymous'] === true || c['isAnonymous'] === 'true');
  for (const c of cats) {
    if (notAnonymous) {
      name(typeof c['operator'] === 'string' && c['operator'] !== '' ? c['operator'] : undefined);
      continue;
    }
    const type = String(c['type'] ?? '').toLowerCase();
    const operator = typeof c['operator'] === 'string' && c['operator'] !== '' ? c['operator'] : undefined;
    if (operator && RELAY.test(operator)) {
      a.relay = true;
      name('Apple Private Relay');
    } else if (type === 'tor') a.tor = true;
    else if (type.includes('vpn')) a.vpn = true;
    else if (type.includes('proxy')) a.proxy = true;
    if (c['isAnonymous'] === true || c['isAnonymous'] === 'true') a.anonymous = true;
    name(operator);
  }
  if (cats.length > 0) a.source.push('okta:ipServiceCategories');
  if (okta.isProxy === true || okta.isProxy === 'true') {
    oktaProxy = true;
    a.source.push('okta:isProxy');
    if (typeof okta.isp === 'string' && /icloud private relay/i.test(okta.isp)) {
      a.relay = true;
      name('Apple Private Relay');
    }
  }
  for (const h of [...hits, ...(asnHit ? [asnHit] : [])]) {
    const k = h.kind === 'asn' ? h.category : h.kind;
    if (notAnonymous && (k === 'vpn' || k === 'proxy')) continue; // overruled by Okta (above)
    if (k === 'tor') a.tor = true;
    else if (k === 'apple-relay') a.relay = true;
    else if (k === 'vpn') a.vpn = true;
    else if (k === 'hosting') a.hosting = true;
    else if (k === 'proxy') a.proxy = true;
    name(h.service);
    a.source.push(h.source);
  }
  // Okta says "a known proxy" and nothing more specific is known: an anonymizing proxy.
  if (oktaProxy && !notAnonymous && !a.tor && !a.vpn && !a.relay) a.proxy = true;
  a.anonymous = a.anonymous || a.tor || a.vpn || a.relay || a.proxy;
  return a;
}
