/**
 * Panther YAML simple detections (`Detection:`, `InlineFilters:`, `DynamicSeverities[].Conditions`)
 * translated to IR predicates (reference panther-okta.md §1.5). Everything here is pure data:
 * `explain` shows it and the engine indexes it by event type. Semantics Panther's documentation
 * leaves open are decided in docs/panther.md ("Simple detections"):
 *
 *  - fields are read as Panther's event reads them: keys case-insensitive at every level; a key
 *    whose value is a list satisfies a condition when one of its elements does;
 *  - Equals / IsIn / Has compare typed: strings to strings (case-sensitive; I* variants fold
 *    case), numbers to numbers or their decimal string, booleans to booleans or "true"/"false";
 *  - every negative condition (DoesNotEqual, DoesNotContain, IsNotIn, DoesNotHave,
 *    IsIPAddressNotInCIDR…) is exactly the negation of its positive: a missing key satisfies it;
 *  - string conditions look at string values only; ordering conditions at numbers (and numeric
 *    strings), or ISO dates compared lexically; a missing key satisfies no positive condition;
 *  - CIDRContainsIPAddresses: the key holds a network, Value(s) IP addresses (one of them
 *    contained); see cidrContains().
 */
import type { FieldRef, Predicate, Scalar, ValueExpr } from '../../ir/types.js';
import { parseNetwork } from '../../engine/predicate/index.js';
import { RuleError } from '../errors.js';

type Obj = Record<string, unknown>;
type Seg = string | number | '*';

/**
 * Python's ipaddress `is_private` networks (CPython 3.11: `_IPv4Constants._private_networks`,
 * `_IPv6Constants._private_networks`). 100.64.0.0/10 (shared address space) is not private;
 * 192.0.0.0/29 and 192.0.0.170/31 are, not the rest of 192.0.0.0/24 (192.0.0.9 is public).
 * IsIPAddressPublic is `is_global`: neither private nor in 100.64.0.0/10.
 * `::ffff:0:0/96` is left out: an IPv4-mapped address is judged as its IPv4 address (Python
 * 3.13's rule; 3.11 calls every mapped address private).
 */
export const PRIVATE_NETWORKS = [
  '0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/29', '192.0.0.170/31',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4', '255.255.255.255/32',
  '::1/128', '::/128', '100::/64', '2001::/23', '2001:2::/48', '2001:db8::/32', '2001:10::/28', 'fc00::/7', 'fe80::/10',
];

/** Whitespace: Python's `ip_address(" 1.2.3.4")` raises, so a padded string is not an address. */
const SPACES = [' ', '\t', '\n', '\r', '\f', '\v'];

/** Every condition we translate (the reference's union of sources; `…OrEqual` accepted too). */
export const CONDITIONS = [
  'Equals', 'DoesNotEqual', 'IEquals', 'IDoesNotEqual',
  'StartsWith', 'DoesNotStartWith', 'IStartsWith', 'IDoesNotStartWith',
  'EndsWith', 'DoesNotEndWith', 'IEndsWith', 'IDoesNotEndWith',
  'Contains', 'DoesNotContain', 'IContains', 'IDoesNotContain',
  'IsGreaterThan', 'IsGreaterThanOrEquals', 'IsLessThan', 'IsLessThanOrEquals',
  'Exists', 'DoesNotExist', 'IsNull', 'IsNotNull', 'IsNullOrEmpty', 'IsNotNullOrEmpty',
  'IsIPAddress', 'IsIPv4Address', 'IsIPv6Address', 'IsIPAddressPublic', 'IsIPAddressPrivate',
  'IsIPAddressInCIDR', 'IsIPAddressNotInCIDR', 'CIDRContainsIPAddresses', 'CIDRDoesNotContainIPAddresses',
  'IsIn', 'IsNotIn', 'Has', 'DoesNotHave',
  'AnyElement', 'AllElements', 'OnlyOneElement', 'NoElement',
  'AlwaysTrue', 'AlwaysFalse',
] as const;

