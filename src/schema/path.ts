/**
 * Dotted-path access into JSON documents, compiled once per field name.
 *
 * Semantics (shared by every schema):
 *  - `a.b.c` walks nested objects; at each level the exact key is tried first, then (when the
 *    path is case-insensitive) a key equal ignoring case, then literal keys that contain dots
 *    (`p_enrichment.ipinfo_privacy.client.ipAddress` finds the key `client.ipAddress`, and a
 *    flat Kibana key like `kibana.alert.rule.rule_id` is found at the top level).
 *  - Arrays met on the way are traversed: the result collects the values of every element
 *    ("any element matches" is then the matchers' job). A leaf array is flattened into it.
 *  - The result is `undefined` when nothing is found, the single value when exactly one
 *    path was followed without arrays, else an array of the values found.
 *  - `[n]` after a name (`a[0].b`, `a.b[1][2]`: EQL array indexes) takes element n of the value
 *    found so far instead of traversing it: the n-th element of an array (undefined when it has
 *    fewer; a scalar or an object has no elements). When arrays were traversed before the index,
 *    it is the n-th of the values collected. Paths without `[` compile exactly as before.
 */

export type Getter = (doc: unknown) => unknown;

export interface PathOptions {
  caseInsensitive?: boolean;
}

/** Find `key` in `obj`: exact, then ignoring case (when asked). */
function lookup(obj: Record<string, unknown>, key: string, lower: string, ci: boolean): unknown {
  const direct = obj[key];
  if (direct !== undefined || !ci) return direct;
  for (const k in obj) {
    if (k.length === key.length && k.toLowerCase() === lower) return obj[k];
  }
  return undefined;
}

/** `name[0][1]`: a segment with array indexes. */
const INDEXED = /\[\d+\]/;
const INDEXES = /^((?:[^[\]]|\.)*?)((?:\[\d+\])+)(?=\.|$)/;

/**
 * A path with `[n]` indexes: name runs (compiled as plain paths) and indexes, applied in turn.
 * Slower than a plain path (one closure per part), so only used when the path has an index.
 */
function compileIndexedPath(path: string, options: PathOptions): Getter {
  type Part = { get: Getter } | { index: number };
  const parts: Part[] = [];
  let rest = path;
  while (rest !== '') {
    const m = INDEXES.exec(rest);
    if (!m) {
      parts.push({ get: compilePlainPath(rest, options) });
      break;
    }
    if (m[1] !== '') parts.push({ get: compilePlainPath(m[1]!, options) });
    for (const x of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push({ index: Number(x[1]) });
    rest = rest.slice(m[0].length).replace(/^\./, '');
  }
  return (doc) => {
    let node: unknown = doc;
    for (const part of parts) {
      if (node === undefined) return undefined;
      if ('index' in part) node = Array.isArray(node) ? node[part.index] : undefined;
      else node = part.get(node);
    }
    return node === null ? null : node;
  };
}

export function compilePath(path: string, options: PathOptions = {}): Getter {
  return INDEXED.test(path) ? compileIndexedPath(path, options) : compilePlainPath(path, options);
}

function compilePlainPath(path: string, options: PathOptions): Getter {
  const ci = options.caseInsensitive ?? false;
  const segs = path.split('.');
  const lowers = segs.map((s) => s.toLowerCase());
  // joined[i][j] = segs[i..j] joined with '.', for literal dotted keys.
  const joined: string[][] = segs.map((_, i) => segs.map((__, j) => (j >= i ? segs.slice(i, j + 1).join('.') : '')));
  const joinedLower = joined.map((row) => row.map((s) => s.toLowerCase()));
  const n = segs.length;

  // Fast path for the common case: one segment, no arrays.
  if (n === 1) {
    const key = segs[0]!;
    const lower = lowers[0]!;
    return (doc) => {
      if (doc === null || typeof doc !== 'object') return undefined;
      if (Array.isArray(doc)) {
        const out: unknown[] = [];
        for (const el of doc) collect(el, 0, out);
        return finish(out);
      }
      return lookup(doc as Record<string, unknown>, key, lower, ci);
    };
  }

  function step(obj: Record<string, unknown>, i: number): { value: unknown; next: number } | undefined {
    const v = lookup(obj, segs[i]!, lowers[i]!, ci);
    if (v !== undefined) return { value: v, next: i + 1 };
    for (let j = i + 1; j < n; j++) {
      const w = lookup(obj, joined[i]![j]!, joinedLower[i]![j]!, ci);
      if (w !== undefined) return { value: w, next: j + 1 };
    }
    return undefined;
  }

  function collect(node: unknown, i: number, out: unknown[]): void {
    if (i === n) {
      if (Array.isArray(node)) for (const el of node) out.push(el);
      else out.push(node);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const el of node) collect(el, i, out);
      return;
    }
    const s = step(node as Record<string, unknown>, i);
    if (s) collect(s.value, s.next, out);
  }

  function finish(out: unknown[]): unknown {
    if (out.length === 0) return undefined;
    return out;
  }

  return (doc) => {
    // Walk without allocating while there are no arrays.
    let node: unknown = doc;
    let i = 0;
    while (i < n) {
      if (node === null || typeof node !== 'object') return undefined;
      if (Array.isArray(node)) {
        const out: unknown[] = [];
        for (const el of node) collect(el, i, out);
        return finish(out);
      }
      const s = step(node as Record<string, unknown>, i);
      if (!s) return undefined;
      node = s.value;
      i = s.next;
    }
    return node;
  };
}

/** Read a path once (compiles every call: use compilePath in hot code). */
export function getPath(doc: unknown, path: string, options?: PathOptions): unknown {
  return compilePath(path, options)(doc);
}
