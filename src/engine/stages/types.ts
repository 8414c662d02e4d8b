/**
 * The stage runtime interface. A compiled rule is a head predicate (the first filter stage,
 * evaluated for every candidate event) followed by stage runtimes: each receives the matches of
 * the one before and returns the matches it lets through, possibly later (stateful stages keep
 * their state in the store under their own namespace).
 */
import type { CanonicalEvent, JsonObject } from '../../event/types.js';
import type { RuleIR, Stage } from '../../ir/types.js';
import type { SchemaContext } from '../../schema/index.js';
import type { StateStore } from '../../store/types.js';

export interface Match {
  /** The events behind the match, in time order (one for a filter, several for a sequence). */
  events: CanonicalEvent[];
  /** Event time of the match (its last event). */
  time: number;
  /** Fields the stage adds to the alert document (e.g. `kibana.alert.new_terms`). */
  fields: JsonObject;
  /** Extra material for the deterministic alert id (e.g. the new term tuple). */
  idSalt?: string;
}

export interface StageContext {
  rule: RuleIR;
  store: StateStore;
  /** State namespace of this stage: `rule:<id>:<stage index>`. */
  ns: string;
  schema: SchemaContext;
  /** The alert id a match would get: stateful stages use it to attach later matches. */
  alertIdFor(m: Match): string;
  /** Record that a later match attached to an alert already raised (count, last seen). */
  attach(alertUuid: string, update: JsonObject): void;
}

export interface StageRuntime {
  push(m: Match): Match[];
  /**
   * Event time moved on: every event up to `watermark` has been pushed. Stages whose output
   * depends on time passing (a missing-event sequence step, a pipe window closing) return the
   * matches that are now due. `Infinity` closes everything (end of a one-off query).
   */
  tick?(watermark: number): Match[];
  /**
   * Write the state the stage holds in memory to the store. The engine calls it from
   * `commit(batch)`, inside the batch transaction that also saves the input checkpoint, so the
   * stored state always matches the input position (restart safety). Stages that write the
   * store as they go have none. `watermark`: the event time before which the commit then
   * expires stored entries (`StateStore.expire`); absent when no expiry follows.
   */
  persist?(watermark?: number): void;
}

export interface StageFactory<S extends Stage = Stage> {
  type: S['type'];
  create(stage: S, ctx: StageContext): StageRuntime;
}
