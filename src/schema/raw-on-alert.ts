/**
 * Raw Okta field names read on alert documents.
 *
 * A Sigma or Panther rule names fields as raw Okta System Log paths (`actor.alternateId`,
 * `client.ipAddress`); the alerts such rules raise hold the ECS view of the event
 * (`okta.actor.alternate_id`, `source.ip`, src/alerts/build.ts). A correlation over those alerts
 * writes its group-by / value fields in the referenced rules' vocabulary, so here a raw path is
 * resolved on an alert document through the ECS mapping table (src/schema/ecs.ts), run
 * backwards: the alert's ECS fields are turned back into a LogEvent (`ecsToLogEvent`, once per
 * alert, cached on the event) and the raw path is read from it, case-insensitively and through
 * arrays, as on a raw event (src/schema/path.ts).
 *
 * Available on alerts: every raw field an ECS row maps back (`RAW_FIELDS_ON_ALERTS`: uuid,
 * eventType, displayMessage, actor.*, client.* (ipAddress only when a valid IP, userAgent.*,
 * zone, device, id, geographicalContext.city/state/country/geolocation), device, outcome.*,
 * target[] (id, type, alternateId, displayName, detailEntry reduced to methodTypeUsed and
 * methodUsedVerifiedProperties), transaction.*, debugContext.debugData.*,
 * authenticationContext.*, securityContext.asNumber/asOrg/domain/isProxy/isp, request.ipChain[]).
 * `published` reads the alert's `kibana.alert.original_time` (the source event's time).
 * Not available (the integration drops them): severity, version, legacyEventType,
 * client.geographicalContext.postalCode, securityContext.ipDetails, other detailEntry keys,
 * authenticationContext.interface.
 *
 * Two more readings, so a correlation can read alerts of any dialect:
 *  - `p_alert_context.<key>` (Panther's field for a rule's alert_context) reads the alert's
 *    `oktopus.panther.alert_context.<key>`;
 *  - a name the raw view lacks is read on the alert document as it is (an ECS name such as
 *    `user.name` on the alert of an Elastic rule, `kibana.alert.severity`).
 * On an Okta event (not an alert) the raw path is read directly.
 */
import type { CanonicalEvent, JsonObject, LogEvent } from '../event/types.js';
import { compilePath } from './path.js';
import { ECS_FIELDS, ecsToLogEvent } from './ecs.js';

export type RawAccessor = (ev: CanonicalEvent) => unknown;

const CACHE = 'raw-on-alert';

/** The LogEvent an alert document stands for (its ECS fields mapped back), once per alert. */
export function rawViewOfAlert(ev: CanonicalEvent): LogEvent {
  const hit = ev.cache.get(CACHE) as LogEvent | undefined;
  if (hit) return hit;
  const body: JsonObject = {};
  for (const [k, v] of Object.entries(ev.doc)) if (!k.startsWith('kibana.') && k !== 'kibana') body[k] = v;
  const raw = ecsToLogEvent(body);
  const original = ev.doc['kibana.alert.original_time'];
  if (typeof original === 'string') raw.published = original;
  ev.cache.set(CACHE, raw);
  return raw;
}

/** An accessor for a raw Okta path that works on Okta events and on alert events alike. */
export function rawOnAlert(name: string): RawAccessor {
  const raw = compilePath(name, { caseInsensitive: true });
  const asIs = compilePath(name);
  if (name.startsWith('p_alert_context.')) {
    const ctx = compilePath(`oktopus.panther.alert_context.${name.slice('p_alert_context.'.length)}`);
    return (ev) => (ev.kind === 'alert' ? ctx(ev.doc) : raw(ev.doc));
  }
  return (ev) => {
    if (ev.kind !== 'alert') return raw(ev.doc);
    const v = raw(rawViewOfAlert(ev) as unknown as JsonObject);
    return v !== undefined ? v : asIs(ev.doc);
  };
}

/** Raw LogEvent paths an alert carries (through the ECS mapping), for docs and explain. */
export const RAW_FIELDS_ON_ALERTS: readonly string[] = Object.freeze(
  [...new Set(ECS_FIELDS.flatMap((f) => (f.back ? [f.back.path] : [])))].sort(),
);
