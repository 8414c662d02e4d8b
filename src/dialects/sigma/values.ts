/**
 * Sigma value types (after pySigma's `sigma/types.py`).
 *
 * A detection value starts as a string, number, boolean or null and is transformed by the
 * modifier chain into one of the types below; detection.ts then turns each into IR.
 *
 * Strings are sequences of literal text, wildcards and placeholders, parsed with Sigma's
 * escaping rules: `*` and `?` are wildcards; a backslash escapes `*`, `?` and `\`; before any
 * other character (or at the end) a backslash is literal. So `\*` is a literal star, `\\*` a
 * literal backslash followed by a wildcard, `C:\Windows` keeps its single backslash.
 */

export const ANY = Symbol('wildcard *');
export const ONE = Symbol('wildcard ?');

export class Placeholder {
  constructor(readonly name: string) {}
}

export type StringPart = string | typeof ANY | typeof ONE | Placeholder;

export class SigmaString {
  readonly kind = 'string';

  constructor(
    /** Literal text, wildcards and placeholders; adjacent texts are merged, no empty texts. */
    readonly parts: readonly StringPart[],
    /** `|cased`: compare case-sensitively. */
    readonly cased = false,
    /** After utf16 modifiers: each character of a text part is one byte (0–255). */
    readonly bytes = false,
    /** The text as written in the rule, before escape processing (used by `|re`). */
    readonly original?: string,
  ) {}

  /** Parses rule text with Sigma escaping. */
  static parse(text: string): SigmaString {
    const parts: StringPart[] = [];
    let acc = '';
    let escaped = false;
    for (const c of text) {
      if (escaped) {
        acc += c === '*' || c === '?' || c === '\\' ? c : '\\' + c;
        escaped = false;
      } else if (c === '\\') {
        escaped = true;
      } else if (c === '*' || c === '?') {
        if (acc !== '') parts.push(acc);
        acc = '';
        parts.push(c === '*' ? ANY : ONE);
      } else {
        acc += c;
      }
    }
    if (escaped) acc += '\\';
    if (acc !== '') parts.push(acc);
    return new SigmaString(parts, false, false, text);
  }

  /** A string of literal text only (no escape processing). */
  static literal(text: string): SigmaString {
    return new SigmaString(text === '' ? [] : [text], false, false, text);
  }

  with(parts: readonly StringPart[], changes: { cased?: boolean; bytes?: boolean } = {}): SigmaString {
    return new SigmaString(normalise(parts), changes.cased ?? this.cased, changes.bytes ?? this.bytes);
  }

  hasWildcards(): boolean {
    return this.parts.some((p) => p === ANY || p === ONE);
  }

  hasPlaceholders(): boolean {
    return this.parts.some((p) => p instanceof Placeholder);
  }

  startsWithAny(): boolean {
    return this.parts[0] === ANY;
  }

  endsWithAny(): boolean {
    return this.parts[this.parts.length - 1] === ANY;
  }

  /** The literal text; only meaningful when there are no wildcards or placeholders. */
  text(): string {
    return this.parts.map((p) => (typeof p === 'string' ? p : p === ANY ? '*' : p === ONE ? '?' : `%${p.name}%`)).join('');
  }

  /** The canonical IR wildcard syntax: `*`, `?`, and `\*`, `\?`, `\\` for literals. */
  toWildcard(): string {
    let out = '';
    for (const p of this.parts) {
      if (p === ANY) out += '*';
      else if (p === ONE) out += '?';
      else if (typeof p === 'string') out += p.replace(/[*?\\]/g, (c) => '\\' + c);
      else out += `%${p.name}%`;
    }
    return out;
  }
}

/** Merges adjacent texts and drops empty ones. */
export function normalise(parts: readonly StringPart[]): StringPart[] {
  const out: StringPart[] = [];
  for (const p of parts) {
    if (p === '') continue;
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

export interface SigmaNumber {
  kind: 'number';
  value: number;
  /** The number as written (`0x17`, `007`), used when a string modifier needs text. */
  source: string;
}

export interface SigmaBool {
  kind: 'bool';
  value: boolean;
}

export interface SigmaNull {
  kind: 'null';
}

export type RegexFlag = 'i' | 'm' | 's';

export interface SigmaRegex {
  kind: 'regex';
  pattern: string;
  flags: RegexFlag[];
  /** `|expand` was applied: `%name%` in the pattern are placeholders. */
  placeholders: boolean;
}

export interface SigmaCidr {
  kind: 'cidr';
  network: string;
}

export type OrderOp = 'lt' | 'lte' | 'gt' | 'gte';

export interface SigmaCompare {
  kind: 'compare';
  op: OrderOp;
  value: number | string;
}

export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export interface SigmaTimePart {
  kind: 'timepart';
  part: TimePart;
  op: 'eq' | OrderOp;
  value: number;
}

export interface SigmaFieldRef {
  kind: 'fieldref';
  field: string;
  startsWith: boolean;
  endsWith: boolean;
  cased: boolean;
}

export interface SigmaExists {
  kind: 'exists';
  exists: boolean;
}

/** Several alternatives for one value (windash, base64offset, placeholders): always OR-linked. */
export interface SigmaExpansion {
  kind: 'expansion';
  values: SigmaValue[];
}

export type SigmaValue =
  | SigmaString
  | SigmaNumber
  | SigmaBool
  | SigmaNull
  | SigmaRegex
  | SigmaCidr
  | SigmaCompare
  | SigmaTimePart
  | SigmaFieldRef
  | SigmaExists
  | SigmaExpansion;

export type SigmaValueKind = SigmaValue['kind'];

/** How a value is named in error messages. */
export function describeValue(v: SigmaValue): string {
  switch (v.kind) {
    case 'string':
      return `string '${v.text()}'`;
    case 'number':
      return `number ${v.source}`;
    case 'bool':
      return `boolean ${v.value}`;
    case 'null':
      return 'null';
    case 'regex':
      return `regular expression '${v.pattern}'`;
    case 'cidr':
      return `CIDR network ${v.network}`;
    case 'compare':
      return `${v.op} comparison`;
    case 'timepart':
      return `${v.part} of a date`;
    case 'fieldref':
      return `field reference '${v.field}'`;
    case 'exists':
      return 'exists check';
    case 'expansion':
      return 'expanded value list';
  }
}
