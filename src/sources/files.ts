/**
 * Reading input files into records.
 *
 * The format is detected from the content, not the name:
 *  - gzip (magic bytes 1f 8b) is decompressed first, whatever the name;
 *  - text encoding: UTF-8, or UTF-16 LE/BE when the text starts with their byte-order mark
 *    (PowerShell's default export); a UTF-8 BOM is dropped;
 *  - NDJSON: one JSON value per line; the first non-blank line ends with `}`, or the next
 *    non-blank line starts with `{` in its first column. Lines are split by hand on '\n' in big
 *    chunks and each is JSON.parse'd: this is the parse-only ceiling of the benchmark;
 *  - a JSON array (`[{…}, {…}]`, also several arrays in a row, e.g. one API page per line):
 *    streamed, its top-level elements split by a small scanner that tracks strings, escapes and
 *    depth, so a 1 GB array is never held or parsed whole;
 *  - a single JSON object, possibly pretty-printed over many lines (or several in a row): the
 *    same scanner.
 * Blank lines are skipped. A broken record (bad JSON line, truncated element) is reported
 * through `onError` as `path:line` + reason, counts as a record (it has an index), and reading
 * goes on. Reasons never quote the record's text (logs may hold secrets): a JSON syntax error is
 * `invalid JSON at position N: <what>`. A record longer than MAX_RECORD_BYTES is such a broken
 * record (`record longer than 16 MiB`); it is skipped up to its end without being held, so no
 * line, however long, is held or scanned more than once. A truncated or corrupt gzip stream is
 * one InputError at the end; what was read before is kept. Content that is binary from the start
 * (NULs, mostly invalid UTF-8) is one InputError and nothing else.
 * Failing to open or read the file (ENOENT, EISDIR…) throws.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

export interface InputRecord {
  value: unknown;
  /** `path:line` (line of the record's first character, 1-based). */
  origin: string;
  /** 0-based record ordinal in this input (broken records count). */
  index: number;
}

export interface InputError {
  origin: string;
  reason: string;
  index: number;
}

export interface ReadOptions {
  /** Records to skip without parsing (resume). */
  skip?: number;
  onError: (e: InputError) => void;
}

/**
 * Longest record accepted (its text as UTF-8, line end excluded); a longer one is a broken
 * record, skipped without being held in memory.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const TOO_LONG = 'record longer than 16 MiB';

/**
 * Read size, and the largest piece of bytes decoded at once: every text chunk below holds at
 * most CHUNK bytes' worth of text, whatever the source delivers. 64 KiB keeps each decoded
 * chunk (and the lines sliced from it, which hold it alive until they are parsed) under V8's
 * large-object size (128 KiB): with 1 MiB chunks every chunk was a large object of its own,
 * about 12 MB more RSS in a scan of a file (docs/performance.md, "Memory").
 */
const CHUNK = 1 << 16;

/** A zlib failure (truncated or corrupt stream): reported at the end, not thrown. */
class DecompressError extends Error {}

/* ------------------------------------------------------------------------------------------ */
/* Bytes -> text                                                                               */
/* ------------------------------------------------------------------------------------------ */

function openBytes(path: string): AsyncIterable<Uint8Array> {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK });
}

function displayName(path: string): string {
  return path === '-' ? 'stdin' : path;
}

async function* gunzip(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = Readable.from(passThrough(first, rest), { objectMode: false });
  const gz = createGunzip({ chunkSize: 1 << 16 });
  let readError: Error | undefined;
  input.on('error', (e) => {
    readError = e;
    gz.destroy(e);
  });
  input.pipe(gz);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (e) {
    if (readError) throw readError;
    throw new DecompressError(`gzip: ${(e as Error).message}`);
  } finally {
    input.destroy();
    gz.destroy();
  }
}

