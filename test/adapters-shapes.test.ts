import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '../src/event/types.js';
import { adaptRecord, MAX_NESTING, RecordError, type AdapterOptions } from '../src/adapters/index.js';
import { ecsFieldGetter, toEcsDocument } from '../src/schema/ecs.js';
import { compilePath } from '../src/schema/path.js';

function fixture(name: string): JsonObject {
  const path = fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
}

const ctx = { org: 'duff.okta.com' };
const PUBLISHED_MS = Date.UTC(2024, 7, 13, 15, 58, 20, 353);

function rejects(record: unknown, reason: string | RegExp, opts?: AdapterOptions): void {
  assert.throws(
    () => adaptRecord(record, 'f:1', opts),
    (e: unknown) => {
      assert.ok(e instanceof RecordError, `RecordError expected, got ${String(e)}`);
      if (typeof reason === 'string') assert.equal(e.message, reason);
      else assert.match(e.message, reason);
      return true;
    },
  );
}

test('raw Okta LogEvent -> shape okta, doc untouched', () => {
  const raw = fixture('logevent-session-start.json');
  const before = JSON.stringify(raw);
  const [ev, ...rest] = adaptRecord(raw, 'tenant.ndjson:7');
  assert.equal(rest.length, 0);
  assert.ok(ev);
  assert.equal(ev.kind, 'okta');
  assert.equal(ev.shape, 'okta');
  assert.equal(ev.id, '2a3f8c1e-5b7d-11ef-9c2a-6b1e4f0d7a91');
  assert.equal(ev.time, PUBLISHED_MS);
  assert.equal(ev.eventType, 'user.session.start');
  assert.equal(ev.origin, 'tenant.ndjson:7');
  assert.equal(ev.depth, 0);
  assert.equal(ev.doc, raw);
  assert.equal(JSON.stringify(ev.doc), before);
  assert.equal(ev.cache.size, 0);
});

test('eventType is lower-cased on the event, original case kept in doc', () => {
  const raw = fixture('logevent-session-start.json');
  raw.eventType = 'user.authentication.auth_via_IDP';
  const [ev] = adaptRecord(raw, 'f:1');
  assert.equal(ev!.eventType, 'user.authentication.auth_via_idp');
  assert.equal(ev!.doc.eventType, 'user.authentication.auth_via_IDP');
});

test('Event Hook envelope -> one event per element, shape hook', () => {
  const events = adaptRecord(fixture('hook-envelope-2-events.json'), 'hook');
  assert.equal(events.length, 2);
  assert.deepEqual(events.map((e) => e.shape), ['hook', 'hook']);
  assert.deepEqual(events.map((e) => e.eventType), ['user.session.start', 'user.authentication.sso']);
  assert.deepEqual(events.map((e) => e.id), ['6e0e1b52-5b7d-11ef-8a3c-1d2e3f4a5b6c', '7f1f2c63-5b7d-11ef-8a3c-1d2e3f4a5b6c']);
  assert.equal(events[1]!.time, Date.UTC(2024, 7, 13, 15, 58, 21, 7));
  assert.equal(events[0]!.origin, 'hook');
  assert.equal(events[0]!.doc.eventType, 'user.session.start', 'the element, not the envelope');
  // Any object with data.events is an envelope; a bad element names its position.
  const env = { data: { events: [fixture('logevent-session-start.json'), { published: '2024-01-01T00:00:00Z' }] } };
  rejects(env, 'data.events[1]: missing eventType');
  assert.deepEqual(adaptRecord({ data: { events: [] } }, 'f:1'), []);
});

