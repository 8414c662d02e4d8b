/**
 * The predicate compiler: IR predicate tree -> one closure over canonical events.
 *
 * The tree is simplified (nested and/or flattened, constants folded, double negation removed)
 * and compiled once; every field name is resolved to an accessor here, so evaluating an event
 * walks no tree and looks at no field name. and/or short-circuit left to right.
 *
 * Semantics of each node are documented in the module that implements it:
 *   compare.ts (eq, wildcard, contains/startswith/endswith, regex, cidr, lt/lte/gt/gte),
 *   keyword.ts, fieldref.ts; exists / null are below.
 */
import { compileExpr } from '../expr/index.js';
import type { CanonicalEvent } from '../../event/types.js';
import type { FieldRef, Predicate } from '../../ir/types.js';
import { fieldCost, resolveField, type Accessor, type SchemaContext } from '../../schema/index.js';
import { compileCompare, type EventTest } from './compare.js';
import { compileFieldRef } from './fieldref.js';
import { compileKeyword } from './keyword.js';
import { runtimeFor } from '../code/registry.js';
import { compilePath } from '../../schema/path.js';
import { makeEvent } from '../../event/types.js';

export type { EventTest } from './compare.js';
export { compileRegex } from './regex.js';
export { parseNetwork } from './cidr.js';
export { escapeWildcard, parseWildcard, classifyWildcard } from './wildcard.js';

/**
 * Simplifies a predicate without changing its meaning: and/or nested in the same operator are
 * flattened, single-argument and/or unwrapped, constants folded (`and` with false is false,
 * true arguments dropped; dually for `or`), and `not not p` is `p`.
 */
export function simplifyPredicate(p: Predicate): Predicate {
  switch (p.type) {
    case 'and':
    case 'or': {
      const absorbing = p.type === 'or';
      const args: Predicate[] = [];
      const add = (q: Predicate): boolean => {
        if (q.type === p.type) {
          for (const r of q.args) if (add(r)) return true;
          return false;
        }
        if (q.type === 'const') return q.value === absorbing;
        args.push(q);
        return false;
      };
      for (const a of p.args) {
        if (add(simplifyPredicate(a))) return { type: 'const', value: absorbing };
      }
      if (args.length === 0) return { type: 'const', value: !absorbing };
      if (args.length === 1) return args[0]!;
      return { type: p.type, args };
    }
    case 'not': {
      const inner = simplifyPredicate(p.arg);
      if (inner.type === 'not') return inner.arg;
      if (inner.type === 'const') return { type: 'const', value: !inner.value };
      return { type: 'not', arg: inner };
    }
    default:
      return p;
  }
}

/** True when the value carries something: not missing, not JSON null, not an array of only those. */
function hasValue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasValue(v[i])) return true;
    return false;
  }
  return true;
}

function andTests(tests: EventTest[]): EventTest {
  if (tests.length === 2) {
    const a = tests[0]!;
    const b = tests[1]!;
    return (ev) => a(ev) && b(ev);
  }
  if (tests.length === 3) {
    const a = tests[0]!;
    const b = tests[1]!;
    const c = tests[2]!;
    return (ev) => a(ev) && b(ev) && c(ev);
  }
  return (ev) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(ev)) return false;
    return true;
  };
}

function orEventTests(tests: EventTest[]): EventTest {
  if (tests.length === 2) {
    const a = tests[0]!;
    const b = tests[1]!;
    return (ev) => a(ev) || b(ev);
  }
  if (tests.length === 3) {
    const a = tests[0]!;
    const b = tests[1]!;
    const c = tests[2]!;
    return (ev) => a(ev) || b(ev) || c(ev);
  }
  return (ev) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(ev)) return true;
    return false;
  };
}

/**
 * Rough evaluation cost of a predicate, used to test cheap conjuncts (and disjuncts) first.
 * Predicates are pure, so the order of `and`/`or` arguments never changes a result, only how
 * soon it is known: `isProxy eq true and requestUri contains admin` stops at the boolean.
 */
export function predicateCost(p: Predicate): number {
  switch (p.type) {
    case 'const':
      return 0;
    case 'exists':
    case 'null':
      return fieldCost(p.field);
    case 'compare': {
      const base = { eq: 1, lt: 2, lte: 2, gt: 2, gte: 2, startswith: 3, endswith: 3, contains: 4, wildcard: 5, cidr: 6, regex: 12 }[p.op];
      return base + Math.min(p.values.length, 8) * 0.1 + fieldCost(p.field) - 1;
    }
    case 'fieldref':
      return 4 + fieldCost(p.field) + fieldCost(p.other);
    case 'keyword':
      return 50;
    case 'expr':
      return 20;
    case 'elements':
      return 10 + predicateCost(p.where);
    case 'code':
      return 100;
    case 'not':
      return predicateCost(p.arg) + 0.1;
    case 'and':
    case 'or':
      return p.args.reduce((sum, a) => sum + predicateCost(a), 0.5);
  }
}

