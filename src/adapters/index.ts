/**
 * Record recognition and normalisation: one input record (a parsed JSON value) becomes zero or
 * more CanonicalEvents. The shape is recognised per record, not per file, so inputs may mix
 * shapes. Checked in this order:
 *
 *  | shape   | recognised by                                              | events        |
 *  |---------|------------------------------------------------------------|---------------|
 *  | alert   | `kibana.alert.uuid` (our alerts, replayed)                 | 1, kind alert |
 *  | hook    | `data.events` array (Okta Event Hook envelope)             | one per element |
 *  | ecs     | `okta` object / `okta.*` keys / event.dataset okta.system, | 1             |
 *  |         | and no `eventType` key in any case                         |               |
 *  | panther | case variants of LogEvent keys, `p_*` fields, or `published` like `2022-06-22 18:18:29.015` | 1 |
 *  | okta    | `eventType` + `published` (raw System Log LogEvent)        | 1             |
 *
 * Elasticsearch search hits (`{_index, _source: {...}}`) are unwrapped first.
 * A record that fits no shape, or lacks what its shape needs, throws RecordError with a short
 * reason (`missing eventType`, `published is not a date: "foo"`). So does an event nested
 * deeper than MAX_NESTING (64) levels (`nested deeper than 64 levels`), checked without
 * recursion before anything recursive sees it: the record (the unwrapped `_source`), each
 * element of an Event Hook delivery, and what an ECS document becomes (dotted keys and
 * `event.original` can add levels).
 */
import type { CanonicalEvent } from '../event/types.js';
import { adaptAlert, isAlertRecord } from './alert.js';
import { checkNesting, isObject, type AdapterOptions } from './common.js';
import { adaptEcs, isEcsRecord } from './ecs.js';
import { RecordError } from './errors.js';
import { adaptHook, isHookRecord } from './hook.js';
import { adaptOkta, isOktaRecord } from './okta.js';
import { adaptPanther, isPantherRecord } from './panther.js';

export { MAX_NESTING, type AdapterOptions } from './common.js';
export { RecordError } from './errors.js';

export function adaptRecord(record: unknown, origin: string, opts?: AdapterOptions): CanonicalEvent[] {
  if (!isObject(record)) {
    throw new RecordError(`not a JSON object (${record === null ? 'null' : Array.isArray(record) ? 'array' : typeof record})`);
  }
  const rec = typeof record._index === 'string' && isObject(record._source) ? record._source : record;
  const alert = isAlertRecord(rec);
  // A hook's envelope is dropped: its elements are checked one by one.
  if (!alert && isHookRecord(rec)) return adaptHook(rec, origin, opts);
  checkNesting(rec);
  if (alert) return [adaptAlert(rec, origin)];
  if (isEcsRecord(rec) && !hasEventTypeKey(rec)) return [adaptEcs(rec, origin, opts)];
  if (isPantherRecord(rec)) return [adaptPanther(rec, origin, opts)];
  if (isOktaRecord(rec)) return [adaptOkta(rec, origin, opts)];
  if (rec.eventType !== undefined) return [adaptOkta(rec, origin, opts)];
  throw new RecordError('missing eventType');
}

function hasEventTypeKey(rec: Record<string, unknown>): boolean {
  if (rec.eventType !== undefined) return true;
  for (const k in rec) if (k.length === 9 && k.toLowerCase() === 'eventtype') return true;
  return false;
}
