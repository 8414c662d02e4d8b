/**
 * Elastic alert suppression: `alert_suppression` parsed from TOML / API JSON into a `suppress`
 * stage, and the stage run through the Engine (per group, duration windows, per-execution
 * windows, missing fields, arrays, threshold rules, a restart mid-window); `elasticInput` 'both'.
 * Rules are written inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticInput, parseElastic } from '../src/dialects/elastic/dialect.js';
import { RuleError } from '../src/dialects/errors.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { RuleIR, SuppressStage } from '../src/ir/types.js';
import type { StateStore, StoredAlert } from '../src/store/types.js';
import { oktaEvent } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const MIN = 60_000;
const T0 = Date.parse('2026-11-02T09:00:00.000Z'); // aligned to 5 and 10 minutes
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();

/** A TOML rule: `[rule]` keys (values as TOML text), then extra tables (alert_suppression…). */
function toml(fields: Record<string, string>, tables = ''): string {
  const rule: Record<string, string> = {
    rule_id: '"sup-1"',
    name: '"Suppressed sign-ins"',
    description: '"d"',
    index: '["logs-okta*"]',
    risk_score: '21',
    severity: '"low"',
    type: '"query"',
    language: '"kuery"',
    query: '"event.action:user.session.start"',
    ...fields,
  };
  return ['[rule]', ...Object.entries(rule).map(([k, v]) => `${k} = ${v}`), '', tables].join('\n');
}

const byUser = (extra = '') => `[rule.alert_suppression]\ngroup_by = ["user.name"]\n${extra}`;
const duration = (value: number, unit: string) => `\n[rule.alert_suppression.duration]\nvalue = ${value}\nunit = "${unit}"\n`;

function parse(text: string, file = 'sup.toml'): RuleIR {
  const { rules, unsupported } = parseElastic(text, file);
  assert.deepEqual(unsupported, []);
  assert.equal(rules.length, 1);
  return rules[0]!;
}

/** A sign-in by `login` (user.name = its local part) at `minute`. */
const signIn = (uuid: string, minute: number, login = 'ann@acme.com', over: JsonObject = {}) =>
  oktaEvent({ uuid, published: at(minute), actor: { id: `id-${login}`, type: 'User', alternateId: login, displayName: login }, ...over });

interface Run {
  alerts: StoredAlert[];
  store: StateStore;
  /** The alert as stored now (with the updates attached to it). */
  doc(a: StoredAlert): JsonObject;
}

function run(rules: RuleIR[], events: CanonicalEvent[], store: StateStore = new MemoryStore()): Run {
  const e = new Engine(rules, { schema, store });
  for (const ev of events) e.push(ev);
  e.drain();
  return { alerts: e.takeAlerts(), store, doc: (a) => store.getAlert(a.uuid)!.doc };
}

const uuids = (doc: JsonObject) => (doc['oktopus'] as { event_uuids: string[] }).event_uuids;
const terms = (doc: JsonObject) => doc['kibana.alert.suppression.terms'];
const count = (doc: JsonObject) => doc['kibana.alert.suppression.docs_count'];

test('alert_suppression parses into a suppress stage after the rule stages (TOML and API JSON)', () => {
  const r = parse(toml({ interval: '"10m"' }, byUser('missing_fields_strategy = "doNotSuppress"') + duration(30, 'm')));
  assert.equal(r.stages.length, 2);
  const want: SuppressStage = {
    type: 'suppress',
    groupBy: [{ name: 'user.name', schema: 'ecs' }],
    intervalMs: 10 * MIN,
    missingFields: 'doNotSuppress',
    arrays: 'explode',
    durationMs: 30 * MIN,
  };
  assert.deepEqual(r.stages[1], want);
  // Defaults: interval 5m, missing fields suppressed, no duration (per rule execution).
  assert.deepEqual(parse(toml({}, byUser())).stages[1], { type: 'suppress', groupBy: [{ name: 'user.name', schema: 'ecs' }], intervalMs: 5 * MIN, missingFields: 'suppress', arrays: 'explode' });
  const json = JSON.stringify({
    rule_id: 'j-sup',
    name: 'JSON suppressed',
    type: 'query',
    language: 'kuery',
    index: ['logs-okta*'],
    severity: 'low',
    risk_score: 21,
    query: 'event.action:user.session.start',
    alert_suppression: { group_by: ['user.name', 'source.ip'], duration: { value: 2, unit: 'h' }, missing_fields_strategy: 'suppress' },
  });
  const st = parse(json, 'r.json').stages[1] as SuppressStage;
  assert.deepEqual(st.groupBy.map((f) => f.name), ['user.name', 'source.ip']);
  assert.equal(st.durationMs, 120 * MIN);
});

