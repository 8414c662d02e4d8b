/**
 * A Panther analysis YAML (`AnalysisType: rule`) -> RuleIR (reference panther-okta.md §1.1–1.5).
 *
 * Metadata: RuleID -> id; DisplayName -> name (RuleID when absent); Enabled; LogTypes (a rule
 * for no Okta log type is "not applicable"); Severity (Info/Low/Medium/High/Critical) -> severity
 * and its default risk score; Description; Reference -> references; Runbook; Tags; Reports (MITRE
 * ATT&CK `TA0006:T1556` -> threat); SummaryAttributes; CreateAlert; Tests; Status, OutputIds,
 * ScheduledQueries are read and kept where they mean something here.
 *
 * The rule body, in this order:
 *  - `Detection:` — a YAML simple detection (detection.ts), pure IR;
 *  - `Filename:` naming a TypeScript/JavaScript module (relative to the YAML), or a `.py` file
 *    for which a port with the same base name (`.ts`, `.mts`, `.js`, `.mjs`) sits beside the YAML
 *    or in a body folder the user gives (`oktopus test --bodies DIR`, env OKTOPUS_PANTHER_BODIES):
 *    a `code` predicate calling its `rule()`, plus the module's presentation functions;
 *  - otherwise the rule is listed as unsupported ("no rule body": Python bodies need the worker
 *    that is not built yet).
 * `InlineFilters:` are ANDed before the body. The stages are [filter, dedup]: one alert per dedup
 * string per DedupPeriodMinutes (default 60), raised when Threshold (default 1) matches — or
 * distinct unique() values — are reached in the window.
 */
import { existsSync } from 'node:fs';
import { basename, delimiter, dirname, extname, join, resolve } from 'node:path';
import type { PantherFunction, PantherSpec, PantherTest, Predicate, RuleIR, Severity, ThreatRef, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { defaultRiskScore, normaliseSeverity } from '../severity.js';
import { CODE_EXTENSIONS, exportedFunction, loadCodeModule, ModuleError } from '../typescript/module.js';
import { detectionPredicate } from './detection.js';
import { compileTemplate } from './present.js';
import { parseKeyPath } from './detection.js';

type Obj = Record<string, unknown>;

export const DEFAULT_DEDUP_MINUTES = 60;
export const DEFAULT_THRESHOLD = 1;
export const PRESENTATION_FUNCTIONS: PantherFunction[] = ['title', 'dedup', 'alert_context', 'severity', 'description', 'reference', 'runbook', 'destinations', 'unique'];

const TACTICS: Record<string, string> = {
  TA0043: 'Reconnaissance', TA0042: 'Resource Development', TA0001: 'Initial Access', TA0002: 'Execution',
  TA0003: 'Persistence', TA0004: 'Privilege Escalation', TA0005: 'Defense Evasion', TA0006: 'Credential Access',
  TA0007: 'Discovery', TA0008: 'Lateral Movement', TA0009: 'Collection', TA0011: 'Command and Control',
  TA0010: 'Exfiltration', TA0040: 'Impact',
};

let userBodyPaths: string[] = [];

/** Folders searched for rule bodies (ports of `.py` files by base name), besides the YAML's own. */
export function setPantherBodyPaths(paths: string[]): void {
  userBodyPaths = paths.map((p) => resolve(p));
}

function bodyPaths(): string[] {
  const env = process.env['OKTOPUS_PANTHER_BODIES'];
  return [...userBodyPaths, ...(env ? env.split(delimiter).filter(Boolean).map((p) => resolve(p)) : [])];
}

function strings(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(String);
  return typeof v === 'string' ? [v] : [];
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Reports["MITRE ATT&CK"]: `TA0006:T1556`, `TA0006:T1556.001`, or a tactic alone. */
export function threatFromReports(reports: Record<string, string[]>): ThreatRef[] {
  const byTactic = new Map<string, ThreatRef>();
  for (const [framework, ids] of Object.entries(reports)) {
    if (!/mitre/i.test(framework)) continue;
    for (const entry of ids) {
      const [tactic, technique] = entry.split(':').map((s) => s.trim());
      if (!tactic || !/^TA\d{4}$/.test(tactic)) continue;
      let t = byTactic.get(tactic);
      if (!t) {
        t = { framework: 'MITRE ATT&CK', tactic: { id: tactic, name: TACTICS[tactic] ?? tactic }, techniques: [] };
        byTactic.set(tactic, t);
      }
      if (technique && /^T\d{4}(\.\d{3})?$/.test(technique)) {
        const [main, sub] = technique.split('.');
        let tech = t.techniques.find((x) => x.id === main);
        if (!tech) {
          tech = { id: main!, name: main! };
          t.techniques.push(tech);
        }
        if (sub) (tech.subtechniques ??= []).push({ id: technique, name: technique });
      }
    }
  }
  return [...byTactic.values()];
}

function reportsOf(v: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, ids] of Object.entries(v as Obj)) out[k] = strings(ids);
  return out;
}

