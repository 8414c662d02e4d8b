import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  locateJsonError,
  MAX_RECORD_BYTES,
  readRecords,
  readRecordsFrom,
  type InputError,
  type InputRecord,
} from '../src/sources/files.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'oktopus-files-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function collect(gen: AsyncGenerator<InputRecord>): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

/** `bytes` read from memory in chunks of `size` bytes: records and errors. */
async function readInChunks(bytes: Uint8Array, size: number, name = 'mem'): Promise<{ records: InputRecord[]; errors: InputError[] }> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const errors: InputError[] = [];
  const records = await collect(readRecordsFrom(chunks(), name, { onError: (e) => errors.push(e) }));
  return { records, errors };
}

async function read(path: string, skip?: number): Promise<{ records: InputRecord[]; errors: InputError[] }> {
  const errors: InputError[] = [];
  const records = await collect(readRecords(path, { skip, onError: (e) => errors.push(e) }));
  return { records, errors };
}

/** Events with the awkward bits a scanner must get right: escapes, braces in strings, UTF-8. */
const EVENTS = [
  { uuid: 'u1', eventType: 'user.session.start', published: '2024-08-13T15:58:20.353Z', displayMessage: 'brace } and bracket ] in "quotes"' },
  { uuid: 'u2', eventType: 'user.session.end', published: '2024-08-13T15:59:00.000Z', actor: { displayName: 'Zoë Ångström 🐙', alternateId: 'back\\slash\\' } },
  { uuid: 'u3', eventType: 'policy.evaluate_sign_on', published: '2024-08-13T16:00:00.000Z', target: [{ id: 'a', detail: { x: [1, [2, { y: ',' }]] } }], debugContext: { debugData: { s: '\\"' } } },
];

test('NDJSON: one record per line, blank lines skipped, CRLF accepted', async () => {
  const text = JSON.stringify(EVENTS[0]) + '\r\n\r\n' + JSON.stringify(EVENTS[1]) + '\n   \n' + JSON.stringify(EVENTS[2]);
  const p = file('a.ndjson', text);
  const { records, errors } = await read(p);
  assert.deepEqual(errors, []);
  assert.deepEqual(records.map((r) => r.value), EVENTS);
  assert.deepEqual(records.map((r) => r.origin), [`${p}:1`, `${p}:3`, `${p}:5`]);
  assert.deepEqual(records.map((r) => r.index), [0, 1, 2]);
});

test('JSON array, pretty-printed: elements streamed with their line', async () => {
  const p = file('a.json', JSON.stringify(EVENTS, null, 2));
  const { records, errors } = await read(p);
  assert.deepEqual(errors, []);
  assert.deepEqual(records.map((r) => r.value), EVENTS);
  assert.equal(records[0]!.origin, `${p}:2`);
  assert.ok(Number(records[1]!.origin.split(':').pop()) > 2);
  // Compact, on one line, and several arrays in a row (API pages).
  const pages = file('pages.json', JSON.stringify(EVENTS.slice(0, 2)) + '\n' + JSON.stringify(EVENTS.slice(2)) + '\n[]\n');
  const r2 = await read(pages);
  assert.deepEqual(r2.errors, []);
  assert.deepEqual(r2.records.map((r) => r.value), EVENTS);
  assert.deepEqual(r2.records.map((r) => r.origin), [`${pages}:1`, `${pages}:1`, `${pages}:2`]);
});

test('a single pretty-printed object, and several in a row', async () => {
  const p = file('one.json', JSON.stringify(EVENTS[1], null, 4) + '\n');
  const { records, errors } = await read(p);
  assert.deepEqual(errors, []);
  assert.deepEqual(records.map((r) => r.value), [EVENTS[1]]);
  assert.equal(records[0]!.origin, `${p}:1`);
  const many = file('many.json', EVENTS.map((e) => JSON.stringify(e, null, 2)).join('\n'));
  const r2 = await read(many);
  assert.deepEqual(r2.errors, []);
  assert.deepEqual(r2.records.map((r) => r.value), EVENTS);
});

