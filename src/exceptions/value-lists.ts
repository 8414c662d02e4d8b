/**
 * Value lists: Kibana's lists of values ("is in list" / "is not in list" exception entries),
 * and how an entry over one becomes an IR predicate.
 *
 * A value list is a file with one value per line (Kibana's import and `_export` format: a `.txt`
 * or `.csv` file; its list id is the file name) or values written inline in an oktopus YAML file.
 * Its type comes from the entry that names it (`list: {id, type}`) or from the YAML. Kibana's
 * query per type (security_solution `build_exception_filter.ts`, `buildListClause`):
 *  - ip_range: `a-b` is a range query (both ends inclusive); a CIDR or a single address a `terms`
 *    query on an ip field (CIDR membership). Ranges are turned into the CIDR blocks covering them.
 *  - ip:       `terms` on an ip field (an address, or a CIDR).
 *  - keyword:  `terms`: whole-value, case-sensitive equality.
 *  - text:     `match` with operator `and`. The query is analysed with the field's analyzer; the
 *              Okta integration's fields are keywords, whose analyzer is the identity, so the
 *              value must equal the whole field value, case-sensitively: exact equality, as keyword.
 *  - long/integer/short/byte/double/float/half_float, boolean: `terms` by value.
 * Other Kibana types (dates, ranges, geo, binary, shapes) are refused by name.
 */
import ipaddr from 'ipaddr.js';
import type { FieldRef, Predicate, Scalar } from '../ir/types.js';
import { parseNetwork } from '../engine/predicate/cidr.js';

export const VALUE_LIST_TYPES = ['ip', 'ip_range', 'keyword', 'text', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'boolean'] as const;
export type ValueListType = (typeof VALUE_LIST_TYPES)[number];

/** Kibana's list types that have no meaning for Okta System Log fields here. */
const KIBANA_ONLY_TYPES = ['binary', 'date', 'date_nanos', 'date_range', 'double_range', 'float_range', 'geo_point', 'geo_shape', 'integer_range', 'long_range', 'shape'];

export function checkValueListType(type: unknown): ValueListType {
  if (typeof type !== 'string') throw new Error('the value list has no type (ip, ip_range, keyword, text, …)');
  if ((VALUE_LIST_TYPES as readonly string[]).includes(type)) return type as ValueListType;
  if (KIBANA_ONLY_TYPES.includes(type)) throw new Error(`value-list type '${type}' is not supported here (supported: ${VALUE_LIST_TYPES.join(', ')})`);
  throw new Error(`unknown value-list type '${type}' (supported: ${VALUE_LIST_TYPES.join(', ')})`);
}

/** One value of a value list, with where it was written (`file:line` or `file: value_lists.x[3]`). */
export interface ListValue {
  value: string;
  at: string;
}

export interface ValueList {
  id: string;
  /** The type the YAML declares; a `.txt` file takes the type of the entry that names it. */
  type?: ValueListType;
  values: ListValue[];
  source: string;
}

