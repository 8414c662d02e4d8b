/**
 * Test helpers for enrichment: a tiny MaxMind DB (MMDB) writer, so the tests make their own
 * small databases (format: https://maxmind.github.io/MaxMind-DB/ — an IPv6 search tree with
 * 32-bit records, IPv4 under ::/96, a data section, and the metadata map at the end).
 */
import ipaddr from 'ipaddr.js';

type Value = string | number | boolean | Value[] | { [k: string]: Value };

function ctrl(type: number, size: number): Buffer {
  const ext = type > 7;
  const t = ext ? 0 : type;
  let sizeBits: number;
  let extra: Buffer = Buffer.alloc(0);
  if (size < 29) sizeBits = size;
  else if (size < 285) {
    sizeBits = 29;
    extra = Buffer.from([size - 29]);
  } else if (size < 65821) {
    sizeBits = 30;
    extra = Buffer.alloc(2);
    extra.writeUInt16BE(size - 285);
  } else {
    sizeBits = 31;
    const n = size - 65821;
    extra = Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  }
  const first = Buffer.from([(t << 5) | sizeBits]);
  return Buffer.concat(ext ? [first, Buffer.from([type - 7]), extra] : [first, extra]);
}

function uintBytes(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  while (v > 0n) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(out);
}

export function encode(v: Value | bigint, as?: 'uint16' | 'uint32' | 'uint64' | 'double'): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === 'boolean') return ctrl(14, v ? 1 : 0);
  if (typeof v === 'bigint' || (typeof v === 'number' && as && as !== 'double')) {
    const b = uintBytes(v);
    return Buffer.concat([ctrl(as === 'uint16' ? 5 : as === 'uint64' || typeof v === 'bigint' ? 9 : 6, b.length), b]);
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && as !== 'double' && v < 2 ** 32) {
      const b = uintBytes(v);
      return Buffer.concat([ctrl(6, b.length), b]);
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return Buffer.concat([ctrl(3, 8), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map((x) => encode(x))]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

interface Node {
  rec: [Rec, Rec];
}
type Rec = { node: Node } | { data: number } | null;

/** Bits of a network as a 128-bit IPv6 prefix (IPv4 under ::/96). */
function networkBits(cidr: string): number[] {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bytes = addr.kind() === 'ipv4' ? [...new Array(12).fill(0), ...addr.toByteArray()] : addr.toByteArray();
  const bits = addr.kind() === 'ipv4' ? len + 96 : len;
  const out: number[] = [];
  for (let i = 0; i < bits; i++) out.push((bytes[i >> 3]! >> (7 - (i & 7))) & 1);
  return out;
}

/**
 * An MMDB holding `records` (CIDR → record). `corrupt` damages it: 'metadata' drops the
 * metadata marker, 'tree' makes the root point past the data section, 'truncate' cuts the file.
 */
export function writeMmdb(records: Record<string, Value>, opts: { databaseType?: string; corrupt?: 'metadata' | 'tree' | 'truncate' } = {}): Buffer {
  const dataParts: Buffer[] = [];
  let dataLen = 0;
  const root: Node = { rec: [null, null] };
  const nets = Object.entries(records).map(([cidr, rec]) => ({ bits: networkBits(cidr), rec })).sort((a, b) => a.bits.length - b.bits.length);
  for (const { bits, rec } of nets) {
    const enc = encode(rec);
    const offset = dataLen;
    dataParts.push(enc);
    dataLen += enc.length;
    let node = root;
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i]!;
      if (i === bits.length - 1) {
        node.rec[b] = { data: offset };
        break;
      }
      let r = node.rec[b]!;
      if (r === null || 'data' in r) {
        const child: Node = { rec: [r, r] };
        node.rec[b] = { node: child };
        r = node.rec[b]!;
      }
      node = (r as { node: Node }).node;
    }
  }
  // Number the nodes breadth-first.
  const order: Node[] = [];
  const index = new Map<Node, number>();
  const queue = [root];
  while (queue.length) {
    const n = queue.shift()!;
    index.set(n, order.length);
    order.push(n);
    for (const r of n.rec) if (r && 'node' in r) queue.push(r.node);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 8);
  order.forEach((n, i) => {
    n.rec.forEach((r, j) => {
      const v = r === null ? nodeCount : 'node' in r ? index.get(r.node)! : nodeCount + 16 + r.data;
      tree.writeUInt32BE(opts.corrupt === 'tree' && i === 0 ? 0xfffffff0 : v, i * 8 + j * 4);
    });
  });
  const meta = Buffer.concat([
    ctrl(7, 9),
    encode('node_count'), encode(nodeCount, 'uint32'),
    encode('record_size'), encode(32, 'uint16'),
    encode('ip_version'), encode(6, 'uint16'),
    encode('database_type'), encode(opts.databaseType ?? 'Test-City'),
    encode('languages'), encode(['en']),
    encode('binary_format_major_version'), encode(2, 'uint16'),
    encode('binary_format_minor_version'), encode(0, 'uint16'),
    encode('build_epoch'), encode(1767225600, 'uint64'),
    encode('description'), encode({ en: 'oktopus test database' }),
  ]);
  const marker = Buffer.from(opts.corrupt === 'metadata' ? 'not-a-maxmind-db' : '\xAB\xCD\xEFMaxMind.com', opts.corrupt === 'metadata' ? 'utf8' : 'latin1');
  const file = Buffer.concat([tree, Buffer.alloc(16), ...dataParts, marker, meta]);
  return opts.corrupt === 'truncate' ? file.subarray(0, Math.floor(file.length / 3)) : file;
}

/** A GeoLite2-City-shaped record. */
export function cityRecord(cc: string, city: string, lat: number, lon: number): Value {
  return { city: { names: { en: city } }, country: { iso_code: cc, names: { en: cc } }, location: { latitude: lat, longitude: lon, time_zone: 'UTC' } };
}

export function asnRecord(asn: number, org: string): Value {
  return { autonomous_system_number: asn, autonomous_system_organization: org };
}
