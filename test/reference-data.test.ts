/**
 * Imported reference data (anonymizer lists, the user directory) lives in the state file but is
 * not scan state: `scan --fresh` forgets what scans learned and keeps the imports; `scan --memory`
 * keeps nothing of its own but reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logEvent } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: tmpdir() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'oktopus-reference-'));
const state = join(dir, 'state.sqlite');
const rules = join(dir, 'rules');
const put = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

test('scan --fresh keeps imported lists and users; --memory reads them', () => {
  spawnSync('mkdir', ['-p', rules]);
  writeFileSync(
    join(rules, 'tor.yml'),
    'title: Tor sign-in\nid: 33333333-3333-4333-8333-333333333333\nlogsource:\n  product: okta\n  service: okta\ndetection:\n  selection:\n    eventType: user.session.start\n    oktopus.enrichment.ip.anonymizer.tor: true\n  condition: selection\nlevel: high\n',
  );
  assert.equal(run(['intel', 'import', put('exits.txt', '185.220.101.7\n'), '--kind', 'tor', '--state', state]).code, 0);
  assert.equal(run(['users', 'import', put('users.csv', 'login,city,state,countryCode,timezone\nmarco@acme.com,Brooklyn,New York,US,America/New_York\n'), '--state', state]).code, 0);
  const log = put('log.ndjson', JSON.stringify(logEvent({ uuid: 't1', client: { ipAddress: '185.220.101.7' } })) + '\n');

  const memory = run(['scan', log, '--rules', rules, '--state', state, '--memory', '--format', 'ndjson', '--quiet']);
  assert.equal(memory.code, 0, memory.err);
  assert.equal(memory.out.trim().split('\n').filter(Boolean).length, 1, 'the Tor list is read with --memory');

  const first = run(['scan', log, '--rules', rules, '--state', state, '--format', 'ndjson', '--quiet']);
  assert.equal(first.out.trim().split('\n').filter(Boolean).length, 1);
  const fresh = run(['scan', log, '--rules', rules, '--state', state, '--fresh', '--format', 'ndjson', '--quiet']);
  assert.equal(fresh.code, 0, fresh.err);
  assert.equal(fresh.out.trim().split('\n').filter(Boolean).length, 1, 'a fresh scan raises the alert again, with the list still there');
  const list = run(['intel', 'list', '--state', state, '--json']);
  assert.deepEqual((JSON.parse(list.out) as { kind: string }[]).map((v) => v.kind), ['tor']);
});
