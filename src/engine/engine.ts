/**
 * The streaming engine.
 *
 *   push(event) -> duplicate check (uuid) -> reorder window -> rule index -> head predicate
 *     -> stages -> alert (stored once by id) -> fed back as an event to rules that read alerts
 *
 * Event time is the only clock: windows, dedup periods and expiry all follow `published`, so a
 * replay of last month's export gives the alerts a live run would have given.
 */
import type { CanonicalEvent, JsonObject } from '../event/types.js';
import { makeEvent } from '../event/types.js';
import type { RuleIR, UnsupportedRule } from '../ir/types.js';
import { enrichmentOf, type SchemaContext } from '../schema/index.js';
import type { StateStore, StoredAlert } from '../store/types.js';
import { alertId, buildAlert, buildSequenceAlerts, setField } from '../alerts/build.js';
import { compileRule, type CompiledRule } from './compile.js';
import { ReorderBuffer } from './reorder.js';
import { compilePath } from '../schema/path.js';
import { SeenIds } from './seen.js';
import type { Match } from './stages/types.js';
import { BaselineTracker } from '../enrich/baseline.js';
import { checkCorrelationReferences, hiddenRules, hideAlert } from './stages/correlation.js';

export interface EngineOptions {
  schema: SchemaContext;
  store: StateStore;
  /** Event-time window for reordering (default 5 minutes; 0 disables). */
  reorderWindowMs?: number;
  /** Most events held in the reorder window (default 100,000). */
  maxBuffered?: number;
  /** How long (event time) a uuid is remembered for duplicate detection (default 24 hours). */
  dedupHorizonMs?: number;
  /** Alerts deeper than this are not fed back into higher-order rules (default 5). */
  maxDepth?: number;
}

const alertRuleId = compilePath('kibana.alert.rule.rule_id');
const alertDialect = compilePath('oktopus.dialect');

/** `dialect:rule id` of the rule that raised an alert event (undefined for Okta events). */
function sourceOf(ev: CanonicalEvent): string | undefined {
  return ev.kind === 'alert' ? `${String(alertDialect(ev.doc))}:${String(alertRuleId(ev.doc))}` : undefined;
}

/**
 * Rule uuids among an alert's ancestors. Kibana skips an EQL result whose events descend from
 * an alert of the same rule (no self-feeding through another rule's alert); so do we, for
 * every rule reading alerts.
 */
function ancestorRules(ev: CanonicalEvent): Set<string> {
  let set = ev.cache.get('ancestor-rules') as Set<string> | undefined;
  if (!set) {
    set = new Set();
    const list = ev.doc['kibana.alert.ancestors'];
    if (Array.isArray(list)) for (const a of list) if (a && typeof a === 'object' && !Array.isArray(a) && typeof a['rule'] === 'string') set.add(a['rule']);
    ev.cache.set('ancestor-rules', set);
  }
  return set;
}

/** Marks an event held in the reorder window only so that user baselines learn from it in order. */
const BASELINE_ONLY = 'engine.baseline-only';

/** Duplicate events are recognised within a day of each other (configurable). */
export const DEFAULT_DEDUP_HORIZON_MS = 24 * 60 * 60_000;

interface Candidates {
  /** Stateless rules: run when the event arrives. */
  now: CompiledRule[];
  /** Stateful rules: run in event-time order, after the reorder window. */
  ordered: CompiledRule[];
}

export interface EngineStats {
  events: number;
  duplicates: number;
  late: number;
  alerts: number;
  replayedAlerts: number;
  depthLimited: number;
  perRule: Map<string, number>;
}

export class Engine {
  readonly compiled: CompiledRule[] = [];
  readonly unsupported: UnsupportedRule[] = [];
  readonly stats: EngineStats = {
    events: 0,
    duplicates: 0,
    late: 0,
    alerts: 0,
    replayedAlerts: 0,
    depthLimited: 0,
    perRule: new Map(),
  };

  private readonly byType = new Map<string, CompiledRule[]>();
  private readonly anyType: CompiledRule[] = [];
  private readonly candidates = new Map<string, Candidates>();
  private readonly reorder: ReorderBuffer;
  private readonly seen: SeenIds;
  private readonly maxDepth: number;
  private readonly store: StateStore;
  private readonly schema: SchemaContext;
  private fresh: StoredAlert[] = [];
  private updated = new Map<string, JsonObject>();
  private alertCandidates: Candidates = { now: [], ordered: [] };
  /** Rules with a stage that emits when event time passes (see StageRuntime.tick). */
  private readonly tickers: CompiledRule[] = [];
  /** Rules whose alerts are hidden (Sigma correlation `generate: false`, stages/correlation.ts). */
  private readonly hidden: Set<string>;
  /**
   * User baselines (src/enrich/baseline.ts), kept only when some rule reads a baseline field:
   * every learning event then goes through the reorder window, and each released event gets its
   * view of the past frozen, then teaches the baseline, before any rule sees it (processOrdered).
   */
  readonly baseline?: BaselineTracker;
  private ticked = -Infinity;

