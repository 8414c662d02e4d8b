/**
 * Elastic ECS documents of the Okta integration (an `okta` object or `okta.*` flat keys, or
 * `event.dataset`/`data_stream.dataset` = okta.system), nested or with flat dotted keys, also
 * as search hits (`{_index, _source}`, unwrapped by the dispatcher). Mapped back to a LogEvent
 * with ecsToLogEvent (src/schema/ecs.ts); the time is `@timestamp` (now `published`).
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import { ecsToLogEvent, unflattenEcs } from '../schema/ecs.js';
import { checkNesting, finishOkta, isObject, type AdapterOptions } from './common.js';
import { RecordError } from './errors.js';

function datasetIsOkta(rec: JsonObject): boolean {
  const ev = rec.event;
  const ds = rec.data_stream;
  return (
    rec['event.dataset'] === 'okta.system' ||
    rec['data_stream.dataset'] === 'okta.system' ||
    (isObject(ev) && ev.dataset === 'okta.system') ||
    (isObject(ds) && ds.dataset === 'okta.system')
  );
}

export function isEcsRecord(rec: JsonObject): boolean {
  if (isObject(rec.okta) || datasetIsOkta(rec)) return true;
  for (const k in rec) if (k.startsWith('okta.')) return true;
  return false;
}

export function adaptEcs(rec: JsonObject, origin: string, opts?: AdapterOptions): CanonicalEvent {
  // Dotted keys become levels (`a.b.c…`): checked before the mapping walks them recursively,
  // and the result too (`event.original` is JSON text parsed into the doc).
  const nested = unflattenEcs(rec);
  if (nested !== rec) checkNesting(nested);
  const doc = ecsToLogEvent(nested);
  checkNesting(doc);
  if (!opts?.timeField && doc.published === undefined && nested['@timestamp'] === undefined) {
    throw new RecordError('missing @timestamp');
  }
  if (doc.eventType === undefined) throw new RecordError('missing okta.event_type / event.action');
  return finishOkta(doc, rec, 'ecs', origin, opts);
}
