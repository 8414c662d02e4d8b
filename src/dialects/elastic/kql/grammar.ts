/**
 * The KQL grammar: a hand-written PEG parser that follows Kibana's
 * `kbn-es-query/src/kuery/grammar/grammar.peggy` rule by rule (the autocomplete "cursor"
 * branches and the opt-in Lucene-syntax errors left out). Each rule is one method named after
 * the grammar rule, tried in the grammar's order, with the grammar's backtracking.
 *
 *   start          = Space* OrQuery? Space*
 *   OrQuery        = AndQuery (Or AndQuery)+ / AndQuery
 *   AndQuery       = NotQuery (And NotQuery)+ / NotQuery
 *   NotQuery       = Not SubQuery / SubQuery
 *   SubQuery       = '(' Space* OrQuery Space* ')' / NestedQuery
 *   NestedQuery    = Field Space* ':' Space* '{' Space* OrQuery Space* '}' / Expression
 *   Expression     = FieldRangeExpression / FieldValueExpression / ValueExpression
 *   FieldRangeExpression = Field Space* RangeOperator Space* Literal
 *   FieldValueExpression = Field Space* ':' Space* ListOfValues
 *   ValueExpression      = Value
 *   ListOfValues   = '(' Space* OrListOfValues Space* ')' / Value
 *   OrListOfValues / AndListOfValues / NotListOfValues: as OrQuery / AndQuery / NotQuery
 *   Value          = QuotedString / UnquotedLiteral
 *   Or  = Space+ 'or'i Space+      And = Space+ 'and'i Space+      Not = 'not'i Space+
 *
 * Consequences worth knowing when reading rules:
 *  - keywords are case-insensitive and need whitespace around them; whitespace alone is not an
 *    operator: `foo:bar baz` is the one value "bar baz";
 *  - NOT binds tighter than AND, AND tighter than OR; runs of one operator are one n-ary node;
 *  - `field:(a or b and not c)` distributes the field over the value list;
 *  - unquoted values are trimmed; unquoted `true`, `false`, `null` are typed literals;
 *  - `not` followed by whitespace ends an unquoted value anywhere, even inside a word
 *    (`foo:cannot be` is an error), as in Kibana: such values have to be quoted.
 *
 * On failure the error is reported, as peggy does, at the farthest position any rule reached,
 * with what was expected there.
 */
import type { KqlNode, LiteralNode, RangeOperator, ValueNode } from './ast.js';
import { KqlSyntaxError } from './errors.js';
import { readQuotedCharacter, readUnquotedCharacter, startsKeyword, WILDCARD, isSpace, type UnquotedItem } from './characters.js';

/** A value list still waiting for its field (`field:(a or b)` builds is(field, a)...). */
type ValueTree = (field: ValueNode | null) => KqlNode;

const RANGE_OPERATORS: [string, RangeOperator][] = [
  ['<=', 'lte'],
  ['>=', 'gte'],
  ['<', 'lt'],
  ['>', 'gt'],
];

class Parser {
  private pos = 0;
  /** Farthest failure: position and what was expected there. */
  private failPos = 0;
  private readonly expected = new Set<string>();
  /** Inside a named rule, inner expectations are not reported (peggy's behaviour). */
  private silenced = 0;

  constructor(private readonly text: string) {}

  /* ---------------------------------------------------------------------------------------- */
  /* Failure bookkeeping                                                                       */
  /* ---------------------------------------------------------------------------------------- */

  private expect(what: string, at = this.pos): void {
    if (this.silenced > 0) return;
    if (at > this.failPos) {
      this.failPos = at;
      this.expected.clear();
    }
    if (at === this.failPos) this.expected.add(what);
  }

  /** A rule with a display name: on failure it is reported by that name. */
  private named<T>(name: string, rule: () => T | null): T | null {
    const start = this.pos;
    this.silenced++;
    const result = rule();
    this.silenced--;
    if (result === null) {
      this.pos = start;
      this.expect(name, start);
    }
    return result;
  }

  private literalText(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    this.expect(JSON.stringify(s));
    return false;
  }

  /** Space* */
  private spaces(): void {
    while (this.space()) {
      /* consume */
    }
  }

  /** Space "whitespace" = [ \t\r\n\u00A0\uFEFF] */
  private space(): boolean {
    if (isSpace(this.text[this.pos])) {
      this.pos++;
      return true;
    }
    this.expect('whitespace');
    return false;
  }

