/**
 * The EQL grammar: a recursive-descent parser over the tokens of lexer.ts, following the
 * Python engine's Lark grammar (`eql/etc/eql.g`) and the Elasticsearch ANTLR grammar
 * (`EqlBase.g4`) production by production:
 *
 *   query        = base_query pipe*
 *   base_query   = sequence | sample | join | event_query
 *   event_query  = (name | "any" | string) "where" expr          (Python: the prefix is optional)
 *   sequence     = "sequence" [by [maxspan] | maxspan [by]] subquery_by+ ["until" subquery_by]
 *   sample       = "sample" [by] subquery_by+
 *   join         = "join" [by] subquery_by+ ["until" subquery_by]    (Python only; parsed here)
 *   by           = "by" expr ("," expr)*
 *   maxspan      = "with" "maxspan" "=" number unit                   (ms s m h d; ES also micros nanos)
 *   subquery_by  = ("[" | "![") event_query "]" ["fork" ["=" bool]] [by] ["with" "runs" "=" int]
 *   pipe         = "|" name [atom atom+ | expr ("," expr)*]
 *
 *   expr    = and ("or" and)*            and  = not ("and" not)*        not = "not" not | term
 *   term    = sum [cmp sum | ["not"] ("in" | "in~") "(" exprs ")" | (":" | "like" | "like~" |
 *             "regex" | "regex~") (literal | "(" literal ("," literal)* ")")]
 *   sum     = mul (("+" | "-") mul)*     mul  = unary (("*" | "/" | "%") unary)*
 *   unary   = ("-" | "+") unary | postfix             postfix = primary (":" name "(" exprs ")")*
 *   primary = literal | ["?"] field | name["~"] "(" exprs ")" | "(" expr ")" | name "of" "[" event_query "]"
 *
 * So `not` binds tighter than `and`, `and` tighter than `or`, and `not a == b` is `not (a == b)`;
 * comparisons do not chain. Elasticsearch syntax rejects `=`, single-quoted and `?"` strings
 * (lexer) and `:method()` calls; Python syntax accepts them. Constraints the Elasticsearch
 * parser checks are checked here too: `runs` in 1..100, missing events (`![`) only in a sequence
 * with `maxspan` and with one positive clause, at least two clauses (counting runs).
 *
 * Nesting is bounded (MAX_NESTING levels): parentheses, function arguments, `not` and unary
 * minus chains, and each operator of a `+ - * / %` chain (its tree is left-deep, one level per
 * operand) count one level each. Deeper queries are a syntax error at the token that goes over
 * the limit, instead of a stack overflow here or in the translation and compilation after.
 * (Elasticsearch's SQL parser stops at depth 200 the same way: "statement too large".)
 */
import type { CompareOperator, EventQuery, Expr, Pipe, Query, Subquery, TimeSpan } from './ast.js';
import { EqlSyntaxError } from './errors.js';
import { describe, tokenize, type Syntax, type Token } from './lexer.js';

export interface ParseOptions {
  /** 'elasticsearch' (default): the Elasticsearch EQL dialect; 'python': the endgameinc/eql one. */
  syntax?: Syntax;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ES_ONLY_UNITS: Record<string, number> = { micros: 0.001, nanos: 0.000001 };

export const PIPES = new Set(['head', 'tail', 'filter', 'unique', 'unique_count', 'count', 'sort']);

const COMPARE_OPS = new Set(['==', '=', '!=', '<', '<=', '>', '>=']);

/** Most nesting levels in one query (see the header). */
export const MAX_NESTING = 200;

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private readonly python: boolean;
  /** Nesting level of what is being parsed (see MAX_NESTING). */
  private depth = -1; // the top-level condition is level 0

  constructor(
    private readonly text: string,
    syntax: Syntax,
  ) {
    this.python = syntax === 'python';
    this.tokens = tokenize(text, syntax);
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Token helpers                                                                            */
  /* ---------------------------------------------------------------------------------------- */

  private get tok(): Token {
    return this.tokens[this.i]!;
  }

  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }

