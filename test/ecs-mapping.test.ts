import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeEvent, type CanonicalEvent, type JsonObject } from '../src/event/types.js';
import { ECS_FIELD_NAMES, ecsFieldGetter, ecsToLogEvent, toEcsDocument } from '../src/schema/ecs.js';
import { resolveField } from '../src/schema/index.js';

const ctx = { org: 'duff.okta.com' };
const fixture = fileURLToPath(new URL('../../test/fixtures/logevent-session-start.json', import.meta.url));

function raw(): JsonObject {
  return JSON.parse(readFileSync(fixture, 'utf8')) as JsonObject;
}

function event(doc: JsonObject): CanonicalEvent {
  return makeEvent({
    kind: 'okta',
    id: String(doc.uuid),
    time: Date.parse(String(doc.published)),
    eventType: String(doc.eventType).toLowerCase(),
    doc,
    origin: 'test',
    depth: 0,
    shape: 'okta',
  });
}

function get(name: string, doc: JsonObject): unknown {
  return ecsFieldGetter(name, ctx)(event(doc));
}

test('user.name is the grok USER match on actor.alternateId (local part)', () => {
  assert.equal(get('user.name', raw()), 'homer.simpson');
  assert.equal(get('client.user.name', raw()), 'homer.simpson');
  assert.equal(get('source.user.name', raw()), 'homer.simpson');
  const d = raw();
  (d.actor as JsonObject).alternateId = 'system@okta.com';
  assert.equal(get('user.name', d), 'system');
  (d.actor as JsonObject).alternateId = 'Okta System';
  assert.equal(get('user.name', d), 'Okta', 'unanchored: first run of USER characters');
  (d.actor as JsonObject).alternateId = '';
  assert.equal(get('user.name', d), undefined);
  assert.equal(get('okta.actor.alternate_id', d), undefined, 'empty strings are dropped');
});

test('actor copies: user.full_name, client/source.user.*, okta.actor.*', () => {
  const d = raw();
  assert.equal(get('user.full_name', d), 'Homer Simpson');
  assert.equal(get('client.user.full_name', d), 'Homer Simpson');
  assert.equal(get('source.user.id', d), '00u1abvz4pYqdM8ms4x6');
  assert.equal(get('client.user.id', d), '00u1abvz4pYqdM8ms4x6');
  assert.equal(get('okta.actor.id', d), '00u1abvz4pYqdM8ms4x6');
  assert.equal(get('okta.actor.type', d), 'User');
  assert.equal(get('okta.actor.display_name', d), 'Homer Simpson');
  assert.equal(get('user.id', d), undefined, 'the pipeline never sets user.id');
});

test('event.outcome: success / failure / unknown', () => {
  const cases: [unknown, string][] = [
    ['SUCCESS', 'success'],
    ['allow', 'success'],
    ['FAILURE', 'failure'],
    ['DENY', 'failure'],
    ['CHALLENGE', 'unknown'],
    [null, 'unknown'],
  ];
  for (const [result, expected] of cases) {
    const d = raw();
    (d.outcome as JsonObject).result = result as string;
    assert.equal(get('event.outcome', d), expected, String(result));
  }
  const d = raw();
  delete d.outcome;
  assert.equal(get('event.outcome', d), 'unknown');
  assert.equal(get('okta.outcome.result', d), undefined);
});

test('null values are dropped: is_proxy null yields no field', () => {
  const d = raw();
  (d.securityContext as JsonObject).isProxy = null;
  const ev = event(d);
  assert.equal(ecsFieldGetter('okta.security_context.is_proxy', ctx)(ev), undefined);
  const doc = toEcsDocument(ev, ctx);
  const sc = (doc.okta as JsonObject).security_context as JsonObject;
  assert.equal('is_proxy' in sc, false);
  assert.equal(sc.isp, 'Springfield Telecom');
  assert.equal(get('okta.security_context.is_proxy', raw()), true);
  // All-null securityContext: no okta.security_context object at all.
  const e = raw();
  e.securityContext = { asNumber: null, asOrg: null, domain: null, isProxy: null, isp: null };
  const edoc = toEcsDocument(event(e), ctx);
  assert.equal('security_context' in (edoc.okta as JsonObject), false);
  assert.equal(ecsFieldGetter('okta.security_context', ctx)(event(e)), undefined);
});

test('cloud.account.id is the Okta org from the schema context', () => {
  assert.equal(get('cloud.account.id', raw()), 'duff.okta.com');
  assert.equal(ecsFieldGetter('cloud.account.id', { org: 'acme' })(event(raw())), 'acme');
});

