import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { requiredEventTypes } from '../src/engine/event-types.js';
import type { Predicate, RuleIR } from '../src/ir/types.js';
import { eq, oktaEvent, rule } from './helpers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const schema = { org: 'acme.okta.com' };

function engine(rules: RuleIR[], store = new MemoryStore(), reorderWindowMs = 0) {
  return new Engine(rules, { schema, store, reorderWindowMs });
}

const proxyRule = rule('proxy', { type: 'and', args: [eq('eventType', 'user.session.start'), eq('securityContext.isProxy', 'true')] });

test('a matching event raises one alert with the Kibana alert fields', () => {
  const e = engine([proxyRule]);
  e.push(oktaEvent({ uuid: 'a1', securityContext: { isProxy: true } }));
  e.push(oktaEvent({ uuid: 'a2', securityContext: { isProxy: false } }));
  e.drain();
  const alerts = e.takeAlerts();
  assert.equal(alerts.length, 1);
  const d = alerts[0]!.doc;
  assert.equal(d['kibana.alert.rule.rule_id'], 'proxy');
  assert.equal(d['kibana.alert.severity'], 'high');
  assert.equal(d['kibana.alert.risk_score'], 73);
  assert.equal(d['kibana.alert.depth'], 1);
  assert.deepEqual(d['kibana.alert.ancestors'], [{ id: 'a1', type: 'event', index: 'logs-okta.system-default', depth: 0 }]);
  assert.equal((d['event'] as Record<string, unknown>)['kind'], 'signal');
  assert.equal(d['kibana.alert.original_event.action'], 'user.session.start');
  assert.equal((d['user'] as Record<string, unknown>)['name'], 'homer.simpson');
  assert.deepEqual((d['oktopus'] as Record<string, unknown>)['event_uuids'], ['a1']);
});

test('alert ids are deterministic: the same event and rule give the same id in another engine', () => {
  const a = engine([proxyRule]);
  const b = engine([proxyRule]);
  for (const e of [a, b]) {
    e.push(oktaEvent({ uuid: 'same', securityContext: { isProxy: true } }));
    e.drain();
  }
  assert.equal(a.takeAlerts()[0]!.uuid, b.takeAlerts()[0]!.uuid);
});

test('replaying the same events into the same store raises nothing twice', () => {
  const store = new MemoryStore();
  const first = engine([proxyRule], store);
  first.push(oktaEvent({ uuid: 'r1', securityContext: { isProxy: true } }));
  first.drain();
  assert.equal(first.takeAlerts().length, 1);
  const second = new Engine([proxyRule], { schema, store, reorderWindowMs: 0, dedupHorizonMs: 0 });
  second.push(oktaEvent({ uuid: 'r1', securityContext: { isProxy: true } }));
  second.drain();
  assert.equal(second.takeAlerts().length, 0);
  assert.equal(second.stats.replayedAlerts, 1);
});

test('duplicate uuids are dropped', () => {
  const e = engine([proxyRule]);
  const ev = { uuid: 'dup', securityContext: { isProxy: true } };
  e.push(oktaEvent(ev));
  e.push(oktaEvent(ev));
  e.drain();
  assert.equal(e.takeAlerts().length, 1);
  assert.equal(e.stats.duplicates, 1);
  assert.equal(e.stats.events, 1);
});

test('the reorder window: stateful rules see events in event-time order; late events are processed and counted', () => {
  // A dedup stage (one window per uuid) makes the rule stateful without hiding any match.
  const ordered = rule('ordered', { type: 'const', value: true }, {}, [
    { type: 'dedup', key: [{ name: 'uuid', schema: 'okta' }], periodMs: 1, threshold: 1 },
  ]);
  const e = new Engine([ordered], { schema, store: new MemoryStore(), reorderWindowMs: 60_000 });
  const push = (uuid: string, t: string) => e.push(oktaEvent({ uuid, published: t }));
  const ids = () => e.takeAlerts().map((al) => String((al.doc['oktopus'] as Record<string, string[]>)['event_uuids']![0]));
  push('b', '2026-11-02T10:00:30.000Z');
  push('a', '2026-11-02T10:00:10.000Z');
  assert.deepEqual(ids(), [], 'held in the window');
  push('c', '2026-11-02T10:02:00.000Z'); // releases a and b (older than 10:01:00)
  assert.deepEqual(ids(), ['a', 'b']);
  push('late', '2026-11-02T09:00:00.000Z');
  assert.equal(e.stats.late, 1);
  e.drain();
  assert.deepEqual(ids(), ['late', 'c']);
});