test('gzip is detected by magic bytes, whatever the name', async () => {
  const nd = file('events.log', gzipSync(EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n'));
  const r1 = await read(nd);
  assert.deepEqual(r1.errors, []);
  assert.deepEqual(r1.records.map((r) => r.value), EVENTS);
  assert.equal(r1.records[2]!.origin, `${nd}:3`);
  const arr = file('events.dat', gzipSync(JSON.stringify(EVENTS, null, 1)));
  const r2 = await read(arr);
  assert.deepEqual(r2.errors, []);
  assert.deepEqual(r2.records.map((r) => r.value), EVENTS);
});

test('a JSON array split across chunk boundaries anywhere', async () => {
  const text = '\uFEFF' + JSON.stringify(EVENTS, null, 2);
  const bytes = Buffer.from(text, 'utf8');
  for (const size of [1, 2, 3, 5, 7, 13, 64]) {
    const { records, errors } = await readInChunks(bytes, size);
    assert.deepEqual(errors, [], `chunk size ${size}`);
    assert.deepEqual(records.map((r) => r.value), EVENTS, `chunk size ${size}`);
    assert.equal(records[0]!.origin, 'mem:2');
    // Gzip'd, in small chunks too.
    const gz = gzipSync(bytes);
    const { records: gzRecords, errors: gzErrors } = await readInChunks(gz, size, 'mem.gz');
    assert.deepEqual(gzErrors, [], `gzip chunk size ${size}`);
    assert.deepEqual(gzRecords.map((r) => r.value), EVENTS, `gzip chunk size ${size}`);
  }
});

test('NDJSON with a broken line: the error names file:line, good records all come through', async () => {
  const lines = [
    JSON.stringify(EVENTS[0]),
    JSON.stringify(EVENTS[1]),
    JSON.stringify(EVENTS[2]),
    '{"uuid": "broken", "eventType": ',
    JSON.stringify({ ...EVENTS[0], uuid: 'u5' }),
    JSON.stringify({ ...EVENTS[1], uuid: 'u6' }),
  ];
  const p = file('broken.ndjson', lines.join('\n') + '\n');
  const { records, errors } = await read(p);
  assert.equal(records.length, 5);
  assert.deepEqual(records.map((r) => (r.value as { uuid: string }).uuid), ['u1', 'u2', 'u3', 'u5', 'u6']);
  assert.deepEqual(records.map((r) => r.index), [0, 1, 2, 4, 5], 'the broken record has index 3');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.origin, `${p}:4`);
  assert.equal(errors[0]!.index, 3);
  assert.match(errors[0]!.reason, /JSON/);
});

test('JSON array with a broken element and a truncated end', async () => {
  const text = '[\n  {"uuid": "a"},\n  {"uuid": },\n  {"uuid": "c"},\n  {"uuid": "d", "x": [1, 2';
  const p = file('broken.json', text);
  const { records, errors } = await read(p);
  assert.deepEqual(records.map((r) => r.value), [{ uuid: 'a' }, { uuid: 'c' }]);
  assert.deepEqual(records.map((r) => r.index), [0, 2]);
  assert.equal(errors.length, 2);
  assert.equal(errors[0]!.origin, `${p}:3`);
  assert.equal(errors[0]!.index, 1);
  assert.equal(errors[1]!.origin, `${p}:5`);
  assert.equal(errors[1]!.index, 3);
  assert.match(errors[1]!.reason, /truncated/);
  // An array cut right after a complete element: the records are kept, the end is reported.
  const cut = file('cut.json', '[{"uuid": "a"},\n{"uuid": "b"},');
  const r2 = await read(cut);
  assert.deepEqual(r2.records.map((r) => r.value), [{ uuid: 'a' }, { uuid: 'b' }]);
  assert.equal(r2.errors.length, 1);
  assert.match(r2.errors[0]!.reason, /array not closed/);
});

test('garbage binary file: one error, no records', async () => {
  const garbage = Buffer.alloc(8192);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
  garbage[0] = 0x7f;
  const p = file('garbage.bin', garbage);
  const { records, errors } = await read(p);
  assert.deepEqual(records, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.origin, `${p}:1`);
  assert.match(errors[0]!.reason, /binary/);
  // Bytes that start like gzip but are not: a decompression error, nothing else.
  const fake = file('fake.gz', Buffer.concat([Buffer.from([0x1f, 0x8b]), garbage]));
  const r2 = await read(fake);
  assert.deepEqual(r2.records, []);
  assert.equal(r2.errors.length, 1);
  assert.match(r2.errors[0]!.reason, /^gzip: /);
});

test('truncated gzip: what was read is kept, then one error at the end', async () => {
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ ...EVENTS[0], uuid: `u${i}` }));
  const gz = gzipSync(lines.join('\n') + '\n');
  const p = file('truncated.ndjson.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
  const { records, errors } = await read(p);
  assert.ok(records.length > 100 && records.length < 2000, `read ${records.length}`);
  assert.deepEqual(records.slice(0, 3).map((r) => (r.value as { uuid: string }).uuid), ['u0', 'u1', 'u2']);
  const last = errors[errors.length - 1]!;
  assert.match(last.reason, /^gzip: unexpected end of file/);
  assert.ok(last.index >= records.length);
  // At most one partial line before it, reported as a broken record.
  assert.ok(errors.length <= 2);
});

