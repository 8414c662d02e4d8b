/**
 * Sigma value modifiers (spec 2.1 appendix; behaviour after pySigma `sigma/modifiers.py`).
 *
 * `Field|m1|m2: value` applies m1 then m2 to each value. A modifier is either a value modifier
 * (transforms each value; may turn one value into an OR-linked expansion) or a list modifier
 * (changes how the values are combined: `all`, `neq`). Each modifier names the value types it
 * accepts; anything else is a rule error, which is how invalid combinations are rejected
 * (`re` after another modifier, `base64` of a wildcard, `cidr|contains`, `i` without `re`…).
 *
 * A number given to a modifier that only takes strings (`|contains: 4624`) is used as the text
 * it was written as.
 */
import { parseNetwork } from '../../engine/predicate/index.js';
import {
  ANY,
  describeValue,
  normalise,
  Placeholder,
  SigmaString,
  type OrderOp,
  type RegexFlag,
  type SigmaValue,
  type SigmaValueKind,
  type StringPart,
  type TimePart,
} from './values.js';

/** State of the detection item the modifiers work on. */
export interface ItemState {
  /** The field name, or null for keyword (field-less) items. */
  field: string | null;
  /** How the item's values are combined. */
  linking: 'or' | 'and';
  /** `neq`: the item matches when none of its values (or not all, with `all`) match. */
  negated: boolean;
}

export interface ModifierContext {
  item: ItemState;
  /** Names of the modifiers applied before this one (canonical names). */
  applied: readonly string[];
  /** Throws a RuleError at the position of the detection key. */
  fail(message: string): never;
}

/** Transforms each value of the item. */
export interface ValueModifier {
  /** Canonical name (aliases map to the same object). */
  name: string;
  scope: 'value';
  /** Value types the modifier accepts. */
  accepts: readonly SigmaValueKind[];
  apply(value: SigmaValue, ctx: ModifierContext): SigmaValue;
}

/** Changes how the item's values are combined. */
export interface ListModifier {
  name: string;
  scope: 'list';
  apply(ctx: ModifierContext): void;
}

export type Modifier = ValueModifier | ListModifier;

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function valueModifier(
  name: string,
  accepts: readonly SigmaValueKind[],
  apply: (value: SigmaValue, ctx: ModifierContext) => SigmaValue,
): ValueModifier {
  return { name, scope: 'value', accepts, apply };
}

function requireFirst(ctx: ModifierContext, name: string): void {
  if (ctx.applied.length > 0) {
    ctx.fail(`modifier '${name}' must come first: it only applies to an unmodified value (found after '${ctx.applied.join('|')}')`);
  }
}

function requireNoWildcards(s: SigmaString, ctx: ModifierContext, name: string): void {
  if (s.hasWildcards()) ctx.fail(`modifier '${name}' cannot encode a value with wildcards ('${s.text()}')`);
  if (s.hasPlaceholders()) ctx.fail(`modifier '${name}' cannot encode a placeholder; apply 'expand' last`);
}

/** The bytes a string stands for: UTF-8 text, or the raw bytes after a utf16 modifier. */
function bytesOf(s: SigmaString): Buffer {
  const text = s.parts.filter((p): p is string => typeof p === 'string').join('');
  return Buffer.from(text, s.bytes ? 'latin1' : 'utf8');
}

/** Maps every text part through `f`, keeping wildcards and placeholders. */
function mapText(s: SigmaString, f: (text: string) => string, bytes: boolean): SigmaString {
  return s.with(
    s.parts.map((p) => (typeof p === 'string' ? f(p) : p)),
    { bytes },
  );
}

function encodedString(text: string, cased: boolean): SigmaString {
  return new SigmaString(normalise([text]), cased);
}

function utf16le(text: string): string {
  return Buffer.from(text, 'utf16le').toString('latin1');
}

function utf16be(text: string): string {
  return Buffer.from(text, 'utf16le').swap16().toString('latin1');
}

/* ------------------------------------------------------------------------------------------ */
/* Position: contains / startswith / endswith                                                  */
/* ------------------------------------------------------------------------------------------ */

const POSITION_TYPES: readonly SigmaValueKind[] = ['string', 'regex', 'fieldref'];

