/**
 * Sigma conditions: tokenizer, recursive-descent parser, and the AST.
 *
 * Grammar (spec 2.1 §Condition; precedence from loosest to tightest: or, and, not, `x of`):
 *
 *   expr       := and_expr ('or' and_expr)*
 *   and_expr   := not_expr ('and' not_expr)*
 *   not_expr   := 'not' not_expr | primary
 *   primary    := '(' expr ')' | quantified | IDENTIFIER
 *   quantified := ('1' | 'any' | 'all' | NUMBER) 'of' (PATTERN | 'them')
 *
 * Operators are case-insensitive whole words: `and_filter` or `selection_not` are identifiers.
 * `all`, `any`, numbers and `them` are only keywords in the quantified form. Identifiers are
 * letters, digits, `_`, `-` and `.`; a pattern may also hold `*` (any run of characters).
 * Resolving identifiers against the detection happens in detection.ts.
 */

export type Quantifier = 'any' | 'all' | number;

export type ConditionNode =
  | { type: 'and' | 'or'; args: ConditionNode[] }
  | { type: 'not'; arg: ConditionNode }
  | { type: 'ref'; name: string; offset: number }
  | { type: 'of'; quantifier: Quantifier; target: string; them: boolean; offset: number };

/** A syntax error at a character offset of the condition text. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

interface Token {
  kind: 'lparen' | 'rparen' | 'word' | 'end';
  text: string;
  offset: number;
}

function isWordChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return (
    (code >= 48 && code <= 57) || // 0-9
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    c === '_' ||
    c === '-' ||
    c === '.' ||
    c === '*'
  );
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, offset: i });
      i++;
    } else if (isWordChar(c)) {
      const start = i;
      while (i < text.length && isWordChar(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), offset: start });
    } else if (c === '|') {
      throw new ConditionError(
        "'|' in a condition is the Sigma 1.0 aggregation syntax, which Sigma 2 replaced by correlation rules",
        i,
      );
    } else {
      throw new ConditionError(`unexpected character '${c}'`, i);
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

const OPERATORS = new Set(['and', 'or', 'not', 'of']);

function isOperator(t: Token, word: string): boolean {
  return t.kind === 'word' && t.text.toLowerCase() === word;
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of condition' : `'${t.text}'`;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  parse(): ConditionNode {
    if (this.peek().kind === 'end') throw new ConditionError('empty condition', 0);
    const node = this.expr();
    const rest = this.peek();
    if (rest.kind !== 'end') throw new ConditionError(`unexpected ${describe(rest)}`, rest.offset);
    return node;
  }

  private expr(): ConditionNode {
    const args = [this.andExpr()];
    while (isOperator(this.peek(), 'or')) {
      this.next();
      args.push(this.andExpr());
    }
    return args.length === 1 ? args[0]! : { type: 'or', args };
  }

  private andExpr(): ConditionNode {
    const args = [this.notExpr()];
    while (isOperator(this.peek(), 'and')) {
      this.next();
      args.push(this.notExpr());
    }
    return args.length === 1 ? args[0]! : { type: 'and', args };
  }

  private notExpr(): ConditionNode {
    if (isOperator(this.peek(), 'not')) {
      this.next();
      return { type: 'not', arg: this.notExpr() };
    }
    return this.primary();
  }

  private primary(): ConditionNode {
    const t = this.next();
    if (t.kind === 'lparen') {
      const inner = this.expr();
      const close = this.next();
      if (close.kind !== 'rparen') throw new ConditionError(`expected ')' but found ${describe(close)}`, close.offset);
      return inner;
    }
    if (t.kind !== 'word') throw new ConditionError(`expected a search identifier but found ${describe(t)}`, t.offset);

    if (isOperator(this.peek(), 'of')) return this.quantified(t);

    const lower = t.text.toLowerCase();
    if (OPERATORS.has(lower)) throw new ConditionError(`expected a search identifier but found '${t.text}'`, t.offset);
    if (t.text.includes('*')) {
      throw new ConditionError(`'${t.text}' is a pattern: use it as '1 of ${t.text}' or 'all of ${t.text}'`, t.offset);
    }
    return { type: 'ref', name: t.text, offset: t.offset };
  }

  private quantified(q: Token): ConditionNode {
    const lower = q.text.toLowerCase();
    let quantifier: Quantifier;
    if (lower === 'any' || lower === 'all') {
      quantifier = lower;
    } else if ([...q.text].every((c) => c >= '0' && c <= '9')) {
      quantifier = Number(q.text);
      if (quantifier < 1) throw new ConditionError(`'${q.text} of' needs a count of at least 1`, q.offset);
    } else {
      throw new ConditionError(`expected '1', 'any', 'all' or a number before 'of' but found '${q.text}'`, q.offset);
    }
    this.next(); // of
    const target = this.next();
    if (target.kind !== 'word' || OPERATORS.has(target.text.toLowerCase())) {
      throw new ConditionError(`expected a search identifier pattern or 'them' after 'of' but found ${describe(target)}`, target.offset);
    }
    const them = target.text.toLowerCase() === 'them';
    return { type: 'of', quantifier, target: target.text, them, offset: target.offset };
  }
}

/** Parses one condition string. Throws ConditionError with the offset of the problem. */
export function parseCondition(text: string): ConditionNode {
  return new Parser(tokenize(text)).parse();
}

/**
 * Identifiers a pattern selects (pySigma: `*` matches any run, whole-name match; identifiers
 * starting with `_` are only selected by patterns that start with `_`). `them` selects every
 * identifier not starting with `_`.
 */
export function selectIdentifiers(target: string, them: boolean, identifiers: readonly string[]): string[] {
  if (them) return identifiers.filter((id) => !id.startsWith('_'));
  const pieces = target.split('*');
  const matches = (id: string): boolean => {
    if (pieces.length === 1) return id === target;
    const first = pieces[0]!;
    const last = pieces[pieces.length - 1]!;
    if (id.length < first.length + last.length || !id.startsWith(first) || !id.endsWith(last)) return false;
    let pos = first.length;
    const limit = id.length - last.length;
    for (const mid of pieces.slice(1, -1)) {
      const at = id.indexOf(mid, pos);
      if (at < 0 || at + mid.length > limit) return false;
      pos = at + mid.length;
    }
    return true;
  };
  return identifiers.filter((id) => matches(id) && (!id.startsWith('_') || target.startsWith('_')));
}
