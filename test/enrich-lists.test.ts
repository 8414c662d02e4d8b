import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseList } from '../src/enrich/lists.js';
import { IntelIndex, importList, listVersions } from '../src/enrich/intel.js';
import { classify } from '../src/enrich/classify.js';
import { EnrichInputError } from '../src/enrich/errors.js';
import { parseIp } from '../src/enrich/prefix.js';
import { MemoryStore } from '../src/store/memory.js';

const EXIT_ADDRESSES = `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2026-11-20 16:51:52
LastStatus 2026-11-21 00:00:00
ExitAddress 162.247.74.201 2026-11-21 00:06:43
ExitNode 0098C475875ABC4AA864738B1D1079F711C38287
Published 2026-11-20 22:18:27
LastStatus 2026-11-20 23:00:00
ExitAddress 185.220.101.7 2026-11-20 23:05:12
`;

test('Tor lists: bulk exit list and exit-addresses formats', () => {
  assert.deepEqual(parseList('tor', '# tor\n185.220.101.7\n2a0b:f4c2::1\n\n', 'bulk.txt').lines, ['185.220.101.7', '2a0b:f4c2::1']);
  const p = parseList('tor', EXIT_ADDRESSES, 'exit-addresses');
  assert.equal(p.format, 'exit-addresses');
  assert.deepEqual(p.lines, ['162.247.74.201', '185.220.101.7']);
});

test('Apple egress-ip-ranges.csv, CIDR lists with service names, ASN lists', () => {
  const apple = parseList('apple-relay', '172.224.226.0/27,GB,GB-EN,London,\n2a02:26f7:b3c0:4000::/64,US,US-CA,,\n', 'egress-ip-ranges.csv');
  assert.deepEqual(apple.lines, ['172.224.226.0/27\tGB\tGB-EN\tLondon', '2a02:26f7:b3c0:4000::/64\tUS\tUS-CA\t']);
  const vpn = parseList('vpn', '# X4BNet\n149.88.16.0/20 # ProtonVPN\n5.253.204.0/23\n', 'vpn.txt');
  assert.deepEqual(vpn.lines, ['149.88.16.0/20\tProtonVPN', '5.253.204.0/23']);
  const asn = parseList('asn', 'AS9009 M247\n209854 # Surfshark\nas136787,NordVPN\n', 'ASN.txt');
  assert.deepEqual(asn.lines, ['9009\tM247', '209854\tSurfshark', '136787\tNordVPN']);
});

test('a corrupt list fails with one line naming file:line', () => {
  const cases: [Parameters<typeof parseList>[0], string, RegExp][] = [
    ['tor', '185.220.101.7\n185.220.101.999\n', /^bulk\.txt:2: expected an IP address/],
    ['tor', EXIT_ADDRESSES.replace('ExitAddress 185.220.101.7', 'ExitAddress nonsense'), /^bulk\.txt:8: expected an IP address after ExitAddress/],
    ['tor', EXIT_ADDRESSES + 'Garbage here\n', /^bulk\.txt:9: not a line of the Tor exit-addresses format/],
    ['apple-relay', '172.224.226.0/27,GB,GB-EN,London,\n172.224.226.0/99,GB,,,\n', /^bulk\.txt:2: expected a network \(CIDR\) in the first column/],
    ['apple-relay', '172.224.226.0/27,Britain,,,\n', /^bulk\.txt:1: expected a two-letter country code/],
    ['vpn', '1.2.3.0/24\n\n<html>\n', /^bulk\.txt:3: expected an IP address or network/],
    ['asn', 'AS9009\nASXYZ\n', /^bulk\.txt:2: expected an AS number/],
    ['hosting', '# only comments\n', /^bulk\.txt: no entries/],
    ['vpn', '\u0000\u0001binary', /^bulk\.txt:1: binary data/],
  ];
  for (const [kind, text, re] of cases) {
    assert.throws(() => parseList(kind, text, 'bulk.txt'), (e: unknown) => e instanceof EnrichInputError && re.test(e.message) && !e.message.includes('\n'), `${kind}: ${re}`);
  }
});

