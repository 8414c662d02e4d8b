import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixTable, nonPublicRange, parseCidr, parseIp } from '../src/enrich/prefix.js';

test('longest-prefix match, IPv4', () => {
  const t = new PrefixTable<string>();
  t.insertText('10.0.0.0/8', 'wide');
  t.insertText('10.1.0.0/16', 'mid');
  t.insertText('10.1.2.0/24', 'narrow');
  t.insertText('10.1.2.3', 'host');
  t.insertText('0.0.0.0/0', 'default');
  assert.deepEqual(t.lookup('10.1.2.3'), { value: 'host', bits: 32 });
  assert.deepEqual(t.lookup('10.1.2.4'), { value: 'narrow', bits: 24 });
  assert.deepEqual(t.lookup('10.1.3.4'), { value: 'mid', bits: 16 });
  assert.deepEqual(t.lookup('10.200.0.1'), { value: 'wide', bits: 8 });
  assert.deepEqual(t.lookup('192.0.2.1'), { value: 'default', bits: 0 });
  assert.equal(t.size, 5);
});

test('longest-prefix match, IPv6, and IPv4-mapped IPv6 addresses read as IPv4', () => {
  const t = new PrefixTable<string>();
  t.insertText('2a02:26f7::/32', 'relay32');
  t.insertText('2a02:26f7:b3c0::/44', 'relay44');
  t.insertText('81.2.69.0/24', 'v4');
  assert.equal(t.lookup('2a02:26f7:b3c0:4000::1')?.value, 'relay44');
  assert.equal(t.lookup('2a02:26f7:1::1')?.value, 'relay32');
  assert.equal(t.lookup('2a02:26f8::1'), undefined, 'unknown IPv6');
  assert.equal(t.lookup('::ffff:81.2.69.160')?.value, 'v4');
  assert.equal(t.lookup('81.2.70.1'), undefined, 'unknown IPv4');
  assert.equal(t.lookup('not an ip'), undefined);
  // IPv4 and IPv6 do not mix: ::/0 matches no IPv4 address.
  t.insertText('::/0', 'all6');
  assert.equal(t.lookup('8.8.8.8'), undefined);
  assert.equal(t.lookup('2001:4860::8888')?.value, 'all6');
});

test('networks are normalised (host bits ignored) and bad networks refused', () => {
  const t = new PrefixTable<number>();
  assert.equal(t.insertText('192.168.1.77/24', 1), true);
  assert.equal(t.lookup('192.168.1.1')?.value, 1);
  assert.equal(parseCidr('1.2.3.4/33'), undefined);
  assert.equal(parseCidr('1.2.3/24'), undefined);
  assert.equal(parseCidr('::/129'), undefined);
  assert.equal(parseCidr('1.2.3.4/x'), undefined);
  assert.equal(parseIp('300.1.1.1'), undefined);
});

test('private and reserved ranges are recognised', () => {
  assert.equal(nonPublicRange('10.1.2.3'), 'private');
  assert.equal(nonPublicRange('192.168.0.1'), 'private');
  assert.equal(nonPublicRange('127.0.0.1'), 'loopback');
  assert.equal(nonPublicRange('fe80::1'), 'linkLocal');
  assert.equal(nonPublicRange('fd00::1'), 'uniqueLocal');
  assert.equal(nonPublicRange('::ffff:10.0.0.1'), 'private');
  assert.equal(nonPublicRange('8.8.8.8'), undefined);
  assert.equal(nonPublicRange('2a00:1450::1'), undefined);
});
