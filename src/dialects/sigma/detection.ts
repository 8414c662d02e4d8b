/**
 * The `detection` section of a Sigma rule -> one IR predicate.
 *
 * Structure (spec §Detection; pySigma `SigmaDetection.from_definition`):
 *  - a search identifier holding a map: its items are AND-linked;
 *  - holding a list: its elements are OR-linked (a map element is an AND group, plain values
 *    are keywords);
 *  - holding a plain value: a keyword.
 * A map item `field|mod1|mod2: value(s)`: values OR-linked (`|all`: AND), each turned by the
 * modifier chain (modifiers.ts) into a typed value and then into IR here. A key without a field
 * (`'|all': [...]`) is a keyword item.
 *
 * Values: strings are case-insensitive whole-value matches with `*`/`?` wildcards (compiled to
 * eq / startswith / endswith / contains when that is what they are, else `wildcard` in the IR's
 * escape syntax); numbers and booleans are `eq` with string coercion (`'true'` matches JSON
 * true, `4624` matches "4624"; numbers: see numberPredicate); `null` and `[]` match an absent
 * or null field; `''` matches the empty string.
 *
 * Keywords search every string value of the event. A plain keyword matches when it appears
 * anywhere in a value (full-text search semantics, as in the SIEMs Sigma targets); keywords
 * with `contains`/`startswith`/`endswith`/`re` follow those modifiers against each value.
 */
import { compileRegex } from '../../engine/predicate/index.js';
import type { CompareOptions, FieldRef, Predicate, Scalar } from '../../ir/types.js';
import { applyModifiers, insertPlaceholders, type ItemState } from './modifiers.js';
import { timePartPredicate } from './timeparts.js';
import {
  ANY,
  describeValue,
  Placeholder,
  SigmaString,
  type SigmaValue,
  type StringPart,
} from './values.js';
import type { YEntry, YMap, YNode, YScalar } from './yaml.js';

export interface DetectionContext {
  /** Throws a RuleError at a node's position. */
  fail(message: string, at: YNode | YEntry): never;
  /** `|expand` placeholder values. */
  placeholders: Record<string, string[]>;
  /** Placeholders a value used that are not configured (the rule is then unsupported). */
  missingPlaceholders: Set<string>;
}

/** Identifiers in `detection` that are not search identifiers. */
export const RESERVED_DETECTION_KEYS = new Set(['condition', 'timeframe']);

const okta = (name: string): FieldRef => ({ name, schema: 'okta' });

/* ------------------------------------------------------------------------------------------ */
/* Scalars -> Sigma values                                                                     */
/* ------------------------------------------------------------------------------------------ */

function scalarValue(node: YScalar): SigmaValue {
  const v = node.value;
  if (v === null) return { kind: 'null' };
  if (typeof v === 'boolean') return { kind: 'bool', value: v };
  if (typeof v === 'number') return { kind: 'number', value: v, source: node.source };
  return SigmaString.parse(v);
}

/* ------------------------------------------------------------------------------------------ */
/* Placeholders (`|expand`)                                                                    */
/* ------------------------------------------------------------------------------------------ */

function cartesian<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

