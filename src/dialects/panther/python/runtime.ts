/**
 * The `python` code runtime: Panther rule bodies that are `.py` files, run unchanged in python3
 * worker processes (pool.ts, worker.py, standard library only).
 *
 * The engine's predicates are synchronous, so Python rules are evaluated per batch *before*
 * the engine sees the events: the pipeline awaits `prepare(events)` for each batch of adapted
 * events; every Python rule's `rule()` runs on the batch (only on the events that pass the
 * rule's other conditions, its InlineFilters), and for matching events the presentation
 * functions (title, dedup, severity, alert_context, description, reference, runbook,
 * destinations, unique) run in the same round trip. The results go to `ev.cache`, where the
 * compiled `code` predicate and the presentation (../present.ts) read them.
 *
 * Errors: an exception in `rule()` is that event's error (no match). A crash, a hang (no
 * answer within the timeout) or garbage on the protocol in one rule makes that rule's result
 * for the batch "error" (no match for its events): counted (`codeErrors`), reported once per
 * rule with the reason (one line), the worker restarted; no event is lost or reordered (the
 * pipeline pushes the same events, in order, whatever the results), other rules unaffected.
 *
 * An event that reaches the engine without having been prepared (an Engine used directly,
 * events reloaded from a saved reorder window after a restart) is evaluated on its own in a
 * short-lived worker: correct, but a process per event.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, delimiter, resolve } from 'node:path';
import type { CanonicalEvent, Json } from '../../../event/types.js';
import type { Predicate } from '../../../ir/types.js';
import type { EnrichmentContext } from '../../../enrich/context.js';
import { compilePredicate } from '../../../engine/predicate/index.js';
import { recordCodeError, type CodeRuntime, type CodeUse, type PrepareContext } from '../../../engine/code/registry.js';
import { pantherBlock } from '../../../enrich/view.js';
import { pantherDocument } from '../event.js';
import { evaluateOnce, PythonPool, pythonProblem, type EvalTask, type PoolOptions, type TaskResult } from './pool.js';

export const DEFAULT_PYTHON_TIMEOUT_MS = 30_000;

export interface PythonSettings {
  /** The interpreter (default: env OKTOPUS_PYTHON, else python3). */
  python?: string;
  /** Helper folders (`--python-path`); env OKTOPUS_PYTHON_PATH (path list) is added. */
  paths?: string[];
  /** Per rule and batch (default: env OKTOPUS_PYTHON_TIMEOUT seconds, else 30 s). */
  timeoutMs?: number;
  /** At most this many workers (default: one per CPU). */
  workers?: number;
}

/** What a Python body said about one event (kept in `ev.cache`). */
export type PythonResult =
  | { kind: 'match'; fns: Record<string, { v?: unknown; e?: string }> }
  | { kind: 'no-match' }
  /** rule() raised (`worker` false), or the worker failed on the batch (crash, hang, garbage, load error). */
  | { kind: 'error'; message: string; worker?: boolean }
  /** The rule's other conditions (InlineFilters) already rule the event out: not sent. */
  | { kind: 'skipped' };

let settings: PythonSettings = {};
let pool: PythonPool | undefined;
/** Modules whose first error was reported (one line per rule). */
const reported = new Set<string>();

/** Set where helpers are, the timeout, the interpreter (restarts the workers). */
export function configurePython(s: PythonSettings): void {
  settings = { ...settings, ...s };
  closePython();
}

export function pythonOptions(): PoolOptions {
  const env = process.env;
  const envPaths = (env['OKTOPUS_PYTHON_PATH'] ?? '').split(delimiter).filter(Boolean);
  const envTimeout = Number(env['OKTOPUS_PYTHON_TIMEOUT']);
  return {
    python: settings.python ?? env['OKTOPUS_PYTHON'] ?? 'python3',
    paths: [...(settings.paths ?? []), ...envPaths].map((p) => resolve(p)),
    timeoutMs: settings.timeoutMs ?? (envTimeout > 0 ? envTimeout * 1000 : DEFAULT_PYTHON_TIMEOUT_MS),
    workers: settings.workers ?? availableParallelism(),
  };
}

function thePool(): PythonPool {
  pool ??= new PythonPool(pythonOptions());
  return pool;
}

/** Stop the workers (they are started again when needed). */
export function closePython(): void {
  pool?.close();
  pool = undefined;
}

/** Workers started so far by the current pool (first starts and restarts). */
export function pythonWorkersStarted(): number {
  return pool?.started ?? 0;
}

const cacheKey = (module: string): string => `python:${module}`;

/** The precomputed result of a Python body for an event, if any. */
export function pythonResult(module: string, ev: CanonicalEvent): PythonResult | undefined {
  return ev.cache.get(cacheKey(module)) as PythonResult | undefined;
}

function eventsLine(events: CanonicalEvent[], enrichment: EnrichmentContext | undefined): string {
  return JSON.stringify({
    op: 'events',
    events: events.map((ev) => ({ d: pantherDocument(ev.doc, ev.time, enrichment ? () => pantherBlock(ev, enrichment) as Json | undefined : undefined), t: Number.isFinite(ev.time) ? ev.time : null })),
  });
}

function report(module: string, ruleIds: string[], what: string, onNote?: (line: string) => void): void {
  if (reported.has(module)) return;
  reported.add(module);
  onNote?.(`python rule ${ruleIds.join(', ')} (${basename(module)}): ${what} (later errors of this rule are counted, not shown)`);
}

