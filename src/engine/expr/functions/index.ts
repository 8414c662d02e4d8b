/**
 * The engine's one function registry: every function a value expression may call, with its
 * arity and case behaviour. A name missing here (or a call with the wrong number of arguments)
 * makes the rule unsupported, by name, when it compiles.
 *
 * Elasticsearch EQL: add, between, cidrMatch, concat, divide, endsWith, indexOf, length, modulo,
 * multiply, number, startsWith, string, stringContains, substring, subtract (`fn~` = the call's
 * `caseInsensitive`). Python `eql` engine extras: arrayContains, arrayCount, arraySearch, match,
 * matchLite, safe, wildcard. Each function documents its null, type and multi-value rules in
 * its own file.
 */
import { add, divide, modulo, multiply, subtract } from './math.js';
import { arrayContains, arrayCount, arraySearch } from './arrays.js';
import { between } from './between.js';
import { cidrMatch } from './cidr-match.js';
import { concat } from './concat.js';
import { number, string } from './convert.js';
import { endsWith, startsWith, stringContains } from './affix.js';
import { indexOf } from './index-of.js';
import { length } from './length.js';
import { match, matchLite, wildcard } from './patterns.js';
import { safe } from './safe.js';
import { substring } from './substring.js';
import type { FunctionDef } from './types.js';

export type { ArgKind, CallContext, CompileContext, FunctionDef } from './types.js';
export { arith, type ArithOp } from './math.js';
export { variablePath } from './arrays.js';

const ALL: FunctionDef[] = [
  add,
  arrayContains,
  arrayCount,
  arraySearch,
  between,
  cidrMatch,
  concat,
  divide,
  endsWith,
  indexOf,
  length,
  match,
  matchLite,
  modulo,
  multiply,
  number,
  safe,
  startsWith,
  string,
  stringContains,
  substring,
  subtract,
  wildcard,
];

export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(ALL.map((f) => [f.name, f]));
const BY_LOWER = new Map(ALL.map((f) => [f.name.toLowerCase(), f]));

/** The registry entry for a name (exact, then ignoring case, as Elasticsearch resolves names). */
export function lookupFunction(name: string): FunctionDef | undefined {
  return FUNCTIONS.get(name) ?? BY_LOWER.get(name.toLowerCase());
}

export function functionNames(): string[] {
  return ALL.map((f) => f.name);
}
