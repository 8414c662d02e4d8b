/**
 * A rule file that cannot be read as a rule of its dialect. The message names the file and,
 * when known, the position: `rules/x.yml:12:7: unknown search identifier 'filter'`.
 */
export class RuleError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  /** The message without the `file:line:col: ` prefix. */
  readonly detail: string;

  constructor(file: string, message: string, line?: number, col?: number) {
    const where = line === undefined ? file : col === undefined ? `${file}:${line}` : `${file}:${line}:${col}`;
    super(`${where}: ${message}`);
    this.name = 'RuleError';
    this.file = file;
    this.detail = message;
    if (line !== undefined) this.line = line;
    if (col !== undefined) this.col = col;
  }
}