test('Elastic ECS document -> LogEvent, shape ecs', () => {
  const [ev] = adaptRecord(fixture('ecs-session-start.json'), 'elastic.ndjson:3');
  assert.ok(ev);
  assert.equal(ev.kind, 'okta');
  assert.equal(ev.shape, 'ecs');
  assert.equal(ev.id, '2a3f8c1e-5b7d-11ef-9c2a-6b1e4f0d7a91');
  assert.equal(ev.time, PUBLISHED_MS);
  assert.equal(ev.eventType, 'user.session.start');
  const doc = ev.doc as Record<string, any>;
  assert.equal(doc.actor.alternateId, 'homer.simpson@duff.com');
  assert.equal(doc.securityContext.isProxy, true);
  assert.equal(doc.client.ipAddress, '198.51.100.23');
  assert.equal(doc.debugContext.debugData.behaviors.startsWith('{'), true);
  assert.equal(doc.debugContext.debugData.risk, '{reasons=Anomalous Device, New ASN, level=HIGH}');
  assert.equal(doc.target[0].alternateId, 'Okta Admin Console');
  assert.equal(doc.request.ipChain[0].geographicalContext.postalCode, '97477');
  // And the ECS view of it reads like the original ECS document.
  assert.equal(ecsFieldGetter('user.name', ctx)(ev), 'homer.simpson');
  assert.equal(ecsFieldGetter('okta.security_context.is_proxy', ctx)(ev), true);
  const behaviors = ecsFieldGetter('okta.debug_context.debug_data.risk_behaviors', ctx)(ev) as string[];
  assert.deepEqual([...behaviors].sort(), ['New City', 'New Device', 'New Geo-Location', 'New IP']);
});

test('ECS document with flat dotted keys, and as a search hit', () => {
  const flat = {
    '@timestamp': '2024-08-13T15:58:20.353Z',
    'event.dataset': 'okta.system',
    'okta.event_type': 'user.session.start',
    'okta.uuid': 'flat-1',
    'okta.actor.id': '00u1',
    'okta.security_context.is_proxy': true,
    'client.ip': '198.51.100.23',
  };
  const [ev] = adaptRecord(flat, 'f:1');
  assert.equal(ev!.shape, 'ecs');
  assert.equal(ev!.id, 'flat-1');
  assert.equal(ev!.time, PUBLISHED_MS);
  assert.deepEqual(ev!.doc.securityContext, { isProxy: true });
  assert.equal((ev!.doc.client as JsonObject).ipAddress, '198.51.100.23');
  const [hit] = adaptRecord({ _index: '.ds-logs-okta.system-default-2024.08.13-000001', _id: 'x', _source: fixture('ecs-session-start.json') }, 'f:2');
  assert.equal(hit!.shape, 'ecs');
  assert.equal(hit!.id, '2a3f8c1e-5b7d-11ef-9c2a-6b1e4f0d7a91');
  rejects({ 'event.dataset': 'okta.system', 'okta.event_type': 'user.session.start' }, 'missing @timestamp');
  rejects({ '@timestamp': '2024-08-13T15:58:20.353Z', okta: { uuid: 'u' } }, 'missing okta.event_type / event.action');
});

