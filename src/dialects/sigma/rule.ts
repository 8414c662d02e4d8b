/**
 * One Sigma YAML document -> a RuleIR, an UnsupportedRule, or a RuleError.
 */
import { simplifyPredicate } from '../../engine/predicate/index.js';
import type { Predicate, RuleIR, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { ConditionError, parseCondition, selectIdentifiers, type ConditionNode } from './condition.js';
import { searchPredicates, type DetectionContext } from './detection.js';
import { notOktaReason, sigmaRuleIR, statusAndLevel } from './metadata.js';
import { entry, toPlain, type YEntry, type YMap, type YNode, type YScalar } from './yaml.js';
import { correlationDocument, type FileNames } from './correlation.js';

export interface SigmaConfig {
  /** Values of `|expand` placeholders: `%name%` -> list of values (Sigma strings, wildcards allowed). */
  placeholders?: Record<string, string[]>;
}

export type DocumentResult = { rule: RuleIR } | { unsupported: UnsupportedRule };

/** `N of` conditions expand to an OR of AND-combinations; refuse absurd sizes. */
const MAX_COMBINATIONS = 1000;

/** `dir/sub/name.yml` -> `name`; a name that is only an extension (`.yml`) is kept whole. */
function fileStem(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

class DocumentReader {
  constructor(
    readonly file: string,
    readonly root: YMap,
    readonly index: number,
  ) {}

  fail(message: string, at?: YNode | YEntry): never {
    const pos = at === undefined ? this.root.pos : 'keyPos' in at ? at.keyPos : at.pos;
    throw new RuleError(this.file, message, pos.line, pos.col);
  }

  get(key: string): YEntry | undefined {
    return entry(this.root, key);
  }

  string(key: string, required = false): string | undefined {
    const e = this.get(key);
    if (!e || (e.value.kind === 'scalar' && e.value.value === null)) {
      if (required) this.fail(`missing required field '${key}'`);
      return undefined;
    }
    if (e.value.kind !== 'scalar') this.fail(`'${key}' must be a string`, e);
    const v = e.value.value;
    return typeof v === 'string' ? v : e.value.source;
  }

  /** A list of strings (a single string is accepted as a one-element list). */
  strings(key: string): string[] {
    const e = this.get(key);
    if (!e) return [];
    const v = e.value;
    if (v.kind === 'scalar') return v.value === null ? [] : [String(v.value)];
    if (v.kind === 'map') this.fail(`'${key}' must be a list of strings`, e);
    return v.items.map((item) => {
      if (item.kind !== 'scalar') this.fail(`'${key}' must be a list of strings`, item);
      return (item as YScalar).value === null ? '' : String((item as YScalar).value);
    });
  }

  map(key: string): YMap | undefined {
    const e = this.get(key);
    if (!e) return undefined;
    if (e.value.kind !== 'map') this.fail(`'${key}' must be a mapping`, e);
    return e.value as YMap;
  }

  /**
   * The rule's id: `id`, else `name`, else `<file name without extension>#<document number>`
   * (`rules/okta/login.yml`, 2nd document -> `login#2`).
   *
   * The id names the rule's alerts and its state, so it must not depend on how the file was
   * reached: the directory part of the path (relative or absolute, `/` or `\`) is left out.
   * This fallback is still fragile (renaming or moving documents in the file changes it, and two
   * files with the same name in different directories get the same ids): rules should be given
   * an `id` (a random UUID, as the Sigma specification recommends).
   */
  ruleId(): string {
    return this.string('id') ?? this.string('name') ?? `${fileStem(this.file)}#${this.index + 1}`;
  }

  ruleName(): string {
    return this.string('title') ?? this.string('name') ?? this.ruleId();
  }
}

function unsupported(doc: DocumentReader, ruleType: string, reason: string, status: UnsupportedRule['status']): DocumentResult {
  return {
    unsupported: { id: doc.ruleId(), name: doc.ruleName(), dialect: 'sigma', ruleType, file: doc.file, reason, status },
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Condition                                                                                   */
/* ------------------------------------------------------------------------------------------ */

function combinations<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items;
  return [...combinations(rest, k - 1).map((c) => [head!, ...c]), ...combinations(rest, k)];
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function conditionPredicate(
  node: ConditionNode,
  searches: Map<string, Predicate>,
  fail: (message: string, offset: number) => never,
): Predicate {
  switch (node.type) {
    case 'and':
    case 'or':
      return { type: node.type, args: node.args.map((a) => conditionPredicate(a, searches, fail)) };
    case 'not':
      return { type: 'not', arg: conditionPredicate(node.arg, searches, fail) };
    case 'ref': {
      const p = searches.get(node.name);
      if (!p) {
        const known = [...searches.keys()].join(', ') || 'none';
        return fail(`unknown search identifier '${node.name}' in condition (defined: ${known})`, node.offset);
      }
      return p;
    }
    case 'of': {
      const ids = selectIdentifiers(node.target, node.them, [...searches.keys()]);
      if (ids.length === 0) {
        return fail(
          node.them ? "'of them' but the detection has no search identifiers" : `'${node.target}' matches no search identifier`,
          node.offset,
        );
      }
      const preds = ids.map((id) => searches.get(id)!);
      const q = node.quantifier;
      const n = q === 'any' ? 1 : q === 'all' ? preds.length : q;
      if (n > preds.length) {
        return fail(`'${q} of ${node.target}' needs ${n} search identifiers but only ${preds.length} match`, node.offset);
      }
      if (n === 1) return { type: 'or', args: preds };
      if (n === preds.length) return { type: 'and', args: preds };
      if (binomial(preds.length, n) > MAX_COMBINATIONS) {
        return fail(`'${q} of ${node.target}' has too many combinations to expand`, node.offset);
      }
      return { type: 'or', args: combinations(preds, n).map((c): Predicate => ({ type: 'and', args: c })) };
    }
  }
}

/** Position of a character of a condition string (exact for one-line scalars). */
function conditionFail(doc: DocumentReader, scalar: YScalar) {
  return (message: string, offset: number): never => {
    const col = scalar.singleLine ? scalar.pos.col + offset : scalar.pos.col;
    throw new RuleError(doc.file, message, scalar.pos.line, col);
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Document                                                                                    */
/* ------------------------------------------------------------------------------------------ */

function detectionDocument(doc: DocumentReader, config: SigmaConfig): DocumentResult {
  const title = doc.string('title', true)!;
  const id = doc.ruleId();

  const meta = statusAndLevel(doc);

  const logsource = doc.map('logsource');
  if (!logsource) doc.fail("missing required field 'logsource'");
  const notOkta = notOktaReason(toPlain(logsource) as Record<string, unknown>);
  if (notOkta) return unsupported(doc, 'detection', notOkta, 'not-applicable');

  const detection = doc.map('detection');
  if (!detection) doc.fail("missing required field 'detection'");

  const ctx: DetectionContext = {
    fail: (message, at) => doc.fail(message, at),
    placeholders: config.placeholders ?? {},
    missingPlaceholders: new Set(),
  };
  const searches = searchPredicates(detection, ctx);

  const condEntry = entry(detection, 'condition');
  if (!condEntry) doc.fail("the detection has no 'condition'", detection);
  const condNodes: YNode[] = condEntry.value.kind === 'seq' ? condEntry.value.items : [condEntry.value];
  if (condNodes.length === 0) doc.fail("the detection has an empty 'condition'", condEntry);
  const conditions: Predicate[] = [];
  for (const node of condNodes) {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') doc.fail('a condition must be a string', node);
    const scalar = node as YScalar;
    const text = scalar.value as string;
    if (text.includes('|')) {
      return unsupported(
        doc,
        'detection',
        "Sigma 1.0 aggregation conditions ('| count() ...') are obsolete and not supported: use a Sigma correlation rule",
        'unsupported',
      );
    }
    const fail = conditionFail(doc, scalar);
    let ast: ConditionNode;
    try {
      ast = parseCondition(text);
    } catch (e) {
      if (e instanceof ConditionError) fail(`invalid condition: ${e.message}`, e.offset);
      throw e;
    }
    conditions.push(conditionPredicate(ast, searches, fail));
  }

  if (ctx.missingPlaceholders.size > 0) {
    const names = [...ctx.missingPlaceholders].map((n) => `%${n}%`).join(', ');
    return unsupported(
      doc,
      'detection',
      `placeholder ${names} has no configured values (|expand needs them in the placeholders configuration)`,
      'unsupported',
    );
  }

  // A list of conditions is OR-linked. The IR is kept flat (nested and/or merged) for explain.
  const predicate = simplifyPredicate(conditions.length === 1 ? conditions[0]! : { type: 'or', args: conditions });
  const rule = sigmaRuleIR(doc, { id, title, ruleType: 'detection', input: 'okta', stages: [{ type: 'filter', predicate }] }, meta);
  return { rule };
}

/** Reads one (already merged) document: a detection rule, a correlation, or a meta-filter. */
export function readDocument(file: string, root: YNode, index: number, config: SigmaConfig, names: FileNames = { idOf: new Map(), nameOf: new Map() }): DocumentResult {
  if (root.kind !== 'map') {
    const pos = root.pos;
    throw new RuleError(file, 'a Sigma rule document must be a mapping', pos.line, pos.col);
  }
  const doc = new DocumentReader(file, root, index);
  if (doc.get('correlation')) {
    const r = correlationDocument(doc, names);
    return 'rule' in r ? r : unsupported(doc, 'correlation', r.unsupported, 'unsupported');
  }
  if (doc.get('detection')) return detectionDocument(doc, config);
  if (doc.get('filter')) {
    return unsupported(doc, 'filter', 'not yet supported: sigma/filter', 'unsupported');
  }
  return doc.fail("not a Sigma rule: the document has no 'detection' (nor 'correlation' or 'filter')");
}
