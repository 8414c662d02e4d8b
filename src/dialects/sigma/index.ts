/**
 * The Sigma dialect (specification 2.1): YAML rule files -> RuleIR.
 *
 *   yaml.ts       YAML 1.1 loading with positions (PyYAML-compatible typing, no duplicate keys)
 *   values.ts     Sigma value types and string escaping
 *   modifiers.ts  the modifier registry
 *   detection.ts  search identifiers -> predicates
 *   condition.ts  condition tokenizer / parser / AST
 *   timeparts.ts  minute/hour/day/week/month/year modifiers
 *   metadata.ts   log source, ATT&CK tags, status
 *   rule.ts       one document -> RuleIR / UnsupportedRule
 *
 * A file may hold several YAML documents: each detection document is a rule, each correlation
 * document a correlation rule over the alerts of the rules it names (correlation.ts; names are
 * resolved across the file's documents); meta-filter documents are reported as unsupported
 * (never dropped). Sigma 1.x collection
 * actions are honoured: `action: global` documents are merged into the following documents,
 * `action: reset` forgets the global document, `action: repeat` repeats the previous document
 * with changes.
 */
import type { RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { readDocument, type SigmaConfig } from './rule.js';
import type { FileNames } from './correlation.js';
import { entry, loadYamlDocuments, mergeNodes, type YMap, type YNode } from './yaml.js';

export type { SigmaConfig } from './rule.js';

function withoutAction(node: YMap): YMap {
  return { ...node, entries: node.entries.filter((e) => e.key !== 'action') };
}

/** Parses a Sigma file. Throws RuleError (with line and column when known) for malformed rules. */
export function parseSigmaText(
  text: string,
  file: string,
  config: SigmaConfig = {},
): { rules: RuleIR[]; unsupported: UnsupportedRule[] } {
  const rules: RuleIR[] = [];
  const unsupported: UnsupportedRule[] = [];
  let global: YNode | undefined;
  let previous: YNode | undefined;
  const roots: { root: YNode; index: number }[] = [];

  for (const doc of loadYamlDocuments(text, file)) {
    let root = doc.root;
    const action = root.kind === 'map' ? entry(root, 'action') : undefined;
    if (action) {
      const word = action.value.kind === 'scalar' ? action.value.value : undefined;
      const body = withoutAction(root as YMap);
      if (word === 'global') {
        global = body;
        continue;
      }
      if (word === 'reset') {
        global = undefined;
        continue;
      }
      if (word === 'repeat') {
        if (!previous) throw new RuleError(file, "'action: repeat' without a previous rule", action.keyPos.line, action.keyPos.col);
        root = mergeNodes(previous, body);
      } else {
        throw new RuleError(file, `unknown action '${String(word)}' (expected global, reset or repeat)`, action.keyPos.line, action.keyPos.col);
      }
    } else if (global) {
      root = mergeNodes(global, root);
    }
    previous = root;
    roots.push({ root, index: doc.index });
  }

  // Sigma `name`s of the file's documents, so that a correlation's `rules:` and `aliases` may
  // name rules defined anywhere in the file (before or after it): name -> id and back.
  const names: FileNames = { idOf: new Map(), nameOf: new Map() };
  for (const { root, index } of roots) {
    if (root.kind !== 'map') continue;
    const scalar = (key: string): string | undefined => {
      const e = entry(root, key);
      return e && e.value.kind === 'scalar' && e.value.value !== null ? String(e.value.value) : undefined;
    };
    const name = scalar('name');
    if (name === undefined) continue;
    const id = scalar('id') ?? name ?? String(index);
    names.idOf.set(name, id);
    names.nameOf.set(id, name);
  }

  for (const { root, index } of roots) {
    const result = readDocument(file, root, index, config, names);
    if ('rule' in result) rules.push(result.rule);
    else unsupported.push(result.unsupported);
  }
  return { rules, unsupported };
}

/** True for a parsed YAML document that is a Sigma rule: logsource + detection, a correlation, or a meta-filter. */
export function looksLikeSigma(doc: unknown): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const o = doc as Record<string, unknown>;
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isMap(o['correlation'])) return true;
  return isMap(o['logsource']) && (isMap(o['detection']) || isMap(o['filter']));
}
