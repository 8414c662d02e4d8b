/**
 * Wildcard and regex patterns (the `match` node and the wildcard()/match() functions), compiled
 * once per rule. A list of patterns is one test (any pattern matching).
 *
 * Wildcards:
 *  - 'elasticsearch' (`:`, `like`, `like~`): `*` any run, `?` one character, `\*` `\?` `\\` literal
 *    (the IR's canonical glob syntax, src/engine/predicate/wildcard.ts), whole value;
 *  - 'python' (`wildcard()`, `:`/`like` in the Python engine): only `*` is special, every other
 *    character (`?`, `\`) is literal; whole value.
 * Regexes (RE2, linear time; what RE2 cannot express is a compile error naming the pattern):
 *  - 'elasticsearch' (`regex`, `regex~`): Lucene regexp semantics: the pattern must match the
 *    whole value; `.` matches newlines too. (Lucene's own operators `@`, `&`, `~`, `<n-m>`, `#`
 *    are not supported: the pattern is read as RE2 syntax.)
 *  - 'python' (`match()`, `regex`): `re.match` with DOTALL: anchored at the start only.
 * Case: folded (lower case on both sides) when the node is case-insensitive.
 */
import type { ExprSemantics } from '../../ir/types.js';
import { compileRegex } from '../predicate/regex.js';
import { classifyWildcard, compileGlobShape } from '../predicate/wildcard.js';
import { isNull, type Kleene } from './values.js';

export type StringTest = (s: string) => boolean;

/** Escapes a Python-engine wildcard (only `*` special) into the canonical glob syntax. */
function pythonGlob(pattern: string): string {
  let out = '';
  for (const c of pattern) out += c === '?' || c === '\\' ? '\\' + c : c;
  return out;
}

export function wildcardTest(patterns: string[], ci: boolean, flavour: ExprSemantics): StringTest {
  const tests = patterns.map((p) => compileGlobShape(classifyWildcard(flavour === 'python' ? pythonGlob(p) : p, ci)));
  const any: StringTest =
    tests.length === 1
      ? tests[0]!
      : (s) => {
          for (let i = 0; i < tests.length; i++) if (tests[i]!(s)) return true;
          return false;
        };
  return ci ? (s) => any(s.toLowerCase()) : any;
}

export function regexTest(patterns: string[], ci: boolean, flavour: ExprSemantics): StringTest {
  const body = patterns.map((p) => `(?:${p})`).join('|');
  const anchored = flavour === 'python' ? `^(?:${body})` : `^(?:${body})$`;
  let re;
  try {
    re = compileRegex(anchored, ci ? 'si' : 's');
  } catch {
    // name the offending pattern, not the anchored union
    for (const p of patterns) compileRegex(p, ci ? 'si' : 's');
    re = compileRegex(anchored, ci ? 'si' : 's');
  }
  return (s) => re.test(s);
}

/**
 * Applies a string test to a value: strings are tested; null is null; Elasticsearch tests numbers
 * and booleans by their string form and a multi-valued value by any element; Python gives null
 * for anything that is not a string (`is_string` check).
 */
export function testValue(test: StringTest, v: unknown, semantics: ExprSemantics): Kleene {
  if (typeof v === 'string') return test(v);
  if (isNull(v)) return null;
  if (semantics === 'python') return null;
  if (typeof v === 'number' || typeof v === 'boolean') return test(String(v));
  if (Array.isArray(v)) {
    let sawFalse = false;
    for (let i = 0; i < v.length; i++) {
      const r = testValue(test, v[i], semantics);
      if (r === true) return true;
      if (r === false) sawFalse = true;
    }
    return sawFalse ? false : null;
  }
  return null;
}
