/**
 * EQL syntax tree -> IR stages.
 *
 * Elasticsearch semantics (`syntax: 'elasticsearch'`, Elastic rules). Elasticsearch pushes a
 * `where` condition down as query DSL wherever it can (querytranslator_tests.txt); so does this
 * translation, into IR predicates the engine compiles and indexes:
 *  - `f == v`                 -> compare eq, case-sensitive, typed (a number equals a number or
 *                                its decimal string, a boolean a boolean: a keyword `term`);
 *  - `f != v`                 -> not(compare eq): `must_not term`, so a MISSING field matches;
 *  - `f == null` / `f != null`-> null / exists (JSON null is no value);
 *  - `f < v` ... `f >= v`     -> compare lt/lte/gt/gte, case-sensitive (lexical on strings);
 *  - `f in (..)`, `f in~ (..)`-> compare eq over the list (sensitive / insensitive);
 *    `f not in (..)`          -> not(...), missing field matches as for `!=`;
 *  - `f : "p"`, `f like~ "p"` -> compare wildcard, case-insensitive, when a pattern has `*` or `?`,
 *                                else compare eq case-insensitive (`term` with case_insensitive);
 *    `f like "p"`             -> the same, case-sensitive. Lists OR their patterns. The pattern is
 *                                the IR glob as written: `\*`, `\?`, `\\` escape (Lucene wildcard);
 *  - `f regex "p"` / `regex~` -> compare regex: the Lucene pattern rewritten to RE2 and anchored,
 *                                `^(?:p)$` (Lucene regexps match the whole value; `.` matches a
 *                                newline: flag s; `regex~` adds flag i). `^` and `$` are literal
 *                                in Lucene and escaped; Lucene-only operators are refused;
 *  - and / or / not, `true` / `false` -> and / or / not / const;
 *  - anything else (functions, arithmetic, field-to-field, `f[0]`) -> an `expr` leaf, a value
 *    expression evaluated three-valued, matching when true (Elasticsearch's script filter).
 * Elasticsearch refuses (and so this reports as unsupported, by name): join, `fork`, lineage
 * (`child of`...), pipes other than head and tail, and functions it does not have.
 * Invalid queries (Elasticsearch's verification errors) throw EqlQueryError at their place in
 * the query, so the loader reports them with file:line:col: an unknown function, a function
 * called with the wrong number of arguments, sequence/sample steps (and `until`) with different
 * numbers of join keys.
 *
 * Python semantics (`syntax: 'python'`, the endgameinc/eql conformance suite): the reference
 * engine is three-valued throughout (`not null` is null), so each `where` becomes ONE `expr`
 * leaf with semantics 'python'; with `caseInsensitive` every string comparison, `in`, pattern
 * and function folds case, and so do the sequence join keys. `x == "a*b"` (a `*` in a string
 * compared with `==`/`!=`) is a wildcard match, as the Python parser rewrites it. Pipes fold
 * their keys with `caseInsensitive` (PipeStage.caseInsensitive), and a pipe after a sequence that
 * reads `events[n].x` gets `resultEvents` (see stages/pipe.ts). Join, lineage and `fork` are
 * reported as unsupported by name (docs/eql-conformance.md).
 *
 * Event categories: `any where` tests nothing; `process where X` is
 * `and(categoryField eq "process", X)` (eq tests any element of an array: ECS event.category).
 */
import type { FieldRef, Predicate, SchemaName, Stage, ValueExpr, PipeStage, SequenceStep, ExprSemantics } from '../../../ir/types.js';
import { compileRegex } from '../../../engine/predicate/regex.js';
import { lookupFunction } from '../../../engine/expr/functions/index.js';
import type { EventQuery, Expr, Pipe, Query, Subquery } from './ast.js';
import { EqlQueryError, EqlUnsupportedError } from './errors.js';
import type { Syntax } from './lexer.js';

export interface EqlToIrOptions {
  /** Which dialect's meaning to give the query (default 'elasticsearch'). */
  syntax?: Syntax;
  /** Python semantics only: all string comparisons, patterns, functions and join keys fold case. */
  caseInsensitive?: boolean;
  /** The vocabulary of the query's field names ('ecs' for Elastic rules on Okta events). */
  schema: SchemaName;
  /** The event category field ('event.category', a rule's event_category_override, 'event_type'). */
  categoryField: string;
  /** The window pipes apply over (a rule's interval); Infinity = the whole input. Default Infinity. */
  windowMs?: number;
}

export interface EqlIr {
  stages: Stage[];
}

