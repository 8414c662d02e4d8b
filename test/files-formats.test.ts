import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readLines, readRecords, readRecordsFrom, type InputError, type InputRecord } from '../src/sources/files.js';

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
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    const errors: InputError[] = [];
    const records = await collect(readRecordsFrom(chunks(), 'mem', { onError: (e) => errors.push(e) }));
    assert.deepEqual(errors, [], `chunk size ${size}`);
    assert.deepEqual(records.map((r) => r.value), EVENTS, `chunk size ${size}`);
    assert.equal(records[0]!.origin, 'mem:2');
    // Gzip'd, in small chunks too.
    const gz = gzipSync(bytes);
    async function* gzChunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < gz.length; i += size) yield gz.subarray(i, i + size);
    }
    const gzErrors: InputError[] = [];
    const gzRecords = await collect(readRecordsFrom(gzChunks(), 'mem.gz', { onError: (e) => gzErrors.push(e) }));
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

test('readLines: raw non-blank lines with their numbers', async () => {
  const p = file('lines.ndjson.gz', gzipSync('{"a":1}\n\n{"b":2}\r\nlast'));
  const lines: [string, number][] = [];
  for await (const l of readLines(p)) lines.push([l.text, l.line]);
  assert.deepEqual(lines, [['{"a":1}', 1], ['{"b":2}\r', 3], ['last', 4]]);
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
