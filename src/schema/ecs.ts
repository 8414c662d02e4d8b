/**
 * The ECS view of an Okta LogEvent, as the Elastic Okta integration's ingest pipeline builds it
 * (elastic/integrations `packages/okta/data_stream/system/elasticsearch/ingest_pipeline/`
 * `default.yml` + `use_flattened_debug.yml`, ecs.version 8.11.0).
 *
 * One declarative table, `ECS_FIELDS`, lists every field the pipeline writes and what it is built
 * from. It serves three purposes:
 *  - `ecsFieldGetter`: a rule's ECS field name is resolved once to the extractor of its row (or
 *    to a path into a row that holds an object/array, e.g. `okta.target.type`); nothing builds
 *    the whole document per field access;
 *  - `toEcsDocument`: the nested document an Elastic index would hold (alerts copy it);
 *  - `ecsToLogEvent`: the reverse, for ECS records given as input (rows with `back`).
 *
 * Pipeline behaviours reproduced:
 *  - first step: null and empty-string values are dropped recursively (empty objects/arrays
 *    left behind vanish too), so `"isProxy": null` yields no `okta.security_context.is_proxy`;
 *  - `convert` processors with `ignore_failure`: `okta.client.ip` only holds a valid IP (and so
 *    `client.ip`, `source.ip`, `related.ip`); `event.action`, `event.id`, `client.domain`…
 *    are strings;
 *  - `append` without `allow_duplicates: false` keeps duplicates (`security.request.blocked`
 *    gets `event.type: [network, network]`, as in Elasticsearch);
 *  - the kv / dissect / grok parsing of `debugData.behaviors` and `debugData.risk`.
 * Not reproduced: the `user_agent` processor (`user_agent.name`, `user_agent.os.*`, needs the
 * uap-core regex set) and the GeoIP processors (`source.geo.*`, `source.as.*`); Fleet-only
 * fields (`event.ingested`, `agent.*`, `tags`).
 */
import { isIP } from 'node:net';
import type { CanonicalEvent, Json, JsonObject, LogEvent } from '../event/types.js';
import type { SchemaContext } from './index.js';
import { compilePath, type Getter } from './path.js';
import { toIsoTimestamp } from '../adapters/time.js';

type Extractor = (ev: CanonicalEvent, ctx: SchemaContext) => Json | undefined;
/** An extractor that reads the event only. */
type Raw = (ev: CanonicalEvent) => Json | undefined;

/** How an ECS value goes back into a LogEvent (ecsToLogEvent). */
interface Back {
  /** Dotted LogEvent path. */
  path: string;
  /** Only used when a primary row has not already set `path` (copies such as `client.ip`). */
  fallback?: boolean;
  convert?: (v: Json) => Json | undefined;
}

export interface EcsField {
  /** The ECS / okta.* field name, as in the integration's fields.yml. */
  name: string;
  /** What the pipeline builds it from (raw LogEvent field, constant or processor). */
  source: string;
  get: Extractor;
  back?: Back;
  /**
   * Relative cost of reading the field (see `ecsFieldCost`): 1 for a plain copy or a constant;
   * absent for a field computed by a processor with logic (3).
   */
  cost?: number;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The pipeline's first processor: drop null and '' recursively; containers left empty vanish.
 * Copy-on-write: returns the input itself when nothing had to go.
 */
export function dropEmpty(v: unknown): Json | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v !== 'object') return v as Json;
  if (Array.isArray(v)) {
    let out: Json[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = dropEmpty(v[i]);
      if (out) {
        if (c !== undefined) out.push(c);
      } else if (c !== v[i]) {
        out = v.slice(0, i) as Json[];
        if (c !== undefined) out.push(c);
      }
    }
    const r = out ?? (v as Json[]);
    return r.length === 0 ? undefined : r;
  }
  let out: JsonObject | undefined;
  let n = 0;
  const o = v as JsonObject;
  for (const k in o) {
    const c = dropEmpty(o[k]);
    if (c !== o[k] && !out) {
      out = {};
      for (const k2 in o) {
        if (k2 === k) break;
        if (o[k2] !== undefined) out[k2] = o[k2]!;
      }
    }
    if (c !== undefined) {
      n++;
      if (out) out[k] = c;
    }
  }
  if (n === 0) return undefined;
  return out ?? o;
}

function dig(doc: JsonObject, keys: readonly string[]): unknown {
  let v: unknown = doc;
  for (const k of keys) {
    if (!isObject(v)) return undefined;
    v = v[k];
  }
  return v;
}

/** The raw LogEvent value at a dotted path, after the null/empty drop. */
function rawAt(path: string): Raw {
  const keys = path.split('.');
  return (ev) => dropEmpty(dig(ev.doc, keys));
}

