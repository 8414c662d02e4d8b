/** The V8 heap growing factor a scan sets (src/pipeline/heap.ts), and the user's own value kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, limitHeapGrowth, userSetHeapGrowth } from '../src/pipeline/heap.js';

test('a --heap-growing-percent given to node or in NODE_OPTIONS is the user\'s choice', () => {
  assert.equal(userSetHeapGrowth([], ''), false);
  assert.equal(userSetHeapGrowth(['--max-old-space-size=4096', '--enable-source-maps'], '--trace-warnings'), false);
  assert.equal(userSetHeapGrowth(['--heap-growing-percent=20'], ''), true);
  assert.equal(userSetHeapGrowth(['--heap_growing_percent=20'], ''), true);
  assert.equal(userSetHeapGrowth([], '--trace-warnings --heap-growing-percent=80'), true);
  // A longer flag that merely starts with the same letters is not it.
  assert.equal(userSetHeapGrowth(['--heap-growing-percentage=20'], ''), false);
});

test('without the user\'s own value, a scan sets the growing factor once (1 + 50 %)', () => {
  const inForce = userSetHeapGrowth() ? undefined : HEAP_GROWING_PERCENT;
  assert.equal(limitHeapGrowth(), inForce);
  assert.equal(limitHeapGrowth(), inForce, 'a second scan in the same process changes nothing');
});
