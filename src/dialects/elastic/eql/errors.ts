/**
 * EQL errors. Positions are 0-based offsets into the query; `line`/`column` are 1-based and
 * `excerpt` is the query line with a caret under the position (the KQL errors' format):
 *
 *     sequence by user.name with maxspan=30x
 *     -----------------------------------^
 */
import { QuerySyntaxError } from '../query-errors.js';

/** The query is not EQL (lexer.ts, parser.ts). */
export class EqlSyntaxError extends QuerySyntaxError {
  constructor(query: string, offset: number, reason: string) {
    super(query, offset, reason, true);
    this.name = 'EqlSyntaxError';
  }
}

/**
 * Valid EQL whose meaning cannot be reproduced here (to-ir.ts): `construct` names it
 * (`join`, `descendant of`, `| unique`, `function arraySearch`...), `message` says why.
 */
export class EqlUnsupportedError extends Error {
  readonly construct: string;
  /** Offset of the construct in the query, when known. */
  readonly offset: number | undefined;

  constructor(construct: string, message: string, offset?: number) {
    super(message);
    this.name = 'EqlUnsupportedError';
    this.construct = construct;
    this.offset = offset;
  }
}

/**
 * Valid syntax, invalid query (Elasticsearch's verification errors), found by the translation
 * (to-ir.ts): an unknown function, a wrong number of arguments, steps with different numbers of
 * join keys. `offset` is the place in the query; callers with the query text report it as an
 * EqlSyntaxError there (`toSyntaxError`).
 */
export class EqlQueryError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'EqlQueryError';
    this.offset = offset;
  }

  /** The same error with line, column and caret in `query`. */
  toSyntaxError(query: string): EqlSyntaxError {
    return new EqlSyntaxError(query, this.offset, this.message);
  }
}
