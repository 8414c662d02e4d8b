/**
 * The seed rules, end to end through the real loader, adapters and engine. The events are the
 * Panther seed's own unit-test logs (lower-cased keys, Panther's `published` format), read from
 * the project's built-in copy of that rule (rules/panther/), not from ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadRules } from '../src/rules/load.js';
import { adaptRecord } from '../src/adapters/index.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';

const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const PANTHER_SEED = `${RULES}panther/okta_anonymizing_vpn_login.yml`;
const SIGMA_SEED = `${RULES}sigma/okta_user_session_start_via_anonymised_proxy.yml`;

interface PantherTest {
  Name: string;
  ExpectedResult: boolean;
  Log: Record<string, unknown>;
}

const tests = (parse(readFileSync(PANTHER_SEED, 'utf8')) as { Tests: PantherTest[] }).Tests;

async function firesOn(ruleFile: string, log: Record<string, unknown>, uuid: string): Promise<boolean> {
  const loaded = await loadRules([ruleFile]);
  assert.equal(loaded.errors.length, 0, JSON.stringify(loaded.errors));
  const engine = new Engine(loaded.rules, { schema: { org: 'duff.okta.com' }, store: new MemoryStore(), reorderWindowMs: 0 });
  for (const ev of adaptRecord({ ...log, uuid }, 'seed-test')) engine.push(ev);
  engine.drain();
  return engine.takeAlerts().length > 0;
}

test('the seed Sigma rule fires on the Panther seed tests "Anonymizing Proxy Used" and "Apple Private Relay Used", not on "Other Event"', async () => {
  const byName = Object.fromEntries(tests.map((t) => [t.Name, t]));
  assert.deepEqual(Object.keys(byName).sort(), ['Anonymizing Proxy Used', 'Apple Private Relay Used', 'Other Event']);
  for (const [i, t] of tests.entries()) {
    assert.equal(await firesOn(SIGMA_SEED, t.Log, `seed-${i}`), t.ExpectedResult, t.Name);
  }
});

test('the threat brief rules: proxy session start fires; the geolocation-mismatch rule needs the distance enrichment', async () => {
  const brief = `${RULES}sigma/okta_threat_brief_session_start_via_anonymizing_proxy.yml`;
  const mismatch = `${RULES}sigma/okta_threat_brief_proxy_geolocation_mismatch.yml`;
  const proxyLog = tests.find((t) => t.Name === 'Anonymizing Proxy Used')!.Log;
  assert.equal(await firesOn(brief, proxyLog, 'b1'), true);
  assert.equal(await firesOn(mismatch, proxyLog, 'b2'), false, 'no enrichment, no distance');
  const far = { ...proxyLog, oktopus: { enrichment: { user: { profile_distance_km: 8200 } } } };
  const near = { ...proxyLog, oktopus: { enrichment: { user: { profile_distance_km: 12 } } } };
  assert.equal(await firesOn(mismatch, far, 'b3'), true);
  assert.equal(await firesOn(mismatch, near, 'b4'), false);
});
