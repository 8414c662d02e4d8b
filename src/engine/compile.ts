/**
 * Compiling a rule: the IR's first filter becomes the head predicate (evaluated for every
 * candidate event), the other stages become runtimes from the stage registry, and the event
 * types the head requires become the rule's keys in the rule index.
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import type { RuleIR } from '../ir/types.js';
import { collectOrderedReads, type SchemaContext } from '../schema/index.js';
import type { StateStore } from '../store/types.js';
import { ruleUuid } from '../alerts/build.js';
import { requiredEventTypes } from './event-types.js';
import { compilePredicate } from './predicate/index.js';
import { stageFactory } from './stages/index.js';
import type { Match, StageRuntime } from './stages/types.js';
import { withExceptions, type ExceptionCounter } from './exceptions.js';

export interface CompiledRule {
  ir: RuleIR;
  /** `dialect:id`, what an alert event names as its source rule (see the engine's own-alert check). */
  key: string;
  /** Kibana's rule uuid (what alert ancestors name as their rule). */
  uuid: string;
  /** Event types (lower-case) the rule can match; undefined = any. */
  eventTypes?: Set<string>;
  head: (ev: CanonicalEvent) => boolean;
  stages: StageRuntime[];
  /**
   * The rule reads fields whose value depends on event order (user baselines: src/enrich/baseline.ts).
   * The engine runs it in event-time order (after the reorder window) even when it is stateless,
   * and keeps the baselines up to date only when some rule does.
   */
  readsOrdered: boolean;
  /** Per exception item: events the head matched and the item removed (src/engine/exceptions.ts). */
  exceptionCounters: ExceptionCounter[];
}

export interface CompileHooks {
  alertIdFor(rule: RuleIR, m: Match): string;
  attach(alertUuid: string, update: JsonObject): void;
}

export class CompileError extends Error {}

export function compileRule(ir: RuleIR, schema: SchemaContext, store: StateStore, hooks: CompileHooks): CompiledRule {
  // Every field is resolved while compiling: collect those that need event-time order.
  const { value, fields } = collectOrderedReads(() => compileParts(ir, schema, store, hooks));
  return { ...value, readsOrdered: fields.length > 0 };
}

function compileParts(ir: RuleIR, schema: SchemaContext, store: StateStore, hooks: CompileHooks): Omit<CompiledRule, 'readsOrdered'> {
  if (ir.stages.length === 0) throw new CompileError('rule has no stages');
  for (const s of ir.stages) {
    if (!stageFactory(s.type)) throw new CompileError(`stage type '${s.type}' is not supported yet by this engine`);
  }
  const first = ir.stages[0]!;
  let head: (ev: CanonicalEvent) => boolean = () => true;
  let rest = ir.stages;
  let eventTypes: Set<string> | undefined;
  if (first.type === 'filter') {
    head = compilePredicate(first.predicate, schema);
    eventTypes = ir.input !== 'alerts' ? requiredEventTypes(first.predicate) : undefined;
    rest = ir.stages.slice(1);
  }
  // Exceptions: head AND NOT any item (docs/exceptions.md).
  const guarded = withExceptions(ir, `${ir.dialect}:${ir.id}`, head, schema);
  head = guarded.head;
  const stages = rest.map((s, i) =>
    stageFactory(s.type)!.create(s, {
      rule: ir,
      store,
      ns: `rule:${ir.dialect}:${ir.id}:${i + 1}`,
      schema,
      alertIdFor: (m) => hooks.alertIdFor(ir, m),
      attach: (uuid, update) => hooks.attach(uuid, update),
    }),
  );
  return { ir, key: `${ir.dialect}:${ir.id}`, uuid: ruleUuid(ir), eventTypes, head, stages, exceptionCounters: guarded.counters };
}