test('suppression with a duration: one alert per group; later matches count and move the end', () => {
  const r = parse(toml({}, byUser() + duration(30, 'm')));
  const out = run([r], [signIn('a1', 0), signIn('a2', 5), signIn('b1', 6, 'bob@acme.com'), signIn('a3', 20)]);
  assert.equal(out.alerts.length, 2);
  const [ann, bob] = out.alerts.map((a) => out.doc(a));
  assert.deepEqual(uuids(ann!), ['a1']);
  assert.deepEqual(terms(ann!), [{ field: 'user.name', value: 'ann' }]);
  assert.equal(count(ann!), 2);
  assert.equal(ann!['kibana.alert.suppression.start'], at(0));
  assert.equal(ann!['kibana.alert.suppression.end'], at(20));
  assert.match(String(ann!['kibana.alert.instance.id']), /^[0-9a-f]{64}$/);
  assert.deepEqual(terms(bob!), [{ field: 'user.name', value: 'bob' }]);
  assert.equal(count(bob!), 0);
  assert.equal(bob!['kibana.alert.suppression.start'], at(6));
  assert.equal(bob!['kibana.alert.suppression.end'], at(6));
  assert.notEqual(ann!['kibana.alert.instance.id'], bob!['kibana.alert.instance.id']);
  // The alert as first raised carries docs_count 0 (updates reach the store and the sinks).
  assert.equal(count(out.alerts[0]!.doc), 0);
});

test('suppression with a duration: the window ends one duration after the first alert; the next match raises anew', () => {
  const r = parse(toml({}, byUser() + duration(30, 'm')));
  const out = run([r], [signIn('a1', 0), signIn('a2', 29), signIn('a3', 30), signIn('a4', 31), signIn('a5', 59)]);
  assert.equal(out.alerts.length, 2);
  const [first, second] = out.alerts.map((a) => out.doc(a));
  assert.deepEqual([uuids(first!), count(first!), first!['kibana.alert.suppression.end']], [['a1'], 1, at(29)]);
  assert.deepEqual([uuids(second!), count(second!), second!['kibana.alert.suppression.start'], second!['kibana.alert.suppression.end']], [['a3'], 2, at(30), at(59)]);
  // Same rule and terms: the same instance id, window after window.
  assert.equal(first!['kibana.alert.instance.id'], second!['kibana.alert.instance.id']);
});

test('missing group-by fields: "suppress" groups them as null, "doNotSuppress" alerts every such match', () => {
  // user.target.id comes from a target of type User: these sign-ins have none.
  const targeted = (uuid: string, minute: number) =>
    signIn(uuid, minute, 'ann@acme.com', { target: [{ id: 'u-9', type: 'User', alternateId: 'x@acme.com', displayName: 'X' }] });
  const rule = (strategy: string) => parse(toml({}, `[rule.alert_suppression]\ngroup_by = ["user.target.id"]\nmissing_fields_strategy = "${strategy}"\n` + duration(1, 'h')));
  const events = () => [signIn('m1', 0), signIn('m2', 1), targeted('t1', 2), targeted('t2', 3)];

  const suppress = run([rule('suppress')], events());
  assert.equal(suppress.alerts.length, 2);
  const [missing, present] = suppress.alerts.map((a) => suppress.doc(a));
  assert.deepEqual(terms(missing!), [{ field: 'user.target.id', value: null }]);
  assert.equal(count(missing!), 1);
  assert.deepEqual(terms(present!), [{ field: 'user.target.id', value: 'u-9' }]);
  assert.equal(count(present!), 1);

  const plain = run([rule('doNotSuppress')], events());
  assert.equal(plain.alerts.length, 3);
  const docs = plain.alerts.map((a) => plain.doc(a));
  assert.deepEqual(docs.map(uuids), [['m1'], ['m2'], ['t1']]);
  assert.equal(docs[0]!['kibana.alert.suppression.terms'], undefined, 'a match missing a field is a plain alert');
  assert.equal(count(docs[2]!), 1);
});

