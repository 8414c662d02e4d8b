/**
 * KQL characters and escapes (grammar.peggy `QuotedCharacter`, `UnquotedCharacter`, `Keyword`).
 *
 * Inside double quotes: `\"`, `\\`, `\t`, `\r`, `\n` and `\uXXXX` are escapes; any other
 * backslash is itself (`"a\d"` is `a\d`); `*` is an ordinary character.
 *
 * Unquoted, tried in this order:
 *   `\t` `\r` `\n`                    whitespace characters
 *   `\` + one of  \ ( ) : < > " * { }  that character, literally (`\*` is a star, not a wildcard)
 *   `\uXXXX`                          the UTF-16 code unit
 *   `\or` `\and` `\not` (any case)    the word, not the keyword
 *   `*`                               the wildcard
 *   anything but a special character, at a place where no keyword starts.
 * So a backslash before any other character is a syntax error, and `\not` reads as a newline
 * followed by `ot` (the `\n` escape comes first), exactly as in Kibana.
 */

/** The unquoted wildcard, distinct from any decoded character. */
export const WILDCARD: unique symbol = Symbol('kql-wildcard');
export type UnquotedItem = string | typeof WILDCARD;

const SPECIAL = new Set(['\\', '(', ')', ':', '<', '>', '"', '*', '{', '}']);
const ESCAPED_WHITESPACE: Record<string, string> = { t: '\t', r: '\r', n: '\n' };
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Space = [ \t\r\n\u00A0\uFEFF] */
export function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\u00A0' || c === '\uFEFF';
}

/** `\uXXXX` at `at` (pointing at the backslash): the character, or null. */
function unicodeEscape(text: string, at: number): string | null {
  if (text[at + 1] !== 'u') return null;
  const hex = text.slice(at + 2, at + 6);
  return HEX4.test(hex) ? String.fromCharCode(parseInt(hex, 16)) : null;
}

/** One QuotedCharacter at `at`, or null at the closing quote / end of input. */
export function readQuotedCharacter(text: string, at: number): { char: string; length: number } | null {
  const c = text[at];
  if (c === undefined || c === '"') return null;
  if (c === '\\') {
    const next = text[at + 1];
    if (next !== undefined && ESCAPED_WHITESPACE[next] !== undefined) return { char: ESCAPED_WHITESPACE[next]!, length: 2 };
    const unicode = unicodeEscape(text, at);
    if (unicode !== null) return { char: unicode, length: 6 };
    if (next === '\\' || next === '"') return { char: next, length: 2 };
  }
  return { char: c, length: 1 };
}

/** One UnquotedCharacter at `at`, or null where an unquoted literal must end. */
export function readUnquotedCharacter(text: string, at: number): { item: UnquotedItem; length: number } | null {
  const c = text[at];
  if (c === undefined) return null;
  if (c === '\\') {
    const next = text[at + 1];
    if (next === undefined) return null;
    if (ESCAPED_WHITESPACE[next] !== undefined) return { item: ESCAPED_WHITESPACE[next]!, length: 2 };
    if (SPECIAL.has(next)) return { item: next, length: 2 };
    const unicode = unicodeEscape(text, at);
    if (unicode !== null) return { item: unicode, length: 6 };
    for (const word of ['or', 'and', 'not']) {
      const written = text.slice(at + 1, at + 1 + word.length);
      if (written.toLowerCase() === word) return { item: written, length: 1 + word.length };
    }
    return null;
  }
  if (c === '*') return { item: WILDCARD, length: 1 };
  if (SPECIAL.has(c)) return null;
  return { item: c, length: 1 };
}

/**
 * Keyword = Or / And / Not, i.e. `Space+ or Space+`, `Space+ and Space+` or `not Space+`
 * (case-insensitive) starting at `at`. An unquoted literal never runs into one.
 */
export function startsKeyword(text: string, at: number): boolean {
  if (isSpace(text[at])) {
    let i = at;
    while (isSpace(text[i])) i++;
    for (const word of ['or', 'and']) {
      if (text.slice(i, i + word.length).toLowerCase() === word && isSpace(text[i + word.length])) return true;
    }
    return false;
  }
  return text.slice(at, at + 3).toLowerCase() === 'not' && isSpace(text[at + 3]);
}
