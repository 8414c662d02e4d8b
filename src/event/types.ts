/**
 * The canonical event.
 *
 * Every source is turned into one of these before any rule sees it. For Okta records the
 * payload is the Okta System Log `LogEvent` exactly as the API returns it (camelCase keys,
 * unknown fields kept); alerts raised by our own rules travel through the same pipeline as
 * `kind: "alert"` events whose payload is the Kibana-compatible alert document.
 */

/** A JSON value as it appears in a log record. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Okta System Log LogEvent (https://developer.okta.com/docs/reference/api/system-log/). */
export interface LogEvent extends JsonObject {
  uuid: string;
  published: string;
  eventType: string;
}

export type EventKind = 'okta' | 'alert';

export interface CanonicalEvent {
  kind: EventKind;
  /** Stable id: Okta `uuid`, or the alert's `kibana.alert.uuid`. */
  id: string;
  /** Event time in epoch milliseconds (Okta `published`, or the alert's `@timestamp`). */
  time: number;
  /** Lower-cased Okta eventType (for okta events) used by the rule index; '' for alerts. */
  eventType: string;
  /** The Okta LogEvent (kind okta) or the alert document (kind alert). */
  doc: JsonObject;
  /** Where the record came from: `file:line`, `hook`, `api`, `alert`. */
  origin: string;
  /** Higher-order depth: 0 for source events, 1 + max input depth for alerts. */
  depth: number;
  /** Record-shape the adapter recognised (okta, hook, ecs, panther, alert). */
  shape: string;
  /** Per-event cache for derived views (the ECS view, enrichment), filled lazily. */
  cache: Map<string, unknown>;
}

export function makeEvent(init: Omit<CanonicalEvent, 'cache'>): CanonicalEvent {
  return {
    kind: init.kind,
    id: init.id,
    time: init.time,
    eventType: init.eventType,
    doc: init.doc,
    origin: init.origin,
    depth: init.depth,
    shape: init.shape,
    cache: new Map(),
  };
}
