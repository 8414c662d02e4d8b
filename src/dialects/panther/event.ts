/**
 * The event object Panther rule bodies receive (Panther's `PantherEvent`, an immutable
 * case-insensitive dict; reference panther-okta.md §1.3):
 *  - key lookup is case-insensitive at every level (exact spelling first): `event.securityContext`,
 *    `event.get('eventtype')`, `event['outcome'].result` all work, whatever the log's casing;
 *  - nested objects are wrapped the same way when read; lists are read-only arrays of wrapped values;
 *  - the event is read-only (assignment throws);
 *  - methods: `get(key, default?)`, `deep_get(...keys, {default}?)`, `deep_walk(...keys,
 *    {default, return_val}?)`, `udm(name)` (the Okta data model below), `event_time_epoch()`,
 *    `toJSON()` (the plain document), also spelled `deepGet`, `deepWalk`, `eventTimeEpoch`.
 *    A field whose name is one of these methods is read with `get()`.
 *  - Panther's indicator fields are present when the log lacks them: `p_log_type`
 *    (`Okta.SystemLog`), `p_event_time`, `p_any_ip_addresses` (client.ipAddress,
 *    request.ipChain[].ip), `p_any_emails` (actor/target alternateIds that look like emails),
 *    `p_any_domain_names` (securityContext.domain).
 */
import type { CanonicalEvent, Json, JsonObject } from '../../event/types.js';
import type { EnrichmentContext } from '../../enrich/context.js';
import { pantherBlock } from '../../enrich/view.js';

