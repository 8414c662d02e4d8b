/** Terms of a document for grouping stages (new_terms, threshold): one tuple per combination. */
import type { Json } from '../../event/types.js';

/** Every tuple taking one value from each list, in order, at most `max` of them (arrays multiply). */
export function cartesian(lists: Json[][], max: number): Json[][] {
  let out: Json[][] = [[]];
  for (const list of lists) {
    const next: Json[][] = [];
    for (const prefix of out) for (const v of list) if (next.length < max) next.push([...prefix, v]);
    out = next;
  }
  return out;
}
