/**
 * A live run: System Log API pages -> adapters -> engine -> sinks, one transaction per page.
 *
 * Each page's events are adapted, pushed and committed in ONE store transaction together with
 * the page's `next` link, so the store is always either before or after a whole page: a restart
 * with the same state resumes at the saved link, no event missed, none processed twice. Alerts
 * are handed to the sinks after the commit (undelivered ones first on the next start), as a file
 * scan does (./scan.ts, ./common.ts).
 *
 * Modes:
 *  - watch: a polling request, then its `next` links forever (empty pages back off in the
 *    client); stops on the abort signal (SIGINT/SIGTERM), after the last committed page.
 *  - once: the same, but stops at the first page with fewer than `limit` events (all there is
 *    now; a busy org never serves an empty page), for cron jobs.
 *  - backfill: a bounded request (`since` + `until`), to its last page; then the reorder window
 *    is drained, as at the end of a file scan. Its position is saved too: a rerun of the same
 *    range resumes, a finished range is not fetched again.
 * watch and once do not drain the reorder window when they stop: it is saved with the page, and
 * the next run continues with it, so interrupted runs raise exactly the alerts of one long run.
 */
import type { CanonicalEvent, Json } from '../event/types.js';
import type { RuleIR } from '../ir/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { StateStore } from '../store/types.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { batchPreparer } from '../engine/code/registry.js';
import { adaptRecord, RecordError } from '../adapters/index.js';
import type { AlertSink, ScanSummary } from '../sinks/types.js';
import type { Progress } from '../sinks/progress.js';
import { boundedUrl, isAbort, OktaApiError, pollingUrl, type OktaLogClient, type Page } from '../sources/okta-api.js';
import { alertDelivery, internalReason, summarise } from './common.js';
import { limitHeapGrowth } from './heap.js';

export type StreamMode = 'watch' | 'once' | 'backfill';

export interface StreamOptions {
  client: OktaLogClient;
  /** The tenant id (host name, e.g. acme.okta.com): names the saved position. */
  org: string;
  mode: StreamMode;
  /** Where a first poll starts (ISO-8601; default now), or the start of a backfill (required). */
  since?: string;
  /** End of a backfill (ISO-8601; default now). */
  until?: string;
  rules: RuleIR[];
  store: StateStore;
  schema: SchemaContext;
  sinks: AlertSink[];
  timeField?: string;
  reorderWindowMs?: number;
  engine?: Omit<EngineOptions, 'schema' | 'store'>;
  /** One line per event the adapters reject (`okta-api:page 3:17: missing eventType`). */
  onBadRecord?: (line: string) => void;
  onNote?: (line: string) => void;
  progress?: Progress;
  /** Stops a watch between pages (the page being processed is committed first). */
  signal?: AbortSignal;
  /** Stop after this many pages (tests; a kill between pages). */
  maxPages?: number;
  now?: () => number;
}

export interface StreamResult {
  summary: ScanSummary;
  engine: Engine;
  badRecords: number;
  pages: number;
  /** Why the run ended. */
  stopped: 'aborted' | 'caught-up' | 'end' | 'max-pages' | 'already-done';
}

/** The saved position of a poll: the `next` link to fetch, and the `since` it started from. */
export interface PollCheckpoint {
  next: string;
  since: string;
}

export interface BackfillCheckpoint {
  since: string;
  until: string;
  next?: string;
  /** The last page was committed: only the final drain is left (a resume fetches nothing). */
  atEnd?: boolean;
  complete: boolean;
}

export const pollCheckpointName = (org: string): string => `source:okta-api:${org}`;
export const backfillCheckpointName = (org: string): string => `source:okta-api:${org}:backfill`;

function isoTime(value: string, flag: string): string {
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new OktaApiError(`${flag}: not a date and time (ISO-8601, e.g. 2026-11-01T00:00:00Z): ${value}`);
  return new Date(t).toISOString();
}

