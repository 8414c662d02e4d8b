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

/** The first line of a `yaml` package error, without its own "at line L, column C:" (the caller gives the position). */
export function yamlErrorReason(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