test('skip: resume without parsing the first records', async () => {
  const lines = [JSON.stringify(EVENTS[0]), 'not json', JSON.stringify(EVENTS[1]), JSON.stringify(EVENTS[2])];
  const p = file('skip.ndjson', lines.join('\n'));
  const { records, errors } = await read(p, 2);
  assert.deepEqual(errors, [], 'the broken record was skipped, not parsed');
  assert.deepEqual(records.map((r) => r.index), [2, 3]);
  assert.deepEqual(records.map((r) => r.origin), [`${p}:3`, `${p}:4`]);
  const arr = file('skip.json', JSON.stringify(EVENTS, null, 2));
  const r2 = await read(arr, 1);
  assert.deepEqual(r2.records.map((r) => r.value), EVENTS.slice(1));
  assert.deepEqual(r2.records.map((r) => r.index), [1, 2]);
});

test('empty and whitespace-only files give nothing', async () => {
  assert.deepEqual(await read(file('empty.ndjson', '')), { records: [], errors: [] });
  assert.deepEqual(await read(file('blank.ndjson', '\n  \n\n')), { records: [], errors: [] });
});

test('a file that cannot be opened throws', async () => {
  await assert.rejects(read(join(dir, 'does-not-exist.ndjson')), /ENOENT/);
});

test("stdin with '-'", () => {
  const module = fileURLToPath(new URL('../src/sources/files.js', import.meta.url));
  const script =
    `import { readRecords } from ${JSON.stringify(module)};\n` +
    `const out = []; for await (const r of readRecords('-', { onError: (e) => out.push('E ' + e.origin) })) out.push(r.origin + ' ' + r.value.uuid);\n` +
    `console.log(out.join('|'));`;
  const input = gzipSync(EVENTS.map((e) => JSON.stringify(e)).join('\n'));
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input });
  assert.equal(res.status, 0, res.stderr.toString());
  assert.equal(res.stdout.toString().trim(), 'stdin:1 u1|stdin:2 u2|stdin:3 u3');
});

test('a stray invalid UTF-8 byte does not make a file binary', async () => {
  const latin1 = Buffer.concat([
    Buffer.from('{"uuid":"a","actor":{"displayName":"Ren'),
    Buffer.from([0xe9]), // Latin-1 é
    Buffer.from('"}}\n{"uuid":"b"}\n'),
  ]);
  const { records, errors } = await read(file('latin1.ndjson', latin1));
  assert.deepEqual(errors, []);
  assert.deepEqual(records.map((r) => (r.value as { uuid: string }).uuid), ['a', 'b']);
  assert.equal((records[0]!.value as { actor: { displayName: string } }).actor.displayName, 'Ren\uFFFD');
});

/* Long records, secrets in errors, UTF-16 ------------------------------------------------------- */

const MiB = 1024 * 1024;