test('stateless rules run as events arrive (their alerts do not depend on order); nothing is held for them', () => {
  const stateless = rule('now', { type: 'const', value: true });
  const e = new Engine([stateless], { schema, store: new MemoryStore(), reorderWindowMs: 60_000 });
  e.push(oktaEvent({ uuid: 'y', published: '2026-11-02T10:00:30.000Z' }));
  e.push(oktaEvent({ uuid: 'x', published: '2026-11-02T10:00:10.000Z' }));
  assert.equal(e.takeAlerts().length, 2);
  assert.equal(e.buffered, 0);
});

test('the rule index: an event only meets rules whose event types it has', () => {
  const p = eq('eventType', 'user.session.start');
  assert.deepEqual([...requiredEventTypes(p)!], ['user.session.start']);
  assert.deepEqual(
    [...requiredEventTypes({ type: 'or', args: [eq('eventType', 'A.b'), eq('eventType', 'c', 'd')] })!].sort(),
    ['a.b', 'c', 'd'],
  );
  assert.equal(requiredEventTypes({ type: 'or', args: [eq('eventType', 'a'), eq('displayMessage', 'x')] }), undefined);
  assert.equal(requiredEventTypes({ type: 'not', arg: p }), undefined);
  assert.deepEqual(
    [...requiredEventTypes({ type: 'and', args: [eq('displayMessage', 'x'), eq('eventType', 'z')] })!],
    ['z'],
  );
  // A rule whose head would throw on any other event type proves the index kept it away.
  let calls = 0;
  const counting = rule('counted', eq('eventType', 'user.session.end'));
  const e = engine([counting]);
  const head = e.compiled[0]!.head;
  e.compiled[0]!.head = (ev) => {
    calls++;
    return head(ev);
  };
  e.push(oktaEvent({ eventType: 'user.session.start' }));
  e.push(oktaEvent({ eventType: 'user.session.end' }));
  e.drain();
  assert.equal(calls, 1);
});

test('alerts feed back to rules that read alerts, never to the rule that raised them; depth is limited', () => {
  const base = rule('base', eq('eventType', 'user.session.start'));
  const higher: RuleIR = rule(
    'higher',
    { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values: ['base'] },
    { input: 'alerts', dialect: 'elastic', ruleType: 'eql' },
  );
  // Two rules that read every alert read each other's alerts: only the depth limit ends that.
  const anyAlert = { type: 'exists', field: { name: 'kibana.alert.uuid', schema: 'alert' } } as const;
  const greedy: RuleIR = rule('greedy', anyAlert, { input: 'alerts' });
  const greedy2: RuleIR = rule('greedy2', anyAlert, { input: 'alerts' });
  const e = new Engine([base, higher, greedy, greedy2], { schema, store: new MemoryStore(), reorderWindowMs: 0, maxDepth: 3 });
  e.push(oktaEvent({ uuid: 'x1' }));
  e.drain();
  const alerts = e.takeAlerts();
  const byRule = (id: string) => alerts.filter((a) => a.ruleId === id);
  assert.equal(byRule('base').length, 1);
  assert.equal(byRule('higher').length, 1);
  const h = byRule('higher')[0]!.doc;
  assert.equal(h['kibana.alert.depth'], 2);
  const anc = h['kibana.alert.ancestors'] as { id: string; type: string }[];
  assert.deepEqual(anc.map((a) => a.type), ['event', 'signal']);
  // greedy reads base's, higher's and greedy2's alerts, never its own; depth stops the ping-pong.
  assert.ok(byRule('greedy').length >= 2);
  assert.ok(alerts.filter((a) => a.ruleId === 'greedy').every((a) => (a.doc['kibana.alert.ancestors'] as { rule?: string }[]).length > 0));
  assert.ok(alerts.every((a) => (a.doc['kibana.alert.depth'] as number) <= 4));
  assert.ok(e.stats.depthLimited >= 1);
});

