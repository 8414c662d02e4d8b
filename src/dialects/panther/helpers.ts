/**
 * The helper library TypeScript/JavaScript rule bodies import as `oktopus/panther`: the
 * functions of Panther's global helpers that Okta rules use (panther_base_helpers,
 * panther_okta_helpers), written from their documented behaviour (reference panther-okta.md §1.3).
 */
import { deepGet, deepWalk, EVENT_TYPES, isPlainObject, raw } from './event.js';

export { EVENT_TYPES } from './event.js';
export const event_type = EVENT_TYPES;

/** `deep_get(obj, ...keys, {default}?)`: literal keys, case-insensitive on Panther events. */
export function deep_get(obj: unknown, ...args: unknown[]): unknown {
  const last = args[args.length - 1];
  if (isPlainObject(last) && 'default' in last) return deepGet(obj, args.slice(0, -1) as (string | number)[], last['default']);
  return deepGet(obj, args as (string | number)[]);
}

/** `deep_walk(obj, ...keys, {default, return_val}?)`. */
export function deep_walk(obj: unknown, ...args: unknown[]): unknown {
  const last = args[args.length - 1];
  if (isPlainObject(last) && ('default' in last || 'return_val' in last)) {
    const o = last as { default?: unknown; return_val?: 'all' | 'first' | 'last' };
    return deepWalk(obj, args.slice(0, -1) as (string | number)[], o.default ?? null, o.return_val ?? 'all');
  }
  return deepWalk(obj, args as (string | number)[]);
}

function plain(v: unknown): unknown {
  const r = raw(v);
  return r === undefined ? null : JSON.parse(JSON.stringify(r ?? null)) as unknown;
}

/** The PantherFlow query Panther's Okta context links to: ±30 minutes, overlapping indicators. */
export function pantherflow_investigation(event: unknown, interval = '30m'): string {
  const logType = String(deepGet(event, ['p_log_type']) ?? 'Okta.SystemLog');
  const time = String(deepGet(event, ['p_event_time']) ?? '');
  const table = `panther_logs.public.${logType.toLowerCase().replace(/\./g, '_')}`;
  const lines = [
    `union ${table}`,
    `| where p_event_time between time.parse_timestamp('${time}') - time.parse_timespan('${interval}') .. time.parse_timestamp('${time}') + time.parse_timespan('${interval}')`,
  ];
  const doc = raw(event);
  const anys: string[] = [];
  if (isPlainObject(doc)) {
    for (const [k, v] of Object.entries(doc)) {
      if (!k.startsWith('p_any_') || k === 'p_any_aws_account_ids' || !Array.isArray(v)) continue;
      anys.push(`arrays.overlap(${k}, ${JSON.stringify(v)})`);
    }
  }
  if (anys.length) lines.push(`| where ${anys.join('\n    or ')}`);
  lines.push('| sort p_event_time');
  return lines.join('\n');
}

/** `okta_alert_context(event)` (panther_okta_helpers). */
export function okta_alert_context(event: unknown): Record<string, unknown> {
  return {
    event_type: plain(deepGet(event, ['eventtype'])),
    severity: plain(deepGet(event, ['severity'])),
    actor: plain(deepGet(event, ['actor'], {})),
    client: plain(deepGet(event, ['client'], {})),
    request: plain(deepGet(event, ['request'], {})),
    outcome: plain(deepGet(event, ['outcome'], {})),
    target: plain(deepGet(event, ['target'], [])),
    debug_context: plain(deepGet(event, ['debugcontext'], {})),
    authentication_context: plain(deepGet(event, ['authenticationcontext'], {})),
    security_context: plain(deepGet(event, ['securitycontext'], {})),
    ips: plain(deepGet(event, ['p_any_ip_addresses'], [])),
    'PantherFlow Investigation': pantherflow_investigation(event),
  };
}
