/**
 * Panther analysis YAML (rules, correlation rules).
 *
 * This foundation reads the metadata of every Panther file and reports each rule by RuleID;
 * rule bodies (Python, TypeScript ports, YAML simple detections), dedup/threshold, tests and
 * correlation rules arrive with the Panther dialect issue.
 */
import { parseDocument, LineCounter } from 'yaml';
import type { UnsupportedRule } from '../../ir/types.js';
import { RuleError, yamlErrorReason } from '../errors.js';
import type { DialectModule, ParsedRules } from '../types.js';

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
  const id = y['RuleID'] ?? y['PolicyID'] ?? y['DataModelID'] ?? y['QueryName'];
  if (typeof id !== 'string') throw new RuleError(file, 'a Panther rule needs a RuleID');
  const name = typeof y['DisplayName'] === 'string' ? (y['DisplayName'] as string) : id;
  const base = { id, name, dialect: 'panther' as const, ruleType: type, file };
  const raw = y['LogTypes'];
  const logTypes = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  let entry: UnsupportedRule;
  if (!RULE_TYPES.has(type)) {
    entry = { ...base, status: 'not-applicable', reason: `panther/${type} is not a detection rule` };
  } else if (type !== 'correlation_rule' && logTypes.length > 0 && !logTypes.some((t) => t.startsWith('Okta.'))) {
    entry = { ...base, status: 'not-applicable', reason: `LogTypes ${logTypes.join(', ')} hold no Okta events` };
  } else {
    const body = y['Detection'] ? 'YAML detection' : y['Filename'] ? `body ${String(y['Filename'])}` : 'no body';
    entry = { ...base, status: 'unsupported', reason: `not yet supported: panther/${type} (${body})` };
  }
  return { rules: [], unsupported: [entry] };
}

export const dialect: DialectModule = {
  name: 'panther',
  extensions: ['.yml', '.yaml'],
  recognise: (text) => /^(AnalysisType|RuleID)\s*:/m.test(text),
  parse: (text, file) => parsePanther(text, file),
};
