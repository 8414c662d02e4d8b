/**
 * Keyword search (Sigma keyword lists): a value matches when any string-ish leaf anywhere in
 * the event document matches it. Leaves are the values of the document (object keys are not
 * searched), walked recursively through objects and arrays; with `coerce: 'string'` numbers
 * and booleans take part by their string form, with 'typed' only strings do. JSON null never
 * matches.
 *
 * The leaf list of an event is computed once per event and view (raw or case-folded) and kept
 * in `ev.cache`, so many keyword rules share one walk of the document.
 */
import type { CanonicalEvent } from '../../event/types.js';
import type { CompareOptions } from '../../ir/types.js';
import type { EventTest } from './compare.js';
import { regexTest } from './regex.js';
import { anyStringTest, orTests, stringTests } from './strings.js';
import type { StringTest } from './values.js';

export type KeywordOp = 'eq' | 'wildcard' | 'contains' | 'regex';

function collectLeaves(node: unknown, typed: boolean, out: string[]): void {
  if (node === null || node === undefined) return;
  if (typeof node === 'string') {
    out.push(node);
  } else if (typeof node === 'number' || typeof node === 'boolean') {
    if (!typed) out.push(String(node));
  } else if (Array.isArray(node)) {
    for (const el of node) collectLeaves(el, typed, out);
  } else if (typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const k in obj) collectLeaves(obj[k], typed, out);
  }
}

/** The event's leaf strings for a view, cached on the event. */
function leavesOf(ev: CanonicalEvent, typed: boolean, fold: boolean): string[] {
  const key = `predicate.keyword.${typed ? 'typed' : 'string'}.${fold ? 'folded' : 'raw'}`;
  const cached = ev.cache.get(key) as string[] | undefined;
  if (cached) return cached;
  let leaves: string[];
  if (fold) {
    leaves = leavesOf(ev, typed, false).map((s) => s.toLowerCase());
  } else {
    leaves = [];
    collectLeaves(ev.doc, typed, leaves);
  }
  ev.cache.set(key, leaves);
  return leaves;
}

function anyLeaf(leaves: string[], test: StringTest): boolean {
  for (let i = 0; i < leaves.length; i++) if (test(leaves[i]!)) return true;
  return false;
}

export function compileKeyword(op: KeywordOp, values: string[], options: CompareOptions = {}): EventTest {
  if (values.length === 0) return () => false;
  const typed = options.coerce === 'typed';
  const fold = op !== 'regex' && !(options.caseSensitive ?? false);

  if (options.all && values.length > 1) {
    const each =
      op === 'regex' ? values.map((p) => regexTest(p, options.flags)) : stringTests(op, values, fold);
    return (ev) => {
      const leaves = leavesOf(ev, typed, fold);
      for (let i = 0; i < each.length; i++) if (!anyLeaf(leaves, each[i]!)) return false;
      return true;
    };
  }
  const test =
    op === 'regex' ? orTests(values.map((p) => regexTest(p, options.flags))) : anyStringTest(op, values, fold);
  return (ev) => anyLeaf(leavesOf(ev, typed, fold), test);
}