export async function runStream(opts: StreamOptions): Promise<StreamResult> {
  const started = Date.now();
  // V8 collects once the old generation is 1.5× what is alive, not 4× (./heap.ts).
  limitHeapGrowth();
  const now = opts.now ?? Date.now;
  const { store, client } = opts;
  const engine = new Engine(opts.rules, { ...opts.engine, schema: opts.schema, store, reorderWindowMs: opts.reorderWindowMs ?? opts.engine?.reorderWindowMs });
  const delivery = alertDelivery(engine, store, opts.sinks);
  let badRecords = 0;
  let pages = 0;

  // Alerts a killed run committed but never handed to the sinks.
  delivery.deliver(store.pendingAlerts());

  // Where to start, and what to save with each page.
  let pages$: AsyncGenerator<Page>;
  let save: (page: Page | undefined, complete: boolean) => Json;
  let name: string;
  if (opts.mode === 'backfill') {
    if (!opts.since) throw new OktaApiError('backfill needs --since');
    const since = isoTime(opts.since, '--since');
    name = backfillCheckpointName(opts.org);
    const saved = store.getCheckpoint(name) as BackfillCheckpoint | undefined;
    const sameRange = saved && saved.since === since && (opts.until === undefined || saved.until === isoTime(opts.until, '--until'));
    const until = sameRange ? saved.until : isoTime(opts.until ?? new Date(now()).toISOString(), '--until');
    if (Date.parse(until) <= Date.parse(since)) throw new OktaApiError(`--until (${until}) must be after --since (${since})`);
    if (sameRange && saved.complete) {
      opts.onNote?.(`backfill ${since} .. ${until} was already done with this state (use --fresh or another --state to run it again)`);
      return { summary: summarise(engine, opts.rules, started, 0), engine, badRecords: 0, pages: 0, stopped: 'already-done' };
    }
    let start = boundedUrl(client.baseUrl, since, until, client.limit);
    if (sameRange && saved.atEnd) {
      // Stopped after its last page was committed: nothing left to fetch, only the drain.
      opts.onNote?.(`backfill ${since} .. ${until}: every page was read by an interrupted run; finishing it`);
      pages$ = (async function* () {})();
    } else {
      if (sameRange && saved.next) {
        start = saved.next;
        opts.onNote?.(`backfill ${since} .. ${until}: resuming an interrupted run`);
      }
      pages$ = client.bounded(start);
    }
    save = (page, complete) => {
      if (complete || !page) return { since, until, atEnd: true, complete } as unknown as Json;
      // The bounded listing ends at a page without a next link, or at an empty page.
      const atEnd = !page.next || page.events.length === 0;
      return { since, until, ...(page.next && !atEnd ? { next: page.next } : {}), ...(atEnd ? { atEnd } : {}), complete } as unknown as Json;
    };
  } else {
    name = pollCheckpointName(opts.org);
    const saved = store.getCheckpoint(name) as PollCheckpoint | undefined;
    let since: string;
    let start: string;
    if (saved?.next) {
      since = saved.since;
      start = saved.next;
      const asked = opts.since === undefined ? undefined : isoTime(opts.since, '--since');
      opts.onNote?.(
        `resuming the poll started at ${since} from its saved position` +
          (asked && asked !== since ? ` (--since ${asked} ignored: use --fresh or another --state to start over)` : ''),
      );
    } else {
      since = isoTime(opts.since ?? new Date(now()).toISOString(), '--since');
      start = pollingUrl(client.baseUrl, since, client.limit);
    }
    pages$ = client.poll(start, { stopWhenEmpty: opts.mode === 'once' });
    // Without a next link (never from Okta's polling), the page is fetched again next time.
    save = (page) => ({ next: page?.next ?? page?.url ?? start, since }) as unknown as Json;
  }

  let batchNo = Number(store.getCheckpoint('engine:batch') ?? 0);
  const commit = (push: () => void, page: Page | undefined, complete: boolean): void => {
    store.begin();
    try {
      push();
      engine.commit(++batchNo);
      store.setCheckpoint(name, save(page, complete));
      store.setCheckpoint('engine:batch', batchNo);
      store.commit();
    } catch (e) {
      store.rollback();
      throw e;
    }
    delivery.afterCommit();
    opts.progress?.tick(engine.stats.events, engine.stats.alerts, opts.mode === 'backfill' ? 'backfill' : 'watching');
  };

  // Code runtimes that evaluate batches before the engine (Python rule bodies) see each page.
  const preparer = batchPreparer(opts.rules, { schema: opts.schema, onNote: opts.onNote });
  let stopped: StreamResult['stopped'] = 'end';
  try {
    for await (const page of pages$) {
      pages++;
      const events: CanonicalEvent[] = [];
      page.events.forEach((raw, i) => {
        const origin = `okta-api:page ${pages}:${i + 1}`;
        const bad = (reason: string): void => {
          badRecords++;
          opts.onBadRecord?.(`${origin}: ${reason}`);
        };
        try {
          for (const ev of adaptRecord(raw, origin, { timeField: opts.timeField, onPartialError: bad })) events.push(ev);
        } catch (e) {
          // One event must never stop the stream: reported and skipped.
          bad(e instanceof RecordError ? e.message : `cannot process this event: ${internalReason(e)}`);
        }
      });
      if (preparer && events.length > 0) await preparer.prepare(events);
      // The events and the link to the page after them, in one transaction.
      commit(() => events.forEach((ev) => engine.push(ev)), page, false);
      if (opts.maxPages !== undefined && pages >= opts.maxPages) {
        stopped = 'max-pages';
        break;
      }
      if (opts.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
    }
    // --once: the poll ends at the first page that is not full (all there is now).
    if (stopped === 'end' && opts.mode === 'once') stopped = 'caught-up';
  } catch (e) {
    if (!isAbort(e)) {
      await preparer?.close();
      throw e;
    }
    stopped = 'aborted';
  }
  // A finished backfill is the end of its input: what the reorder window holds is processed now.
  if (opts.mode === 'backfill' && stopped === 'end') commit(() => engine.drain(), undefined, true);
  await preparer?.close();
  opts.progress?.done();
  return { summary: summarise(engine, opts.rules, started, badRecords), engine, badRecords, pages, stopped };
}
