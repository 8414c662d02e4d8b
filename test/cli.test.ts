import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { logEvent } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const SIGMA_SEED = join(RULES, 'sigma', 'okta_user_session_start_via_anonymised_proxy.yml');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, cwd: tmpdir(), maxBuffer: 512 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'oktopus-cli-'));
}

function ndjson(events: object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

const proxy = (uuid: string, published = '2026-11-02T09:00:00.000Z') =>
  logEvent({ uuid, published, securityContext: { isProxy: true, asOrg: 'M247', isp: 'M247', domain: 'm247.com', asNumber: 9009 } });
const benign = (uuid: string, published = '2026-11-02T09:00:00.000Z') => logEvent({ uuid, published });

test('scan: NDJSON alerts on stdout, exit 0; --fail-on-alert exits 1', () => {
  const dir = tmp();
  const file = join(dir, 'log.ndjson');
  writeFileSync(file, ndjson([benign('b1'), proxy('p1'), benign('b2')]));
  const r = run(['scan', file, '--rules', SIGMA_SEED, '--format', 'ndjson', '--memory']);
  assert.equal(r.code, 0, r.stderr);
  const alerts = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]['kibana.alert.rule.rule_id'], 'bde30855-5c53-4c18-ae90-1ff79ebc9578');
  assert.equal(alerts[0]['kibana.alert.severity'], 'high');
  assert.equal(run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--fail-on-alert', '--quiet']).code, 1);
});

test('scan: gzip input and stdin are read; the table names the rule', () => {
  const dir = tmp();
  const file = join(dir, 'log.ndjson.gz');
  writeFileSync(file, gzipSync(ndjson([proxy('g1')])));
  const r = run(['scan', file, '--rules', SIGMA_SEED, '--memory']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Okta User Session Start Via An Anonymising Proxy Service/);
  const s = run(['scan', '-', '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson'], ndjson([proxy('s1')]));
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.trim().split('\n').length, 1);
});

test('scan: a broken record is reported as file:line and skipped; --strict makes it fatal', () => {
  const dir = tmp();
  const file = join(dir, 'broken.ndjson');
  writeFileSync(file, JSON.stringify(proxy('k1')) + '\n{"uuid": "half\n' + JSON.stringify(proxy('k2')) + '\n');
  const r = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`broken\\.ndjson:2: `));
  assert.equal(r.stdout.trim().split('\n').length, 2, 'the good records on both sides of the bad one are kept');
  const s = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson', '--strict']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /broken\.ndjson:2: .*--strict/);
  assert.equal(s.stdout.trim().split('\n').length, 1, 'what was accepted before the bad record is kept');
});

test('usage errors: a wrong flag, a missing file, no inputs all exit 2 with a one-line message', () => {
  const bad = run(['scan', '--no-such-flag']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option '--no-such-flag'/);
  const missing = run(['scan', '/no/such/file.ndjson', '--memory']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: \/no\/such\/file\.ndjson: no such file or folder$/m);
  assert.equal(run(['scan', '--memory']).code, 2);
  const fmt = run(['scan', SIGMA_SEED, '--format', 'xml', '--memory']);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /--format must be table or ndjson/);
  assert.equal(run(['frobnicate']).code, 2);
});

test('a rule file with an error is reported with its position; the other rules still run; exit 2', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.yml'), 'title: Bad\nlogsource:\n  product: okta\ndetection:\n  sel:\n    eventType: [unclosed\n  condition: sel\n');
  writeFileSync(join(dir, 'good.yml'), readFileSync(SIGMA_SEED));
  const file = join(dir, 'log.ndjson');
  writeFileSync(file, ndjson([proxy('e1')]));
  const r = run(['scan', file, '--rules', dir, '--memory', '--format', 'ndjson']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yml:\d+:\d+: /);
  assert.equal(r.stdout.trim().split('\n').length, 1);
});