/** Reads a value-list file's text: one value per line (trailing CR and surrounding blanks dropped; blank lines skipped). */
export function valuesOfText(text: string, file: string): ListValue[] {
  const out: ListValue[] = [];
  text.split('\n').forEach((line, i) => {
    const value = line.trim();
    if (value !== '') out.push({ value, at: `${file}:${i + 1}` });
  });
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* IP addresses and ranges                                                                     */
/* ------------------------------------------------------------------------------------------ */

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

// Error messages here never quote the value: a value-list file may be anything a user pointed
// --exceptions at (a token file), and its lines must not reach the output. The line number is enough.
function parseAddress(text: string, what: string): Addr {
  if (text.includes(':')) {
    if (!ipaddr.IPv6.isValid(text)) throw new Error(`the ${what} is not an IP address`);
    return ipaddr.IPv6.parse(text);
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw new Error(`the ${what} is not an IP address`);
  return ipaddr.IPv4.parse(text);
}

function toBig(a: Addr): bigint {
  let n = 0n;
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBig(n: bigint, bytes: number): string {
  const arr: number[] = [];
  for (let i = 0; i < bytes; i++) {
    arr.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return ipaddr.fromByteArray(arr).toString();
}

/** Whether an ip_range value is in dash notation (`low-high`), as Kibana counts them (its large-list limit). */
export function isDashRange(text: string): boolean {
  return text.includes('-');
}

/**
 * An address, a CIDR, or (with `ranges`) `low-high`: the CIDR blocks it covers. Throws on anything
 * else, with a message that does not quote the value. Addresses and CIDRs are checked with the
 * engine's parser (src/engine/predicate/cidr.ts), so whatever loads also compiles.
 */
export function ipValueToCidrs(text: string, ranges: boolean): string[] {
  const t = text.trim();
  if (ranges && isDashRange(t)) {
    const [a, b, ...more] = t.split('-').map((x) => x.trim());
    if (more.length > 0 || !a || !b) throw new Error('not an address, a CIDR or a range (low-high)');
    const lo = parseAddress(a, 'low end of the range');
    const hi = parseAddress(b, 'high end of the range');
    if (lo.kind() !== hi.kind()) throw new Error('the range mixes IPv4 and IPv6');
    const bits = lo.kind() === 'ipv4' ? 32 : 128;
    const from = toBig(lo);
    const to = toBig(hi);
    if (from > to) throw new Error('the range ends before it starts');
    return rangeToCidrs(from, to, bits);
  }
  let net;
  try {
    net = parseNetwork(t);
  } catch {
    throw new Error(ranges ? 'not an address, a CIDR or a range (low-high)' : 'not an address or a CIDR');
  }
  return [`${net[0].toString()}/${net[1]}`];
}

/** The fewest CIDR blocks exactly covering [from, to]. */
function rangeToCidrs(from: bigint, to: bigint, bits: number): string[] {
  const out: string[] = [];
  const bytes = bits / 8;
  let lo = from;
  while (lo <= to) {
    // The largest block aligned at `lo` …
    let size = lo === 0n ? 1n << BigInt(bits) : lo & -lo;
    // … that does not run past `to`.
    while (lo + size - 1n > to) size >>= 1n;
    let prefix = bits;
    for (let s = size; s > 1n; s >>= 1n) prefix--;
    out.push(`${fromBig(lo, bytes)}/${prefix}`);
    lo += size;
  }
  return out;
}

/**
 * Kibana's "large" value lists (kibana#133254; Elastic Security docs, "Create and manage value
 * lists"): keyword or ip lists of more than 65,536 values, ip_range lists with more than 200
 * dash-notation values or more than 65,536 CIDRs, and text lists of any size. Kibana applies
 * them only to query, ML and indicator-match rules; an EQL, threshold or new_terms rule runs
 * without the item (index.ts, attachExceptions). Returns why the list is large, or undefined.
 */
export function largeListReason(type: ValueListType, values: string[]): string | undefined {
  const SMALL = 65_536;
  if (type === 'text') return 'is a text list';
  if (type === 'ip_range') {
    const dashes = values.filter(isDashRange).length;
    if (dashes > 200) return `has ${dashes} dash-notation ranges (more than 200)`;
    if (values.length - dashes > SMALL) return `has ${values.length - dashes} CIDR values (more than 65,536)`;
    return undefined;
  }
  if ((type === 'keyword' || type === 'ip') && values.length > SMALL) return `has ${values.length} values (more than 65,536)`;
  return undefined;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry predicates                                                                            */
/* ------------------------------------------------------------------------------------------ */

export interface ValueListProblem {
  at: string;
  message: string;
}

/**
 * The predicate "field is in the list" for a list of this type. Values that are not valid for
 * the type are reported (`problems`) and left out; the others are kept.
 */
export function inListPredicate(field: FieldRef, type: ValueListType, values: ListValue[], problems: ValueListProblem[]): Predicate {
  const good = <T>(fn: (v: ListValue) => T): T[] => {
    const out: T[] = [];
    for (const v of values) {
      try {
        out.push(fn(v));
      } catch (e) {
        problems.push({ at: v.at, message: (e as Error).message });
      }
    }
    return out;
  };
  const none: Predicate = { type: 'const', value: false };
  switch (type) {
    case 'ip':
    case 'ip_range': {
      const nets = good((v) => ipValueToCidrs(v.value, type === 'ip_range')).flat();
      return nets.length === 0 ? none : { type: 'compare', field, op: 'cidr', values: [...new Set(nets)] };
    }
    // text: Kibana's `match {operator: and}` against a keyword field is a term query for the
    // whole value (a keyword's analyzer keeps it as one token, case and all): the same test as keyword.
    case 'keyword':
    case 'text':
      return values.length === 0 ? none : { type: 'compare', field, op: 'eq', values: [...new Set(values.map((v) => v.value))], options: { caseSensitive: true } };
    case 'boolean': {
      const bools: Scalar[] = good((v) => {
        if (v.value !== 'true' && v.value !== 'false') throw new Error('not true or false');
        return v.value === 'true';
      });
      return bools.length === 0 ? none : { type: 'compare', field, op: 'eq', values: bools, options: { coerce: 'typed' } };
    }
    default: {
      const integer = ['long', 'integer', 'short', 'byte'].includes(type);
      const nums: Scalar[] = good((v) => {
        const n = Number(v.value);
        if (v.value === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`not a${integer ? 'n integer' : ' number'}`);
        return n;
      });
      return nums.length === 0 ? none : { type: 'compare', field, op: 'eq', values: nums, options: { coerce: 'typed' } };
    }
  }
}
