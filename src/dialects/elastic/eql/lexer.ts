/**
 * EQL tokens. One lexer for both dialects; what only the Python engine accepts (single-quoted
 * strings, `?"raw"` strings, `:method(` calls) is an error in Elasticsearch syntax.
 *
 *  - whitespace and comments (`// ...`, `/* ... *\/`) separate tokens and are skipped;
 *  - a field path is one token: identifiers or `` `escaped` `` names joined by `.`, with array
 *    indexes `[0]` written directly after a name (`a[0].b`), no whitespace around the dots, so
 *    `by pid [process where true]` is a key followed by a subquery (the Python grammar's rule);
 *  - keywords are lower-case words (`and`, `where`...); `maxspan`, `runs`, `fork`, `any` and
 *    `of` are ordinary names, recognised by the parser where they are expected;
 *  - `name~` (`in~`, `like~`, `regex~`, `startsWith~`) is one token;
 *  - strings: `"..."` with escapes `\n \r \t \b \f \\ \" \'` and `\u{XXXX}` (2-8 hex digits),
 *    `"""raw"""` (no escapes, no line breaks); Python also `'...'`, `?"raw"`, `?'raw'`;
 *  - numbers: `12`, `1.5`, `.5`, `1e3`, `2.5E-2` (a sign is an operator).
 */
import { EqlSyntaxError } from './errors.js';

export type Syntax = 'elasticsearch' | 'python';

export const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'like',
  'regex',
  'where',
  'sequence',
  'sample',
  'join',
  'by',
  'with',
  'until',
  'true',
  'false',
  'null',
]);

export type FieldPart = { name: string } | { index: number };

export type Token =
  | { kind: 'field'; start: number; end: number; parts: FieldPart[]; name: string; escaped: boolean }
  | { kind: 'keyword'; start: number; end: number; value: string }
  /** `name~`: `in~`, `like~`, `regex~`, or an insensitive function name. */
  | { kind: 'tilde'; start: number; end: number; value: string }
  | { kind: 'string'; start: number; end: number; value: string; raw: boolean }
  | { kind: 'number'; start: number; end: number; value: number; text: string; integer: boolean }
  /** Python `:name(` (a method call on the value before it). */
  | { kind: 'method'; start: number; end: number; value: string }
  | { kind: 'op'; start: number; end: number; value: string }
  | { kind: 'eof'; start: number; end: number };

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', '=', ':', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '|', '!', '?'];

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_@]/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_@]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** How a token is shown in messages. */
export function describe(t: Token, text: string): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the query';
    case 'string':
      return `string ${text.slice(t.start, t.end)}`;
    case 'number':
      return `number ${t.text}`;
    case 'field':
      return `'${text.slice(t.start, t.end)}'`;
    default:
      return `'${text.slice(t.start, t.end)}'`;
  }
}