/**
 * `contains` puts a wildcard before and after a string, `startswith` after, `endswith` before
 * (unless one is already there). On a field reference they select the relation (the field
 * starts with / ends with / contains the other field). On regular expressions they change
 * nothing: a Sigma regex is a search (unanchored) here, which already matches anywhere.
 */
function positionModifier(name: string, wildcardBefore: boolean, wildcardAfter: boolean): ValueModifier {
  return valueModifier(name, POSITION_TYPES, (v) => {
    if (v.kind === 'string') {
      const parts: StringPart[] = [...v.parts];
      if (wildcardBefore && !v.startsWithAny()) parts.unshift(ANY);
      if (wildcardAfter && !v.endsWithAny()) parts.push(ANY);
      return v.with(parts);
    }
    if (v.kind === 'fieldref') {
      return { ...v, startsWith: v.startsWith || wildcardAfter, endsWith: v.endsWith || wildcardBefore };
    }
    return v;
  });
}

/* ------------------------------------------------------------------------------------------ */
/* windash                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** The five dash characters `windash` substitutes for each other. */
export const WINDASH_VARIANTS = ['-', '/', '\u2013', '\u2014', '\u2015'] as const;

/** Python's `\w` (Unicode word character). */
function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /^[\p{L}\p{N}\p{Mn}\p{Pc}]$/u.test(c);
}

/** Above this many combinations a windash value is refused rather than expanded. */
const WINDASH_MAX_VARIANTS = 5 ** 6;

/**
 * pySigma semantics: a `-` or `/` is replaced when it starts a word (regex `\B[-/]\b` per text
 * part: preceded by a non-word character or the start, followed by a word character), each
 * occurrence independently by all five variants (cartesian expansion). `-param-1` varies the
 * first dash only.
 */
export function windashVariants(s: SigmaString, fail: (m: string) => never): SigmaString[] {
  // Split every text part into pieces; `null` marks a dash slot.
  const pieces: (StringPart | null)[] = [];
  let slots = 0;
  for (const p of s.parts) {
    if (typeof p !== 'string') {
      pieces.push(p);
      continue;
    }
    const chars = Array.from(p);
    let acc = '';
    chars.forEach((c, i) => {
      if ((c === '-' || c === '/') && !isWordChar(chars[i - 1]) && isWordChar(chars[i + 1])) {
        pieces.push(acc, null);
        acc = '';
        slots++;
      } else {
        acc += c;
      }
    });
    pieces.push(acc);
  }
  if (slots === 0) return [s];
  if (WINDASH_VARIANTS.length ** slots > WINDASH_MAX_VARIANTS) {
    fail(`windash: '${s.text()}' has ${slots} dashes, too many variants to expand (max 6)`);
  }
  let combos: StringPart[][] = [[]];
  for (const piece of pieces) {
    if (piece === null) {
      combos = combos.flatMap((c) => WINDASH_VARIANTS.map((d) => [...c, d]));
    } else {
      for (const c of combos) c.push(piece);
    }
  }
  return combos.map((parts) => s.with(parts));
}

/* ------------------------------------------------------------------------------------------ */
/* base64 / base64offset                                                                       */
/* ------------------------------------------------------------------------------------------ */

const OFFSET_STARTS = [0, 2, 3] as const;
const OFFSET_ENDS = [undefined, -3, -2] as const;

/**
 * pySigma's three shifted encodings: `b64encode(i * b" " + data)[start[i] : end[(len + i) % 3]]`
 * with start = (0, 2, 3), end = (none, -3, -2). `foobar` -> `Zm9vYmFy`, `Zvb2Jhc`, `mb29iYX`.
 */
export function base64OffsetVariants(data: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const encoded = Buffer.concat([Buffer.alloc(i, 0x20), data]).toString('base64');
    const end = OFFSET_ENDS[(data.length + i) % 3];
    out.push(encoded.slice(OFFSET_STARTS[i], end === undefined ? encoded.length : encoded.length + end));
  }
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* expand                                                                                      */
/* ------------------------------------------------------------------------------------------ */

function isNameChar(c: string): boolean {
  return /^[\p{L}\p{N}_]$/u.test(c);
}

/**
 * Replaces `%name%` in text parts by placeholders (pySigma `insert_placeholders`); `\%` is a
 * literal percent sign.
 */