/** Replaces placeholders by their configured values (each a Sigma string: wildcards allowed). */
function resolvePlaceholders(v: SigmaValue, ctx: DetectionContext): SigmaValue {
  if (v.kind === 'expansion') return { kind: 'expansion', values: v.values.map((x) => resolvePlaceholders(x, ctx)) };

  if (v.kind === 'string' && v.hasPlaceholders()) {
    const names = v.parts.filter((p): p is Placeholder => p instanceof Placeholder).map((p) => p.name);
    const missing = names.filter((n) => ctx.placeholders[n] === undefined);
    if (missing.length > 0) {
      for (const n of missing) ctx.missingPlaceholders.add(n);
      return { kind: 'expansion', values: [] };
    }
    const unique = [...new Set(names)];
    const combos = cartesian(unique.map((n) => ctx.placeholders[n]!));
    const values = combos.map((combo) => {
      const parts: StringPart[] = [];
      for (const p of v.parts) {
        if (p instanceof Placeholder) parts.push(...SigmaString.parse(combo[unique.indexOf(p.name)]!).parts);
        else parts.push(p);
      }
      return v.with(parts);
    });
    return values.length === 1 ? values[0]! : { kind: 'expansion', values };
  }

  if (v.kind === 'regex' && v.placeholders) {
    const template = insertPlaceholders(SigmaString.literal(v.pattern));
    const names = [...new Set(template.parts.filter((p): p is Placeholder => p instanceof Placeholder).map((p) => p.name))];
    if (names.length === 0) return { ...v, placeholders: false };
    const missing = names.filter((n) => ctx.placeholders[n] === undefined);
    if (missing.length > 0) {
      for (const n of missing) ctx.missingPlaceholders.add(n);
      return { kind: 'expansion', values: [] };
    }
    const values = cartesian(names.map((n) => ctx.placeholders[n]!)).map((combo): SigmaValue => {
      const pattern = template.parts
        .map((p) => (p instanceof Placeholder ? combo[names.indexOf(p.name)]! : (p as string)))
        .join('');
      return { ...v, pattern, placeholders: false };
    });
    return values.length === 1 ? values[0]! : { kind: 'expansion', values };
  }
  return v;
}

/* ------------------------------------------------------------------------------------------ */
/* Sigma values -> IR                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** The simplest IR operator for a Sigma string, and the IR value. */
function stringOperator(s: SigmaString): { op: 'eq' | 'contains' | 'startswith' | 'endswith' | 'wildcard'; value: string } {
  const p = s.parts;
  if (!s.hasWildcards()) return { op: 'eq', value: s.text() };
  const isText = (x: StringPart | undefined): x is string => typeof x === 'string';
  if (p.length === 2 && p[0] === ANY && isText(p[1])) return { op: 'endswith', value: p[1] };
  if (p.length === 2 && isText(p[0]) && p[1] === ANY) return { op: 'startswith', value: p[0] };
  if (p.length === 3 && p[0] === ANY && isText(p[1]) && p[2] === ANY) return { op: 'contains', value: p[1] };
  return { op: 'wildcard', value: s.toWildcard() };
}

function caseOptions(cased: boolean): CompareOptions | undefined {
  return cased ? { caseSensitive: true } : undefined;
}

function compare(field: FieldRef, op: Extract<Predicate, { type: 'compare' }>['op'], value: Scalar, options?: CompareOptions): Predicate {
  return options ? { type: 'compare', field, op, values: [value], options } : { type: 'compare', field, op, values: [value] };
}

/**
 * A plain (unquoted) number in a rule matches an event value whose string form is
 *   (a) the number's text as written in the rule (`1.0`, `0x17`, `1_000`; case-insensitively,
 *       like every Sigma string), or
 *   (b) the JavaScript decimal form of its value (`1`, `23`, `1000`).
 * An event number's string form is its JavaScript decimal form, so (b) makes the JSON number
 * `1.0` (which is 1 once parsed) match, and (a) makes the string "1.0" match, as pySigma does by
 * keeping the number as written. Consequently the string "1" matches `1.0` too (string coercion
 * cannot tell "1" from 1). Nothing else does: "1.00" or "01" do not match `1.0`.
 * When (a) and (b) are the same text (`4624`), this is one `eq` on the number. Otherwise it is an
 * OR of both, kept as one value so that `|all` needs one of the two spellings per number.
 */
function numberPredicate(field: FieldRef, value: number, source: string): Predicate {
  const byValue = compare(field, 'eq', value);
  if (source === '' || source.toLowerCase() === String(value).toLowerCase()) return byValue;
  return { type: 'or', args: [byValue, compare(field, 'eq', source)] };
}

function checkRegex(pattern: string, flags: string, ctx: DetectionContext, at: YEntry | YNode): void {
  try {
    compileRegex(pattern, flags);
  } catch (e) {
    ctx.fail((e as Error).message, at);
  }
}

