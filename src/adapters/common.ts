/**
 * What every Okta-shaped adapter ends with: validate the LogEvent, give it an id and a time, and
 * wrap it as a CanonicalEvent.
 */
import { createHash } from 'node:crypto';
import { makeEvent, type CanonicalEvent, type Json, type JsonObject } from '../event/types.js';
import { compilePath, type Getter } from '../schema/path.js';
import { RecordError } from './errors.js';
import { parseTimestamp } from './time.js';

export interface AdapterOptions {
  /** Dotted path overriding `published` as the event time. */
  timeField?: string;
  /**
   * Where a record holding several events (an Event Hook delivery) reports each bad element
   * (`data.events[3]: missing eventType`) while its valid elements are still returned; called
   * synchronously from adaptRecord. Without it, the first bad element fails the whole record
   * (RecordError).
   */
  onPartialError?: (reason: string) => void;
}

/** Deepest nesting of objects and arrays accepted in an event (the top-level object is level 1). */
export const MAX_NESTING = 64;

const walkValues: unknown[] = [];
const walkDepths: number[] = [];

/**
 * Whether objects/arrays in `root` nest deeper than `max` levels (`root` itself is level 1).
 * Iterative, with a reused explicit stack: any depth is safe to check, and a typical 2.5 KB
 * event (~20 containers, ~90 values) costs well under a microsecond.
 */
export function nestedDeeperThan(root: object, max: number): boolean {
  const values = walkValues;
  const depths = walkDepths;
  values[0] = root;
  depths[0] = 1;
  let sp = 1;
  while (sp > 0) {
    const v = values[--sp] as object;
    values[sp] = undefined;
    const d = depths[sp]!;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'object' && x !== null) {
          if (d >= max) return abandon(sp);
          values[sp] = x;
          depths[sp++] = d + 1;
        }
      }
    } else {
      for (const k in v) {
        const x: unknown = (v as Record<string, unknown>)[k];
        if (typeof x === 'object' && x !== null) {
          if (d >= max) return abandon(sp);
          values[sp] = x;
          depths[sp++] = d + 1;
        }
      }
    }
  }
  return false;
}

/** Drops the references left on the walk's stack. */
function abandon(sp: number): true {
  walkValues.fill(undefined, 0, sp);
  return true;
}

/** Throws RecordError when `doc` nests deeper than MAX_NESTING (recursive code downstream would overflow). */
export function checkNesting(doc: object): void {
  if (nestedDeeperThan(doc, MAX_NESTING)) throw new RecordError(`nested deeper than ${MAX_NESTING} levels`);
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** JSON with object keys sorted at every depth: the same event always gives the same text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
}

/**
 * A stable uuid for an event that has none: SHA-256 of the canonical JSON of the event, with
 * the top-level `p_*` (Panther's per-ingestion row fields such as p_row_id, p_parse_time) and
 * `oktopus` (our enrichment) keys left out so that the same Okta event read twice, or through
 * two exports, gets the same id. Laid out as an RFC 9562 version-8 ("custom") UUID.
 */
export function stableUuid(doc: JsonObject): string {
  const content: JsonObject = {};
  for (const k in doc) if (!k.startsWith('p_') && k !== 'oktopus' && k !== 'uuid') content[k] = doc[k]!;
  const h = createHash('sha256').update(canonicalJson(content)).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Short, quoted rendering of a bad value for an error reason. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

const timeGetters = new Map<string, Getter>();
function timeGetter(path: string): Getter {
  let g = timeGetters.get(path);
  if (!g) {
    g = compilePath(path, { caseInsensitive: true });
    timeGetters.set(path, g);
  }
  return g;
}

/** Event time in epoch ms from `field` (looked up in `record` as received, then in `doc`). */
export function eventTime(field: string, record: JsonObject, doc: JsonObject): number {
  const get = timeGetter(field);
  let v = get(record);
  if (v === undefined) v = get(doc);
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (v === undefined || v === null || v === '') throw new RecordError(`missing ${field}`);
  const t = parseTimestamp(v);
  if (t === undefined) throw new RecordError(`${field} is not a date: ${show(v)}`);
  // Event time is the engine's clock: one absurd value (microseconds read as milliseconds, the
  // year 57971) would close every window and expire all state, so it is a bad record instead.
  if (t < MIN_EVENT_TIME || t >= MAX_EVENT_TIME) throw new RecordError(`${field} is out of range (years 2000 to 2099): ${show(v)}`);
  return t;
}

const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
const MAX_EVENT_TIME = Date.UTC(2100, 0, 1);

/**
 * Finish an Okta LogEvent: eventType required (kept in its case in `doc`, lower-cased on the
 * event), uuid derived when missing, time from `published` or `opts.timeField`.
 * `record` is the record as received (for the time field lookup); `doc` may be modified (uuid).
 */
export function finishOkta(
  doc: JsonObject,
  record: JsonObject,
  shape: string,
  origin: string,
  opts: AdapterOptions | undefined,
): CanonicalEvent {
  const eventType: Json | undefined = doc.eventType;
  if (eventType === undefined || eventType === null || eventType === '') throw new RecordError('missing eventType');
  if (typeof eventType !== 'string') throw new RecordError(`eventType is not a string: ${show(eventType)}`);
  const time = eventTime(opts?.timeField ?? 'published', opts?.timeField ? record : doc, doc);
  let id = doc.uuid;
  if (typeof id !== 'string' || id === '') {
    id = stableUuid(doc);
    doc.uuid = id;
  }
  return makeEvent({ kind: 'okta', id, time, eventType: eventType.toLowerCase(), doc, origin, depth: 0, shape });
}
