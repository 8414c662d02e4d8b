/**
 * The EQL conformance suite of the Python reference engine (endgameinc/eql `eql/etc/`, reference
 * elastic.md §2.2), run through the whole oktopus path: parser ('python' syntax) -> IR
 * (to-ir.ts) -> Engine (stages, expression evaluator) -> alerts. Called by conformance.ts with
 * the corpus folder (`../shared/corpus/eql`); nothing here is copied into the project.
 *
 *  - test_queries.toml + test_data.json: every query runs over the 102 events in one Engine per
 *    query (MemoryStore, reorder window 0 so stateful rules see the events in input order, as
 *    the Python engine streams them: it does not sort); `flush()` closes the pipe windows. The
 *    ids of the alerts' events are concatenated in output order (sequences: the shell alert of
 *    each sequence, its events in step order) and compared with `expected_event_ids`.
 *    Two modes: case-insensitive (the Python engine's own: queries flagged case_insensitive or
 *    unflagged) and case-sensitive (flagged case_sensitive or unflagged).
 *  - test_folding.toml, test_string_functions.toml: each expression (no event) evaluated with
 *    'python' semantics, compared with `expected` (missing = null); groups flagged
 *    case_sensitive / case_insensitive run in that mode only, the others in both.
 *
 * Events: `timestamp` is a Windows FILETIME (100 ns since 1601; read exactly, as a BigInt),
 * `serial_event_id` the id, `event_type` the category (a field the query reads: categoryField).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { makeEvent, type CanonicalEvent, type JsonObject } from '../src/event/types.js';
import type { RuleIR } from '../src/ir/types.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { compileExpr } from '../src/engine/expr/index.js';
import { compilePath } from '../src/schema/path.js';
import { eqlToStages, exprToValue, parseEqlExpression, EqlSyntaxError, EqlUnsupportedError } from '../src/dialects/elastic/eql/index.js';

/** FILETIME of 1970-01-01T00:00:00Z. */
const FILETIME_EPOCH = 116444736000000000n;

export interface EqlQueryFailure {
  mode: 'insensitive' | 'sensitive';
  query: string;
  reason: string;
  detail: string;
}

export interface EqlFoldFailure {
  file: string;
  group: string;
  mode: 'insensitive' | 'sensitive';
  expression: string;
  detail: string;
}

export interface EqlConformanceReport {
  /** Absent corpus: the message to print. */
  skipped?: string;
  queries: { insensitive: { pass: number; total: number }; sensitive: { pass: number; total: number } };
  queryFailures: EqlQueryFailure[];
  folds: { file: string; pass: number; total: number }[];
  foldFailures: EqlFoldFailure[];
}

interface QueryCase {
  query: string;
  expected_event_ids: number[];
  case_sensitive?: boolean;
  case_insensitive?: boolean;
}

/** FILETIME (100 ns units since 1601) -> epoch milliseconds, without losing the 100 ns digits. */
export function filetimeToMs(ft: bigint): number {
  const d = ft - FILETIME_EPOCH;
  return Number(d / 10000n) + Number(d % 10000n) / 10000;
}

/** test_data.json as canonical events, in file order. Timestamps are read from the text as BigInts (they exceed 2^53). */
export function loadEvents(text: string): CanonicalEvent[] {
  const docs = JSON.parse(text) as JsonObject[];
  const stamps = [...text.matchAll(/"timestamp"\s*:\s*(\d+)/g)].map((m) => BigInt(m[1]!));
  if (stamps.length !== docs.length) throw new Error(`test_data.json: ${docs.length} events but ${stamps.length} timestamps`);
  return docs.map((doc, i) =>
    makeEvent({
      kind: 'okta',
      id: String(doc['serial_event_id']),
      time: filetimeToMs(stamps[i]!),
      eventType: typeof doc['event_type'] === 'string' ? doc['event_type'] : '',
      doc,
      origin: `test_data.json:${i + 1}`,
      depth: 0,
      shape: 'okta',
    }),
  );
}

function ruleOf(id: string, query: string, stages: RuleIR['stages']): RuleIR {
  return {
    id,
    name: query.trim().split('\n')[0]!.slice(0, 80),
    dialect: 'elastic',
    ruleType: 'eql',
    file: 'test_queries.toml',
    severity: 'low',
    riskScore: 21,
    tags: [],
    threat: [],
    references: [],
    falsePositives: [],
    input: 'okta',
    enabled: true,
    stages,
  };
}

