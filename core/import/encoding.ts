import { analyse } from 'chardet';
import { invalid } from '../errors.ts';

/**
 * The character encoding of an imported file. Excel saves "CSV UTF-8" (with a byte order mark)
 * or, as plain "CSV", the Windows code page: Windows-1252 in the Netherlands, where é, ë and €
 * are one byte each that UTF-8 does not accept. Both are read; anything else is refused as a
 * whole, with one message for the file instead of one per cell.
 *
 * Detection (`detectEncoding`) reads the file once, as bytes:
 * 1. A byte order mark decides: UTF-8, or UTF-16 (Excel's "Unicode text").
 * 2. A NUL byte means it is not text we read: UTF-16 without a byte order mark, or binary.
 * 3. Bytes that are valid UTF-8 from start to end are UTF-8 (plain ASCII is too).
 * 4. Otherwise chardet (statistics of the bytes) names the likeliest encoding; a Western one
 *    (ISO-8859-1, Windows-1252) is read as Windows-1252, which covers ISO-8859-1 (WHATWG
 *    decodes "latin1" as Windows-1252 anyway). Another guess is refused, naming it: the admin
 *    can still force Windows-1252 with `--encoding`.
 */

/** What `--encoding` accepts. latin1 is read as Windows-1252 (its superset). */
export const ENCODINGS = ['utf-8', 'windows-1252', 'latin1'] as const;
export type ForcedEncoding = (typeof ENCODINGS)[number];

/** An encoding this module decodes, as TextDecoder names it. */
export type Encoding = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

/** What detection found: an encoding to read the file in, or why it cannot be read. */
export type Detected = { ok: true; encoding: Encoding; bom: boolean } | { ok: false; reason: string };

/** How much of a non-UTF-8 file chardet gets to see. */
const SAMPLE_BYTES = 64 * 1024;

/** The chardet names read as Windows-1252. */
const WESTERN = new Set(['ISO-8859-1', 'windows-1252', 'ISO-8859-15']);

export const ENCODING_NAMES: Record<Encoding, string> = {
  'utf-8': 'UTF-8',
  'windows-1252': 'Windows-1252',
  'utf-16le': 'UTF-16 (little-endian)',
  'utf-16be': 'UTF-16 (big-endian)',
};

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

function concat(parts: Uint8Array[], max: number): Uint8Array {
  const out = new Uint8Array(Math.min(max, parts.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    if (at >= out.length) break;
    out.set(p.subarray(0, out.length - at), at);
    at += p.length;
  }
  return out;
}

/** Reads the bytes once and says how to decode them (see the top of this file). */
export async function detectEncoding(chunks: AsyncIterable<Uint8Array>): Promise<Detected> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  let utf8Valid = true;
  const sample: Uint8Array[] = [];
  let sampled = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first) {
      first = false;
      if (startsWith(chunk, [0xef, 0xbb, 0xbf])) return { ok: true, encoding: 'utf-8', bom: true };
      if (startsWith(chunk, [0xff, 0xfe])) return { ok: true, encoding: 'utf-16le', bom: true };
      if (startsWith(chunk, [0xfe, 0xff])) return { ok: true, encoding: 'utf-16be', bom: true };
      sample.push(chunk);
      sampled += chunk.length;
    }
    if (chunk.includes(0)) {
      return { ok: false, reason: 'it has NUL bytes, so it is UTF-16 without a byte order mark, or not text at all' };
    }
    if (utf8Valid) {
      try {
        utf8.decode(chunk, { stream: true });
        continue;
      } catch {
        utf8Valid = false;
        // chardet sees the start of the file and the part where UTF-8 failed.
        if (sample[0] !== chunk) sample.push(chunk);
        sampled = sample.reduce((n, p) => n + p.length, 0);
      }
    } else if (sampled < SAMPLE_BYTES) {
      sample.push(chunk);
      sampled += chunk.length;
    }
    if (sampled >= SAMPLE_BYTES) break;
  }
  if (utf8Valid) {
    try {
      utf8.decode();
      return { ok: true, encoding: 'utf-8', bom: false };
    } catch {
      // The file ends inside a UTF-8 sequence: let the statistics decide.
    }
  }
  const best = analyse(concat(sample, SAMPLE_BYTES))[0];
  if (best && WESTERN.has(best.name)) return { ok: true, encoding: 'windows-1252', bom: false };
  return {
    ok: false,
    reason: `it is neither UTF-8 nor Windows-1252${best ? ` (it looks most like ${best.name})` : ''}`,
  };
}

/** The decoder for a forced encoding. */
export const forcedEncoding = (name: ForcedEncoding): Encoding => (name === 'utf-8' ? 'utf-8' : 'windows-1252');

/**
 * The text of the bytes in the encoding, chunk by chunk, for the CSV reader. A byte order mark
 * is dropped. Bytes that are not valid in the encoding (UTF-8 forced on another file) end the
 * reading with one error naming the line, before the import has written anything.
 */
export async function* decodeChunks(chunks: AsyncIterable<Uint8Array>, encoding: Encoding, file = 'the file'): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true });
  /** Line breaks before the current chunk, to say where the bad bytes are. */
  let lines = 0;
  const fail = (chunk: Uint8Array): never => {
    // The chunk again, leniently: the first replacement character is the first bad byte.
    // Leading UTF-8 continuation bytes end a character the chunk before began: skipped.
    let skip = 0;
    while (encoding === 'utf-8' && skip < 3 && skip < chunk.length && (chunk[skip]! & 0xc0) === 0x80) skip++;
    const lenient = new TextDecoder(encoding).decode(chunk.subarray(skip));
    let at = lenient.indexOf('\uFFFD');
    if (at < 0) at = lenient.length;
    const line = lines + 1 + countLineBreaks(lenient.slice(0, at));
    throw invalid(
      file,
      `is not valid ${ENCODING_NAMES[encoding]} (line ${line.toLocaleString('en')} has bytes that are not): ` +
        'save it as "CSV UTF-8", or name its encoding with --encoding',
    );
  };
  for await (const chunk of chunks) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      return fail(chunk);
    }
    lines += countLineBreaks(text);
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    return fail(new Uint8Array());
  }
  if (rest) yield rest;
}

function countLineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