function testsOf(v: unknown, file: string): PantherTest[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RuleError(file, 'Tests is a list');
  return v.map((t, i) => {
    if (!t || typeof t !== 'object') throw new RuleError(file, `Tests[${i}] is a mapping`);
    const o = t as Obj;
    let log = o['Log'] ?? o['Resource'];
    if (typeof log === 'string') {
      try {
        log = JSON.parse(log);
      } catch {
        /* kept as text: the test fails with a clear message */
      }
    }
    const test: PantherTest = {
      name: typeof o['Name'] === 'string' ? o['Name'] : `test ${i + 1}`,
      expectedResult: o['ExpectedResult'] === true,
      log,
    };
    if (Array.isArray(o['Mocks'])) {
      test.mocks = (o['Mocks'] as Obj[]).map((m) => ({ objectName: String(m['objectName']), returnValue: m['returnValue'] }));
    }
    // pypanther-style expectations (RuleTest expected_title, expected_dedup…), in YAML spelling.
    if (typeof o['ExpectedTitle'] === 'string') test.expectedTitle = o['ExpectedTitle'];
    if (typeof o['ExpectedDedup'] === 'string') test.expectedDedup = o['ExpectedDedup'];
    if (typeof o['ExpectedSeverity'] === 'string') test.expectedSeverity = o['ExpectedSeverity'];
    if ('ExpectedAlertContext' in o) test.expectedAlertContext = o['ExpectedAlertContext'];
    return test;
  });
}