export function tokenize(text: string, syntax: Syntax): Token[] {
  const out: Token[] = [];
  const python = syntax === 'python';
  let i = 0;
  const fail = (at: number, reason: string): never => {
    throw new EqlSyntaxError(text, at, reason);
  };

  /** An identifier or `escaped` name at `i`; returns its text and the offset after it. */
  const readName = (at: number): { name: string; end: number; escaped: boolean } | undefined => {
    const c = text[at];
    if (c === '`') {
      let name = '';
      let j = at + 1;
      for (;;) {
        const d = text[j];
        if (d === undefined || d === '\n' || d === '\r') fail(at, 'unterminated `escaped` field name');
        if (d === '`') {
          if (text[j + 1] === '`') {
            name += '`';
            j += 2;
            continue;
          }
          break;
        }
        name += d;
        j++;
      }
      if (name === '') fail(at, 'empty `escaped` field name');
      return { name, end: j + 1, escaped: true };
    }
    if (!isIdentStart(c)) return undefined;
    let j = at + 1;
    while (isIdentPart(text[j])) j++;
    return { name: text.slice(at, j), end: j, escaped: false };
  };

  const readEscape = (at: number): { value: string; end: number } => {
    // text[at] is the backslash
    const c = text[at + 1];
    switch (c) {
      case 'n':
        return { value: '\n', end: at + 2 };
      case 'r':
        return { value: '\r', end: at + 2 };
      case 't':
        return { value: '\t', end: at + 2 };
      case 'b':
        return { value: '\b', end: at + 2 };
      case 'f':
        return { value: '\f', end: at + 2 };
      case '\\':
      case '"':
      case "'":
        return { value: c, end: at + 2 };
      case 'u': {
        const m = /^\{([0-9A-Fa-f]{2,8})\}/.exec(text.slice(at + 2, at + 14));
        if (!m) return fail(at, 'a unicode escape is \\u{XXXX}: 2 to 8 hexadecimal digits in braces');
        const code = parseInt(m[1]!, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(at, `\\u{${m[1]}} is not a unicode code point`);
        return { value: String.fromCodePoint(code), end: at + 2 + m[0].length };
      }
      default:
        return fail(at, `invalid escape sequence \\${c ?? ''} in a string`);
    }
  };

  const readQuoted = (start: number, quote: string): Token => {
    let value = '';
    let j = start + 1;
    for (;;) {
      const c = text[j];
      if (c === undefined || c === '\n' || c === '\r') return fail(start, 'unterminated string');
      if (c === quote) break;
      if (c === '\\') {
        const e = readEscape(j);
        value += e.value;
        j = e.end;
        continue;
      }
      value += c;
      j++;
    }
    return { kind: 'string', start, end: j + 1, value, raw: false };
  };

  /** Python `?"..."` / `?'...'`: no escapes, but `\"` does not end the string (and stays as written). */
  const readPythonRaw = (start: number, quote: string): Token => {
    let j = start + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined || c === '\n' || c === '\r') return fail(start, 'unterminated raw string');
      if (c === '\\' && text[j + 1] === quote) {
        j += 2;
        continue;
      }
      if (c === quote) break;
      j++;
    }
    return { kind: 'string', start, end: j + 1, value: text.slice(start + 2, j), raw: true };
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail(i, 'unterminated /* comment');
      i = end + 2;
      continue;
    }
    const start = i;

    // Strings.
    if (text.startsWith('"""', i)) {
      const close = text.indexOf('"""', i + 3);
      const nl = text.slice(i + 3, close < 0 ? text.length : close).search(/[\r\n]/);
      if (close < 0 || nl >= 0) fail(i, 'unterminated raw string """...""" (raw strings cannot span lines)');
      // Up to two more quotes belong to the string: """a""""" is a" + "
      let end = close + 3;
      let extra = 0;
      while (extra < 2 && text[end] === '"') {
        end++;
        extra++;
      }
      out.push({ kind: 'string', start, end, value: text.slice(i + 3, end - 3), raw: true });
      i = end;
      continue;
    }
    if (c === '"') {
      const t = readQuoted(i, '"');
      out.push(t);
      i = t.end;
      continue;
    }
    if (c === "'") {
      if (!python) fail(i, 'single-quoted strings are not supported in Elasticsearch EQL; use double quotes');
      const t = readQuoted(i, "'");
      out.push(t);
      i = t.end;
      continue;
    }
    if (c === '?' && (text[i + 1] === '"' || text[i + 1] === "'")) {
      if (!python) fail(i, '?"..." raw strings are not supported in Elasticsearch EQL; use """..."""');
      const t = readPythonRaw(i, text[i + 1]!);
      out.push(t);
      i = t.end;
      continue;
    }

    // Numbers.
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1]))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i))!;
      const t = m[0];
      const value = Number(t);
      if (!Number.isFinite(value)) fail(i, `number ${t} is out of range`);
      out.push({ kind: 'number', start, end: i + t.length, value, text: t, integer: /^\d+$/.test(t) });
      i += t.length;
      continue;
    }

    // Names, field paths, keywords, `name~`.
    if (isIdentStart(c) || c === '`') {
      const first = readName(i)!;
      let j = first.end;
      if (!first.escaped && text[j] === '~') {
        out.push({ kind: 'tilde', start, end: j + 1, value: first.name });
        i = j + 1;
        continue;
      }
      const parts: FieldPart[] = [{ name: first.name }];
      let escaped = first.escaped;
      for (;;) {
        if (text[j] === '.' && (isIdentStart(text[j + 1]) || text[j + 1] === '`')) {
          const n = readName(j + 1)!;
          parts.push({ name: n.name });
          escaped ||= n.escaped;
          j = n.end;
          continue;
        }
        if (text[j] === '[') {
          const m = /^\[\s*(\d+)\s*\]/.exec(text.slice(j));
          if (m) {
            parts.push({ index: Number(m[1]) });
            j += m[0].length;
            continue;
          }
        }
        break;
      }
      if (parts.length === 1 && !escaped && KEYWORDS.has(first.name)) {
        out.push({ kind: 'keyword', start, end: j, value: first.name });
      } else {
        const name = parts.map((p, k) => ('index' in p ? `[${p.index}]` : k === 0 ? p.name : `.${p.name}`)).join('');
        out.push({ kind: 'field', start, end: j, parts, name, escaped });
      }
      i = j;
      continue;
    }

    // Python method call `:name(`.
    if (python && c === ':' && isIdentStart(text[i + 1])) {
      const n = readName(i + 1)!;
      if (text[n.end] === '(') {
        out.push({ kind: 'method', start, end: n.end + 1, value: n.name });
        i = n.end + 1;
        continue;
      }
    }

    if (c === '!' && text[i + 1] === ':') fail(i, "'!:' is not an Elasticsearch EQL operator; write `not field : value`");
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) fail(i, `unexpected character '${c}'`);
    out.push({ kind: 'op', start, end: i + op!.length, value: op! });
    i += op!.length;
  }
  out.push({ kind: 'eof', start: text.length, end: text.length });
  return out;
}