test('multi-valued group-by fields: one group per value (query rules), the whole array (new_terms rules)', () => {
  const withTargets = (uuid: string, minute: number, ids: string[], ip = '203.0.113.7') =>
    signIn(uuid, minute, 'ann@acme.com', { target: ids.map((id) => ({ id, type: 'AppInstance', alternateId: id, displayName: id })), client: { ipAddress: ip } });

  const query = parse(toml({}, '[rule.alert_suppression]\ngroup_by = ["okta.target.id"]\n' + duration(1, 'h')));
  const q = run([query], [withTargets('e1', 0, ['t1', 't2']), withTargets('e2', 1, ['t2']), withTargets('e3', 2, ['t3', 't1'])]);
  const qDocs = q.alerts.map((a) => q.doc(a));
  assert.deepEqual(qDocs.map(terms), [[{ field: 'okta.target.id', value: 't1' }], [{ field: 'okta.target.id', value: 't2' }], [{ field: 'okta.target.id', value: 't3' }]]);
  assert.deepEqual(qDocs.map(uuids), [['e1'], ['e1'], ['e3']]);
  assert.deepEqual(qDocs.map(count), [1, 1, 0]);
  assert.notEqual(q.alerts[0]!.uuid, q.alerts[1]!.uuid, 'one event, two groups, two alert ids');

  // new_terms on source.ip (each event a new term), suppressed by the whole target id array.
  const newTerms = parse(
    toml({ type: '"new_terms"' }, '[rule.new_terms]\nfield = "new_terms_fields"\nvalue = ["source.ip"]\n[[rule.new_terms.history_window_start]]\nfield = "history_window_start"\nvalue = "now-7d"\n\n' +
      '[rule.alert_suppression]\ngroup_by = ["okta.target.id"]\n' + duration(1, 'h')),
  );
  assert.equal((newTerms.stages[2] as SuppressStage).arrays, 'whole');
  const n = run([newTerms], [withTargets('n1', 0, ['t1', 't2'], '198.51.100.1'), withTargets('n2', 1, ['t1', 't2'], '198.51.100.2'), withTargets('n3', 2, ['t2'], '198.51.100.3')]);
  const nDocs = n.alerts.map((a) => n.doc(a));
  assert.deepEqual(nDocs.map(terms), [[{ field: 'okta.target.id', value: ['t1', 't2'] }], [{ field: 'okta.target.id', value: ['t2'] }]]);
  assert.deepEqual(nDocs.map(count), [1, 0]);

  // The whole array is order-independent (Kibana sorts the values): [t2, t1] joins [t1, t2].
  const swapped = run([newTerms], [withTargets('s1', 0, ['t2', 't1'], '198.51.100.1'), withTargets('s2', 1, ['t1', 't2'], '198.51.100.2')]);
  assert.equal(swapped.alerts.length, 1);
  assert.deepEqual(terms(swapped.doc(swapped.alerts[0]!)), [{ field: 'okta.target.id', value: ['t1', 't2'] }]);
  assert.equal(count(swapped.doc(swapped.alerts[0]!)), 1);
});

test('without a duration: per rule execution, a window of the interval aligned to event time', () => {
  const five = parse(toml({}, byUser()));
  const out = run([five], [signIn('a1', 0), signIn('a2', 1), signIn('a3', 4.99), signIn('a4', 5), signIn('a5', 9), signIn('b1', 9, 'bob@acme.com')]);
  const docs = out.alerts.map((a) => out.doc(a));
  assert.deepEqual(docs.map(uuids), [['a1'], ['a4'], ['b1']]);
  assert.deepEqual(docs.map(count), [2, 1, 0]);
  assert.equal(docs[0]!['kibana.alert.suppression.end'], at(4.99));
  assert.equal(docs[1]!['kibana.alert.suppression.start'], at(5));
  // A 10-minute interval: 0 and 9 are one execution, 10 the next.
  const ten = parse(toml({ interval: '"10m"' }, byUser()));
  const out10 = run([ten], [signIn('c1', 0), signIn('c2', 9), signIn('c3', 10)]);
  assert.deepEqual(out10.alerts.map((a) => count(out10.doc(a))), [1, 0]);
});

