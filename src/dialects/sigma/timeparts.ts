/**
 * Sigma 2.1 time modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`): extract a part of
 * a date value and compare it (`published|hour: 3`, `published|hour|gte: 22`).
 *
 * The IR has no date-part operator, so the part is read from the text of the event value with
 * a regular expression compiled here: the event value must be an ISO-8601 date or timestamp
 * (`2024-03-05`, `2024-03-05T22:10:00.000Z`, `2024-03-05 22:10:00`), as Okta's `published` is.
 * As the spec warns, there is no time-zone or format conversion: the part is the one written
 * in the value (Okta timestamps are UTC). Other values (epoch numbers, other formats) do not
 * match.
 *
 *  - minute 0–59, hour 0–23, day 1–31, month 1–12, year 0–9999: the digits at their position.
 *  - week: the ISO-8601 week number (1–53; week 1 holds the year's first Thursday), computed
 *    here for the ISO years 1970–2099 as date ranges.
 */
import type { FieldRef, Predicate } from '../../ir/types.js';
import type { OrderOp, TimePart } from './values.js';

const DOMAIN: Record<TimePart, [number, number]> = {
  minute: [0, 59],
  hour: [0, 23],
  day: [1, 31],
  week: [1, 53],
  month: [1, 12],
  year: [0, 9999],
};

const WEEK_YEARS: [number, number] = [1970, 2099];

/** The inclusive range of part values a comparison accepts, or undefined when none. */
function acceptedRange(part: TimePart, op: 'eq' | OrderOp, n: number): [number, number] | undefined {
  const [min, max] = DOMAIN[part];
  let lo = min;
  let hi = max;
  switch (op) {
    case 'eq':
      lo = hi = n;
      break;
    case 'lt':
      hi = n - 1;
      break;
    case 'lte':
      hi = n;
      break;
    case 'gt':
      lo = n + 1;
      break;
    case 'gte':
      lo = n;
      break;
  }
  lo = Math.max(lo, min);
  hi = Math.min(hi, max);
  return lo <= hi ? [lo, hi] : undefined;
}

const allNines = (s: string) => [...s].every((c) => c === '9');
const allZeros = (s: string) => [...s].every((c) => c === '0');

/** RE2 fragment matching the decimal strings of one length between `a` and `b` (inclusive). */
function digitRange(a: string, b: string): string {
  if (a.length === 0) return '';
  if (a === b) return a;
  if (allZeros(a) && allNines(b)) return a.length === 1 ? '\\d' : `\\d{${a.length}}`;
  if (a[0] === b[0]) return a[0] + digitRange(a.slice(1), b.slice(1));
  if (a.length === 1) return `[${a}-${b}]`;
  const rest = a.length - 1;
  const a0 = Number(a[0]);
  const b0 = Number(b[0]);
  const alts = [a[0] + digitRange(a.slice(1), '9'.repeat(rest))];
  if (b0 - a0 >= 2) alts.push(`[${a0 + 1}-${b0 - 1}]` + digitRange('0'.repeat(rest), '9'.repeat(rest)));
  alts.push(b[0] + digitRange('0'.repeat(rest), b.slice(1)));
  return `(?:${alts.join('|')})`;
}

/** RE2 fragment for the zero-padded numbers lo..hi written with `width` digits. */
export function numberRangeRegex(lo: number, hi: number, width: number): string {
  const pad = (n: number) => String(n).padStart(width, '0');
  return digitRange(pad(lo), pad(hi));
}

const DATE = '\\d{4}-\\d{2}-\\d{2}';
const TIME_SEP = '[Tt ]';

/* ------------------------------------------------------------------------------------------ */
/* ISO weeks                                                                                   */
/* ------------------------------------------------------------------------------------------ */

const DAY_MS = 86_400_000;

/** Monday of ISO week 1 of `year` (UTC midnight, epoch ms). */
function isoWeekOneMonday(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * DAY_MS;
}