/** The pipeline's `convert type: string` / mustache `{{…}}`: scalars as strings. */
function asString(v: Json | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function stringAt(path: string): Raw {
  const get = rawAt(path);
  return (ev) => asString(get(ev));
}

/** Row: the raw value copied (or renamed) as is. */
function copy(name: string, from: string): EcsField {
  return { name, source: from, get: rawAt(from), back: { path: from }, cost: 1 };
}

/** Row: a `convert type: string` / mustache copy of another field; secondary when reading ECS. */
function copyString(name: string, from: string, note = ''): EcsField {
  return { name, source: from + note, get: stringAt(from), back: { path: from, fallback: true }, cost: 1 };
}

function constant(name: string, value: Json): EcsField {
  return { name, source: `constant ${JSON.stringify(value)}`, get: () => value, cost: 1 };
}

function derived(name: string, source: string, get: Extractor, back?: Back): EcsField {
  return back ? { name, source, get, back } : { name, source, get };
}

function cached<T>(ev: CanonicalEvent, key: string, build: () => T): T {
  const hit = ev.cache.get(key);
  if (hit !== undefined) return hit as T;
  const v = build();
  ev.cache.set(key, v);
  return v;
}

/* ------------------------------------------------------------------------------------------ */
/* event.category / event.type: the `append` processors of default.yml, in pipeline order     */
/* ------------------------------------------------------------------------------------------ */

const RATE_LIMIT = ['system.org.rate_limit.warning', 'system.org.rate_limit.violation', 'core.concurrency.org.limit.violation'];
const USER_LIFECYCLE = ['user.lifecycle.activate', 'user.lifecycle.create', 'user.lifecycle.deactivate', 'user.lifecycle.suspend', 'user.lifecycle.unsuspend'];
const GROUP_MEMBERSHIP = ['group.user_membership.add', 'group.user_membership.remove'];
const APP_MEMBERSHIP = ['application.user_membership.add', 'application.user_membership.remove', 'application.user_membership.change_username'];

const CATEGORY_APPENDS: readonly (readonly [string, readonly string[]])[] = [
  ['iam', [...GROUP_MEMBERSHIP, ...USER_LIFECYCLE]],
  ['configuration', [
    'policy.lifecycle.activate', 'policy.lifecycle.create', 'policy.lifecycle.deactivate', 'policy.lifecycle.delete',
    'policy.lifecycle.update', 'policy.rule.activate', 'policy.rule.add', 'policy.rule.deactivate', 'policy.rule.delete',
    'application.lifecycle.create', 'application.lifecycle.delete', 'policy.rule.update', 'application.lifecycle.activate',
    'application.lifecycle.deactivate', 'application.lifecycle.update',
  ]],
  ['authentication', ['user.session.start', 'user.session.end', 'user.authentication.sso', 'policy.evaluate_sign_on']],
  ['session', ['user.session.start', 'user.session.end']],
];

const TYPE_APPENDS: readonly (readonly [string, readonly string[]])[] = [
  ['info', RATE_LIMIT],
  ['network', ['security.request.blocked']],
  ['network', [...RATE_LIMIT, 'security.request.blocked']],
  ['start', ['user.session.start']],
  ['end', ['user.session.end']],
  ['group', GROUP_MEMBERSHIP],
  ['info', [...USER_LIFECYCLE, 'user.authentication.sso', 'user.session.start', 'user.session.end', ...APP_MEMBERSHIP]],
  ['change', [
    'user.lifecycle.activate', 'user.lifecycle.deactivate', 'user.lifecycle.suspend', 'user.lifecycle.unsuspend',
    ...GROUP_MEMBERSHIP, 'policy.lifecycle.activate', 'policy.lifecycle.deactivate', 'policy.lifecycle.update',
    'policy.rule.activate', 'policy.rule.add', 'policy.rule.deactivate', 'policy.rule.update', ...APP_MEMBERSHIP,
  ]],
  ['creation', ['user.lifecycle.create', 'policy.lifecycle.create', 'application.lifecycle.create']],
  ['deletion', ['policy.lifecycle.delete', 'application.lifecycle.delete']],
  ['info', ['policy.evaluate_sign_on']],
];

/** eventType (exact, case-sensitive as in painless `contains`) -> appended values, frozen. */
function appendIndex(appends: readonly (readonly [string, readonly string[]])[]): Map<string, readonly string[]> {
  const idx = new Map<string, string[]>();
  for (const [value, types] of appends) {
    for (const t of types) {
      const list = idx.get(t) ?? [];
      list.push(value);
      idx.set(t, list);
    }
  }
  const frozen = new Map<string, readonly string[]>();
  for (const [k, v] of idx) frozen.set(k, Object.freeze(v));
  return frozen;
}

const CATEGORY_BY_TYPE = appendIndex(CATEGORY_APPENDS);
const TYPE_BY_TYPE = appendIndex(TYPE_APPENDS);

function appendedFor(index: Map<string, readonly string[]>): Extractor {
  return (ev) => {
    const t = ev.doc.eventType;
    return typeof t === 'string' ? (index.get(t) as Json[] | undefined) : undefined;
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Processors with logic                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** grok `%{USER:user.name}` on okta.actor.alternate_id; USER = `[a-zA-Z0-9._-]+`, unanchored. */
const GROK_USER = /[a-zA-Z0-9._-]+/;
const actorAlternateId = rawAt('actor.alternateId');
const userName: Raw = (ev) => {
  const a = actorAlternateId(ev);
  if (typeof a !== 'string') return undefined;
  const m = GROK_USER.exec(a);
  return m ? m[0] : undefined;
};

/** `convert type: ip` (ignore_failure): only a valid IPv4/IPv6 address survives. */
const clientIpAddress = rawAt('client.ipAddress');
const clientIp: Raw = (ev) => {
  const v = clientIpAddress(ev);
  return typeof v === 'string' && isIP(v) !== 0 ? v : undefined;
};

/** `event.outcome`: success for SUCCESS/ALLOW, failure for FAILURE/DENY (any case), else unknown. */
const outcomeResult = rawAt('outcome.result');
const eventOutcome: Raw = (ev) => {
  const r = outcomeResult(ev);
  if (typeof r === 'string') {
    const l = r.toLowerCase();
    if (l === 'success' || l === 'allow') return 'success';
    if (l === 'failure' || l === 'deny') return 'failure';
  }
  return 'unknown';
};

/** `@timestamp`: date processor (ISO8601) on `published`; the event time when that fails. */
const timestamp: Extractor = (ev) =>
  toIsoTimestamp(ev.doc.published) ?? (Number.isFinite(ev.time) ? new Date(ev.time).toISOString() : undefined);

/* target[]: script `okta-target-modifications` ---------------------------------------------- */

interface TargetView {
  list?: Json;
  user?: JsonObject;
  group?: JsonObject;
}

const DETAIL_ENTRY_KEPT = ['methodTypeUsed', 'methodUsedVerifiedProperties'];

function snakeTarget(t: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k in t) {
    const v = t[k]!;
    if (k === 'alternateId') out.alternate_id = v;
    else if (k === 'displayName') out.display_name = v;
    else if (k === 'detailEntry' && isObject(v)) {
      const kept: JsonObject = {};
      let n = 0;
      for (const dk of DETAIL_ENTRY_KEPT) {
        if (v[dk] !== undefined) {
          kept[dk] = v[dk]!;
          n++;
        }
      }
      if (n > 0) out.detailEntry = kept;
    } else out[k] = v;
  }
  return out;
}

const rawTarget = rawAt('target');
function targetView(ev: CanonicalEvent): TargetView {
  return cached(ev, 'ecs.target', () => {
    const view: TargetView = {};
    const t = rawTarget(ev);
    if (t === undefined) return view;
    if (!Array.isArray(t)) {
      view.list = t;
      return view;
    }
    const list = t.map((el) => (isObject(el) ? snakeTarget(el) : el));
    view.list = list;
    for (const el of list) {
      if (!isObject(el) || typeof el.type !== 'string') continue;
      const type = el.type.toLowerCase();
      if (type === 'user' && !view.user) view.user = el;
      if (type === 'usergroup' && !view.group) view.group = el;
    }
    return view;
  });
}

/** okta.target[] back to Okta's LogEvent keys. */
function unsnakeTarget(v: Json): Json {
  if (!Array.isArray(v)) return v;
  return v.map((el) => {
    if (!isObject(el)) return el;
    const out: JsonObject = {};
    for (const k in el) {
      if (k === 'alternate_id') out.alternateId = el[k]!;
      else if (k === 'display_name') out.displayName = el[k]!;
      else out[k] = el[k]!;
    }
    return out;
  });
}

function targetField(pick: (v: TargetView) => JsonObject | undefined, key: string): Extractor {
  return (ev) => asString(dropEmpty(pick(targetView(ev))?.[key]));
}

/* request.ipChain[]: foreach renames ----------------------------------------------------------- */

function renameKeys(o: JsonObject, from: string, to: string, inner?: (v: Json) => Json): JsonObject {
  const out: JsonObject = {};
  for (const k in o) {
    if (k === from) out[to] = inner ? inner(o[k]!) : o[k]!;
    else out[k] = o[k]!;
  }
  return out;
}

function mapChain(v: Json, f: (el: JsonObject) => JsonObject): Json {
  return Array.isArray(v) ? v.map((el) => (isObject(el) ? f(el) : el)) : v;
}

const rawIpChain = rawAt('request.ipChain');
const ipChain: Raw = (ev) =>
  cached(ev, 'ecs.ipchain', () => {
    const chain = rawIpChain(ev);
    if (chain === undefined) return null;
    return mapChain(chain, (el) =>
      renameKeys(el, 'geographicalContext', 'geographical_context', (g) =>
        isObject(g) ? renameKeys(g, 'postalCode', 'postal_code') : g,
      ),
    );
  }) ?? undefined;

function ipChainBack(v: Json): Json {
  return mapChain(v, (el) =>
    renameKeys(el, 'geographical_context', 'geographicalContext', (g) =>
      isObject(g) ? renameKeys(g, 'postal_code', 'postalCode') : g,
    ),
  );
}

/* debugContext.debugData: use_flattened_debug.yml ------------------------------------------- */

interface DebugView {
  flattened?: JsonObject;
  riskLevel?: string;
  riskReasons?: string[];
  factor?: string;
  riskBehaviors?: string[];
}

/** dissect `{%{field}}`: strip one pair of enclosing braces. */
function dissectBraces(s: string): string {
  return s.length >= 2 && s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1) : s;
}

/**
 * kv processor, field_split ", " value_split "=": undefined when a part has no "=" (the
 * processor fails). Repeated keys collect into an array, as kv does.
 */
function kv(s: string): JsonObject | undefined {
  const parts = s.split(', ');
  // Java's String.split drops trailing empty strings.
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const out: JsonObject = {};
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i < 0) return undefined;
    const k = p.slice(0, i);
    const val = p.slice(i + 1);
    const prev = out[k];
    if (prev === undefined) out[k] = val;
    else if (Array.isArray(prev)) prev.push(val);
    else out[k] = [prev, val];
  }
  return out;
}

