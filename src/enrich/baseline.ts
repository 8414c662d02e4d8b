/**
 * User baselines: per user, the countries, cities, networks (ASNs), devices and user agents their
 * sign-ins came from, each with first and last seen (event time), and the previous sign-in's
 * place and time. Rules read what an event looks like *against that past* as
 * `oktopus.enrichment.user.*` fields (new_country, usual_distance_km, travel_speed_kmh, …).
 *
 * A baseline is a view of the past, so it only makes sense in event-time order. The engine owns one
 * `BaselineTracker` when (and only when) some loaded rule reads a baseline field (the schema's
 * `collectOrderedReads` tells the compiler; see CompiledRule.readsOrdered). Then:
 *   - every learning event (see LEARN_EVENT_TYPES) goes through the reorder window, matched by a
 *     rule or not, and rules reading baseline fields run after the window, like stateful rules;
 *   - when the window releases an event, `release(ev)` first freezes the event's view (computed
 *     from the baseline as it stands, i.e. from earlier events only) into `ev.cache`, then, for a
 *     learning event, adds the event to the baseline. Rules, stages and alerts read the frozen view.
 *   - `persist()` (from Engine.commit, inside the batch transaction) writes the users that changed,
 *     like the stages' keyed state (src/engine/stages/keyed-state.ts), so a restart resumes with the
 *     baseline that matches the input checkpoint and the persisted reorder window.
 *
 * Retention: an entry not seen for `retentionDays` of event time is forgotten (ignored at once,
 * pruned at the next update; a user with no learning event for that long starts over and the
 * store row expires). Each list holds at most `maxEntries` entries (least recently seen dropped).
 *
 * See docs/enrichment.md ("User baselines") for the fields and their exact meaning.
 */
import type { CanonicalEvent, Json, JsonObject } from '../event/types.js';
import type { StateStore } from '../store/types.js';
import { KeyedState } from '../engine/stages/keyed-state.js';
import { compilePath } from '../schema/path.js';
import type { EnrichmentContext } from './context.js';
import { haversineKm } from './geo.js';
import { ipBlock, type GeoView } from './view.js';

const DAY_MS = 24 * 60 * 60_000;

/**
 * Event types that teach the baseline (with outcome SUCCESS or ALLOW): an established session and
 * application sign-ins, plus sign-ins that never start an Okta session (RADIUS, rich clients).
 * Not the steps *before* `user.session.start` in the same sign-in (`user.authentication.verify`,
 * `auth_via_mfa`, `auth_via_IDP`, …): learning from them would make the session start of an
 * attacker look familiar a few seconds after the password check. Those events still get the
 * derived fields (computed against the baseline), they just do not update it.
 */
export const LEARN_EVENT_TYPES: readonly string[] = [
  'user.session.start',
  'user.authentication.sso',
  'user.authentication.auth_via_radius',
  'user.authentication.auth_via_richclient',
];

