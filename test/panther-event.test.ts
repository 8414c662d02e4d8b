/** The Panther event object TypeScript bodies receive, and the helper library. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepWalk, pantherEventOf } from '../src/dialects/panther/event.js';
import { okta_alert_context, deep_get } from '../src/dialects/panther/helpers.js';
import type { JsonObject } from '../src/event/types.js';

const doc: JsonObject = {
  eventtype: 'user.session.start',
  Actor: { alternateId: 'homer@duff.com', displayName: 'Homer' },
  outcome: { result: 'FAILURE', reason: null },
  target: [{ alternateId: 'a@x', type: 'User' }, { alternateId: 'b@x' }, { alternateId: 'a@x' }],
  client: { ipAddress: '1.2.3.4' },
  request: { ipChain: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] },
  p_enrichment: { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay' } } },
};

test('keys are case-insensitive at every level; the event is read-only', () => {
  const e = pantherEventOf(doc, Date.parse('2024-01-02T03:04:05Z'));
  assert.equal(e['eventType'], 'user.session.start');
  assert.equal(e.get('EVENTTYPE'), 'user.session.start');
  assert.equal((e['actor'] as Record<string, unknown>)['ALTERNATEID'], 'homer@duff.com');
  assert.equal(e.get('nothing', 'dflt'), 'dflt');
  assert.equal((e.get('nothing', {}) as { get(k: string): unknown }).get('x'), null, 'a default mapping is wrapped too');
  assert.throws(() => {
    (e as Record<string, unknown>)['eventType'] = 'x';
  }, /read-only/);
  assert.equal(JSON.parse(JSON.stringify(e)).eventtype, 'user.session.start');
  assert.equal(e.event_time_epoch(), Date.parse('2024-01-02T03:04:05Z') / 1000);
});

test('deep_get: literal keys, defaults for missing, null and non-mappings', () => {
  const e = pantherEventOf(doc);
  assert.equal(e.deep_get('actor', 'displayname'), 'Homer');
  assert.equal(e.deep_get('outcome', 'reason', { default: 'none' }), 'none');
  assert.equal(e.deep_get('outcome', 'result', 'deeper', { default: 'd' }), 'd');
  assert.equal(e.deep_get('p_enrichment', 'ipinfo_privacy', 'client.ipAddress', 'service'), 'Apple Private Relay');
  assert.equal(e.deep_get('target', 'alternateId'), null, 'lists are not walked by deep_get');
  assert.equal(deep_get(e, 'Actor', 'alternateId'), 'homer@duff.com');
});

test('deep_walk: through lists, unique values, first/last, default', () => {
  const e = pantherEventOf(doc);
  assert.deepEqual(e.deep_walk('target', 'alternateId'), ['a@x', 'b@x']);
  assert.equal(e.deep_walk('target', 'alternateId', { return_val: 'last' }), 'b@x');
  assert.equal(e.deep_walk('target', 'type'), 'User');
  assert.equal(e.deep_walk('target', 'nope', { default: 'x' }), 'x');
  assert.equal(deepWalk({ a: [[], []] }, ['a'], 'empty'), 'empty');
});

test('udm through the Okta data model; p_any_* indicators added when absent', () => {
  const e = pantherEventOf({ ...doc, eventType: 'user.session.start' });
  assert.equal(e.udm('actor_user'), 'homer@duff.com');
  assert.equal(e.udm('event_type'), 'failed_login');
  assert.equal(e.udm('source_ip'), '1.2.3.4');
  assert.equal(pantherEventOf({ eventType: 'user.mfa.factor.deactivate', outcome: { reason: 'User reset FIDO' } }).udm('event_type'), 'mfa_reset');
  assert.equal(pantherEventOf({ eventType: 'system.mfa.factor.deactivate' }).udm('event_type'), 'admin_mfa_disabled');
  assert.deepEqual(e['p_any_ip_addresses'], ['1.2.3.4', '5.6.7.8']);
  assert.equal(e['p_log_type'], 'Okta.SystemLog');
  const ctx = okta_alert_context(e);
  assert.equal(ctx['event_type'], 'user.session.start');
  assert.deepEqual(ctx['ips'], ['1.2.3.4', '5.6.7.8']);
  assert.match(String(ctx['PantherFlow Investigation']), /panther_logs\.public\.okta_systemlog/);
});
