/**
 * The end of a scan's input and time-bound windows: an EQL sequence waiting on a trailing missing
 * step is decided when event time passes maxspan. A one-off scan (`closeWindows`, implied by
 * `--memory`) treats the end of the input as the end of time; a resumable scan leaves the window
 * open, and a later scan whose events move time past it raises the alert then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScan } from '../src/pipeline/scan.js';
import { MemoryStore } from '../src/store/memory.js';
import type { StoredAlert } from '../src/store/types.js';
import type { RuleIR } from '../src/ir/types.js';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import { logEvent } from './helpers.js';

const RULE = `[metadata]
creation_date = "2026/11/21"
[rule]
rule_id = "mfa-no-reactivation"
name = "MFA deactivation without reactivation"
description = "test"
type = "eql"
language = "eql"
index = ["logs-okta.system*"]
risk_score = 21
severity = "low"
query = '''
sequence by okta.actor.id with maxspan=12h
  [any where okta.event_type == "user.mfa.factor.deactivate"]
  ![any where okta.event_type == "user.mfa.factor.activate"]
'''
`;

function rules(): RuleIR[] {
  const parsed = parseElastic(RULE, 'mfa.toml');
  assert.equal(parsed.unsupported.length, 0, JSON.stringify(parsed.unsupported));
  return parsed.rules;
}

function file(name: string, events: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-close-'));
  const path = join(dir, name);
  writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return path;
}

async function scan(path: string, store: MemoryStore, closeWindows: boolean): Promise<StoredAlert[]> {
  const alerts: StoredAlert[] = [];
  await runScan({ inputs: [path], rules: rules(), store, schema: { org: 'acme' }, sinks: [{ write: (a) => alerts.push(a), close: async () => {} }], closeWindows });
  return alerts;
}

const deactivate = logEvent({ uuid: 'd1', eventType: 'user.mfa.factor.deactivate', published: '2026-11-02T09:00:00.000Z' });

test('a one-off scan closes the window of a trailing missing step at the end of the input', async () => {
  const alerts = await scan(file('a.ndjson', [deactivate]), new MemoryStore(), true);
  assert.equal(alerts.filter((a) => a.doc['kibana.alert.group.index'] === undefined).length, 1);
});

test('a resumable scan leaves it open; a later scan past maxspan raises it, a reactivation in time prevents it', async () => {
  const store = new MemoryStore();
  assert.equal((await scan(file('a.ndjson', [deactivate]), store, false)).length, 0, 'not decided yet');
  const later = logEvent({ uuid: 'x1', eventType: 'user.session.start', published: '2026-11-02T21:30:00.000Z' });
  const shells = (await scan(file('b.ndjson', [later]), store, false)).filter((a) => a.doc['kibana.alert.group.index'] === undefined);
  assert.equal(shells.length, 1, '12 hours passed without a reactivation');

  const other = new MemoryStore();
  await scan(file('c.ndjson', [deactivate]), other, false);
  const reactivate = logEvent({ uuid: 'r1', eventType: 'user.mfa.factor.activate', published: '2026-11-02T10:00:00.000Z' });
  assert.equal((await scan(file('d.ndjson', [reactivate, later]), other, false)).length, 0);
});
