/**
 * Event-time parsing shared by the adapters and the ECS view.
 *
 * Accepted:
 *  - Okta's ISO-8601 (`2024-08-13T15:58:20.353Z`, any offset, any number of fraction digits);
 *  - Panther's `2022-06-22 18:18:29.015` (space instead of `T`, no zone): UTC, as Panther
 *    writes `p_event_time` and `published` in UTC;
 *  - any ISO-like string without a zone is read as UTC too (never as the host's local time);
 *  - numbers: epoch milliseconds, or epoch seconds when below 1e11 (before 1973 in ms).
 * Anything else is `undefined`; the caller turns that into a RecordError.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** `2020-02-14T20:18:57.718Z`: Okta's own form, and what Elasticsearch's date processor writes. */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function parseTimestamp(value: unknown): number | undefined {
  // Fast path for Okta's form (days up to 28 cannot roll over into the next month).
  if (
    typeof value === 'string' &&
    value.length === 24 &&
    (value.charCodeAt(8) - 48) * 10 + value.charCodeAt(9) - 48 <= 28 &&
    CANONICAL_ISO.test(value)
  ) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return Math.abs(value) < 1e11 ? Math.round(value * 1000) : Math.round(value);
  }
  if (typeof value !== 'string') return undefined;
  const m = ISO.exec(value.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // Fraction: keep milliseconds, drop finer digits (Panther exports nanoseconds).
  const ms = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2023-02-31 over to March: reject dates that do not exist.
  if (new Date(t).getUTCDate() !== day && second !== 60) return undefined;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z' && zone.toUpperCase() !== 'UTC') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0);
    t -= sign * offMin * 60_000;
  }
  return t;
}

/** Render as Elasticsearch writes `@timestamp`; returns the input untouched when already so. */
export function toIsoTimestamp(value: unknown): string | undefined {
  if (typeof value === 'string' && CANONICAL_ISO.test(value)) return value;
  const t = parseTimestamp(value);
  return t === undefined ? undefined : new Date(t).toISOString();
}
