/**
 * `oktopus test [PATHS...] [--bodies DIR]... [--python-path DIR]... [--python-timeout S] [--junit FILE] [--json]`:
 * run rule unit tests.
 *
 *  - Panther YAML rules: every `Tests:` entry (Log, ExpectedResult, Mocks; and, when given, the
 *    pypanther-style expectations ExpectedTitle, ExpectedDedup, ExpectedSeverity,
 *    ExpectedAlertContext). A test passes when rule() gives ExpectedResult, every expectation
 *    holds and, for an expected match, no alert function raised (Panther's test runner rule).
 *    Python bodies run in python3 workers (helpers from --python-path), Mocks patched into the
 *    rule module. A rule whose body cannot run here (a body not found, a scheduled rule)
 *    reports each test as "no rule body": never passed, not failed.
 *  - Fixtures for any dialect (Sigma, Elastic, Panther): a file `<rule file>.tests.yml` beside
 *    the rule (docs/panther.md "Test fixtures"):
 *        tests:
 *          - name: two failures raise one alert
 *            events: [ {LogEvent}, … ]        # or events_file: x.ndjson (relative to the fixture)
 *            alerts: 1                        # expected number of alerts of this rule
 *            expect: [ {field: value, …} ]    # optional: fields each alert must have, in order
 *    The events run through the real engine (reorder window, stages, dedup) with a memory store.
 * Exit code: 0 all passed (or no body), 1 a test failed or a rule/fixture did not load, 2 usage.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { adaptRecord } from '../adapters/index.js';
import { normalisePanther } from '../adapters/panther.js';
import { makeEvent, type CanonicalEvent, type JsonObject } from '../event/types.js';
import type { PantherTest, RuleIR } from '../ir/types.js';
import { compilePredicate } from '../engine/predicate/index.js';
import { batchPreparer, codeErrors } from '../engine/code/registry.js';
import { Engine } from '../engine/engine.js';
import { MemoryStore } from '../store/memory.js';
import { loadRules } from '../rules/load.js';
import { pantherYaml } from '../dialects/panther/dialect.js';
import { CODE_DISABLED_REASON, pantherRule, setPantherBodyPaths, setPantherCodeDisabled, setPantherRuleRoots } from '../dialects/panther/rule.js';
import { pantherPresentation } from '../dialects/panther/present.js';
import { withMocks } from '../dialects/typescript/module.js';
import { closePython, configurePython, evaluatePythonTest } from '../dialects/panther/python/runtime.js';
import { walkFiles } from '../util/walk.js';
import type { SchemaContext } from '../schema/index.js';
import { collect } from './common.js';

export type TestStatus = 'pass' | 'fail' | 'no rule body' | 'error';

export interface TestResult {
  file: string;
  rule: string;
  test: string;
  status: TestStatus;
  detail: string;
}

const SCHEMA: SchemaContext = { org: 'oktopus-test' };

function isPantherText(text: string): boolean {
  return /^(AnalysisType|RuleID)\s*:/m.test(text);
}

/** A Panther test log as a canonical event (the adapters' Panther shape; lenient when it lacks eventType). */
export function testEvent(log: unknown, origin: string): CanonicalEvent {
  try {
    const evs = adaptRecord(log, origin);
    if (evs.length === 1) return evs[0]!;
  } catch {
    /* below */
  }
  const doc = log && typeof log === 'object' && !Array.isArray(log) ? normalisePanther(log as JsonObject) : {};
  const type = typeof doc['eventType'] === 'string' ? (doc['eventType'] as string) : '';
  const published = typeof doc['published'] === 'string' ? Date.parse(String(doc['published']).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(doc['published'])) ? '' : 'Z')) : NaN;
  return makeEvent({ kind: 'okta', id: String(doc['uuid'] ?? origin), time: Number.isFinite(published) ? published : 0, eventType: type.toLowerCase(), doc, origin, depth: 0, shape: 'panther' });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