  private fail(at: number, reason: string): never {
    throw new EqlSyntaxError(this.text, at, reason);
  }

  /** One level deeper, at the token starting at `at`; a syntax error there past MAX_NESTING. */
  private enter(at: number): void {
    if (++this.depth > MAX_NESTING) {
      this.fail(at, `the query is nested too deeply (more than ${MAX_NESTING} levels of parentheses, function calls, not, unary minus or arithmetic operators)`);
    }
  }

  private unexpected(expected: string): never {
    this.fail(this.tok.start, `expected ${expected}, found ${describe(this.tok, this.text)}`);
  }

  private atEnd(): boolean {
    return this.tok.kind === 'eof';
  }

  private isOp(value: string, t: Token = this.tok): boolean {
    return t.kind === 'op' && t.value === value;
  }

  private isKeyword(value: string, t: Token = this.tok): boolean {
    return t.kind === 'keyword' && t.value === value;
  }

  /** A plain one-part name (`maxspan`, `runs`, `any`, `of`, a pipe or function name). */
  private isName(value?: string, t: Token = this.tok): boolean {
    return t.kind === 'field' && t.parts.length === 1 && !t.escaped && (value === undefined || t.name === value);
  }

  private expectOp(value: string, what = `'${value}'`): Token {
    if (!this.isOp(value)) this.unexpected(what);
    return this.tokens[this.i++]!;
  }

  private expectKeyword(value: string): Token {
    if (!this.isKeyword(value)) this.unexpected(`'${value}'`);
    return this.tokens[this.i++]!;
  }

