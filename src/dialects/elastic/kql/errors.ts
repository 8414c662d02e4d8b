/**
 * KQL errors. Positions are 0-based offsets into the query; `line`/`column` are 1-based.
 * `excerpt` is the query line with a caret under the position, as Kibana's KQLSyntaxError shows it:
 *
 *     okta.event_type: (user.session.start or
 *     -----------------^
 */

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

/** The query is not KQL (grammar.ts). */
export class KqlSyntaxError extends Error {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly excerpt: string;
  /** The message without the excerpt. */
  readonly reason: string;

  constructor(query: string, offset: number, reason: string) {
    const { line, column, lineText } = locate(query, offset);
    const excerpt = caretExcerpt(lineText, column);
    super(`${reason}\n${excerpt}`);
    this.name = 'KqlSyntaxError';
    this.offset = offset;
    this.line = line;
    this.column = column;
    this.excerpt = excerpt;
    this.reason = reason;
  }
}

/** Valid KQL whose meaning cannot be reproduced on events here (to-ir.ts). */
export class KqlUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KqlUnsupportedError';
  }
}