test('Panther-shaped record -> camelCase LogEvent, p_* kept, shape panther', () => {
  const rec = fixture('panther-apple-private-relay.json');
  const [ev] = adaptRecord(rec, 'panther.json:1');
  assert.ok(ev);
  assert.equal(ev.shape, 'panther');
  assert.equal(ev.kind, 'okta');
  assert.equal(ev.time, Date.UTC(2022, 5, 22, 18, 18, 29, 15), 'published read as UTC');
  assert.equal(ev.eventType, 'user.session.start');
  assert.equal(ev.id, 'dbd1c5cc-f25d-11ec-a5a7-2b4b8b7d4a1f');
  const d = ev.doc as Record<string, any>;
  assert.equal(d.eventType, 'user.session.start');
  assert.equal(d.eventtype, undefined);
  assert.equal(d.displayMessage, 'User login to Okta');
  assert.equal(d.legacyEventType, 'core.user_auth.login_success');
  assert.equal(d.securityContext.isProxy, true);
  assert.equal(d.securityContext.asNumber, 36183);
  assert.equal(d.client.ipAddress, '1.2.3.4');
  assert.equal(d.client.userAgent.rawUserAgent.startsWith('Mozilla/5.0'), true);
  assert.equal(d.client.geographicalContext.postalCode, '97477');
  assert.equal(d.request.ipChain[0].geographicalContext.city, 'Springfield');
  assert.equal(d.target[0].alternateId, 'unknown');
  assert.equal(d.actor.displayName, 'Homer Simpson');
  assert.equal(d.authenticationContext.externalSessionId, '102bZDNFfWaQSyEZQuDgWt-uQ');
  // debugData inner keys untouched, p_* fields kept verbatim at the top.
  assert.equal(d.debugContext.debugData.dtHash, '57e8b514704467a0b0d82a96331c8082a94540c2cab5eb838250fb06d3939f11');
  assert.equal(d.published, '2022-06-22 18:18:29.015');
  assert.equal(d.p_log_type, 'Okta.SystemLog');
  assert.equal(d.p_enrichment.ipinfo_privacy['client.ipAddress'].service, 'Apple Private Relay');
  // What rules read: raw path (with the literal dotted key) and ECS.
  assert.equal(compilePath('p_enrichment.ipinfo_privacy.client.ipAddress.service')(d), 'Apple Private Relay');
  assert.equal(ecsFieldGetter('okta.security_context.is_proxy', ctx)(ev), true);
  assert.equal(ecsFieldGetter('@timestamp', ctx)(ev), '2022-06-22T18:18:29.015Z');
  assert.equal(ecsFieldGetter('okta.debug_context.debug_data.risk_level', ctx)(ev), 'LOW');
  assert.deepEqual((toEcsDocument(ev, ctx).p_enrichment as JsonObject).ipinfo_privacy, d.p_enrichment.ipinfo_privacy);
  // The input record is not modified.
  assert.equal(rec.eventtype, 'user.session.start');
});

test('Panther normalisation: exact camelCase wins, unknown keys verbatim', () => {
  const rec = {
    eventType: 'user.session.start',
    EVENTTYPE: 'ignored.variant',
    published: '2024-08-13T15:58:20.353Z',
    p_row_id: 'r1',
    CustomField: { InnerKey: 1 },
    SecurityContext: { IsProxy: false, ipdetails: { ASNUMBER: 1, ipservicecategories: [{ isanonymous: true }] } },
  };
  const [ev] = adaptRecord(rec, 'f:1');
  assert.equal(ev!.shape, 'panther');
  const d = ev!.doc as Record<string, any>;
  assert.equal(d.eventType, 'user.session.start');
  assert.equal(d.EVENTTYPE, 'ignored.variant');
  assert.deepEqual(d.CustomField, { InnerKey: 1 });
  assert.deepEqual(d.securityContext, { isProxy: false, ipDetails: { asNumber: 1, ipServiceCategories: [{ isAnonymous: true }] } });
});

test('our own alert documents -> kind alert', () => {
  const alert = {
    '@timestamp': '2024-08-13T16:03:00.000Z',
    'kibana.alert.uuid': 'alert-123',
    'kibana.alert.depth': 2,
    'kibana.alert.rule.rule_id': '6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd',
    user: { name: 'homer.simpson' },
    'event.dataset': 'okta.system',
  };
  const [ev] = adaptRecord(alert, 'alerts.ndjson:4');
  assert.ok(ev);
  assert.equal(ev.kind, 'alert');
  assert.equal(ev.shape, 'alert');
  assert.equal(ev.id, 'alert-123');
  assert.equal(ev.time, Date.UTC(2024, 7, 13, 16, 3));
  assert.equal(ev.depth, 2);
  assert.equal(ev.eventType, '');
  assert.equal(ev.doc, alert);
  const [nested] = adaptRecord({ '@timestamp': '2024-08-13T16:03:00.000Z', kibana: { alert: { uuid: 'a2' } } }, 'f:1');
  assert.equal(nested!.id, 'a2');
  assert.equal(nested!.depth, 1, 'depth defaults to 1');
  rejects({ kibana: { alert: { uuid: 'a3' } } }, 'missing @timestamp');
});