  private expectName(value: string): Token {
    if (!this.isName(value)) this.unexpected(`'${value}'`);
    return this.tokens[this.i++]!;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Queries                                                                                  */
  /* ---------------------------------------------------------------------------------------- */

  parseQuery(): Query {
    if (this.tok.kind === 'eof') this.fail(0, 'empty query');
    let query: Query;
    if (this.isKeyword('sequence')) query = this.sequence();
    else if (this.isKeyword('sample')) query = this.sample();
    else if (this.isKeyword('join')) query = this.join();
    else query = { kind: 'event', query: this.eventQuery(), pipes: [] };
    query.pipes = this.pipes();
    if (!this.atEnd()) {
      this.unexpected(query.kind === 'event' ? "an operator, '|' or the end of the query" : "'|' or the end of the query");
    }
    return query;
  }

  private sequence(): Query {
    const at = this.expectKeyword('sequence').start;
    let by: Expr[] = [];
    let maxspan: TimeSpan | undefined;
    if (this.isKeyword('by')) {
      by = this.joinKeys();
      if (this.isKeyword('with')) maxspan = this.maxspan();
    } else if (this.isKeyword('with')) {
      maxspan = this.maxspan();
      if (this.isKeyword('by')) by = this.joinKeys();
    }
    const subqueries = this.subqueries('sequence');
    let until: Subquery | undefined;
    if (this.isKeyword('until')) {
      this.i++;
      until = this.subqueryBy('until');
    }
    const positions = subqueries.reduce((n, s) => n + (s.runs ?? 1), 0);
    if (positions < 2) this.fail(at, 'a sequence needs at least two clauses (or one with `with runs`)');
    const missing = subqueries.find((s) => s.missing);
    if (missing) {
      if (!maxspan) this.fail(missing.at, 'missing events (`![ ... ]`) need `with maxspan` on the sequence');
      if (subqueries.every((s) => s.missing)) this.fail(at, 'a sequence needs at least one clause that is not a missing event');
    }
    const q: Query = { kind: 'sequence', by, subqueries, pipes: [], at };
    if (maxspan) q.maxspan = maxspan;
    if (until) q.until = until;
    return q;
  }

  private sample(): Query {
    const at = this.expectKeyword('sample').start;
    const by = this.isKeyword('by') ? this.joinKeys() : [];
    if (this.isKeyword('with')) this.fail(this.tok.start, '`with maxspan` is not supported in a sample');
    const subqueries = this.subqueries('sample');
    if (subqueries.length < 2) this.fail(at, 'a sample needs at least two clauses');
    if (this.isKeyword('until')) this.fail(this.tok.start, '`until` is not supported in a sample');
    return { kind: 'sample', by, subqueries, pipes: [], at };
  }

  private join(): Query {
    const at = this.expectKeyword('join').start;
    const by = this.isKeyword('by') ? this.joinKeys() : [];
    const subqueries = this.subqueries('join');
    if (subqueries.length < 2) this.fail(at, 'a join needs at least two clauses');
    const q: Query = { kind: 'join', by, subqueries, pipes: [], at };
    if (this.isKeyword('until')) {
      this.i++;
      q.until = this.subqueryBy('until');
    }
    return q;
  }

  private subqueries(kind: 'sequence' | 'sample' | 'join'): Subquery[] {
    const out: Subquery[] = [];
    while (this.isOp('[') || this.isOp('!')) out.push(this.subqueryBy(kind));
    if (out.length === 0) this.unexpected(kind === 'sequence' ? "'[' or '![' (a sequence clause)" : `'[' (a ${kind} clause)`);
    return out;
  }

  private subqueryBy(kind: 'sequence' | 'sample' | 'join' | 'until'): Subquery {
    const at = this.tok.start;
    let missing = false;
    if (this.isOp('!')) {
      if (kind !== 'sequence') this.fail(at, `missing events ('![') are only allowed in a sequence, not in ${kind === 'until' ? 'until' : `a ${kind}`}`);
      missing = true;
      this.i++;
      if (!this.isOp('[') || this.tok.start !== at + 1) this.unexpected("'[' directly after '!'");
    }
    this.expectOp('[', "'['");
    const query = this.eventQuery();
    this.expectOp(']', "']' (or an operator)");
    const sub: Subquery = { query, missing, by: [], at };
    if (this.isName('fork')) {
      const f = this.tok;
      if (!this.python) this.fail(f.start, '`fork` is Python EQL; not supported by Elasticsearch EQL');
      this.i++;
      sub.fork = true;
      if (this.isOp('=') || this.isOp('==')) {
        this.i++;
        if (!this.isKeyword('true') && !this.isKeyword('false')) this.unexpected('true or false');
        sub.fork = this.isKeyword('true');
        this.i++;
      }
    }
    if (this.isKeyword('by')) sub.by = this.joinKeys();
    if (this.isKeyword('with')) {
      const w = this.tok;
      if (this.isName('maxspan', this.peek())) this.fail(w.start, '`with maxspan` belongs after `sequence` (or its `by`), not after a clause');
      this.i++;
      this.expectName('runs');
      this.expectOp('=', "'='");
      const n = this.tok;
      if (n.kind !== 'number' || !n.integer) this.unexpected('an integer (runs)');
      if (n.value < 1 || n.value > 100) this.fail(n.start, `runs must be between 1 and 100 (got ${n.value})`);
      if (kind !== 'sequence') this.fail(w.start, `\`with runs\` is only allowed in a sequence`);
      this.i++;
      sub.runs = n.value;
    }
    return sub;
  }

  private joinKeys(): Expr[] {
    this.expectKeyword('by');
    return this.exprList();
  }

  private maxspan(): TimeSpan {
    this.expectKeyword('with');
    if (this.isName('runs')) this.fail(this.tok.start, '`with runs` belongs after a clause `[ ... ]`');
    this.expectName('maxspan');
    if (this.isOp('==') && this.python) this.i++;
    else this.expectOp('=', "'='");
    const n = this.tok;
    if (n.kind !== 'number') this.unexpected('a time span (e.g. 30m)');
    this.i++;
    const u = this.tok;
    const unit = this.isName() && u.kind === 'field' ? u.name : undefined;
    const factor = unit === undefined ? undefined : (UNIT_MS[unit] ?? (this.python ? undefined : ES_ONLY_UNITS[unit]));
    if (factor === undefined) {
      this.fail(unit === undefined ? n.end : u.start, unit === undefined ? 'maxspan needs a time unit (ms, s, m, h or d)' : `unknown time unit '${unit}' (ms, s, m, h or d)`);
    }
    this.i++;
    return { value: n.value, unit: unit!, ms: n.value * factor!, at: n.start };
  }

  private eventQuery(): EventQuery {
    const t = this.tok;
    const next = this.peek();
    if ((this.isName() || t.kind === 'string') && this.isKeyword('where', next)) {
      this.i += 2;
      const name = t.kind === 'string' ? t.value : (t as { name: string }).name;
      return { category: t.kind !== 'string' && name === 'any' ? null : name, where: this.expr(), at: t.start };
    }
    if (this.python) return { category: null, where: this.expr(), at: t.start };
    if (this.isName() || t.kind === 'string') {
      this.i++;
      this.unexpected("'where'");
    }
    return this.unexpected("an event category (or 'any') and 'where'");
  }

  private pipes(): Pipe[] {
    const out: Pipe[] = [];
    while (this.isOp('|')) {
      this.i++;
      const n = this.tok;
      if (!this.isName()) this.unexpected('a pipe name (head, tail, ...)');
      const name = (n as { name: string }).name;
      if (!PIPES.has(name)) this.fail(n.start, `unknown pipe '${name}' (head, tail, filter, unique, unique_count, count, sort)`);
      this.i++;
      const args: Expr[] = [];
      if (!this.isOp('|') && this.tok.kind !== 'eof') {
        for (;;) {
          args.push(this.expr());
          if (this.isOp(',')) {
            this.i++;
            continue;
          }
          if (this.startsAtom()) continue;
          break;
        }
      }
      this.checkPipe(name, args, n.start);
      out.push({ name, args, at: n.start });
    }
    return out;
  }

  private startsAtom(): boolean {
    const t = this.tok;
    return t.kind === 'field' || t.kind === 'string' || t.kind === 'number' || (t.kind === 'keyword' && ['true', 'false', 'null'].includes(t.value)) || this.isOp('?');
  }

  private checkPipe(name: string, args: Expr[], at: number): void {
    if (name === 'head' || name === 'tail') {
      const a = args[0];
      if (args.length === 0 && this.python) return;
      if (args.length !== 1 || a?.kind !== 'literal' || typeof a.value !== 'number' || !Number.isInteger(a.value) || a.value < 0) {
        this.fail(args[0]?.at ?? at, `| ${name} takes one non-negative integer`);
      }
    } else if (name === 'filter') {
      if (args.length !== 1) this.fail(args[1]?.at ?? at, '| filter takes one condition');
    } else if (name !== 'count' && args.length === 0) {
      this.fail(at, `| ${name} needs at least one field`);
    }
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Expressions                                                                              */
  /* ---------------------------------------------------------------------------------------- */

  private exprList(): Expr[] {
    const out = [this.expr()];
    while (this.isOp(',')) {
      this.i++;
      if (this.python && (this.isOp(')') || this.isOp('['))) break; // trailing comma
      out.push(this.expr());
    }
    return out;
  }

  /** An expression, one level deeper; `at`: where a too-deep error points (its opening parenthesis). */
  expr(at = this.tok.start): Expr {
    const saved = this.depth;
    this.enter(at);
    try {
      const first = this.and();
      if (!this.isKeyword('or')) return first;
      const args = [first];
      while (this.isKeyword('or')) {
        this.i++;
        args.push(this.and());
      }
      return { kind: 'or', args, at: first.at };
    } finally {
      this.depth = saved;
    }
  }

  private and(): Expr {
    const first = this.not();
    if (!this.isKeyword('and')) return first;
    const args = [first];
    while (this.isKeyword('and')) {
      this.i++;
      args.push(this.not());
    }
    return { kind: 'and', args, at: first.at };
  }

  private not(): Expr {
    if (this.isKeyword('not')) {
      const at = this.tok.start;
      const saved = this.depth;
      this.enter(at);
      this.i++;
      const arg = this.not();
      this.depth = saved;
      return { kind: 'not', arg, at };
    }
    return this.term();
  }

  private term(): Expr {
    const left = this.sum();
    const t = this.tok;
    let result: Expr | undefined;
    if (t.kind === 'op' && COMPARE_OPS.has(t.value)) {
      if (t.value === '=' && !this.python) this.fail(t.start, "'=' is not supported as an equal operator in Elasticsearch EQL; use '==' or ':'");
      this.i++;
      const op = (t.value === '=' ? '==' : t.value) as CompareOperator;
      result = { kind: 'compare', op, left, right: this.sum(), at: left.at };
    } else if (this.isKeyword('not') && (this.isKeyword('in', this.peek()) || (this.peek().kind === 'tilde' && (this.peek() as { value: string }).value === 'in'))) {
      this.i++;
      result = this.inSet(left, true);
    } else if (this.isKeyword('in') || (t.kind === 'tilde' && t.value === 'in')) {
      result = this.inSet(left, false);
    } else if (this.isOp(':') || this.isKeyword('like') || this.isKeyword('regex') || (t.kind === 'tilde' && (t.value === 'like' || t.value === 'regex'))) {
      this.i++;
      const op = t.kind === 'op' ? ':' : ((t as { value: string }).value as 'like' | 'regex');
      const insensitive = t.kind === 'tilde' || op === ':';
      result = { kind: 'match', op, insensitive, arg: left, patterns: this.patterns(), at: left.at };
    }
    if (!result) return left;
    const after = this.tok;
    if ((after.kind === 'op' && COMPARE_OPS.has(after.value)) || this.isOp(':') || this.isKeyword('in') || this.isKeyword('like') || this.isKeyword('regex')) {
      this.fail(after.start, 'comparisons cannot be chained; combine them with and/or');
    }
    return result;
  }

  private inSet(arg: Expr, negated: boolean): Expr {
    const t = this.tokens[this.i++]!;
    const insensitive = t.kind === 'tilde';
    this.expectOp('(', "'(' (the list after in)");
    const values = this.python && this.isOp(')') ? [] : this.exprList();
    this.expectOp(')', "',' or ')'");
    return { kind: 'in', arg, values, insensitive, negated, at: arg.at };
  }

  /** A literal pattern or a parenthesised list of them. */
  private patterns(): Expr[] {
    if (this.isOp('(')) {
      this.i++;
      const out = [this.literalPattern()];
      while (this.isOp(',')) {
        this.i++;
        if (this.python && this.isOp(')')) break;
        out.push(this.literalPattern());
      }
      this.expectOp(')', "',' or ')'");
      return out;
    }
    return [this.literalPattern()];
  }

  private literalPattern(): Expr {
    const t = this.tok;
    const lit = this.literal();
    if (!lit) this.unexpected('a string (pattern)');
    if (lit.kind === 'literal' && typeof lit.value !== 'string' && !this.python) {
      this.fail(t.start, 'patterns of :, like and regex must be strings');
    }
    return lit;
  }

  private literal(): Expr | undefined {
    const t = this.tok;
    if (t.kind === 'string') {
      this.i++;
      return { kind: 'literal', value: t.value, at: t.start };
    }
    if (t.kind === 'number') {
      this.i++;
      return { kind: 'literal', value: t.value, at: t.start };
    }
    if (t.kind === 'keyword' && (t.value === 'true' || t.value === 'false' || t.value === 'null')) {
      this.i++;
      return { kind: 'literal', value: t.value === 'null' ? null : t.value === 'true', at: t.start };
    }
    return undefined;
  }

  private sum(): Expr {
    const saved = this.depth;
    let left = this.mul();
    while (this.isOp('+') || this.isOp('-')) {
      this.enter(this.tok.start); // the chain's tree is left-deep: one level per operator
      const op = (this.tokens[this.i++] as { value: string }).value as '+' | '-';
      left = { kind: 'arith', op, left, right: this.mul(), at: left.at };
    }
    this.depth = saved;
    return left;
  }

  private mul(): Expr {
    const saved = this.depth;
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      this.enter(this.tok.start);
      const op = (this.tokens[this.i++] as { value: string }).value as '*' | '/' | '%';
      left = { kind: 'arith', op, left, right: this.unary(), at: left.at };
    }
    this.depth = saved;
    return left;
  }

  private unary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const saved = this.depth;
      this.enter(this.tok.start);
      const t = this.tokens[this.i++]!;
      const arg = this.unary();
      this.depth = saved;
      if (t.kind === 'op' && t.value === '+') return arg;
      if (arg.kind === 'literal' && typeof arg.value === 'number') return { kind: 'literal', value: -arg.value, at: t.start };
      return { kind: 'neg', arg, at: t.start };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    const saved = this.depth;
    let e = this.primary();
    while (this.tok.kind === 'method') {
      this.enter(this.tok.start); // a method chain nests like an operator chain
      const m = this.tokens[this.i++] as { value: string; start: number };
      const args = this.isOp(')') ? [] : this.exprList();
      this.expectOp(')', "',' or ')'");
      e = { kind: 'method', name: m.value, target: e, args, at: m.start };
    }
    this.depth = saved;
    return e;
  }