test('constants, @timestamp, event.* and data_stream.*', () => {
  const d = raw();
  assert.equal(get('@timestamp', d), '2024-08-13T15:58:20.353Z');
  assert.equal(get('event.kind', d), 'event');
  assert.equal(get('event.module', d), 'okta');
  assert.equal(get('event.dataset', d), 'okta.system');
  assert.equal(get('event.action', d), 'user.session.start');
  assert.equal(get('event.id', d), '2a3f8c1e-5b7d-11ef-9c2a-6b1e4f0d7a91');
  assert.equal(get('data_stream.dataset', d), 'okta.system');
  assert.equal(get('data_stream.type', d), 'logs');
  assert.equal(get('data_stream.namespace', d), 'default');
  assert.deepEqual(get('event.category', d), ['authentication', 'session']);
  assert.deepEqual(get('event.type', d), ['start', 'info']);
  const p = raw();
  p.published = '2024-08-13 15:58:20.353';
  assert.equal(get('@timestamp', p), '2024-08-13T15:58:20.353Z', 'Panther time rendered as ISO');
});

test('event.category / event.type follow the pipeline lists', () => {
  const of = (eventType: string) => {
    const d = raw();
    d.eventType = eventType;
    return [get('event.category', d), get('event.type', d)];
  };
  assert.deepEqual(of('user.lifecycle.create'), [['iam'], ['info', 'creation']]);
  assert.deepEqual(of('group.user_membership.add'), [['iam'], ['group', 'change']]);
  assert.deepEqual(of('policy.rule.deactivate'), [['configuration'], ['change']]);
  assert.deepEqual(of('application.lifecycle.delete'), [['configuration'], ['deletion']]);
  assert.deepEqual(of('policy.evaluate_sign_on'), [['authentication'], ['info']]);
  assert.deepEqual(of('system.org.rate_limit.violation'), [undefined, ['info', 'network']]);
  assert.deepEqual(of('security.request.blocked'), [undefined, ['network', 'network']], 'append keeps duplicates');
  assert.deepEqual(of('user.authentication.auth_via_mfa'), [undefined, undefined]);
  assert.deepEqual(of('USER.SESSION.START'), [undefined, undefined], 'lists match case-sensitively');
});