test('missing uuid: a stable id derived from the content', () => {
  const a = fixture('logevent-session-start.json');
  delete a.uuid;
  const b = fixture('logevent-session-start.json');
  delete b.uuid;
  // Same content, other key order, other Panther row fields: same id.
  const reordered = Object.fromEntries(Object.entries(b).reverse());
  reordered.p_row_id = 'another-row';
  const [ea] = adaptRecord(a, 'f:1');
  const [eb] = adaptRecord(reordered, 'f:2');
  assert.match(ea!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(ea!.id, eb!.id);
  assert.equal(ea!.doc.uuid, ea!.id, 'the LogEvent carries the derived uuid');
  const c = fixture('logevent-session-start.json');
  delete c.uuid;
  c.displayMessage = 'something else';
  assert.notEqual(adaptRecord(c, 'f:3')[0]!.id, ea!.id);
});

test('time: published formats, timeField override', () => {
  const at = (published: unknown) => {
    const r = fixture('logevent-session-start.json');
    r.published = published as string;
    return adaptRecord(r, 'f:1')[0]!.time;
  };
  assert.equal(at('2024-08-13T17:58:20.353+02:00'), PUBLISHED_MS);
  assert.equal(at('2024-08-13T15:58:20.353'), PUBLISHED_MS, 'no zone: UTC, not local time');
  assert.equal(at('2024-08-13 15:58:20.353000000'), PUBLISHED_MS, 'nanoseconds truncated');
  const r = fixture('logevent-session-start.json');
  (r as Record<string, any>).debugContext.debugData.eventTime = '2024-08-13T16:00:00.000Z';
  const [ev] = adaptRecord(r, 'f:1', { timeField: 'debugContext.debugData.eventTime' });
  assert.equal(ev!.time, Date.UTC(2024, 7, 13, 16, 0));
  rejects(fixture('logevent-session-start.json'), 'missing ingested', { timeField: 'ingested' });
});

test('bad records: RecordError with a short reason', () => {
  rejects('just a string', 'not a JSON object (string)');
  rejects(null, 'not a JSON object (null)');
  rejects([1, 2], 'not a JSON object (array)');
  rejects(42, 'not a JSON object (number)');
  rejects({ foo: 1 }, 'missing eventType');
  const noPublished = fixture('logevent-session-start.json');
  delete noPublished.published;
  rejects(noPublished, 'missing published');
  const badTime = fixture('logevent-session-start.json');
  badTime.published = 'foo';
  rejects(badTime, 'published is not a date: "foo"');
  const feb31 = fixture('logevent-session-start.json');
  feb31.published = '2023-02-31T00:00:00Z';
  rejects(feb31, 'published is not a date: "2023-02-31T00:00:00Z"');
  const numType = fixture('logevent-session-start.json');
  (numType as Record<string, unknown>).eventType = 5;
  rejects(numType, /^eventType is not a string/);
  const emptyType = fixture('logevent-session-start.json');
  emptyType.eventType = '';
  rejects(emptyType, 'missing eventType');
});

test('an ECS document carrying p_enrichment is still read as ECS', () => {
  const doc = fixture('ecs-session-start.json');
  doc.p_enrichment = { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay' } } };
  const [ev] = adaptRecord(doc, 'f:1');
  assert.equal(ev!.shape, 'ecs');
  assert.equal(ev!.eventType, 'user.session.start');
  assert.deepEqual(ev!.doc.p_enrichment, doc.p_enrichment);
});

test('Event Hook delivery with onPartialError: valid elements kept, each bad one reported', () => {
  const good = fixture('logevent-session-start.json');
  const other = { ...fixture('logevent-session-start.json'), uuid: 'second', eventType: 'user.session.end' };
  const env = { data: { events: [good, { published: '2024-01-01T00:00:00Z' }, other, 'not an event', deep(100)] } };
  const reasons: string[] = [];
  const events = adaptRecord(env, 'hook.ndjson:3', { onPartialError: (r) => reasons.push(r) });
  assert.deepEqual(events.map((e) => e.id), ['2a3f8c1e-5b7d-11ef-9c2a-6b1e4f0d7a91', 'second']);
  assert.deepEqual(events.map((e) => e.shape), ['hook', 'hook']);
  assert.deepEqual(reasons, [
    'data.events[1]: missing eventType',
    'data.events[3]: not a JSON object',
    'data.events[4]: nested deeper than 64 levels',
  ]);
  // All bad: nothing returned, everything reported.
  const none: string[] = [];
  assert.deepEqual(adaptRecord({ data: { events: [1, 2] } }, 'f:1', { onPartialError: (r) => none.push(r) }), []);
  assert.deepEqual(none, ['data.events[0]: not a JSON object', 'data.events[1]: not a JSON object']);
  // Without the callback: strict, the first bad element fails the record.
  rejects(env, 'data.events[1]: missing eventType');
  // Other shapes never call it.
  const calls: string[] = [];
  rejects({ foo: 1 }, 'missing eventType');
  assert.throws(() => adaptRecord({ foo: 1 }, 'f:1', { onPartialError: (r) => calls.push(r) }), RecordError);
  assert.deepEqual(calls, []);
});

/** A LogEvent whose debugData nests `levels` levels deep in all (the event itself is level 1). */
function deep(levels: number, wrap: (inner: unknown) => unknown = (inner) => ({ a: inner })): JsonObject {
  const rec = fixture('logevent-session-start.json') as Record<string, any>;
  // event (1) > debugContext (2) > debugData (3) > ...
  let v: unknown = 'bottom';
  for (let i = 2; i < levels; i++) v = wrap(v);
  rec.debugContext = { debugData: v };
  return rec as JsonObject;
}

test('events nested deeper than 64 levels are rejected, without recursion', () => {
  assert.equal(MAX_NESTING, 64);
  assert.equal(adaptRecord(deep(64), 'f:1').length, 1, '64 levels are fine');
  rejects(deep(65), 'nested deeper than 64 levels');
  rejects(deep(66, (inner) => [inner]), 'nested deeper than 64 levels');
  // Far deeper than any stack: rejected, not a RangeError.
  rejects(deep(3000), 'nested deeper than 64 levels');
  rejects(deep(200_000, (inner) => [{ x: inner }]), 'nested deeper than 64 levels');
  // Without uuid (the derived id hashes the whole event) and Panther-shaped (keys rewritten).
  const noUuid = deep(3000);
  delete noUuid.uuid;
  rejects(noUuid, 'nested deeper than 64 levels');
  const panther = deep(3000);
  panther.target = deep(3000, (inner) => [inner]).debugContext as JsonObject;
  panther.p_row_id = 'r';
  rejects(panther, 'nested deeper than 64 levels');
  let arrays: unknown = [];
  for (let i = 0; i < 3000; i++) arrays = [arrays];
  rejects({ ...fixture('logevent-session-start.json'), p_row_id: 'r', target: arrays }, 'nested deeper than 64 levels');
  // Search hit, alert, ECS: dotted keys and event.original add levels after parsing.
  rejects({ _index: 'okta', _source: deep(3000) }, 'nested deeper than 64 levels');
  rejects({ '@timestamp': '2024-08-13T16:03:00.000Z', 'kibana.alert.uuid': 'a', x: deep(3000) }, 'nested deeper than 64 levels');
  const ecs = fixture('ecs-session-start.json') as Record<string, any>;
  rejects({ ...ecs, ['okta.debug_context.debug_data.' + Array(3000).fill('k').join('.')]: 1 }, 'nested deeper than 64 levels');
  const original = { ...ecs, event: { ...ecs.event, original: JSON.stringify(deep(3000)) } };
  rejects(original, 'nested deeper than 64 levels');
  assert.equal(adaptRecord({ ...ecs, event: { ...ecs.event, original: JSON.stringify(deep(64)) } }, 'f:1').length, 1);
});
