/**
 * The Panther seed's severity logic from oktopus's own enrichment (issue 6 §6): a log without
 * `p_enrichment` gets Panther's ipinfo shapes computed when the rule reads them, so an iCloud
 * Private Relay sign-in is INFO and another proxy MEDIUM; a log that carries `p_enrichment`
 * (a Panther export) is read as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { EnrichmentContext } from '../src/enrich/context.js';
import { oktaEvent } from './helpers.js';

const SEED = fileURLToPath(new URL('../../rules/panther/okta_anonymizing_vpn_login.yml', import.meta.url));

async function severityOf(over: Record<string, unknown>): Promise<unknown> {
  const loaded = await loadRules([SEED]);
  assert.deepEqual(loaded.errors, []);
  const engine = new Engine(loaded.rules, { schema: { org: 'acme', enrichment: new EnrichmentContext() }, store: new MemoryStore(), reorderWindowMs: 0 });
  engine.push(oktaEvent({ eventType: 'user.session.start', ...over }));
  engine.flush();
  const alerts = engine.takeAlerts();
  assert.equal(alerts.length, 1);
  return alerts[0]!.doc['kibana.alert.severity'];
}

test('Panther seed: iCloud Private Relay from our enrichment is INFO (Kibana low), another proxy MEDIUM', async () => {
  const relay = { securityContext: { isProxy: true, isp: 'iCloud Private Relay', asOrg: 'akamai technologies inc.' }, client: { ipAddress: '172.225.46.215' } };
  assert.equal(await severityOf(relay), 'low');
  const tor = { securityContext: { isProxy: true, isp: 'Tor', asOrg: 'foundation for applied privacy' }, client: { ipAddress: '185.220.100.211' } };
  assert.equal(await severityOf(tor), 'medium');
});

test('Panther seed: a log that carries p_enrichment is read as it is', async () => {
  const p_enrichment = { ipinfo_privacy: { 'client.ipAddress': { service: 'Apple Private Relay', relay: true, p_match: '1.2.3.4' } } };
  assert.equal(await severityOf({ securityContext: { isProxy: true }, p_enrichment }), 'low');
});
