/**
 * Regular expressions: RE2 syntax through re2js, which matches in time linear in the input
 * (no backtracking), so no rule can hang the engine. Matching is a search (unanchored), as in
 * Sigma / Python `re.search`; anchor with `^`/`$` for a whole-value match.
 *
 * Patterns RE2 cannot express (lookahead/lookbehind, backreferences, possessive quantifiers…)
 * are rejected when the rule compiles, with the pattern and the reason in the message.
 */
import { RE2JS } from 're2js';
import type { StringTest } from './values.js';

const FLAG_BITS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
};

/** Translates IR regex flags (`i`, `m`, `s`) to re2js flag bits; throws on any other flag. */
export function regexFlagBits(flags: string | undefined, pattern: string): number {
  let bits = 0;
  for (const f of flags ?? '') {
    const bit = FLAG_BITS[f];
    if (bit === undefined) throw new Error(`regex /${pattern}/: unknown flag '${f}' (supported: i, m, s)`);
    bits |= bit;
  }
  return bits;
}

/** Why RE2 rejects the pattern, in words a rule author understands. */
function explain(pattern: string, raw: string): string {
  if (/\(\?<?[=!]/.test(pattern)) return 'lookahead/lookbehind assertions are not supported by RE2 (linear-time matching)';
  if (/\\[1-9]/.test(pattern)) return 'backreferences are not supported by RE2 (linear-time matching)';
  if (/[*+?}][+]/.test(pattern)) return 'possessive quantifiers are not supported by RE2';
  if (/\(\?>/.test(pattern)) return 'atomic groups are not supported by RE2';
  return raw;
}

/** Compiles a pattern with RE2, or throws an Error naming the pattern and the reason. */
export function compileRegex(pattern: string, flags?: string): RE2JS {
  const bits = regexFlagBits(flags, pattern);
  try {
    return RE2JS.compile(pattern, bits);
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    throw new Error(`regex /${pattern}/ cannot be compiled: ${explain(pattern, raw)}`);
  }
}

/** A search test (unanchored) for one pattern. */
export function regexTest(pattern: string, flags?: string): StringTest {
  const re = compileRegex(pattern, flags);
  return (s) => re.test(s);
}