/** The `split` processor with separator `,\s*` (Java split: trailing empty strings dropped). */
function splitReasons(s: string): string[] {
  const parts = s.split(/,\s*/);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * risk: `risk_object` keeps the original; the dissected string is kv-parsed; when kv fails
 * (Okta's reasons contain ", "), the "heroic" groks pull `level=%{NOTSPACE}` and
 * `reasons=%{DATA}, %{KEY}` / `reasons=%{DATA}$` instead.
 */
function parseRisk(f: JsonObject): void {
  const risk = f.risk;
  if (typeof risk !== 'string') return;
  const dissected = dissectBraces(risk);
  const parsed = kv(dissected);
  if (parsed) {
    f.risk = parsed;
    return;
  }
  f.risk_object = risk;
  const level = /level=(\S+)/.exec(dissected);
  const reasons = /reasons=(.*?), \S+=/.exec(dissected) ?? /reasons=(.*?)$/.exec(dissected);
  if (level || reasons) {
    const obj: JsonObject = {};
    if (level) obj.level = level[1]!;
    if (reasons) obj.reasons = reasons[1]!;
    f.risk = obj;
  } else {
    f.risk = dissected;
  }
}

const rawDebugData = rawAt('debugContext.debugData');
function debugView(ev: CanonicalEvent): DebugView {
  return cached(ev, 'ecs.debug', () => {
    const view: DebugView = {};
    const dd = rawDebugData(ev);
    if (!isObject(dd)) return view;
    const f: JsonObject = { ...dd };
    // json processor on logOnlySecurityData (ignore_failure: a non-JSON string stays).
    if (typeof f.logOnlySecurityData === 'string') {
      try {
        const parsed = dropEmpty(JSON.parse(f.logOnlySecurityData));
        if (isObject(parsed)) f.logOnlySecurityData = parsed;
      } catch {
        /* not JSON: the processor's ignore_failure leaves the string */
      }
    }
    if (typeof f.behaviors === 'string') {
      const dissected = dissectBraces(f.behaviors);
      if (dissected === '') delete f.behaviors;
      else f.behaviors = kv(dissected) ?? dissected;
    }
    parseRisk(f);
    view.flattened = f;

    const lo = f.logOnlySecurityData;
    const loRisk = isObject(lo) && isObject(lo.risk) ? lo.risk : undefined;
    const flatRisk = isObject(f.risk) ? f.risk : undefined;
    const level = dropEmpty(loRisk?.level) ?? dropEmpty(flatRisk?.level);
    if (level !== undefined) view.riskLevel = asString(level);
    const reasons = typeof loRisk?.reasons === 'string' && loRisk.reasons !== '' ? loRisk.reasons : flatRisk?.reasons;
    if (typeof reasons === 'string' && reasons !== '') view.riskReasons = splitReasons(reasons);
    const factor = dropEmpty(f.factor);
    if (factor !== undefined) view.factor = asString(factor);
    const positive = positiveBehaviors(f.behaviors);
    if (positive) view.riskBehaviors = positive;
    return view;
  });
}

function positiveBehaviors(behaviors: Json | undefined): string[] | undefined {
  if (!isObject(behaviors)) return undefined;
  const positive = Object.keys(behaviors).filter((k) => behaviors[k] === 'POSITIVE');
  return positive.length > 0 ? positive : undefined;
}

/**
 * `risk_behaviors` alone, without the rest of the debug view (which JSON-parses
 * logOnlySecurityData): rules test it on every event (`risk_behaviors:*`).
 */
const rawBehaviors = rawAt('debugContext.debugData.behaviors');
function riskBehaviorsOf(ev: CanonicalEvent): string[] | undefined {
  const full = ev.cache.get('ecs.debug') as DebugView | undefined;
  if (full) return full.riskBehaviors;
  return cached(ev, 'ecs.risk_behaviors', () => {
    let b = rawBehaviors(ev);
    if (typeof b === 'string') {
      // Most sign-ins have no positive behaviour: no key=value parse is needed to know it.
      if (!b.includes('POSITIVE')) return undefined;
      const dissected = dissectBraces(b);
      b = dissected === '' ? undefined : (kv(dissected) ?? dissected);
    }
    return positiveBehaviors(b);
  });
}

/** okta.debug_context.debug_data.flattened back to Okta's debugData strings. */
function flattenedBack(v: Json): Json {
  if (!isObject(v)) return v;
  const out: JsonObject = { ...v };
  const kvString = (o: JsonObject) =>
    '{' + Object.entries(o).flatMap(([k, x]) => (Array.isArray(x) ? x.map((y) => `${k}=${asString(y)}`) : [`${k}=${asString(x)}`])).join(', ') + '}';
  if (isObject(out.behaviors)) out.behaviors = kvString(out.behaviors);
  if (typeof out.risk_object === 'string') out.risk = out.risk_object;
  else if (isObject(out.risk)) out.risk = kvString(out.risk);
  delete out.risk_object;
  if (isObject(out.logOnlySecurityData)) out.logOnlySecurityData = JSON.stringify(out.logOnlySecurityData);
  return out;
}

/* top-level device (newer pipeline versions): device_integrator is a JSON string ---------- */

const rawDevice = rawAt('device');
const oktaDevice: Raw = (ev) => {
  const d = rawDevice(ev);
  if (!isObject(d) || typeof d.device_integrator !== 'string') return d;
  try {
    const parsed = JSON.parse(d.device_integrator) as Json;
    return { ...d, device_integrator: parsed };
  } catch {
    return d;
  }
};

function deviceBack(v: Json): Json {
  if (!isObject(v) || !isObject(v.device_integrator)) return v;
  return { ...v, device_integrator: JSON.stringify(v.device_integrator) };
}

/* authenticationContext.interface: renamed onto authentication_provider when that is absent */

const authProvider = rawAt('authenticationContext.authenticationProvider');
const authInterface = rawAt('authenticationContext.interface');

/* related.* -------------------------------------------------------------------------------- */

const actorDisplayName = stringAt('actor.displayName');
function relatedUser(ev: CanonicalEvent): Json | undefined {
  const out: string[] = [];
  for (const v of [actorDisplayName(ev), asString(dropEmpty(targetView(ev).user?.display_name)), userName(ev)]) {
    if (typeof v === 'string' && !out.includes(v)) out.push(v);
  }
  return out.length > 0 ? out : undefined;
}

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                   */
/* ------------------------------------------------------------------------------------------ */

const DEBUG = 'okta.debug_context.debug_data';

export const ECS_FIELDS: readonly EcsField[] = [
  // --- document, event.*, data_stream.* ---------------------------------------------------
  derived('@timestamp', 'published (date processor, ISO8601)', timestamp, {
    path: 'published',
    convert: (v) => (typeof v === 'string' ? v : toIsoTimestamp(v)),
  }),
  constant('ecs.version', '8.11.0'),
  constant('event.kind', 'event'),
  constant('event.module', 'okta'),
  constant('event.dataset', 'okta.system'),
  copyString('event.id', 'uuid'),
  copyString('event.action', 'eventType'),
  derived('event.outcome', 'outcome.result: SUCCESS/ALLOW -> success, FAILURE/DENY -> failure, else unknown', eventOutcome),
  derived('event.category', 'eventType lists (iam, configuration, authentication, session)', appendedFor(CATEGORY_BY_TYPE)),
  derived('event.type', 'eventType lists (info, network, start, end, group, change, creation, deletion)', appendedFor(TYPE_BY_TYPE)),
  constant('data_stream.dataset', 'okta.system'),
  constant('data_stream.type', 'logs'),
  constant('data_stream.namespace', 'default'),
  // The integration never sets cloud.account.id (only a collector's cloud metadata would). We set
  // it to the Okta org so that rules keyed on it, such as the new_terms rule 6f1bb4b2
  // (okta.actor.id, cloud.account.id), can fire: a term needs every field present.
  derived('cloud.account.id', 'the Okta org (oktopus; not set by the integration)', (_ev, ctx) => ctx.org || undefined),

  // --- okta.* -------------------------------------------------------------------------------
  copy('okta.uuid', 'uuid'),
  copy('okta.event_type', 'eventType'),
  copy('okta.display_message', 'displayMessage'),
  copy('okta.actor.id', 'actor.id'),
  copy('okta.actor.type', 'actor.type'),
  copy('okta.actor.alternate_id', 'actor.alternateId'),
  copy('okta.actor.display_name', 'actor.displayName'),
  copy('okta.client.device', 'client.device'),
  copy('okta.client.id', 'client.id'),
  derived('okta.client.ip', 'client.ipAddress (convert type ip)', clientIp, { path: 'client.ipAddress' }),
  copy('okta.client.user_agent.browser', 'client.userAgent.browser'),
  copy('okta.client.user_agent.os', 'client.userAgent.os'),
  copy('okta.client.user_agent.raw_user_agent', 'client.userAgent.rawUserAgent'),
  copy('okta.client.zone', 'client.zone'),
  derived('okta.device', 'device (device_integrator JSON-parsed)', oktaDevice, { path: 'device', convert: deviceBack }),
  copy('okta.outcome.reason', 'outcome.reason'),
  copy('okta.outcome.result', 'outcome.result'),
  derived('okta.target', 'target[] (alternateId -> alternate_id, displayName -> display_name, detailEntry trimmed)',
    (ev) => targetView(ev).list, { path: 'target', convert: unsnakeTarget }),
  copy('okta.transaction.id', 'transaction.id'),
  copy('okta.transaction.type', 'transaction.type'),
  copy('okta.transaction.detail.request_api_token_id', 'transaction.detail.requestApiTokenId'),
  derived(`${DEBUG}.flattened`, 'debugContext.debugData (logOnlySecurityData JSON-parsed, behaviors/risk kv-parsed)',
    (ev) => debugView(ev).flattened, { path: 'debugContext.debugData', convert: flattenedBack }),
  copyDebug('device_fingerprint', 'deviceFingerprint'),
  copyDebug('request_id', 'requestId'),
  copyDebug('request_uri', 'requestUri'),
  copyDebug('threat_suspected', 'threatSuspected'),
  copyDebug('url', 'url'),
  copyDebug('dt_hash', 'dtHash'),
  copyDebug('client_secret', 'clientSecret'),
  copyDebug('requested_scopes', 'requestedScopes'),
  copyDebug('granted_scopes', 'grantedScopes'),
  copyDebug('grant_type', 'grantType'),
  derived(`${DEBUG}.risk_level`, 'debugData.logOnlySecurityData.risk.level, else debugData.risk level',
    (ev) => debugView(ev).riskLevel),
  derived(`${DEBUG}.risk_reasons`, 'debugData.logOnlySecurityData.risk.reasons, else debugData.risk reasons (split on ,\\s*)',
    (ev) => debugView(ev).riskReasons),
  derived(`${DEBUG}.factor`, 'debugData.factor', (ev) => debugView(ev).factor),
  derived(`${DEBUG}.risk_behaviors`, 'debugData.behaviors keys whose value is POSITIVE', riskBehaviorsOf),
  derived('okta.authentication_context.authentication_provider',
    'authenticationContext.authenticationProvider, else authenticationContext.interface (pipeline quirk)',
    (ev) => authProvider(ev) ?? authInterface(ev),
    { path: 'authenticationContext.authenticationProvider' }),
  copy('okta.authentication_context.authentication_step', 'authenticationContext.authenticationStep'),
  copy('okta.authentication_context.credential_provider', 'authenticationContext.credentialProvider'),
  copy('okta.authentication_context.credential_type', 'authenticationContext.credentialType'),
  copy('okta.authentication_context.external_session_id', 'authenticationContext.externalSessionId'),
  copy('okta.authentication_context.issuer', 'authenticationContext.issuer'),
  copy('okta.security_context.as.number', 'securityContext.asNumber'),
  copy('okta.security_context.as.organization.name', 'securityContext.asOrg'),
  copy('okta.security_context.domain', 'securityContext.domain'),
  copy('okta.security_context.is_proxy', 'securityContext.isProxy'),
  copy('okta.security_context.isp', 'securityContext.isp'),
  derived('okta.request.ip_chain', 'request.ipChain[] (geographicalContext -> geographical_context, postalCode -> postal_code)',
    ipChain, { path: 'request.ipChain', convert: ipChainBack }),

  // --- user.*, client.*, source.* -----------------------------------------------------------
  derived('user.name', 'actor.alternateId, grok %{USER} (local part before @)', userName),
  copyString('user.full_name', 'actor.displayName'),
  derived('user.target.full_name', 'first target[] of type User: displayName', targetField((v) => v.user, 'display_name')),
  derived('user.target.id', 'first target[] of type User: id', targetField((v) => v.user, 'id')),
  derived('user.target.email', 'first target[] of type User: login', targetField((v) => v.user, 'login')),
  derived('user.target.group.name', 'first target[] of type UserGroup: displayName', targetField((v) => v.group, 'display_name')),
  derived('user.target.group.id', 'first target[] of type UserGroup: id', targetField((v) => v.group, 'id')),
  derived('client.ip', 'okta.client.ip', clientIp, { path: 'client.ipAddress', fallback: true }),
  derived('source.ip', 'okta.client.ip', clientIp, { path: 'client.ipAddress', fallback: true }),
  copyString('client.user.id', 'actor.id'),
  derived('client.user.name', 'user.name', userName),
  copyString('client.user.full_name', 'actor.displayName'),
  copyString('source.user.id', 'actor.id'),
  derived('source.user.name', 'user.name', userName),
  copyString('source.user.full_name', 'actor.displayName'),
  copy('client.geo.city_name', 'client.geographicalContext.city'),
  copy('client.geo.region_name', 'client.geographicalContext.state'),
  copy('client.geo.country_name', 'client.geographicalContext.country'),
  copy('client.geo.location', 'client.geographicalContext.geolocation'),
  copyString('client.as.organization.name', 'securityContext.asOrg'),
  copyString('client.domain', 'securityContext.domain'),
  copyString('source.domain', 'securityContext.domain'),
  copyString('user_agent.original', 'client.userAgent.rawUserAgent'),
  derived('related.user', 'actor.displayName, user.target.full_name, user.name (deduplicated)', relatedUser),
  derived('related.ip', 'source.ip', (ev) => {
    const ip = clientIp(ev);
    return ip === undefined ? undefined : [ip];
  }),

  // --- enrichment carried by the event document, kept as is ---------------------------------
  { name: 'oktopus', source: 'oktopus (enrichment block, as is)', get: (ev) => ev.doc.oktopus, back: { path: 'oktopus' } },
  { name: 'p_enrichment', source: 'p_enrichment (Panther enrichment, as is)', get: (ev) => ev.doc.p_enrichment, back: { path: 'p_enrichment' } },
];

function copyDebug(snake: string, camel: string): EcsField {
  const from = `debugContext.debugData.${camel}`;
  // Secondary when reading ECS: the flattened copy, when present, restores debugData whole.
  return { name: `${DEBUG}.${snake}`, source: from, get: rawAt(from), back: { path: from, fallback: true }, cost: 1 };
}

export const ECS_FIELD_NAMES: readonly string[] = Object.freeze(ECS_FIELDS.map((f) => f.name));

const BY_NAME = new Map<string, EcsField>(ECS_FIELDS.map((f) => [f.name, f]));

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function setPath(obj: JsonObject, path: string, value: Json): void {
  const keys = path.split('.');
  let cur = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const next = cur[k];
    if (isObject(next)) cur = next;
    else {
      const fresh: JsonObject = {};
      cur[k] = fresh;
      cur = fresh;
    }
  }
  cur[keys[keys.length - 1]!] = value;
}

function cloneJson(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: JsonObject = {};
  for (const k in v) out[k] = cloneJson(v[k]!);
  return out;
}

/**
 * Resolve an ECS field name once. Exact rows first; then a path into a row that holds an object
 * or array (`okta.target.id`, `okta.debug_context.debug_data.flattened.behaviors.New Device`,
 * `client.geo.location.lat`, `oktopus.…`); then a parent of rows (`okta.security_context`),
 * built from those rows. Anything else reads as undefined. On alert events the alert document
 * is read directly (it already is an ECS document).
 */
export function ecsFieldGetter(name: string, ctx: SchemaContext): (ev: CanonicalEvent) => unknown {
  const onAlert = compilePath(name);
  const forLog = logGetter(name, ctx);
  return (ev) => (ev.kind === 'alert' ? onAlert(ev.doc) : forLog(ev));
}

/**
 * How much reading an ECS field of an Okta event costs, roughly, so that a rule's cheap tests run
 * before its expensive ones (the predicate compiler orders `and`/`or` arguments by cost): a copied
 * field or a constant 1; a field computed by a processor with logic 3 (the target list, the debug
 * data view, which parses JSON and key=value strings once per event); a path inside such a field
 * one more; a parent object built from many rows 20; any other name (enrichment fields) 3.
 */
export function ecsFieldCost(name: string): number {
  const row = BY_NAME.get(name);
  if (row) return row.cost ?? 3;
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) {
    const parent = BY_NAME.get(name.slice(0, i));
    if (parent) return (parent.cost ?? 3) + 1;
  }
  const prefix = name + '.';
  return ECS_FIELDS.some((f) => f.name.startsWith(prefix)) ? 20 : 3;
}