export interface BaselineOptions {
  /** Entries not seen for this many days (event time) are forgotten (default 90). */
  retentionDays: number;
  /** Most entries kept per list (countries, cities, ASNs, devices, user agents) per user (default 50). */
  maxEntries: number;
  /** Lower-case event types that update the baseline (default LEARN_EVENT_TYPES). */
  learnFrom: readonly string[];
  /** Travel faster than this between consecutive sign-ins is impossible (default 1000 km/h). */
  impossibleSpeedKmh: number;
  /** … provided the two places are at least this far apart (default 500 km). */
  minTravelKm: number;
  /** Most users held in memory (the rest stay in the store; default 50,000). */
  memoryCap: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = {
  retentionDays: 90,
  maxEntries: 50,
  learnFrom: LEARN_EVENT_TYPES,
  impossibleSpeedKmh: 1000,
  minTravelKm: 500,
  memoryCap: 50_000,
};

/** Fields under `oktopus.enrichment.user.` that come from the baseline (read in event-time order). */
export const BASELINE_FIELDS: readonly string[] = [
  'baseline_events',
  'baseline_days',
  'new_country',
  'new_city',
  'new_asn',
  'new_device',
  'new_user_agent',
  'usual_distance_km',
  'previous_signin',
  'travel_km',
  'travel_speed_kmh',
  'impossible_travel',
];

const PREFIX = 'oktopus.enrichment.user.';
const FIELD_SET = new Set(BASELINE_FIELDS);

/** Is this field name (any case) one of the baseline fields, or inside one? */
export function isBaselineField(name: string): boolean {
  const lower = name.toLowerCase();
  if (!lower.startsWith(PREFIX)) return false;
  const rest = lower.slice(PREFIX.length);
  const dot = rest.indexOf('.');
  return FIELD_SET.has(dot < 0 ? rest : rest.slice(0, dot));
}

/** Where `release` leaves an event's frozen view in `ev.cache`. */
export const BASELINE_CACHE_KEY = 'enrich.baseline';

/** A view not rendered yet (built at first read; for a learning event, from a record taken before it learned). */
class LazyView {
  constructor(
    readonly compute: () => JsonObject,
    /** Computed from a record frozen at release: the same whenever it is read. */
    readonly frozen: boolean,
  ) {}
}

/**
 * The baseline view of an event, once the engine has released it with baselines on. A learning
 * event's lookups are done at release (before the event updates the baseline), the object built
 * at first read. Any other event's view is computed when a rule first reads a baseline field of
 * it, which happens while the engine
 * processes the event at release (every field a rule reads, its head and stages read then), so it
 * sees the same baseline. `force: false` (the alert's enrichment block, built possibly later)
 * returns only a view that is already computed or frozen.
 */
export function baselineView(ev: CanonicalEvent, force = true): JsonObject | undefined {
  const v = ev.cache.get(BASELINE_CACHE_KEY);
  if (!(v instanceof LazyView)) return v as JsonObject | undefined;
  if (!force && !v.frozen) return undefined;
  const view = v.compute();
  ev.cache.set(BASELINE_CACHE_KEY, view);
  return view;
}

// ---- stored form ------------------------------------------------------------------------

/** First and last seen (event time, ms). */
interface Seen {
  f: number;
  l: number;
}
/** A place: its coordinates, precision (`point`, `city`, `country`) and country. */
interface Place extends Seen {
  lat: number;
  lon: number;
  p: string;
  cc: string | null;
}
interface Previous {
  t: number;
  lat: number | null;
  lon: number | null;
  p: string | null;
  cc: string | null;
  city: string | null;
  ip: string | null;
}
/** What the baseline said about one event (before it learned from it); see `before`. */
interface Before {
  t: number;
  /** 0: no baseline (first sign-in, or after a silence longer than the retention). */
  n: number;
  first: number;
  country?: boolean | null;
  city?: boolean | null;
  asn?: boolean | null;
  device?: boolean | null;
  agent?: boolean | null;
  usual?: number | null;
  prev?: Previous;
  here?: { lat: number; lon: number; p: string; cc: string | null };
}

/** One user's baseline (stored as JSON as it is). */
interface UserBaseline {
  /** Learning events since the baseline (re)started. */
  n: number;
  first: number;
  last: number;
  countries: Record<string, Seen>;
  /** Key `CC|region|city` (what the event's geolocation names). */
  cities: Record<string, Place>;
  asns: Record<string, Seen>;
  /** Key `device|os|browser` from `client.device` and `client.userAgent`. */
  devices: Record<string, Seen>;
  /** Key: `client.userAgent.rawUserAgent`. */
  agents: Record<string, Seen>;
  /** The latest learning event (by event time): where and when. */
  prev?: Previous;
}

const NS = 'enrich:baseline';

// ---- what an event says -------------------------------------------------------------------

const altIdOf = compilePath('actor.alternateId');
const actorIdOf = compilePath('actor.id');
const resultOf = compilePath('outcome.result');
const deviceOf = compilePath('client.device');
const osOf = compilePath('client.userAgent.os');
const browserOf = compilePath('client.userAgent.browser');
const uaOf = compilePath('client.userAgent.rawUserAgent');

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && v.toLowerCase() !== 'null' && v.toLowerCase() !== 'unknown' ? v : undefined);

/** The user a baseline belongs to: `actor.alternateId` (lower-case), else `actor.id`. */
export function userKey(ev: CanonicalEvent): string | undefined {
  const login = text(altIdOf(ev.doc));
  if (login) return login.toLowerCase();
  return text(actorIdOf(ev.doc));
}

interface Facts {
  cc: string | null;
  city: string | null;
  geo?: GeoView;
  asn: string | null;
  device: string | null;
  agent: string | null;
  ip: string | null;
}

function factsOf(ev: CanonicalEvent, ctx: EnrichmentContext): Facts {
  const ip = ipBlock(ev, ctx);
  const geo = ip?.['geo'] as GeoView | undefined;
  const cc = geo?.country_iso_code ?? null;
  const city = geo?.city ? `${cc ?? ''}|${geo.region ?? ''}|${geo.city}` : null;
  const dev = [text(deviceOf(ev.doc)), text(osOf(ev.doc)), text(browserOf(ev.doc))];
  return {
    cc,
    city,
    ...(geo ? { geo } : {}),
    asn: ip?.['asn'] !== undefined ? String(ip['asn']) : null,
    device: dev.some((d) => d !== undefined) ? dev.map((d) => d ?? '').join('|') : null,
    agent: text(uaOf(ev.doc)) ?? null,
    ip: ip?.address ?? null,
  };
}

