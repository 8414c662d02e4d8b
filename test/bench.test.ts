import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  actorLogin,
  cacheFileName,
  generatorFingerprint,
  leftOut,
  parseFlags,
  prefixFileName,
  root,
  ruleGroup,
  runChild,
  selectRules,
  staleCacheFiles,
} from '../bench/common.js';
import { benchTenantOptions, writeBenchFile, writeBenchStream } from '../bench/generate.js';
import { generateTenantLines } from '../src/simulate/tenant.js';
import type { RuleIR, UnsupportedRule } from '../src/ir/types.js';

const SPEC = { counts: ['--events', '--seed'], switches: ['--json'] };

test('bench flags: whole positive numbers, switches, one-line errors naming the flag', () => {
  const ok = parseFlags(['--events', '50_000', '--json', '--seed=3'], SPEC);
  assert.equal(ok.counts.get('--events'), 50000);
  assert.equal(ok.counts.get('--seed'), 3);
  assert.ok(ok.switches.has('--json'));
  const err = (argv: string[]) => {
    try {
      parseFlags(argv, SPEC);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.equal(err(['--events', '0']), '--events must be a positive whole number, got "0"');
  assert.equal(err(['--events', '1e6']), '--events must be a positive whole number, got "1e6"');
  assert.equal(err(['--events', '-5']), '--events must be a positive whole number, got "-5"');
  assert.equal(err(['--events']), '--events needs a value (argument 1)');
  assert.equal(err(['--json=yes']), '--json takes no value, got "yes" (argument 1)');
  assert.match(err(['--json', '--fast']), /^unknown argument "--fast" \(argument 2\); known: --events N, --seed N, --json$/);
});

test('bench cache: named by a fingerprint of the generator and its sizing; older files are stale', () => {
  const fp = generatorFingerprint(1000, 7);
  assert.match(fp, /^[0-9a-f]{12}$/);
  assert.equal(generatorFingerprint(1000, 7), fp);
  assert.notEqual(generatorFingerprint(1000, 8), fp); // another seed
  assert.notEqual(generatorFingerprint(1_000_000, 7), fp); // another tenant size
  const current = cacheFileName(1000, 7, fp);
  const names = [
    current,
    prefixFileName(1000, 7, fp, 100),
    'tenant-1000-7-000000000000.ndjson', // older generator
    'tenant-1000-7-000000000000.first-100.ndjson', // its prefix
    `${current}.partial`, // an interrupted generation
    'tenant-1000-8-000000000000.ndjson', // another seed: not ours to remove
    'tenant-10000-7-000000000000.ndjson', // another size
    'tenant-1000-7.ndjson', // not of this naming
  ];
  assert.deepEqual(staleCacheFiles(names, 1000, 7, fp), [
    'tenant-1000-7-000000000000.ndjson',
    'tenant-1000-7-000000000000.first-100.ndjson',
    `${current}.partial`,
  ]);
});

test('bench rule groups: Elastic split by language, selections by group, none and id', () => {
  const rule = (id: string, dialect: string, ruleType: string) => ({ id, dialect, ruleType }) as unknown as RuleIR;
  const rules = [rule('a', 'sigma', 'detection'), rule('b', 'elastic', 'query'), rule('c', 'elastic', 'threshold'), rule('d', 'elastic', 'eql'), rule('e', 'panther', 'correlation_rule')];
  assert.deepEqual(rules.map(ruleGroup), ['sigma', 'kql', 'kql', 'eql', 'panther']);
  assert.deepEqual(selectRules(rules, 'kql').map((r) => r.id), ['b', 'c']);
  assert.deepEqual(selectRules(rules, 'none'), []);
  assert.deepEqual(selectRules(rules, { id: 'd' }).map((r) => r.id), ['d']);
  assert.equal(selectRules(rules, 'all').length, 5);
});

test('bench left-out rules are counted by kind of reason, without per-rule detail', () => {
  const u = (ruleType: string, reason: string) => ({ dialect: 'elastic', ruleType, reason }) as UnsupportedRule;
  assert.deepEqual(
    leftOut([
      u('esql', 'not supported: elastic/esql (ES|QL queries run only inside Elasticsearch)'),
      u('machine_learning', 'not supported: elastic/machine_learning (needs the Elastic ML job a)'),
      u('machine_learning', 'not supported: elastic/machine_learning (needs the Elastic ML job b)'),
    ]),
    [
      { reason: 'elastic/machine_learning: not supported: elastic/machine_learning', rules: 2 },
      { reason: 'elastic/esql: not supported: elastic/esql', rules: 1 },
    ],
  );
});

test('bench generator: actorLogin reads the actor of every generated line as JSON.parse does', () => {
  let n = 0;
  for (const line of generateTenantLines({ ...benchTenantOptions(3000, 11), days: 2 })) {
    const ev = JSON.parse(line) as { actor?: { alternateId?: string } };
    assert.equal(actorLogin(line), ev.actor?.alternateId, line.slice(0, 200));
    if (++n >= 3000) break;
  }
  assert.ok(n > 100);
  assert.equal(actorLogin('{"uuid":"x"}'), undefined);
  assert.equal(actorLogin('{"actor":{"id":"1"},"target":[{"alternateId":"t"}]}'), undefined);
});

test('bench generator: the stream and the file hold the same N lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-bench-test-'));
  try {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    let seen = 0;
    await writeBenchStream(sink, 2500, 5, () => void seen++);
    const file = join(dir, 'b.ndjson');
    await writeBenchFile(file, 2500, 5);
    const text = chunks.join('');
    assert.equal(readFileSync(file, 'utf8'), text);
    const lines = text.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 2500);
    assert.equal(seen, 2500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench runs: parse and pipeline children report their counts; the seed rule matches what its condition selects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-bench-test-'));
  try {
    const file = join(dir, 'in.ndjson');
    await writeBenchFile(file, 4000, 7);
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eventType?: string; securityContext?: { isProxy?: unknown } });
    const expected = events.filter((e) => String(e.eventType).toLowerCase() === 'user.session.start' && String(e.securityContext?.isProxy).toLowerCase() === 'true').length;

    assert.ok(expected > 0, 'the generated log has sign-ins through a proxy');
    const parse = await runChild({ mode: 'parse', input: file });
    assert.equal(parse.n, 4000);
    assert.ok(parse.max_rss_mb > 0);
    const seed = await runChild({ mode: 'pipeline', input: file, rules: { id: 'bde30855-5c53-4c18-ae90-1ff79ebc9578' }, paths: [join(root, 'rules')], enrich: 'off' });
    assert.equal(seed.n, 4000);
    assert.equal(seed.rules, 1);
    assert.deepEqual(seed.rule_groups, { sigma: 1 });
    assert.equal(seed.alerts, expected);
    assert.ok(seed.state_bytes > 0);
    // The alerts are stored in the state file: the breakdown finds their pages.
    assert.ok(seed.state && seed.state.alerts_bytes > 0, JSON.stringify(seed.state));
    assert.equal(seed.state.top_namespaces?.some((n) => n.ns === 'engine:seen'), true, JSON.stringify(seed.state.top_namespaces));
    const none = await runChild({ mode: 'pipeline', input: file, rules: 'none', paths: [join(root, 'rules')], enrich: 'off' });
    assert.equal(none.rules, 0);
    assert.equal(none.alerts, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