function logGetter(name: string, ctx: SchemaContext): (ev: CanonicalEvent) => unknown {
  const row = BY_NAME.get(name);
  if (row) {
    const get = row.get;
    return (ev) => get(ev, ctx);
  }
  // A path inside a row's value: the longest row name that is a dotted prefix.
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) {
    const parent = BY_NAME.get(name.slice(0, i));
    if (parent) {
      const get = parent.get;
      const sub: Getter = compilePath(name.slice(i + 1));
      return (ev) => {
        const v = get(ev, ctx);
        return v === undefined ? undefined : sub(v);
      };
    }
  }
  // A parent object of several rows.
  const prefix = name + '.';
  const children = ECS_FIELDS.filter((f) => f.name.startsWith(prefix));
  if (children.length > 0) {
    return (ev) => {
      const out: JsonObject = {};
      let n = 0;
      for (const f of children) {
        const v = f.get(ev, ctx);
        if (v !== undefined) {
          setPath(out, f.name.slice(prefix.length), v);
          n++;
        }
      }
      return n > 0 ? out : undefined;
    };
  }
  return () => undefined;
}

/**
 * The nested ECS document an Elastic index would hold for this event (a fresh copy, cached in
 * `ev.cache`). Alert events are returned as they are: their document already is ECS.
 */
