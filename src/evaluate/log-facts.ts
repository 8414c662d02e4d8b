/**
 * What the evaluation needs to know of the log itself, read in one streaming pass beside the
 * engine's: the time span and size of the tenant (for the legacy truth format, which has neither),
 * the event time of every malicious event the truth lists (the legacy format gives no times, and
 * the v2 times are checked against them), and which events belong to a benign population (their
 * actor is one of its users, or their client IP is in one of its networks).
 *
 * Of the events, only the malicious and benign ones are kept, but the pass does grow with the
 * log: every uuid read is remembered (so that a duplicated event is counted once, as the engine
 * drops it): a Set of 36-character strings, roughly 100 bytes per event in V8 — an estimate of
 * about 1 GB for 10M events, beside the engine's own state.
 * Records that cannot be read are skipped silently here: the engine's pass reports each of them.
 */
import { readRecords } from '../sources/files.js';
import { adaptRecord } from '../adapters/index.js';
import { cidrTest } from '../engine/predicate/cidr.js';
import type { JsonObject } from '../event/types.js';
import type { BenignCategory, Truth } from './truth.js';

export interface BenignEvent {
  /** The event's actor (`actor.alternateId`). */
  user?: string;
  categories: BenignCategory[];
}

export interface LogFacts {
  /** Distinct event uuids read. */
  events: number;
  /** Event time (epoch ms) of the oldest and newest event; NaN when there were none. */
  first: number;
  last: number;
  /** Distinct human actors (`actor.type` User) with at least one successful event. */
  activeUsers: number;
  /** Event time of each truth-listed malicious event found in the log. */
  malicious: Map<string, number>;
  /** Events of the truth's benign populations. */
  benign: Map<string, BenignEvent>;
}

function str(o: JsonObject | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' ? v : undefined;
}

function obj(o: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = o?.[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/** A function telling, for an actor login and client IP, the benign categories they fall in. */
export function benignClassifier(truth: Truth): (user: string | undefined, ip: string | undefined) => BenignCategory[] {
  const groups = truth.benign.map((b) => ({
    category: b.category,
    users: new Set(b.users.map((u) => u.toLowerCase())),
    inNetworks: b.cidrs.length > 0 ? cidrTest(b.cidrs) : () => false,
  }));
  return (user, ip) => {
    const out: BenignCategory[] = [];
    const login = user?.toLowerCase();
    for (const g of groups) {
      if (out.includes(g.category)) continue;
      if ((login !== undefined && g.users.has(login)) || (ip !== undefined && g.inNetworks(ip))) out.push(g.category);
    }
    return out;
  };
}

export async function readLogFacts(inputs: string[], truth: Truth, opts: { timeField?: string } = {}): Promise<LogFacts> {
  const wanted = new Set(truth.scenarios.flatMap((s) => s.eventUuids));
  const classify = benignClassifier(truth);
  const seen = new Set<string>();
  const users = new Set<string>();
  const facts: LogFacts = { events: 0, first: NaN, last: NaN, activeUsers: 0, malicious: new Map(), benign: new Map() };
  for (const path of inputs) {
    for await (const rec of readRecords(path, { onError: () => undefined })) {
      let events;
      try {
        events = adaptRecord(rec.value, rec.origin, { timeField: opts.timeField, onPartialError: () => undefined });
      } catch {
        continue;
      }
      for (const ev of events) {
        if (ev.kind !== 'okta' || seen.has(ev.id)) continue;
        seen.add(ev.id);
        facts.events++;
        if (!(ev.time >= facts.first)) facts.first = ev.time;
        if (!(ev.time <= facts.last)) facts.last = ev.time;
        if (wanted.has(ev.id)) facts.malicious.set(ev.id, ev.time);
        const actor = obj(ev.doc, 'actor');
        const login = str(actor, 'alternateId');
        if (login && str(actor, 'type') === 'User' && str(obj(ev.doc, 'outcome'), 'result') === 'SUCCESS') users.add(login.toLowerCase());
        const categories = classify(login, str(obj(ev.doc, 'client'), 'ipAddress'));
        if (categories.length > 0) facts.benign.set(ev.id, { user: login, categories });
      }
    }
  }
  facts.activeUsers = users.size;
  return facts;
}