test('a rule whose IR holds a stage this engine lacks is reported unsupported by name', () => {
  const r = rule('corr', eq('eventType', 'user.session.start'), {}, [
    // A stage type no runtime is registered for (correlation has one since issue 4).
    { type: 'nope' } as never,
  ]);
  const e = engine([r]);
  assert.equal(e.compiled.length, 0);
  assert.equal(e.unsupported.length, 1);
  assert.match(e.unsupported[0]!.reason, /stage type 'nope' is not supported yet/);
});

test('dedup stage: window opens at the first match, threshold, later matches attach, a new window after the period', () => {
  const r = rule('dd', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' }, [
    { type: 'dedup', key: [{ name: 'actor.alternateId', schema: 'okta' }], periodMs: 60 * 60_000, threshold: 2 },
  ]);
  const e = engine([r]);
  const push = (uuid: string, t: string, user = 'a@x') =>
    e.push(oktaEvent({ uuid, published: t, actor: { id: 'u', type: 'User', alternateId: user, displayName: 'A' } }));
  push('1', '2026-11-02T10:00:00.000Z');
  assert.equal(e.takeAlerts().length, 0, 'threshold 2 not reached');
  push('2', '2026-11-02T10:30:00.000Z');
  const raised = e.takeAlerts();
  assert.equal(raised.length, 1);
  push('3', '2026-11-02T10:59:59.000Z');
  assert.equal(e.takeAlerts().length, 0, 'attached to the open window');
  const updates = e.takeUpdates();
  assert.equal((updates.get(raised[0]!.uuid)!['oktopus'] as Record<string, Record<string, unknown>>)['dedup']!['count'], 3);
  push('4', '2026-11-02T10:10:00.000Z', 'b@x');
  assert.equal(e.takeAlerts().length, 0, 'another key has its own window');
  push('5', '2026-11-02T11:00:00.000Z');
  assert.equal(e.takeAlerts().length, 0, 'the window closed at 11:00: a new one opens, threshold again');
  push('6', '2026-11-02T11:05:00.000Z');
  assert.equal(e.takeAlerts().length, 1);
});

test('dedup state survives a restart mid-window (SQLite store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-'));
  const path = join(dir, 'state.sqlite');
  const r = rule('dd2', eq('eventType', 'user.session.start'), { dialect: 'panther' }, [
    { type: 'dedup', key: [], periodMs: 60 * 60_000, threshold: 1 },
  ]);
  let store = new SqliteStore(path);
  let e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  store.transaction(() => {
    e.push(oktaEvent({ uuid: 's1', published: '2026-11-02T10:00:00.000Z' }));
    e.commit(1);
  });
  assert.equal(e.takeAlerts().length, 1);
  store.close();
  store = new SqliteStore(path);
  e = new Engine([r], { schema, store, reorderWindowMs: 0 });
  store.transaction(() => {
    e.push(oktaEvent({ uuid: 's2', published: '2026-11-02T10:20:00.000Z' }));
    e.commit(2);
  });
  assert.equal(e.takeAlerts().length, 0, 'still inside the window opened before the restart');
  store.transaction(() => {
    e.push(oktaEvent({ uuid: 's1', published: '2026-11-02T10:00:00.000Z' }));
  });
  assert.equal(e.stats.duplicates, 1, 'ids seen before the restart are still recognised');
  store.close();
});