function short(s: string, n = 120): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/**
 * Run one Panther test against a loaded rule. A Python body runs in a worker first (rule() and
 * the presentation functions, with the test's Mocks patched into the rule module); the checks
 * below then read its results as they read a TypeScript body's.
 */
export async function runPantherTest(rule: RuleIR, test: PantherTest, origin: string): Promise<{ status: TestStatus; detail: string }> {
  const filter = rule.stages[0];
  if (!filter || filter.type !== 'filter') return { status: 'error', detail: 'the rule has no filter stage' };
  let ev: CanonicalEvent;
  try {
    ev = testEvent(test.log, origin);
  } catch (e) {
    return { status: 'error', detail: `Log: ${(e as Error).message}` };
  }
  if (rule.panther?.runtime === 'python' && rule.panther.module) {
    const r = await evaluatePythonTest(rule.panther.module, ev, test.mocks);
    if (r.kind === 'error') return r.worker ? { status: 'error', detail: `python: ${r.message}` } : { status: 'fail', detail: `rule() raised ${r.message}` };
  }
  return withMocks(test.mocks, () => {
    const head = compilePredicate(filter.predicate, SCHEMA);
    const module = rule.panther?.module;
    const before = module ? (codeErrors.get(module)?.count ?? 0) : 0;
    const matched = head(ev);
    const after = module ? codeErrors.get(module) : undefined;
    if (module && after && after.count > before) return { status: 'fail', detail: `rule() raised ${after.last}` };
    const problems: string[] = [];
    if (matched !== test.expectedResult) problems.push(`rule() returned ${matched}, expected ${test.expectedResult}`);
    if (matched) {
      const p = pantherPresentation(rule, ev, SCHEMA);
      if (test.expectedResult) for (const e of p.errors) problems.push(`${e.fn}() raised: ${e.message}`);
      if (test.expectedTitle !== undefined && p.title !== test.expectedTitle) problems.push(`title ${JSON.stringify(p.title)}, expected ${JSON.stringify(test.expectedTitle)}`);
      if (test.expectedDedup !== undefined && p.dedup !== test.expectedDedup) problems.push(`dedup ${JSON.stringify(p.dedup)}, expected ${JSON.stringify(test.expectedDedup)}`);
      if (test.expectedSeverity !== undefined && p.severityWord !== test.expectedSeverity.toUpperCase()) problems.push(`severity ${p.severityWord}, expected ${test.expectedSeverity.toUpperCase()}`);
      if (test.expectedAlertContext !== undefined && !same(p.context ?? null, test.expectedAlertContext)) problems.push(`alert_context ${short(JSON.stringify(p.context ?? null))} differs from the expected one`);
    }
    return problems.length ? { status: 'fail', detail: problems.join('; ') } : { status: 'pass', detail: matched ? 'matched' : 'no match' };
  });
}

/** Every Panther test in one YAML file. */
export async function runPantherFile(file: string): Promise<TestResult[]> {
  let parsed;
  let ruleId = basename(file);
  try {
    const y = pantherYaml(readFileSync(file, 'utf8'), file);
    if (typeof y['RuleID'] === 'string') ruleId = y['RuleID'];
    const type = String(y['AnalysisType'] ?? 'rule');
    if (type !== 'rule' && type !== 'scheduled_rule') return [];
    parsed = pantherRule(y, file);
  } catch (e) {
    return [{ file, rule: ruleId, test: '(load)', status: 'error', detail: (e as Error).message }];
  }
  const rows: TestResult[] = [];
  for (const [i, t] of parsed.tests.entries()) {
    const row = { file, rule: ruleId, test: t.name };
    if (!parsed.rule) {
      rows.push({ ...row, status: 'no rule body', detail: parsed.noBody ?? parsed.unsupported?.reason ?? 'no rule body' });
      continue;
    }
    try {
      rows.push({ ...row, ...(await runPantherTest(parsed.rule, t, `${file}:Tests[${i}]`)) });
    } catch (e) {
      rows.push({ ...row, status: 'error', detail: (e as Error).message });
    }
  }
  return rows;
}

