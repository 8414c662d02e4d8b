import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { generateTenantLines, truthDocument, type TenantOptions } from '../src/simulate/tenant.js';
import { directoryCsv } from '../src/simulate/output.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'simulate', ...args], { encoding: 'utf8', cwd: tmpdir(), maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const OPTS: TenantOptions = { seed: 5, users: 12, days: 2, start: '2026-11-03', org: 'globex', attacks: true, scenarios: ['tor-takeover', 'session-replay'] };
const ARGS = ['--users', '12', '--days', '2', '--seed', '5', '--start', '2026-11-03', '--org', 'globex', '--scenarios', 'session-replay,tor-takeover'];

test('oktopus simulate: NDJSON on stdout is the generator\'s log, with a one-line summary on stderr', () => {
  const r = run(ARGS);
  assert.equal(r.code, 0, r.stderr);
  const want = [...generateTenantLines(OPTS)];
  assert.equal(r.stdout, want.join('\n') + '\n');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, new RegExp(`^simulate: ${want.length} events .* for globex: 12 users, 2026-11-03 – 2026-11-05, seed 5, scenarios tor-takeover,session-replay → stdout`));
});

test('oktopus simulate: gzip file, truth file and directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-sim-cli-'));
  try {
    const out = join(dir, 'log.ndjson.gz');
    const truth = join(dir, 'truth.json');
    const users = join(dir, 'users.csv');
    const r = run([...ARGS, '--out', out, '--truth', truth, '--directory', users]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gunzipSync(readFileSync(out)).toString('utf8'), [...generateTenantLines(OPTS)].join('\n') + '\n');
    assert.deepEqual(JSON.parse(readFileSync(truth, 'utf8')), JSON.parse(JSON.stringify(truthDocument(OPTS))));
    assert.deepEqual(JSON.parse(readFileSync(truth, 'utf8')).scenarios.map((s: { id: string }) => s.id), ['tor-takeover', 'session-replay']);
    assert.equal(readFileSync(users, 'utf8'), directoryCsv(OPTS));
    assert.match(readFileSync(users, 'utf8'), /^login,city,state,countryCode,timezone\n[^,\n]+@globex\.com,/);
    const plain = join(dir, 'none.ndjson');
    const q = run(['--users', '12', '--days', '2', '--seed', '5', '--start', '2026-11-03', '--org', 'globex', '--scenarios', 'none', '--out', plain]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(readFileSync(plain, 'utf8'), [...generateTenantLines({ ...OPTS, attacks: false })].join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oktopus simulate: a bad value is a one-line error naming the flag, exit 2, nothing written', () => {
  for (const [args, message] of [
    [['--users', '0'], /^error: --users: expected a whole number from 1 to 20000, got '0'$/],
    // Memory grows with the population: the cap keeps a run well under 1 GB (docs/simulate.md).
    [['--users', '20001'], /^error: --users: expected a whole number from 1 to 20000, got '20001'$/],
    [['--days', '2.5'], /^error: --days: expected a whole number from 1 to 3660, got '2.5'$/],
    [['--seed', 'x'], /^error: --seed: expected a whole number/],
    [['--start', '2026-13-01'], /^error: --start: expected a date YYYY-MM-DD, got '2026-13-01'$/],
    [['--org', 'ac me'], /^error: --org: expected an Okta subdomain/],
    [['--scenarios', 'tor-takeover,,x'], /^error: --scenarios: unknown scenario '' \(item 2\); known: credential-stuffing, /],
    [['--out', 'log.csv'], /^error: --out: expected a \.ndjson or \.ndjson\.gz file name \(or - for stdout\), got 'log\.csv'$/],
  ] as [string[], RegExp][]) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), message);
  }
  const r = run(['--users', '3', '--days', '1', '--truth', join(tmpdir(), 'no-such-dir-oktopus', 'truth.json')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^error: --truth .*truth\.json: ENOENT$/);
});

test('oktopus simulate: --out is opened first; a failure leaves none of the outputs behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-sim-cli-'));
  try {
    const truth = join(dir, 'truth.json');
    const users = join(dir, 'users.csv');
    // An --out that cannot be opened: neither the truth nor the directory is written.
    const badOut = run([...ARGS, '--out', join(dir, 'missing', 'log.ndjson'), '--truth', truth, '--directory', users]);
    assert.equal(badOut.code, 1);
    assert.match(badOut.stderr.trim(), /^error: --out .*log\.ndjson: ENOENT$/);
    assert.deepEqual(readdirSync(dir), []);
    // A bad --directory after a good --out and --truth: the log and the truth are removed again.
    const log = join(dir, 'log.ndjson');
    const badDir = run([...ARGS, '--out', log, '--truth', truth, '--directory', join(dir, 'missing', 'users.csv')]);
    assert.equal(badDir.code, 1);
    assert.match(badDir.stderr.trim(), /^error: --directory .*users\.csv: ENOENT$/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