function isoWeeksIn(year: number): number {
  return Math.round((isoWeekOneMonday(year + 1) - isoWeekOneMonday(year)) / (7 * DAY_MS));
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** RE2 fragment for the `MM-DD` of the dates from (m1, d1) to (m2, d2) of one calendar year. */
function monthDayRange(year: number, m1: number, d1: number, m2: number, d2: number): string {
  if (m1 === m2) return `${pad2(m1)}-${numberRangeRegex(d1, d2, 2)}`;
  const alts: string[] = [];
  let fullFrom = m1;
  let fullTo = m2;
  if (d1 > 1) {
    alts.push(`${pad2(m1)}-${numberRangeRegex(d1, daysInMonth(year, m1), 2)}`);
    fullFrom = m1 + 1;
  }
  if (d2 < daysInMonth(year, m2)) fullTo = m2 - 1;
  if (fullFrom <= fullTo) alts.push(`${numberRangeRegex(fullFrom, fullTo, 2)}-\\d{2}`);
  if (d2 < daysInMonth(year, m2)) alts.push(`${pad2(m2)}-${numberRangeRegex(1, d2, 2)}`);
  return alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
}

/** RE2 alternation for the dates of ISO weeks lo..hi in the ISO years 1970–2099. */
function weekRegex(lo: number, hi: number): string {
  // Calendar year -> month-day fragments; years with the same fragments are grouped.
  const byYear = new Map<number, string[]>();
  for (let y = WEEK_YEARS[0]; y <= WEEK_YEARS[1]; y++) {
    const weeks = isoWeeksIn(y);
    if (lo > weeks) continue;
    const start = isoWeekOneMonday(y) + (lo - 1) * 7 * DAY_MS;
    const end = isoWeekOneMonday(y) + (Math.min(hi, weeks) - 1) * 7 * DAY_MS + 6 * DAY_MS;
    const s = new Date(start);
    const e = new Date(end);
    for (let cy = s.getUTCFullYear(); cy <= e.getUTCFullYear(); cy++) {
      const [m1, d1] = cy === s.getUTCFullYear() ? [s.getUTCMonth() + 1, s.getUTCDate()] : [1, 1];
      const [m2, d2] = cy === e.getUTCFullYear() ? [e.getUTCMonth() + 1, e.getUTCDate()] : [12, 31];
      const list = byYear.get(cy) ?? [];
      list.push(monthDayRange(cy, m1, d1, m2, d2));
      byYear.set(cy, list);
    }
  }
  const byFragment = new Map<string, number[]>();
  for (const [year, frags] of byYear) {
    const frag = frags.length === 1 ? frags[0]! : `(?:${frags.join('|')})`;
    byFragment.set(frag, [...(byFragment.get(frag) ?? []), year]);
  }
  const alts = [...byFragment].map(([frag, years]) => {
    const ys = years.map((y) => String(y).padStart(4, '0'));
    return `${ys.length === 1 ? ys[0] : `(?:${ys.join('|')})`}-${frag}`;
  });
  return alts.length === 0 ? '' : `(?:${alts.join('|')})`;
}

/** The ISO week number of a date (exported for tests). */
export function isoWeek(date: Date): number {
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  let year = date.getUTCFullYear() + 1;
  while (isoWeekOneMonday(year) > day) year--;
  return Math.floor((day - isoWeekOneMonday(year)) / (7 * DAY_MS)) + 1;
}

/* ------------------------------------------------------------------------------------------ */

/** The regular expression a time-part comparison compiles to, or undefined when nothing matches. */
export function timePartRegex(part: TimePart, op: 'eq' | OrderOp, n: number): string | undefined {
  const range = acceptedRange(part, op, n);
  if (!range) return undefined;
  const [lo, hi] = range;
  switch (part) {
    case 'minute':
      return `^${DATE}${TIME_SEP}\\d{2}:${numberRangeRegex(lo, hi, 2)}`;
    case 'hour':
      return `^${DATE}${TIME_SEP}${numberRangeRegex(lo, hi, 2)}:`;
    case 'day':
      return `^\\d{4}-\\d{2}-${numberRangeRegex(lo, hi, 2)}(?:$|[^0-9])`;
    case 'month':
      return `^\\d{4}-${numberRangeRegex(lo, hi, 2)}-\\d{2}`;
    case 'year':
      return `^${numberRangeRegex(lo, hi, 4)}-\\d{2}-\\d{2}`;
    case 'week': {
      const dates = weekRegex(lo, hi);
      return dates === '' ? undefined : `^${dates}(?:$|[^0-9])`;
    }
  }
}

export function timePartPredicate(field: FieldRef, part: TimePart, op: 'eq' | OrderOp, n: number): Predicate {
  const pattern = timePartRegex(part, op, n);
  if (pattern === undefined) return { type: 'const', value: false };
  return { type: 'compare', field, op: 'regex', values: [pattern], options: { caseSensitive: true } };
}