export function toEcsDocument(ev: CanonicalEvent, ctx: SchemaContext): JsonObject {
  if (ev.kind === 'alert') return ev.doc;
  return cached(ev, `ecs.doc:${ctx.org}`, () => {
    const out: JsonObject = {};
    for (const f of ECS_FIELDS) {
      const v = f.get(ev, ctx);
      if (v !== undefined) setPath(out, f.name, cloneJson(v));
    }
    return out;
  });
}

/* ------------------------------------------------------------------------------------------ */
/* ECS -> LogEvent                                                                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * Nest top-level dotted keys (`"okta.actor.id": "x"` -> `okta.actor.id`), merging with nested
 * objects already there. The input is not modified. Keys below the top level are left alone:
 * enrichment blocks use literal dotted keys (`p_enrichment.ipinfo_privacy["client.ipAddress"]`).
 */
export function unflattenEcs(doc: JsonObject): JsonObject {
  let dotted = false;
  for (const k in doc) {
    if (k.includes('.')) {
      dotted = true;
      break;
    }
  }
  if (!dotted) return doc;
  const out: JsonObject = {};
  const owned = new Set<JsonObject>([out]);
  for (const k in doc) if (!k.includes('.')) out[k] = doc[k]!;
  for (const k in doc) {
    if (!k.includes('.')) continue;
    const keys = k.split('.');
    let cur = out;
    for (let i = 0; i < keys.length - 1; i++) {
      const key = keys[i]!;
      const next = cur[key];
      let child: JsonObject;
      if (isObject(next)) {
        child = owned.has(next) ? next : { ...next };
      } else {
        child = {};
      }
      owned.add(child);
      cur[key] = child;
      cur = child;
    }
    const last = keys[keys.length - 1]!;
    const prev = cur[last];
    const value = doc[k]!;
    cur[last] = isObject(prev) && isObject(value) ? { ...prev, ...value } : value;
  }
  return out;
}