const eventUuids = compilePath('oktopus.event_uuids');
const synthetic = compilePath('oktopus.synthetic');

/** Runs one query over the events; the serial ids of its output, in output order. */
export function runQuery(query: string, events: CanonicalEvent[], caseInsensitive: boolean, n = 0): number[] {
  const { stages } = eqlToStages(query, { syntax: 'python', caseInsensitive, schema: 'okta', categoryField: 'event_type', windowMs: Infinity });
  const rule = ruleOf(`eql-conformance-${n}`, query, stages);
  const engine = new Engine([rule], { schema: { org: 'eql-conformance' }, store: new MemoryStore(), reorderWindowMs: 0 });
  const failed = engine.unsupported[0];
  if (failed) throw new CompileFailure(failed.reason);
  for (const ev of events) engine.push(ev);
  engine.flush();
  const isSequence = stages.some((s) => s.type === 'sequence');
  const ids: number[] = [];
  for (const a of engine.takeAlerts()) {
    if (isSequence && a.doc['kibana.alert.group.index'] !== undefined) continue; // a building block
    if (synthetic(a.doc) === true) continue; // `| count`: no source event (Python emits a new one)
    const uuids = eventUuids(a.doc);
    for (const u of Array.isArray(uuids) ? uuids : [uuids]) ids.push(Number(u));
  }
  return ids;
}

class CompileFailure extends Error {}

function classify(err: unknown): { reason: string; detail: string } {
  if (err instanceof EqlUnsupportedError) return { reason: `unsupported: ${err.construct}`, detail: err.message };
  if (err instanceof EqlSyntaxError) return { reason: 'syntax error', detail: err.message };
  if (err instanceof CompileFailure) return { reason: `compile error: ${err.message.replace(/"[^"]*"/g, '"…"')}`, detail: err.message };
  return { reason: `exception: ${(err as Error).message}`, detail: (err as Error).stack ?? String(err) };
}

const sameList = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/* ---------------------------------------- fold files ---------------------------------------- */

interface FoldVector {
  group: string;
  expression: string;
  expected: unknown;
  modes: boolean[];
}

/** The Python suite's fold format: `[group]` (case flags), `[[group.fold.tests]]`, `[[group.loop]]` with `$param` samples. */
function foldVectors(doc: Record<string, unknown>): FoldVector[] {
  const out: FoldVector[] = [];
  const samples: Record<string, string[]> = { bool: ['true', 'false'], int: ['1', '-4'], string: ['"foo"'], float: ['1.5'], null: ['null'] };
  for (const [group, raw] of Object.entries(doc)) {
    const g = raw as {
      case_sensitive?: boolean;
      case_insensitive?: boolean;
      fold?: { tests?: { expression: string; expected?: unknown }[] };
      loop?: { param: { type: string[]; name: string }; fold: { tests: { expression: string; expected?: unknown }[] } }[];
    };
    const modes = g.case_sensitive ? [false] : g.case_insensitive ? [true] : [true, false];
    for (const t of g.fold?.tests ?? []) out.push({ group, expression: t.expression, expected: t.expected ?? null, modes });
    for (const loop of g.loop ?? []) {
      for (const type of loop.param.type) {
        for (const v of samples[type] ?? []) {
          for (const t of loop.fold.tests) {
            out.push({ group: `${group}[${type}]`, expression: t.expression.replaceAll(`$${loop.param.name}`, v), expected: t.expected ?? null, modes });
          }
        }
      }
    }
  }
  return out;
}

/** An expression's value with no event, 'python' semantics. */
export function foldExpression(expression: string, caseInsensitive: boolean): unknown {
  const ir = exprToValue(parseEqlExpression(expression, { syntax: 'python' }), { syntax: 'python', caseInsensitive, schema: 'okta', categoryField: 'event_type' });
  const ev = compileExpr(
    ir,
    () => {
      throw new Error('a fold expression reads no field');
    },
    'python',
  );
  return ev(undefined as unknown as CanonicalEvent) ?? null;
}

const sameValue = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) < 1e-9 : JSON.stringify(a) === JSON.stringify(b);

/* ------------------------------------------- run ------------------------------------------- */

