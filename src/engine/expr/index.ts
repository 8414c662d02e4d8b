/**
 * Value expressions (IR `ValueExpr`): compiled once per rule to a tree of closures over the
 * canonical event, modelled on the Python `eql` engine (one function registry: ./functions) with
 * the Elasticsearch EQL differences selected by `ExprSemantics`.
 *
 * Values and null
 *  - A value is a scalar (string, number, boolean), JSON null, an object or an array (a
 *    multi-valued field). A missing field (`undefined`) is null; results never contain undefined.
 *  - Null propagates: an operator or function with a null operand is null unless documented
 *    otherwise (a few functions: concat, between, indexOf…, see their files).
 *  - `and` / `or` / `not` are Kleene (three-valued), evaluated left to right with
 *    short-circuit. Booleans are booleans; other values: 'python' uses truthiness ("" 0 [] are
 *    false, as `to_bool_or_null`), 'elasticsearch' treats them as null.
 *  - The `expr` predicate matches only when the value is `true`.
 *
 * Comparisons (compare.ts)
 *  - `eq` / `neq` with a null LITERAL on either side is an is-null / is-not-null test, never null.
 *    'elasticsearch': a multi-valued field of only nulls (or empty) is null; 'python': only null is.
 *  - Otherwise a null side gives null. Strings compare by UTF-16 code units, case-folded when the
 *    node is `caseInsensitive`. Number vs number numerically, boolean vs boolean.
 *  - Mixed types: 'python' null (type mismatch); 'elasticsearch' a decimal string compares with a
 *    number numerically and "true"/"false" equals a boolean (term/range queries coerce the rule
 *    value to the field's type), other pairs are unequal (and unordered: null).
 *  - Arrays: 'elasticsearch' any element (`!=` = no element equal, the `must_not term`);
 *    'python' list-vs-scalar is null, list == list element-wise.
 *  - `in`: null value → null; true when equal to a member (any element, ES); else false.
 *
 * Patterns (patterns.ts): `match` nodes take constant string patterns, compiled once.
 *  - wildcard: 'elasticsearch' `*` `?` with `\` escapes (canonical IR glob); 'python' only `*`.
 *  - regex (RE2): 'elasticsearch' whole value (Lucene); 'python' anchored at the start
 *    (`re.match`); DOTALL in both. Case folded when `caseInsensitive`.
 *  - A null value is null; 'python': a non-string is null; 'elasticsearch': numbers/booleans by
 *    their string form, arrays by any element.
 *
 * Arithmetic (functions/math.ts): numbers only (else null), division/modulo by zero null,
 * integer division when both operands are integers ('elasticsearch' truncates, 'python' floors;
 * `%` sign per Java / Python). JSON and the IR do not keep `4.0` apart from `4`: a float literal
 * with no fraction divides as an integer (documented difference from both engines).
 * `neg` negates a number, else null.
 *
 * Functions (functions/index.ts): looked up when the rule compiles: an unknown name or a wrong
 * number of arguments throws an Error naming the function; a literal argument of the wrong type
 * (`number(1)`, `startsWith('a', 1)`) throws too (the EQL verifiers reject them). Case-insensitive
 * calls (`fn~`) fold strings. In 'elasticsearch' mode a multi-valued argument is read as its first
 * doc value (the smallest value: doc values are sorted), except for the predicate functions
 * (startsWith, endsWith, stringContains, cidrMatch, wildcard, match), which test value by value as
 * the query Elasticsearch translates them into.
 *
 * Performance: field names are resolved to accessors here; constant subexpressions are folded;
 * patterns, CIDR blocks and constant `in` sets are compiled once; function arguments go through a
 * buffer reused per call site, so evaluating an event allocates nothing on the common paths.
 */