test('rules list shows every built-in rule, and those not yet supported with the reason', () => {
  const r = run(['rules', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const ids = out.rules.map((x: { id: string }) => x.id);
  assert.ok(ids.includes('bde30855-5c53-4c18-ae90-1ff79ebc9578'));
  const reasons = Object.fromEntries(out.unsupported.map((u: { id: string; reason: string }) => [u.id, u.reason]));
  assert.ok(ids.includes('6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd'), 'the new_terms seed runs');
  assert.ok(ids.includes('af2d8e4c-3b7c-4e91-8f5a-6c9d0e1f2a3b'), 'the higher-order EQL seed runs');
  assert.ok(ids.includes('Okta.Anonymizing.VPN.Login'), 'the Panther seed runs (its TypeScript port)');
  assert.equal(reasons['Okta.Anonymizing.VPN.Login'], undefined);
  const text = run(['rules', 'list']);
  assert.match(text.stdout, /user\.session\.start/);
});

test('explain prints stages, indicators, exclusions and same-action rules; --json too', () => {
  const r = run(['explain', SIGMA_SEED]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Stage 1: filter/);
  assert.match(r.stdout, /eventType\s+eq\s+user\.session\.start/);
  assert.match(r.stdout, /securityContext\.isProxy\s+eq\s+true/);
  const same = r.stdout.slice(r.stdout.indexOf('Rules detecting the same action'));
  assert.match(same, /Okta User Session Start Via Anonymizing Proxy \(sigma\)\s+user\.session\.start/);
  assert.equal(r.stderr, '', 'the rule file is not loaded twice');
  const dir = tmp();
  const rule = join(dir, 'excl.yml');
  writeFileSync(rule, 'title: Excl\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: okta\n  service: okta\ndetection:\n  sel:\n    eventType: user.session.start\n  filter:\n    actor.alternateId|startswith: okta\n  condition: sel and not filter\nlevel: low\n');
  const j = run(['explain', rule, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const e = JSON.parse(j.stdout).rules[0];
  assert.deepEqual(e.exclusions, [{ field: 'actor.alternateId', kind: 'starts_with', values: ['okta'] }]);
  assert.deepEqual(e.eventTypes, ['user.session.start']);
});

test('kill -9 in the middle of a scan and a rerun with the same state give exactly the alerts of one run', async () => {
  const dir = tmp();
  const file = join(dir, 'big.ndjson');
  const events: object[] = [];
  const start = Date.parse('2026-11-02T00:00:00.000Z');
  for (let i = 0; i < 40000; i++) {
    const t = new Date(start + i * 1000 - (i % 7) * 3000).toISOString(); // a little out of order
    events.push(i % 5 === 0 ? proxy(`k${i}`, t) : benign(`k${i}`, t));
    if (i % 997 === 1) events.push(proxy(`k${i - 1}`, t)); // duplicates of earlier events
  }
  writeFileSync(file, ndjson(events));
  const once = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson', '--quiet']);
  assert.equal(once.code, 0, once.stderr);
  const expected = once.stdout.trim().split('\n').map((l) => JSON.parse(l)['kibana.alert.uuid']).sort();
  assert.equal(expected.length, 8000);

  const state = join(dir, 'state.sqlite');
  const out = join(dir, 'alerts.ndjson');
  const args = [CLI, 'scan', file, '--rules', SIGMA_SEED, '--state', state, '--output', out, '--format', 'ndjson', '--batch-size', '250', '--quiet'];
  let kills = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // The first five runs are killed once their output has grown by an amount that differs each
    // time (so the kill lands at different points of a batch); the last one runs to the end.
    const base = existsSync(out) ? statSync(out).size : 0;
    const growth = 1 + ((attempt + 1) * 777_777) % 3_000_000;
    const timer = setInterval(() => {
      if (kills < 5 && existsSync(out) && statSync(out).size >= base + growth) child.kill('SIGKILL');
    }, 2);
    const { code, signal } = await exited;
    clearInterval(timer);
    if (signal === 'SIGKILL') {
      kills++;
      continue;
    }
    assert.equal(code, 0);
    break;
  }
  assert.ok(kills >= 3, `expected the scan to be killed mid-run at least 3 times, was ${kills}`);
  const got = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)['kibana.alert.uuid']).sort();
  assert.equal(new Set(got).size, got.length, 'no alert twice');
  assert.deepEqual(got, expected, 'none lost');
});

test('checkpoints are per file: an unchanged file is skipped, a grown one read on, a changed one read again', () => {
  const dir = tmp();
  const state = join(dir, 's.sqlite');
  const file = join(dir, 'daily.ndjson');
  const scan = () => run(['scan', file, '--rules', SIGMA_SEED, '--state', state, '--format', 'ndjson']);
  writeFileSync(file, ndjson([proxy('c1'), benign('c2')]));
  const first = scan();
  assert.equal(first.stdout.trim().split('\n').length, 1);
  const again = scan();
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /already processed/);
  // The export grows: only the new record is read.
  writeFileSync(file, ndjson([proxy('c1'), benign('c2'), proxy('c3', '2026-11-02T09:05:00.000Z')]));
  const grown = scan();
  assert.match(grown.stderr, /continuing after record 2/);
  assert.deepEqual(grown.stdout.trim().split('\n').map((l) => JSON.parse(l)['oktopus']['event_uuids'][0]), ['c3']);
  // Another day's export copied over the same name: read again from the start.
  writeFileSync(file, ndjson([proxy('d1', '2026-11-03T09:00:00.000Z'), proxy('c1')]));
  const changed = scan();
  assert.match(changed.stderr, /changed since the last scan/);
  assert.deepEqual(changed.stdout.trim().split('\n').map((l) => JSON.parse(l)['oktopus']['event_uuids'][0]), ['d1']);
});