interface Fixture {
  name?: string;
  events?: unknown[];
  events_file?: string;
  alerts?: number;
  expect?: Record<string, unknown>[];
}

function readField(doc: unknown, path: string): unknown {
  if (doc && typeof doc === 'object' && path in (doc as object)) return (doc as Record<string, unknown>)[path];
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** A `<rule>.tests.yml` fixture: events through the engine, alerts of that rule compared. */
export async function runFixtureFile(fixture: string): Promise<TestResult[]> {
  const ruleFile = fixture.replace(/\.tests\.ya?ml$/i, '');
  const candidates = [ruleFile, ...['.yml', '.yaml', '.toml', '.json', '.ts', '.js'].map((e) => ruleFile + e)];
  const target = candidates.find((c) => c !== fixture && existsSync(c) && statSync(c).isFile());
  const base = { file: fixture, rule: basename(ruleFile) };
  if (!target) return [{ ...base, test: '(load)', status: 'error', detail: `no rule file ${ruleFile}[.yml|.toml|…] beside the fixture` }];
  const loaded = await loadRules([target]);
  if (loaded.errors.length || loaded.rules.length !== 1) {
    const why = loaded.errors[0]?.message ?? loaded.unsupported[0]?.reason ?? `${loaded.rules.length} rules in ${target}`;
    return [{ ...base, test: '(load)', status: loaded.unsupported.length ? 'no rule body' : 'error', detail: why }];
  }
  const rule = { ...loaded.rules[0]!, enabled: true };
  let spec: { tests?: Fixture[] };
  try {
    spec = parseYaml(readFileSync(fixture, 'utf8')) as { tests?: Fixture[] };
  } catch (e) {
    return [{ ...base, rule: rule.id, test: '(load)', status: 'error', detail: (e as Error).message }];
  }
  const rows: TestResult[] = [];
  for (const [i, t] of (spec?.tests ?? []).entries()) {
    const row = { file: fixture, rule: rule.id, test: t.name ?? `test ${i + 1}` };
    try {
      let records = t.events ?? [];
      if (t.events_file) {
        const text = readFileSync(resolve(dirname(fixture), t.events_file), 'utf8');
        records = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
      }
      const engine = new Engine([rule], { schema: SCHEMA, store: new MemoryStore() });
      if (engine.unsupported.length) {
        rows.push({ ...row, status: 'error', detail: engine.unsupported[0]!.reason });
        continue;
      }
      const events: CanonicalEvent[] = [];
      records.forEach((r, j) => events.push(...adaptRecord(r, `${fixture}:tests[${i}].events[${j}]`)));
      // Code runtimes that evaluate batches before the engine (Python bodies), as in a scan.
      const preparer = batchPreparer([rule], { schema: SCHEMA });
      await preparer?.prepare(events);
      for (const ev of events) engine.push(ev);
      engine.flush();
      const alerts = engine.takeAlerts().filter((a) => a.ruleId === rule.id);
      const updates = engine.takeUpdates();
      const docs = alerts.map((a) => updates.get(a.uuid) ?? a.doc);
      const problems: string[] = [];
      if (t.alerts !== undefined && docs.length !== t.alerts) problems.push(`${docs.length} alert(s), expected ${t.alerts}`);
      (t.expect ?? []).forEach((want, k) => {
        const doc = docs[k];
        if (!doc) {
          problems.push(`alert ${k + 1} missing`);
          return;
        }
        for (const [f, v] of Object.entries(want)) {
          const got = readField(doc, f);
          if (!same(got, v)) problems.push(`alert ${k + 1} ${f} = ${short(JSON.stringify(got ?? null), 60)}, expected ${short(JSON.stringify(v), 60)}`);
        }
      });
      rows.push({ ...row, status: problems.length ? 'fail' : 'pass', detail: problems.length ? problems.join('; ') : `${docs.length} alert(s)` });
    } catch (e) {
      rows.push({ ...row, status: 'error', detail: (e as Error).message });
    }
  }
  return rows;
}

/** Run every test found under the paths. */
export async function runTests(paths: string[]): Promise<TestResult[]> {
  const files: string[] = [];
  const rows: TestResult[] = [];
  const visited = new Set<string>();
  const walk = {
    accept: (name: string) => /\.ya?ml$/i.test(name),
    skip: ['node_modules'],
    onError: (file: string, reason: string) => rows.push({ file, rule: '', test: '(load)', status: 'error' as const, detail: reason }),
  };
  for (const p of paths) {
    if (!existsSync(p)) {
      rows.push({ file: p, rule: '', test: '(load)', status: 'error', detail: 'no such file or folder' });
      continue;
    }
    if (statSync(p).isDirectory()) walkFiles(p, walk, files, visited);
    else files.push(p);
  }
  for (const file of files) {
    if (/\.tests\.ya?ml$/i.test(file)) {
      rows.push(...(await runFixtureFile(file)));
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      rows.push({ file, rule: '', test: '(load)', status: 'error', detail: (e as Error).message });
      continue;
    }
    if (isPantherText(text)) rows.push(...(await runPantherFile(file)));
  }
  return rows;
}

/** Characters XML 1.0 cannot hold at all (not even escaped): dropped from the report. */
const XML_INVALID = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;

function escapeXml(s: string): string {
  return s.replace(XML_INVALID, '').replace(/[<>&"'\t\n\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c]!);
}

/** A name or detail for the terminal: control characters (an ESC sequence in a test name…) shown escaped. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1F\x7F\x80-\x9F]/g, (c) => (c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** JUnit XML: one suite per rule, "no rule body" as skipped, error as error. */
export function junitXml(rows: TestResult[]): string {
  const suites = new Map<string, TestResult[]>();
  for (const r of rows) {
    const k = `${r.rule || basename(r.file)}`;
    suites.set(k, [...(suites.get(k) ?? []), r]);
  }
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const count = (s: TestStatus): number => rows.filter((r) => r.status === s).length;
  xml += `<testsuites name="oktopus test" tests="${rows.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('no rule body')}">\n`;
  for (const [name, list] of suites) {
    const c = (s: TestStatus): number => list.filter((r) => r.status === s).length;
    xml += `  <testsuite name="${escapeXml(name)}" file="${escapeXml(list[0]!.file)}" tests="${list.length}" failures="${c('fail')}" errors="${c('error')}" skipped="${c('no rule body')}">\n`;
    for (const r of list) {
      xml += `    <testcase classname="${escapeXml(name)}" name="${escapeXml(r.test)}" file="${escapeXml(r.file)}"`;
      if (r.status === 'pass') xml += '/>\n';
      else {
        const tag = r.status === 'fail' ? 'failure' : r.status === 'error' ? 'error' : 'skipped';
        xml += `>\n      <${tag} message="${escapeXml(r.status === 'no rule body' ? `no rule body: ${r.detail}` : r.detail)}"/>\n    </testcase>\n`;
      }
    }
    xml += '  </testsuite>\n';
  }
  return xml + '</testsuites>\n';
}

/** The pass/fail table. */
export function formatTable(rows: TestResult[]): string {
  const head = ['RULE', 'TEST', 'RESULT', 'DETAIL'];
  const body = rows.map((r) => [printable(r.rule || basename(r.file)), printable(r.test), r.status.toUpperCase(), short(printable(r.detail), 100)]);
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...body.map((b) => b[i]!.length))));
  const line = (cells: string[]): string => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  const count = (s: TestStatus): number => rows.filter((r) => r.status === s).length;
  const summary = `${rows.length} tests: ${count('pass')} passed, ${count('fail')} failed, ${count('no rule body')} no rule body, ${count('error')} errors`;
  return [line(head), ...body.map(line), '', summary].join('\n') + '\n';
}