function byCost(args: Predicate[]): Predicate[] {
  return args
    .map((a, i) => ({ a, i, c: predicateCost(a) }))
    .sort((x, y) => x.c - y.c || x.i - y.i)
    .map((x) => x.a);
}

/** Python's truth value of an expression result (None, False, 0, "" and [] are false). */
function pythonTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  return !(Array.isArray(v) && v.length === 0);
}

/** Errors raised by code rule bodies, per module (kept in the code runtime registry). */
export { codeErrors } from '../code/registry.js';

/** The elements a quantified test looks at: a list, or (with `index`) one element of it. */
function elementsOf(v: unknown, index: number | undefined): unknown[] {
  if (!Array.isArray(v)) return [];
  if (index === undefined) return v;
  const i = index < 0 ? v.length + index : index;
  return i >= 0 && i < v.length ? [v[i]] : [];
}

class Compiler {
  private readonly accessors = new Map<string, Accessor>();

  /** `element`: inside an `elements` test, fields are relative to the element (doc = element). */
  constructor(
    private readonly ctx: SchemaContext,
    private readonly element = false,
  ) {}

  private field(f: FieldRef): Accessor {
    if (this.element) {
      if (f.name === '') return (ev) => ev.doc['$'];
      const get = compilePath(f.name, { caseInsensitive: true });
      return (ev) => get(ev.doc['$']);
    }
    const key = `${f.schema}\u0000${f.name}`;
    let get = this.accessors.get(key);
    if (!get) {
      get = resolveField(f, this.ctx);
      this.accessors.set(key, get);
    }
    return get;
  }

  compile(p: Predicate): EventTest {
    switch (p.type) {
      case 'const': {
        const v = p.value;
        return () => v;
      }
      case 'and':
        return andTests(byCost(p.args).map((a) => this.compile(a)));
      case 'or':
        return orEventTests(byCost(p.args).map((a) => this.compile(a)));
      case 'not': {
        const inner = this.compile(p.arg);
        return (ev) => !inner(ev);
      }
      case 'compare':
        return compileCompare(this.field(p.field), p.op, p.values, p.options);
      case 'exists': {
        const get = this.field(p.field);
        return p.nullIsMissing ? (ev) => hasValue(get(ev)) : (ev) => get(ev) !== undefined;
      }
      case 'null': {
        const get = this.field(p.field);
        return (ev) => !hasValue(get(ev));
      }
      case 'fieldref':
        return compileFieldRef(this.field(p.field), this.field(p.other), p.op, p.options);
      case 'keyword':
        return compileKeyword(p.op, p.values, p.options);
      case 'expr': {
        const value = compileExpr(p.expr, (f) => this.field(f), p.semantics);
        // Elasticsearch filters on a boolean script result; the Python engine keeps an event
        // whose result is truthy (`where length(x)`).
        return p.semantics === 'python' ? (ev) => pythonTruthy(value(ev)) : (ev) => value(ev) === true;
      }
      case 'elements': {
        // A path through lists gives the list of every value it reaches.
        const get = this.field(p.field);
        const inner = new Compiler(this.ctx, true).compile(simplifyPredicate(p.where));
        const index = p.index;
        const q = p.quantifier;
        return (ev) => {
          const els = elementsOf(get(ev), index);
          let n = 0;
          for (const el of els) {
            const sub = makeEvent({ kind: ev.kind, id: ev.id, time: ev.time, eventType: ev.eventType, doc: { $: el as never }, origin: ev.origin, depth: ev.depth, shape: ev.shape });
            const ok = inner(sub);
            if (ok) {
              n++;
              if (q === 'any') return true;
              if (q === 'none') return false;
              if (q === 'one' && n > 1) return false;
            } else if (q === 'all') return false;
          }
          if (q === 'any') return false;
          if (q === 'none') return true;
          if (q === 'one') return n === 1;
          return els.length > 0;
        };
      }
      case 'code':
        // The runtime (registered by the dialect that produced the predicate) compiles it.
        return runtimeFor(p).compile(p, this.ctx);
    }
  }
}

/**
 * Compiles a predicate to a test of canonical events. Throws an Error when a value cannot be
 * compiled (a regex RE2 cannot run, an invalid CIDR, an ordering against a boolean).
 *
 *  - exists: the field is present (a JSON null counts as present unless `nullIsMissing`; with
 *    `nullIsMissing`, a multi-valued field exists when some element is not null).
 *  - null: the field is absent or JSON null; a multi-valued field is null when it is empty or
 *    all its elements are null (exactly `not exists(nullIsMissing)`).
 */
export function compilePredicate(p: Predicate, ctx: SchemaContext): (ev: CanonicalEvent) => boolean {
  return new Compiler(ctx).compile(simplifyPredicate(p));
}
