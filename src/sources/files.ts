/**
 * Reading input files into records.
 *
 * The format is detected from the content, not the name:
 *  - gzip (magic bytes 1f 8b) is decompressed first, whatever the name;
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
 * goes on. A truncated or corrupt gzip stream is one InputError at the end; what was read before
 * is kept. Content that is binary from the start (NULs, mostly invalid UTF-8) is one InputError
 * and nothing else.
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

const CHUNK = 1 << 20;

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

/** Decoded UTF-8 text chunks; gzip detected from the first two bytes. */
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
    const decoder = new StringDecoder('utf8');
    const bytes = head[0] === 0x1f && head[1] === 0x8b ? gunzip(head, it) : passThrough(head, it);
    for await (const b of bytes) {
      const s = decoder.write(b as Buffer);
      if (s) yield s;
    }
    const tail = decoder.end();
    if (tail) yield tail;
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

/** Decide from the text seen so far; undefined = need more (unless at end of input). */
function detect(head: string, eof: boolean): Mode | undefined {
  if (looksBinary(head.length > 4096 ? head.slice(0, 4096) : head)) return 'binary';
  let i = 0;
  while (i < head.length && isWs(head.charCodeAt(i))) i++;
  if (i === head.length) return eof ? 'empty' : undefined;
  const c = head[i];
  if (c === '[') return 'scan';
  if (c !== '{') return 'ndjson';
  const nl = head.indexOf('\n', i);
  if (nl < 0) return eof ? 'ndjson' : undefined;
  if (head.slice(i, nl).trimEnd().endsWith('}')) return 'ndjson';
  // First line is not a whole object: NDJSON only if the next non-blank line starts with '{'.
  let j = nl + 1;
  for (;;) {
    if (j >= head.length) return eof ? 'scan' : undefined;
    const lineEnd = head.indexOf('\n', j);
    const end = lineEnd < 0 ? head.length : lineEnd;
    const line = head.slice(j, end);
    if (line.trim() !== '') return line[0] === '{' ? 'ndjson' : 'scan';
    if (lineEnd < 0) return eof ? 'scan' : undefined;
    j = lineEnd + 1;
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

function parseError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/* ------------------------------------------------------------------------------------------ */
/* Records                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Records of a file (`-` = stdin). */
export function readRecords(path: string, opts: ReadOptions): AsyncGenerator<InputRecord> {
  return readRecordsFrom(openBytes(path), displayName(path), opts);
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
    // Sniff the format.
    let head = '';
    let eof = false;
    let mode: Mode | undefined;
    while (mode === undefined) {
      const c = await nextChunk();
      if (c === undefined) eof = true;
      else head += c;
      if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
      mode = detect(head, eof);
    }

    let index = 0;
    let line = 0; // newlines consumed so far
    if (mode === 'binary') {
      opts.onError({ origin: `${name}:1`, reason: 'not JSON or NDJSON (binary content)', index: 0 });
      return;
    }

    if (mode === 'ndjson') {
      let buf = head;
      for (;;) {
        let pos = 0;
        for (;;) {
          const nl = buf.indexOf('\n', pos);
          if (nl < 0) break;
          line++;
          const start = pos;
          pos = nl + 1;
          if (isBlank(buf, start, nl)) continue;
          if (index < skip) {
            index++;
            continue;
          }
          let value: unknown;
          try {
            value = JSON.parse(buf.slice(start, nl));
          } catch (e) {
            opts.onError({ origin: `${name}:${line}`, reason: parseError(e), index: index++ });
            continue;
          }
          yield { value, origin: `${name}:${line}`, index: index++ };
        }
        const rest = pos === 0 ? buf : buf.slice(pos);
        const c = eof ? undefined : await nextChunk();
        if (c === undefined) {
          eof = true;
          if (!isBlank(rest, 0, rest.length)) {
            line++;
            if (index < skip) index++;
            else {
              let value: unknown;
              let ok = true;
              try {
                value = JSON.parse(rest);
              } catch (e) {
                ok = false;
                opts.onError({ origin: `${name}:${line}`, reason: parseError(e), index: index++ });
              }
              if (ok) yield { value, origin: `${name}:${line}`, index: index++ };
            }
          }
          break;
        }
        buf = rest + c;
      }
    } else if (mode === 'scan') {
      const scanner = new Scanner();
      let text: string | undefined = head;
      while (text !== undefined) {
        for (const el of scanner.feed(text)) {
          if (index < skip) {
            index++;
            continue;
          }
          const r = parseElement(el, name, index++, opts);
          if (r) yield r;
        }
        text = eof ? undefined : await nextChunk();
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
    opts.onError({ origin, reason: parseError(e), index });
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
    if (this.inElem) this.parts.push(s.slice(start));
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
    return [{ text: text.trim(), line: this.elemLine }];
  }

  private take(s: string, start: number, end: number): Element {
    let text = s.slice(start, end);
    if (this.parts.length > 0) {
      this.parts.push(text);
      text = this.parts.join('');
      this.parts = [];
    }
    this.inElem = false;
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

/* ------------------------------------------------------------------------------------------ */
/* Raw lines                                                                                   */
/* ------------------------------------------------------------------------------------------ */

export interface InputLine {
  text: string;
  /** 1-based line number. */
  line: number;
}

/**
 * The non-blank lines of a file (`-` = stdin), gzip decompressed, not parsed: for a raw-line
 * prefilter in front of JSON.parse. A truncated gzip stream goes to `onError` at the end (or
 * throws when no handler is given).
 */
export async function* readLines(path: string, onError?: (e: InputError) => void): AsyncGenerator<InputLine> {
  const name = displayName(path);
  const chunks = textChunks(openBytes(path));
  let buf = '';
  let line = 0;
  let first = true;
  try {
    for (;;) {
      let c: string | undefined;
      try {
        const r = await chunks.next();
        c = r.done ? undefined : r.value;
      } catch (e) {
        if (!(e instanceof DecompressError)) throw e;
        if (!onError) throw e;
        if (!isBlank(buf, 0, buf.length)) yield { text: buf, line: line + 1 };
        onError({ origin: `${name}:${line + 1}`, reason: e.message, index: -1 });
        return;
      }
      if (c === undefined) {
        if (!isBlank(buf, 0, buf.length)) yield { text: buf, line: line + 1 };
        return;
      }
      buf = buf + c;
      if (first && buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
      first = false;
      let pos = 0;
      for (;;) {
        const nl = buf.indexOf('\n', pos);
        if (nl < 0) break;
        line++;
        if (!isBlank(buf, pos, nl)) yield { text: buf.slice(pos, nl), line };
        pos = nl + 1;
      }
      buf = buf.slice(pos);
    }
  } finally {
    await chunks.return(undefined);
  }
}
