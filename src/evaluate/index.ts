/**
 * `oktopus evaluate`: the detection-quality report (docs/evaluate.md). The rules run on a
 * simulated log through the ordinary scan pipeline (`runScan`, a fresh in-memory store, the end of
 * the input as the end of time, as `scan --memory`); the alerts a sink receives are scored against
 * the ground truth (score.ts). Exception lists are a second rule set: the log is run again with
 * them and the two runs compared (compare.ts); the main report is the run a team would deploy,
 * the one with its exceptions.
 */
import type { RuleIR } from '../ir/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { StateStore, StoredAlert } from '../store/types.js';
import type { Engine } from '../engine/engine.js';
import { runScan, type ScanResult } from '../pipeline/scan.js';
import { ruleUuid } from '../alerts/build.js';
import { readLogFacts, type LogFacts } from './log-facts.js';
import { alertFact, evaluate, type Evaluation, type RuleFact } from './score.js';
import { compareRuns, type ExceptionItemCount, type ExceptionsReport } from './compare.js';
import type { Truth } from './truth.js';

export const REPORT_FORMAT = 'oktopus-evaluate/1';

export interface RunResult {
  /** Alerts the sinks received (building blocks included), with their latest update applied. */
  alerts: StoredAlert[];
  scan: ScanResult;
}

/** Run rules on the inputs, collecting every delivered alert. */
export async function runRules(opts: {
  inputs: string[];
  rules: RuleIR[];
  store: StateStore;
  schema: SchemaContext;
  timeField?: string;
  reorderWindowMs?: number;
  onBadRecord?: (line: string) => void;
  onNote?: (line: string) => void;
}): Promise<RunResult> {
  const alerts = new Map<string, StoredAlert>();
  const scan = await runScan({
    inputs: opts.inputs,
    rules: opts.rules,
    store: opts.store,
    schema: opts.schema,
    timeField: opts.timeField,
    reorderWindowMs: opts.reorderWindowMs,
    onBadRecord: opts.onBadRecord,
    onNote: opts.onNote,
    closeWindows: true,
    sinks: [
      {
        write: (a) => void alerts.set(a.uuid, a),
        update: (uuid, doc) => {
          const a = alerts.get(uuid);
          if (a) alerts.set(uuid, { ...a, doc });
        },
        close: async () => {},
      },
    ],
  });
  return { alerts: [...alerts.values()], scan };
}

export function ruleFacts(rules: RuleIR[]): RuleFact[] {
  return rules
    .filter((r) => r.enabled)
    .map((r) => ({ uuid: ruleUuid(r), id: r.id, name: r.name, dialect: r.dialect, severity: r.severity, higherOrder: r.input !== 'okta' }));
}

export interface EvaluationReport {
  format: typeof REPORT_FORMAT;
  truth: { file: string; format: string };
  tenant: Evaluation['tenant'];
  scenarios: Evaluation['scenarios'];
  rules: Evaluation['rules'];
  benign: Evaluation['benign'];
  exceptions?: ExceptionsReport;
  totals: Evaluation['totals'];
  warnings: string[];
}

export interface EvaluateLogOptions {
  inputs: string[];
  truth: Truth;
  rules: RuleIR[];
  /** The same rules with the team's exception lists attached: the second run. */
  withExceptions?: {
    rules: RuleIR[];
    lists: string[];
    /** The engine's per-item counts of excepted events. */
    counts(engine: Engine): ExceptionItemCount[];
  };
  /** A fresh store and schema for one run (each run starts from nothing). */
  openRun(): { store: StateStore; schema: SchemaContext };
  withinMs: number;
  timeField?: string;
  reorderWindowMs?: number;
  onBadRecord?: (line: string) => void;
  onNote?: (line: string) => void;
}

export interface EvaluateLogResult {
  report: EvaluationReport;
  /** The deployed run (with exceptions when given). */
  scan: ScanResult;
  facts: LogFacts;
}

function scored(run: RunResult, rules: RuleIR[], o: EvaluateLogOptions, facts: LogFacts): Evaluation {
  return evaluate({ truth: o.truth, facts, rules: ruleFacts(rules), alerts: run.alerts.map(alertFact), withinMs: o.withinMs });
}

async function runOnce(o: EvaluateLogOptions, rules: RuleIR[], quiet: boolean): Promise<RunResult> {
  const { store, schema } = o.openRun();
  try {
    return await runRules({
      inputs: o.inputs,
      rules,
      store,
      schema,
      timeField: o.timeField,
      reorderWindowMs: o.reorderWindowMs,
      // Bad records and notes are reported once, by the first run.
      onBadRecord: quiet ? undefined : o.onBadRecord,
      onNote: quiet ? undefined : o.onNote,
    });
  } finally {
    store.close();
  }
}

export async function evaluateLog(o: EvaluateLogOptions): Promise<EvaluateLogResult> {
  const facts = await readLogFacts(o.inputs, o.truth, { timeField: o.timeField });
  if (facts.events === 0) throw new Error(`no usable Okta events in ${o.inputs.join(', ')} (wrong --time-field, or not Okta System Log data?): nothing to evaluate`);
  const base = await runOnce(o, o.rules, false);
  const baseEval = scored(base, o.rules, o, facts);
  let deployed = { run: base, evaluation: baseEval };
  let exceptions: ExceptionsReport | undefined;
  if (o.withExceptions) {
    const run = await runOnce(o, o.withExceptions.rules, true);
    const evaluation = scored(run, o.withExceptions.rules, o, facts);
    const names = new Map(o.rules.map((r) => [ruleUuid(r), r.name]));
    const byUuid = (r: RunResult) => new Map(r.alerts.map((a) => [a.uuid, String(a.doc['kibana.alert.rule.uuid'] ?? '')]));
    const delta = compareRuns({ evaluation: baseEval, alerts: byUuid(base) }, { evaluation, alerts: byUuid(run) }, names);
    // Rows name rules by id, as everywhere else in the report.
    const ids = new Map(o.rules.map((r) => [ruleUuid(r), r.id]));
    exceptions = {
      lists: o.withExceptions.lists,
      items: o.withExceptions.counts(run.scan.engine),
      rules: delta.rules.map((r) => ({ ...r, id: ids.get(r.id) ?? r.id })),
      scenariosLost: delta.scenariosLost,
    };
    deployed = { run, evaluation };
  }
  const e = deployed.evaluation;
  const report: EvaluationReport = {
    format: REPORT_FORMAT,
    truth: { file: o.truth.file, format: o.truth.format },
    tenant: e.tenant,
    scenarios: e.scenarios,
    rules: e.rules,
    benign: e.benign,
    ...(exceptions ? { exceptions } : {}),
    totals: e.totals,
    warnings: e.warnings,
  };
  return { report, scan: deployed.run.scan, facts };
}