test('a folder input takes its log files (sorted, recursively) and leaves other files alone', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'logs', 'day2'), { recursive: true });
  writeFileSync(join(dir, 'logs', 'a.ndjson'), ndjson([proxy('f1')]));
  writeFileSync(join(dir, 'logs', 'day2', 'b.json.gz'), gzipSync(JSON.stringify([proxy('f2', '2026-11-02T10:00:00.000Z')])));
  writeFileSync(join(dir, 'logs', 'README.md'), '# not a log\n');
  symlinkSync(join(dir, 'nowhere.ndjson'), join(dir, 'logs', 'dangling.ndjson'));
  const r = run(['scan', join(dir, 'logs'), '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 2);
  assert.match(r.stderr, /dangling\.ndjson: dangling link; skipped/);
  assert.doesNotMatch(r.stderr, /README/);
});

test('exports that overlap by more than an hour: the repeated events are recognised as duplicates', () => {
  const dir = tmp();
  const day = (d: number, h: number) => `2026-11-0${d}T${String(h).padStart(2, '0')}:00:00.000Z`;
  const a = [proxy('o1', day(2, 8)), benign('o2', day(2, 12)), proxy('o3', day(2, 18))];
  const b = [proxy('o3', day(2, 18)), benign('o4', day(3, 8)), proxy('o5', day(3, 9))];
  writeFileSync(join(dir, 'a.ndjson'), ndjson(a));
  writeFileSync(join(dir, 'b.ndjson'), ndjson(b));
  const r = run(['scan', join(dir, 'a.ndjson'), join(dir, 'b.ndjson'), '--rules', SIGMA_SEED, '--memory']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /5 events .* 3 new alerts, 1 duplicate events dropped/);
});

test('--output, --alerts-db and --org: NDJSON file, SQLite alerts table, tenant in cloud.account.id', async () => {
  const dir = tmp();
  const file = join(dir, 'log.ndjson');
  writeFileSync(file, ndjson([proxy('q1'), benign('q2')]));
  const out = join(dir, 'new-folder', 'alerts.ndjson'); // --output creates its folder, as --state does
  const db = join(dir, 'alerts.sqlite');
  const r = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--output', out, '--alerts-db', db, '--org', 'https://acme.okta.com/']);
  assert.equal(r.code, 0, r.stderr);
  const alert = JSON.parse(readFileSync(out, 'utf8').trim());
  assert.equal(alert.cloud.account.id, 'acme.okta.com');
  const { default: Database } = await import('better-sqlite3');
  const rows = new Database(db).prepare('SELECT rule_id, user_name, source_ip, event_action, severity FROM alerts').all();
  assert.deepEqual(rows, [{ rule_id: 'bde30855-5c53-4c18-ae90-1ff79ebc9578', user_name: 'homer.simpson', source_ip: '203.0.113.7', event_action: 'user.session.start', severity: 'high' }]);
});