/** Turn a task's answer into per-event results (and count / report errors). */
function results(module: string, ruleIds: string[], r: TaskResult, count: number, onNote?: (line: string) => void): PythonResult[] {
  if (!r.ok) {
    recordCodeError(module, r.reason);
    report(module, ruleIds, r.batchFailure ? `error in a batch of ${count} event(s), counted as no match; the worker was restarted: ${r.reason}` : r.reason, onNote);
    return new Array<PythonResult>(count).fill({ kind: 'error', message: r.reason, worker: true });
  }
  return r.results.map((x): PythonResult => {
    if (x === 0 || x === null) return { kind: 'no-match' };
    if ('e' in x) {
      recordCodeError(module, x.e);
      report(module, ruleIds, `rule() raised ${x.e}`, onNote);
      return { kind: 'error', message: x.e };
    }
    return { kind: 'match', fns: x.f ?? {} };
  });
}

const prefilters = new WeakMap<CodeUse['predicate'], (ev: CanonicalEvent) => boolean>();

function prefilter(use: CodeUse, ctx: PrepareContext): ((ev: CanonicalEvent) => boolean) | undefined {
  if (use.siblings.length === 0) return undefined;
  let f = prefilters.get(use.predicate);
  if (!f) {
    const p: Predicate = use.siblings.length === 1 ? use.siblings[0]! : { type: 'and', args: use.siblings };
    f = compilePredicate(p, ctx.schema);
    prefilters.set(use.predicate, f);
  }
  return f;
}

async function prepare(events: CanonicalEvent[], uses: CodeUse[], ctx: PrepareContext): Promise<void> {
  const batch = events.filter((ev) => ev.kind === 'okta');
  if (batch.length === 0) return;
  const byModule = new Map<string, CodeUse[]>();
  for (const u of uses) byModule.set(u.predicate.module, [...(byModule.get(u.predicate.module) ?? []), u]);
  const tasks: EvalTask[] = [];
  const owners: { module: string; ids: string[]; idx: number[] }[] = [];
  for (const [module, list] of byModule) {
    // One body used by several rules: every event is evaluated (their other conditions differ).
    const test = list.length === 1 ? prefilter(list[0]!, ctx) : undefined;
    let idx: number[] | null = null;
    if (test) {
      idx = [];
      for (let i = 0; i < batch.length; i++) {
        if (test(batch[i]!)) idx.push(i);
        else batch[i]!.cache.set(cacheKey(module), { kind: 'skipped' } satisfies PythonResult);
      }
      if (idx.length === 0) continue;
    }
    tasks.push({ module, idx });
    owners.push({ module, ids: list.map((u) => u.rule.id), idx: idx ?? batch.map((_, i) => i) });
  }
  if (tasks.length === 0) return;
  const answers = await thePool().evaluate(eventsLine(batch, ctx.schema.enrichment), batch.length, tasks);
  answers.forEach((answer, t) => {
    const o = owners[t]!;
    const per = results(o.module, o.ids, answer, o.idx.length, ctx.onNote);
    o.idx.forEach((i, k) => batch[i]!.cache.set(cacheKey(o.module), per[k]!));
  });
}

/** One event, now, in a short-lived worker (events the pipeline did not prepare). */
function evaluateNow(module: string, ev: CanonicalEvent, enrichment: EnrichmentContext | undefined): PythonResult {
  const r = evaluateOnce(pythonOptions(), eventsLine([ev], enrichment), { module, idx: null });
  return results(module, [basename(module)], r, 1)[0]!;
}

/**
 * Run one Panther test (`oktopus test`): rule() and the presentation functions on one event,
 * with the test's Mocks patched into the rule module; the result is left in the event's cache.
 */
export async function evaluatePythonTest(module: string, ev: CanonicalEvent, mocks: EvalTask['mocks'], enrichment?: EnrichmentContext): Promise<PythonResult> {
  const problem = pythonProblem(pythonOptions().python);
  if (problem) return { kind: 'error', message: problem, worker: true };
  const [answer] = await thePool().evaluate(eventsLine([ev], enrichment), 1, [{ module, idx: null, mocks }]);
  let res: PythonResult;
  if (!answer!.ok) res = { kind: 'error', message: answer!.reason, worker: true };
  else {
    const x = answer!.results[0];
    res = !x ? { kind: 'no-match' } : 'e' in x ? { kind: 'error', message: x.e } : { kind: 'match', fns: x.f ?? {} };
  }
  ev.cache.set(cacheKey(module), res);
  return res;
}

export const pythonRuntime: CodeRuntime = {
  name: 'python',
  compile(p, ctx) {
    if (!existsSync(p.module)) throw new Error(`${p.module}: no such file`);
    const problem = pythonProblem(pythonOptions().python);
    if (problem) throw new Error(`python rule body ${basename(p.module)}: ${problem}`);
    const key = cacheKey(p.module);
    return (ev) => {
      let r = ev.cache.get(key) as PythonResult | undefined;
      if (!r) {
        r = evaluateNow(p.module, ev, ctx.enrichment);
        ev.cache.set(key, r);
      }
      return r.kind === 'match';
    };
  },
  prepare,
  async close() {
    closePython();
    reported.clear(); // the next scan reports its own first errors
  },
};
