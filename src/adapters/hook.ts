/**
 * Okta Event Hook delivery: `{eventType: "com.okta.event_hook", eventTypeVersion, source,
 * eventId, eventTime, data: {events: [LogEvent…]}}`. Any object with a `data.events` array is
 * taken as one. Each element becomes one event (raw or Panther-cased LogEvent); the envelope's
 * own fields are not kept. A bad element (not an object, nested too deep, not a valid event)
 * is reported as `data.events[3]: missing eventType`: through `opts.onPartialError`, the valid
 * elements being returned all the same; without it, as the RecordError of the whole record.
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import { checkNesting, isObject, type AdapterOptions } from './common.js';
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
      checkNesting(el);
      const ev = isPantherRecord(el) ? adaptPanther(el, origin, opts) : adaptOkta(el, origin, opts);
      ev.shape = 'hook';
      out.push(ev);
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      const reason = `data.events[${i}]: ${e.message}`;
      if (!opts?.onPartialError) throw new RecordError(reason);
      opts.onPartialError(reason);
    }
  }
  return out;
}
