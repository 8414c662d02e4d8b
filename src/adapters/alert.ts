/**
 * Our own alert documents (Kibana-compatible: `kibana.alert.uuid`, nested or as flat dotted
 * keys), so that an alerts.ndjson can be replayed into higher-order rules. The document is kept
 * as is; id = kibana.alert.uuid, time = @timestamp (the alert's creation time, which Kibana
 * sequences alerts on), depth = kibana.alert.depth (1 when absent). `timeField` does not apply.
 */
import { makeEvent, type CanonicalEvent, type JsonObject } from '../event/types.js';
import { compilePath } from '../schema/path.js';
import { show } from './common.js';
import { RecordError } from './errors.js';
import { parseTimestamp } from './time.js';

const alertUuid = compilePath('kibana.alert.uuid');
const alertDepth = compilePath('kibana.alert.depth');

export function isAlertRecord(rec: JsonObject): boolean {
  return alertUuid(rec) !== undefined;
}

export function adaptAlert(rec: JsonObject, origin: string): CanonicalEvent {
  const id = alertUuid(rec);
  if (typeof id !== 'string' || id === '') throw new RecordError(`kibana.alert.uuid is not a string: ${show(id)}`);
  const ts = rec['@timestamp'];
  if (ts === undefined || ts === null) throw new RecordError('missing @timestamp');
  const time = parseTimestamp(ts);
  if (time === undefined) throw new RecordError(`@timestamp is not a date: ${show(ts)}`);
  const d = alertDepth(rec);
  const depth = typeof d === 'number' && Number.isInteger(d) && d >= 1 ? d : 1;
  return makeEvent({ kind: 'alert', id, time, eventType: '', doc: rec, origin, depth, shape: 'alert' });
}
