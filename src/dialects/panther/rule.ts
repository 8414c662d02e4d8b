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
 *  - `Filename:` naming a TypeScript/JavaScript module (relative to the YAML; it must sit in the
 *    YAML's folder tree, below a rules root or in a body folder: checkBodyPlace), or a `.py` file
 *    for which a port with the same base name (`.ts`, `.mts`, `.js`, `.mjs`) sits beside the YAML
 *    or in a body folder the user gives (`oktopus test --bodies DIR`, env OKTOPUS_PANTHER_BODIES):
 *    a `code` predicate calling its `rule()`, plus the module's presentation functions;
 *  - else the `.py` file itself, beside the YAML or in a body folder: a `code` predicate with
 *    runtime `python` (python3 workers, ./python/);
 *  - otherwise the rule is listed as unsupported ("no rule body").
 * A body's exports are read statically (module.ts `staticExports`): parsing runs no code; the
 * engine loads the module when it compiles the rule. `--no-code` lists code-bodied rules as not run.
 * `InlineFilters:` are ANDed before the body. The stages are [filter, dedup]: one alert per dedup
 * string per DedupPeriodMinutes (default 60), raised when Threshold (default 1) matches — or
 * distinct unique() values — are reached in the window.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { PantherFunction, PantherSpec, PantherTest, Predicate, RuleIR, Severity, ThreatRef, UnsupportedRule } from '../../ir/types.js';
import { RuleError } from '../errors.js';
import { defaultRiskScore, normaliseSeverity } from '../severity.js';
import { CODE_EXTENSIONS, ModuleError, staticallyExports, staticExports } from '../typescript/module.js';
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
let ruleRoots: string[] = [];
let codeDisabled = false;

/** Folders searched for rule bodies (ports of `.py` files by base name), besides the YAML's own. */
export function setPantherBodyPaths(paths: string[]): void {
  userBodyPaths = paths.map((p) => resolve(p));
}

/** The rule files and folders the user gave (`--rules`): bodies may sit anywhere below them. */
export function setPantherRuleRoots(paths: string[]): void {
  ruleRoots = paths.map((p) => resolve(p));
}

/** `--no-code`: rules whose body is code (TypeScript/JavaScript/Python) are listed as not run. */
export function setPantherCodeDisabled(disabled: boolean): void {
  codeDisabled = disabled;
}

export const CODE_DISABLED_REASON = 'code bodies disabled by --no-code';

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function within(file: string, root: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A body is code, run with the user's rights: it must sit in the YAML's folder (or below), below
 * a rules root the user gave, or in a body folder (`--bodies`, OKTOPUS_PANTHER_BODIES) —
 * symbolic links resolved. `Filename: ../elsewhere/x.js` or an absolute path outside them is a
 * load error naming the file.
 */
export function checkBodyPlace(body: string, yamlFile: string): void {
  const target = real(body);
  const roots = [dirname(resolve(yamlFile)), ...ruleRoots.map((r) => (existsSync(r) && !statSync(r).isDirectory() ? dirname(r) : r)), ...bodyPaths()].map(real);
  if (roots.some((r) => within(target, r))) return;
  throw new RuleError(yamlFile, `rule body ${body} is outside the rule's folder, the --rules folders and the --bodies folders: bodies are code and are only run from there`);
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
    const name = typeof o['Name'] === 'string' ? o['Name'] : `test ${i + 1}`;
    // Panther's schema: ExpectedResult is a boolean (a string "true" would silently read as false).
    if (typeof o['ExpectedResult'] !== 'boolean') {
      throw new RuleError(file, `Tests[${i}] ${JSON.stringify(name)}: ExpectedResult must be true or false, not ${JSON.stringify(o['ExpectedResult'] ?? null)}`);
    }
    const test: PantherTest = { name, expectedResult: o['ExpectedResult'], log };
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

/**
 * Where the body of a rule is, if it has one: the file `Filename:` names when it is a
 * TypeScript/JavaScript module; else a port with the same base name (`.ts`, `.mts`, `.js`…),
 * beside the YAML or in a body folder; else the Python file itself, found the same way.
 */
export function findBody(filename: string | undefined, file: string): string | undefined {
  if (!filename) return undefined;
  const here = dirname(resolve(file));
  const ext = extname(filename).toLowerCase();
  if (CODE_EXTENSIONS.includes(ext)) return resolve(here, filename);
  const stem = basename(filename, extname(filename));
  const dirs = [here, ...bodyPaths()];
  for (const dir of dirs) {
    for (const e of CODE_EXTENSIONS) {
      const p = join(dir, stem + e);
      if (existsSync(p)) return p;
    }
  }
  if (ext === '.py') {
    for (const dir of dirs) {
      for (const p of [resolve(dir, filename), join(dir, basename(filename))]) if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** The module-level functions a Python body defines (`def name(` or `name = …` at column 0). */
export function pythonFunctions(source: string): Set<string> {
  const out = new Set<string>();
  for (const m of source.matchAll(/^(?:def\s+([A-Za-z_]\w*)\s*\(|([A-Za-z_]\w*)\s*=[^=])/gm)) out.add((m[1] ?? m[2])!);
  return out;
}

export interface ParsedPantherRule {
  rule?: RuleIR;
  unsupported?: UnsupportedRule;
  tests: PantherTest[];
  /** Why the rule cannot run, when it cannot (for `oktopus test`: "no rule body"). */
  noBody?: string;
}

/** Panther's severity words (any case): Info, Low, Medium, High, Critical — not "Informational". */
export function pantherSeverity(word: unknown): Severity | undefined {
  return typeof word === 'string' && /^(info|low|medium|high|critical)$/i.test(word.trim()) ? normaliseSeverity(word) : undefined;
}

function severityOf(y: Obj, file: string): Severity {
  const s = pantherSeverity(y['Severity']);
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
        const deep = Array.isArray(kv['DeepKey']) ? (kv['DeepKey'] as unknown[]).map((k, j) => (typeof k === 'number' ? `[${k}]` : j > 0 ? `.${String(k)}` : String(k))).join('') : undefined;
        const path = typeof kv['KeyPath'] === 'string' ? kv['KeyPath'] : typeof kv['Key'] === 'string' ? kv['Key'] : deep;
        if (typeof c?.['KeyName'] !== 'string' || !path) throw new RuleError(file, `AlertContext[${i}] needs KeyName and KeyValue {KeyPath|Key|DeepKey}`);
        return { key: c['KeyName'], field: { name: path, schema: 'okta' as const } };
      });
    }
    if (y['GroupBy'] !== undefined) {
      const list = Array.isArray(y['GroupBy']) ? y['GroupBy'] : [y['GroupBy']];
      spec.groupBy = list.map((g, i) => {
        const path = typeof g === 'string' ? g : g && typeof g === 'object' ? ((g as Obj)['KeyPath'] ?? (g as Obj)['Key']) : undefined;
        if (typeof path !== 'string') throw new RuleError(file, `GroupBy[${i}] is a KeyPath`);
        // Kept as written: present.ts reads it as a KeyPath (indexes `[n]`, `[*]`).
        parseKeyPath(path);
        return { name: path, schema: 'okta' as const };
      });
    }
    if (Array.isArray(y['DynamicSeverities'])) {
      spec.dynamicSeverities = (y['DynamicSeverities'] as Obj[]).map((d, i) => {
        const to = String(d?.['ChangeTo'] ?? '');
        const sev = to.toUpperCase() === 'DEFAULT' ? 'default' : pantherSeverity(to);
        if (!sev) throw new RuleError(file, `DynamicSeverities[${i}].ChangeTo must be INFO, LOW, MEDIUM, HIGH, CRITICAL or DEFAULT, not ${JSON.stringify(to)}`);
        return { severity: sev, predicate: detectionPredicate(d['Conditions'], file, `DynamicSeverities[${i}].Conditions`) };
      });
    }
  } else {
    const body = findBody(filename, file);
    if (body) checkBodyPlace(body, file);
    if (body && codeDisabled) {
      return {
        unsupported: { ...base, status: 'unsupported', reason: `${CODE_DISABLED_REASON} (body ${basename(body)})` },
        tests,
        noBody: CODE_DISABLED_REASON,
      };
    }
    if (body && extname(body).toLowerCase() === '.py') {
      let source: string;
      try {
        source = readFileSync(body, 'utf8');
      } catch (e) {
        throw new RuleError(file, `rule body ${body}: ${(e as Error).message}`);
      }
      const defined = pythonFunctions(source);
      if (!defined.has('rule')) throw new RuleError(file, `rule body ${body} defines no rule() function`);
      parts.push({ type: 'code', module: body, fn: 'rule', runtime: 'python' });
      spec.module = body;
      spec.runtime = 'python';
      spec.functions = PRESENTATION_FUNCTIONS.filter((f) => defined.has(f));
    } else if (body) {
      // Read the exports without running the module: parsing a rule (`rules list`, `explain`)
      // never executes its body; the engine loads it when it compiles the rule (js-runtime.ts).
      let exported;
      try {
        exported = staticExports(body);
      } catch (e) {
        throw new RuleError(file, `rule body ${body}: ${e instanceof ModuleError ? e.detail : (e as Error).message}`);
      }
      if (exported.complete && !staticallyExports(exported.names, 'rule')) throw new RuleError(file, `rule body ${body} exports no rule() function`);
      parts.push({ type: 'code', module: body, fn: 'rule' });
      spec.module = body;
      spec.functions = PRESENTATION_FUNCTIONS.filter((f) => staticallyExports(exported.names, f));
    } else {
      const kind = filename && extname(filename).toLowerCase() === '.py' ? 'python body' : 'body';
      noBody = filename ? `${kind} ${filename} not found beside the YAML, in --bodies or OKTOPUS_PANTHER_BODIES` : 'no Filename and no Detection';
    }
  }
  if (noBody) {
    const reason = filename
      ? `no rule body: panther/${type} (body ${filename}) is not beside the YAML nor in --bodies / OKTOPUS_PANTHER_BODIES`
      : `no rule body: panther/${type} has neither Filename nor Detection`;
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