/** Where the TypeScript/JavaScript body of a rule is, if it has one. */
export function findBody(filename: string | undefined, file: string): string | undefined {
  if (!filename) return undefined;
  const here = dirname(resolve(file));
  const ext = extname(filename).toLowerCase();
  if (CODE_EXTENSIONS.includes(ext)) return resolve(here, filename);
  const stem = basename(filename, extname(filename));
  for (const dir of [here, ...bodyPaths()]) {
    for (const e of CODE_EXTENSIONS) {
      const p = join(dir, stem + e);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

export interface ParsedPantherRule {
  rule?: RuleIR;
  unsupported?: UnsupportedRule;
  tests: PantherTest[];
  /** Why the rule cannot run, when it cannot (for `oktopus test`: "no rule body"). */
  noBody?: string;
}

function severityOf(y: Obj, file: string): Severity {
  const s = normaliseSeverity(y['Severity']);
  if (!s) throw new RuleError(file, `Severity must be Info, Low, Medium, High or Critical, not ${JSON.stringify(y['Severity'] ?? null)}`);
  return s;
}

function positive(y: Obj, key: string, dflt: number, file: string): number {
  const v = y[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RuleError(file, `${key} must be a positive number, not ${JSON.stringify(v)}`);
  return v;
}

/** Translate one Panther YAML mapping of type rule. */
export function pantherRule(y: Obj, file: string): ParsedPantherRule {
  const type = String(y['AnalysisType'] ?? 'rule');
  const id = y['RuleID'];
  if (typeof id !== 'string' || id === '') throw new RuleError(file, 'a Panther rule needs a RuleID');
  const displayName = text(y['DisplayName']);
  const name = displayName ?? id;
  const tests = testsOf(y['Tests'], file);
  const base = { id, name, dialect: 'panther' as const, ruleType: type, file };
  const logTypes = strings(y['LogTypes']);
  if (type === 'scheduled_rule') {
    const queries = strings(y['ScheduledQueries']).join(', ');
    const reason = 'not yet supported: panther/scheduled_rule (its body reads the rows of scheduled SQL queries, not events)';
    return { unsupported: { ...base, status: 'unsupported', reason }, tests, noBody: `scheduled rule: its body reads the rows of ${queries || 'a scheduled query'}` };
  }
  if (logTypes.length > 0 && !logTypes.some((t) => t.startsWith('Okta.'))) {
    return { unsupported: { ...base, status: 'not-applicable', reason: `LogTypes ${logTypes.join(', ')} hold no Okta events` }, tests };
  }
  const severity = severityOf(y, file);
  const period = positive(y, 'DedupPeriodMinutes', DEFAULT_DEDUP_MINUTES, file);
  const threshold = positive(y, 'Threshold', DEFAULT_THRESHOLD, file);
  const reports = reportsOf(y['Reports']);
  const spec: PantherSpec = { functions: [], createAlert: y['CreateAlert'] !== false, logTypes, tests };
  if (displayName) spec.displayName = displayName;
  const runbook = text(y['Runbook']);
  if (runbook) spec.runbook = runbook;
  const reference = text(y['Reference']);
  if (reference) spec.reference = reference;
  if (Object.keys(reports).length) spec.reports = reports;
  const summary = strings(y['SummaryAttributes']);
  if (summary.length) spec.summaryAttributes = summary;

  const parts: Predicate[] = [];
  if (y['InlineFilters'] !== undefined && y['InlineFilters'] !== null) {
    parts.push(detectionPredicate(y['InlineFilters'], file, 'InlineFilters', true));
    spec.inlineFilters = true;
  }
  let noBody: string | undefined;
  const filename = typeof y['Filename'] === 'string' ? y['Filename'] : undefined;
  if (y['Detection'] !== undefined) {
    parts.push(detectionPredicate(y['Detection'], file));
    const title = text(y['AlertTitle']);
    if (title) {
      compileTemplate(title);
      spec.titleTemplate = title;
    }
    if (Array.isArray(y['AlertContext'])) {
      spec.context = (y['AlertContext'] as Obj[]).map((c, i) => {
        const kv = (c?.['KeyValue'] ?? {}) as Obj;
        const path = typeof kv['KeyPath'] === 'string' ? kv['KeyPath'] : typeof kv['Key'] === 'string' ? kv['Key'] : Array.isArray(kv['DeepKey']) ? (kv['DeepKey'] as unknown[]).join('.') : undefined;
        if (typeof c?.['KeyName'] !== 'string' || !path) throw new RuleError(file, `AlertContext[${i}] needs KeyName and KeyValue {KeyPath|Key|DeepKey}`);
        return { key: c['KeyName'], field: { name: path, schema: 'okta' as const } };
      });
    }
    if (y['GroupBy'] !== undefined) {
      const list = Array.isArray(y['GroupBy']) ? y['GroupBy'] : [y['GroupBy']];
      spec.groupBy = list.map((g, i) => {
        const path = typeof g === 'string' ? g : g && typeof g === 'object' ? ((g as Obj)['KeyPath'] ?? (g as Obj)['Key']) : undefined;
        if (typeof path !== 'string') throw new RuleError(file, `GroupBy[${i}] is a KeyPath`);
        return { name: parseKeyPath(path).filter((s) => typeof s === 'string' && s !== '*').join('.'), schema: 'okta' as const };
      });
    }
    if (Array.isArray(y['DynamicSeverities'])) {
      spec.dynamicSeverities = (y['DynamicSeverities'] as Obj[]).map((d, i) => {
        const to = String(d?.['ChangeTo'] ?? '');
        const sev = to.toUpperCase() === 'DEFAULT' ? 'default' : normaliseSeverity(to);
        if (!sev) throw new RuleError(file, `DynamicSeverities[${i}].ChangeTo must be a severity, not ${JSON.stringify(to)}`);
        return { severity: sev, predicate: detectionPredicate(d['Conditions'], file, `DynamicSeverities[${i}].Conditions`) };
      });
    }
  } else {
    const body = findBody(filename, file);
    if (body) {
      let mod;
      try {
        mod = loadCodeModule(body);
      } catch (e) {
        throw new RuleError(file, `rule body ${body}: ${e instanceof ModuleError ? e.detail : (e as Error).message}`);
      }
      if (!exportedFunction(mod, 'rule')) throw new RuleError(file, `rule body ${body} exports no rule() function`);
      parts.push({ type: 'code', module: body, fn: 'rule' });
      spec.module = body;
      spec.functions = PRESENTATION_FUNCTIONS.filter((f) => exportedFunction(mod, f));
    } else {
      noBody = filename ? `python body ${filename}` : 'no Filename and no Detection';
    }
  }
  if (noBody) {
    const reason = `not yet supported: panther/${type} (body ${filename ?? 'none'})`;
    return { unsupported: { ...base, status: 'unsupported', reason }, tests, noBody };
  }
  const dedupStage = { type: 'dedup' as const, key: [], periodMs: period * 60_000, threshold, pantherKey: true, ...(spec.functions.includes('unique') ? { uniqueFn: true } : {}) };
  const rule: RuleIR = {
    id,
    name,
    dialect: 'panther',
    ruleType: type,
    file,
    severity,
    severityRaw: String(y['Severity']),
    riskScore: defaultRiskScore(severity),
    tags: strings(y['Tags']),
    threat: threatFromReports(reports),
    references: reference ? [reference] : [],
    falsePositives: [],
    input: 'okta',
    stages: [{ type: 'filter', predicate: parts.length === 1 ? parts[0]! : { type: 'and', args: parts } }, dedupStage],
    enabled: y['Enabled'] !== false,
    panther: spec,
  };
  const description = text(y['Description']);
  if (description) rule.description = description;
  return { rule, tests };
}
