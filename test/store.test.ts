import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../src/store/memory.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { StateStore } from '../src/store/types.js';

const stores: [string, () => StateStore][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'oktopus-')), 'state.sqlite'))],
];

for (const [name, make] of stores) {
  test(`${name} store: key/value state, prefixes and expiry`, () => {
    const s = make();
    s.set('ns', 'a:1', { n: 1 }, 100);
    s.set('ns', 'a:2', [1, 2], 300);
    s.set('ns', 'b:1', 'x');
    s.set('other', 'a:1', true);
    assert.deepEqual(s.get('ns', 'a:1'), { n: 1 });
    assert.equal(s.get('ns', 'missing'), undefined);
    assert.deepEqual([...s.entries('ns', 'a:')].map(([k]) => k), ['a:1', 'a:2']);
    assert.equal(s.expire(200), 1);
    assert.equal(s.get('ns', 'a:1'), undefined);
    assert.deepEqual(s.get('ns', 'a:2'), [1, 2]);
    assert.equal(s.get('ns', 'b:1'), 'x', 'no expiry means kept');
    s.delete('ns', 'b:1');
    assert.equal(s.get('ns', 'b:1'), undefined);
    s.close();
  });

  test(`${name} store: alerts are stored once by id, delivered once`, () => {
    const s = make();
    const a = { uuid: 'u1', ruleId: 'r', time: 5, doc: { x: 1 } };
    assert.equal(s.addAlert(a), true);
    assert.equal(s.addAlert(a), false);
    assert.deepEqual(s.pendingAlerts().map((x) => x.uuid), ['u1']);
    s.markDelivered(['u1']);
    assert.deepEqual(s.pendingAlerts(), []);
    s.updateAlert('u1', { x: 2 });
    assert.deepEqual(s.getAlert('u1')!.doc, { x: 2 });
    assert.deepEqual(s.pendingAlerts().map((x) => x.uuid), ['u1'], 'an update is pending until delivered');
    s.markDelivered(['u1']);
    assert.equal(s.alertCount(), 1);
    s.close();
  });

  test(`${name} store: checkpoints`, () => {
    const s = make();
    assert.equal(s.getCheckpoint('c'), undefined);
    s.setCheckpoint('c', { file: 1, next: 20 });
    assert.deepEqual(s.getCheckpoint('c'), { file: 1, next: 20 });
    s.close();
  });
}

test('sqlite store: a failed transaction leaves nothing behind', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-')), 'state.sqlite');
  const s = new SqliteStore(path);
  assert.throws(() =>
    s.transaction(() => {
      s.set('ns', 'k', 1);
      s.setCheckpoint('c', 1);
      throw new Error('crash in the middle of a batch');
    }),
  );
  assert.equal(s.get('ns', 'k'), undefined);
  assert.equal(s.getCheckpoint('c'), undefined);
  s.close();
  const again = new SqliteStore(path);
  again.set('ns', 'k', 2);
  again.close();
  assert.equal(new SqliteStore(path).get('ns', 'k'), 2, 'state survives reopening');
});

test('sqlite store: a file that is not a database is a clear error', async () => {
  const { writeFileSync } = await import('node:fs');
  const path = join(mkdtempSync(join(tmpdir(), 'oktopus-')), 'garbage.sqlite');
  writeFileSync(path, 'this is not sqlite'.repeat(100));
  assert.throws(() => new SqliteStore(path), /state store .*garbage\.sqlite/);
});
