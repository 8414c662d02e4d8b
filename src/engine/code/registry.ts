/**
 * Code runtimes: how the engine runs a `code` predicate (a rule body written as a program)
 * without knowing any dialect.
 *
 * A `code` predicate names its runtime (`javascript`, the default, or `python`). A dialect that
 * produces code predicates ships the runtimes they need: its `dialect.ts` exports `runtimes`,
 * and the rule loader (src/rules/load.ts) registers them when it discovers the dialect (a
 * dialect module may also register them when it is imported). So a new dialect — or a new
 * language for rule bodies — touches only its own folder.
 *
 * The engine's predicates are synchronous. A runtime that cannot answer synchronously (Python
 * rules run in worker processes) implements `prepare`: the pipeline awaits it for each batch of
 * adapted events *before* the engine sees them, and the runtime leaves its results in each
 * event's cache, where its compiled predicate reads them.
 */
import type { CanonicalEvent } from '../../event/types.js';
import type { Predicate, RuleIR } from '../../ir/types.js';
import type { SchemaContext } from '../../schema/index.js';

export type CodePredicate = Extract<Predicate, { type: 'code' }>;
export type CodeRuntimeName = NonNullable<CodePredicate['runtime']>;

/** One rule's use of a code predicate (what a runtime's `prepare` works on). */
export interface CodeUse {
  rule: RuleIR;
  predicate: CodePredicate;
  /**
   * The rule's other conditions ANDed with the code predicate (Panther InlineFilters), when
   * they can be tested on their own: events failing them need not be sent to the body.
   */
  siblings: Predicate[];
}

export interface PrepareContext {
  schema: SchemaContext;
  /** One line for the user (a rule's first error, with the reason). */
  onNote?: (line: string) => void;
}

export interface CodeRuntime {
  readonly name: CodeRuntimeName;
  /** Compile a code predicate into a synchronous test. Throws when the body cannot run. */
  compile(p: CodePredicate, ctx: SchemaContext): (ev: CanonicalEvent) => boolean;
  /** Work on a batch of events before the engine sees them (results go to `ev.cache`). */
  prepare?(events: CanonicalEvent[], uses: CodeUse[], ctx: PrepareContext): Promise<void>;
  /** Release what `prepare` started (worker processes). */
  close?(): Promise<void>;
}

const runtimes = new Map<string, CodeRuntime>();

/** Register (or replace) a runtime; idempotent for the same object. */
export function registerCodeRuntime(rt: CodeRuntime): void {
  runtimes.set(rt.name, rt);
}

export function registerCodeRuntimes(list: readonly CodeRuntime[] | undefined): void {
  for (const rt of list ?? []) registerCodeRuntime(rt);
}

export function codeRuntime(name: string): CodeRuntime | undefined {
  return runtimes.get(name);
}

/** The runtime of a code predicate; throws (the rule is then reported as unsupported) when none is registered. */
export function runtimeFor(p: CodePredicate): CodeRuntime {
  const name = p.runtime ?? 'javascript';
  const rt = runtimes.get(name);
  if (!rt) throw new Error(`no code runtime '${name}' is registered for ${p.module} (the dialect providing it was not loaded)`);
  return rt;
}

/** Errors raised by code rule bodies, per module: count and last message (`oktopus test`, scan notes). */
export const codeErrors = new Map<string, { count: number; last: string }>();

export function recordCodeError(module: string, message: string, count = 1): void {
  const entry = codeErrors.get(module) ?? { count: 0, last: '' };
  entry.count += count;
  entry.last = message;
  codeErrors.set(module, entry);
}