import type { CanonicalEvent } from '../../event/types.js';
import type { ExprSemantics, FieldRef, ValueExpr } from '../../ir/types.js';
import type { Accessor } from '../../schema/index.js';
import { compareValues, constantMembership, dynamicMembership, type CompareOp } from './compare.js';
import { arith, lookupFunction, variablePath, type ArgKind, type CompileContext, type FunctionDef } from './functions/index.js';
import { regexTest, testValue, wildcardTest } from './patterns.js';
import { firstDocValue, hasValue, isNull, toKleene, type Evaluator, type Kleene } from './values.js';

export type FieldAccessor = (f: FieldRef) => Accessor;
export type { Evaluator } from './values.js';
export { FUNCTIONS, lookupFunction, functionNames } from './functions/index.js';

/** A compiled node; `constant` when its value does not depend on the event. */
interface Compiled {
  ev: Evaluator;
  constant: boolean;
}

const NO_EVENT = undefined as unknown as CanonicalEvent;

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function kindAccepts(kind: ArgKind, v: unknown): boolean {
  switch (kind) {
    case 'any':
      return true;
    case 'primitive':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    default:
      return typeof v === kind;
  }
}

class ExprCompiler {
  private readonly scopes: { name: string; slot: { value: unknown } }[] = [];

  constructor(
    private readonly field: FieldAccessor,
    private readonly semantics: ExprSemantics,
  ) {}

  /** Compiles and, when the node is constant, folds it to its value. */
  compile(e: ValueExpr): Compiled {
    const c = this.node(e);
    if (c.constant && e.type !== 'literal') {
      const value = c.ev(NO_EVENT) ?? null;
      return { ev: () => value, constant: true };
    }
    return c;
  }

  private node(e: ValueExpr): Compiled {
    switch (e.type) {
      case 'literal': {
        const v = e.value;
        return { ev: () => v, constant: true };
      }
      case 'field':
        return { ev: this.fieldEvaluator(e.field, e.optional ?? false), constant: false };
      case 'neg': {
        const a = this.compile(e.arg);
        const es = this.semantics === 'elasticsearch';
        const get = a.ev;
        return {
          ev: (ev) => {
            const v = es ? firstDocValue(get(ev)) : get(ev);
            return typeof v === 'number' && Number.isFinite(v) ? (v === 0 ? 0 : -v) : null;
          },
          constant: a.constant,
        };
      }
      case 'arith': {
        const l = this.compile(e.left);
        const r = this.compile(e.right);
        const op = e.op;
        const sem = this.semantics;
        const gl = l.ev;
        const gr = r.ev;
        const ev: Evaluator =
          sem === 'elasticsearch'
            ? (x) => arith(op, firstDocValue(gl(x)), firstDocValue(gr(x)), sem)
            : (x) => arith(op, gl(x), gr(x), sem);
        return { ev, constant: l.constant && r.constant };
      }
      case 'compare':
        return this.compare(e.op, e.left, e.right, e.caseInsensitive ?? false);
      case 'in':
        return this.membership(e.arg, e.values, e.caseInsensitive ?? false);
      case 'match':
        return this.match(e.op, e.arg, e.patterns, e.caseInsensitive ?? false);
      case 'and':
      case 'or':
        return this.logic(e.type, e.args);
      case 'not': {
        const a = this.compile(e.arg);
        const get = a.ev;
        const sem = this.semantics;
        return {
          ev: (ev) => {
            const v = toKleene(get(ev), sem);
            return v === null ? null : !v;
          },
          constant: a.constant,
        };
      }
      case 'call':
        return this.call(e.fn, e.args, e.caseInsensitive ?? false);
    }
  }