test('threshold rules: suppression per time period by the threshold fields (TOML and API JSON)', () => {
  const th = (tables: string) =>
    toml({ type: '"threshold"', from: '"now-10m"' }, `[rule.threshold]\nfield = ["user.name"]\nvalue = 2\n\n${tables}`);
  const r = parse(th('[rule.alert_suppression.duration]\nvalue = 1\nunit = "h"\n'));
  assert.deepEqual(r.stages[2], { type: 'suppress', groupBy: [{ name: 'user.name', schema: 'ecs' }], intervalMs: 5 * MIN, missingFields: 'suppress', arrays: 'explode', durationMs: 60 * MIN });
  // Without suppression: 0,1 -> alert; 2,3 -> alert (signal history restarts the count).
  const events = () => [signIn('a1', 0), signIn('a2', 1), signIn('a3', 2), signIn('a4', 3), signIn('a5', 61), signIn('a6', 62)];
  const plain = parse(th(''));
  assert.equal(run([plain], events()).alerts.length, 3);
  const out = run([r], events());
  assert.equal(out.alerts.length, 2);
  const [first, second] = out.alerts.map((a) => out.doc(a));
  assert.deepEqual(terms(first!), [{ field: 'user.name', value: 'ann' }]);
  assert.equal(first!['kibana.alert.suppression.start'], at(0), 'a threshold alert spans its counted events');
  assert.equal(first!['kibana.alert.suppression.end'], at(3));
  assert.equal(count(first!), 1);
  assert.equal(count(second!), 0);
  assert.equal(second!['kibana.alert.suppression.start'], at(61));

  const json = (over: object) =>
    JSON.stringify({ rule_id: 'j-th', name: 'JSON threshold', type: 'threshold', language: 'kuery', index: ['logs-okta*'], severity: 'low', risk_score: 21, query: 'event.action:user.session.start', threshold: { field: ['user.name'], value: 2 }, ...over });
  const api = parse(json({ alert_suppression: { duration: { value: 1, unit: 'h' } } }), 'r.json');
  assert.deepEqual(api.stages[2], r.stages[2]);
  // Kibana offers threshold rules only the per-time-period form.
  assert.throws(() => parseElastic(json({ alert_suppression: { group_by: ['user.name'] } }), 'r.json'), /alert_suppression.duration is required for a threshold rule/);
  assert.throws(() => parseElastic(json({ alert_suppression: { group_by: ['source.ip'], duration: { value: 1, unit: 'h' } } }), 'r.json'), /alert_suppression.group_by must be the threshold's fields/);
});

test('a restart mid-window keeps suppressing into the same alert (two engines, one store)', () => {
  const r = parse(toml({}, byUser() + duration(30, 'm')));
  const store = new MemoryStore();
  const first = new Engine([r], { schema, store });
  first.push(signIn('a1', 0));
  first.push(signIn('a2', 2));
  first.drain();
  const raised = first.takeAlerts();
  first.commit(1);
  assert.equal(raised.length, 1);

  const second = new Engine([r], { schema, store });
  second.push(signIn('a3', 10));
  second.push(signIn('a4', 40));
  second.drain();
  const later = second.takeAlerts();
  assert.deepEqual(later.map((a) => uuids(a.doc)), [['a4']], 'a3 attached to the alert of the first run; a4 is after the window');
  const doc = store.getAlert(raised[0]!.uuid)!.doc;
  assert.equal(count(doc), 2);
  assert.equal(doc['kibana.alert.suppression.end'], at(10));
  assert.ok(second.takeUpdates().has(raised[0]!.uuid), 'the update is handed to the sinks');
});

test('a malformed alert_suppression is a one-line error naming the key', () => {
  const cases: [string, RegExp][] = [
    ['[rule.alert_suppression]\ngroup_by = []\n', /alert_suppression\.group_by must list 1 to 3 field names/],
    ['[rule.alert_suppression]\ngroup_by = ["a", "b", "c", "d"]\n', /alert_suppression\.group_by must list 1 to 3 field names/],
    ['[rule.alert_suppression]\nmissing_fields_strategy = "suppress"\n', /alert_suppression\.group_by must list 1 to 3 field names/],
    [byUser() + duration(5, 'd'), /alert_suppression\.duration\.unit must be "s", "m" or "h" \(got "d"\)/],
    [byUser() + duration(0, 'm'), /alert_suppression\.duration\.value must be an integer >= 1/],
    [byUser('missing_fields_strategy = "drop"'), /alert_suppression\.missing_fields_strategy must be "suppress" or "doNotSuppress"/],
  ];
  for (const [tables, want] of cases) {
    const text = toml({}, tables);
    assert.throws(
      () => parseElastic(text, 'rules/bad.toml'),
      (e: unknown) => {
        assert.ok(e instanceof RuleError);
        assert.match(e.message, want);
        assert.match(e.message, /^rules\/bad\.toml:\d+: /, 'placed at the alert_suppression line');
        assert.equal(e.message.includes('\n'), false, 'one line');
        return true;
      },
    );
  }
  assert.throws(() => parseElastic(toml({ interval: '"often"' }, byUser()), 'x.toml'), /interval must be a number with s, m, h or d/);
  // Exception lists are named in the IR (attached from --exceptions, src/exceptions), suppression or not.
  const excepted = parseElastic(toml({}, byUser() + '\n[[rule.exceptions_list]]\nid = "e1"\nlist_id = "l1"\nnamespace_type = "single"\ntype = "detection"\n'), 'x.toml');
  assert.deepEqual(excepted.rules[0]!.exceptionLists, [{ listId: 'l1', namespaceType: 'single' }]);
});

test('elasticInput: Okta logs and security alerts named together read both', () => {
  assert.equal(elasticInput(['filebeat-*', 'logs-okta*', '.alerts-security.*', 'logs-endpoint.events.*']), 'both');
  assert.equal(elasticInput(['.alerts-security.*']), 'alerts');
  assert.equal(elasticInput(['logs-okta*']), 'okta');
  assert.equal(elasticInput(['logs-endpoint.events.*']), undefined);
  assert.equal(elasticInput(['logs-endpoint.events.*', '.alerts-security.*']), 'alerts');

  // A rule on both reads the Okta event and the alert another rule raised from it.
  const source = parse(toml({ rule_id: '"src"', name: '"Source"' }));
  const both = parse(toml({ rule_id: '"both"', name: '"Both"', index: '["filebeat-*", "logs-okta*", ".alerts-security.*"]' }));
  assert.equal(both.input, 'both');
  const out = run([source, both], [signIn('e1', 0)]);
  const byRule = out.alerts.map((a) => [a.ruleId, a.doc['kibana.alert.depth']]);
  assert.deepEqual(byRule.sort(), [['both', 1], ['both', 2], ['src', 1]]);
});

test('eql rules: single-event queries are suppressed by the whole array; sequences are refused by name', () => {
  const eql = (query: string, tables: string) => toml({ type: '"eql"', language: '"eql"', query: `'''${query}'''` }, tables);
  const single = parse(eql('any where event.action == "user.session.start"', byUser() + duration(1, 'h')));
  const stage = single.stages[single.stages.length - 1] as SuppressStage;
  assert.equal(stage.type, 'suppress');
  assert.equal(stage.arrays, 'whole');
  const out = run([single], [signIn('q1', 0), signIn('q2', 1), signIn('q3', 2, 'bob@acme.com')]);
  const docs = out.alerts.map((a) => out.doc(a));
  assert.deepEqual(docs.map(terms), [[{ field: 'user.name', value: ['ann'] }], [{ field: 'user.name', value: ['bob'] }]]);
  assert.deepEqual(docs.map(count), [1, 0]);

  const sequence = parseElastic(
    eql('sequence by user.name with maxspan=10m [any where event.action == "user.session.start"] [any where event.action == "user.session.end"]', byUser()),
    'seq.toml',
  );
  assert.equal(sequence.rules.length, 0);
  assert.equal(sequence.unsupported[0]!.name, 'Suppressed sign-ins');
  assert.match(sequence.unsupported[0]!.reason, /not supported: elastic\/eql sequence with alert_suppression/);
});