/** Functions of Elasticsearch EQL (eql-function-ref), by lower-cased name -> written name. */
const ES_FUNCTIONS = [
  'add',
  'between',
  'cidrMatch',
  'concat',
  'divide',
  'endsWith',
  'indexOf',
  'length',
  'modulo',
  'multiply',
  'number',
  'startsWith',
  'string',
  'stringContains',
  'substring',
  'subtract',
];
/** Functions only the Python engine has. */
const PYTHON_FUNCTIONS = ['arrayContains', 'arrayCount', 'arraySearch', 'match', 'matchLite', 'safe', 'wildcard'];
const CANONICAL = new Map([...ES_FUNCTIONS, ...PYTHON_FUNCTIONS].map((n) => [n.toLowerCase(), n]));
const ES_FUNCTION_SET = new Set(ES_FUNCTIONS);

const HAS_WILDCARD = /[*?]/;

/**
 * A Lucene regular expression (Elasticsearch `regexp` query, whole-value match) as an anchored
 * RE2 pattern. Throws EqlUnsupportedError for Lucene operators RE2 has no equivalent for.
 */
export function luceneRegexToRe2(pattern: string): string {
  let out = '';
  let inClass = false;
  /** At the start of a branch (pattern start, after `(` or `|`): Lucene has nothing to repeat there. */
  let branchStart = true;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const atStart = branchStart;
    branchStart = false;
    // Lucene parses `?`, `*` and `+` with nothing before them as literal characters (its
    // RegExp has no inline flags or group modifiers: `(?i)x` is a group matching "?i", then x);
    // RE2 would read `(?i)` as a flag or reject a repeat of nothing, so escape them.
    if (!inClass && atStart && (c === '?' || c === '*' || c === '+')) {
      out += `\\${c}`;
      continue;
    }
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) throw new EqlUnsupportedError('regex', `regex ${JSON.stringify(pattern)} ends with a lone backslash`);
      // Lucene: a backslash makes the next character literal; RE2 needs letters kept as classes.
      out += /[dDsSwW]/.test(n) ? `\\${n}` : /[A-Za-z0-9]/.test(n) ? n : `\\${n}`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        out += c;
        if (pattern[i + 1] === '^') {
          out += '^';
          i++;
        }
        break;
      case '^':
      case '$':
        out += `\\${c}`;
        break;
      case '(':
      case '|':
        out += c;
        branchStart = true;
        break;
      case '"':
      case '@':
      case '#':
      case '&':
      case '~':
      case '<':
      case '>':
        throw new EqlUnsupportedError(
          `regex operator ${c}`,
          `the Lucene regex operator '${c}' in ${JSON.stringify(pattern)} has no RE2 equivalent (escape it as \\${c} if it is meant literally)`,
        );
      default:
        out += c;
    }
  }
  return `^(?:${out})$`;
}

class Translator {
  private readonly python: boolean;
  private readonly fold: boolean;
  private readonly semantics: ExprSemantics;
  private readonly windowMs: number;

  constructor(private readonly options: EqlToIrOptions) {
    this.python = options.syntax === 'python';
    this.fold = this.python && (options.caseInsensitive ?? false);
    this.semantics = this.python ? 'python' : 'elasticsearch';
    this.windowMs = options.windowMs ?? Infinity;
  }