test('--time-field: events are timed by that field; a field no record has is an error (exit 2)', () => {
  const dir = tmp();
  const file = join(dir, 'log.ndjson');
  writeFileSync(file, ndjson([{ ...proxy('t1'), ingested: '2026-11-05T00:00:00.000Z' }]));
  const ok = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson', '--time-field', 'ingested']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout)['@timestamp'], '2026-11-05T00:00:00.000Z');
  const typo = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--time-field', 'ingestd']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /missing ingestd/);
  assert.match(typo.stderr, /none of the 1 records could be used/);
});

test('a pathologically nested record is a bad record, not the end of the scan', () => {
  const dir = tmp();
  const file = join(dir, 'deep.ndjson');
  const deep = JSON.stringify(logEvent({ uuid: 'deep', debugContext: { debugData: { x: 'NEST' } } })).replace('"NEST"', '['.repeat(5000) + ']'.repeat(5000));
  writeFileSync(file, deep + '\n' + JSON.stringify(proxy('after')) + '\n');
  const r = run(['scan', file, '--rules', SIGMA_SEED, '--memory', '--format', 'ndjson']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deep\.ndjson:1: /);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'the record after it is scanned');
});

test('a reader that closes the output early ends the scan quietly', () => {
  const dir = tmp();
  const file = join(dir, 'log.ndjson');
  const many = Array.from({ length: 3000 }, (_, i) => proxy(`p${i}`, new Date(Date.parse('2026-11-02T00:00:00Z') + i * 1000).toISOString()));
  writeFileSync(file, ndjson(many));
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" scan "${file}" --rules "${SIGMA_SEED}" --memory --format ndjson | head -c 100 > /dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), '141', 'like a Unix tool killed by SIGPIPE');
  assert.doesNotMatch(r.stderr, /EPIPE|Error/);
});

test('a file of garbage reports at most 20 bad records, then how many more', () => {
  const dir = tmp();
  const file = join(dir, 'garbage.log');
  writeFileSync(file, Array.from({ length: 500 }, (_, i) => `line ${i} is not json`).join('\n') + '\n');
  const r = run(['scan', file, '--memory', '--quiet']);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => /^bad record: .*garbage\.log:\d+: invalid JSON/.test(l)).length, 20);
  assert.ok(lines.some((l) => /garbage\.log: 480 more bad records not shown \(500 in all\)/.test(l)));
});

test('a rules folder with a dangling link reports it and still loads the other rules', () => {
  const dir = tmp();
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'good.yml'), readFileSync(SIGMA_SEED));
  symlinkSync(join(dir, 'missing.yml'), join(rules, 'a_broken.yml'));
  const r = run(['rules', 'list', '--rules', rules, '--json']);
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.rules.map((x: { id: string }) => x.id), ['bde30855-5c53-4c18-ae90-1ff79ebc9578']);
  assert.match(out.errors[0].message, /a_broken\.yml: dangling link$/);
});

test('a broken config file or Panther rule file gives one line naming the file and position', () => {
  const dir = tmp();
  const cfg = join(dir, 'oktopus.yml');
  writeFileSync(cfg, 'org: [a, b\n');
  const c = run(['rules', 'list', '--config', cfg]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /^error: .*oktopus\.yml: .*\(line 2, column 1\)\n$/);
  const rule = join(dir, 'p.yml');
  writeFileSync(rule, 'AnalysisType: rule\nRuleID: [unclosed\n');
  const p = run(['rules', 'list', '--rules', rule]);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /^error: .*p\.yml:3:1: [^\n]*[^:]\n$/);
});