export function insertPlaceholders(s: SigmaString): SigmaString {
  const out: StringPart[] = [];
  for (const p of s.parts) {
    if (typeof p !== 'string') {
      out.push(p);
      continue;
    }
    let acc = '';
    let i = 0;
    while (i < p.length) {
      const c = p[i]!;
      if (c === '\\' && p[i + 1] === '%') {
        acc += '%';
        i += 2;
        continue;
      }
      if (c === '%') {
        let j = i + 1;
        while (j < p.length && isNameChar(p[j]!)) j++;
        if (j > i + 1 && p[j] === '%') {
          out.push(acc, new Placeholder(p.slice(i + 1, j)));
          acc = '';
          i = j + 1;
          continue;
        }
      }
      acc += c;
      i++;
    }
    out.push(acc);
  }
  return s.with(normalise(out));
}

/* ------------------------------------------------------------------------------------------ */
/* Registry                                                                                    */
/* ------------------------------------------------------------------------------------------ */

function regexFlag(name: string, flag: RegexFlag): ValueModifier {
  return valueModifier(name, ['regex'], (v) => {
    if (v.kind !== 'regex') return v;
    return v.flags.includes(flag) ? v : { ...v, flags: [...v.flags, flag].sort() as RegexFlag[] };
  });
}

function compareModifier(op: OrderOp): ValueModifier {
  return valueModifier(op, ['number', 'string', 'timepart'], (v, ctx) => {
    if (v.kind === 'number') return { kind: 'compare', op, value: v.value };
    if (v.kind === 'timepart') {
      if (v.op !== 'eq') ctx.fail(`modifier '${op}' cannot follow '${v.op}'`);
      return { ...v, op };
    }
    if (v.kind === 'string') {
      if (v.hasWildcards() || v.hasPlaceholders()) ctx.fail(`modifier '${op}' needs a number or a plain string, not '${v.text()}'`);
      return { kind: 'compare', op, value: v.text() };
    }
    return v;
  });
}

function timePartModifier(part: TimePart): ValueModifier {
  return valueModifier(part, ['number'], (v, ctx) => {
    if (v.kind !== 'number') return v;
    if (!Number.isInteger(v.value)) ctx.fail(`modifier '${part}' needs an integer, not ${v.source}`);
    return { kind: 'timepart', part, op: 'eq', value: v.value };
  });
}

function utf16Modifier(name: string, encode: (text: string) => string, bom: string): ValueModifier {
  return valueModifier(name, ['string'], (v) => {
    if (v.kind !== 'string') return v;
    const encoded = mapText(v, encode, true);
    return bom === '' ? encoded : encoded.with([bom, ...encoded.parts]);
  });
}