test('NDJSON: a 20 MB line is reported and skipped, the records around it come through', async () => {
  assert.equal(MAX_RECORD_BYTES, 16 * MiB);
  const huge = JSON.stringify({ uuid: 'huge', pad: 'x'.repeat(20 * MiB) });
  // Under the cap but spanning several read chunks: kept whole.
  const big = { uuid: 'big', pad: 'y'.repeat(3 * MiB) };
  const lines = [JSON.stringify(EVENTS[0]), huge, JSON.stringify(big), JSON.stringify(EVENTS[1]), huge, JSON.stringify(EVENTS[2])];
  const p = file('long.ndjson', lines.join('\n') + '\n');
  const { records, errors } = await read(p);
  assert.deepEqual(records.map((r) => (r.value as { uuid: string }).uuid), ['u1', 'big', 'u2', 'u3']);
  assert.equal((records[1]!.value as { pad: string }).pad.length, 3 * MiB);
  assert.deepEqual(records.map((r) => r.origin), [`${p}:1`, `${p}:3`, `${p}:4`, `${p}:6`]);
  assert.deepEqual(records.map((r) => r.index), [0, 2, 3, 5], 'the long records have indexes 1 and 4');
  assert.deepEqual(errors, [
    { origin: `${p}:2`, reason: 'record longer than 16 MiB', index: 1 },
    { origin: `${p}:5`, reason: 'record longer than 16 MiB', index: 4 },
  ]);
  // Resuming after it: the long record is counted, not parsed or reported.
  const r2 = await read(p, 2);
  assert.deepEqual(r2.errors.map((e) => e.index), [4]);
  assert.deepEqual(r2.records.map((r) => r.index), [2, 3, 5]);
  // A long first line (format sniffing), and a long last line without its newline; gzip'd too.
  const first = [huge, JSON.stringify(EVENTS[0]), huge].join('\n');
  for (const f of [file('long-first.ndjson', first), file('long-first.ndjson.gz', gzipSync(first))]) {
    const r3 = await read(f);
    assert.deepEqual(r3.records.map((r) => r.value), [EVENTS[0]]);
    assert.deepEqual(r3.records.map((r) => r.origin), [`${f}:2`]);
    assert.deepEqual(r3.errors.map((e) => [e.origin, e.reason, e.index]), [
      [`${f}:1`, 'record longer than 16 MiB', 0],
      [`${f}:3`, 'record longer than 16 MiB', 2],
    ]);
  }
});

test('the record cap counts UTF-8 bytes, and a record of exactly 16 MiB is accepted', async () => {
  const frame = JSON.stringify({ uuid: 'exact', pad: '' }).length;
  const exact = JSON.stringify({ uuid: 'exact', pad: 'z'.repeat(MAX_RECORD_BYTES - frame) });
  assert.equal(exact.length, MAX_RECORD_BYTES);
  const over = JSON.stringify({ uuid: 'above', pad: 'z'.repeat(MAX_RECORD_BYTES - frame + 1) });
  assert.equal(over.length, MAX_RECORD_BYTES + 1);
  // 9 Mi two-byte characters: 18 MiB of UTF-8, 9 Mi UTF-16 code units.
  const wide = JSON.stringify({ uuid: 'wide', pad: 'é'.repeat(9 * MiB) });
  const p = file('exact.ndjson', [exact, over, wide, JSON.stringify(EVENTS[0])].join('\n'));
  const { records, errors } = await read(p);
  assert.deepEqual(records.map((r) => (r.value as { uuid: string }).uuid), ['exact', 'u1']);
  assert.deepEqual(errors.map((e) => [e.origin, e.reason]), [
    [`${p}:2`, 'record longer than 16 MiB'],
    [`${p}:3`, 'record longer than 16 MiB'],
  ]);
});

test('JSON array: an element over 16 MiB is reported and skipped, the others come through', async () => {
  const huge = { uuid: 'huge', pad: 'x'.repeat(17 * MiB), nested: [{ s: '] } ,' }] };
  const p = file('long.json', JSON.stringify([EVENTS[0], huge, EVENTS[1]], null, 1));
  const { records, errors } = await read(p);
  assert.deepEqual(records.map((r) => r.value), [EVENTS[0], EVENTS[1]]);
  assert.deepEqual(records.map((r) => r.index), [0, 2]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.reason, 'record longer than 16 MiB');
  assert.equal(errors[0]!.index, 1);
  assert.equal(errors[0]!.origin, `${p}:${JSON.stringify([EVENTS[0]], null, 1).split('\n').length}`);
  // A source that delivers it all as one 20 MB chunk: same result.
  const bytes = Buffer.from(JSON.stringify([EVENTS[0], huge, EVENTS[1]]));
  const errs: InputError[] = [];
  const recs = await collect(
    readRecordsFrom((async function* () { yield bytes; })(), 'mem', { onError: (e) => errs.push(e) }),
  );
  assert.deepEqual(recs.map((r) => r.value), [EVENTS[0], EVENTS[1]]);
  assert.deepEqual(errs.map((e) => e.reason), ['record longer than 16 MiB']);
});