test('alerts of two rules on one event do not share what they write (the ECS view is cached on the event)', () => {
  const r1 = rule('one', eq('eventType', 'user.session.start'));
  const r2 = rule('two', eq('eventType', 'user.session.start'));
  const e = engine([r1, r2]);
  e.push(oktaEvent({ uuid: 'shared', oktopus: { enrichment: { user: { profile_distance_km: 5 } } } }));
  e.drain();
  const [a, b] = e.takeAlerts();
  const oa = a!.doc['oktopus'] as Record<string, unknown>;
  const ob = b!.doc['oktopus'] as Record<string, unknown>;
  assert.equal(oa['rule_file'], 'one.yml');
  assert.equal(ob['rule_file'], 'two.yml');
  assert.deepEqual(oa['enrichment'], { user: { profile_distance_km: 5 } }, 'enrichment copied into the alert');
  assert.equal((a!.doc['event'] as Record<string, unknown>)['kind'], 'signal');
});

test('the rule index knows eventType in any case, ECS event.action and okta.event_type, and escaped globs', () => {
  const ecs = (name: string, ...values: string[]): Predicate => ({ type: 'compare', field: { name, schema: 'ecs' }, op: 'eq', values });
  assert.deepEqual([...requiredEventTypes(eq('EventType', 'User.Session.Start'))!], ['user.session.start']);
  assert.deepEqual([...requiredEventTypes(ecs('event.action', 'user.session.start'))!], ['user.session.start']);
  assert.deepEqual([...requiredEventTypes(ecs('okta.event_type', 'a', 'b'))!], ['a', 'b']);
  const glob = (v: string): Predicate => ({ type: 'compare', field: { name: 'eventType', schema: 'okta' }, op: 'wildcard', values: [v] });
  assert.deepEqual([...requiredEventTypes(glob('user.session.start'))!], ['user.session.start']);
  assert.equal(requiredEventTypes(glob('user.session.*')), undefined);
  assert.equal(requiredEventTypes(glob('user\\\\*')), undefined, 'an escaped backslash, then a real wildcard');
  assert.deepEqual([...requiredEventTypes(glob('user\\*'))!], ['user*'], 'an escaped star is a literal');
  assert.deepEqual([...requiredEventTypes(eq('eventType', 'a\\b'))!], ['a\\b'], 'eq values are literal');
});

test('dedup: a late match older than the open window moves its start back while no alert was raised', () => {
  const r = rule('late', eq('eventType', 'user.session.start'), { dialect: 'panther' }, [
    { type: 'dedup', key: [], periodMs: 60 * 60_000, threshold: 2 },
  ]);
  const e = engine([r]);
  e.push(oktaEvent({ uuid: 'l1', published: '2026-11-02T10:10:30.000Z' }));
  e.push(oktaEvent({ uuid: 'l2', published: '2026-11-02T10:09:31.000Z' }));
  const [a] = e.takeAlerts();
  const d = (a!.doc['oktopus'] as Record<string, Record<string, unknown>>)['dedup']!;
  assert.equal(d['window_start'], '2026-11-02T10:09:31.000Z');
  assert.ok(String(a!.doc['@timestamp']) >= String(d['window_start']));
});

test('the alert carries the rule threat in Kibana shape (technique, subtechnique, reference)', () => {
  const r = rule('t', eq('eventType', 'user.session.start'), {
    threat: [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0001', name: 'Initial Access' },
        techniques: [{ id: 'T1078', name: 'Valid Accounts', subtechniques: [{ id: 'T1078.004', name: 'Cloud Accounts' }] }],
      },
    ],
  });
  const e = engine([r]);
  e.push(oktaEvent({ uuid: 'th' }));
  e.drain();
  assert.deepEqual(e.takeAlerts()[0]!.doc['kibana.alert.rule.threat'], [
    {
      framework: 'MITRE ATT&CK',
      tactic: { id: 'TA0001', name: 'Initial Access', reference: 'https://attack.mitre.org/tactics/TA0001/' },
      technique: [
        {
          id: 'T1078',
          name: 'Valid Accounts',
          reference: 'https://attack.mitre.org/techniques/T1078/',
          subtechnique: [{ id: 'T1078.004', name: 'Cloud Accounts', reference: 'https://attack.mitre.org/techniques/T1078/004/' }],
        },
      ],
    },
  ]);
});