export function runEqlConformance(dir: string): EqlConformanceReport {
  const report: EqlConformanceReport = {
    queries: { insensitive: { pass: 0, total: 0 }, sensitive: { pass: 0, total: 0 } },
    queryFailures: [],
    folds: [],
    foldFailures: [],
  };
  const queriesFile = join(dir, 'test_queries.toml');
  const dataFile = join(dir, 'test_data.json');
  if (!existsSync(queriesFile) || !existsSync(dataFile)) {
    report.skipped = `${dir} has no test_queries.toml / test_data.json; skipped`;
    return report;
  }
  const events = loadEvents(readFileSync(dataFile, 'utf8'));
  const cases = (parseToml(readFileSync(queriesFile, 'utf8')) as unknown as { queries: QueryCase[] }).queries;
  let n = 0;
  for (const c of cases) {
    const modes: ('insensitive' | 'sensitive')[] = [];
    if (c.case_insensitive || !c.case_sensitive) modes.push('insensitive');
    if (c.case_sensitive || !c.case_insensitive) modes.push('sensitive');
    for (const mode of modes) {
      report.queries[mode].total++;
      try {
        const got = runQuery(c.query, events, mode === 'insensitive', n++);
        if (sameList(got, c.expected_event_ids)) report.queries[mode].pass++;
        else report.queryFailures.push({ mode, query: c.query.trim(), reason: 'wrong result', detail: `got ${JSON.stringify(got)}, expected ${JSON.stringify(c.expected_event_ids)}` });
      } catch (err) {
        report.queryFailures.push({ mode, query: c.query.trim(), ...classify(err) });
      }
    }
  }
  for (const file of ['test_folding.toml', 'test_string_functions.toml']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const row = { file, pass: 0, total: 0 };
    for (const v of foldVectors(parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>)) {
      for (const ci of v.modes) {
        row.total++;
        const mode = ci ? 'insensitive' : 'sensitive';
        try {
          const got = foldExpression(v.expression, ci);
          if (sameValue(got, v.expected)) row.pass++;
          else report.foldFailures.push({ file, group: v.group, mode, expression: v.expression, detail: `got ${JSON.stringify(got)}, expected ${JSON.stringify(v.expected)}` });
        } catch (err) {
          report.foldFailures.push({ file, group: v.group, mode, expression: v.expression, detail: `threw ${(err as Error).message.split('\n')[0]}` });
        }
      }
    }
    report.folds.push(row);
  }
  return report;
}

/** The report as lines for conformance.ts ("conformance suites:" section). */
export function formatEqlConformance(r: EqlConformanceReport, verbose: boolean): string[] {
  if (r.skipped) return [`  eql: ${r.skipped}`];
  const lines: string[] = [];
  const q = r.queries;
  lines.push(`  eql test_queries.toml (python syntax, whole engine): case-insensitive ${q.insensitive.pass}/${q.insensitive.total}, case-sensitive ${q.sensitive.pass}/${q.sensitive.total}`);
  for (const f of r.folds) lines.push(`  eql ${f.file} (expressions, python semantics): ${f.pass}/${f.total}`);
  if (r.queryFailures.length > 0) {
    lines.push('  eql query failures by reason (both modes):');
    const byReason = new Map<string, number>();
    for (const f of r.queryFailures) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
    for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`    ${String(count).padStart(3)}  ${reason}`);
  }
  if (r.foldFailures.length > 0) {
    lines.push('  eql expression failures by group:');
    const byGroup = new Map<string, number>();
    for (const f of r.foldFailures) byGroup.set(`${f.file} [${f.group.replace(/\[.*$/, '')}]`, (byGroup.get(`${f.file} [${f.group.replace(/\[.*$/, '')}]`) ?? 0) + 1);
    for (const [g, count] of byGroup) lines.push(`    ${String(count).padStart(3)}  ${g}`);
  }
  if (verbose) {
    for (const f of r.queryFailures) {
      lines.push(`  - [${f.mode}] ${f.reason}: ${f.query.replace(/\s*\n\s*/g, ' ')}`);
      lines.push(`      ${f.detail.split('\n')[0]}`);
    }
    for (const f of r.foldFailures) lines.push(`  - [${f.mode}] ${f.file} ${f.group}: ${f.expression} ${f.detail}`);
  } else if (r.queryFailures.length + r.foldFailures.length > 0) {
    lines.push('  (npm run conformance -- --verbose lists each failure)');
  }
  return lines;
}
