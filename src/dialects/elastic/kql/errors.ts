/**
 * KQL errors (positions and excerpts: ../query-errors.ts).
 */

import { QuerySyntaxError } from '../query-errors.js';

export { caretExcerpt, locate } from '../query-errors.js';

/** The query is not KQL (grammar.ts). */
export class KqlSyntaxError extends QuerySyntaxError {
  constructor(query: string, offset: number, reason: string) {
    super(query, offset, reason);
    this.name = 'KqlSyntaxError';
  }
}

/** Valid KQL whose meaning cannot be reproduced on events here (to-ir.ts). */
export class KqlUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KqlUnsupportedError';
  }
}
