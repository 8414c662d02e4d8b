/**
 * The seed story (issue 3 §7), end to end through the real loader, the built-in rules in rules/
 * and the engine: a user's first sign-in through a proxy raises the new_terms rule 6f1bb4b2;
 * another Okta alert of severity >= medium for the same `user.name` within 30 minutes raises the
 * higher-order EQL rule af2d8e4c (two building blocks + one shell alert). Alerts of Sigma rules
 * count as "other Okta alerts" (cross-dialect correlation); low-severity alerts and alerts of
 * other users do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import type { JsonObject } from '../src/event/types.js';
import type { StoredAlert } from '../src/store/types.js';
import { oktaEvent } from './helpers.js';

const RULES = fileURLToPath(new URL('../../rules/elastic/', import.meta.url));
const NEW_TERMS = '6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd';
const HIGHER_ORDER = 'af2d8e4c-3b7c-4e91-8f5a-6c9d0e1f2a3b';
const MIN = 60_000;
const T0 = Date.parse('2026-11-04T22:55:00.000Z');

function sigmaRule(id: string, eventType: string, level: string): string {
  return `title: ${eventType} (${level})\nid: ${id}\nstatus: test\nlogsource:\n  product: okta\n  service: okta\ndetection:\n  selection:\n    eventType: ${eventType}\n  condition: selection\nlevel: ${level}\n`;
}

/** The seed rules plus two Sigma rules (MFA reset: high; password change: low) in a temp folder. */
async function rules(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-story-'));
  writeFileSync(join(dir, 'mfa_reset.yml'), sigmaRule('11111111-1111-4111-8111-111111111111', 'user.mfa.factor.reset_all', 'high'));
  writeFileSync(join(dir, 'password.yml'), sigmaRule('22222222-2222-4222-8222-222222222222', 'user.account.update_password', 'low'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  const loaded = await loadRules([RULES, dir]);
  assert.deepEqual(loaded.errors, []);
  assert.deepEqual(loaded.unsupported.map((u) => `${u.id}: ${u.reason}`), []);
  return loaded.rules;
}

function actor(user: string): JsonObject {
  return { id: `00u-${user}`, type: 'User', alternateId: `${user}@acme.com`, displayName: user };
}

function proxySignIn(uuid: string, user: string, time: number) {
  return oktaEvent({ uuid, published: new Date(time).toISOString(), eventType: 'user.session.start', actor: actor(user), securityContext: { isProxy: true, asNumber: 60729, asOrg: 'tor exit' } });
}

function event(uuid: string, eventType: string, user: string, time: number) {
  return oktaEvent({ uuid, published: new Date(time).toISOString(), eventType, actor: actor(user) });
}

async function run(events: ReturnType<typeof oktaEvent>[], extra: Record<string, string> = {}): Promise<StoredAlert[]> {
  const engine = new Engine(await rules(extra), { schema: { org: 'acme.okta.com' }, store: new MemoryStore() });
  assert.deepEqual(engine.unsupported.map((u) => `${u.id}: ${u.reason}`), []);
  for (const ev of events) engine.push(ev);
  engine.flush();
  return engine.takeAlerts();
}

const of = (alerts: StoredAlert[], ruleId: string) => alerts.filter((a) => a.doc['kibana.alert.rule.rule_id'] === ruleId);

test('seed story: proxy sign-in, then a high alert for the same user within 30 min: 6f1bb4b2, then af2d8e4c (2 building blocks + shell)', async () => {
  const alerts = await run([proxySignIn('s1', 'marco.wilson', T0), event('m1', 'user.mfa.factor.reset_all', 'marco.wilson', T0 + 10 * MIN)]);
  assert.equal(of(alerts, NEW_TERMS).length, 1);
  const story = of(alerts, HIGHER_ORDER);
  assert.equal(story.length, 3, 'two building blocks and a shell');
  const blocks = story.filter((a) => a.doc['kibana.alert.group.index'] !== undefined);
  const shell = story.find((a) => a.doc['kibana.alert.group.index'] === undefined)!;
  assert.deepEqual(blocks.map((b) => b.doc['kibana.alert.group.index']), [0, 1]);
  assert.ok(blocks.every((b) => b.doc['kibana.alert.building_block_type'] === 'default'));
  assert.equal(shell.doc['kibana.alert.building_block_type'], undefined);
  assert.ok(story.every((a) => a.doc['kibana.alert.group.id'] === shell.uuid));
  assert.equal(shell.doc['kibana.alert.severity'], 'high');
  assert.equal(shell.doc['kibana.alert.risk_score'], 73);
  assert.equal((shell.doc['user'] as JsonObject)['name'], 'marco.wilson', 'the shell keeps the common fields');
  const ancestors = (shell.doc['kibana.alert.ancestors'] as JsonObject[]).map((a) => a['id']);
  for (const b of blocks) assert.ok(ancestors.includes(b.uuid), 'the building blocks are ancestors of the shell');
  assert.ok(ancestors.includes('s1') && ancestors.includes('m1'), 'and so are the source events');
  assert.ok((shell.doc['kibana.alert.depth'] as number) > 2);
});

test('seed story: the other alert must follow within 30 minutes (maxspan inclusive), be >= medium, and be for the same user.name', async () => {
  const late = await run([proxySignIn('s1', 'marco.wilson', T0), event('m1', 'user.mfa.factor.reset_all', 'marco.wilson', T0 + 31 * MIN)]);
  assert.equal(of(late, HIGHER_ORDER).length, 0, '31 minutes later is outside maxspan=30m');
  const edge = await run([proxySignIn('s1', 'marco.wilson', T0), event('m1', 'user.mfa.factor.reset_all', 'marco.wilson', T0 + 30 * MIN)]);
  assert.equal(of(edge, HIGHER_ORDER).length, 3, 'exactly 30 minutes is inside');
  const low = await run([proxySignIn('s1', 'marco.wilson', T0), event('p1', 'user.account.update_password', 'marco.wilson', T0 + 5 * MIN)]);
  assert.equal(of(low, '22222222-2222-4222-8222-222222222222').length, 1, 'the low alert is raised');
  assert.equal(of(low, HIGHER_ORDER).length, 0, 'but a low alert does not count');
  const other = await run([proxySignIn('s1', 'marco.wilson', T0), event('m1', 'user.mfa.factor.reset_all', 'homer.simpson', T0 + 5 * MIN)]);
  assert.equal(of(other, HIGHER_ORDER).length, 0, 'another user');
  const before = await run([event('m0', 'user.mfa.factor.reset_all', 'marco.wilson', T0 - 5 * MIN), proxySignIn('s1', 'marco.wilson', T0)]);
  assert.equal(of(before, HIGHER_ORDER).length, 0, 'the other alert must come after the proxy alert');
});

test('seed story: a second proxy sign-in within 7 days raises no new 6f1bb4b2; one after the history window does', async () => {
  const day = 24 * 60 * MIN;
  const alerts = await run([
    proxySignIn('s1', 'marco.wilson', T0),
    proxySignIn('s2', 'marco.wilson', T0 + 3 * day),
    proxySignIn('s3', 'marco.wilson', T0 + 3 * day + 7 * day + MIN),
  ]);
  assert.deepEqual(of(alerts, NEW_TERMS).map((a) => (a.doc['oktopus'] as JsonObject)['event_uuids']), [['s1'], ['s3']]);
});

test("seed story: the seed's af2d8e4c (data_stream.dataset) and detection-rules' current one (event.dataset) fire on the same story", async () => {
  const seed = readFileSync(join(RULES, 'initial_access_okta_alerts_following_unusual_proxy_authentication.toml'), 'utf8');
  assert.match(seed, /data_stream\.dataset == "okta\.system"/, 'rules/ holds the seed version');
  const current = seed.replaceAll('data_stream.dataset == "okta.system"', 'event.dataset == "okta.system"').replace(`rule_id = "${HIGHER_ORDER}"`, 'rule_id = "af2d8e4c-current"');
  const alerts = await run([proxySignIn('s1', 'marco.wilson', T0), event('m1', 'user.mfa.factor.reset_all', 'marco.wilson', T0 + 10 * MIN)], { 'current.toml': current });
  assert.equal(of(alerts, HIGHER_ORDER).length, 3);
  assert.equal(of(alerts, 'af2d8e4c-current').length, 3);
});
