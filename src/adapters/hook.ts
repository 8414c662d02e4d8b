/**
 * Okta Event Hook delivery: `{eventType: "com.okta.event_hook", eventTypeVersion, source,
 * eventId, eventTime, data: {events: [LogEvent…]}}`. Any object with a `data.events` array is
 * taken as one. Each element becomes one event (raw or Panther-cased LogEvent); the envelope's
 * own fields are not kept. An element that is not a valid event fails the whole record, its
 * reason naming the element (`data.events[3]: missing eventType`).
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import { isObject, type AdapterOptions } from './common.js';
import { RecordError } from './errors.js';
import { adaptOkta } from './okta.js';
import { adaptPanther, isPantherRecord } from './panther.js';

export function isHookRecord(rec: JsonObject): boolean {
  return isObject(rec.data) && Array.isArray(rec.data.events);
}

export function adaptHook(rec: JsonObject, origin: string, opts?: AdapterOptions): CanonicalEvent[] {
  const events = (rec.data as JsonObject).events as unknown[];
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const el = events[i];
    try {
      if (!isObject(el)) throw new RecordError('not a JSON object');
      const ev = isPantherRecord(el) ? adaptPanther(el, origin, opts) : adaptOkta(el, origin, opts);
      ev.shape = 'hook';
      out.push(ev);
    } catch (e) {
      if (e instanceof RecordError) throw new RecordError(`data.events[${i}]: ${e.message}`);
      throw e;
    }
  }
  return out;
}