test('client.* and source.*: ip (validated), geo, as, domain, user_agent.original', () => {
  const d = raw();
  assert.equal(get('okta.client.ip', d), '198.51.100.23');
  assert.equal(get('client.ip', d), '198.51.100.23');
  assert.equal(get('source.ip', d), '198.51.100.23');
  assert.deepEqual(get('related.ip', d), ['198.51.100.23']);
  assert.equal(get('client.geo.city_name', d), 'Springfield');
  assert.equal(get('client.geo.region_name', d), 'Oregon');
  assert.equal(get('client.geo.country_name', d), 'United States');
  assert.deepEqual(get('client.geo.location', d), { lat: 44.0462, lon: -123.022 });
  assert.equal(get('client.geo.location.lon', d), -123.022);
  assert.equal(get('client.geo.postal_code', d), undefined, 'postalCode is not mapped');
  assert.equal(get('client.as.organization.name', d), 'Nuclear Plant VPN Ltd');
  assert.equal(get('client.domain', d), 'anonvpn.example');
  assert.equal(get('source.domain', d), 'anonvpn.example');
  assert.equal(get('okta.security_context.as.number', d), 64496);
  assert.equal(get('okta.security_context.as.organization.name', d), 'Nuclear Plant VPN Ltd');
  assert.match(String(get('user_agent.original', d)), /^Mozilla\/5\.0 \(Macintosh/);
  assert.equal(get('okta.client.user_agent.browser', d), 'CHROME');
  assert.equal(get('okta.client.zone', d), 'null', 'the string "null" is a value');
  assert.equal(get('okta.client.id', d), undefined);
  const bad = raw();
  (bad.client as JsonObject).ipAddress = 'unknown';
  assert.equal(get('okta.client.ip', bad), undefined, 'convert type ip fails: no field');
  assert.equal(get('source.ip', bad), undefined);
  assert.equal(get('related.ip', bad), undefined);
  const v6 = raw();
  (v6.client as JsonObject).ipAddress = '2001:db8::1';
  assert.equal(get('client.ip', v6), '2001:db8::1');
});

test('target[]: snake keys, detailEntry trimmed, user.target.*, related.user', () => {
  const d = raw();
  const targets = get('okta.target', d) as JsonObject[];
  assert.equal(targets.length, 3);
  assert.deepEqual(targets[0], {
    id: '0oa1gjh63g214q0Hq0g4',
    type: 'AppInstance',
    alternate_id: 'Okta Admin Console',
    display_name: 'Okta Admin Console',
  });
  assert.deepEqual(targets[1]!.detailEntry, { methodTypeUsed: 'Password', methodUsedVerifiedProperties: '[PHISHING_RESISTANT]' });
  assert.deepEqual(get('okta.target.display_name', d), ['Okta Admin Console', 'Homer Simpson', 'Safety Inspectors']);
  assert.deepEqual(get('okta.target.type', d), ['AppInstance', 'User', 'UserGroup']);
  assert.equal(get('user.target.full_name', d), 'Homer Simpson');
  assert.equal(get('user.target.id', d), '00u1abvz4pYqdM8ms4x6');
  assert.equal(get('user.target.group.name', d), 'Safety Inspectors');
  assert.equal(get('user.target.group.id', d), '00g9safetyinspectors');
  assert.deepEqual(get('related.user', d), ['Homer Simpson', 'homer.simpson']);
  // The raw event is not modified by the view.
  assert.equal(((d.target as JsonObject[])[0] as JsonObject).alternateId, 'Okta Admin Console');
  const other = raw();
  (other.target as JsonObject[])[1]!.displayName = 'Bart Simpson';
  assert.deepEqual(get('related.user', other), ['Homer Simpson', 'Bart Simpson', 'homer.simpson']);
});

test('debugData: flattened with kv-parsed behaviors and risk, derived risk fields', () => {
  const d = raw();
  const flat = get('okta.debug_context.debug_data.flattened', d) as JsonObject;
  assert.equal((flat.behaviors as JsonObject)['New Device'], 'POSITIVE');
  assert.equal('origin' in flat, false, 'empty string dropped');
  // Okta's risk string has ", " inside reasons: kv fails, the heroic groks rebuild it.
  assert.deepEqual(flat.risk, { level: 'HIGH', reasons: 'Anomalous Device, New ASN' });
  assert.equal(flat.risk_object, '{reasons=Anomalous Device, New ASN, level=HIGH}');
  assert.equal(get('okta.debug_context.debug_data.flattened.behaviors.New IP', d), 'POSITIVE');
  assert.equal(get('okta.debug_context.debug_data.flattened.logOnlySecurityData.risk.level', d), 'HIGH');
  assert.equal(get('okta.debug_context.debug_data.risk_level', d), 'HIGH');
  assert.deepEqual(get('okta.debug_context.debug_data.risk_reasons', d), ['Anomalous Device', 'New ASN']);
  assert.deepEqual(get('okta.debug_context.debug_data.risk_behaviors', d), ['New Geo-Location', 'New Device', 'New IP', 'New City']);
  assert.equal(get('okta.debug_context.debug_data.factor', d), 'PASSWORD_AS_FACTOR');
  assert.equal(get('okta.debug_context.debug_data.dt_hash', d), (d.debugContext as JsonObject & { debugData: JsonObject }).debugData.dtHash);
  assert.equal(get('okta.debug_context.debug_data.request_id', d), 'Zrt8zGqH7V0fQ2xYl1W3OAAAB3c');
  assert.equal(get('okta.debug_context.debug_data.request_uri', d), '/idp/idx/authenticators/poll');
  assert.equal(get('okta.debug_context.debug_data.device_fingerprint', d), '541daf91d15bef64a7e08c946fd9a9d0');
  assert.equal(get('okta.debug_context.debug_data.threat_suspected', d), 'false');
  // A risk string kv can parse: an object, no risk_object; level from it when logOnlySecurityData is absent.
  const k = raw();
  const dd = (k.debugContext as { debugData: JsonObject }).debugData;
  dd.risk = '{level=LOW}';
  delete dd.logOnlySecurityData;
  const kflat = get('okta.debug_context.debug_data.flattened', k) as JsonObject;
  assert.deepEqual(kflat.risk, { level: 'LOW' });
  assert.equal('risk_object' in kflat, false);
  assert.equal(get('okta.debug_context.debug_data.risk_level', k), 'LOW');
  assert.equal(get('okta.debug_context.debug_data.risk_reasons', k), undefined);
  // The raw debugData is untouched.
  assert.equal(typeof dd.behaviors, 'string');
});

test('authenticationContext: interface lands on authentication_provider only when that is absent', () => {
  const d = raw();
  assert.equal(get('okta.authentication_context.authentication_provider', d), 'Okta Sign-In Widget');
  assert.equal(get('okta.authentication_context.authentication_step', d), 0, 'zero is kept');
  assert.equal(get('okta.authentication_context.external_session_id', d), '102bZDNFfWaQSyEZQuDgWt-uQ');
  assert.equal(get('okta.authentication_context.interface', d), undefined);
  const p = raw();
  (p.authenticationContext as JsonObject).authenticationProvider = 'FACTOR_PROVIDER';
  assert.equal(get('okta.authentication_context.authentication_provider', p), 'FACTOR_PROVIDER');
  const i = raw();
  (i.authenticationContext as JsonObject).issuer = { id: '0oaidp', type: 'SAML2' };
  assert.equal(get('okta.authentication_context.issuer.id', i), '0oaidp');
});

test('request.ip_chain: geographical_context and postal_code renamed, nulls dropped', () => {
  const chain = get('okta.request.ip_chain', raw()) as JsonObject[];
  assert.equal(chain.length, 2);
  assert.equal((chain[0]!.geographical_context as JsonObject).postal_code, '97477');
  assert.equal('source' in chain[0]!, false);
  assert.deepEqual(chain[1], { ip: '203.0.113.7', version: 'V4', source: 'PROXY' });
  assert.deepEqual(get('okta.request.ip_chain.ip', raw()), ['198.51.100.23', '203.0.113.7']);
  assert.equal(get('okta.transaction.detail.request_api_token_id', raw()), '00T1a2b3c4d5e6f7g8h9');
});

test('getters are resolved once and do not build the whole document', () => {
  const ev = event(raw());
  const g = ecsFieldGetter('okta.security_context.is_proxy', ctx);
  assert.equal(g(ev), true);
  assert.equal(ecsFieldGetter('user.name', ctx)(ev), 'homer.simpson');
  assert.equal(ecsFieldGetter('okta.debug_context.debug_data.risk_level', ctx)(ev), 'HIGH');
  assert.equal([...ev.cache.keys()].some((k) => k.startsWith('ecs.doc')), false);
  assert.equal(ev.cache.has('ecs.debug'), true, 'parsed debugData is shared through the cache');
  assert.equal(ecsFieldGetter('no.such.field', ctx)(ev), undefined);
  assert.equal(ecsFieldGetter('okta.no_such', ctx)(ev), undefined);
  // Through the schema resolver, as rules use it.
  assert.equal(resolveField({ name: 'user.name', schema: 'ecs' }, ctx)(ev), 'homer.simpson');
});

test('toEcsDocument: nested, cached, a copy of the event values', () => {
  const ev = event(raw());
  const doc = toEcsDocument(ev, ctx);
  assert.equal(toEcsDocument(ev, ctx), doc, 'cached');
  assert.equal((doc.user as JsonObject).name, 'homer.simpson');
  assert.equal(((doc.cloud as JsonObject).account as JsonObject).id, 'duff.okta.com');
  assert.equal(((doc.okta as JsonObject).security_context as JsonObject).is_proxy, true);
  assert.equal(doc['@timestamp'], '2024-08-13T15:58:20.353Z');
  ((doc.client as JsonObject).geo as { location: JsonObject }).location.lat = 0;
  assert.equal(((ev.doc.client as JsonObject).geographicalContext as { geolocation: JsonObject }).geolocation.lat, 44.0462);
  // Every top-level part of the document comes from a table row.
  for (const k of Object.keys(doc)) assert.ok(ECS_FIELD_NAMES.some((n) => n === k || n.startsWith(k + '.')), k);
});

test('enrichment blocks are kept as is', () => {
  const d = raw();
  d.oktopus = { ip: { anonymous: true, service: 'ExampleVPN' } };
  d.p_enrichment = { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay', relay: true } } };
  const ev = event(d);
  assert.equal(ecsFieldGetter('oktopus.ip.service', ctx)(ev), 'ExampleVPN');
  assert.equal(ecsFieldGetter('p_enrichment.ipinfo_privacy.client.ipAddress.service', ctx)(ev), 'Apple Private Relay');
  const doc = toEcsDocument(ev, ctx);
  assert.deepEqual(doc.oktopus, d.oktopus);
  assert.deepEqual(doc.p_enrichment, d.p_enrichment);
});

test('alert events: getters read the alert document itself', () => {
  const alertDoc: JsonObject = { 'kibana.alert.uuid': 'a1', user: { name: 'homer.simpson' }, '@timestamp': '2024-08-13T16:00:00.000Z' };
  const ev = makeEvent({ kind: 'alert', id: 'a1', time: 0, eventType: '', doc: alertDoc, origin: 'alert', depth: 1, shape: 'alert' });
  assert.equal(ecsFieldGetter('user.name', ctx)(ev), 'homer.simpson');
  assert.equal(ecsFieldGetter('kibana.alert.uuid', ctx)(ev), 'a1');
  assert.equal(toEcsDocument(ev, ctx), alertDoc);
});

test('round trip raw -> ECS -> raw keeps what the mapping preserves', () => {
  const original = raw();
  const back = ecsToLogEvent(toEcsDocument(event(raw()), ctx));
  const o = original as Record<string, any>;
  const b = back as Record<string, any>;
  for (const k of ['uuid', 'published', 'eventType', 'displayMessage']) assert.equal(b[k], o[k], k);
  assert.deepEqual(b.actor, { id: o.actor.id, type: o.actor.type, alternateId: o.actor.alternateId, displayName: o.actor.displayName });
  assert.equal(b.client.ipAddress, o.client.ipAddress);
  assert.deepEqual(b.client.userAgent, o.client.userAgent);
  assert.equal(b.client.zone, o.client.zone);
  assert.equal(b.client.device, o.client.device);
  const { postalCode: _postal, ...geoWithoutPostal } = o.client.geographicalContext;
  assert.deepEqual(b.client.geographicalContext, geoWithoutPostal);
  assert.deepEqual(b.outcome, { result: 'SUCCESS' });
  const sc = b.securityContext as JsonObject;
  assert.deepEqual(sc, {
    asNumber: 64496, asOrg: 'Nuclear Plant VPN Ltd', domain: 'anonvpn.example', isProxy: true, isp: 'Springfield Telecom',
  });
  assert.deepEqual(b.transaction, o.transaction);
  assert.equal(b.authenticationContext.authenticationProvider, 'Okta Sign-In Widget', 'interface folded in');
  assert.equal(b.authenticationContext.externalSessionId, o.authenticationContext.externalSessionId);
  assert.equal(b.authenticationContext.authenticationStep, 0);
  assert.deepEqual(b.target.map((t: any) => [t.id, t.type, t.alternateId, t.displayName]), o.target.map((t: any) => [t.id, t.type, t.alternateId, t.displayName]));
  const { origin: _empty, ...debugWithoutEmpty } = o.debugContext.debugData;
  assert.deepEqual(b.debugContext.debugData, debugWithoutEmpty);
  const { source: _nullSource, ...firstHop } = o.request.ipChain[0];
  assert.deepEqual(b.request.ipChain[0], firstHop);
  assert.deepEqual(b.request.ipChain[1], { ip: '203.0.113.7', version: 'V4', source: 'PROXY' });
  // Not carried by the pipeline.
  assert.equal(b.severity, undefined);
  assert.equal(b.legacyEventType, undefined);
  assert.equal('ipDetails' in sc, false);
});

test('ecsToLogEvent: flat dotted keys, ECS-only copies, event.original', () => {
  const flat: JsonObject = {
    '@timestamp': '2024-08-13T15:58:20.353Z',
    'event.dataset': 'okta.system',
    'event.action': 'user.session.start',
    'event.id': 'id-from-event',
    'okta.actor.alternate_id': 'marge@duff.com',
    'client.ip': '192.0.2.10',
    'user.full_name': 'Marge Simpson',
    'okta.security_context.is_proxy': false,
    'client.geo.city_name': 'Springfield',
  };
  const le = ecsToLogEvent(flat) as Record<string, any>;
  assert.equal(le.uuid, 'id-from-event');
  assert.equal(le.eventType, 'user.session.start');
  assert.equal(le.published, '2024-08-13T15:58:20.353Z');
  assert.equal(le.actor.alternateId, 'marge@duff.com');
  assert.equal(le.actor.displayName, 'Marge Simpson');
  assert.equal(le.client.ipAddress, '192.0.2.10');
  assert.equal(le.securityContext.isProxy, false);
  assert.equal(le.client.geographicalContext.city, 'Springfield');
  // okta.* wins over the ECS copies.
  const both = ecsToLogEvent({ okta: { client: { ip: '192.0.2.1' }, event_type: 'a.b' }, client: { ip: '192.0.2.2' }, event: { action: 'c.d' } });
  assert.equal((both.client as JsonObject).ipAddress, '192.0.2.1');
  assert.equal(both.eventType, 'a.b');
  // preserve_original_event: the raw LogEvent is used as is.
  const r = raw();
  const withOriginal = ecsToLogEvent({ '@timestamp': 'x', event: { original: JSON.stringify(r) }, oktopus: { tag: 1 } });
  assert.deepEqual({ ...withOriginal, oktopus: undefined }, { ...r, oktopus: undefined });
  assert.deepEqual(withOriginal.oktopus, { tag: 1 });
});