const MODIFIER_LIST: Modifier[] = [
  positionModifier('contains', true, true),
  positionModifier('startswith', false, true),
  positionModifier('endswith', true, false),

  {
    name: 'all',
    scope: 'list',
    apply: (ctx) => {
      ctx.item.linking = 'and';
    },
  },
  {
    name: 'neq',
    scope: 'list',
    apply: (ctx) => {
      ctx.item.negated = true;
    },
  },

  valueModifier('exists', ['bool'], (v, ctx) => {
    requireFirst(ctx, 'exists');
    if (ctx.item.field === null) ctx.fail("modifier 'exists' needs a field");
    return v.kind === 'bool' ? { kind: 'exists', exists: v.value } : v;
  }),

  valueModifier('cased', ['string', 'fieldref'], (v) => {
    if (v.kind === 'string') return v.with(v.parts, { cased: true });
    if (v.kind === 'fieldref') return { ...v, cased: true };
    return v;
  }),

  valueModifier('windash', ['string'], (v, ctx) => {
    if (v.kind !== 'string') return v;
    const variants = windashVariants(v, ctx.fail);
    return variants.length === 1 ? variants[0]! : { kind: 'expansion', values: variants };
  }),

  valueModifier('re', ['string'], (v, ctx) => {
    requireFirst(ctx, 're');
    if (v.kind !== 'string') return v;
    return { kind: 'regex', pattern: v.original ?? v.text(), flags: [], placeholders: false };
  }),
  regexFlag('i', 'i'),
  regexFlag('m', 'm'),
  regexFlag('s', 's'),

  valueModifier('base64', ['string'], (v, ctx) => {
    if (v.kind !== 'string') return v;
    requireNoWildcards(v, ctx, 'base64');
    return encodedString(bytesOf(v).toString('base64'), v.cased);
  }),
  valueModifier('base64offset', ['string'], (v, ctx) => {
    if (v.kind !== 'string') return v;
    requireNoWildcards(v, ctx, 'base64offset');
    return {
      kind: 'expansion',
      values: base64OffsetVariants(bytesOf(v)).map((t) => encodedString(t, v.cased)),
    };
  }),

  utf16Modifier('utf16le', utf16le, ''),
  utf16Modifier('utf16be', utf16be, ''),
  utf16Modifier('utf16', utf16le, '\u00ff\u00fe'),

  compareModifier('lt'),
  compareModifier('lte'),
  compareModifier('gt'),
  compareModifier('gte'),

  timePartModifier('minute'),
  timePartModifier('hour'),
  timePartModifier('day'),
  timePartModifier('week'),
  timePartModifier('month'),
  timePartModifier('year'),

  valueModifier('cidr', ['string'], (v, ctx) => {
    requireFirst(ctx, 'cidr');
    if (v.kind !== 'string') return v;
    if (v.hasWildcards()) ctx.fail(`modifier 'cidr' needs a network, not the pattern '${v.text()}'`);
    const network = v.text();
    try {
      parseNetwork(network);
    } catch (e) {
      ctx.fail((e as Error).message);
    }
    return { kind: 'cidr', network };
  }),

  valueModifier('expand', ['string', 'regex'], (v) => {
    if (v.kind === 'string') return insertPlaceholders(v);
    if (v.kind === 'regex') return { ...v, placeholders: true };
    return v;
  }),

  valueModifier('fieldref', ['string'], (v, ctx) => {
    if (v.kind !== 'string') return v;
    if (v.hasWildcards() || v.hasPlaceholders()) ctx.fail(`a field reference cannot contain wildcards ('${v.text()}')`);
    return { kind: 'fieldref', field: v.text(), startsWith: false, endsWith: false, cased: v.cased };
  }),
];

const ALIASES: Record<string, string> = {
  wide: 'utf16le',
  ignorecase: 'i',
  multiline: 'm',
  dotall: 's',
};

/** Every modifier by name, aliases included. */
export const MODIFIERS: ReadonlyMap<string, Modifier> = new Map([
  ...MODIFIER_LIST.map((m) => [m.name, m] as const),
  ...Object.entries(ALIASES).map(([alias, name]) => [alias, MODIFIER_LIST.find((m) => m.name === name)!] as const),
]);

/** Types a string-only modifier also takes, by reading the number as the text it was written. */
function coerceForModifier(v: SigmaValue, m: ValueModifier): SigmaValue {
  if (v.kind === 'number' && !m.accepts.includes('number') && m.accepts.includes('string')) {
    return SigmaString.literal(v.source);
  }
  return v;
}

/** Applies one value modifier to a value; expansions are modified element by element. */
function applyValue(m: ValueModifier, v: SigmaValue, ctx: ModifierContext): SigmaValue {
  if (v.kind === 'expansion') {
    return { kind: 'expansion', values: v.values.map((x) => applyValue(m, x, ctx)) };
  }
  const input = coerceForModifier(v, m);
  if (!m.accepts.includes(input.kind)) {
    ctx.fail(`modifier '${m.name}' cannot be applied to ${describeValue(input)}`);
  }
  return m.apply(input, ctx);
}

/**
 * Applies a modifier chain to the values of one detection item. Returns the modified values;
 * list modifiers update `item`.
 */
export function applyModifiers(
  names: readonly string[],
  values: SigmaValue[],
  item: ItemState,
  fail: (message: string) => never,
): SigmaValue[] {
  const applied: string[] = [];
  let current = values;
  for (const name of names) {
    const m = MODIFIERS.get(name);
    if (!m) fail(`unknown modifier '${name}'`);
    const ctx: ModifierContext = { item, applied, fail };
    if (m.scope === 'list') m.apply(ctx);
    else current = current.map((v) => applyValue(m, v, ctx));
    applied.push(m.name);
  }
  return current;
}
