/**
 * YAML loading for Sigma files, keeping a source position on every node so errors can point
 * at the line and column of what is wrong.
 *
 * Typing follows pySigma, which reads rules with PyYAML (YAML 1.1): unquoted `yes/no/on/off`
 * are booleans, `0x17` is an integer, quoted scalars are always strings. Two corrections to
 * the `yaml` package's 1.1 schema make it behave like PyYAML: the single letters `y`/`n` stay
 * strings, and timestamps (`2023-09-07`) stay the text that was written. Duplicate keys are an
 * error (pySigma's loader rejects them). Anchors, aliases and `<<` merge keys are resolved.
 *
 * Aliases are expanded into copies, so a few lines can stand for billions of nodes (nine levels
 * of `&a [*a, *a, …]`). Like the `yaml` package's `maxAliasCount`, the loader counts the nodes
 * produced by alias expansion, per file, and rejects the file past MAX_ALIAS_NODES. Each alias
 * is resolved through a map built in one pass over the document (`Alias.resolve` walks the whole
 * document on every call, which is quadratic in the number of aliases).
 */
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Alias, type Document, type Node } from 'yaml';
import { RuleError, yamlErrorReason } from '../errors.js';

export interface Pos {
  line: number;
  col: number;
}

export type YScalarValue = string | number | boolean | null;

export type YNode = YMap | YSeq | YScalar;

export interface YMap {
  kind: 'map';
  entries: YEntry[];
  pos: Pos;
}

export interface YSeq {
  kind: 'seq';
  items: YNode[];
  pos: Pos;
}

export interface YScalar {
  kind: 'scalar';
  value: YScalarValue;
  /** The text as written (without quotes). */
  source: string;
  /** Position of the first character of the value (after an opening quote). */
  pos: Pos;
  /** Plain scalar on one line: positions inside it can be computed from `pos`. */
  singleLine: boolean;
}

export interface YEntry {
  key: string;
  keyPos: Pos;
  value: YNode;
}

export interface YDocument {
  /** 0-based index of the document in the file. */
  index: number;
  root: YNode;
}

const MAX_DEPTH = 64;

/**
 * Most nodes alias expansion may produce in one file (every node of every expanded copy counts,
 * nested aliases included). Sigma rules seldom use aliases at all; an anchored list of values
 * reused a few times stays far below this.
 */
export const MAX_ALIAS_NODES = 10_000;

/** Alias expansion counter shared by the documents of one file. */
interface AliasBudget {
  used: number;
}