  constructor(rules: RuleIR[], opts: EngineOptions) {
    this.store = opts.store;
    this.schema = opts.schema;
    this.maxDepth = opts.maxDepth ?? 5;
    this.hidden = hiddenRules(rules);
    this.reorder = new ReorderBuffer(opts.reorderWindowMs ?? 5 * 60_000, opts.maxBuffered ?? 100_000);
    this.seen = new SeenIds(opts.dedupHorizonMs ?? DEFAULT_DEDUP_HORIZON_MS);
    const hooks = {
      alertIdFor: (rule: RuleIR, m: Match) => alertId(rule, m),
      attach: (uuid: string, update: JsonObject) => this.attach(uuid, update),
    };
    for (const ir of rules) {
      if (!ir.enabled) continue;
      try {
        checkCorrelationReferences(ir, rules);
        const c = compileRule(ir, this.schema, this.store, hooks);
        this.compiled.push(c);
        if (c.stages.some((st) => st.tick)) this.tickers.push(c);
        if (ir.input !== 'okta') (c.stages.length > 0 || c.readsOrdered ? this.alertCandidates.ordered : this.alertCandidates.now).push(c);
        if (ir.input === 'alerts') continue;
        if (c.eventTypes) {
          for (const t of c.eventTypes) {
            const list = this.byType.get(t) ?? [];
            list.push(c);
            this.byType.set(t, list);
          }
        } else this.anyType.push(c);
      } catch (e) {
        this.unsupported.push({
          id: ir.id,
          name: ir.name,
          dialect: ir.dialect,
          ruleType: ir.ruleType,
          file: ir.file,
          reason: (e as Error).message,
          status: 'unsupported',
        });
      }
    }
    this.seen.load(this.store);
    this.reorder.load(this.store);
    if (this.compiled.some((c) => c.readsOrdered)) {
      const ctx = enrichmentOf(this.schema);
      this.baseline = new BaselineTracker(this.store, ctx, ctx.baselineOptions);
    }
  }

  /**
   * Rules an Okta event of this type meets, in load order (cached per event type), split in two:
   * stateless rules (a filter and nothing else) give the same alerts in any event order and run
   * as soon as the event arrives; stateful rules (dedup, thresholds, sequences…) see events in
   * event-time order, after the reorder window. Only events some stateful rule may match are
   * held in the window.
   */
  private rulesFor(eventType: string): Candidates {
    let c = this.candidates.get(eventType);
    if (!c) {
      const set = new Set([...(this.byType.get(eventType) ?? []), ...this.anyType]);
      const list = this.compiled.filter((r) => set.has(r));
      // A rule reading baseline fields runs in event-time order even when it has no stages.
      const ordered = (r: CompiledRule): boolean => r.stages.length > 0 || r.readsOrdered;
      c = { now: list.filter((r) => !ordered(r)), ordered: list.filter(ordered) };
      this.candidates.set(eventType, c);
    }
    return c;
  }

  /** Offer an event: stateless rules run now, stateful ones once the reorder window passed it. */
  push(ev: CanonicalEvent): void {
    if (this.seen.check(ev.id, ev.time)) {
      this.stats.duplicates = this.seen.duplicates;
      return;
    }
    if (ev.kind === 'okta') this.stats.events++;
    const due: CanonicalEvent[] = [];
    this.reorder.advance(ev.time, due);
    for (const r of due) this.processOrdered(r);
    this.offer(ev);
    this.tick(this.reorder.released);
  }

  /**
   * End of a one-off query: close every time-bound window (trailing missing-event steps, pipe
   * windows) as if event time had run out. A scan that may be resumed does not call this: its
   * windows close when later events move event time past them.
   */
  flush(): void {
    this.drain();
    this.tick(Infinity);
    this.drain();
  }

  /** Let time-bound stages emit what is due at `watermark`, through the stages after them. */
  private tick(watermark: number): void {
    if (this.tickers.length === 0 || watermark <= this.ticked) return;
    this.ticked = watermark;
    for (const rule of this.tickers) {
      rule.stages.forEach((stage, i) => {
        if (!stage.tick) return;
        const due = stage.tick(watermark);
        if (due.length > 0) this.continueFrom(rule, i + 1, due);
      });
    }
  }

  /** Process everything still held (end of input). */
  drain(): void {
    // Alerts raised while draining may go back into the window: drain until it stays empty.
    while (this.reorder.size > 0) {
      const out: CanonicalEvent[] = [];
      this.reorder.drain(out);
      for (const r of out) this.processOrdered(r);
    }
    this.tick(this.reorder.released);
  }

  /** Event time up to which stateful rules have seen everything: older state may expire. */
  get watermark(): number {
    return this.reorder.released;
  }

  private offer(ev: CanonicalEvent): void {
    const c = ev.kind === 'okta' ? this.rulesFor(ev.eventType) : this.alertCandidates;
    if (c.now.length > 0) this.run(ev, c.now);
    // Only an event some stateful rule's head accepts needs to wait for its turn (heads are pure,
    // so testing them now or at release gives the same answer).
    // Events that teach user baselines wait too, matched or not: baselines learn in event-time order.
    const held = c.ordered.length > 0 && this.anyHead(ev, c.ordered, sourceOf(ev));
    if (held || this.baseline?.learns(ev)) {
      if (!held) ev.cache.set(BASELINE_ONLY, true); // no rule's head accepts it: only the baseline runs at release
      const out: CanonicalEvent[] = [];
      this.reorder.push(ev, out);
      this.stats.late = this.reorder.late;
      for (const r of out) this.processOrdered(r);
    }
  }

