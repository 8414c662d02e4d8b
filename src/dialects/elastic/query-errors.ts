/**
 * Syntax errors of an Elastic rule's query (KQL and EQL alike). Positions are 0-based offsets
 * into the query; `line`/`column` are 1-based; `excerpt` is the query line with a caret under
 * the position, as Kibana's KQLSyntaxError shows it:
 *
 *     okta.event_type: (user.session.start or
 *     -----------------^
 *
 * `queryErrorInFile` moves the position from the query into the rule file when the query is
 * written there verbatim, so the user is pointed at the file's line and column.
 */
import { RuleError } from '../errors.js';

/** Where an offset falls in a text: 1-based line and column, and that line's text. */
export function locate(text: string, offset: number): { line: number; column: number; lineText: string } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  const lineText = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '');
  return { line, column: offset - lineStart + 1, lineText };
}

/** The line and a caret line pointing at `column` (1-based). */
export function caretExcerpt(lineText: string, column: number): string {
  return `${lineText}\n${'-'.repeat(column - 1)}^`;
}

/** A query that is not valid in its language; subclasses name the language. */
export class QuerySyntaxError extends Error {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly excerpt: string;
  /** The message without the excerpt. */
  readonly reason: string;

  /** `positionInMessage`: the message also says `(line L, column C)` before the excerpt. */
  constructor(query: string, offset: number, reason: string, positionInMessage = false) {
    const { line, column, lineText } = locate(query, offset);
    const excerpt = caretExcerpt(lineText, column);
    super(`${reason}${positionInMessage ? ` (line ${line}, column ${column})` : ''}\n${excerpt}`);
    this.offset = offset;
    this.line = line;
    this.column = column;
    this.excerpt = excerpt;
    this.reason = reason;
  }
}

/** Where the query's text starts in the file, when it is written there verbatim (once). */
function queryOffsetInFile(text: string, query: string): number | undefined {
  const at = text.indexOf(query);
  return at >= 0 && text.indexOf(query, at + 1) < 0 ? at : undefined;
}

/** A query syntax error as a rule-file error: at its place in the file when it can be found there. */
export function queryErrorInFile(language: string, e: QuerySyntaxError, text: string, query: string, file: string): RuleError {
  const start = queryOffsetInFile(text, query);
  if (start === undefined) {
    return new RuleError(file, `invalid ${language} in query (query line ${e.line}, column ${e.column}): ${e.reason}\n${e.excerpt}`);
  }
  const at = locate(text, start + e.offset);
  return new RuleError(file, `invalid ${language} in query: ${e.reason}\n${caretExcerpt(at.lineText, at.column)}`, at.line, at.column);
}