test('lists are stored versioned with their import date; a failed import keeps the list in use', () => {
  const store = new MemoryStore();
  const d1 = new Date('2026-11-01T00:00:00Z');
  const r1 = importList(store, { kind: 'tor', text: '185.220.101.7\n', source: 'tor1.txt', now: d1 });
  assert.equal(r1.version.version, 1);
  assert.equal(r1.version.imported, d1.toISOString());
  const same = importList(store, { kind: 'tor', text: '185.220.101.7\n', source: 'tor1b.txt', now: new Date('2026-11-02T00:00:00Z') });
  assert.equal(same.unchanged, true);
  assert.equal(same.version.version, 1);
  const r2 = importList(store, { kind: 'tor', text: '185.220.101.8\n', source: 'tor2.txt', now: new Date('2026-11-03T00:00:00Z') });
  assert.equal(r2.version.version, 2);
  assert.throws(() => importList(store, { kind: 'tor', text: 'oops\n', source: 'bad.txt' }), /bad\.txt:1/);
  const v = listVersions(store);
  assert.equal(v.length, 1);
  assert.equal(v[0]!.version, 2);
  assert.equal(v[0]!.source, 'tor2.txt');
  const idx = IntelIndex.fromStore(store);
  assert.equal(idx.match(parseIp('185.220.101.8')!).length, 1);
  assert.equal(idx.match(parseIp('185.220.101.7')!).length, 0, 'version 1 replaced');
});

function indexOf(lists: [Parameters<typeof parseList>[0], string, ('vpn' | 'hosting')?][]): IntelIndex {
  const store = new MemoryStore();
  for (const [kind, text, category] of lists) importList(store, { kind, text, source: `${kind}.txt`, category, now: new Date('2026-11-21T00:00:00Z') });
  return IntelIndex.fromStore(store);
}

test('classification: Okta first (ipServiceCategories, isProxy), then lists; ASN lists by AS number', () => {
  const idx = indexOf([
    ['tor', '185.220.101.7\n'],
    ['apple-relay', '172.225.46.0/24,US,US-CA,Oakland,\n'],
    ['vpn', '149.88.16.0/20 ProtonVPN\n'],
    ['hosting', '149.88.0.0/16\n'],
    ['asn', 'AS9009 M247\n'],
  ]);
  const hits = (ip: string) => idx.match(parseIp(ip)!);
  // Okta's categories name the service and the class.
  const spur = classify({ isProxy: true, ipDetails: { ipServiceCategories: [{ type: 'VPN', operator: 'NORD_VPN', isAnonymous: true }] } }, [], undefined);
  assert.equal(spur.vpn, true);
  assert.equal(spur.proxy, false);
  assert.equal(spur.service, 'NORD_VPN');
  assert.deepEqual(spur.source, ['okta:ipServiceCategories', 'okta:isProxy']);
  // isProxy alone: an anonymizing proxy of unknown kind.
  const bare = classify({ isProxy: true }, [], undefined);
  assert.deepEqual([bare.anonymous, bare.proxy, bare.vpn, bare.service], [true, true, false, null]);
  // Lists refine Okta's verdict; Okta's service name wins over the list's.
  const proton = classify({ isProxy: true }, hits('149.88.26.110'), undefined);
  assert.deepEqual([proton.vpn, proton.hosting, proton.proxy, proton.service], [true, true, false, 'ProtonVPN']);
  assert.equal(proton.source[0], 'okta:isProxy');
  assert.match(proton.source[1]!, /^list:/);
  // Tor though Okta says isProxy false: the list is not cleared.
  const tor = classify({ isProxy: false }, hits('185.220.101.7'), undefined);
  assert.deepEqual([tor.tor, tor.anonymous, tor.service], [true, true, 'Tor']);
  // Apple relay: relay, not proxy (Panther/ipinfo's shape).
  const relay = classify({ isProxy: true }, hits('172.225.46.215'), undefined);
  assert.deepEqual([relay.relay, relay.proxy, relay.service], [true, false, 'Apple Private Relay']);
  // By AS number.
  const m247 = classify({}, [], idx.asn(9009));
  assert.deepEqual([m247.vpn, m247.service, m247.source], [true, 'M247', ['list:asn:vpn@2026-11-21']]);
  // Nothing known.
  const clean = classify({ isProxy: false }, hits('8.8.8.8'), idx.asn(15169));
  assert.deepEqual([clean.anonymous, clean.source], [false, []]);
});