  error(): KqlSyntaxError {
    const list = [...this.expected].sort();
    const expected = list.length <= 1 ? (list[0] ?? 'nothing') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
    const c = this.text[this.failPos];
    const found = c === undefined ? 'end of input' : JSON.stringify(c);
    return new KqlSyntaxError(this.text, this.failPos, `Expected ${expected} but ${found} found.`);
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Queries                                                                                   */
  /* ---------------------------------------------------------------------------------------- */

  /** start = Space* OrQuery? Space* (end of input) */
  start(): KqlNode {
    this.spaces();
    const query = this.orQuery();
    this.spaces();
    if (this.pos < this.text.length) {
      this.expect('end of input');
      throw this.error();
    }
    return query ?? { type: 'match_all' };
  }

  /** `head (sep item)+ / head`, n-ary. */
  private series<T>(item: () => T | null, separator: () => boolean): T[] | null {
    const head = item();
    if (head === null) return null;
    const all = [head];
    for (;;) {
      const save = this.pos;
      if (!separator()) break;
      const next = item();
      if (next === null) {
        this.pos = save;
        break;
      }
      all.push(next);
    }
    return all;
  }

  private orQuery(): KqlNode | null {
    const args = this.series(() => this.andQuery(), () => this.or());
    if (args === null) return null;
    return args.length === 1 ? args[0]! : { type: 'or', args };
  }

  private andQuery(): KqlNode | null {
    const args = this.series(() => this.notQuery(), () => this.and());
    if (args === null) return null;
    return args.length === 1 ? args[0]! : { type: 'and', args };
  }

  private notQuery(): KqlNode | null {
    const save = this.pos;
    if (this.not()) {
      const arg = this.subQuery();
      if (arg !== null) return { type: 'not', arg };
      this.pos = save;
    }
    return this.subQuery();
  }

  private subQuery(): KqlNode | null {
    const save = this.pos;
    if (this.literalText('(')) {
      this.spaces();
      const query = this.orQuery();
      if (query !== null) {
        this.spaces();
        if (this.literalText(')')) return query;
      }
      this.pos = save;
    }
    return this.nestedQuery();
  }

  private nestedQuery(): KqlNode | null {
    const save = this.pos;
    const path = this.field();
    if (path !== null) {
      this.spaces();
      if (this.literalText(':')) {
        this.spaces();
        if (this.literalText('{')) {
          this.spaces();
          const query = this.orQuery();
          if (query !== null) {
            this.spaces();
            if (this.literalText('}')) return { type: 'nested', path, query };
          }
        }
      }
    }
    this.pos = save;
    return this.expression();
  }

  private expression(): KqlNode | null {
    return this.fieldRangeExpression() ?? this.fieldValueExpression() ?? this.valueExpression();
  }

  private fieldRangeExpression(): KqlNode | null {
    const save = this.pos;
    const field = this.field();
    if (field !== null) {
      this.spaces();
      const op = this.rangeOperator();
      if (op !== null) {
        this.spaces();
        const value = this.literal();
        if (value !== null) return { type: 'range', field, op, value };
      }
    }
    this.pos = save;
    return null;
  }

  private fieldValueExpression(): KqlNode | null {
    const save = this.pos;
    const field = this.field();
    if (field !== null) {
      this.spaces();
      if (this.literalText(':')) {
        this.spaces();
        const values = this.listOfValues();
        if (values !== null) return values(field);
      }
    }
    this.pos = save;
    return null;
  }

  private valueExpression(): KqlNode | null {
    const value = this.value();
    return value === null ? null : value(null);
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Value lists                                                                               */
  /* ---------------------------------------------------------------------------------------- */

  private listOfValues(): ValueTree | null {
    const save = this.pos;
    if (this.literalText('(')) {
      this.spaces();
      const list = this.orListOfValues();
      if (list !== null) {
        this.spaces();
        if (this.literalText(')')) return list;
      }
      this.pos = save;
    }
    return this.value();
  }

  private orListOfValues(): ValueTree | null {
    const parts = this.series(() => this.andListOfValues(), () => this.or());
    if (parts === null) return null;
    return parts.length === 1 ? parts[0]! : (field) => ({ type: 'or', args: parts.map((p) => p(field)) });
  }

  private andListOfValues(): ValueTree | null {
    const parts = this.series(() => this.notListOfValues(), () => this.and());
    if (parts === null) return null;
    return parts.length === 1 ? parts[0]! : (field) => ({ type: 'and', args: parts.map((p) => p(field)) });
  }

  private notListOfValues(): ValueTree | null {
    const save = this.pos;
    if (this.not()) {
      const list = this.listOfValues();
      if (list !== null) return (field) => ({ type: 'not', arg: list(field) });
      this.pos = save;
    }
    return this.listOfValues();
  }

  /** Value "value" = QuotedString / UnquotedLiteral */
  private value(): ValueTree | null {
    const value = this.named('value', () => this.quotedString() ?? this.unquotedLiteral());
    return value === null ? null : (field) => ({ type: 'is', field, value });
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Keywords and operators                                                                    */
  /* ---------------------------------------------------------------------------------------- */

  /** Space+ word Space+ (Or, And) */
  private binaryKeyword(name: string, word: string): boolean {
    return (
      this.named(name, () => {
        if (!this.space()) return null;
        this.spaces();
        if (this.text.slice(this.pos, this.pos + word.length).toLowerCase() !== word) return null;
        this.pos += word.length;
        if (!this.space()) return null;
        this.spaces();
        return true;
      }) !== null
    );
  }

  private or(): boolean {
    return this.binaryKeyword('OR', 'or');
  }

  private and(): boolean {
    return this.binaryKeyword('AND', 'and');
  }

  /** Not = 'not'i Space+ */
  private not(): boolean {
    return (
      this.named('NOT', () => {
        if (this.text.slice(this.pos, this.pos + 3).toLowerCase() !== 'not') return null;
        this.pos += 3;
        if (!this.space()) return null;
        this.spaces();
        return true;
      }) !== null
    );
  }

  private rangeOperator(): RangeOperator | null {
    for (const [text, op] of RANGE_OPERATORS) {
      if (this.text.startsWith(text, this.pos)) {
        this.pos += text.length;
        return op;
      }
      this.expect(JSON.stringify(text));
    }
    return null;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Literals                                                                                  */
  /* ---------------------------------------------------------------------------------------- */

  /** Field "fieldName" = Literal */
  private field(): ValueNode | null {
    return this.named('field name', () => this.quotedString() ?? this.unquotedLiteral());
  }

  /** Literal "literal" = QuotedString / UnquotedLiteral */
  private literal(): ValueNode | null {
    return this.named('literal', () => this.quotedString() ?? this.unquotedLiteral());
  }

  /** QuotedString = '"' QuotedCharacter* '"' : a phrase, never a wildcard. */
  private quotedString(): LiteralNode | null {
    const save = this.pos;
    if (!this.literalText('"')) return null;
    let value = '';
    for (;;) {
      const c = readQuotedCharacter(this.text, this.pos);
      if (c === null) break;
      value += c.char;
      this.pos += c.length;
    }
    if (!this.literalText('"')) {
      this.pos = save;
      return null;
    }
    return { type: 'literal', value, quoted: true };
  }

  /**
   * UnquotedLiteral = UnquotedCharacter+ ; trimmed; `null`/`true`/`false` typed; with an
   * unescaped `*` a wildcard.
   */
  private unquotedLiteral(): ValueNode | null {
    const items: UnquotedItem[] = [];
    for (;;) {
      if (startsKeyword(this.text, this.pos)) break;
      const c = readUnquotedCharacter(this.text, this.pos);
      if (c === null) {
        this.expect('unquoted character');
        break;
      }
      items.push(c.item);
      this.pos += c.length;
    }
    if (items.length === 0) return null;
    while (items.length > 0 && isTrimmed(items[0]!)) items.shift();
    while (items.length > 0 && isTrimmed(items[items.length - 1]!)) items.pop();

    if (!items.includes(WILDCARD)) {
      const sequence = (items as string[]).join('');
      if (sequence === 'null') return { type: 'literal', value: null, quoted: false };
      if (sequence === 'true') return { type: 'literal', value: true, quoted: false };
      if (sequence === 'false') return { type: 'literal', value: false, quoted: false };
      return { type: 'literal', value: sequence, quoted: false };
    }
    const parts = [''];
    for (const item of items) {
      if (item === WILDCARD) parts.push('');
      else parts[parts.length - 1] += item;
    }
    return { type: 'wildcard', parts };
  }
}

/** String.prototype.trim's notion of whitespace, applied to one decoded character. */
function isTrimmed(item: UnquotedItem): boolean {
  return item !== WILDCARD && item.length === 1 && item.trim() === '';
}

/** Parses a KQL query. Throws KqlSyntaxError. The empty query is `match_all`. */
export function parseKql(query: string): KqlNode {
  return new Parser(query).start();
}