function fieldValuePredicate(field: FieldRef, v: SigmaValue, ctx: DetectionContext, at: YEntry): Predicate {
  switch (v.kind) {
    case 'string': {
      const { op, value } = stringOperator(v);
      return compare(field, op, value, caseOptions(v.cased));
    }
    case 'number':
      return numberPredicate(field, v.value, v.source);
    case 'bool':
      return compare(field, 'eq', v.value);
    case 'null':
      return { type: 'null', field };
    case 'regex': {
      const flags = v.flags.join('');
      checkRegex(v.pattern, flags, ctx, at);
      return compare(field, 'regex', v.pattern, flags ? { flags } : undefined);
    }
    case 'cidr':
      return compare(field, 'cidr', v.network);
    case 'compare':
      return compare(field, v.op, v.value);
    case 'timepart':
      return timePartPredicate(field, v.part, v.op, v.value);
    case 'fieldref': {
      const op = v.startsWith && v.endsWith ? 'contains' : v.startsWith ? 'startswith' : v.endsWith ? 'endswith' : 'eq';
      const p: Predicate = { type: 'fieldref', field, other: okta(v.field), op };
      return v.cased ? { ...p, options: { caseSensitive: true } } : p;
    }
    case 'exists': {
      const exists: Predicate = { type: 'exists', field };
      return v.exists ? exists : { type: 'not', arg: exists };
    }
    case 'expansion':
      return { type: 'or', args: v.values.map((x) => fieldValuePredicate(field, x, ctx, at)) };
  }
}

function keywordValuePredicate(v: SigmaValue, ctx: DetectionContext, at: YEntry | YNode): Predicate {
  switch (v.kind) {
    case 'number':
      return keywordValuePredicate(SigmaString.literal(v.source), ctx, at);
    case 'bool':
      return keywordValuePredicate(SigmaString.literal(String(v.value)), ctx, at);
    case 'string': {
      const { op, value } = stringOperator(v);
      const keywordOp = op === 'eq' || op === 'contains' ? op : 'wildcard';
      const text = keywordOp === 'wildcard' ? v.toWildcard() : value;
      return v.cased
        ? { type: 'keyword', op: keywordOp, values: [text], options: { caseSensitive: true } }
        : { type: 'keyword', op: keywordOp, values: [text] };
    }
    case 'regex': {
      const flags = v.flags.join('');
      checkRegex(v.pattern, flags, ctx, at);
      return flags
        ? { type: 'keyword', op: 'regex', values: [v.pattern], options: { flags } }
        : { type: 'keyword', op: 'regex', values: [v.pattern] };
    }
    case 'expansion':
      return { type: 'or', args: v.values.map((x) => keywordValuePredicate(x, ctx, at)) };
    default:
      return ctx.fail(`${describeValue(v)} cannot be used in a keyword search (a keyword has no field)`, at);
  }
}

/** A plain keyword is searched anywhere inside values: wrap it in wildcards. */
function implicitContains(v: SigmaValue): SigmaValue {
  if (v.kind === 'expansion') return { kind: 'expansion', values: v.values.map(implicitContains) };
  if (v.kind === 'number') return implicitContains(SigmaString.literal(v.source));
  if (v.kind === 'bool') return implicitContains(SigmaString.literal(String(v.value)));
  if (v.kind !== 'string') return v;
  const parts: StringPart[] = [...v.parts];
  if (!v.startsWithAny()) parts.unshift(ANY);
  if (!v.endsWithAny()) parts.push(ANY);
  return v.with(parts);
}

/**
 * Links the predicates of one item's values (OR, or AND with `|all`), merging comparisons that
 * differ only in their value into one IR comparison with a value list.
 */
function linkValues(preds: Predicate[], linking: 'or' | 'and'): Predicate {
  const merged: Predicate[] = [];
  const byKey = new Map<string, Predicate & { values: unknown[] }>();
  // OR-linked: a value that is itself an OR (a number's two spellings) joins the others.
  const flat = linking === 'or' ? preds.flatMap((p) => (p.type === 'or' ? p.args : [p])) : preds;
  for (const p of flat) {
    if (p.type === 'compare' || p.type === 'keyword') {
      const { values, ...rest } = p;
      const key = JSON.stringify(rest);
      const existing = byKey.get(key);
      if (existing) {
        (existing.values as unknown[]).push(...values);
        continue;
      }
      const copy = { ...p, values: [...values] } as Predicate & { values: unknown[] };
      byKey.set(key, copy);
      merged.push(copy);
    } else {
      merged.push(p);
    }
  }
  if (linking === 'and') {
    for (const p of merged) {
      if ((p.type === 'compare' || p.type === 'keyword') && p.values.length > 1) {
        p.options = { ...p.options, all: true };
      }
    }
  }
  if (merged.length === 1) return merged[0]!;
  return { type: linking, args: merged };
}

