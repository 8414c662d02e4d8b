/**
 * Raw Okta System Log LogEvent, exactly as `GET /api/v1/logs` returns it: camelCase keys with
 * `eventType` and `published` at the top. The object becomes the event's doc untouched (except
 * for a derived uuid when it has none).
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import { finishOkta, type AdapterOptions } from './common.js';

export function isOktaRecord(rec: JsonObject): boolean {
  return typeof rec.eventType === 'string' && rec.published !== undefined;
}

export function adaptOkta(rec: JsonObject, origin: string, opts?: AdapterOptions): CanonicalEvent {
  return finishOkta(rec, rec, 'okta', origin, opts);
}
