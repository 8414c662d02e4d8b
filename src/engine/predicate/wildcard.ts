/**
 * Glob patterns of the IR `wildcard` operator.
 *
 * Syntax (canonical, see src/ir/types.ts): `*` matches any run of characters (including none),
 * `?` exactly one character (one Unicode code point); `\*`, `\?` and `\\` are the literal
 * characters; a backslash before anything else is a literal backslash. The match is on the
 * whole value.
 *
 * A pattern is classified once: most real patterns are really equality, prefix, suffix or
 * substring tests and compile to `===`, `startsWith`, `endsWith`, `includes`. The rest run on
 * a small segment matcher (no RegExp): the segments between stars are matched left to right,
 * each at its leftmost possible position, which is sufficient for globs (a leftmost match
 * never prevents a later segment from matching). Time is O(length of value × length of
 * pattern), with no backtracking across stars.
 */
import type { StringTest } from './values.js';

/** A segment item: literal text, or `?` (one code point). */
export const ONE = 0;
export type SegmentItem = string | typeof ONE;
export type Segment = SegmentItem[];

export type GlobToken = { kind: 'lit'; text: string } | { kind: 'any' } | { kind: 'one' };

export type GlobShape =
  | { kind: 'eq'; text: string }
  | { kind: 'prefix'; text: string }
  | { kind: 'suffix'; text: string }
  | { kind: 'contains'; text: string }
  /** `*`: any string at all. */
  | { kind: 'anything' }
  /** General glob: segments separated by `*`; the first and last may be empty (leading/trailing star). */
  | { kind: 'glob'; segments: Segment[] };

/** Tokenises the canonical wildcard syntax. Adjacent literal characters form one token. */
export function parseWildcard(pattern: string): GlobToken[] {
  const out: GlobToken[] = [];
  let lit = '';
  const flush = () => {
    if (lit !== '') out.push({ kind: 'lit', text: lit });
    lit = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else {
        lit += '\\';
      }
    } else if (c === '*') {
      flush();
      if (out.length === 0 || out[out.length - 1]!.kind !== 'any') out.push({ kind: 'any' });
    } else if (c === '?') {
      flush();
      out.push({ kind: 'one' });
    } else {
      lit += c;
    }
  }
  flush();
  return out;
}

/** Escapes literal text into the canonical wildcard syntax. */
export function escapeWildcard(text: string): string {
  let out = '';
  for (const c of text) out += c === '*' || c === '?' || c === '\\' ? '\\' + c : c;
  return out;
}

/** Classifies a pattern; `fold` lower-cases literal text (case-insensitive matching). */
export function classifyWildcard(pattern: string, fold: boolean): GlobShape {
  const tokens = parseWildcard(pattern).map((t): GlobToken =>
    t.kind === 'lit' && fold ? { kind: 'lit', text: t.text.toLowerCase() } : t,
  );
  const hasOne = tokens.some((t) => t.kind === 'one');
  const stars = tokens.filter((t) => t.kind === 'any').length;
  const lits = tokens.filter((t): t is { kind: 'lit'; text: string } => t.kind === 'lit');

  if (!hasOne) {
    if (stars === 0) return { kind: 'eq', text: lits[0]?.text ?? '' };
    if (lits.length === 0) return { kind: 'anything' };
    if (lits.length === 1) {
      const first = tokens[0]!.kind === 'any';
      const last = tokens[tokens.length - 1]!.kind === 'any';
      const text = lits[0]!.text;
      if (first && last) return { kind: 'contains', text };
      if (first) return { kind: 'suffix', text };
      if (last) return { kind: 'prefix', text };
    }
  }

  const segments: Segment[] = [[]];
  for (const t of tokens) {
    if (t.kind === 'any') segments.push([]);
    else segments[segments.length - 1]!.push(t.kind === 'one' ? ONE : t.text);
  }
  return { kind: 'glob', segments };
}

/** Compiles a classified pattern to a string test. */
export function compileGlobShape(shape: GlobShape): StringTest {
  switch (shape.kind) {
    case 'eq': {
      const t = shape.text;
      return (s) => s === t;
    }
    case 'prefix': {
      const t = shape.text;
      return (s) => s.startsWith(t);
    }
    case 'suffix': {
      const t = shape.text;
      return (s) => s.endsWith(t);
    }
    case 'contains': {
      const t = shape.text;
      return (s) => s.includes(t);
    }
    case 'anything':
      return () => true;
    case 'glob':
      return compileSegments(shape.segments);
  }
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Matches `seg` starting at `i`; returns the end index or -1. */
function matchForward(s: string, seg: Segment, i: number): number {
  for (let k = 0; k < seg.length; k++) {
    const item = seg[k]!;
    if (item === ONE) {
      if (i >= s.length) return -1;
      i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
    } else {
      if (!s.startsWith(item, i)) return -1;
      i += item.length;
    }
  }
  return i;
}

/** Matches `seg` so that it ends at `end`; returns the start index or -1. */
function matchBackward(s: string, seg: Segment, end: number): number {
  let i = end;
  for (let k = seg.length - 1; k >= 0; k--) {
    const item = seg[k]!;
    if (item === ONE) {
      if (i <= 0) return -1;
      i -= isLow(s.charCodeAt(i - 1)) && i >= 2 && isHigh(s.charCodeAt(i - 2)) ? 2 : 1;
    } else {
      const start = i - item.length;
      if (start < 0 || !s.startsWith(item, start)) return -1;
      i = start;
    }
  }
  return i;
}

/** Leftmost occurrence of `seg` at or after `from` that ends at or before `limit`; returns its end or -1. */
function findForward(s: string, seg: Segment, from: number, limit: number): number {
  const head = seg[0];
  if (typeof head === 'string') {
    for (let at = s.indexOf(head, from); at >= 0 && at <= limit; at = s.indexOf(head, at + 1)) {
      const end = matchForward(s, seg, at);
      if (end >= 0 && end <= limit) return end;
    }
    return -1;
  }
  for (let at = from; at <= limit; at++) {
    const end = matchForward(s, seg, at);
    if (end >= 0 && end <= limit) return end;
  }
  return -1;
}

function compileSegments(segments: Segment[]): StringTest {
  if (segments.length === 1) {
    const only = segments[0]!;
    return (s) => matchForward(s, only, 0) === s.length;
  }
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1);
  return (s) => {
    let pos = matchForward(s, first, 0);
    if (pos < 0) return false;
    const lastStart = matchBackward(s, last, s.length);
    if (lastStart < pos) return false;
    for (let k = 0; k < middle.length; k++) {
      pos = findForward(s, middle[k]!, pos, lastStart);
      if (pos < 0) return false;
    }
    return true;
  };
}
