/** The new_terms stage and Elastic new_terms rules, with the seed rule 6f1bb4b2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { loadRules } from '../src/rules/load.js';
import { historyWindowMs } from '../src/dialects/elastic/date-math.js';
import type { RuleIR } from '../src/ir/types.js';
import type { StateStore } from '../src/store/types.js';
import { eq, oktaEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const DAY = 86_400_000;
const SEED = fileURLToPath(new URL('../../rules/elastic/initial_access_first_occurrence_user_session_started_via_proxy.toml', import.meta.url));

const firstSeen: RuleIR = rule('nt', eq('eventType', 'user.session.start'), { dialect: 'elastic', ruleType: 'new_terms' }, [
  { type: 'new_terms', fields: [{ name: 'actor.id', schema: 'okta' }, { name: 'client.ipAddress', schema: 'okta' }], historyMs: 7 * DAY },
]);

const day = (d: number, h = 9) => new Date(Date.parse('2026-11-01T00:00:00.000Z') + d * DAY + h * 3_600_000).toISOString();
const signIn = (uuid: string, published: string, actorId = '00u1', ip = '198.51.100.1') =>
  oktaEvent({ uuid, published, actor: { id: actorId, type: 'User', alternateId: 'ann@acme.com', displayName: 'Ann' }, client: { ipAddress: ip } });

function run(e: Engine, events: ReturnType<typeof signIn>[]): string[][] {
  for (const ev of events) e.push(ev);
  e.drain();
  return e.takeAlerts().map((a) => a.doc['kibana.alert.new_terms'] as string[]);
}

test('new_terms: a tuple is new when unseen within the history window; then again after it', () => {
  const e = new Engine([firstSeen], { schema, store: new MemoryStore() });
  assert.deepEqual(
    run(e, [
      signIn('a', day(0)),
      signIn('b', day(3)), // seen 3 days ago
      signIn('c', day(3, 10), '00u1', '203.0.113.9'), // another IP: a new tuple
      signIn('d', day(10, 10)), // last seen day 3 (9:00), more than 7 days ago
      signIn('e', day(11)),
    ]),
    [
      ['00u1', '198.51.100.1'],
      ['00u1', '203.0.113.9'],
      ['00u1', '198.51.100.1'],
    ],
  );
});

test('new_terms: a missing field makes no term; arrays explode into one term per value', () => {
  const byTarget: RuleIR = rule('nt2', eq('eventType', 'user.session.start'), { dialect: 'elastic' }, [
    { type: 'new_terms', fields: [{ name: 'target.id', schema: 'okta' }], historyMs: 7 * DAY },
  ]);
  const e = new Engine([byTarget], { schema, store: new MemoryStore() });
  e.push(oktaEvent({ uuid: 'n1', target: [] }));
  e.push(oktaEvent({ uuid: 'n2', published: day(1), target: [{ id: 't1' }, { id: 't2' }] }));
  e.push(oktaEvent({ uuid: 'n3', published: day(2), target: [{ id: 't2' }, { id: 't3' }] }));
  e.drain();
  assert.deepEqual(e.takeAlerts().map((a) => a.doc['kibana.alert.new_terms']), [['t1'], ['t2'], ['t3']]);
});

test('new_terms: first-seen terms survive a restart (SQLite), so the restart raises nothing again', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-nt-')), 'state.sqlite');
  const once = (store: StateStore, events: ReturnType<typeof signIn>[]) => {
    const e = new Engine([firstSeen], { schema, store });
    store.begin();
    for (const ev of events) e.push(ev);
    e.drain();
    e.commit(1);
    store.commit();
    return e.takeAlerts().length;
  };
  let store = new SqliteStore(path);
  assert.equal(once(store, [signIn('r1', day(0))]), 1);
  store.close();
  store = new SqliteStore(path);
  assert.equal(once(store, [signIn('r2', day(2))]), 0, 'seen two days before the restart');
  assert.equal(once(store, [signIn('r3', day(12))]), 1, 'unseen for more than the history window');
  store.close();
});

test('history_window_start date math', () => {
  assert.equal(historyWindowMs('now-7d'), 7 * DAY);
  assert.equal(historyWindowMs('now-14h'), 14 * 3_600_000);
  assert.equal(historyWindowMs('now-2w'), 14 * DAY);
  assert.equal(historyWindowMs('now-1M'), undefined);
  assert.equal(historyWindowMs('now-7d/d'), undefined);
});

test('the seed new_terms rule 6f1bb4b2: the first proxy session per actor and tenant, not again within 7 days', async () => {
  const loaded = await loadRules([SEED]);
  assert.deepEqual(loaded.unsupported, []);
  const [r] = loaded.rules;
  assert.equal(r!.id, '6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd');
  const e = new Engine(loaded.rules, { schema, store: new MemoryStore() });
  const proxy = (uuid: string, published: string, actorId = '00uANN') =>
    oktaEvent({ uuid, published, actor: { id: actorId, type: 'User', alternateId: 'ann@acme.com', displayName: 'Ann' }, securityContext: { isProxy: true } });
  for (const ev of [
    oktaEvent({ uuid: 'np', published: day(0, 8) }), // not through a proxy
    proxy('p1', day(0)),
    proxy('p2', day(2)),
    proxy('sys', day(2, 10), 'okta-system'), // excluded: not okta.actor.id: okta*
    proxy('p3', day(9, 10)),
  ])
    e.push(ev);
  e.drain();
  const alerts = e.takeAlerts();
  assert.deepEqual(alerts.map((a) => (a.doc['oktopus'] as { event_uuids: string[] }).event_uuids[0]), ['p1', 'p3']);
  assert.deepEqual(alerts[0]!.doc['kibana.alert.new_terms'], ['00uANN', 'acme.okta.com']);
  assert.equal(alerts[0]!.doc['kibana.alert.severity'], 'medium');
  assert.equal(alerts[0]!.doc['kibana.alert.risk_score'], 47);
  assert.equal(alerts[0]!.doc['kibana.alert.rule.type'], 'new_terms');
});
