/** Test helpers: events and rules built in code (the project's tests never read ../shared). */
import { Worker } from 'node:worker_threads';
import { makeEvent, type CanonicalEvent, type JsonObject } from '../src/event/types.js';
import type { Predicate, RuleIR, Stage } from '../src/ir/types.js';

let counter = 0;

/** A realistic Okta LogEvent with overrides. */
export function logEvent(over: JsonObject = {}): JsonObject {
  counter++;
  return {
    uuid: `evt-${counter}`,
    published: '2026-11-02T09:00:00.000Z',
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    legacyEventType: 'core.user_auth.login_success',
    displayMessage: 'User login to Okta',
    actor: { id: '00u1abc', type: 'User', alternateId: 'homer.simpson@duff.com', displayName: 'Homer Simpson' },
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
      zone: 'null',
      device: 'Computer',
      ipAddress: '203.0.113.7',
      geographicalContext: { city: 'Springfield', state: 'Ohio', country: 'United States', postalCode: '12345', geolocation: { lat: 39.9, lon: -83.8 } },
    },
    outcome: { result: 'SUCCESS' },
    target: [],
    securityContext: { asNumber: 701, asOrg: 'verizon', isp: 'verizon', domain: 'verizon.net', isProxy: false },
    debugContext: { debugData: { requestUri: '/idp/idx/identify' } },
    authenticationContext: { authenticationStep: 0, externalSessionId: 'idx123' },
    transaction: { type: 'WEB', id: 'tx1', detail: {} },
    request: { ipChain: [{ ip: '203.0.113.7', version: 'V4' }] },
    ...over,
  };
}

export function oktaEvent(over: JsonObject = {}): CanonicalEvent {
  const doc = logEvent(over);
  return makeEvent({
    kind: 'okta',
    id: String(doc['uuid']),
    time: Date.parse(String(doc['published'])),
    eventType: String(doc['eventType']).toLowerCase(),
    doc,
    origin: 'test',
    depth: 0,
    shape: 'okta',
  });
}

export const eq = (name: string, ...values: (string | number | boolean)[]): Predicate => ({
  type: 'compare',
  field: { name, schema: 'okta' },
  op: 'eq',
  values,
});

export function rule(id: string, predicate: Predicate, over: Partial<RuleIR> = {}, more: Stage[] = []): RuleIR {
  return {
    id,
    name: `Rule ${id}`,
    dialect: 'sigma',
    ruleType: 'detection',
    file: `${id}.yml`,
    severity: 'high',
    riskScore: 73,
    tags: [],
    threat: [],
    references: [],
    falsePositives: [],
    input: 'okta',
    enabled: true,
    stages: [{ type: 'filter', predicate }, ...more],
    ...over,
  };
}

export const at = (iso: string) => ({ published: iso });

/** A canonical event wrapping exactly `doc` (no defaults added). */
export function eventOf(doc: JsonObject): CanonicalEvent {
  const published = typeof doc['published'] === 'string' ? Date.parse(doc['published']) : 0;
  return makeEvent({
    kind: 'okta',
    id: String(doc['uuid'] ?? 'test-uuid'),
    time: published,
    eventType: String(doc['eventType'] ?? '').toLowerCase(),
    doc,
    origin: 'test',
    depth: 0,
    shape: 'okta',
  });
}

/**
 * Runs `fn(...args)` in a worker thread and rejects when it has not finished within `ms`.
 * node:test's `timeout` cannot stop synchronous code: a test stuck in a loop hangs the run, and
 * one that eventually returns passes however long it took. So a test that guards against
 * super-linear behaviour runs the work here, where it can be terminated. `fn` is sent as source
 * text: no closures; modules are imported by URL. Errors come back as { name, message, line, col }.
 */
export function timeboxed<T>(ms: number, fn: (...args: never[]) => T | Promise<T>, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
Promise.resolve().then(() => (${fn.toString()})(...workerData)).then(
  (value) => parentPort.postMessage({ value }),
  (e) => parentPort.postMessage({ error: { name: e?.name, message: String(e?.message ?? e), line: e?.line, col: e?.col } }),
);`,
      { eval: true, workerData: args },
    );
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`did not finish within ${ms} ms`));
    }, ms);
    worker.once('message', (m: { value?: T; error?: { name: string; message: string } }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.error) reject(Object.assign(new Error(m.error.message), m.error));
      else resolve(m.value as T);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