  private fieldEvaluator(f: FieldRef, optional: boolean): Evaluator {
    const dot = f.name.indexOf('.');
    const head = dot < 0 ? f.name : f.name.slice(0, dot);
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      if (scope.name === head) {
        const slot = scope.slot;
        const read = variablePath(dot < 0 ? '' : f.name.slice(dot + 1));
        return () => read(slot.value) ?? null;
      }
    }
    let get: Accessor;
    try {
      get = this.field(f);
    } catch (err) {
      if (optional) return () => null;
      throw err;
    }
    return (ev) => get(ev) ?? null;
  }

  private compare(op: CompareOp, left: ValueExpr, right: ValueExpr, ci: boolean): Compiled {
    const sem = this.semantics;
    const leftNull = left.type === 'literal' && left.value === null;
    const rightNull = right.type === 'literal' && right.value === null;
    if ((op === 'eq' || op === 'neq') && (leftNull || rightNull)) {
      const other = this.compile(leftNull ? right : left);
      const get = other.ev;
      const want = op === 'eq';
      const ev: Evaluator = sem === 'elasticsearch' ? (x) => !hasValue(get(x)) === want : (x) => isNull(get(x)) === want;
      return { ev, constant: other.constant };
    }
    const l = this.compile(left);
    const r = this.compile(right);
    const gl = l.ev;
    const gr = r.ev;
    return { ev: (x) => compareValues(op, gl(x), gr(x), ci, sem), constant: l.constant && r.constant };
  }

  private membership(arg: ValueExpr, values: ValueExpr[], ci: boolean): Compiled {
    const sem = this.semantics;
    const a = this.compile(arg);
    const get = a.ev;
    const members = values.map((v) => this.compile(v));
    if (members.every((m) => m.constant)) {
      const test = constantMembership(
        members.map((m) => m.ev(NO_EVENT)),
        ci,
        sem,
      );
      return { ev: (x) => test(get(x)), constant: a.constant };
    }
    const test = dynamicMembership(ci, sem);
    const evs = members.map((m) => m.ev);
    return {
      ev: (x) => {
        const v = get(x);
        if (isNull(v)) return null;
        return test(
          v,
          evs.map((m) => m(x)),
        );
      },
      constant: false,
    };
  }

  private match(op: 'wildcard' | 'regex', arg: ValueExpr, patterns: ValueExpr[], ci: boolean): Compiled {
    const sem = this.semantics;
    const texts = patterns.map((p, i) => {
      const c = this.compile(p);
      const v = c.constant ? c.ev(NO_EVENT) : undefined;
      if (typeof v !== 'string') throw new Error(`${op} match: pattern ${i + 1} must be a constant string`);
      return v;
    });
    const a = this.compile(arg);
    const get = a.ev;
    if (texts.length === 0) return { ev: (x) => (isNull(get(x)) ? null : false), constant: a.constant };
    const test = op === 'wildcard' ? wildcardTest(texts, ci, sem) : regexTest(texts, ci, sem);
    return { ev: (x) => testValue(test, get(x), sem), constant: a.constant };
  }

  private logic(type: 'and' | 'or', args: ValueExpr[]): Compiled {
    const sem = this.semantics;
    const parts = args.map((a) => this.compile(a));
    const evs = parts.map((p) => p.ev);
    const absorbing = type === 'or';
    const n = evs.length;
    const ev: Evaluator = (x) => {
      let result: Kleene = !absorbing;
      for (let i = 0; i < n; i++) {
        const v = toKleene(evs[i]!(x), sem);
        if (v === absorbing) return absorbing;
        if (v === null) result = null;
      }
      return result;
    };
    return { ev, constant: parts.every((p) => p.constant) };
  }

  private call(name: string, args: ValueExpr[], caseInsensitive: boolean): Compiled {
    let fnName = name;
    let ci = caseInsensitive;
    if (fnName.endsWith('~')) {
      fnName = fnName.slice(0, -1);
      ci = true;
    }
    const def = lookupFunction(fnName);
    if (!def) throw new Error(`unsupported function ${name}()`);
    if (args.length < def.minArgs || args.length > def.maxArgs) {
      const range =
        def.maxArgs === Infinity
          ? `at least ${def.minArgs}`
          : def.minArgs === def.maxArgs
            ? `${def.minArgs}`
            : `${def.minArgs} to ${def.maxArgs}`;
      throw new Error(`function ${def.name}() takes ${range} argument${def.minArgs === 1 && def.maxArgs === 1 ? '' : 's'}, got ${args.length}`);
    }
    this.checkLiteralKinds(def, args);
    const sem = this.semantics;
    if (def.compile) {
      const ctx: CompileContext = {
        name: def.name,
        semantics: sem,
        caseInsensitive: ci,
        compile: (e) => this.compile(e).ev,
        constant: (e) => {
          const c = this.compile(e);
          return c.constant ? { value: c.ev(NO_EVENT) ?? null } : undefined;
        },
        withVariable: (variable, body) => {
          const slot = { value: null as unknown };
          this.scopes.push({ name: variable, slot });
          try {
            return body(slot);
          } finally {
            this.scopes.pop();
          }
        },
      };
      // Lambdas and guards read the event (or a variable) even with constant arguments.
      return { ev: def.compile(args, ctx), constant: false };
    }
    return this.pointwise(def, args, ci);
  }

  private checkLiteralKinds(def: FunctionDef, args: ValueExpr[]): void {
    args.forEach((a, i) => {
      if (a.type !== 'literal' || a.value === null) return;
      const kind = def.argKinds?.[i] ?? def.restKind;
      if (kind && !kindAccepts(kind, a.value)) {
        throw new Error(`function ${def.name}(): argument ${i + 1} must be ${kind === 'primitive' ? 'a string, number or boolean' : `a ${kind}`}, got ${kindOf(a.value)} ${JSON.stringify(a.value)}`);
      }
    });
  }

  private pointwise(def: FunctionDef, args: ValueExpr[], ci: boolean): Compiled {
    const fn = def.fn;
    if (!fn) throw new Error(`function ${def.name}() has no implementation`);
    const compiled = args.map((a) => this.compile(a));
    const evs = compiled.map((c) => c.ev);
    const constant = compiled.every((c) => c.constant);
    const n = evs.length;
    const buf: unknown[] = new Array(n).fill(null);
    const ctx = { semantics: this.semantics, caseInsensitive: ci };
    const mode = this.semantics === 'elasticsearch' ? (def.esArrays ?? 'first') : 'whole';

    if (mode === 'whole') {
      return {
        ev: (x) => {
          for (let i = 0; i < n; i++) buf[i] = evs[i]!(x) ?? null;
          return fn(buf, ctx) ?? null;
        },
        constant,
      };
    }
    if (mode === 'first') {
      return {
        ev: (x) => {
          for (let i = 0; i < n; i++) buf[i] = firstDocValue(evs[i]!(x)) ?? null;
          return fn(buf, ctx) ?? null;
        },
        constant,
      };
    }
    // 'any': the first argument element by element, Kleene OR of the results.
    const each = (arr: unknown[]): Kleene => {
      let sawFalse = false;
      for (let i = 0; i < arr.length; i++) {
        const el = arr[i];
        let r: unknown;
        if (Array.isArray(el)) r = each(el);
        else {
          buf[0] = el ?? null;
          r = fn(buf, ctx);
        }
        if (r === true) return true;
        if (r === false) sawFalse = true;
      }
      return sawFalse ? false : null;
    };
    return {
      ev: (x) => {
        const first = evs[0]!(x) ?? null;
        for (let i = 1; i < n; i++) buf[i] = firstDocValue(evs[i]!(x)) ?? null;
        if (Array.isArray(first)) return each(first);
        buf[0] = first;
        return fn(buf, ctx) ?? null;
      },
      constant,
    };
  }
}

/**
 * Compiles an expression to a function giving its value for an event (null for null/missing).
 * Throws an Error (naming the function, pattern or field) when the expression cannot run here:
 * the rule is then reported unsupported.
 */
export function compileExpr(e: ValueExpr, field: FieldAccessor, semantics: ExprSemantics = 'elasticsearch'): (ev: CanonicalEvent) => unknown {
  return new ExprCompiler(field, semantics).compile(e).ev;
}
