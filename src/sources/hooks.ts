/**
 * The Okta Event Hook endpoint (`oktopus serve`), on node:http.
 *
 *   GET  <path>   one-time verification: `x-okta-verification-challenge` -> {"verification": …}
 *   POST <path>   a delivery `{…, data: {events: [LogEvent…]}}`, authenticated by a header whose
 *                 value must equal the secret (compared in constant time: SHA-256 digests and
 *                 crypto.timingSafeEqual), else 401; body over the limit 413, not JSON 415 (content
 *                 type, or any content encoding) or 400 (malformed), not an Event Hook delivery, or
 *                 nested deeper than its events may be, 400; overloaded (in-flight deliveries or
 *                 queue lag over their limits) 503 with Retry-After
 *   GET  /healthz JSON: queue depth, last event time, uptime
 *   GET  /metrics Prometheus text: events in, alerts out, queue depth, lag, errors by kind
 *
 * Accept, persist, respond; never process inline. An accepted delivery is written to the state
 * store's queue namespace (`hooks:queue`) in its own transaction before the 200 goes out, so a
 * crash after the 200 loses nothing. A single consumer loop then takes queued deliveries in
 * arrival order, pushes their events through the adapters and the engine, and commits the engine
 * state together with the removal of those deliveries from the queue (one transaction, opened and
 * committed without yielding to the event loop, so no request handler ever writes inside it);
 * alerts go to the sinks after the commit, and alerts committed but not delivered before a crash
 * are delivered first at the next start. A restart processes whatever is still queued.
 *
 * Duplicates: the engine drops repeated event uuids (24 h of event time, persisted with its
 * state), which covers Okta's redeliveries, including across restarts. A delivery whose events'
 * uuids were all accepted recently (an in-memory set of the last 100,000) is not even queued.
 *
 * A delivery that makes the engine or the store fail is isolated: the batch rolls back, the engine
 * is rebuilt from the store, the batch's deliveries are retried one by one, and one that still fails
 * is moved to `hooks:failed` (with the error) so the queue keeps moving.
 *
 * The secret is never logged nor echoed: responses and log lines never contain header values.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CanonicalEvent, Json, JsonObject } from '../event/types.js';
import type { RuleIR } from '../ir/types.js';
import type { SchemaContext } from '../schema/index.js';
import type { StateStore, StoredAlert } from '../store/types.js';
import type { AlertSink } from '../sinks/types.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { batchPreparer, type BatchPreparer } from '../engine/code/registry.js';
import { isHiddenAlert } from '../engine/stages/correlation.js';
import { adaptRecord, MAX_NESTING, RecordError } from '../adapters/index.js';
import { nestedDeeperThan } from '../adapters/common.js';

/** Queued deliveries: key = 16-digit sequence number, value = QueuedDelivery. */
export const HOOK_QUEUE_NS = 'hooks:queue';
/** Deliveries the engine could not process even alone (kept with the error, for inspection). */
export const HOOK_FAILED_NS = 'hooks:failed';
const SEQ_CHECKPOINT = 'hooks:queue:seq';
/** Shared with scan (and any other pipeline on this state): numbers the engine's commits. */
const BATCH_CHECKPOINT = 'engine:batch';

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Open connections at most (more wait in the kernel's backlog, then are refused). */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Deliveries being received or stored at once at most; more are answered 503 (backpressure). */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/**
 * Deepest nesting of a delivery: `{data: {events: [event]}}` puts each event at level 4, and the
 * adapters refuse an event nested deeper than MAX_NESTING levels, so nothing deeper is of use.
 */
export const MAX_DELIVERY_NESTING = MAX_NESTING + 3;
const RECENT_UUIDS = 100_000;
const MAX_CHALLENGE = 1024;

interface QueuedDelivery {
  /** Wall-clock arrival (ms). */
  received: number;
  events: number;
  /** The delivery as JSON text (serialised once, in the request, before the shared transaction). */
  text?: string;
  /** The delivery as an object (queues written by earlier versions). */
  delivery?: JsonObject;
}

interface Pending {
  key: string;
  received: number;
  events: number;
}

export interface HookServerOptions {
  store: StateStore;
  rules: RuleIR[];
  schema: SchemaContext;
  sinks: AlertSink[];
  /** The value the authentication header must carry (exactly). */
  secret: string;
  /** The authentication header's name (default `Authorization`; case-insensitive). */
  header?: string;
  host?: string;
  /** 0 picks a free port (tests). Default 8080. */
  port?: number;
  /** The hook's URL path (default `/`). */
  path?: string;
  maxBodyBytes?: number;
  timeField?: string;
  reorderWindowMs?: number;
  engine?: Omit<EngineOptions, 'schema' | 'store' | 'reorderWindowMs'>;
  /** Deliveries per engine transaction at most (default 500); also bounded by `batchEvents`. */
  batchDeliveries?: number;
  /** Events per engine transaction at most (default 5,000; a delivery is never split). */
  batchEvents?: number;
  /**
   * When nothing has arrived for this long (wall clock), events held in the reorder window are
   * released to the stateful rules (default: the reorder window; 0 never).
   */
  idleReleaseMs?: number;
  /** Log lines (stderr in the CLI). Never receives a header value. */
  log?: (line: string) => void;
  /** Do not start the consumer: deliveries are accepted and queued only (tests: a crash before processing). */
  paused?: boolean;
  /** Open connections at most (default 1024). */
  maxConnections?: number;
  /** Deliveries being received or stored at once at most; beyond, 503 with Retry-After (default 256). */
  maxInFlight?: number;
  /**
   * Backpressure: while the oldest queued delivery is older than this (seconds), deliveries are
   * answered 503 with Retry-After (default 0: never; Okta retries a 5xx once, then drops the delivery).
   */
  maxQueueLagSeconds?: number;
  /** Retry-After of a 503 (seconds, default 5). */
  retryAfterSeconds?: number;
}

export interface HookCounters {
  deliveriesAccepted: number;
  deliveriesDuplicate: number;
  eventsIn: number;
  eventsProcessed: number;
  duplicateEvents: number;
  badEvents: number;
  alertsOut: number;
  errors: Map<string, number>;
}

export interface HookServer {
  readonly port: number;
  readonly host: string;
  /** `http://host:port` */
  readonly url: string;
  readonly counters: HookCounters;
  queueDepth(): number;
  /** Resolves once the queue is empty and the consumer is waiting (or stopped). */
  idle(): Promise<void>;
  /**
   * Stop accepting, let requests in flight finish, then (unless `drain: false`, which leaves the
   * queue as a crash would) process everything queued and commit. The store and sinks stay open:
   * they belong to the caller.
   */
  close(opts?: { drain?: boolean }): Promise<void>;
}

const ERROR_KINDS = ['unauthorized', 'bad_content_type', 'too_large', 'bad_json', 'bad_delivery', 'bad_request', 'not_found', 'method', 'overloaded', 'enqueue', 'bad_event', 'engine', 'sink'] as const;
type ErrorKind = (typeof ERROR_KINDS)[number];

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

function queueKey(seq: number): string {
  return String(seq).padStart(16, '0');
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `application/json`, `application/json; charset=utf-8`, `application/cloudevents+json`… */
function isJsonType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function send(res: ServerResponse, status: number, body?: string | JsonObject, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) + '\n';
  const type = body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json' };
  res.writeHead(status, { ...type, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

export async function startHookServer(opts: HookServerOptions): Promise<HookServer> {
  const hub = new HookConsumer(opts);
  hub.start();
  const log = opts.log ?? (() => undefined);
  const header = (opts.header ?? 'authorization').toLowerCase();
  const secretDigest = digest(opts.secret);
  const hookPath = opts.path ?? '/';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const started = Date.now();
  const { counters } = hub;
  let stopping = false;
  let inFlight = 0;
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const maxLag = opts.maxQueueLagSeconds ?? 0;
  const retryAfter = String(Math.max(1, Math.round(opts.retryAfterSeconds ?? 5)));

  const fail = (kind: ErrorKind): void => {
    counters.errors.set(kind, (counters.errors.get(kind) ?? 0) + 1);
  };

  /**
   * Answer now and close the connection, without buffering what the client still sends: the
   * rest of the body is read and dropped (so the client can read the answer rather than see a
   * reset), up to the size limit or one second, then the socket is destroyed.
   */
  const reject = (req: IncomingMessage, res: ServerResponse, status: number, kind: ErrorKind, message: string, headers: Record<string, string> = {}): void => {
    fail(kind);
    send(res, status, { error: message }, { connection: 'close', ...headers });
    if (req.complete) return;
    let dropped = 0;
    const timer = setTimeout(() => req.destroy(), 1000);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > maxBody) req.destroy();
    });
    req.on('end', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.resume();
  };

  const authorised = (req: IncomingMessage): boolean => {
    const value = req.headers[header];
    if (typeof value !== 'string') return false;
    // Digests have equal lengths whatever the value: the comparison leaks neither content nor length.
    return timingSafeEqual(digest(value), secretDigest);
  };

  const health = (): JsonObject => ({
    status: stopping ? 'stopping' : 'ok',
    queueDepth: hub.queueDepth(),
    queuedEvents: hub.queuedEvents(),
    lastEventTime: hub.lastEventTime === undefined ? null : new Date(hub.lastEventTime).toISOString(),
    lastDeliveryTime: hub.lastDelivery === undefined ? null : new Date(hub.lastDelivery).toISOString(),
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    eventsIn: counters.eventsIn,
    alertsOut: counters.alertsOut,
  });

  const metrics = (): string => {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
    };
    metric('oktopus_hook_deliveries_total', 'counter', 'Event Hook deliveries answered 200, by result.', [
      ['{result="accepted"}', counters.deliveriesAccepted],
      ['{result="duplicate"}', counters.deliveriesDuplicate],
    ]);
    metric('oktopus_events_in_total', 'counter', 'Events in accepted deliveries.', [['', counters.eventsIn]]);
    metric('oktopus_events_processed_total', 'counter', 'Events the engine processed (duplicates excluded).', [['', counters.eventsProcessed]]);
    metric('oktopus_duplicate_events_total', 'counter', 'Events dropped as repeats of an event uuid already seen.', [['', counters.duplicateEvents]]);
    metric('oktopus_alerts_out_total', 'counter', 'Alerts raised and handed to the sinks.', [['', counters.alertsOut]]);
    metric('oktopus_hook_queue_depth', 'gauge', 'Deliveries accepted and not yet processed.', [['', hub.queueDepth()]]);
    metric('oktopus_hook_queue_events', 'gauge', 'Events in the deliveries not yet processed.', [['', hub.queuedEvents()]]);
    metric('oktopus_hook_lag_seconds', 'gauge', 'Age of the oldest delivery not yet processed (0 when the queue is empty).', [['', hub.lagSeconds()]]);
    metric('oktopus_last_event_timestamp_seconds', 'gauge', 'Newest event time (published) processed.', [['', hub.lastEventTime === undefined ? 0 : hub.lastEventTime / 1000]]);
    metric('oktopus_errors_total', 'counter', 'Errors by kind (rejected requests, bad events, engine and sink failures).', ERROR_KINDS.map((k) => [`{kind="${k}"}`, counters.errors.get(k) ?? 0]));
    metric('oktopus_uptime_seconds', 'gauge', 'Seconds since the endpoint started.', [['', (Date.now() - started) / 1000]]);
    return lines.join('\n') + '\n';
  };

  const verify = (req: IncomingMessage, res: ServerResponse): void => {
    const challenge = req.headers['x-okta-verification-challenge'];
    if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > MAX_CHALLENGE) {
      fail('bad_request');
      send(res, 400, { error: 'a GET on the hook path is Okta\'s verification request: it needs an x-okta-verification-challenge header' });
      return;
    }
    log('event hook verification request answered');
    send(res, 200, { verification: challenge });
  };

  const deliver = (req: IncomingMessage, res: ServerResponse): void => {
    if (stopping) return reject(req, res, 503, 'bad_request', 'shutting down');
    if (!authorised(req)) return reject(req, res, 401, 'unauthorized', 'unauthorized');
    if (!isJsonType(req.headers['content-type'])) return reject(req, res, 415, 'bad_content_type', 'content type must be application/json');
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return reject(req, res, 415, 'bad_content_type', 'content encoding not supported (send the body uncompressed)');
    // Backpressure: too many deliveries at once, or a queue falling behind. Okta retries a 5xx once.
    if (inFlight >= maxInFlight) return reject(req, res, 503, 'overloaded', 'too many deliveries at once; retry later', { 'retry-after': retryAfter });
    if (maxLag > 0 && hub.lagSeconds() > maxLag) return reject(req, res, 503, 'overloaded', 'the queue is falling behind; retry later', { 'retry-after': retryAfter });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) return reject(req, res, 413, 'too_large', `body larger than ${maxBody} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    inFlight++;
    let counted = true;
    const settle = (): void => {
      if (counted) inFlight--;
      counted = false;
    };
    res.on('close', settle);
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBody) {
        over = true;
        chunks.length = 0;
        reject(req, res, 413, 'too_large', `body larger than ${maxBody} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        fail('bad_json');
        return send(res, 400, { error: 'malformed JSON' });
      }
      if (!isObject(body) || !isObject(body.data) || !Array.isArray(body.data.events)) {
        fail('bad_delivery');
        return send(res, 400, { error: 'not an Event Hook delivery (no data.events array)' });
      }
      // Serialised once, here, so a delivery that cannot be stored fails alone, never inside the
      // transaction it would share with the deliveries that arrive with it.
      if (nestedDeeperThan(body, MAX_DELIVERY_NESTING)) {
        fail('bad_delivery');
        return send(res, 400, { error: `not an Event Hook delivery we can store: its events nest deeper than ${MAX_NESTING} levels` });
      }
      let text: string;
      try {
        text = JSON.stringify(body);
      } catch {
        fail('bad_delivery');
        return send(res, 400, { error: 'not an Event Hook delivery we can store' });
      }
      hub.accept(text, body.data.events as unknown[], (error) => {
        if (!error) return send(res, 200);
        fail('enqueue');
        log(`error: could not queue a delivery: ${error.message}`);
        send(res, 500, { error: 'could not store the delivery' });
      });
    });
    req.on('error', () => undefined); // a client gone mid-body: nothing was queued
  };

  // Slow clients must not hold descriptors: headers within 5 s, the whole request within 10 s
  // (checked every second), and a cap on open connections.
  const server: Server = createServer({ connectionsCheckingInterval: 1000, headersTimeout: 5000, requestTimeout: 10_000 }, (req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return reject(req, res, 400, 'bad_request', 'bad request URL');
    }
    const method = req.method ?? 'GET';
    if (path === '/healthz' && path !== hookPath) {
      if (method !== 'GET' && method !== 'HEAD') return reject(req, res, 405, 'method', 'GET only');
      return send(res, stopping ? 503 : 200, health());
    }
    if (path === '/metrics' && path !== hookPath) {
      if (method !== 'GET' && method !== 'HEAD') return reject(req, res, 405, 'method', 'GET only');
      return send(res, 200, metrics());
    }
    if (path !== hookPath) return reject(req, res, 404, 'not_found', 'not found');
    if (method === 'GET') return verify(req, res);
    if (method === 'POST') return deliver(req, res);
    return reject(req, res, 405, 'method', 'the hook path takes GET (verification) and POST (deliveries)');
  });
  server.keepAliveTimeout = 10_000;
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log(`error: ${e.message}`));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (o: { drain?: boolean } = {}): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      await hub.stop(o.drain !== false);
    })();
    return closing;
  };

  return {
    port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    counters,
    queueDepth: () => hub.queueDepth(),
    idle: () => hub.idle(),
    close,
  };
}