/** The node each alias refers to: the last node with its anchor before it, in document order. */
function aliasTargets(doc: Document.Parsed): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (isNode(node) && node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

class Converter {
  private targets: Map<Alias, Node> | undefined;
  /** The alias in the document's own text whose expansion is being converted, if any. */
  private outerAlias: Alias | undefined;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly budget: AliasBudget,
  ) {}

  pos(offset: number | undefined): Pos {
    return this.lines.linePos(offset ?? 0);
  }

  fail(message: string, offset: number | undefined): never {
    const p = this.pos(offset);
    throw new RuleError(this.file, message, p.line, p.col);
  }

  node(n: unknown, depth: number): YNode {
    if (depth > MAX_DEPTH) this.fail('YAML nesting too deep (recursive alias?)', (n as Node | undefined)?.range?.[0]);
    if (isAlias(n)) {
      this.targets ??= aliasTargets(this.doc);
      const target = this.targets.get(n);
      if (!target) this.fail(`unknown alias *${n.source}`, n.range?.[0]);
      if (this.outerAlias) return this.node(target, depth + 1);
      this.outerAlias = n;
      try {
        return this.node(target, depth + 1);
      } finally {
        this.outerAlias = undefined;
      }
    }
    if (this.outerAlias && ++this.budget.used > MAX_ALIAS_NODES) {
      const a = this.outerAlias;
      this.fail(`YAML aliases expand to more than ${MAX_ALIAS_NODES} nodes (*${a.source} here; an alias bomb?)`, a.range?.[0]);
    }
    if (isMap(n)) {
      const entries: YEntry[] = [];
      const seen = new Set<string>();
      const merged: YEntry[] = [];
      for (const pair of n.items) {
        const keyNode = pair.key;
        if (isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.source === '<<') {
          merged.push(...this.mergeSource(pair.value, depth));
          continue;
        }
        if (!isScalar(keyNode)) this.fail('mapping keys must be plain values', (keyNode as Node | null)?.range?.[0] ?? n.range?.[0]);
        // A plain key is the text as written (`yes:` stays "yes"); a quoted key is its value.
        const key = keyNode.type === 'PLAIN' && keyNode.source !== undefined ? keyNode.source : String(keyNode.value);
        seen.add(key);
        const value: YNode = pair.value == null ? this.emptyScalar(keyNode.range?.[1]) : this.node(pair.value, depth + 1);
        entries.push({ key, keyPos: this.pos(keyNode.range?.[0]), value });
      }
      for (const m of merged) if (!seen.has(m.key)) {
        seen.add(m.key);
        entries.push(m);
      }
      return { kind: 'map', entries, pos: this.pos(n.range?.[0]) };
    }
    if (isSeq(n)) {
      return { kind: 'seq', items: n.items.map((i) => this.node(i, depth + 1)), pos: this.pos(n.range?.[0]) };
    }
    if (isScalar(n)) {
      const source = typeof n.source === 'string' ? n.source : String(n.value);
      const quoted = n.type === 'QUOTE_SINGLE' || n.type === 'QUOTE_DOUBLE';
      let value: YScalarValue;
      const v = n.value;
      if (!quoted && /^[yYnN]$/.test(source)) value = source;
      else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') value = v;
      else value = source; // timestamps, binary, sets…: keep the text
      const start = (n.range?.[0] ?? 0) + (quoted ? 1 : 0);
      const singleLine = (n.type === 'PLAIN' || quoted) && !source.includes('\n');
      return { kind: 'scalar', value, source, pos: this.pos(start), singleLine };
    }
    return this.fail('unsupported YAML node', (n as Node | undefined)?.range?.[0]);
  }

  private emptyScalar(offset: number | undefined): YScalar {
    return { kind: 'scalar', value: null, source: '', pos: this.pos(offset), singleLine: true };
  }

  private mergeSource(value: unknown, depth: number): YEntry[] {
    const node = this.node(value, depth + 1);
    if (node.kind === 'map') return node.entries;
    if (node.kind === 'seq' && node.items.every((i) => i.kind === 'map')) {
      return node.items.flatMap((i) => (i as YMap).entries);
    }
    return this.fail('a << merge key needs a mapping or a list of mappings', (value as Node | undefined)?.range?.[0]);
  }
}

/** Parses every document of a file; throws RuleError (with position) on YAML errors. */
export function loadYamlDocuments(text: string, file: string): YDocument[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.1',
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  if (!Array.isArray(docs)) return []; // empty stream
  const out: YDocument[] = [];
  const budget: AliasBudget = { used: 0 };
  docs.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) {
      const p = lines.linePos(err.pos[0]);
      const message = err.code === 'DUPLICATE_KEY' ? 'duplicate key in mapping' : yamlErrorReason(err.message);
      throw new RuleError(file, `invalid YAML: ${message}`, p.line, p.col);
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    const conv = new Converter(doc, lines, file, budget);
    out.push({ index, root: conv.node(doc.contents, 0) });
  });
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Access helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

export function entry(map: YMap, key: string): YEntry | undefined {
  return map.entries.find((e) => e.key === key);
}

/** Plain JavaScript value of a node (for metadata). */
export function toPlain(node: YNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) out[e.key] = toPlain(e.value);
      return out;
    }
  }
}

/** Deep merge for Sigma 1.x `action: global` collections: `over` wins, maps merge key by key. */
export function mergeNodes(base: YNode, over: YNode): YNode {
  if (base.kind !== 'map' || over.kind !== 'map') return over;
  const entries = base.entries.map((e) => ({ ...e }));
  for (const o of over.entries) {
    const i = entries.findIndex((e) => e.key === o.key);
    if (i < 0) entries.push(o);
    else entries[i] = { ...o, value: mergeNodes(entries[i]!.value, o.value) };
  }
  return { kind: 'map', entries, pos: over.pos };
}
