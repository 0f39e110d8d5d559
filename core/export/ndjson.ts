import { Transform, type TransformCallback } from 'node:stream';
import type { ColumnInfo } from './database.ts';

/**
 * The ndjson export's lines, built in Node from COPY's text format instead of by row_to_json in
 * the server. The lines are byte for byte what `row_to_json(r)::text` writes (export.test.ts and
 * ndjson.test.ts compare the two on every kind of value), but the server only does what a plain
 * COPY does: row_to_json costs PostgreSQL about twice a COPY's time per row, while this
 * conversion runs in the exporting process beside the server, one pass over the bytes.
 *
 * How a column's value becomes JSON, as row_to_json does it for the SELECT list of copySql
 * (numbers, booleans and json/jsonb as they are, everything else cast to text):
 *   - int: smallint, integer, bigint: the text as it is (always a JSON number);
 *   - number: numeric, real, double precision: the text when it is a JSON number, else (NaN,
 *     Infinity) a JSON string, as PostgreSQL's IsValidJsonNumber decides;
 *   - bool: true or false;
 *   - json: json/jsonb's text, as it is;
 *   - string: the text as a JSON string, escaped as PostgreSQL's escape_json does (\" \\ \b \f
 *     \n \r \t, other control characters as \u00xx, everything else as it is), which is also
 *     what JSON.stringify does;
 *   - NULL (COPY's `\N`): null.
 */
export type JsonKind = 'int' | 'number' | 'bool' | 'json' | 'string';

/** The kind of each column, or null when a column's type is one this conversion does not know (then row_to_json writes the lines). */
export function jsonKinds(columns: readonly ColumnInfo[]): JsonKind[] | null {
  const kinds: JsonKind[] = [];
  for (const c of columns) {
    if (c.type === 'json' || c.type === 'jsonb') kinds.push('json');
    else if (c.category === 'N') {
      // Anything else of category N (money, oid, a domain) keeps row_to_json's own rules.
      if (c.type === 'smallint' || c.type === 'integer' || c.type === 'bigint') kinds.push('int');
      else if (/^(numeric(\(\d+(,\d+)?\))?|real|double precision)$/.test(c.type)) kinds.push('number');
      else return null;
    } else if (c.category === 'B') {
      if (c.type !== 'boolean') return null;
      kinds.push('bool');
    } else kinds.push('string');
  }
  return kinds;
}

const TAB = 9;
const LF = 10;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = Buffer.from('0123456789abcdef');
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
/** Output buffers: large enough that the file, gzip and the hash see few chunks, small enough to keep memory flat. */
const OUT_CHUNK = 256 * 1024;

/**
 * Turns COPY … TO STDOUT text-format rows (tab between fields, LF after each row, backslash
 * escapes, `\N` for NULL) into ndjson lines. A row may be split across chunks; the part after the
 * last LF waits for the next chunk. Backpressure is the Transform's: it takes the next chunk only
 * when the one before is passed on.
 */
export class NdjsonFromCopyText extends Transform {
  readonly #kinds: readonly JsonKind[];
  /** `{"first":` and `,"next":` for each column, as row_to_json writes a key. */
  readonly #prefixes: Uint8Array[];
  /** The bytes a row adds beyond its values: keys, quotes, braces, LF. */
  readonly #rowOverhead: number;
  /** The start of a row cut off at the end of the chunks before. */
  #rest: Buffer[] | null = null;
  #out: Buffer = Buffer.allocUnsafeSlow(OUT_CHUNK);
  #pos = 0;