const INLINE_FILTER_CONDITIONS = new Set([
  'Equals', 'DoesNotEqual', 'IsGreaterThan', 'IsGreaterThanOrEquals', 'IsLessThan', 'IsLessThanOrEquals',
  'Contains', 'DoesNotContain', 'StartsWith', 'EndsWith', 'IsIPAddressInCIDR', 'IsIPAddressNotInCIDR',
  'CIDRContainsIPAddresses', 'CIDRDoesNotContainIPAddresses', 'IsIn', 'IsNotIn', 'IsIPAddressPublic',
  'IsIPAddressPrivate', 'IsNullOrEmpty', 'IsNotNullOrEmpty',
]);

const not = (arg: Predicate): Predicate => ({ type: 'not', arg });
const and = (args: Predicate[]): Predicate => (args.length === 1 ? args[0]! : { type: 'and', args });
const or = (args: Predicate[]): Predicate => (args.length === 1 ? args[0]! : { type: 'or', args });

interface Ctx {
  file: string;
  /** Inside a list comprehension: keys are relative to the element. */
  inline: boolean;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function err(ctx: Ctx, where: string, msg: string): RuleError {
  return new RuleError(ctx.file, `${where}: ${msg}`);
}

/** `a.b[*].c`, `a.b[2]` -> segments. */
export function parseKeyPath(path: string): Seg[] {
  const out: Seg[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[(?:\*|-?\d+)\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.match(/\[(\*|-?\d+)\]/g) ?? []) {
      const inner = idx.slice(1, -1);
      out.push(inner === '*' ? '*' : Number(inner));
    }
  }
  return out;
}

/** The key specifier of an expression (Key, KeyPath, DeepKey, Enrichment), or undefined. */
function keyOf(e: Obj, ctx: Ctx, where: string): Seg[] | undefined {
  if (typeof e['Key'] === 'string') return [e['Key']];
  if (typeof e['KeyPath'] === 'string') return parseKeyPath(e['KeyPath']);
  if (Array.isArray(e['DeepKey'])) {
    return e['DeepKey'].map((k) => {
      if (typeof k === 'number' && Number.isInteger(k)) return k;
      if (typeof k === 'string') return k;
      throw err(ctx, where, `DeepKey holds strings and integers, not ${JSON.stringify(k)}`);
    });
  }
  if (isObj(e['Enrichment'])) {
    const en = e['Enrichment'];
    if (typeof en['Table'] !== 'string' || typeof en['Selector'] !== 'string' || typeof en['FieldPath'] !== 'string') {
      throw err(ctx, where, 'Enrichment needs Table, Selector and FieldPath');
    }
    // The selector is a literal key that may hold dots (`client.ipAddress`): the path reader
    // finds literal dotted keys.
    return ['p_enrichment', en['Table'], en['Selector'], ...parseKeyPath(en['FieldPath'])];
  }
  return undefined;
}

/** Apply `leaf` at a key path; numeric indexes become `elements` tests on that element. */
function onPath(segs: Seg[], leaf: (f: FieldRef) => Predicate): Predicate {
  const i = segs.findIndex((s) => typeof s === 'number');
  if (i < 0) return leaf({ name: segs.filter((s) => s !== '*').join('.'), schema: 'okta' });
  const outer = segs.slice(0, i).filter((s) => s !== '*').join('.');
  return {
    type: 'elements',
    field: { name: outer, schema: 'okta' },
    quantifier: 'any',
    index: segs[i] as number,
    where: onPath(segs.slice(i + 1), leaf),
  };
}

function scalar(v: unknown, ctx: Ctx, where: string): Scalar {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw err(ctx, where, `a Value is a string, number or boolean, not ${JSON.stringify(v)}`);
}

function valuesOf(e: Obj, ctx: Ctx, where: string, condition: string): Scalar[] {
  if (Array.isArray(e['Values'])) {
    if (e['Values'].length === 0) throw err(ctx, where, `${condition}: Values is empty`);
    return e['Values'].map((v) => scalar(v, ctx, where));
  }
  if ('Value' in e) return [scalar(e['Value'], ctx, where)];
  throw err(ctx, where, `${condition} needs a Value (or Values)`);
}

const compare = (field: FieldRef, op: 'eq' | 'contains' | 'startswith' | 'endswith' | 'cidr' | 'lt' | 'lte' | 'gt' | 'gte', values: Scalar[], fold = false): Predicate => {
  if (op === 'eq') return { type: 'compare', field, op, values, options: { coerce: 'typed', caseSensitive: !fold } };
  if (op === 'cidr' || op === 'lt' || op === 'lte' || op === 'gt' || op === 'gte') return { type: 'compare', field, op, values };
  return { type: 'compare', field, op, values: values.map(String), options: { caseSensitive: !fold } };
};

function ordering(c: string): 'gt' | 'gte' | 'lt' | 'lte' | undefined {
  switch (c) {
    case 'IsGreaterThan':
      return 'gt';
    case 'IsGreaterThanOrEquals':
    case 'IsGreaterThanOrEqual':
      return 'gte';
    case 'IsLessThan':
      return 'lt';
    case 'IsLessThanOrEquals':
    case 'IsLessThanOrEqual':
      return 'lte';
    default:
      return undefined;
  }
}

/** A string condition name -> (op, fold case, negated). */
function stringCondition(c: string): { op: 'eq' | 'contains' | 'startswith' | 'endswith'; fold: boolean; neg: boolean } | undefined {
  const m = /^(I?)(Equals|DoesNotEqual|StartsWith|DoesNotStartWith|EndsWith|DoesNotEndWith|Contains|DoesNotContain)$/.exec(c);
  if (!m) return undefined;
  const word = m[2]!;
  const neg = word.startsWith('DoesNot');
  const base = word.replace(/^DoesNot/, '').replace(/^Equal$/, 'Equals').replace(/With$/, 'sWith').replace(/ssWith$/, 'sWith');
  const op = ({ Equals: 'eq', StartsWith: 'startswith', StartWith: 'startswith', EndsWith: 'endswith', EndWith: 'endswith', Contains: 'contains', Contain: 'contains' } as const)[
    base as 'Equals'
  ];
  if (!op) return undefined;
  return { op, fold: m[1] === 'I', neg };
}

/** One field condition (no combinators). */
function leafPredicate(field: FieldRef, condition: string, e: Obj, ctx: Ctx, where: string): Predicate {
  const s = stringCondition(condition);
  if (s) {
    const p = compare(field, s.op, valuesOf(e, ctx, where, condition), s.fold);
    return s.neg ? not(p) : p;
  }
  const ord = ordering(condition);
  if (ord) {
    const vs = valuesOf(e, ctx, where, condition);
    if (vs.some((v) => typeof v === 'boolean')) throw err(ctx, where, `${condition} compares numbers (or dates), not booleans`);
    return compare(field, ord, vs);
  }
  const ifFalse = (p: Predicate): Predicate => (e['Value'] === false ? not(p) : p);
  // An address test holds on a string Python's ipaddress parses: no surrounding spaces.
  const unpadded: Predicate = not({ type: 'compare', field, op: 'contains', values: SPACES, options: { caseSensitive: true } });
  const cidr = (values: string[]): Predicate => and([{ type: 'compare', field, op: 'cidr', values }, unpadded]);
  const isIp: Predicate = cidr(['0.0.0.0/0', '::/0']);
  const isPrivate: Predicate = cidr(PRIVATE_NETWORKS);
  const nullOrEmpty: Predicate = or([{ type: 'null', field }, { type: 'compare', field, op: 'eq', values: [''], options: { caseSensitive: true } }]);
  switch (condition) {
    case 'Exists':
      return ifFalse({ type: 'exists', field });
    case 'DoesNotExist':
      return ifFalse(not({ type: 'exists', field }));
    case 'IsNull':
      return ifFalse({ type: 'null', field });
    case 'IsNotNull':
      return ifFalse(not({ type: 'null', field }));
    case 'IsNullOrEmpty':
      return ifFalse(nullOrEmpty);
    case 'IsNotNullOrEmpty':
      return ifFalse(not(nullOrEmpty));
    case 'IsIPAddress':
      return ifFalse(isIp);
    case 'IsIPv4Address':
      return ifFalse(cidr(['0.0.0.0/0']));
    case 'IsIPv6Address':
      // The cidr test reads an IPv4 address in an IPv6 network as its mapped form: exclude IPv4.
      return ifFalse(and([cidr(['::/0']), not({ type: 'compare', field, op: 'cidr', values: ['0.0.0.0/0'] })]));
    case 'IsIPAddressPrivate':
      return ifFalse(isPrivate);
    case 'IsIPAddressPublic':
      // Python's `is_global`: not private, and not the shared address space 100.64.0.0/10.
      return ifFalse(and([isIp, not(isPrivate), not({ type: 'compare', field, op: 'cidr', values: ['100.64.0.0/10'] })]));
    case 'IsIPAddressInCIDR':
      return cidr(valuesOf(e, ctx, where, condition).map(String));
    case 'IsIPAddressNotInCIDR':
      return not(cidr(valuesOf(e, ctx, where, condition).map(String)));
    case 'IsIn':
    case 'Has':
      return compare(field, 'eq', valuesOf(e, ctx, where, condition));
    case 'IsNotIn':
    case 'DoesNotHave':
      return not(compare(field, 'eq', valuesOf(e, ctx, where, condition)));
    case 'CIDRContainsIPAddresses':
      return cidrContains(field, ruleAddresses(e, ctx, where, condition));
    case 'CIDRDoesNotContainIPAddresses':
      return not(cidrContains(field, ruleAddresses(e, ctx, where, condition)));
    default:
      throw err(ctx, where, `unknown Condition '${condition}'`);
  }
}

/** The key specifier as written, for messages (`KeyPath client.ipAddress`). */
function keyText(e: Obj): string {
  if (typeof e['Key'] === 'string') return `Key ${e['Key']}`;
  if (typeof e['KeyPath'] === 'string') return `KeyPath ${e['KeyPath']}`;
  if (Array.isArray(e['DeepKey'])) return `DeepKey [${e['DeepKey'].join(', ')}]`;
  if (isObj(e['Enrichment'])) return `Enrichment ${JSON.stringify(e['Enrichment'])}`;
  return 'the key';
}

/**
 * CIDRContainsIPAddresses' rule side: Value/Values are IP addresses (not networks), parsed
 * here so that a bad one is a load error naming the rule file, the expression and the key.
 * Canonical text by family (ipaddr.js: IPv6 compressed and lower-case).
 */
function ruleAddresses(e: Obj, ctx: Ctx, where: string, condition: string): { v4: string[]; v6: string[] } {
  const out = { v4: [] as string[], v6: [] as string[] };
  for (const v of valuesOf(e, ctx, where, condition)) {
    const text = String(v).trim();
    const bad = (why: string): RuleError =>
      err(ctx, where, `${condition} on ${keyText(e)}: ${JSON.stringify(v)} is not an IP address (${why}); the key holds the network, Value(s) the addresses`);
    if (typeof v !== 'string') throw bad('a string is expected');
    if (text.includes('/')) throw bad('a network');
    let addr;
    try {
      [addr] = parseNetwork(text);
    } catch (x) {
      throw bad((x as Error).message.replace(/^cidr '.*' is not an IPv4\/IPv6 network: /, ''));
    }
    (addr.kind() === 'ipv4' ? out.v4 : out.v6).push(addr.toString());
  }
  return out;
}

/**
 * The event value at `field` is a network (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a
 * /32 or /128) holding one of `addresses`. The IR's `cidr` test goes the other way (an event
 * address in rule networks), so the network is taken apart: for each prefix length p it
 * ends with `/p` and the text before it is an address in `<a>/p` — the network's first p bits
 * are the address's (host bits in the event are ignored, Python's `strict=False`). Families
 * do not mix (Python: an IPv4 address is in no IPv6 network). A list value holds when one of
 * its elements does (the `expr` leaves use Python semantics: a list is not a string, so lists
 * go through `elements`). Anything else (not a network, padded, `/33`) does not hold.
 */
function cidrContains(field: FieldRef, addresses: { v4: string[]; v6: string[] }): Predicate {
  const one = (f: FieldRef): Predicate => {
    const value: ValueExpr = { type: 'field', field: f };
    const cidrMatch = (ip: ValueExpr, networks: string[]): Predicate => ({
      type: 'expr',
      semantics: 'python',
      expr: { type: 'call', fn: 'cidrMatch', args: [ip, ...networks.map((n): ValueExpr => ({ type: 'literal', value: n }))] },
    });
    const family = (addrs: string[], bits: number): Predicate => {
      const byPrefix: Predicate[] = [cidrMatch(value, addrs)];
      for (let p = 0; p <= bits; p++) {
        const suffix = `/${p}`;
        const base: ValueExpr = { type: 'call', fn: 'substring', args: [value, { type: 'literal', value: 0 }, { type: 'literal', value: -suffix.length }] };
        byPrefix.push(and([{ type: 'compare', field: f, op: 'endswith', values: [suffix], options: { caseSensitive: true } }, cidrMatch(base, addrs.map((a) => `${a}${suffix}`))]));
      }
      const colon: Predicate = { type: 'compare', field: f, op: 'contains', values: [':'], options: { caseSensitive: true } };
      return and([bits === 32 ? not(colon) : colon, or(byPrefix)]);
    };
    const families: Predicate[] = [];
    if (addresses.v4.length > 0) families.push(family(addresses.v4, 32));
    if (addresses.v6.length > 0) families.push(family(addresses.v6, 128));
    const unpadded: Predicate = not({ type: 'compare', field: f, op: 'contains', values: SPACES, options: { caseSensitive: true } });
    return and([unpadded, or(families)]);
  };
  return or([one(field), { type: 'elements', field, quantifier: 'any', where: one({ name: '', schema: field.schema }) }]);
}

/** Multi-key comparison: `{Condition, Values: [{KeyPath: a}, {KeyPath: b}]}`. */
function multiKey(e: Obj, condition: string, ctx: Ctx, where: string): Predicate {
  const keys = (e['Values'] as unknown[]).map((v, i) => {
    const k = isObj(v) ? keyOf(v, ctx, `${where}.Values[${i}]`) : undefined;
    if (!k) throw err(ctx, where, 'a multi-key comparison lists key specifiers in Values');
    if (k.some((s) => typeof s === 'number')) throw err(ctx, where, 'indexes in multi-key comparisons are not supported yet');
    return { name: k.filter((s) => s !== '*').join('.'), schema: 'okta' as const };
  });
  if (keys.length !== 2) throw err(ctx, where, 'a multi-key comparison compares exactly two keys');
  const [a, b] = keys as [FieldRef, FieldRef];
  const s = stringCondition(condition);
  if (s) {
    const p: Predicate = { type: 'fieldref', field: a, other: b, op: s.op, options: { caseSensitive: !s.fold } };
    return s.neg ? not(p) : p;
  }
  const ord = ordering(condition);
  if (ord) {
    // As a single-key ordering: numbers and numeric strings compare as numbers ("10" > "9"),
    // two non-numeric strings lexically (ISO dates); a number never orders against a
    // non-numeric string. number() is null for a non-numeric string.
    const fa: ValueExpr = { type: 'field', field: a };
    const fb: ValueExpr = { type: 'field', field: b };
    const num = (x: ValueExpr): ValueExpr => ({ type: 'call', fn: 'number', args: [x] });
    const notNumeric = (x: ValueExpr): ValueExpr => ({ type: 'compare', op: 'eq', left: num(x), right: { type: 'literal', value: null } });
    return {
      type: 'expr',
      expr: {
        type: 'or',
        args: [
          { type: 'compare', op: ord, left: num(fa), right: num(fb) },
          { type: 'and', args: [{ type: 'compare', op: ord, left: fa, right: fb }, notNumeric(fa), notNumeric(fb)] },
        ],
      },
    };
  }
  throw err(ctx, where, `Condition '${condition}' does not compare two keys`);
}

/** One match expression -> predicate. */
export function matchExpression(e: unknown, ctx: Ctx, where: string, inlineFilter = false): Predicate {
  if (!isObj(e)) throw err(ctx, where, 'a match expression is a mapping');
  for (const comb of ['All', 'Any', 'OnlyOne', 'None'] as const) {
    if (!(comb in e)) continue;
    const list = e[comb];
    if (!Array.isArray(list) || list.length === 0) throw err(ctx, where, `${comb} holds a non-empty list of match expressions`);
    if (inlineFilter && (comb === 'OnlyOne' || comb === 'None')) throw err(ctx, where, `InlineFilters combine with All and Any only, not ${comb}`);
    const args = list.map((x, i) => matchExpression(x, ctx, `${where}.${comb}[${i}]`, inlineFilter));
    if (comb === 'All') return and(args);
    if (comb === 'Any') return or(args);
    if (comb === 'None') return not(or(args));
    // OnlyOne: exactly one is true.
    return or(args.map((a, i) => and([a, ...args.filter((_, j) => j !== i).map(not)])));
  }
  const condition = e['Condition'];
  if (typeof condition !== 'string') throw err(ctx, where, 'a match expression needs a Condition (or All/Any/OnlyOne/None)');
  if (inlineFilter && !INLINE_FILTER_CONDITIONS.has(condition)) throw err(ctx, where, `Condition '${condition}' is not allowed in InlineFilters`);
  if (condition === 'AlwaysTrue') return { type: 'const', value: true };
  if (condition === 'AlwaysFalse') return { type: 'const', value: false };
  const key = keyOf(e, ctx, where);
  if (!key) {
    if (Array.isArray(e['Values']) && e['Values'].every(isObj)) return multiKey(e, condition, ctx, where);
    throw err(ctx, where, `${condition} needs a Key, KeyPath, DeepKey or Enrichment`);
  }
  const quant = { AnyElement: 'any', AllElements: 'all', NoElement: 'none', OnlyOneElement: 'one' } as const;
  if (condition in quant) {
    const exprs = e['Expressions'];
    if (!Array.isArray(exprs) || exprs.length === 0) throw err(ctx, where, `${condition} needs a list of Expressions`);
    const inner = and(exprs.map((x, i) => matchExpression(x, { ...ctx, inline: true }, `${where}.Expressions[${i}]`)));
    return onPathList(key, quant[condition as keyof typeof quant], inner);
  }
  // A negative condition is the negation of its positive over the whole path: a missing
  // element (`target[5]`) satisfies DoesNotEqual as a missing key does.
  const leaf = (f: FieldRef): Predicate => leafPredicate(f, condition, e, ctx, where);
  const probe = leaf({ name: 'x', schema: 'okta' });
  if (probe.type === 'not' && key.some((s) => typeof s === 'number')) {
    return not(onPath(key, (f) => (leaf(f) as { type: 'not'; arg: Predicate }).arg));
  }
  return onPath(key, leaf);
}

/** A list comprehension over the list at `segs` (which may itself sit behind indexes). */
function onPathList(segs: Seg[], quantifier: 'any' | 'all' | 'none' | 'one', where: Predicate): Predicate {
  const last = segs.length - 1;
  // `a.b[2]` as the list: element 2 of a.b is the list.
  const i = segs.findIndex((s) => typeof s === 'number');
  if (i >= 0 && i < last + 1) {
    return {
      type: 'elements',
      field: { name: segs.slice(0, i).filter((s) => s !== '*').join('.'), schema: 'okta' },
      quantifier: 'any',
      index: segs[i] as number,
      where: onPathList(segs.slice(i + 1), quantifier, where),
    };
  }
  return { type: 'elements', field: { name: segs.filter((s) => s !== '*').join('.'), schema: 'okta' }, quantifier, where };
}

/** `Detection:` (a list, ANDed) -> predicate. */
export function detectionPredicate(list: unknown, file: string, key = 'Detection', inlineFilter = false): Predicate {
  const ctx: Ctx = { file, inline: false };
  if (!Array.isArray(list) || list.length === 0) throw err(ctx, key, 'a non-empty list of match expressions');
  return and(list.map((x, i) => matchExpression(x, ctx, `${key}[${i}]`, inlineFilter)));
}
