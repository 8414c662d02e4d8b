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