  private ref(name: string): FieldRef {
    return { name, schema: this.options.schema };
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Queries                                                                                  */
  /* ---------------------------------------------------------------------------------------- */

  query(q: Query): EqlIr {
    switch (q.kind) {
      case 'event':
        return { stages: [{ type: 'filter', predicate: this.eventPredicate(q.query) }, ...this.pipes(q.pipes, false)] };
      case 'join':
        throw new EqlUnsupportedError('join', `join is not supported${this.python ? '' : ' by Elasticsearch EQL'} (unordered joins are Python EQL)`, q.at);
      case 'sequence': {
        checkJoinKeys(q.by.length, [...q.subqueries, ...(q.until ? [q.until] : [])]);
        const steps = q.subqueries.map((s) => this.step(s));
        const until = q.until ? this.until(q.until) : undefined;
        const heads = [...steps.map((s) => s.predicate), ...(until ? [until.predicate] : [])];
        const stage: Stage = { type: 'sequence', by: q.by.map((k) => this.value(k)), steps, semantics: this.semantics };
        if (q.maxspan) stage.maxspanMs = q.maxspan.ms;
        if (until) stage.until = until;
        if (this.fold) stage.caseInsensitiveKeys = true;
        return { stages: [{ type: 'filter', predicate: orOf(heads) }, stage, ...this.pipes(q.pipes, true)] };
      }
      case 'sample': {
        checkJoinKeys(q.by.length, q.subqueries);
        const steps = q.subqueries.map((s) => this.step(s));
        return {
          stages: [
            { type: 'filter', predicate: orOf(steps.map((s) => s.predicate)) },
            { type: 'sample', by: q.by.map((k) => this.value(k)), steps, semantics: this.semantics },
            ...this.pipes(q.pipes, true),
          ],
        };
      }
    }
  }

  private step(s: Subquery): SequenceStep {
    if (s.fork !== undefined) throw new EqlUnsupportedError('fork', '`fork` (keeping copies of a pending sequence) is not supported', s.at);
    const step: SequenceStep = { predicate: this.eventPredicate(s.query) };
    if (s.by.length > 0) step.by = s.by.map((k) => this.value(k));
    if (s.missing) step.missing = true;
    if (s.runs !== undefined) step.runs = s.runs;
    return step;
  }

  private until(s: Subquery): { predicate: Predicate; by?: ValueExpr[] } {
    if (s.fork !== undefined) throw new EqlUnsupportedError('fork', '`fork` is not supported', s.at);
    const u: { predicate: Predicate; by?: ValueExpr[] } = { predicate: this.eventPredicate(s.query) };
    if (s.by.length > 0) u.by = s.by.map((k) => this.value(k));
    return u;
  }

  eventPredicate(q: EventQuery): Predicate {
    const condition = this.condition(q.where);
    if (q.category === null) return condition;
    const category: Predicate = {
      type: 'compare',
      field: this.ref(this.options.categoryField),
      op: 'eq',
      values: [q.category],
      options: { caseSensitive: true, coerce: 'typed' },
    };
    if (condition.type === 'const' && condition.value) return category;
    return { type: 'and', args: [category, condition] };
  }

  /** A `where` (or `| filter`) condition. */
  condition(e: Expr): Predicate {
    if (e.kind === 'literal' && typeof e.value === 'boolean') return { type: 'const', value: e.value };
    if (this.python) return this.leaf(e);
    return this.predicate(e);
  }

  /** `multi`: the results have several events (sequence, sample): Python pipes read `events[n].x`. */
  private pipes(pipes: Pipe[], multi: boolean): PipeStage[] {
    return pipes.map((p) => this.pipe(p, multi));
  }

  private pipe(p: Pipe, multi: boolean): PipeStage {
    const name = p.name as PipeStage['pipe'];
    if (!this.python && name !== 'head' && name !== 'tail') {
      throw new EqlUnsupportedError(`| ${name}`, `the pipe | ${name} is not supported by Elasticsearch EQL (only head and tail)`, p.at);
    }
    const stage: PipeStage = { type: 'pipe', pipe: name, windowMs: this.windowMs, semantics: this.semantics };
    if (this.fold) stage.caseInsensitive = true;
    if (this.python && multi && p.args.some(readsResultEvents)) stage.resultEvents = true;
    switch (name) {
      case 'head':
      case 'tail': {
        const a = p.args[0];
        // Python's head/tail default to 50 results.
        stage.n = a && a.kind === 'literal' && typeof a.value === 'number' ? a.value : 50;
        break;
      }
      case 'filter':
        stage.predicate = this.condition(p.args[0]!);
        break;
      default:
        stage.keys = p.args.map((k) => this.value(k));
    }
    return stage;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Elasticsearch: conditions as predicates where they are field-vs-literal tests             */
  /* ---------------------------------------------------------------------------------------- */

  private leaf(e: Expr): Predicate {
    return { type: 'expr', expr: this.value(e), semantics: this.semantics };
  }

  /** A plain field (no array index), or undefined. */
  private plainField(e: Expr): FieldRef | undefined {
    if (e.kind !== 'field' || e.path.some((p) => typeof p === 'number')) return undefined;
    return this.ref(e.name);
  }

  private predicate(e: Expr): Predicate {
    switch (e.kind) {
      case 'and':
      case 'or':
        return { type: e.kind, args: e.args.map((a) => this.predicate(a)) };
      case 'not':
        return { type: 'not', arg: this.predicate(e.arg) };
      case 'literal':
        if (typeof e.value === 'boolean') return { type: 'const', value: e.value };
        break;
      case 'compare': {
        const p = this.comparePredicate(e);
        if (p) return p;
        break;
      }
      case 'in': {
        const field = this.plainField(e.arg);
        const values = e.values.map((v) => (v.kind === 'literal' ? v.value : undefined));
        if (field && values.every((v): v is string | number | boolean => v !== undefined && v !== null)) {
          const p: Predicate = { type: 'compare', field, op: 'eq', values, options: { caseSensitive: !e.insensitive, coerce: 'typed' } };
          return e.negated ? { type: 'not', arg: p } : p;
        }
        break;
      }
      case 'match': {
        const p = this.matchPredicate(e);
        if (p) return p;
        break;
      }
      default:
        break;
    }
    return this.leaf(e);
  }

  private comparePredicate(e: Extract<Expr, { kind: 'compare' }>): Predicate | undefined {
    let field = this.plainField(e.left);
    let lit = e.right;
    let op = e.op;
    if (!field || lit.kind !== 'literal') {
      field = this.plainField(e.right);
      lit = e.left;
      op = FLIP[e.op];
    }
    if (!field || lit.kind !== 'literal') return undefined;
    const v = lit.value;
    if (v === null) {
      if (op === '==') return { type: 'null', field };
      if (op === '!=') return { type: 'exists', field, nullIsMissing: true };
      return undefined;
    }
    const options = { caseSensitive: true, coerce: 'typed' as const };
    switch (op) {
      case '==':
        return { type: 'compare', field, op: 'eq', values: [v], options };
      case '!=':
        return { type: 'not', arg: { type: 'compare', field, op: 'eq', values: [v], options } };
      default:
        if (typeof v === 'boolean') return undefined;
        return { type: 'compare', field, op: ORDER[op], values: [v], options };
    }
  }

  private matchPredicate(e: Extract<Expr, { kind: 'match' }>): Predicate | undefined {
    const field = this.plainField(e.arg);
    const patterns = e.patterns.map((p) => (p.kind === 'literal' && typeof p.value === 'string' ? p.value : undefined));
    if (!field || !patterns.every((p): p is string => p !== undefined)) return undefined;
    if (e.op === 'regex') {
      const values = patterns.map(luceneRegexToRe2);
      const flags = e.insensitive ? 'si' : 's';
      for (const v of values) this.checkRegex(v, flags);
      return { type: 'compare', field, op: 'regex', values, options: { flags } };
    }
    const caseSensitive = !e.insensitive;
    const plain = patterns.filter((p) => !HAS_WILDCARD.test(p));
    const globs = patterns.filter((p) => HAS_WILDCARD.test(p));
    const parts: Predicate[] = [];
    if (plain.length > 0) parts.push({ type: 'compare', field, op: 'eq', values: plain, options: { caseSensitive, coerce: 'typed' } });
    if (globs.length > 0) parts.push({ type: 'compare', field, op: 'wildcard', values: globs, options: { caseSensitive, coerce: 'typed' } });
    return orOf(parts);
  }

  private checkRegex(pattern: string, flags: string): void {
    try {
      compileRegex(pattern, flags);
    } catch (err) {
      throw new EqlUnsupportedError('regex', `regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Value expressions                                                                        */
  /* ---------------------------------------------------------------------------------------- */

  value(e: Expr): ValueExpr {
    const ci = this.fold ? { caseInsensitive: true as const } : {};
    switch (e.kind) {
      case 'literal':
        return { type: 'literal', value: e.value };
      case 'field': {
        const v: ValueExpr = { type: 'field', field: this.ref(e.name) };
        if (e.optional) v.optional = true;
        return v;
      }
      case 'call':
        return this.call(e.name, e.args, e.insensitive, e.at);
      case 'method':
        if (!this.python) throw new EqlUnsupportedError(`method :${e.name}()`, 'method calls are Python EQL', e.at);
        return this.call(e.name, [e.target, ...e.args], false, e.at);
      case 'arith':
        return { type: 'arith', op: e.op, left: this.value(e.left), right: this.value(e.right) };
      case 'neg':
        return { type: 'neg', arg: this.value(e.arg) };
      case 'compare': {
        if (this.python && (e.op === '==' || e.op === '!=')) {
          const pattern = starString(e.right) ?? starString(e.left);
          if (pattern !== undefined) {
            const arg = starString(e.right) !== undefined ? e.left : e.right;
            const m: ValueExpr = { type: 'match', op: 'wildcard', arg: this.value(arg), patterns: [{ type: 'literal', value: pattern }], ...ci };
            return e.op === '==' ? m : { type: 'not', arg: m };
          }
        }
        return { type: 'compare', op: VALUE_OP[e.op], left: this.value(e.left), right: this.value(e.right), ...ci };
      }
      case 'in': {
        const fold = this.fold || e.insensitive;
        const v: ValueExpr = { type: 'in', arg: this.value(e.arg), values: e.values.map((x) => this.value(x)), ...(fold ? { caseInsensitive: true } : {}) };
        return e.negated ? { type: 'not', arg: v } : v;
      }
      case 'match': {
        const fold = this.fold || e.insensitive;
        let patterns = e.patterns.map((p) => this.value(p));
        if (!this.python && e.op === 'regex') {
          patterns = patterns.map((p) => {
            if (p.type !== 'literal' || typeof p.value !== 'string') return p;
            const re = luceneRegexToRe2(p.value);
            this.checkRegex(re, fold ? 'si' : 's');
            return { type: 'literal', value: re };
          });
        }
        return { type: 'match', op: e.op === 'regex' ? 'regex' : 'wildcard', arg: this.value(e.arg), patterns, ...(fold ? { caseInsensitive: true } : {}) };
      }
      case 'and':
      case 'or':
        return { type: e.kind, args: e.args.map((a) => this.value(a)) };
      case 'not':
        return { type: 'not', arg: this.value(e.arg) };
      case 'of':
        throw new EqlUnsupportedError(
          `${e.relation} of`,
          `\`${e.relation} of [...]\` (process lineage) is not supported${this.python ? '' : ' by Elasticsearch EQL'}`,
          e.at,
        );
    }
  }

  private call(name: string, args: Expr[], insensitive: boolean, at: number): ValueExpr {
    const fn = CANONICAL.get(name.toLowerCase()) ?? name;
    const def = lookupFunction(fn);
    if (!def) throw new EqlQueryError(`unknown function ${name}()`, at);
    if (!this.python && !ES_FUNCTION_SET.has(fn)) {
      throw new EqlUnsupportedError(`function ${name}`, `the function ${name}() is not supported by Elasticsearch EQL`, at);
    }
    if (args.length < def.minArgs || args.length > def.maxArgs) {
      const range =
        def.maxArgs === Infinity ? `at least ${def.minArgs}` : def.minArgs === def.maxArgs ? `${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`;
      throw new EqlQueryError(`function ${def.name}() takes ${range} argument${def.minArgs === 1 && def.maxArgs === 1 ? '' : 's'}, got ${args.length}`, at);
    }
    const v: ValueExpr = { type: 'call', fn, args: args.map((a) => this.value(a)) };
    if (insensitive || this.fold) v.caseInsensitive = true;
    return v;
  }
}

const FLIP = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;
const ORDER = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;
const VALUE_OP = { '==': 'eq', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;

/** Whether an expression reads `events[n]...` (Python: the n-th event of a sequence result, in a pipe). */
function readsResultEvents(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  if (Array.isArray(e)) return e.some(readsResultEvents);
  const node = e as { kind?: string; path?: unknown[] };
  if (node.kind === 'field') return node.path?.[0] === 'events' && typeof node.path[1] === 'number';
  return Object.values(e).some(readsResultEvents);
}

/** A string literal with a `*` (Python's `==` wildcard form). */
function starString(e: Expr): string | undefined {
  return e.kind === 'literal' && typeof e.value === 'string' && e.value.includes('*') ? e.value : undefined;
}

/** Every step (and `until`) must have as many join keys as the first (Elasticsearch's verifier). */
function checkJoinKeys(shared: number, subqueries: Subquery[]): void {
  const expected = shared + (subqueries[0]?.by.length ?? 0);
  for (const s of subqueries) {
    const found = shared + s.by.length;
    if (found !== expected) {
      throw new EqlQueryError(`every step must have the same number of join keys: expected ${expected}, found ${found}`, s.at);
    }
  }
}

function orOf(args: Predicate[]): Predicate {
  if (args.length === 0) return { type: 'const', value: false };
  if (args.length === 1) return args[0]!;
  return { type: 'or', args };
}

/** Translates a parsed EQL query to IR stages. Throws EqlUnsupportedError naming the construct. */
export function queryToStages(q: Query, options: EqlToIrOptions): EqlIr {
  return new Translator(options).query(q);
}

/** Translates one EQL condition to a predicate (no category), for tests and tools. */
export function conditionToPredicate(e: Expr, options: EqlToIrOptions): Predicate {
  return new Translator(options).condition(e);
}

/** Translates one EQL expression to a value expression. */
export function exprToValue(e: Expr, options: EqlToIrOptions): ValueExpr {
  return new Translator(options).value(e);
}