  private anyHead(ev: CanonicalEvent, rules: CompiledRule[], source: string | undefined): boolean {
    // A head reading baseline fields cannot be tested before release (its view is not frozen yet).
    for (const r of rules) if (source !== r.key && (r.readsOrdered || r.head(ev))) return true;
    return false;
  }

  private processOrdered(ev: CanonicalEvent): void {
    this.baseline?.release(ev); // freeze the event's baseline view, then learn from it
    if (ev.cache.has(BASELINE_ONLY)) return;
    const c = ev.kind === 'okta' ? this.rulesFor(ev.eventType) : this.alertCandidates;
    this.run(ev, c.ordered);
  }

  private run(ev: CanonicalEvent, rules: CompiledRule[]): void {
    const source = sourceOf(ev);
    for (const rule of rules) {
      if (source === rule.key) continue; // no rule reads its own alerts
      if (source !== undefined && ancestorRules(ev).has(rule.uuid)) continue; // nor alerts descending from them
      if (!rule.head(ev)) continue;
      this.continueFrom(rule, 0, [{ events: [ev], time: ev.time, fields: {} }]);
    }
  }

  /** Pass matches through a rule's stages from `index` on, and raise what comes out. */
  private continueFrom(rule: CompiledRule, index: number, matches: Match[]): void {
    for (let i = index; i < rule.stages.length && matches.length > 0; i++) {
      const stage = rule.stages[i]!;
      const next: Match[] = [];
      for (const m of matches) for (const out of stage.push(m)) next.push(out);
      matches = next;
    }
    for (const m of matches) this.raise(rule.ir, m);
  }

  private raise(rule: RuleIR, m: Match): void {
    if (rule.stages.some((s) => s.type === 'sequence')) {
      for (const a of buildSequenceAlerts(rule, m, this.schema)) this.store1(rule, m, a.uuid, a.doc);
      return;
    }
    const uuid = alertId(rule, m);
    this.store1(rule, m, uuid, buildAlert(rule, m, this.schema, uuid));
  }

  /** Store one alert (once: ids are deterministic), and feed it back to rules that read alerts. */
  private store1(rule: RuleIR, m: Match, uuid: string, doc: JsonObject): void {
    if (this.hidden.has(`${rule.dialect}:${rule.id}`)) hideAlert(doc);
    const stored: StoredAlert = { uuid, ruleId: rule.id, time: m.time, doc };
    if (!this.store.addAlert(stored)) {
      this.stats.replayedAlerts++;
      return;
    }
    this.stats.alerts++;
    this.stats.perRule.set(rule.id, (this.stats.perRule.get(rule.id) ?? 0) + 1);
    this.fresh.push(stored);
    const depth = doc['kibana.alert.depth'] as number;
    if (depth > this.maxDepth) {
      this.stats.depthLimited++;
      return;
    }
    this.offer(makeEvent({ kind: 'alert', id: uuid, time: m.time, eventType: '', doc, origin: 'alert', depth, shape: 'alert' }));
  }

  private attach(uuid: string, update: JsonObject): void {
    const base = this.updated.get(uuid) ?? this.store.getAlert(uuid)?.doc;
    if (!base) return;
    const doc = structuredClone(base);
    for (const [k, v] of Object.entries(update)) setField(doc, k, v);
    this.store.updateAlert(uuid, doc);
    this.updated.set(uuid, doc);
  }

  /** Alerts raised since the last call (already in the store, not yet delivered). */
  takeAlerts(): StoredAlert[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** Alerts updated since the last call (later matches attached to them). */
  takeUpdates(): Map<string, JsonObject> {
    const out = this.updated;
    this.updated = new Map();
    return out;
  }

  /**
   * Persist what the engine holds in memory, inside the caller's batch transaction: ids for
   * duplicate detection, the reorder window's changes, stage state held in memory, and expiry
   * of stage state.
   */
  commit(batch: number): void {
    this.seen.persist(this.store, batch);
    this.reorder.persist(this.store);
    // Stages that keep their working state in memory (sequence, sample) write what changed now,
    // in this transaction, before expiry runs over it.
    for (const rule of this.compiled) for (const stage of rule.stages) stage.persist?.(this.watermark);
    this.baseline?.persist(); // the users whose baseline changed

    if (Number.isFinite(this.watermark)) this.store.expire(this.watermark);
  }

  /** Per rule and exception item: events the rule's filter matched and the item removed (rule = `dialect:id`). */
  exceptionCounts(): { rule: string; list: string; item: string; name: string; events: number }[] {
    return this.compiled.flatMap((c) => c.exceptionCounters.map((x) => ({ ...x })));
  }

  get buffered(): number {
    return this.reorder.size;
  }
}
