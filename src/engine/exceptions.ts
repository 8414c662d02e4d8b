/**
 * Exceptions in the engine: a rule's head becomes "head AND NOT any exception item" (for a rule
 * whose first stage is not a filter, "NOT any exception"), so an excepted event reaches none of
 * its stages: no sequence step, threshold count or new term (Kibana applies the exception filter
 * to the source events of every rule type, docs/exceptions.md).
 *
 * An item with `expireTime` applies to events published before that time only (event time is
 * the engine's clock). Per item, the events the rule's own filter matched and the item removed
 * are counted once per event (the first matching item gets the event), whatever how many times
 * the head runs for it (a stateful rule's head is tested on arrival and again at release).
 */
import type { CanonicalEvent } from '../event/types.js';
import type { Predicate, RuleIR } from '../ir/types.js';
import { collectOrderedReads, resolveField, type SchemaContext } from '../schema/index.js';
import { compilePredicate } from './predicate/index.js';
import { missingExceptionLists, missingListsReason } from '../exceptions/index.js';

export interface ExceptionCounter {
  /** `dialect:id` of the rule. */
  rule: string;
  list: string;
  item: string;
  name: string;
  events: number;
  /**
   * Set when the item could not be compiled: the rule runs without it (never the rule dropped
   * for one bad item). Loading validates values with the engine's parsers, so this is a backstop.
   */
  error?: string;
}

/**
 * Compiled item tests, shared by every rule the item is attached to (a list selecting every rule
 * attaches the same item objects to each): a value list of many IP ranges is compiled once per
 * schema context, not once per rule.
 */
type CompiledItem = { test: (ev: CanonicalEvent) => boolean; orderedReads: string[] } | { error: string };
const compiledItems = new WeakMap<SchemaContext, WeakMap<Predicate, CompiledItem>>();

/** The item's test, or the reason it does not compile (remembered: reported once per rule, compiled once). */
function compiledItem(p: Predicate, schema: SchemaContext): ((ev: CanonicalEvent) => boolean) | { error: string } {
  let bySchema = compiledItems.get(schema);
  if (!bySchema) compiledItems.set(schema, (bySchema = new WeakMap()));
  let done = bySchema.get(p);
  if (!done) {
    try {
      const { value, fields } = collectOrderedReads(() => compilePredicate(p, schema));
      done = { test: value, orderedReads: fields };
    } catch (e) {
      done = { error: (e as Error).message.split('\n')[0]! };
    }
    bySchema.set(p, done);
  }
  if ('error' in done) return done;
  // An item reading a user-baseline field makes every rule it is attached to run in event-time
  // order: tell the compilation of this rule too (resolving the name records it).
  for (const name of done.orderedReads) resolveField({ name, schema: 'ecs' }, schema);
  return done.test;
}

/** The rule's head with its exceptions applied, and the per-item counters. Throws when a named list is missing. */
export function withExceptions(ir: RuleIR, key: string, head: (ev: CanonicalEvent) => boolean, schema: SchemaContext): { head: (ev: CanonicalEvent) => boolean; counters: ExceptionCounter[] } {
  const missing = missingExceptionLists(ir);
  if (missing.length > 0) throw new Error(missingListsReason(missing));
  const items = ir.exceptions ?? [];
  if (items.length === 0) return { head, counters: [] };
  const counters: ExceptionCounter[] = [];
  const compiled: { test: (ev: CanonicalEvent) => boolean; expires: number; counter: ExceptionCounter }[] = [];
  for (const x of items) {
    const counter: ExceptionCounter = { rule: key, list: x.list, item: x.item, name: x.name, events: 0 };
    counters.push(counter);
    const test = compiledItem(x.predicate, schema);
    // An item that does not compile is left out of this rule (and reported through its counter).
    if (typeof test !== 'function') {
      counter.error = `${x.source}: list '${x.list}' item '${x.item}' cannot be compiled (${test.error}); the rule runs without it`;
      continue;
    }
    compiled.push({ test, expires: x.expireTime === undefined ? Infinity : Date.parse(x.expireTime), counter });
  }
  if (compiled.length === 0) return { head, counters };
  const seenKey = `exceptions:${key}`;
  const guarded = (ev: CanonicalEvent): boolean => {
    if (!head(ev)) return false;
    for (const x of compiled) {
      if (ev.time >= x.expires || !x.test(ev)) continue;
      if (!ev.cache.has(seenKey)) {
        ev.cache.set(seenKey, true);
        x.counter.events++;
      }
      return false;
    }
    return true;
  };
  return { head: guarded, counters };
}