async function* passThrough(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

interface TextDecoding {
  write(b: Uint8Array): string;
  end(): string;
}

/** UTF-16 BE as byte-swapped UTF-16 LE (no ICU needed); an odd byte waits for its pair. */
class Utf16BeDecoder implements TextDecoding {
  private le = new StringDecoder('utf16le');
  private odd: number | undefined;

  write(b: Uint8Array): string {
    if (b.length === 0) return '';
    const lead = this.odd === undefined ? 0 : 1;
    const total = lead + b.length;
    const even = total - (total % 2);
    const buf = Buffer.allocUnsafe(even);
    if (lead) buf[0] = this.odd!;
    buf.set(b.subarray(0, even - lead), lead);
    this.odd = total % 2 ? b[b.length - 1] : undefined;
    return this.le.write(buf.swap16());
  }

  end(): string {
    this.odd = undefined;
    return this.le.end();
  }
}

/** The decoder for text starting with `head`, and the length of its byte-order mark. */
function pickDecoder(head: Uint8Array): { decoder: TextDecoding; bom: number } {
  if (head[0] === 0xff && head[1] === 0xfe) return { decoder: new StringDecoder('utf16le'), bom: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { decoder: new Utf16BeDecoder(), bom: 2 };
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return { decoder: new StringDecoder('utf8'), bom };
}

/** Decoded text chunks (each from at most CHUNK bytes); the encoding chosen by the byte-order mark, dropped. */
async function* decodeText(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let decoder: TextDecoding | undefined;
  let head: Uint8Array | undefined;
  for await (const b of bytes) {
    let chunk = b;
    if (!decoder) {
      // Gather three bytes to look for a byte-order mark (stdin may deliver tiny chunks).
      head = head ? Buffer.concat([head, b]) : b;
      if (head.length < 3) continue;
      const picked = pickDecoder(head);
      decoder = picked.decoder;
      chunk = head.subarray(picked.bom);
      head = undefined;
    }
    if (chunk.length <= CHUNK) {
      const s = decoder.write(chunk);
      if (s) yield s;
    } else {
      for (let i = 0; i < chunk.length; i += CHUNK) {
        const s = decoder.write(chunk.subarray(i, i + CHUNK));
        if (s) yield s;
      }
    }
  }
  if (!decoder) {
    if (!head) return;
    const picked = pickDecoder(head);
    decoder = picked.decoder;
    const s = decoder.write(head.subarray(picked.bom));
    if (s) yield s;
  }
  const tail = decoder.end();
  if (tail) yield tail;
}

/** Decoded text chunks; gzip detected from the first two bytes. */
async function* textChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const it = source[Symbol.asyncIterator]();
  try {
    // Gather at least two bytes to look for the gzip magic (stdin may deliver tiny chunks).
    let head: Uint8Array | undefined;
    while (!head || head.length < 2) {
      const r = await it.next();
      if (r.done) break;
      head = head ? Buffer.concat([head, r.value]) : r.value;
    }
    if (!head) return;
    yield* decodeText(head[0] === 0x1f && head[1] === 0x8b ? gunzip(head, it) : passThrough(head, it));
  } finally {
    await it.return?.();
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Format detection                                                                            */
/* ------------------------------------------------------------------------------------------ */

type Mode = 'ndjson' | 'scan' | 'binary' | 'empty';

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

const BINARY_PROBE = 4096;

/**
 * Decides the format from the first chunks, each char looked at once. Phases: leading
 * whitespace; the first line (when it starts with `{`: does it end with `}`?); the start of
 * the next non-blank line (`{` in the first column?). Never holds more than MAX_RECORD_BYTES of
 * text undecided: past that, a first line still open is one long NDJSON record (so is a file of
 * nothing but blanks so far), and blank lines after an open first line make a scan.
 */
class Sniffer {
  private phase: 'lead' | 'first' | 'next' = 'lead';
  private probe = '';
  private held = 0;
  /** Last non-blank char of the first line so far. */
  private lastNonWs = 0;
  /** Phase 'next': the previous char was a newline (column 1). */
  private lineStart = true;

  /** The mode, or undefined to see more. */
  feed(s: string): Mode | undefined {
    if (this.probe.length < BINARY_PROBE) {
      this.probe += s.slice(0, BINARY_PROBE - this.probe.length);
      if (looksBinary(this.probe)) return 'binary';
    }
    const n = s.length;
    let i = 0;
    if (this.phase === 'lead') {
      while (i < n && isWs(s.charCodeAt(i))) i++;
      if (i < n) {
        const c = s.charCodeAt(i);
        if (c === LBRACKET) return 'scan';
        if (c !== LBRACE) return 'ndjson';
        this.phase = 'first';
      }
    }
    if (this.phase === 'first') {
      const nl = s.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      let k = end - 1;
      while (k >= i && isWs(s.charCodeAt(k))) k--;
      if (k >= i) this.lastNonWs = s.charCodeAt(k);
      if (nl >= 0) {
        if (this.lastNonWs === RBRACE) return 'ndjson';
        // First line is not a whole object: NDJSON only if the next non-blank line starts with '{'.
        this.phase = 'next';
        i = nl + 1;
        this.lineStart = true;
      }
    }
    if (this.phase === 'next') {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === NEWLINE) this.lineStart = true;
        else if (isWs(c)) this.lineStart = false;
        else return c === LBRACE && this.lineStart ? 'ndjson' : 'scan';
      }
    }
    this.held += n;
    if (this.held > MAX_RECORD_BYTES) return this.phase === 'next' ? 'scan' : 'ndjson';
    return undefined;
  }

  /** At end of input. */
  end(): Mode {
    if (this.phase === 'lead') return 'empty';
    return this.phase === 'first' ? 'ndjson' : 'scan';
  }
}

/**
 * NUL characters, or many invalid UTF-8 sequences (decoded as U+FFFD): not text. A few invalid
 * bytes (a Latin-1 name in an otherwise UTF-8 file) do not make a file binary.
 */
function looksBinary(probe: string): boolean {
  if (probe.includes('\u0000')) return true;
  let bad = 0;
  for (let i = probe.indexOf('\uFFFD'); i >= 0; i = probe.indexOf('\uFFFD', i + 1)) bad++;
  return bad > 8 && bad * 20 > probe.length;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON syntax errors, without the record's text                                               */
/* ------------------------------------------------------------------------------------------ */

/**
 * The reason for a record JSON.parse rejected. V8's messages quote a snippet of the record
 * (`Unexpected token 'x', …"AWS_SECRET"… is not valid JSON`), and records may hold secrets: the
 * reason is rebuilt from the position and the kind of the first syntax error, found again by
 * a small validator (error path only).
 */
export function jsonErrorReason(text: string, e: unknown): string {
  if (e instanceof RangeError) return `invalid JSON: ${e.message}`; // no record text in these
  const found = locateJsonError(text);
  return found ? `invalid JSON at position ${found.pos}: ${found.what}` : 'invalid JSON';
}

const OBJ = 0;
const ARR = 1;

/** The first JSON syntax error in `s` (iterative: any depth), or undefined when `s` is valid JSON. */
export function locateJsonError(s: string): { pos: number; what: string } | undefined {
  const n = s.length;
  const stack: number[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++;
  };
  /** At a '"': skips the string; an error, or undefined. */
  const string = (): string | undefined => {
    i++;
    for (;;) {
      if (i >= n) return 'unterminated string';
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return undefined;
      }
      if (c < 0x20) return 'bad control character in string';
      if (c === BACKSLASH) {
        const e = s.charCodeAt(i + 1);
        if (e === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) {
            const h = s.charCodeAt(i + k);
            const hex = (h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102);
            if (!hex) {
              i += k;
              return i >= n ? 'unterminated string' : 'bad unicode escape in string';
            }
          }
          i += 6;
          continue;
        }
        if (i + 1 >= n) return 'unterminated string';
        // " \ / b f n r t
        if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
          i++;
          return 'bad escape in string';
        }
        i += 2;
        continue;
      }
      i++;
    }
  };
  const digits = (): number => {
    const from = i;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    return i - from;
  };
  const number = (): string | undefined => {
    if (s.charCodeAt(i) === 0x2d /* - */) i++;
    const first = s.charCodeAt(i);
    if (first === 48) i++;
    else if (digits() === 0) return i >= n ? 'unexpected end of input' : 'bad number';
    if (s.charCodeAt(i) === 0x2e /* . */) {
      i++;
      if (digits() === 0) return i >= n ? 'unexpected end of input' : 'bad number';
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (digits() === 0) return i >= n ? 'unexpected end of input' : 'bad number';
    }
    return undefined;
  };
  /** Expects `"key":`; an error, or undefined. */
  const key = (): string | undefined => {
    skipWs();
    if (i >= n) return 'unexpected end of input';
    if (s.charCodeAt(i) !== QUOTE) return 'expected a double-quoted property name';
    const err = string();
    if (err) return err;
    skipWs();
    if (i >= n) return 'unexpected end of input';
    if (s.charCodeAt(i) !== 0x3a /* : */) return "expected ':' after property name";
    i++;
    return undefined;
  };
  const fail = (what: string) => ({ pos: i, what });

  for (;;) {
    // A value.
    skipWs();
    if (i >= n) return fail('unexpected end of input');
    const c = s.charCodeAt(i);
    let err: string | undefined;
    if (c === LBRACE) {
      i++;
      skipWs();
      if (s.charCodeAt(i) === RBRACE) i++;
      else {
        stack.push(OBJ);
        err = key();
        if (err) return fail(err);
        continue;
      }
    } else if (c === LBRACKET) {
      i++;
      skipWs();
      if (s.charCodeAt(i) === RBRACKET) i++;
      else {
        stack.push(ARR);
        continue;
      }
    } else if (c === QUOTE) err = string();
    else if (c === 0x2d || (c >= 48 && c <= 57)) err = number();
    else {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : '';
      let k = 0;
      while (k < word.length && s.charCodeAt(i) === word.charCodeAt(k)) {
        i++;
        k++;
      }
      if (k === 0 || k < word.length) err = i >= n ? 'unexpected end of input' : 'unexpected token';
    }
    if (err) return fail(err);
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      skipWs();
      if (stack.length === 0) return i < n ? fail('unexpected data after the JSON value') : undefined;
      if (i >= n) return fail('unexpected end of input');
      const d = s.charCodeAt(i);
      const top = stack[stack.length - 1];
      if (d === COMMA) {
        i++;
        if (top === OBJ) {
          err = key();
          if (err) return fail(err);
        }
        break;
      }
      if ((top === OBJ && d === RBRACE) || (top === ARR && d === RBRACKET)) {
        stack.pop();
        i++;
        continue;
      }
      return fail(top === OBJ ? "expected ',' or '}' after property value" : "expected ',' or ']' after array element");
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Records                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Records of a file (`-` = stdin). */
export function readRecords(path: string, opts: ReadOptions): AsyncGenerator<InputRecord> {
  return readRecordsFrom(openBytes(path), displayName(path), opts);
}

/**
 * The start of a line that began in an earlier chunk. Its pieces are kept until its newline;
 * past MAX_RECORD_BYTES they are dropped, and only whether the line is blank is followed.
 */
class Carry {
  private parts: string[] = [];
  private bytes = 0;
  private overlong = false;
  private blank = true;

  get pending(): boolean {
    return this.overlong || this.parts.length > 0;
  }

  add(s: string): void {
    if (this.overlong) {
      if (this.blank && !isBlank(s, 0, s.length)) this.blank = false;
      return;
    }
    this.parts.push(s);
    this.bytes += Buffer.byteLength(s, 'utf8');
    if (this.bytes > MAX_RECORD_BYTES) {
      this.overlong = true;
      this.blank = this.parts.every((p) => isBlank(p, 0, p.length));
      this.parts = [];
    }
  }

  /** The whole line, ended by `s`: its text; null when it is too long (a blank one is ''). */
  take(s: string): string | null {
    this.add(s);
    let text: string | null;
    if (this.overlong) text = this.blank ? '' : null;
    else text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    this.overlong = false;
    this.blank = true;
    return text;
  }
}

/**
 * Records of any byte stream (a file, stdin, an HTTP body), same detection and errors as
 * readRecords; `name` prefixes the origins (`name:line`).
 */
export async function* readRecordsFrom(
  source: AsyncIterable<Uint8Array>,
  name: string,
  opts: ReadOptions,
): AsyncGenerator<InputRecord> {
  const skip = opts.skip ?? 0;
  let endError: string | undefined;
  const chunks = textChunks(source);
  async function nextChunk(): Promise<string | undefined> {
    if (endError !== undefined) return undefined;
    try {
      const r = await chunks.next();
      return r.done ? undefined : r.value;
    } catch (e) {
      if (!(e instanceof DecompressError)) throw e;
      endError = e.message;
      return undefined;
    }
  }

  try {
    // Sniff the format; the chunks it needed are read again below.
    const sniffer = new Sniffer();
    const held: string[] = [];
    let mode: Mode | undefined;
    while (mode === undefined) {
      const c = await nextChunk();
      if (c === undefined) mode = sniffer.end();
      else {
        held.push(c);
        mode = sniffer.feed(c);
      }
    }
    let replay = 0;
    const next = (): Promise<string | undefined> | string => {
      if (replay < held.length) {
        const c = held[replay]!;
        held[replay++] = '';
        return c;
      }
      return nextChunk();
    };

    let index = 0;
    let line = 0; // newlines consumed so far
    if (mode === 'binary') {
      opts.onError({ origin: `${name}:1`, reason: 'not JSON or NDJSON (binary content)', index: 0 });
      return;
    }

    /** A line that was split across chunks (null: too long), as a record, or an error. */
    const whole = (text: string | null): InputRecord | undefined => {
      if (text !== null && isBlank(text, 0, text.length)) return undefined;
      if (index < skip) {
        index++;
        return undefined;
      }
      const origin = `${name}:${line}`;
      if (text === null) {
        opts.onError({ origin, reason: TOO_LONG, index: index++ });
        return undefined;
      }
      try {
        return { value: JSON.parse(text), origin, index: index++ };
      } catch (e) {
        opts.onError({ origin, reason: jsonErrorReason(text, e), index: index++ });
        return undefined;
      }
    };

    if (mode === 'ndjson') {
      const carry = new Carry();
      for (let c = await next(); c !== undefined; c = await next()) {
        let pos = 0;
        if (carry.pending) {
          // Only the new chunk is searched for the end of the held line.
          const nl = c.indexOf('\n');
          if (nl < 0) {
            carry.add(c);
            continue;
          }
          line++;
          const r = whole(carry.take(c.slice(0, nl)));
          if (r) yield r;
          pos = nl + 1;
        }
        for (;;) {
          const nl = c.indexOf('\n', pos);
          if (nl < 0) break;
          line++;
          const start = pos;
          pos = nl + 1;
          if (isBlank(c, start, nl)) continue;
          if (index < skip) {
            index++;
            continue;
          }
          // A line within one chunk is shorter than MAX_RECORD_BYTES (chunks are at most CHUNK).
          const text = c.slice(start, nl);
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (e) {
            opts.onError({ origin: `${name}:${line}`, reason: jsonErrorReason(text, e), index: index++ });
            continue;
          }
          yield { value, origin: `${name}:${line}`, index: index++ };
        }
        if (pos < c.length) carry.add(pos === 0 ? c : c.slice(pos));
      }
      if (carry.pending) {
        const text = carry.take('');
        if (text === null || !isBlank(text, 0, text.length)) {
          line++;
          const r = whole(text);
          if (r) yield r;
        }
      }
    } else if (mode === 'scan') {
      const scanner = new Scanner();
      for (let c = await next(); c !== undefined; c = await next()) {
        for (const el of scanner.feed(c)) {
          if (index < skip) {
            index++;
            continue;
          }
          const r = parseElement(el, name, index++, opts);
          if (r) yield r;
        }
      }
      for (const el of scanner.end()) {
        if (index < skip) {
          index++;
          continue;
        }
        const r = parseElement(el, name, index++, opts);
        if (r) yield r;
      }
      line = scanner.lines;
      if (scanner.unclosedArrayLine !== undefined && endError === undefined) {
        opts.onError({
          origin: `${name}:${scanner.unclosedArrayLine}`,
          reason: 'unexpected end of input: JSON array not closed',
          index,
        });
      }
    }

    if (endError !== undefined) {
      opts.onError({ origin: `${name}:${line + 1}`, reason: `${endError} (input truncated or corrupt; records before it were read)`, index });
    }
  } finally {
    await chunks.return(undefined);
  }
}

function isBlank(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

function parseElement(el: Element, name: string, index: number, opts: ReadOptions): InputRecord | undefined {
  const origin = `${name}:${el.line}`;
  if (el.error !== undefined) {
    opts.onError({ origin, reason: el.error, index });
    return undefined;
  }
  try {
    return { value: JSON.parse(el.text), origin, index };
  } catch (e) {
    opts.onError({ origin, reason: jsonErrorReason(el.text, e), index });
    return undefined;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Streaming scanner for JSON arrays and (pretty-printed) objects                              */
/* ------------------------------------------------------------------------------------------ */

interface Element {
  text: string;
  /** Line of the element's first character. */
  line: number;
  /** Set when the scanner itself rejects the element (truncated). */
  error?: string;
}

const QUOTE = 34;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const COMMA = 44;
const NEWLINE = 10;

/**
 * Splits a stream of top-level JSON values into records. A top-level array is opened and its
 * elements are the records; a top-level object is one record; anything else at the top level
 * runs to the end of its line and becomes a (broken) record. Chunks may split anywhere.
 * Strings are skipped with indexOf (escapes counted), so long string values cost little.
 * An element longer than MAX_RECORD_BYTES is scanned to its end without being kept, and
 * comes out as a broken record.
 */
class Scanner {
  /** Newlines seen so far (outside strings). */
  lines = 0;
  /** Line where a still-open top-level array began. */
  unclosedArrayLine: number | undefined;

  private inArray = false;
  private inElem = false;
  private inStr = false;
  private esc = false;
  private depth = 0;
  private elemLine = 0;
  /** Element text from earlier chunks. */
  private parts: string[] = [];
  /** UTF-8 length of `parts`. */
  private partBytes = 0;
  /** The current element is over MAX_RECORD_BYTES: its text is no longer kept. */
  private tooLong = false;

  feed(s: string): Element[] {
    const out: Element[] = [];
    const n = s.length;
    let start = 0; // start of the current element in s
    let i = 0;
    while (i < n) {
      if (this.inElem && this.inStr) {
        i = this.skipString(s, i);
        continue;
      }
      const c = s.charCodeAt(i);
      if (!this.inElem) {
        if (c === NEWLINE) this.lines++;
        if (isWs(c)) {
          i++;
          continue;
        }
        if (this.inArray) {
          if (c === RBRACKET) {
            this.inArray = false;
            this.unclosedArrayLine = undefined;
            i++;
            continue;
          }
          if (c === COMMA) {
            // Empty element (`[,` or `,,`): tolerated, nothing to emit.
            i++;
            continue;
          }
        } else if (c === LBRACKET) {
          this.inArray = true;
          this.unclosedArrayLine = this.lines + 1;
          i++;
          continue;
        }
        this.inElem = true;
        this.depth = 0;
        this.elemLine = this.lines + 1;
        this.partBytes = 0;
        this.tooLong = false;
        start = i;
        // fall through: the first character is handled as part of the element
      }
      if (c === QUOTE) {
        this.inStr = true;
        i++;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        this.depth++;
      } else if (c === RBRACE || c === RBRACKET) {
        if (this.depth === 0) {
          if (this.inArray && c === RBRACKET) {
            out.push(this.take(s, start, i));
            this.inArray = false;
            this.unclosedArrayLine = undefined;
            i++;
            continue;
          }
        } else {
          this.depth--;
          if (this.depth === 0 && !this.inArray) {
            out.push(this.take(s, start, i + 1));
            i++;
            continue;
          }
        }
      } else if (c === COMMA) {
        if (this.depth === 0 && this.inArray) {
          out.push(this.take(s, start, i));
          i++;
          continue;
        }
      } else if (c === NEWLINE) {
        this.lines++;
        if (this.depth === 0 && !this.inArray) {
          // A top-level value that is not an object: it ends with its line.
          out.push(this.take(s, start, i));
          i++;
          continue;
        }
      }
      i++;
    }
    if (this.inElem && !this.tooLong) {
      const rest = s.slice(start);
      this.partBytes += Buffer.byteLength(rest, 'utf8');
      if (this.partBytes > MAX_RECORD_BYTES) {
        this.tooLong = true;
        this.parts = [];
      } else this.parts.push(rest);
    }
    return out;
  }

  /** At end of input: a pending element is emitted (scalar) or rejected (truncated). */
  end(): Element[] {
    if (!this.inElem) return [];
    const text = this.parts.join('');
    this.parts = [];
    this.inElem = false;
    if (this.depth > 0 || this.inStr) {
      this.inStr = false;
      // The truncated element is the report; the array it was in is necessarily open too.
      this.unclosedArrayLine = undefined;
      return [{ text, line: this.elemLine, error: 'unexpected end of input: truncated JSON element' }];
    }
    if (this.inArray) {
      // `[1, 2` at end of input: the last element is cut short, whatever it parses to.
      this.unclosedArrayLine = undefined;
      return [{ text, line: this.elemLine, error: 'unexpected end of input: truncated JSON element' }];
    }
    if (this.tooLong) return [{ text: '', line: this.elemLine, error: TOO_LONG }];
    return [{ text: text.trim(), line: this.elemLine }];
  }

  private take(s: string, start: number, end: number): Element {
    this.inElem = false;
    if (this.tooLong) return { text: '', line: this.elemLine, error: TOO_LONG };
    // Within one chunk an element is shorter than MAX_RECORD_BYTES (chunks are at most CHUNK).
    let text = s.slice(start, end);
    if (this.parts.length > 0) {
      const parts = this.parts;
      this.parts = [];
      if (this.partBytes + Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) {
        return { text: '', line: this.elemLine, error: TOO_LONG };
      }
      parts.push(text);
      text = parts.join('');
    }
    return { text: text.trim(), line: this.elemLine };
  }

  /** Inside a string: find its closing quote (not escaped); returns the next index to scan. */
  private skipString(s: string, i: number): number {
    if (this.esc) {
      // The previous chunk ended with an escaping backslash: this character is escaped.
      this.esc = false;
      i++;
    }
    const from = i;
    let j = i;
    for (;;) {
      const q = s.indexOf('"', j);
      if (q < 0) {
        let b = 0;
        for (let k = s.length - 1; k >= from && s.charCodeAt(k) === BACKSLASH; k--) b++;
        this.esc = b % 2 === 1;
        return s.length;
      }
      let b = 0;
      for (let k = q - 1; k >= from && s.charCodeAt(k) === BACKSLASH; k--) b++;
      if (b % 2 === 0) {
        this.inStr = false;
        return q + 1;
      }
      j = q + 1;
    }
  }
}