/** Every code predicate of a rule (its filter stages, sequence steps, pipes…), with its AND-siblings. */
export function codeUses(rule: RuleIR): CodeUse[] {
  const out: CodeUse[] = [];
  const visit = (p: Predicate, siblings: Predicate[] | undefined): void => {
    switch (p.type) {
      case 'code':
        out.push({ rule, predicate: p, siblings: siblings ?? [] });
        return;
      case 'and':
        for (const a of p.args) {
          const others = p.args.filter((b) => b !== a);
          // Only a direct conjunct may be pre-filtered by its siblings (under `not` or `or` it may not).
          visit(a, siblings === undefined ? undefined : [...siblings, ...others]);
        }
        return;
      case 'or':
        for (const a of p.args) visit(a, undefined);
        return;
      case 'not':
        visit(p.arg, undefined);
        return;
      case 'elements':
        visit(p.where, undefined);
        return;
      default:
        return;
    }
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const p = o['predicate'] as Predicate | undefined;
      // A filter stage's predicate is the rule's head (its conjuncts may pre-filter a code leaf);
      // others (sequence steps, until, pipe filters) are visited without that shortcut.
      if (p && typeof p === 'object' && typeof p.type === 'string') visit(p, o['type'] === 'filter' ? [] : undefined);
      for (const [k, x] of Object.entries(o)) if (k !== 'predicate') walk(x);
    }
  };
  walk(rule.stages);
  return out;
}

export interface BatchPreparer {
  /** Await before pushing these events (in this order) to the engine. */
  prepare(events: CanonicalEvent[]): Promise<void>;
  /** Stop the runtimes' workers. */
  close(): Promise<void>;
}

/**
 * The per-batch hook for a set of rules: undefined when no enabled rule uses a runtime that
 * needs one (the pipeline then pushes events as it reads them).
 */
export function batchPreparer(rules: RuleIR[], ctx: PrepareContext): BatchPreparer | undefined {
  const byRuntime = new Map<CodeRuntime, CodeUse[]>();
  for (const rule of rules) {
    if (!rule.enabled) continue;
    for (const use of codeUses(rule)) {
      const rt = runtimes.get(use.predicate.runtime ?? 'javascript');
      if (!rt?.prepare) continue;
      const list = byRuntime.get(rt) ?? [];
      list.push(use);
      byRuntime.set(rt, list);
    }
  }
  if (byRuntime.size === 0) return undefined;
  return {
    async prepare(events) {
      if (events.length === 0) return;
      await Promise.all([...byRuntime].map(([rt, uses]) => rt.prepare!(events, uses, ctx)));
    },
    async close() {
      await Promise.all([...byRuntime.keys()].map((rt) => rt.close?.()));
    },
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Alert presentation                                                                        */
/* ---------------------------------------------------------------------------------------- */

/**
 * How a rule whose alerts are shaped by its own code or metadata (Panther's title(), dedup(),
 * severity(), AlertTitle, GroupBy…) presents an alert for one event. The engine's dedup stage
 * and the alert builder call the presenter registered for the rule's dialect; the dialect
 * registers it (the engine never imports a dialect folder).
 */
export interface RulePresentation {
  /** The alert title (kibana.alert.reason). */
  title: string;
  /** The dedup string (the key of the rule's dedup/threshold window). */
  dedup: string;
  severity: import('../../ir/types.js').Severity;
  /** The value counted by unique-value thresholds. */
  unique?: string;
}

export interface AlertPresenter<P extends RulePresentation = RulePresentation> {
  /** Compute (once per rule, event and schema context) how the rule presents an alert for `ev`. */
  present(rule: RuleIR, ev: CanonicalEvent, schema: SchemaContext): P;
  /** Extra alert document fields (flat dotted names) for a presentation. */
  alertFields(rule: RuleIR, p: P): import('../../event/types.js').JsonObject;
}

const presenters = new Map<string, AlertPresenter>();

/** Register the presenter of a dialect's rules (`rule.dialect`). */
export function registerPresenter(dialect: string, p: AlertPresenter): void {
  presenters.set(dialect, p as AlertPresenter);
}

/**
 * The presenter of a rule: registered by its dialect for rules that carry presentation metadata
 * (Panther rules: `rule.panther`), undefined for the others.
 */
export function presenterFor(rule: RuleIR): AlertPresenter | undefined {
  if (!rule.panther) return undefined;
  const p = presenters.get(rule.dialect);
  if (!p) throw new Error(`no alert presenter is registered for ${rule.dialect} rules (the dialect was not loaded)`);
  return p;
}