test('JSON syntax errors never quote the record', async () => {
  const bad = [
    '{"aws": "SECRET_VALUE" x}',
    'SECRET_VALUE',
    '{"token": "SECRET_VALUE",}',
    '{"SECRET_VALUE" 1}',
    '{"k": "SECRET_VALUE\\q"}',
    '{"k": "SECRET_VALUE"',
    '{"k": ["SECRET_VALUE", tru]}',
  ];
  const p = file('secrets.ndjson', [JSON.stringify(EVENTS[0]), ...bad].join('\n'));
  const { records, errors } = await read(p);
  assert.equal(records.length, 1);
  assert.equal(errors.length, bad.length);
  for (const e of errors) {
    assert.ok(!e.reason.includes('SECRET'), e.reason);
    assert.match(e.reason, /^invalid JSON at position \d+: [a-z]/);
  }
  assert.equal(errors[0]!.reason, "invalid JSON at position 23: expected ',' or '}' after property value");
  assert.equal(errors[1]!.reason, 'invalid JSON at position 0: unexpected token');
  assert.equal(errors[2]!.reason, 'invalid JSON at position 25: expected a double-quoted property name');
  // The same in a JSON array and a pretty-printed object.
  const arr = file('secrets.json', '[\n{"a": 1},\n{"aws": "SECRET_VALUE" x},\n{"b": 2}\n]');
  const r2 = await read(arr);
  assert.deepEqual(r2.records.map((r) => r.value), [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(r2.errors.map((e) => [e.origin, e.reason]), [
    [`${arr}:3`, "invalid JSON at position 23: expected ',' or '}' after property value"],
  ]);
});

test('the JSON error locator agrees with JSON.parse (validity and position)', () => {
  const samples = [
    JSON.stringify(EVENTS),
    JSON.stringify(EVENTS[2], null, 2),
    '{"n": [-0, 1.5e+3, -2E-2, 0.25, 1e9], "s": "\\u00e9\\n\\"\\\\\\/", "t": true, "f": false, "z": null}',
    '"just a string"', '42', '[]', '{}', ' [ ] ',
  ];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '{}[]",:\\ \n0123456789-+.eEtrufalsn\u0001x/';
  let invalid = 0;
  for (let round = 0; round < 3000; round++) {
    let s = samples[round % samples.length]!;
    const edits = 1 + rand(3);
    for (let k = 0; k < edits; k++) {
      const at = rand(s.length + 1);
      const what = rand(3);
      const ch = alphabet[rand(alphabet.length)]!;
      if (what === 0) s = s.slice(0, at) + ch + s.slice(at);
      else if (what === 1) s = s.slice(0, at) + s.slice(at + 1);
      else s = s.slice(0, at);
    }
    let v8: string | undefined;
    try {
      JSON.parse(s);
    } catch (e) {
      v8 = (e as Error).message;
    }
    const found = locateJsonError(s);
    assert.equal(found === undefined, v8 === undefined, `${JSON.stringify(s)}: ${v8} / ${JSON.stringify(found)}`);
    if (v8 === undefined) continue;
    invalid++;
    const pos = /at position (\d+)/.exec(v8);
    if (pos) assert.equal(found!.pos, Number(pos[1]), `${JSON.stringify(s)}: ${v8} / ${JSON.stringify(found)}`);
  }
  assert.ok(invalid > 1000);
  // Any depth, no recursion.
  assert.equal(locateJsonError('['.repeat(100000) + ']'.repeat(100000)), undefined);
  assert.deepEqual(locateJsonError('['.repeat(100000)), { pos: 100000, what: 'unexpected end of input' });
});

test('UTF-16 LE/BE with a byte-order mark (PowerShell exports), and UTF-8 with one', async () => {
  const ndjson = EVENTS.map((e) => JSON.stringify(e)).join('\r\n') + '\r\n';
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ndjson, 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(ndjson, 'utf16le').swap16()]);
  const u8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ndjson, 'utf8')]);
  for (const [name, bytes] of [['le.ndjson', le], ['be.ndjson', be], ['bom8.ndjson', u8], ['le.ndjson.gz', gzipSync(le)]] as const) {
    const p = file(name, bytes);
    const { records, errors } = await read(p);
    assert.deepEqual(errors, [], name);
    assert.deepEqual(records.map((r) => r.value), EVENTS, name);
    assert.deepEqual(records.map((r) => r.origin), [`${p}:1`, `${p}:2`, `${p}:3`], name);
  }
  // A pretty-printed array (ConvertTo-Json | Out-File), delivered in odd-sized chunks.
  const array = JSON.stringify(EVENTS, null, 4);
  const arrays = [
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(array, 'utf16le')]),
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(array, 'utf16le').swap16()]),
  ];
  for (const bytes of arrays) {
    for (const size of [1, 3, 7, 4096]) {
      const { records, errors } = await readInChunks(bytes, size);
      assert.deepEqual(errors, [], `chunk size ${size}`);
      assert.deepEqual(records.map((r) => r.value), EVENTS, `chunk size ${size}`);
    }
  }
});
