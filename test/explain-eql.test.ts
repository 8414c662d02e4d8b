/** `explain` on EQL sequences: durations as EQL writes them; missing steps and `until` are exclusions, not indicators. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseElastic } from '../src/dialects/elastic/dialect.js';
import { explain, formatDuration } from '../src/explain/explain.js';

function eqlRule(query: string) {
  const text = `[rule]\nrule_id = "r"\nname = "r"\ndescription = "d"\ntype = "eql"\nlanguage = "eql"\nindex = ["logs-okta.system*"]\nrisk_score = 21\nseverity = "low"\nquery = '''\n${query}\n'''\n`;
  const parsed = parseElastic(text, 'r.toml');
  assert.equal(parsed.rules.length, 1, JSON.stringify(parsed.unsupported));
  return parsed.rules[0]!;
}

test('formatDuration: the largest unit that divides the span', () => {
  assert.equal(formatDuration(12 * 3_600_000), '12h');
  assert.equal(formatDuration(30 * 60_000), '30m');
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(2 * 86_400_000), '2d');
});

test('a missing step and until are exclusions; the steps are the indicators and the event types covered', () => {
  const e = explain(
    eqlRule(`sequence by okta.target.id with maxspan=12h
  [any where okta.event_type == "user.mfa.factor.deactivate"]
  ![any where okta.event_type == "user.mfa.factor.activate"]
until [any where okta.event_type == "user.lifecycle.delete.initiated"]`),
  );
  const seq = e.stages.find((s) => s.type === 'sequence')!;
  assert.match(seq.text, /with maxspan=12h/);
  assert.match(seq.text, /!\[/);
  assert.deepEqual(e.eventTypes, ['user.mfa.factor.deactivate']);
  const ind = e.indicators.flatMap((i) => i.values.map(String));
  const exc = e.exclusions.flatMap((i) => i.values.map(String));
  assert.ok(ind.includes('user.mfa.factor.deactivate'));
  assert.ok(!ind.includes('user.mfa.factor.activate'));
  assert.ok(exc.includes('user.mfa.factor.activate') && exc.includes('user.lifecycle.delete.initiated'));
});