const DEFAULT_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));


/** `--python-path DIR` (repeatable): helper folders for Python rule bodies (scan and test). */
export function pythonPathOption(): Option {
  return new Option('--python-path <dir>', 'a folder of helper modules Python rule bodies import (your panther-analysis global_helpers); repeatable; env OKTOPUS_PYTHON_PATH').argParser(collect);
}

/** `--python-timeout SECONDS`: how long a Python rule may take on one batch (scan and test). */
export function pythonTimeoutOption(): Option {
  return new Option('--python-timeout <seconds>', 'how long a Python rule may take on one batch of events before it counts as hung (default 30; env OKTOPUS_PYTHON_TIMEOUT)');
}

/** Apply `--python-path` / `--python-timeout` (from a command's parsed options). */
export function applyPythonFlags(flags: object): void {
  const f = flags as { pythonPath?: string[]; pythonTimeout?: string };
  const timeout = f.pythonTimeout === undefined ? undefined : Number(f.pythonTimeout);
  if (timeout !== undefined && !(timeout > 0)) throw new Error(`--python-timeout expects seconds (a number > 0), got: ${f.pythonTimeout}`);
  configurePython({ ...(f.pythonPath ? { paths: f.pythonPath } : {}), ...(timeout ? { timeoutMs: timeout * 1000 } : {}) });
}