/** The durable queue and its single consumer (engine, transactions, sinks). */
class HookConsumer {
  readonly counters: HookCounters = {
    deliveriesAccepted: 0,
    deliveriesDuplicate: 0,
    eventsIn: 0,
    eventsProcessed: 0,
    duplicateEvents: 0,
    badEvents: 0,
    alertsOut: 0,
    errors: new Map(),
  };
  lastEventTime?: number;
  lastDelivery?: number;

  private readonly store: StateStore;
  private engine: Engine;
  private readonly preparer?: BatchPreparer;
  private readonly pending: Pending[] = [];
  private pendingEvents = 0;
  private seq: number;
  private readonly recent = new Set<string>();
  private lastArrival = Date.now();
  private stopping = false;
  private drainOnStop = true;
  private loop?: Promise<void>;
  private wake?: () => void;
  private waiters: (() => void)[] = [];
  private working = false;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: HookServerOptions) {
    this.store = opts.store;
    this.log = opts.log ?? (() => undefined);
    this.engine = this.newEngine();
    this.preparer = batchPreparer(opts.rules, { schema: opts.schema, onNote: this.log });
    // What an earlier run queued and never processed, in arrival order.
    for (const [key, v] of this.store.entries(HOOK_QUEUE_NS)) {
      const q = v as unknown as QueuedDelivery;
      this.pending.push({ key, received: q.received, events: q.events });
      this.pendingEvents += q.events;
    }
    this.pending.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const last = this.pending.at(-1);
    this.seq = Math.max(Number(this.store.getCheckpoint(SEQ_CHECKPOINT) ?? 0), last ? Number(last.key) + 1 : 0);
    if (this.pending.length > 0) this.log(`${this.pending.length} queued deliveries (${this.pendingEvents} events) from an earlier run: processing them first`);
  }

  private newEngine(): Engine {
    return new Engine(this.opts.rules, { ...this.opts.engine, schema: this.opts.schema, store: this.store, reorderWindowMs: this.opts.reorderWindowMs });
  }

  start(): void {
    // Alerts an earlier run committed but never handed to the sinks.
    this.deliver(this.store.pendingAlerts());
    if (!this.opts.paused) this.loop = this.run();
  }

  queueDepth(): number {
    return this.pending.length;
  }
  queuedEvents(): number {
    return this.pendingEvents;
  }
  lagSeconds(): number {
    const first = this.pending[0];
    return first ? Math.max(0, (Date.now() - first.received) / 1000) : 0;
  }

  /**
   * Persist a delivery, then call `done` (the 200) — or `done(error)` (a 500) when it could not
   * be stored. Deliveries arriving in the same turn of the event loop are written in one
   * transaction (group commit): each is answered only after that transaction committed.
   */
  accept(text: string, events: unknown[], done: (error?: Error) => void): void {
    const now = Date.now();
    this.lastDelivery = now;
    const uuids = events.map((e) => (isObject(e) && typeof e.uuid === 'string' ? e.uuid : undefined));
    if (events.length === 0 || uuids.every((u) => u !== undefined && (this.recent.has(u) || this.incomingUuids.has(u)))) {
      this.counters.deliveriesDuplicate++;
      // Answered after the copy being written (if any) is committed, like the original.
      if (this.incoming.length > 0) this.incoming.push({ duplicate: true, done });
      else done();
      return;
    }
    for (const u of uuids) if (u !== undefined) this.incomingUuids.add(u);
    this.incoming.push({ duplicate: false, value: { received: now, events: events.length, text }, uuids, done });
    if (this.incoming.length === 1) setImmediate(() => this.writeIncoming());
  }

  private readonly incoming: ({ duplicate: true; done: (error?: Error) => void } | { duplicate: false; value: QueuedDelivery; uuids: (string | undefined)[]; done: (error?: Error) => void })[] = [];
  private readonly incomingUuids = new Set<string>();

  private writeIncoming(): void {
    const batch = this.incoming.splice(0);
    this.incomingUuids.clear();
    const added: Pending[] = [];
    let error: Error | undefined;
    try {
      this.store.transaction(() => {
        let seq = this.seq;
        for (const d of batch) {
          if (d.duplicate) continue;
          const key = queueKey(seq++);
          this.store.set(HOOK_QUEUE_NS, key, d.value as unknown as Json);
          added.push({ key, received: d.value.received, events: d.value.events });
        }
        this.store.setCheckpoint(SEQ_CHECKPOINT, seq);
      });
    } catch (e) {
      error = e as Error;
      added.length = 0;
    }
    if (!error) {
      this.seq += added.length;
      for (const d of batch) {
        if (d.duplicate) continue;
        for (const u of d.uuids) {
          if (u === undefined) continue;
          this.recent.delete(u);
          this.recent.add(u);
          if (this.recent.size > RECENT_UUIDS) this.recent.delete(this.recent.values().next().value as string);
        }
      }
      for (const p of added) {
        this.pending.push(p);
        this.pendingEvents += p.events;
        this.counters.deliveriesAccepted++;
        this.counters.eventsIn += p.events;
      }
      if (added.length > 0) this.lastArrival = Date.now();
      this.wake?.();
    }
    for (const d of batch) d.done(error);
  }

  idle(): Promise<void> {
    if (!this.working && (this.pending.length === 0 || !this.loop)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(drain: boolean): Promise<void> {
    this.stopping = true;
    this.drainOnStop = drain;
    this.wake?.();
    await this.loop;
    await this.preparer?.close();
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.pending.length > 0 && (!this.stopping || this.drainOnStop)) {
        this.working = true;
        // A trickle is gathered for a few milliseconds: fewer, larger transactions under load.
        if (!this.stopping && this.pendingEvents < (this.opts.batchEvents ?? 5000) / 2) await new Promise((r) => setTimeout(r, 10));
        await this.step(this.takeBatch());
        this.working = false;
        await yieldToLoop(); // let requests in (answers within Okta's 3 s whatever the backlog)
        continue;
      }
      if (!this.stopping) this.releaseIfIdle();
      for (const w of this.waiters.splice(0)) w();
      if (this.stopping) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private takeBatch(): Pending[] {
    const maxDeliveries = this.opts.batchDeliveries ?? 500;
    const maxEvents = this.opts.batchEvents ?? 5000;
    let events = 0;
    let n = 0;
    while (n < this.pending.length && n < maxDeliveries && (n === 0 || events + this.pending[n]!.events <= maxEvents)) {
      events += this.pending[n]!.events;
      n++;
    }
    return this.pending.slice(0, n);
  }

  private nextBatchNumber(): number {
    const n = Number(this.store.getCheckpoint(BATCH_CHECKPOINT) ?? 0) + 1;
    this.store.setCheckpoint(BATCH_CHECKPOINT, n);
    return n;
  }

  /** Process deliveries and remove them from the queue, in one transaction; then the sinks. */
  private async step(batch: Pending[]): Promise<void> {
    const bad: string[] = [];
    const events: CanonicalEvent[] = [];
    for (const p of batch) {
      const q = this.store.get(HOOK_QUEUE_NS, p.key) as unknown as QueuedDelivery | undefined;
      if (!q) continue;
      const origin = `hook delivery ${Number(p.key)}`;
      try {
        const delivery: unknown = typeof q.text === 'string' ? JSON.parse(q.text) : q.delivery;
        for (const ev of adaptRecord(delivery, origin, { timeField: this.opts.timeField, onPartialError: (reason) => bad.push(`${origin}: ${reason}`) })) events.push(ev);
      } catch (e) {
        bad.push(`${origin}: ${e instanceof RecordError ? e.message : `cannot process this delivery: ${(e as Error).message}`}`);
      }
    }
    try {
      if (this.preparer && events.length > 0) await this.preparer.prepare(events);
      const before = { events: this.engine.stats.events, duplicates: this.engine.stats.duplicates };
      // From here to the commit nothing yields: no request handler can write inside this transaction.
      this.store.begin();
      try {
        for (const ev of events) this.engine.push(ev);
        this.engine.commit(this.nextBatchNumber());
        for (const p of batch) this.store.delete(HOOK_QUEUE_NS, p.key);
        this.store.commit();
      } catch (e) {
        this.store.rollback();
        throw e;
      }
      this.counters.eventsProcessed += this.engine.stats.events - before.events;
      this.counters.duplicateEvents += this.engine.stats.duplicates - before.duplicates;
      for (const ev of events) if (ev.kind === 'okta' && (this.lastEventTime === undefined || ev.time > this.lastEventTime)) this.lastEventTime = ev.time;
    } catch (e) {
      this.fail('engine');
      // The engine's memory may be ahead of the rolled-back store: rebuild it from the store.
      this.engine = this.newEngine();
      if (batch.length > 1) {
        this.log(`error: processing ${batch.length} deliveries failed (${(e as Error).message}); retrying them one by one`);
        for (const p of batch) await this.step([p]);
        return;
      }
      this.deadLetter(batch[0]!, e as Error);
      return;
    }
    this.dequeued(batch);
    this.counters.badEvents += bad.length;
    for (const line of bad) {
      this.fail('bad_event');
      this.log(`bad event: ${line}`);
    }
    this.deliver(this.engine.takeAlerts());
    this.deliverUpdates();
  }

  private dequeued(batch: Pending[]): void {
    const keys = new Set(batch.map((p) => p.key));
    let kept = 0;
    for (const p of this.pending) {
      if (keys.has(p.key)) this.pendingEvents -= p.events;
      else this.pending[kept++] = p;
    }
    this.pending.length = kept;
  }

  private deadLetter(p: Pending, error: Error): void {
    const q = this.store.get(HOOK_QUEUE_NS, p.key);
    this.store.transaction(() => {
      if (q !== undefined) this.store.set(HOOK_FAILED_NS, p.key, { error: error.message, queued: q } as unknown as Json);
      this.store.delete(HOOK_QUEUE_NS, p.key);
    });
    this.dequeued([p]);
    this.log(`error: hook delivery ${Number(p.key)} could not be processed (${error.message}); kept in the state store, namespace ${HOOK_FAILED_NS}`);
  }

  /**
   * Nothing arrived for a whole reorder window of wall-clock time: stragglers are no longer
   * expected, so the events held for ordering go to the stateful rules now (committed).
   */
  private releaseIfIdle(): void {
    const idleMs = this.opts.idleReleaseMs ?? this.opts.reorderWindowMs ?? 5 * 60_000;
    if (idleMs <= 0 || this.engine.buffered === 0 || Date.now() - this.lastArrival < idleMs) return;
    try {
      this.store.begin();
      try {
        this.engine.drain();
        this.engine.commit(this.nextBatchNumber());
        this.store.commit();
      } catch (e) {
        this.store.rollback();
        throw e;
      }
    } catch (e) {
      this.fail('engine');
      this.log(`error: releasing held events failed: ${(e as Error).message}`);
      this.engine = this.newEngine();
      this.lastArrival = Date.now();
      return;
    }
    this.deliver(this.engine.takeAlerts());
    this.deliverUpdates();
  }

  private fail(kind: ErrorKind): void {
    this.counters.errors.set(kind, (this.counters.errors.get(kind) ?? 0) + 1);
  }

  /** Hand committed alerts to the sinks; those every sink took are marked delivered. */
  private deliver(alerts: StoredAlert[]): void {
    if (alerts.length === 0) return;
    const done: string[] = [];
    for (const a of alerts) {
      try {
        // Hidden alerts (Sigma correlation `generate: false`) are stored and fed back, not delivered.
        if (!isHiddenAlert(a.doc)) {
          for (const s of this.opts.sinks) s.write(a);
          this.counters.alertsOut++;
        }
        done.push(a.uuid);
      } catch (e) {
        this.fail('sink');
        this.log(`error: alert ${a.uuid}: a sink failed (${(e as Error).message}); it stays pending and is delivered at the next start`);
      }
    }
    this.store.markDelivered(done);
  }

  private deliverUpdates(): void {
    const updates = this.engine.takeUpdates();
    if (updates.size === 0) return;
    const done: string[] = [];
    for (const [uuid, doc] of updates) {
      try {
        for (const s of this.opts.sinks) s.update?.(uuid, doc);
        done.push(uuid);
      } catch (e) {
        this.fail('sink');
        this.log(`error: alert ${uuid}: a sink failed on an update (${(e as Error).message})`);
      }
    }
    this.store.markDelivered(done);
  }
}