/* ------------------------------------------------------------------------------------------ */
/* Search identifiers                                                                          */
/* ------------------------------------------------------------------------------------------ */

const POSITION_MODIFIERS = new Set(['contains', 'startswith', 'endswith', 're']);

function itemPredicate(e: YEntry, ctx: DetectionContext): Predicate {
  const [fieldName, ...modifiers] = e.key.split('|');
  const field = fieldName!.trim();
  const fail = (message: string): never => ctx.fail(message, e);

  let nodes: YScalar[];
  if (e.value.kind === 'scalar') nodes = [e.value];
  else if (e.value.kind === 'seq') {
    nodes = e.value.items.map((n) => {
      if (n.kind !== 'scalar') fail(`the values of '${e.key}' must be plain values, not a ${n.kind === 'map' ? 'mapping' : 'list'}`);
      return n as YScalar;
    });
  } else {
    return fail(`the value of '${e.key}' must be a value or a list of values, not a mapping`);
  }
  // `Field: []` is a null check (pySigma converts an empty value list to null).
  const values: SigmaValue[] = nodes.length === 0 ? [{ kind: 'null' }] : nodes.map(scalarValue);

  const item: ItemState = { field: field === '' ? null : field, linking: 'or', negated: false };
  const modified = applyModifiers(modifiers, values, item, fail).map((v) => resolvePlaceholders(v, ctx));

  let linked: Predicate;
  if (item.field === null) {
    const explicit = modifiers.some((m) => POSITION_MODIFIERS.has(m));
    const keywordValues = explicit ? modified : modified.map(implicitContains);
    linked = linkValues(keywordValues.map((v) => keywordValuePredicate(v, ctx, e)), item.linking);
  } else {
    const f = okta(item.field);
    linked = linkValues(modified.map((v) => fieldValuePredicate(f, v, ctx, e)), item.linking);
  }
  return item.negated ? { type: 'not', arg: linked } : linked;
}

/** Keyword list elements (plain values of a list) -> one OR-linked keyword predicate. */
function keywordListPredicate(nodes: YScalar[], ctx: DetectionContext): Predicate {
  const preds = nodes.map((n) => {
    const v = scalarValue(n);
    if (v.kind === 'null') ctx.fail('null cannot be a keyword', n);
    return keywordValuePredicate(implicitContains(v), ctx, n);
  });
  return linkValues(preds, 'or');
}

/** The predicate of one search identifier's definition. */
export function searchPredicate(name: string, node: YNode, ctx: DetectionContext): Predicate {
  switch (node.kind) {
    case 'map': {
      if (node.entries.length === 0) ctx.fail(`search identifier '${name}' is an empty mapping`, node);
      const items = node.entries.map((e) => itemPredicate(e, ctx));
      return items.length === 1 ? items[0]! : { type: 'and', args: items };
    }
    case 'seq': {
      if (node.items.length === 0) ctx.fail(`search identifier '${name}' is an empty list`, node);
      const args: Predicate[] = [];
      let keywords: YScalar[] = [];
      const flush = () => {
        if (keywords.length > 0) args.push(keywordListPredicate(keywords, ctx));
        keywords = [];
      };
      for (const el of node.items) {
        if (el.kind === 'scalar') keywords.push(el);
        else {
          flush();
          args.push(searchPredicate(name, el, ctx));
        }
      }
      flush();
      return args.length === 1 ? args[0]! : { type: 'or', args };
    }
    case 'scalar':
      if (node.value === null) ctx.fail(`search identifier '${name}' has no definition`, node);
      return keywordListPredicate([node], ctx);
  }
}

/** Every search identifier of a detection section, in order. */
export function searchPredicates(detection: YMap, ctx: DetectionContext): Map<string, Predicate> {
  const out = new Map<string, Predicate>();
  for (const e of detection.entries) {
    if (RESERVED_DETECTION_KEYS.has(e.key)) continue;
    out.set(e.key, searchPredicate(e.key, e.value, ctx));
  }
  return out;
}