type Key = string | number;
interface DeepOptions {
  default?: unknown;
  return_val?: 'all' | 'first' | 'last';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Case-insensitive key lookup: the exact key first, then a key equal ignoring case. */
export function ciGet(obj: Record<string, unknown>, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** Unwrap a wrapped value to plain JSON (wrapped objects know their raw document). */
export function raw(v: unknown): unknown {
  if (v !== null && typeof v === 'object') {
    const r = (v as { [RAW]?: unknown })[RAW];
    if (r !== undefined) return r;
  }
  return v;
}

const RAW = Symbol('panther.raw');

/** Split trailing `{default, return_val}` options off variadic keys. */
function splitOptions(args: unknown[]): { keys: Key[]; opts: DeepOptions } {
  const last = args[args.length - 1];
  if (isPlainObject(last) && !(RAW in last) && ('default' in last || 'return_val' in last)) {
    return { keys: args.slice(0, -1) as Key[], opts: last as DeepOptions };
  }
  return { keys: args as Key[], opts: {} };
}

/** Panther's `deep_get`: each key literal (no dot splitting); a non-object on the way or a final null gives the default. */
export function deepGet(obj: unknown, keys: Key[], dflt: unknown = null): unknown {
  let cur: unknown = raw(obj);
  for (const k of keys) {
    if (!isPlainObject(cur)) return wrap(dflt);
    const next = ciGet(cur, String(k));
    cur = next === undefined ? dflt : next;
  }
  return cur === null || cur === undefined ? wrap(dflt) : wrap(cur);
}

function isEmptyList(v: unknown): boolean {
  return Array.isArray(v) && v.every(isEmptyList);
}

/** Panther's `deep_walk`: descends through lists, collects unique values in first-seen order. */
export function deepWalk(obj: unknown, keys: Key[], dflt: unknown = null, returnVal: 'all' | 'first' | 'last' = 'all'): unknown {
  const walk = (o: unknown, ks: Key[]): unknown => {
    if (ks.length === 0) return isEmptyList(o) ? dflt : o;
    if (isPlainObject(o)) {
      const next = ciGet(o, String(ks[0]));
      return next === null || next === undefined ? dflt : walk(next, ks.slice(1));
    }
    if (Array.isArray(o)) {
      const found = new Map<string, unknown>();
      const add = (x: unknown): void => {
        const k = typeof x === 'object' && x !== null ? `o:${JSON.stringify(x)}` : `${typeof x}:${String(x)}`;
        if (!found.has(k)) found.set(k, x);
      };
      for (const el of o) {
        const v = walk(el, ks);
        if (v === null || v === undefined) continue;
        if (Array.isArray(v)) v.forEach(add);
        else add(v);
      }
      const list = [...found.values()];
      if (list.length === 0) return dflt;
      if (returnVal === 'first') return list[0];
      if (returnVal === 'last') return list[list.length - 1];
      return list.length === 1 ? list[0] : list;
    }
    return dflt;
  };
  return wrap(walk(raw(obj), keys));
}

/* ---------------------------------------------------------------------------------------- */
/* The Okta data model (Panther `Standard.Okta.SystemLog`), written from the reference §1.2.  */
/* ---------------------------------------------------------------------------------------- */

/** Panther's standard event-type names (panther_event_type_helpers). */
export const EVENT_TYPES = {
  FAILED_LOGIN: 'failed_login',
  SUCCESSFUL_LOGIN: 'successful_login',
  MFA_DISABLED: 'mfa_disabled',
  ADMIN_MFA_DISABLED: 'admin_mfa_disabled',
  MFA_RESET: 'mfa_reset',
} as const;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `event_type`: a few Okta event types mapped to Panther's standard names; others are null. */
function oktaEventType(doc: Record<string, unknown>): string | null {
  const type = str(deepGet(doc, ['eventType']));
  const result = str(deepGet(doc, ['outcome', 'result']));
  const reason = str(deepGet(doc, ['outcome', 'reason'])) ?? '';
  if (type === 'user.session.start') {
    if (result === 'FAILURE') return EVENT_TYPES.FAILED_LOGIN;
    if (result === 'SUCCESS') return EVENT_TYPES.SUCCESSFUL_LOGIN;
    return null;
  }
  if (type === 'system.mfa.factor.deactivate') return EVENT_TYPES.ADMIN_MFA_DISABLED;
  if (type === 'user.mfa.factor.deactivate' || type === 'user.mfa.factor.suspend') {
    return reason.startsWith('User reset') ? EVENT_TYPES.MFA_RESET : EVENT_TYPES.MFA_DISABLED;
  }
  return null;
}

/** The Okta data model: udm name -> value from the raw document. */
export const OKTA_DATA_MODEL: Record<string, (doc: Record<string, unknown>) => unknown> = {
  /** Method get_actor_user: the actor's alternateId, else its displayName. */
  actor_user: (doc) => deepGet(doc, ['actor', 'alternateId']) ?? deepGet(doc, ['actor', 'displayName']),
  /** Method get_event_type. */
  event_type: oktaEventType,
  /** Path $.client.ipAddress */
  source_ip: (doc) => deepGet(doc, ['client', 'ipAddress']),
  /** Path $.client.userAgent.rawUserAgent */
  user_agent: (doc) => deepGet(doc, ['client', 'userAgent', 'rawUserAgent']),
};

/* ---------------------------------------------------------------------------------------- */
/* Indicator fields                                                                          */
/* ---------------------------------------------------------------------------------------- */

function pantherTime(ms: number): string {
  // Panther writes p_event_time as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');
}

function indicators(doc: Record<string, unknown>, time: number | undefined): Record<string, Json> {
  const out: Record<string, Json> = {};
  const has = (k: string): boolean => ciGet(doc, k) !== undefined;
  if (!has('p_log_type')) out['p_log_type'] = 'Okta.SystemLog';
  if (!has('p_event_time') && time !== undefined && Number.isFinite(time)) out['p_event_time'] = pantherTime(time);
  const uniq = (xs: unknown[]): string[] => [...new Set(xs.filter((x): x is string => typeof x === 'string' && x !== ''))];
  const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);
  if (!has('p_any_ip_addresses')) {
    const ips = uniq([deepGet(doc, ['client', 'ipAddress']), ...flat(deepWalk(doc, ['request', 'ipChain', 'ip']))]);
    if (ips.length) out['p_any_ip_addresses'] = ips;
  }
  if (!has('p_any_emails')) {
    const ids = uniq([deepGet(doc, ['actor', 'alternateId']), ...flat(deepWalk(doc, ['target', 'alternateId']))]).filter((x) => /^[^@\s]+@[^@\s]+$/.test(x));
    if (ids.length) out['p_any_emails'] = ids;
  }
  if (!has('p_any_domain_names')) {
    const d = uniq([deepGet(doc, ['securityContext', 'domain'])]);
    if (d.length) out['p_any_domain_names'] = d;
  }
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* Wrapping                                                                                  */
/* ---------------------------------------------------------------------------------------- */

const METHOD_NAMES = new Set([
  'get',
  'deep_get',
  'deepGet',
  'deep_walk',
  'deepWalk',
  'udm',
  'event_time_epoch',
  'eventTimeEpoch',
  'keys',
  'values',
  'items',
  'has',
  'toJSON',
]);

function readOnly(): never {
  throw new TypeError('the Panther event is read-only');
}

export interface PantherDict {
  [key: string]: unknown;
  get(key: string, dflt?: unknown): unknown;
  deep_get(...keys: unknown[]): unknown;
  deep_walk(...keys: unknown[]): unknown;
  udm(name: string): unknown;
  event_time_epoch(): number | null;
  keys(): string[];
  values(): unknown[];
  items(): [string, unknown][];
  has(key: string): boolean;
  toJSON(): unknown;
}

interface Top {
  time?: number;
  /** Panther's standard fields (p_log_type, p_event_time, p_any_*): computed at first use. */
  extra: () => Record<string, Json>;
  /** `p_enrichment` computed by oktopus's enrichment when the log has none: only when read. */
  enrichment?: () => Json | undefined;
}

function wrapObject(obj: Record<string, unknown>, top?: Top): PantherDict {
  let enriched: { value: Json | undefined } | undefined;
  const enrichment = (): Json | undefined => {
    if (!top?.enrichment || ciGet(obj, 'p_enrichment') !== undefined) return undefined;
    enriched ??= { value: top.enrichment() };
    return enriched.value;
  };
  const lookup = (key: string): unknown => {
    const v = ciGet(obj, key);
    if (v !== undefined || !top) return v;
    if (!key.toLowerCase().startsWith('p_')) return undefined;
    const x = ciGet(top.extra(), key);
    if (x !== undefined || key.toLowerCase() !== 'p_enrichment') return x;
    return enrichment();
  };
  const whole = (): Record<string, unknown> => (top ? { ...obj, ...top.extra() } : obj);
  /** The event a deep path reads: Panther's p_* fields (and computed `p_enrichment`) only when it starts there. */
  const wholeFor = (keys: unknown[]): Record<string, unknown> => {
    const first = typeof keys[0] === 'string' ? keys[0].split('.')[0]!.toLowerCase() : '';
    if (!top || !first.startsWith('p_')) return obj;
    const p = first === 'p_enrichment' ? enrichment() : undefined;
    return p === undefined ? whole() : { ...whole(), p_enrichment: p };
  };
  const methods: Record<string, unknown> = {
    get: (key: string, dflt: unknown = null) => {
      const v = lookup(String(key));
      return wrap(v === undefined ? dflt : v);
    },
    deep_get: (...args: unknown[]) => {
      const { keys, opts } = splitOptions(args);
      return deepGet(wholeFor(keys), keys, opts.default ?? null);
    },
    deep_walk: (...args: unknown[]) => {
      const { keys, opts } = splitOptions(args);
      return deepWalk(wholeFor(keys), keys, opts.default ?? null, opts.return_val ?? 'all');
    },
    udm: (name: string) => {
      const f = OKTA_DATA_MODEL[name];
      if (f) return wrap(f(obj) ?? null);
      // Panther falls back to the field itself when the data model has no such name.
      const v = lookup(name);
      return v === undefined ? null : wrap(v);
    },
    event_time_epoch: () => (top?.time !== undefined && Number.isFinite(top.time) ? Math.floor(top.time / 1000) : null),
    keys: () => Object.keys(whole()),
    values: () => Object.values(whole()).map(wrap),
    items: () => Object.entries(whole()).map(([k, v]) => [k, wrap(v)] as [string, unknown]),
    has: (key: string) => lookup(String(key)) !== undefined,
    toJSON: () => whole(),
  };
  methods['deepGet'] = methods['deep_get'];
  methods['deepWalk'] = methods['deep_walk'];
  methods['eventTimeEpoch'] = methods['event_time_epoch'];
  const target: Record<string | symbol, unknown> = {};
  return new Proxy(target, {
    get(_t, prop) {
      if (prop === RAW) return whole();
      if (typeof prop === 'symbol') return undefined;
      if (METHOD_NAMES.has(prop)) return methods[prop];
      const v = lookup(prop);
      return v === undefined ? undefined : wrap(v);
    },
    has(_t, prop) {
      if (prop === RAW) return true;
      return typeof prop === 'string' && lookup(prop) !== undefined;
    },
    ownKeys() {
      return Object.keys(whole());
    },
    getOwnPropertyDescriptor(_t, prop) {
      if (typeof prop !== 'string') return undefined;
      const v = lookup(prop);
      return v === undefined ? undefined : { value: wrap(v), enumerable: true, configurable: true, writable: false };
    },
    set: readOnly,
    deleteProperty: readOnly,
    defineProperty: readOnly,
  }) as unknown as PantherDict;
}

/** Wrap a JSON value: objects become case-insensitive read-only dicts, arrays frozen arrays of wrapped values. */
export function wrap(v: unknown): unknown {
  if (Array.isArray(v)) return Object.freeze(v.map(wrap));
  if (isPlainObject(v)) {
    if (RAW in v) return v;
    return wrapObject(v);
  }
  return v;
}

/** The Panther event of a document (a LogEvent, or a Panther test log). */
export function pantherEventOf(doc: JsonObject, time?: number, enrichment?: () => Json | undefined): PantherDict {
  let extra: Record<string, Json> | undefined;
  return wrapObject(doc, { time, extra: () => (extra ??= indicators(doc, time)), enrichment });
}

/**
 * A view of the event computed once per event and enrichment context (`none`: without one), and
 * cached on the event; `build` gets Panther's `p_enrichment` block, when there is a context.
 */
function cachedView<T>(ev: CanonicalEvent, kind: string, enrichment: EnrichmentContext | undefined, build: (pEnrichment: (() => Json | undefined) | undefined) => T): T {
  const key = `${kind}:${enrichment ? enrichment.id : 'none'}`;
  let view = ev.cache.get(key) as T | undefined;
  if (view === undefined) {
    view = build(enrichment ? () => pantherBlock(ev, enrichment) : undefined);
    ev.cache.set(key, view);
  }
  return view;
}

/**
 * The Panther event of a canonical event, cached on the event per enrichment context (two
 * contexts, or one and none, never share a view). `enrichment` supplies Panther's
 * `p_enrichment` (ipinfo shapes) from oktopus's own enrichment for logs that carry none; it is
 * computed only if the rule reads it. Rule bodies and the alert presentation of one run use
 * the engine's SchemaContext's enrichment, so they see the same event.
 */
export function pantherEvent(ev: CanonicalEvent, enrichment?: EnrichmentContext): PantherDict {
  return cachedView(ev, 'panther-event', enrichment, (pEnrichment) => pantherEventOf(ev.doc, ev.time, pEnrichment));
}

/**
 * The plain document YAML presentation paths read (AlertTitle `{…}`, AlertContext, GroupBy):
 * the log, Panther's indicator fields it lacks, and `p_enrichment` from the enrichment context
 * when the log has none. Computed at first use, cached per event and enrichment context.
 */
export function pantherView(ev: CanonicalEvent, enrichment?: EnrichmentContext): JsonObject {
  return cachedView(ev, 'panther-view', enrichment, (pEnrichment) => pantherDocument(ev.doc, ev.time, pEnrichment));
}

/**
 * The whole document a Python body sees (the Python worker builds its own PantherEvent from it):
 * the log, Panther's indicator fields it lacks, and `p_enrichment` computed by oktopus's
 * enrichment when the log has none (Python cannot ask for it lazily across the pipe).
 */
export function pantherDocument(doc: JsonObject, time?: number, enrichment?: () => Json | undefined): JsonObject {
  const out: JsonObject = { ...doc, ...indicators(doc, time) };
  if (enrichment && ciGet(doc, 'p_enrichment') === undefined) {
    const p = enrichment();
    if (p !== undefined && p !== null) out['p_enrichment'] = p;
  }
  return out;
}
