/**
 * What a dialect provides. Each dialect lives in its own folder `src/dialects/<name>/` with a
 * `dialect.ts` exporting `dialect: DialectModule`; the rule loader discovers the folders at run
 * time, so adding a dialect touches nothing outside its folder.
 */
import type { Dialect, RuleIR, UnsupportedRule } from '../ir/types.js';

export interface DialectOptions {
  /** Sigma `|expand` placeholders: name -> values. */
  placeholders?: Record<string, string[]>;
}

export interface ParsedRules {
  rules: RuleIR[];
  unsupported: UnsupportedRule[];
}

export interface DialectModule {
  name: Dialect;
  /** File name endings this dialect may read (lower-case, with the dot). */
  extensions: string[];
  /** Cheap content test: is this text a rule file of this dialect? */
  recognise(text: string, file: string): boolean;
  /** Parse one file. Throws RuleError (src/dialects/errors.ts) with a position for bad rules. */
  parse(text: string, file: string, options: DialectOptions): ParsedRules;
}