const BACK_ROWS = ECS_FIELDS.filter((f): f is EcsField & { back: Back } => f.back !== undefined).map((f) => ({
  get: compilePath(f.name),
  back: f.back,
}));

function hasPath(obj: JsonObject, path: string): boolean {
  return dig(obj, path.split('.')) !== undefined;
}

/**
 * Map an ECS document of the Okta integration (nested or with flat dotted keys) back to an Okta
 * LogEvent. When the document kept `event.original` (tag `preserve_original_event`) and it is a
 * LogEvent, that raw event is used as is. Otherwise every row with a `back` rule is reversed:
 * okta.* rows first, then the ECS copies (`client.ip`, `event.id`, `user.full_name`…) for what
 * is still missing. Lost in the pipeline and not recovered: `severity`, `version`,
 * `legacyEventType`, `postalCode` of the client, `securityContext.ipDetails`, other
 * `detailEntry` keys, `interface` (folded into authenticationProvider).
 * Fields the document lacks stay absent (the adapter checks uuid, published and eventType).
 */
export function ecsToLogEvent(input: JsonObject): LogEvent {
  const doc = unflattenEcs(input);
  const original = fromEventOriginal(doc);
  if (original) {
    if (doc.oktopus !== undefined && original.oktopus === undefined) original.oktopus = doc.oktopus;
    if (doc.p_enrichment !== undefined && original.p_enrichment === undefined) original.p_enrichment = doc.p_enrichment;
    return original as LogEvent;
  }
  const out: JsonObject = {};
  for (const pass of [false, true]) {
    for (const { get, back } of BACK_ROWS) {
      if ((back.fallback ?? false) !== pass) continue;
      if (pass && hasPath(out, back.path)) continue;
      const found = get(doc);
      if (found === undefined || found === null) continue;
      const v = back.convert ? back.convert(found as Json) : (found as Json);
      if (v !== undefined) setPath(out, back.path, v);
    }
  }
  return (dropEmpty(out) ?? {}) as LogEvent;
}

function fromEventOriginal(doc: JsonObject): JsonObject | undefined {
  const ev = doc.event;
  const raw = isObject(ev) ? ev.original : undefined;
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw) as Json;
    return isObject(parsed) && typeof parsed.eventType === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