  constructor(names: readonly string[], kinds: readonly JsonKind[]) {
    super();
    if (names.length !== kinds.length || names.length === 0) throw new Error('one kind for each column');
    this.#kinds = kinds;
    this.#prefixes = names.map((n, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(n)}:`));
    this.#rowOverhead = this.#prefixes.reduce((sum, p) => sum + p.length + 6, 2);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let data = chunk;
    try {
      if (this.#rest) {
        // Only the row cut in two is put together again, not the whole chunk: a copy of every
        // chunk would double the garbage the export leaves for the collector (and its RSS).
        const first = chunk.indexOf(LF) + 1;
        if (first === 0) {
          // A row longer than a chunk: its pieces wait, put together once its end comes.
          this.#rest.push(chunk);
          done();
          return;
        }
        const row = Buffer.concat([...this.#rest, chunk.subarray(0, first)]);
        this.#rest = null;
        this.#rows(row, row.length);
        data = chunk.subarray(first);
      }
      const end = data.lastIndexOf(LF) + 1;
      if (end > 0) this.#rows(data, end);
      // A copy: a slice would keep the whole chunk alive until the next one.
      if (end < data.length) this.#rest = [Buffer.from(data.subarray(end))];
    } catch (err) {
      done(err as Error);
      return;
    }
    this.#emit();
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#rest) {
      done(new Error('COPY output ends inside a row'));
      return;
    }
    this.#emit();
    done();
  }

  #emit(): void {
    if (this.#pos === 0) return;
    this.push(this.#out.subarray(0, this.#pos));
    this.#out = Buffer.allocUnsafeSlow(OUT_CHUNK);
    this.#pos = 0;
  }

  /** Converts the whole rows in data[0, end). */
  #rows(data: Buffer, end: number): void {
    const kinds = this.#kinds;
    const prefixes = this.#prefixes;
    const last = kinds.length - 1;
    let p = 0;
    while (p < end) {
      const rowEnd = data.indexOf(LF, p);
      // Each byte of a value becomes at most 6 (\u00xx).
      const need = this.#rowOverhead + 6 * (rowEnd - p);
      if (this.#pos + need > this.#out.length) {
        this.#emit();
        if (need > this.#out.length) this.#out = Buffer.allocUnsafeSlow(need);
      }
      const out = this.#out;
      let o = this.#pos;
      for (let i = 0; i <= last; i++) {
        const prefix = prefixes[i]!;
        for (let k = 0; k < prefix.length; k++) out[o++] = prefix[k]!;
        // The field: up to the next tab (LF for the last one); `special` when it holds a quote,
        // a backslash or a control character.
        const start = p;
        let special = false;
        const stop = i === last ? LF : TAB;
        for (;;) {
          const b = data[p]!;
          if (b < 0x20 || b === QUOTE || b === BACKSLASH) {
            if (b === stop) break;
            if (b === TAB || b === LF) throw new Error(`COPY row with too ${b === LF ? 'few' : 'many'} fields`);
            special = true;
          }
          p++;
        }
        const kind = kinds[i]!;
        if (p - start === 2 && data[start] === BACKSLASH && data[start + 1] === 0x4e /* N */) {
          out[o++] = 0x6e; // null
          out[o++] = 0x75;
          out[o++] = 0x6c;
          out[o++] = 0x6c;
        } else if (kind === 'string') {
          out[o++] = QUOTE;
          if (special) o = escapeString(data, start, p, out, o);
          else o = copyBytes(data, start, p, out, o);
          out[o++] = QUOTE;
        } else if (kind === 'json') {
          o = special ? unescapeCopy(data, start, p, out, o) : copyBytes(data, start, p, out, o);
        } else if (kind === 'bool') {
          const t = data[start] === 0x74; // 't'
          o += out.write(t ? 'true' : 'false', o, 'latin1');
        } else if (kind === 'int') {
          o = copyBytes(data, start, p, out, o);
        } else {
          // NaN, Infinity, -Infinity: not JSON numbers, so strings (no byte of them needs escaping).
          const text = data.toString('latin1', start, p);
          if (JSON_NUMBER.test(text)) o = copyBytes(data, start, p, out, o);
          else {
            out[o++] = QUOTE;
            o = copyBytes(data, start, p, out, o);
            out[o++] = QUOTE;
          }
        }
        p++; // the tab or LF
      }
      out[o++] = 0x7d; // }
      out[o++] = LF;
      this.#pos = o;
    }
  }
}

function copyBytes(data: Buffer, start: number, end: number, out: Buffer, o: number): number {
  // Short values byte by byte: a native copy costs more than it saves below a few dozen bytes.
  if (end - start > 48) return o + data.copy(out, o, start, end);
  for (let k = start; k < end; k++) out[o++] = data[k]!;
  return o;
}

/**
 * A COPY text value as the inside of a JSON string. COPY's escapes of \ \b \f \n \r \t are
 * JSON's own; \v becomes \u000b; a quote gets its backslash; a raw control character (COPY
 * writes \x01… as they are) becomes \u00xx.
 */
function escapeString(data: Buffer, start: number, end: number, out: Buffer, o: number): number {
  for (let k = start; k < end; k++) {
    const b = data[k]!;
    if (b === BACKSLASH) {
      const next = data[++k]!;
      if (next === 0x76 /* v */) o = unicodeEscape(0x0b, out, o);
      else {
        out[o++] = BACKSLASH;
        out[o++] = next;
      }
    } else if (b === QUOTE) {
      out[o++] = BACKSLASH;
      out[o++] = QUOTE;
    } else if (b < 0x20) o = unicodeEscape(b, out, o);
    else out[o++] = b;
  }
  return o;
}

function unicodeEscape(b: number, out: Buffer, o: number): number {
  out[o++] = BACKSLASH;
  out[o++] = 0x75; // u
  out[o++] = 0x30;
  out[o++] = 0x30;
  out[o++] = HEX[b >> 4]!;
  out[o++] = HEX[b & 15]!;
  return o;
}

/** COPY's backslash escapes undone: json/jsonb text goes into the line as the server has it. */
function unescapeCopy(data: Buffer, start: number, end: number, out: Buffer, o: number): number {
  for (let k = start; k < end; k++) {
    const b = data[k]!;
    if (b !== BACKSLASH) {
      out[o++] = b;
      continue;
    }
    const next = data[++k]!;
    out[o++] = next === 0x6e ? LF : next === 0x72 ? 0x0d : next === 0x74 ? TAB : next === 0x62 ? 0x08 : next === 0x66 ? 0x0c : next === 0x76 ? 0x0b : next;
  }
  return o;
}