  private primary(): Expr {
    const t = this.tok;
    const lit = this.literal();
    if (lit) return lit;
    if (this.isOp('(')) {
      this.i++;
      const e = this.expr(t.start);
      this.expectOp(')', "')' (or an operator)");
      return e;
    }
    if (this.isOp('?')) {
      this.i++;
      const f = this.tok;
      if (f.kind !== 'field' || f.start !== t.end) this.unexpected('a field name directly after ?');
      this.i++;
      return { kind: 'field', name: f.name, path: f.parts.map((p) => ('index' in p ? p.index : p.name)), optional: true, at: t.start };
    }
    if (t.kind === 'tilde') {
      if (!this.isOp('(', this.peek())) this.unexpected(`'(' after ${t.value}~ (a case-insensitive function call)`);
      return this.call(t.value, true);
    }
    if (t.kind === 'field') {
      if (this.isName() && this.isOp('(', this.peek())) return this.call(t.name, false);
      if (this.isName() && this.isName('of', this.peek()) && this.isOp('[', this.peek(2))) {
        this.i += 2;
        this.expectOp('[', "'['");
        const query = this.eventQuery();
        this.expectOp(']', "']'");
        return { kind: 'of', relation: t.name, query, at: t.start };
      }
      this.i++;
      return { kind: 'field', name: t.name, path: t.parts.map((p) => ('index' in p ? p.index : p.name)), optional: false, at: t.start };
    }
    return this.unexpected('a value (field, string, number, true, false, null, function call or parenthesis)');
  }

  private call(name: string, insensitive: boolean): Expr {
    const at = this.tok.start;
    this.i++;
    this.expectOp('(', "'('");
    const args = this.isOp(')') ? [] : this.exprList();
    this.expectOp(')', "',' or ')'");
    return { kind: 'call', name, args, insensitive, at };
  }
}

/** Parses an EQL query. Throws EqlSyntaxError. */
export function parseEql(text: string, options: ParseOptions = {}): Query {
  return new Parser(text, options.syntax ?? 'elasticsearch').parseQuery();
}

/** Parses one EQL expression (a `where` condition), for tests and tools. */
export function parseEqlExpression(text: string, options: ParseOptions = {}): Expr {
  const p = new Parser(text, options.syntax ?? 'elasticsearch');
  const e = p.expr();
  const rest = (p as unknown as { tok: Token }).tok;
  if (rest.kind !== 'eof') throw new EqlSyntaxError(text, rest.start, `expected an operator or the end of the expression, found ${describe(rest, text)}`);
  return e;
}
