/** The scan pipeline with stateful rules: results must not depend on batching, draining or strictness. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScan } from '../src/pipeline/scan.js';
import { MemoryStore } from '../src/store/memory.js';
import type { RuleIR } from '../src/ir/types.js';
import type { StoredAlert } from '../src/store/types.js';
import { eq, logEvent, rule } from './helpers.js';

const schema = { org: 'acme.okta.com' };
const user = { id: '00u1', type: 'User', alternateId: 'ann@acme.com', displayName: 'Ann' };

/** Three sign-ins in 10 minutes by one user raise one alert (Panther-style dedup, threshold 3). */
const burst: RuleIR = rule('burst', eq('eventType', 'user.session.start'), { dialect: 'panther', ruleType: 'rule' }, [
  { type: 'dedup', key: [{ name: 'actor.alternateId', schema: 'okta' }], periodMs: 10 * 60_000, threshold: 3 },
]);

/** Reads the alerts of `burst` and raises its own for each (a stateful higher-order rule). */
const onBurst: RuleIR = rule(
  'on-burst',
  { type: 'compare', field: { name: 'kibana.alert.rule.rule_id', schema: 'alert' }, op: 'eq', values: ['burst'] },
  { input: 'alerts', dialect: 'elastic', ruleType: 'eql' },
  [{ type: 'dedup', key: [], periodMs: 1, threshold: 1 }],
);

function file(events: object[]): string {
  const p = join(mkdtempSync(join(tmpdir(), 'oktopus-scan-')), 'log.ndjson');
  writeFileSync(p, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return p;
}

async function scan(path: string, extra: { batchSize?: number; strict?: boolean; rules?: RuleIR[] } = {}) {
  const alerts: StoredAlert[] = [];
  const result = await runScan({
    inputs: [path],
    rules: extra.rules ?? [burst],
    store: new MemoryStore(),
    schema,
    sinks: [{ write: (a) => void alerts.push(a), close: async () => undefined }],
    batchSize: extra.batchSize,
    strict: extra.strict,
  });
  return { alerts, result };
}

const at = (min: number) => new Date(Date.parse('2026-11-02T10:00:00.000Z') + min * 60_000).toISOString();

test('stateful alerts do not depend on the batch size (state is not expired before stateful rules saw it)', async () => {
  // Other events move time on between the sign-ins; they must not close the open dedup window.
  const events = [
    logEvent({ uuid: 's0', published: at(0), actor: user }),
    logEvent({ uuid: 'x1', published: at(5), eventType: 'user.authentication.sso' }),
    logEvent({ uuid: 's6', published: at(6), actor: user }),
    logEvent({ uuid: 's9', published: at(9), actor: user }),
    logEvent({ uuid: 'x2', published: at(20), eventType: 'user.authentication.sso' }),
  ];
  const path = file(events);
  for (const batchSize of [1, 2, 3, 20000]) {
    const { alerts } = await scan(path, { batchSize });
    assert.equal(alerts.length, 1, `batch size ${batchSize}`);
  }
});

test('an alert raised while draining still reaches a stateful rule that reads alerts', async () => {
  const path = file([0, 1, 2].map((m) => logEvent({ uuid: `d${m}`, published: at(m), actor: user })));
  const { alerts, result } = await scan(path, { rules: [burst, onBurst] });
  assert.deepEqual(alerts.map((a) => a.ruleId).sort(), ['burst', 'on-burst']);
  assert.equal(result.engine.buffered, 0);
  assert.equal(result.summary.late, 0, 'fed-back alerts are not counted as late events');
});

test('--strict stops at a bad record but processes the events accepted before it, stateful rules included', async () => {
  const p = join(mkdtempSync(join(tmpdir(), 'oktopus-scan-')), 'strict.ndjson');
  writeFileSync(p, [0, 1, 2].map((m) => JSON.stringify(logEvent({ uuid: `t${m}`, published: at(m), actor: user }))).join('\n') + '\n{"broken\n');
  const { alerts, result } = await scan(p, { strict: true });
  assert.match(result.fatal ?? '', /strict\.ndjson:4: /);
  assert.equal(alerts.length, 1);
});

test('an absurd event time is a bad record, not the end of every window', async () => {
  const events = [
    logEvent({ uuid: 'a0', published: at(0), actor: user }),
    logEvent({ uuid: 'big', published: 1767225600000000 }), // microseconds read as ms: year 57971
    logEvent({ uuid: 'a1', published: at(1), actor: user }),
    logEvent({ uuid: 'a2', published: at(2), actor: user }),
  ];
  const bad: string[] = [];
  const alerts: StoredAlert[] = [];
  await runScan({
    inputs: [file(events)],
    rules: [burst],
    store: new MemoryStore(),
    schema,
    sinks: [{ write: (a) => void alerts.push(a), close: async () => undefined }],
    batchSize: 1,
    onBadRecord: (l) => bad.push(l),
  });
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /:2: published is out of range/);
  assert.equal(alerts.length, 1);
});

test('kill -9 between batches with stateful rules (dedup and a higher-order rule): a rerun gives the alerts of one run', async () => {
  const { spawn } = await import('node:child_process');
  const { readFileSync, existsSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-kill-'));
  const events: object[] = [];
  for (let i = 0; i < 3000; i++) {
    const u = i % 7;
    events.push(logEvent({ uuid: `k${i}`, published: at(i / 4 - (i % 5) * 0.3), actor: { ...user, alternateId: `u${u}@acme.com` } }));
  }
  const input = file(events);
  // A child process runs the scan with the two stateful rules and dies by SIGKILL right after
  // the N-th commit when KILL_AFTER is set (process.kill from inside: a real kill -9).
  const script = join(dir, 'child.mjs');
  const dist = new URL('../src/', import.meta.url).href;
  writeFileSync(
    script,
    `import { runScan } from '${dist}pipeline/scan.js';
import { SqliteStore } from '${dist}store/sqlite.js';
import { NdjsonSink } from '${dist}sinks/ndjson.js';
const [state, out, killAfter] = process.argv.slice(2);
const store = new SqliteStore(state);
let commits = 0;
const commit = store.commit.bind(store);
store.commit = () => { commit(); if (killAfter && ++commits >= Number(killAfter)) process.kill(process.pid, 'SIGKILL'); };
const sink = new NdjsonSink(out);
await runScan({ inputs: [${JSON.stringify(input)}], rules: ${JSON.stringify([burst, onBurst])}, store, schema: { org: 'acme.okta.com' }, sinks: [sink], batchSize: 97 });
await sink.close();
store.close();
`,
  );
  const runChild = (state: string, out: string, killAfter?: number) =>
    new Promise<string | null>((resolve) => {
      const c = spawn(process.execPath, [script, state, out, ...(killAfter ? [String(killAfter)] : [])], { stdio: 'ignore' });
      c.on('exit', (_code, signal) => resolve(signal));
    });
  const ids = (out: string) => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)['kibana.alert.uuid'] as string).sort() : []);

  assert.equal(await runChild(join(dir, 'once.sqlite'), join(dir, 'once.ndjson')), null);
  const expected = ids(join(dir, 'once.ndjson'));
  assert.ok(expected.length > 100);

  const state = join(dir, 'killed.sqlite');
  const out = join(dir, 'killed.ndjson');
  for (const k of [2, 3, 5, 8]) assert.equal(await runChild(state, out, k), 'SIGKILL');
  assert.equal(await runChild(state, out), null);
  const got = ids(out);
  assert.equal(new Set(got).size, got.length, 'no alert twice');
  assert.deepEqual(got, expected, 'none lost');
});
