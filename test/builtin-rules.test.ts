/**
 * The built-in rules (rules/) against a simulated tenant: every injected scenario is detected
 * within minutes of its first malicious event, by the rule written for it, and the rules written
 * for the scenarios raise nothing on the benign population. The seeds' alerts on benign proxy
 * users (corporate VPN, commercial VPN, iCloud Private Relay) are their documented false
 * positives: they must come from those users only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { TruthDocument } from '../src/simulate/tenant.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));

const STUFFING_RULE = '3a9d52c4-6f1e-4b87-9d20-5c1f7e8a2b61';
const REPLAY_RULE = 'c71e0b5a-2d84-4f3e-a6b9-8e05d4c31f72';
const TOKEN_RULE = '8e4b2f19-73c6-4d0a-b5e8-1a9c6d2f4e83';
const GEO_MISMATCH_RULE = '2c9e4d71-8a3f-4e05-b6d2-03cf25857a80';
const NEW_COUNTRY_PROXY_RULE = '5e0b8c1f-3d27-4a9e-b4f6-03cf25857a81';
const HIGHER_ORDER_RULE = 'af2d8e4c-3b7c-4e91-8f5a-6c9d0e1f2a3b';

/** The rule written for (or best suited to) each scenario. */
const EXPECTED: Record<string, string[]> = {
  'credential-stuffing': [STUFFING_RULE],
  'tor-takeover': [NEW_COUNTRY_PROXY_RULE, HIGHER_ORDER_RULE],
  'residential-proxy-geo-mismatch': [GEO_MISMATCH_RULE],
  'session-replay': [REPLAY_RULE],
  'api-token-after-proxy': [TOKEN_RULE],
};

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Alert { [k: string]: unknown }
/** A field of an alert document: a flat key, or the nested path. */
function field(a: Alert, path: string): unknown {
  if (path in a) return a[path];
  let cur: unknown = a;
  for (const part of path.split('.')) cur = cur !== null && typeof cur === 'object' ? (cur as Alert)[part] : undefined;
  return cur;
}
const ruleId = (a: Alert) => a['kibana.alert.rule.rule_id'] as string;
const eventAncestors = (a: Alert) => ((a['kibana.alert.ancestors'] ?? []) as { id: string; type: string }[]).filter((x) => x.type === 'event').map((x) => x.id);

test('built-in rules: every simulated scenario detected within minutes; the scenario rules quiet on benign users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-builtin-'));
  try {
    const log = join(dir, 'tenant.ndjson.gz');
    const truthFile = join(dir, 'truth.json');
    const users = join(dir, 'users.csv');
    const sim = run(['simulate', '--users', '80', '--days', '7', '--seed', '11', '--out', log, '--truth', truthFile, '--directory', users]);
    assert.equal(sim.code, 0, sim.stderr);
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as TruthDocument;
    assert.equal(truth.scenarios.length, 5);

    const published = new Map<string, number>();
    for (const line of gunzipSync(readFileSync(log)).toString('utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { uuid: string; published: string };
      published.set(e.uuid, Date.parse(e.published));
    }

    const scan = run(['scan', log, '--rules', RULES, '--users', users, '--memory', '--format', 'ndjson']);
    assert.equal(scan.code, 0, scan.stderr);
    const alerts = scan.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);

    const scenarioOf = new Map<string, string>();
    for (const s of truth.scenarios) for (const u of s.eventUuids) scenarioOf.set(u, s.id);
    const linked = (a: Alert) => new Set(eventAncestors(a).map((u) => scenarioOf.get(u)).filter((x): x is string => !!x));
    /** When the alert could be raised: its latest event. */
    const raisedAt = (a: Alert) => Math.max(...eventAncestors(a).map((u) => published.get(u) ?? -Infinity));

    for (const s of truth.scenarios) {
      const mine = alerts.filter((a) => linked(a).has(s.id));
      assert.ok(mine.length > 0, `${s.id} is detected`);
      const first = Math.min(...mine.map(raisedAt));
      const delay = (first - Date.parse(s.start)) / 60_000;
      assert.ok(delay >= 0 && delay <= 5, `${s.id}: first alert ${delay.toFixed(1)} min after its first malicious event`);
      for (const id of EXPECTED[s.id]!) assert.ok(mine.some((a) => ruleId(a) === id), `${s.id} detected by ${id}`);
    }

    // The rules written for the scenarios: no alert outside them.
    const benignAlerts = alerts.filter((a) => linked(a).size === 0);
    for (const id of [STUFFING_RULE, REPLAY_RULE, TOKEN_RULE]) {
      assert.deepEqual(benignAlerts.filter((a) => ruleId(a) === id).map((a) => a['kibana.alert.reason']), [], `${id} raises nothing on benign traffic`);
    }
    // The seeds' benign alerts come from the benign proxy users only (their documented false positives).
    const proxyUsers = new Set(truth.benign.filter((b) => b.category !== 'traveller').flatMap((b) => b.users));
    for (const a of benignAlerts) {
      const who = (field(a, 'okta.actor.alternate_id') ?? field(a, 'user.email')) as string;
      assert.ok(proxyUsers.has(who), `benign alert of ${ruleId(a)} on ${who}, who is not a benign proxy user`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