/** Great-circle km between two places; 0 when one is known only to its country and both are in it. */
function distanceKm(a: { lat: number; lon: number; p: string; cc: string | null }, b: { lat: number; lon: number; p: string; cc: string | null }): number {
  if ((a.p === 'country' || b.p === 'country') && a.cc !== null && a.cc === b.cc) return 0;
  return haversineKm(a.lat, a.lon, b.lat, b.lon);
}

// ---- the tracker --------------------------------------------------------------------------

export class BaselineTracker {
  readonly opts: BaselineOptions;
  private readonly learn: Set<string>;
  private readonly retentionMs: number;
  private readonly state: KeyedState<UserBaseline>;
  /** Latest event time released (users whose baseline expired before it leave memory at persist). */
  private now = -Infinity;
  /** Learning events applied (tests, bench). */
  updates = 0;

  constructor(
    store: StateStore,
    private readonly ctx: EnrichmentContext,
    opts: Partial<BaselineOptions> = {},
  ) {
    this.opts = { ...DEFAULT_BASELINE_OPTIONS, ...opts };
    this.learn = new Set(this.opts.learnFrom.map((t) => t.toLowerCase()));
    this.retentionMs = this.opts.retentionDays * DAY_MS;
    this.state = new KeyedState<UserBaseline>(
      store,
      NS,
      {
        decode: (v) => v as unknown as UserBaseline,
        // The row lives as long as its newest entry is within retention.
        encode: (s) => ({ value: s as unknown as Json, expiresAt: s.last + this.retentionMs }),
      },
      this.opts.memoryCap,
      () => this.now,
    );
  }

  /** Does this event teach the baseline (a successful sign-in of a user)? */
  learns(ev: CanonicalEvent): boolean {
    if (ev.kind !== 'okta' || !this.learn.has(ev.eventType)) return false;
    const r = resultOf(ev.doc);
    return (r === 'SUCCESS' || r === 'ALLOW') && userKey(ev) !== undefined;
  }

  /**
   * The engine released this event (event-time order): freeze its view of the baseline, then learn
   * from it. Called before any rule sees the event at release.
   */
  release(ev: CanonicalEvent): void {
    if (ev.kind !== 'okta' || ev.cache.has(BASELINE_CACHE_KEY)) return;
    const key = userKey(ev);
    if (key === undefined) return;
    if (ev.time > this.now) this.now = ev.time;
    if (!this.learns(ev)) {
      ev.cache.set(BASELINE_CACHE_KEY, new LazyView(() => this.render(this.before(ev.time, factsOf(ev, this.ctx), this.state.get(key))), false));
      return;
    }
    const facts = factsOf(ev, this.ctx);
    const b = this.state.get(key);
    const before = this.before(ev.time, facts, b); // frozen now, rendered when read
    ev.cache.set(BASELINE_CACHE_KEY, new LazyView(() => this.render(before), true));
    this.update(key, ev.time, facts, b);
    this.updates++;
    this.state.trim();
  }

  /** Write the users changed since the last call (inside the caller's transaction). */
  persist(): void {
    this.state.persist();
  }

  /** Users held in memory (tests). */
  get size(): number {
    return this.state.size;
  }

  /** Is this baseline (or entry) still within retention at time `t`? */
  private fresh(seen: { l: number } | undefined, t: number): boolean {
    return seen !== undefined && seen.l >= t - this.retentionMs;
  }

  /**
   * What the baseline says about an event at time `t` (earlier events only), in a small record: the
   * lookups are done now, the fields object is built only if a rule or an alert reads it (`render`).
   * Safe to keep: `update` never changes a `Previous` object (it replaces it).
   */
  private before(t: number, x: Facts, b: UserBaseline | undefined): Before {
    if (b === undefined || b.last < t - this.retentionMs) return { t, n: 0, first: t };
    const since = t - this.retentionMs;
    const isNew = (list: Record<string, Seen>, k: string | null): boolean | null => {
      if (k === null) return null;
      const seen = list[k];
      return seen === undefined || seen.l < since;
    };
    const out: Before = {
      t,
      n: b.n,
      first: b.first,
      country: isNew(b.countries, x.cc),
      city: isNew(b.cities, x.city),
      asn: isNew(b.asns, x.asn),
      device: isNew(b.devices, x.device),
      agent: isNew(b.agents, x.agent),
      usual: null,
    };
    const g = x.geo;
    const here = g && g.lat !== null && g.lon !== null ? { lat: g.lat, lon: g.lon, p: g.precision, cc: g.country_iso_code } : undefined;
    if (here) {
      out.here = here;
      const same = x.city !== null ? b.cities[x.city] : undefined;
      if (same && this.fresh(same, t)) {
        out.usual = 0; // a known city (the common case): 0 km, no search
      } else {
        let best = Infinity;
        for (const k in b.cities) {
          const place = b.cities[k]!;
          if (this.fresh(place, t)) {
            const d = distanceKm(here, place);
            if (d < best) best = d;
          }
        }
        if (best < Infinity) out.usual = Math.round(best);
      }
    }
    if (b.prev && b.prev.t >= t - this.retentionMs) out.prev = b.prev;
    return out;
  }

