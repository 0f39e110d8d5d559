import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { windows1252 } from '../../test/fixtures/windows-1252.ts';
import { decodeChunks, detectEncoding } from './encoding.ts';

/** The bytes as a file stream gives them: chunks of `size`. */
async function* chunked(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
const detect = (bytes: Uint8Array, size?: number) => detectEncoding(chunked(bytes, size));
async function decode(bytes: Uint8Array, encoding: Parameters<typeof decodeChunks>[1], size?: number): Promise<string> {
  let text = '';
  for await (const part of decodeChunks(chunked(bytes, size), encoding, 'x.csv')) text += part;
  return text;
}

const DUTCH = 'Locatie;Groep;Roepnaam kind;Achternaam kind\r\nCafé Zoë;€-groep;Anaïs;IJsselstein\r\nHeerlen;Boomhut;Noël;Gülen\r\n';

describe('detecting the encoding of a file', () => {
  it('reads UTF-8 with and without a byte order mark, and plain ASCII, as UTF-8', async () => {
    expect(await detect(Buffer.from(`\uFEFF${DUTCH}`, 'utf8'))).toEqual({ ok: true, encoding: 'utf-8', bom: true });
    expect(await detect(Buffer.from(DUTCH, 'utf8'))).toEqual({ ok: true, encoding: 'utf-8', bom: false });
    expect(await detect(Buffer.from('Locatie;Groep\r\nA;B\r\n'))).toEqual({ ok: true, encoding: 'utf-8', bom: false });
    expect(await detect(Buffer.alloc(0))).toEqual({ ok: true, encoding: 'utf-8', bom: false });
  });

  it('reads UTF-8 whose characters are split between two chunks', async () => {
    const bytes = Buffer.from(DUTCH.repeat(50), 'utf8');
    expect(await detect(bytes, 7)).toMatchObject({ ok: true, encoding: 'utf-8' });
    expect(await decode(bytes, 'utf-8', 7)).toBe(DUTCH.repeat(50));
  });

  it('reads Windows-1252 and ISO-8859-1 as Windows-1252, € included', async () => {
    const bytes = windows1252(DUTCH);
    expect(await detect(bytes)).toEqual({ ok: true, encoding: 'windows-1252', bom: false });
    expect(await decode(bytes, 'windows-1252')).toBe(DUTCH);
    const latin1 = Buffer.from(DUTCH.replace('€', 'E'), 'latin1');
    expect(await detect(latin1)).toMatchObject({ ok: true, encoding: 'windows-1252' });
  });

  it('looks at the whole file: a Windows-1252 é far after an ASCII start', async () => {
    const start = 'Locatie;Groep;Roepnaam kind\r\n' + 'Heerlen;Boomhut;Jan\r\n'.repeat(20_000);
    const bytes = windows1252(`${start}Heerlen;Boomhut;René\r\n`);
    expect(bytes.length).toBeGreaterThan(300_000);
    expect(await detect(bytes)).toMatchObject({ ok: true, encoding: 'windows-1252' });
  });

  it('reads UTF-16 with a byte order mark (Excel\'s "Unicode text")', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(DUTCH, 'utf16le')]);
    expect(await detect(bytes)).toEqual({ ok: true, encoding: 'utf-16le', bom: true });
    expect(await decode(bytes, 'utf-16le')).toBe(DUTCH);
  });

  it('refuses UTF-16 without a byte order mark, and binary data, as a whole', async () => {
    const utf16 = await detect(Buffer.from(DUTCH, 'utf16le'));
    expect(utf16).toEqual({ ok: false, reason: expect.stringMatching(/NUL bytes, so it is UTF-16 without a byte order mark/) });
    // A zip file: not text in any encoding we read.
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x08, 0x00, ...Array.from({ length: 500 }, (_, i) => (i * 131) % 256)]);
    expect(await detect(zip)).toMatchObject({ ok: false });
    // Without NUL bytes, but nothing like Western text: chardet names what it looks like.
    const noise = Buffer.from(Array.from({ length: 4000 }, (_, i) => 0x80 + ((i * 7919) % 0x80)));
    expect(await detect(noise)).toEqual({ ok: false, reason: expect.stringMatching(/^it is neither UTF-8 nor Windows-1252 \(it looks most like /) });
  });
});

describe('decoding', () => {
  it('refuses bytes that are not UTF-8 when UTF-8 is forced: one error, naming the line', async () => {
    const bytes = windows1252(`Locatie;Groep\r\n${'Heerlen;Boomhut\r\n'.repeat(10_000)}Heerlen;Café\r\n`);
    const error = await decode(bytes, 'utf-8').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).message).toBe(
      'x.csv: is not valid UTF-8 (line 10,002 has bytes that are not): save it as "CSV UTF-8", or name its encoding with --encoding',
    );
  });
});
