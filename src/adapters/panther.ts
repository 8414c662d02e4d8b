/**
 * Panther-shaped Okta records (`Okta.SystemLog` rows, Panther rule test events).
 *
 * Panther's event wrapper is case-insensitive, so rule tests write `eventtype`,
 * `securitycontext`, `debugcontext`…; exported rows carry `p_*` fields (`p_enrichment`,
 * `p_event_time`, `p_any_ip_addresses`…) and `published` as `2022-06-22 18:18:29.015` (UTC).
 *
 * Normalisation: the keys of the KNOWN LogEvent schema below are rewritten to Okta's camelCase
 * at every depth (arrays traversed); unknown keys, `p_*` fields and free-form objects
 * (`debugContext.debugData`, `detailEntry`, `changeDetails`, `transaction.detail`) keep their
 * keys verbatim. When a record has both spellings of a key, the exact camelCase one wins and
 * the other is kept verbatim. `published` keeps its text; the adapter parses it as UTC.
 */
import type { CanonicalEvent, Json, JsonObject } from '../event/types.js';
import { finishOkta, isObject, type AdapterOptions } from './common.js';

/** A level of the schema: lower-cased key -> canonical key and what is below it. */
interface Level {
  [lower: string]: { name: string; below?: Level | typeof KEEP };
}
/** Marks a free-form value whose inner keys are kept as they are. */
const KEEP = Symbol('keep');

type Spec = { [camel: string]: Spec | typeof KEEP | 1 };

function level(spec: Spec): Level {
  const out: Level = {};
  for (const name of Object.keys(spec)) {
    const below = spec[name]!;
    out[name.toLowerCase()] = below === 1 ? { name } : { name, below: below === KEEP ? KEEP : level(below) };
  }
  return out;
}

const GEO: Spec = { city: 1, state: 1, country: 1, postalCode: 1, geolocation: { lat: 1, lon: 1 } };
const IP_DETAILS: Spec = {
  asNumber: 1, asOrg: 1, isp: 1, domain: 1,
  ipServiceCategories: { isAnonymous: 1, operator: 1, type: 1 },
};
const ACTOR: Spec = { id: 1, type: 1, alternateId: 1, displayName: 1, detailEntry: KEEP, details: KEEP };

/** Okta LogEvent (okta-sdk-nodejs management.yaml `LogEvent` and `Log*`, plus `device`). */
const LOG_EVENT = level({
  uuid: 1, published: 1, eventType: 1, version: 1, severity: 1, legacyEventType: 1, displayMessage: 1,
  actor: ACTOR,
  client: {
    id: 1, zone: 1, ipAddress: 1, device: 1,
    userAgent: { browser: 1, os: 1, rawUserAgent: 1 },
    geographicalContext: GEO,
  },
  device: {
    id: 1, name: 1, os_platform: 1, os_version: 1, managed: 1, registered: 1, device_integrator: KEEP,
    disk_encryption_type: 1, screen_lock_type: 1, jailbreak: 1, secure_hardware_present: 1,
  },
  request: { ipChain: { ip: 1, version: 1, source: 1, geographicalContext: GEO, ipDetails: IP_DETAILS } },
  outcome: { result: 1, reason: 1 },
  target: { ...ACTOR, changeDetails: KEEP },
  transaction: { id: 1, type: 1, detail: KEEP },
  debugContext: { debugData: KEEP },
  authenticationContext: {
    authenticationProvider: 1, authenticationStep: 1, credentialProvider: 1, credentialType: 1,
    externalSessionId: 1, interface: 1, rootSessionId: 1, issuer: { id: 1, type: 1 },
  },
  securityContext: {
    asNumber: 1, asOrg: 1, isp: 1, domain: 1, isProxy: 1,
    ipDetails: IP_DETAILS,
    risk: { level: 1, previousLevel: 1, reasons: 1, detectionName: 1, issuer: 1 },
    userBehaviors: { id: 1, name: 1, result: 1 },
  },
});

function normalise(v: Json, lvl: Level): Json {
  if (Array.isArray(v)) return v.map((el) => normalise(el, lvl));
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  // Exact canonical spellings first, so they win over variants.
  for (const k in v) {
    const entry = lvl[k.toLowerCase()];
    if (entry && entry.name === k) out[k] = below(v[k]!, entry.below);
  }
  for (const k in v) {
    const entry = lvl[k.toLowerCase()];
    if (entry && entry.name === k) continue;
    if (entry && !(entry.name in out)) out[entry.name] = below(v[k]!, entry.below);
    else if (!(k in out)) out[k] = v[k]!;
  }
  return out;
}

function below(v: Json, b: Level | typeof KEEP | undefined): Json {
  return b === undefined || b === KEEP ? v : normalise(v, b);
}

/** Panther's `published`: `YYYY-MM-DD HH:MM:SS[.fff…]`, no T, no zone. */
const PANTHER_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/;

/**
 * Recognised (per record) by: a case variant of a top-level LogEvent key (`eventtype`),
 * a top-level `p_*` field, or a Panther-format `published`.
 */
const CANONICAL_TOP = new Set(Object.values(LOG_EVENT).map((e) => e.name));

export function isPantherRecord(rec: JsonObject): boolean {
  for (const k in rec) {
    if (CANONICAL_TOP.has(k)) continue;
    if (k.charCodeAt(0) === 112 /* p */ && k.charCodeAt(1) === 95 /* _ */) return true;
    const entry = LOG_EVENT[k.toLowerCase()];
    if (entry) return true;
  }
  return typeof rec.published === 'string' && PANTHER_TIME.test(rec.published);
}

export function normalisePanther(rec: JsonObject): JsonObject {
  return normalise(rec, LOG_EVENT) as JsonObject;
}

export function adaptPanther(rec: JsonObject, origin: string, opts?: AdapterOptions): CanonicalEvent {
  return finishOkta(normalisePanther(rec), rec, 'panther', origin, opts);
}
