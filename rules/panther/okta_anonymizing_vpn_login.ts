/**
 * Okta.Anonymizing.VPN.Login — a TypeScript port of Panther's okta_anonymizing_vpn_login.py
 * (panther-labs/panther-analysis, title as of f3106fdd). The YAML beside it holds the metadata
 * and the tests (`Filename: okta_anonymizing_vpn_login.ts`).
 *
 * Behaviour, function by function, as the Python:
 *  - rule:     eventType is user.session.start and securityContext.isProxy is truthy
 *              (Python truthiness; FAILURE sign-ins match too: there is no outcome filter);
 *  - title:    "<displayName> <<alternateId>> attempted to sign-in from anonymizing VPN - {…}"
 *              where {…} is the IP context printed as Python prints a dict;
 *  - severity: INFO when ipinfo_privacy says Apple Private Relay, MEDIUM otherwise;
 *  - alert_context: okta_alert_context(event);
 *  - no dedup(): the dedup string is the title (DedupPeriodMinutes 360 in the YAML).
 *
 * One deliberate difference: the Python builds its (label, value) pairs from set literals
 * (`{"ASO", asOrg}`), whose iteration order depends on PYTHONHASHSEED — labels and values can
 * swap, a label can vanish when two values are equal, and a value equal to its label raises.
 * Its title (and so its dedup string) changes between processes. This port uses ordered pairs:
 * IP, ASO, ISP, Domain, Service — what the code means, not what it does.
 */
import { okta_alert_context } from 'oktopus/panther';

interface PantherEvent {
  get(key: string, dflt?: unknown): unknown;
  deep_get(...keys: unknown[]): unknown;
}

/** Python's truth value. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** Python's repr of a str. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

function pyValue(v: unknown): string {
  if (typeof v === 'string') return pyRepr(v);
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return String(v);
}

const PRIVACY_SERVICE = ['p_enrichment', 'ipinfo_privacy', 'client.ipAddress', 'service'];

export function rule(event: PantherEvent): boolean {
  return event.get('eventType') === 'user.session.start' && truthy(event.deep_get('securityContext', 'isProxy', { default: false }));
}

export function title(event: PantherEvent): string {
  const context: [string, unknown][] = [];
  const client = (event.get('client', {}) ?? {}) as PantherEvent;
  const security = (event.get('securityContext', {}) ?? {}) as PantherEvent;
  const ip = client.get('ipAddress');
  if (truthy(ip)) context.push(['IP', ip]);
  for (const [label, value] of [
    ['ASO', security.get('asOrg')],
    ['ISP', security.get('isp')],
    ['Domain', security.get('domain')],
  ] as [string, unknown][]) {
    if (truthy(value)) context.push([label, value]);
  }
  const service = event.deep_get(...PRIVACY_SERVICE);
  if (truthy(service)) context.push(['Service', service]);
  const dict = `{${context.map(([k, v]) => `${pyRepr(k)}: ${pyValue(v)}`).join(', ')}}`;
  const displayName = event.deep_get('actor', 'displayName', { default: '<displayName-not-found>' });
  const alternateId = event.deep_get('actor', 'alternateId', { default: 'alternateId-not-found' });
  return `${String(displayName)} <${String(alternateId)}> attempted to sign-in from anonymizing VPN - ${dict}`;
}

export function alert_context(event: PantherEvent): Record<string, unknown> {
  return okta_alert_context(event);
}

export function severity(event: PantherEvent): string {
  // If the user is using Apple Private Relay, demote the severity to INFO.
  if (event.deep_get(...PRIVACY_SERVICE) === 'Apple Private Relay') return 'INFO';
  return 'MEDIUM';
}