  /** The `oktopus.enrichment.user.*` baseline fields of an event, from `before`'s record. */
  private render(x: Before): JsonObject {
    if (x.n === 0) {
      // A first sign-in (or the first after the retention period): nothing to compare with.
      return { baseline_events: 0, baseline_days: 0, new_country: null, new_city: null, new_asn: null, new_device: null, new_user_agent: null, usual_distance_km: null, previous_signin: null, travel_km: null, travel_speed_kmh: null, impossible_travel: null };
    }
    const t = x.t;
    const out: JsonObject = {
      baseline_events: x.n,
      baseline_days: Math.max(0, Math.round(((t - x.first) / DAY_MS) * 10) / 10),
      new_country: x.country ?? null,
      new_city: x.city ?? null,
      new_asn: x.asn ?? null,
      new_device: x.device ?? null,
      new_user_agent: x.agent ?? null,
      usual_distance_km: x.usual ?? null,
      previous_signin: null,
      travel_km: null,
      travel_speed_kmh: null,
      impossible_travel: null,
    };
    const prev = x.prev;
    const here = x.here;
    if (prev) {
      const ps: JsonObject = { time: new Date(prev.t).toISOString(), country_iso_code: prev.cc, city: prev.city, address: prev.ip };
      out['previous_signin'] = ps;
      if (here && prev.lat !== null && prev.lon !== null) {
        const km = distanceKm(here, { lat: prev.lat, lon: prev.lon, p: prev.p ?? 'point', cc: prev.cc });
        // The time between them, at least a minute: two places a second apart are not "infinitely fast".
        const hours = Math.max(Math.abs(t - prev.t), 60_000) / 3_600_000;
        const speed = km / hours;
        ps['distance_km'] = Math.round(km);
        ps['hours'] = Math.round((Math.abs(t - prev.t) / 3_600_000) * 100) / 100;
        out['travel_km'] = Math.round(km);
        out['travel_speed_kmh'] = Math.round(speed);
        out['impossible_travel'] = km >= this.opts.minTravelKm && speed > this.opts.impossibleSpeedKmh;
      }
    }
    return out;
  }

  /** Add a learning event to the user's baseline (pruning what retention and the caps drop). */
  private update(key: string, t: number, x: Facts, old: UserBaseline | undefined): void {
    let b = old;
    if (!b || b.last < t - this.retentionMs) {
      b = { n: 0, first: t, last: t, countries: {}, cities: {}, asns: {}, devices: {}, agents: {} };
    }
    b.n++;
    if (t < b.first) b.first = t;
    if (t > b.last) b.last = t;
    const see = (list: Record<string, Seen>, k: string | null): void => {
      if (k === null) return;
      const s = list[k];
      if (s) {
        if (t < s.f) s.f = t;
        if (t > s.l) s.l = t;
      } else {
        list[k] = { f: t, l: t };
        this.prune(list, b!.last); // a list only grows here: prune it then
      }
    };
    see(b.countries, x.cc);
    see(b.asns, x.asn);
    see(b.devices, x.device);
    see(b.agents, x.agent);
    const g = x.geo;
    if (x.city !== null && g && g.lat !== null && g.lon !== null) {
      const c = b.cities[x.city];
      if (c) {
        if (t < c.f) c.f = t;
        if (t > c.l) c.l = t;
      } else {
        b.cities[x.city] = { f: t, l: t, lat: g.lat, lon: g.lon, p: g.precision, cc: g.country_iso_code };
        this.prune(b.cities, b.last);
      }
    }
    // The previous sign-in is the latest by event time (a late event does not replace a newer one).
    if (!b.prev || t >= b.prev.t) {
      b.prev = { t, lat: g?.lat ?? null, lon: g?.lon ?? null, p: g?.precision ?? null, cc: x.cc, city: g?.city ?? null, ip: x.ip };
    }
    this.state.set(key, b);
  }

  /**
   * Drop entries past retention, then the least recently seen beyond `maxEntries` (run when a list
   * grows; entries past retention in a list that does not grow are ignored by `view`).
   */
  private prune(list: Record<string, Seen>, now: number): void {
    let n = 0;
    for (const [k, s] of Object.entries(list)) {
      if (s.l < now - this.retentionMs) delete list[k];
      else n++;
    }
    if (n <= this.opts.maxEntries) return;
    const sorted = Object.entries(list).sort((a, b) => a[1].l - b[1].l);
    for (let i = 0; i < n - this.opts.maxEntries; i++) delete list[sorted[i]![0]];
  }
}