/**
 * `--no-code` (scan, test, rules list, explain): Panther rules whose body is code
 * (TypeScript/JavaScript/Python) are not loaded, listed as not run.
 */
export function noCodeOption(): Option {
  return new Option('--no-code', `do not run rule bodies written as code (TypeScript/JavaScript/Python bodies of Panther YAMLs): such rules are listed as not run ("${CODE_DISABLED_REASON}")`);
}

/** Apply `--no-code` from a command's parsed options (commander: `code: false`). */
export function applyNoCode(flags: object): void {
  setPantherCodeDisabled((flags as { code?: boolean }).code === false);
}

/** The rule roots the user gave (`--rules`): Panther bodies may sit below them. */
export function setRuleRoots(paths: string[]): void {
  setPantherRuleRoots(paths);
}

/** Register `oktopus test` on the program. */
export function registerTestCommand(program: Command, setExit: (code: number) => void = (c) => (process.exitCode = c)): void {
  program
    .command('test')
    .description('run rule unit tests: Panther Tests: (ExpectedResult, Mocks, expected title/dedup/severity/alert_context) and <rule>.tests.yml fixtures')
    .argument('[paths...]', 'rule files and folders (default: the built-in rules)')
    .option('--bodies <dir>', 'a folder of TypeScript/JavaScript rule bodies (ports of Panther .py files, by base name); repeatable. Bodies are code and run with your rights', collect)
    .addOption(noCodeOption())
    .addOption(pythonPathOption())
    .addOption(pythonTimeoutOption())
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--json', 'print the results as JSON')
    .action(async (paths: string[], opts: { bodies?: string[]; pythonPath?: string[]; pythonTimeout?: string; junit?: string; json?: boolean; code?: boolean }) => {
      if (opts.bodies) setPantherBodyPaths(opts.bodies);
      applyNoCode(opts);
      setPantherRuleRoots(paths.length ? paths : [DEFAULT_RULES]);
      applyPythonFlags(opts);
      let rows: TestResult[];
      try {
        rows = await runTests(paths.length ? paths : [DEFAULT_RULES]);
      } finally {
        closePython();
      }
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(rows.length ? formatTable(rows) : 'no tests found\n');
      if (opts.junit) writeFileSync(opts.junit, junitXml(rows));
      const failed = rows.some((r) => r.status === 'fail' || r.status === 'error');
      setExit(failed ? 1 : 0);
    });
}

