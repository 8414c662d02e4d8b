/**
 * The built-in rules (rules/) against a simulated tenant: every injected scenario is detected
 * within minutes of its first malicious event, by the rule written for it. The benign population
 * has look-alikes of the scenarios' later steps, and every false positive must be one of them:
 * the stuffing rule raises nothing; the second-network rule only on a hybrid worker's session
 * carried from home to the office; the token rule only on an administrator's integration token
 * created on the corporate VPN; the seeds only on benign proxy users and networks (corporate VPN,
 * commercial VPN, iCloud Private Relay), their documented false positives.
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
interface LogLine { uuid: string; published: string; eventType: string; actor: { alternateId: string }; client: { zone: string; ipAddress: string } }
/** IPv4 address in an a.b.c.d/n network. */
function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(net!) / size);
}
const ruleId = (a: Alert) => a['kibana.alert.rule.rule_id'] as string;
const eventAncestors = (a: Alert) => ((a['kibana.alert.ancestors'] ?? []) as { id: string; type: string }[]).filter((x) => x.type === 'event').map((x) => x.id);

test('built-in rules: every simulated scenario detected within minutes; every false positive is a benign look-alike', () => {
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
    const byUuid = new Map<string, LogLine>();
    for (const line of gunzipSync(readFileSync(log)).toString('utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as LogLine;
      published.set(e.uuid, Date.parse(e.published));
      byUuid.set(e.uuid, e);
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

    const benignAlerts = alerts.filter((a) => linked(a).size === 0);
    assert.deepEqual(benignAlerts.filter((a) => ruleId(a) === STUFFING_RULE).map((a) => a['kibana.alert.reason']), [], 'the stuffing rule raises nothing on benign traffic');
    const proxyGroups = truth.benign.filter((b) => b.category !== 'traveller');
    const proxyUsers = new Set(proxyGroups.flatMap((b) => b.users));
    const corporate = truth.benign.find((b) => b.category === 'corporate-vpn')!.cidrs;
    const inAny = (ip: string, cidrs: string[]) => cidrs.some((c) => inCidr(ip, c));
    const events = (a: Alert) => eventAncestors(a).map((u) => byUuid.get(u)!);
    for (const a of benignAlerts) {
      const evs = events(a);
      if (ruleId(a) === REPLAY_RULE) {
        // A hybrid worker: one actor, one session, seen from the office and from one other network.
        assert.equal(new Set(evs.map((e) => e.actor.alternateId)).size, 1);
        assert.ok(evs.some((e) => e.client.zone === 'Corporate Offices') && evs.some((e) => e.client.zone !== 'Corporate Offices'), `${a['kibana.alert.reason']}: not a session carried to the office`);
      } else if (ruleId(a) === TOKEN_RULE) {
        // An administrator's integration token, created on the corporate VPN.
        const token = evs.find((e) => e.eventType === 'system.api_token.create')!;
        assert.ok(inAny(token.client.ipAddress, corporate), `token created from ${token.client.ipAddress}, not the corporate VPN`);
      } else {
        // The seeds: benign proxy users or networks only (their documented false positives).
        const who = (field(a, 'okta.actor.alternate_id') ?? field(a, 'user.email')) as string;
        assert.ok(proxyUsers.has(who) || evs.some((e) => inAny(e.client.ipAddress, proxyGroups.flatMap((b) => b.cidrs))), `benign alert of ${ruleId(a)} on ${who}, who is not a benign proxy user`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
