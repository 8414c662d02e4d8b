/**
 * Panther analysis YAML (rules, correlation rules).
 *
 * Rules (`AnalysisType: rule`) become RuleIR (rule.ts): YAML simple detections (detection.ts)
 * and TypeScript/JavaScript bodies run; Python bodies and scheduled rules are listed as not yet
 * supported. Correlation rules (Group and Sequence forms) run over alerts (correlation.ts).
 * Semantics: docs/panther.md.
 */
import { parseDocument, LineCounter } from 'yaml';
import type { UnsupportedRule } from '../../ir/types.js';
import { RuleError, yamlErrorReason } from '../errors.js';
import type { DialectModule, ParsedRules } from '../types.js';
import { pantherRule } from './rule.js';
import { registerCodeRuntimes, type CodeRuntime } from '../../engine/code/registry.js';
import { javascriptRuntime } from './js-runtime.js';
import { pythonRuntime } from './python/runtime.js';

export const runtimes: readonly CodeRuntime[] = [javascriptRuntime, pythonRuntime];
registerCodeRuntimes(runtimes);
import { pantherCorrelation } from './correlation.js';

type Obj = Record<string, unknown>;

const RULE_TYPES = new Set(['rule', 'scheduled_rule', 'correlation_rule']);

export function pantherYaml(text: string, file: string): Obj {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new RuleError(file, yamlErrorReason(e.message), pos.line, pos.col);
  }
  const o = doc.toJS() as unknown;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new RuleError(file, 'a Panther file is a YAML mapping');
  return o as Obj;
}

export function parsePanther(text: string, file: string): ParsedRules {
  const y = pantherYaml(text, file);
  const type = String(y['AnalysisType'] ?? 'rule');
  if (type === 'rule' || type === 'scheduled_rule') {
    const parsed = pantherRule(y, file);
    return { rules: parsed.rule ? [parsed.rule] : [], unsupported: parsed.unsupported ? [parsed.unsupported] : [] };
  }
  if (type === 'correlation_rule') {
    const parsed = pantherCorrelation(y, file);
    return { rules: parsed.rule ? [parsed.rule] : [], unsupported: parsed.unsupported ? [parsed.unsupported] : [] };
  }
  const id = y['RuleID'] ?? y['PolicyID'] ?? y['DataModelID'] ?? y['QueryName'];
  if (typeof id !== 'string') throw new RuleError(file, 'a Panther rule needs a RuleID');
  const name = typeof y['DisplayName'] === 'string' ? (y['DisplayName'] as string) : id;
  const base = { id, name, dialect: 'panther' as const, ruleType: type, file };
  let entry: UnsupportedRule;
  if (!RULE_TYPES.has(type)) {
    entry = { ...base, status: 'not-applicable', reason: `panther/${type} is not a detection rule` };
  } else {
    entry = { ...base, status: 'unsupported', reason: `not yet supported: panther/${type}` };
  }
  return { rules: [], unsupported: [entry] };
}

/** A test fixture file (`<rule file>.tests.yml`), not a rule. */
export function isFixture(file: string): boolean {
  return /\.tests\.ya?ml$/i.test(file);
}

export const dialect: DialectModule = {
  name: 'panther',
  extensions: ['.yml', '.yaml'],
  // `<rule>.tests.yml` test fixtures (src/cli/test-command.ts) sit beside rules of any dialect:
  // claimed here so that loading a rule folder passes over them instead of reporting them.
  recognise: (text, file) => /^(AnalysisType|RuleID)\s*:/m.test(text) || isFixture(file),
  parse: (text, file) => (isFixture(file) ? { rules: [], unsupported: [] } : parsePanther(text, file)),
};
