import { crc32, deflateSync } from 'node:zlib';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import {
  exifTakenAt,
  type ImageVariant,
  inspectImage,
  PhotoRejectedError,
  type ProcessedImage,
  processImage,
} from './process.ts';

// ---------------------------------------------------------------------------------------------
// Test images, all generated here.

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

/** A blue picture with a red square in its (stored) top-left corner. */
function marked(width: number, height: number) {
  const corner = Math.max(4, Math.round(Math.min(width, height) / 4));
  return sharp({ create: { width, height, channels: 3, background: BLUE } }).composite([
    { input: { create: { width: corner, height: corner, channels: 3, background: RED } }, left: 0, top: 0 },
  ]);
}

const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Alice Photographer"/>' +
  '</rdf:RDF></x:xmpmeta>';

/** An APP13 (Photoshop IRB) segment holding IPTC By-line, inserted after the JPEG's SOI marker. */
function withIptc(jpeg: Buffer, byline: string): Buffer {
  const value = Buffer.from(byline, 'latin1');
  const iptc = Buffer.concat([Buffer.from([0x1c, 0x02, 0x50, value.length >> 8, value.length & 0xff]), value]);
  const padded = iptc.length % 2 ? Buffer.concat([iptc, Buffer.from([0])]) : iptc;
  const size = Buffer.alloc(4);
  size.writeUInt32BE(iptc.length);
  const irb = Buffer.concat([Buffer.from('8BIM', 'latin1'), Buffer.from([0x04, 0x04, 0, 0]), size, padded]);
  const payload = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), irb]);
  const header = Buffer.from([0xff, 0xed, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/** A phone photo: GPS, camera serial, make/model, taken-at time, XMP, IPTC, stored sideways (orientation 6). */
async function phoneJpeg(width = 64, height = 48): Promise<Buffer> {
  const jpeg = await marked(width, height)
    .jpeg({ quality: 95 })
    .withExif({
      IFD0: { Make: 'Canon', Model: 'EOS R5', Software: 'Firmware 1.8.1', Artist: 'Alice' },
      IFD2: { DateTimeOriginal: '2024:06:01 14:30:00', BodySerialNumber: 'SN-0123456789' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 0/1' },
    })
    .withXmp(XMP)
    .withMetadata({ orientation: 6 })
    .toBuffer();
  return withIptc(jpeg, 'Alice Photographer');
}

const ALL_SEGMENTS = { tiff: true, exif: true, gps: true, ifd1: true, interop: true, xmp: true, iptc: true, icc: true };

/** What exifr and sharp can find in a variant; empty when it is clean. */
async function leftoverMetadata(variant: ImageVariant): Promise<unknown[]> {
  const found: unknown[] = [];
  const meta = await sharp(variant.data).metadata();
  for (const key of ['exif', 'xmp', 'iptc', 'icc', 'orientation'] as const) if (meta[key] !== undefined) found.push(key);
  if (variant.contentType === 'image/jpeg') {
    const parsed = await exifr.parse(variant.data, ALL_SEGMENTS);
    if (parsed !== undefined) found.push(parsed);
    if (await exifr.gps(variant.data)) found.push('gps');
  } else {
    // exifr cannot read WebP: list the RIFF chunks instead. Only image data may be there.
    for (let at = 12; at + 8 <= variant.data.length; ) {
      const id = variant.data.toString('latin1', at, at + 4);
      if (!['VP8 ', 'VP8L', 'VP8X', 'ALPH'].includes(id)) found.push(id);
      if (id === 'VP8X' && (variant.data[at + 8]! & 0b0010_1100) !== 0) found.push('VP8X metadata flags');
      const size = variant.data.readUInt32LE(at + 4);
      at += 8 + size + (size % 2);
    }
  }
  // And the raw bytes, in case a segment hides somewhere the parsers skip.
  for (const needle of ['SN-0123456789', 'Canon', 'EOS R5', 'Alice', 'Exif\0', 'http://ns.adobe.com', '8BIM']) {
    if (variant.data.includes(needle)) found.push(needle);
  }
  return found;
}

const variants = (p: ProcessedImage) => [p.original, p.display, p.thumbnail];

async function pixel(data: Buffer, x: number, y: number) {
  const { data: raw, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return { r: raw[at]!, g: raw[at + 1]!, b: raw[at + 2]! };
}

function expectColour(actual: { r: number; g: number; b: number }, expected: { r: number; g: number; b: number }) {
  for (const c of ['r', 'g', 'b'] as const) expect(Math.abs(actual[c] - expected[c]), `${c} of ${JSON.stringify(actual)}`).toBeLessThan(40);
}

/** A PNG of three chunks that declares `width`x`height` but holds almost nothing. */
function craftedPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real small JPEG whose frame header is patched to declare `width`x`height`. */
async function jpegDeclaring(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await marked(16, 16).jpeg().toBuffer());
  for (let at = 2; at + 9 < jpeg.length; ) {
    const marker = jpeg[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      jpeg.writeUInt16BE(height, at + 5);
      jpeg.writeUInt16BE(width, at + 7);
      return jpeg;
    }
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error('no SOF marker');
}

async function rejected(promise: Promise<unknown>): Promise<PhotoRejectedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PhotoRejectedError);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe('validation');
  return err as PhotoRejectedError;
}

// ---------------------------------------------------------------------------------------------

describe('metadata', () => {
  it('the test photo really carries GPS, serial, camera, time, XMP and IPTC', async () => {
    const input = await phoneJpeg();
    const parsed = await exifr.parse(input, { ...ALL_SEGMENTS, mergeOutput: false });
    expect(parsed.ifd0).toMatchObject({ Make: 'Canon', Model: 'EOS R5', Orientation: 'Rotate 90 CW' });
    expect(parsed.exif).toMatchObject({ SerialNumber: 'SN-0123456789' });
    expect(parsed.exif.DateTimeOriginal).toBeInstanceOf(Date);
    expect(parsed.gps).toMatchObject({ latitude: expect.closeTo(52.3667, 3), longitude: expect.closeTo(4.8833, 3) });
    expect(parsed.dc).toMatchObject({ creator: 'Alice Photographer' });
    expect(parsed.iptc).toMatchObject({ Byline: 'Alice Photographer' });
  });

  it.each(['jpeg', 'webp'] as const)('strips everything from every %s variant', async (format) => {
    const result = await processImage(await phoneJpeg(), { format });
    for (const variant of variants(result)) {
      expect(await leftoverMetadata(variant)).toEqual([]);
      expect(variant.contentType).toBe(`image/${format}`);
      expect((await sharp(variant.data).metadata()).format).toBe(format);
    }
  });

  it('strips an ICC profile too, leaving sRGB pixels', async () => {
    const input = await marked(64, 48).jpeg().withIccProfile('p3').toBuffer();
    expect((await sharp(input).metadata()).icc).toBeDefined();
    for (const variant of variants(await processImage(input))) {
      const meta = await sharp(variant.data).metadata();
      expect(meta.icc).toBeUndefined();
      expect(meta.space).toBe('srgb');
    }
  });

  it('reads the taken-at time as Amsterdam time (summer and winter)', async () => {
    expect((await processImage(await phoneJpeg())).takenAt).toEqual(new Date('2024-06-01T12:30:00Z'));
    const winter = await marked(32, 32)
      .jpeg()
      .withExif({ IFD2: { DateTimeOriginal: '2024:01:15 09:00:00' } })
      .toBuffer();
    expect((await inspectImage(winter)).takenAt).toEqual(new Date('2024-01-15T08:00:00Z'));
  });

  it('honours the recorded offset, and falls back to DateTimeDigitized', async () => {
    const offset = await marked(32, 32)
      .jpeg()
      .withExif({ IFD2: { DateTimeOriginal: '2024:06:01 14:30:00', OffsetTimeOriginal: '+05:30' } })
      .toBuffer();
    expect((await inspectImage(offset)).takenAt).toEqual(new Date('2024-06-01T09:00:00Z'));
    const digitized = await marked(32, 32)
      .png()
      .withExif({ IFD2: { DateTimeDigitized: '2023:12:31 23:59:59' } })
      .toBuffer();
    expect((await inspectImage(digitized)).takenAt).toEqual(new Date('2023-12-31T22:59:59Z'));
  });

  it('gives null when there is no usable time', async () => {
    expect((await inspectImage(await marked(32, 32).jpeg().toBuffer())).takenAt).toBeNull();
    const unset = await marked(32, 32)
      .jpeg()
      .withExif({ IFD2: { DateTimeOriginal: '0000:00:00 00:00:00' } })
      .toBuffer();
    expect((await inspectImage(unset)).takenAt).toBeNull();
    const future = await marked(32, 32)
      .jpeg()
      .withExif({ IFD2: { DateTimeOriginal: '2999:01:01 00:00:00' } })
      .toBuffer();
    // The future is told by the portal's time, which the upload passes (core reads no other clock).
    expect((await inspectImage(future, { now: new Date('2026-06-10T08:00:00Z') })).takenAt).toBeNull();
  });
});

describe('exifTakenAt', () => {
  const ORIGINAL = 0x9003;
  const OFFSET = 0x9011;
  const SUB_SEC = 0x9291;

  /** A big-endian TIFF with an EXIF IFD holding the given ASCII tags. */
  function tiff(tags: [number, string][]): Buffer {
    const entries = tags.map(([tag, text]) => [tag, Buffer.from(`${text}\0`, 'latin1')] as const);
    const exifIfdAt = 8 + 2 + 12 + 4;
    let dataAt = exifIfdAt + 2 + entries.length * 12 + 4;
    const head = Buffer.alloc(dataAt);
    head.write('MM', 0, 'latin1');
    head.writeUInt16BE(42, 2);
    head.writeUInt32BE(8, 4);
    head.writeUInt16BE(1, 8);
    head.writeUInt16BE(0x8769, 10);
    head.writeUInt16BE(4, 12);
    head.writeUInt32BE(1, 14);
    head.writeUInt32BE(exifIfdAt, 18);
    head.writeUInt16BE(entries.length, exifIfdAt);
    const data: Buffer[] = [];
    entries.forEach(([tag, text], i) => {
      const at = exifIfdAt + 2 + i * 12;
      head.writeUInt16BE(tag, at);
      head.writeUInt16BE(2, at + 2);
      head.writeUInt32BE(text.length, at + 4);
      if (text.length <= 4) text.copy(head, at + 8);
      else {
        head.writeUInt32BE(dataAt, at + 8);
        data.push(text);
        dataAt += text.length;
      }
    });
    return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), head, ...data]);
  }

  it('handles offsets, sub-seconds and daylight-saving edges', () => {
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:06:01 14:30:00'], [OFFSET, '-04:00'], [SUB_SEC, '25']]))).toEqual(
      new Date('2024-06-01T18:30:00.250Z'),
    );
    // 27 October 2024, 02:30 happened twice in Amsterdam: the earlier (summer time) one wins.
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:10:27 02:30:00']]))).toEqual(new Date('2024-10-27T00:30:00Z'));
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:10:27 03:30:00']]))).toEqual(new Date('2024-10-27T02:30:00Z'));
    // 31 March 2024, 02:30 did not exist; read as summer time.
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:03:31 02:30:00']]))).toEqual(new Date('2024-03-31T00:30:00Z'));
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:03:31 03:30:00']]))).toEqual(new Date('2024-03-31T01:30:00Z'));
  });

  it('refuses a time more than two days after the `now` it is given; without one there is no upper bound', () => {
    const now = new Date('2026-06-10T08:00:00Z');
    expect(exifTakenAt(tiff([[ORIGINAL, '2026:06:12 09:00:00']]), now)).toEqual(new Date('2026-06-12T07:00:00Z'));
    expect(exifTakenAt(tiff([[ORIGINAL, '2026:06:12 11:00:00']]), now)).toBeNull();
    expect(exifTakenAt(tiff([[ORIGINAL, '2999:01:01 00:00:00']]), now)).toBeNull();
    expect(exifTakenAt(tiff([[ORIGINAL, '2999:01:01 00:00:00']]))).toEqual(new Date('2998-12-31T23:00:00Z'));
  });

  it('returns null for garbage rather than throwing', () => {
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:02:30 10:00:00']]))).toBeNull();
    expect(exifTakenAt(tiff([[ORIGINAL, 'yesterday']]))).toBeNull();
    expect(exifTakenAt(Buffer.from('Exif\0\0MM\0\x2a\xff\xff\xff\xff', 'latin1'))).toBeNull();
    expect(exifTakenAt(tiff([[ORIGINAL, '2024:06:01 14:30:00']]).subarray(0, 40))).toBeNull();
    expect(exifTakenAt(Buffer.alloc(3))).toBeNull();
  });
});

describe('orientation', () => {
  it('turns a sideways (orientation 6) photo upright in every variant', async () => {
    const input = await phoneJpeg(64, 48);
    const info = await inspectImage(input);
    expect(info).toMatchObject({ format: 'jpeg', width: 64, height: 48, orientation: 6 });

    const result = await processImage(input);
    expect(result.original).toMatchObject({ width: 48, height: 64 });
    for (const variant of variants(result)) {
      const meta = await sharp(variant.data).metadata();
      expect([meta.width, meta.height]).toEqual([variant.width, variant.height]);
      expect(variant.height).toBeGreaterThan(variant.width);
      // Rotated 90° clockwise, the stored top-left corner is now the top-right one.
      expectColour(await pixel(variant.data, variant.width - 2, 1), RED);
      expectColour(await pixel(variant.data, 1, 1), BLUE);
      expectColour(await pixel(variant.data, 1, variant.height - 2), BLUE);
    }
  });

  it.each([3, 8])('applies orientation %i', async (orientation) => {
    const input = await marked(64, 48).jpeg().withMetadata({ orientation }).toBuffer();
    const { original } = await processImage(input);
    if (orientation === 3) {
      expect(original).toMatchObject({ width: 64, height: 48 });
      expectColour(await pixel(original.data, 62, 46), RED);
    } else {
      expect(original).toMatchObject({ width: 48, height: 64 });
      expectColour(await pixel(original.data, 1, 62), RED);
    }
  });
});

describe('variants', () => {
  it('fits the display version in 1600 and the thumbnail in 400, keeping full resolution', async () => {
    const result = await processImage(await marked(3000, 2000).jpeg().toBuffer());
    expect(result.original).toMatchObject({ width: 3000, height: 2000 });
    expect(result.display).toMatchObject({ width: 1600, height: 1067 });
    expect(result.thumbnail).toMatchObject({ width: 400, height: 267 });
    expect(result.sourceFormat).toBe('jpeg');
    for (const variant of variants(result)) {
      const meta = await sharp(variant.data).metadata();
      expect([meta.width, meta.height]).toEqual([variant.width, variant.height]);
    }
  });

  it('hands each variant to onVariant as it is encoded, once, with the bytes it returns', async () => {
    // The upload job stores each variant as soon as it is handed out (overlapping the large encode).
    const handed: [string, Buffer][] = [];
    const result = await processImage(await marked(3000, 2000).jpeg().toBuffer(), {
      onVariant: (name, variant) => handed.push([name, variant.data]),
    });
    expect(handed).toHaveLength(3);
    expect(new Map(handed)).toEqual(new Map([['original', result.original.data], ['display', result.display.data], ['thumbnail', result.thumbnail.data]]));
  });

  it('fits a tall picture on its height', async () => {
    const result = await processImage(await marked(1000, 2400).png().toBuffer(), { format: 'webp' });
    expect(result.display).toMatchObject({ width: 667, height: 1600, contentType: 'image/webp' });
    expect(result.thumbnail).toMatchObject({ width: 167, height: 400 });
  });

  it('never enlarges a small picture', async () => {
    const result = await processImage(await marked(300, 200).jpeg().toBuffer());
    for (const variant of variants(result)) expect(variant).toMatchObject({ width: 300, height: 200 });
  });

  it('takes custom sizes', async () => {
    const result = await processImage(await marked(1000, 800).jpeg().toBuffer(), { displaySize: 500, thumbSize: 100 });
    expect(result.display).toMatchObject({ width: 500, height: 400 });
    expect(result.thumbnail).toMatchObject({ width: 100, height: 80 });
  });

  it.each([
    ['png', () => marked(120, 80).png().toBuffer()],
    ['webp', () => marked(120, 80).webp().toBuffer()],
    ['avif', () => marked(120, 80).avif().toBuffer()],
  ] as const)('accepts %s', async (format, make) => {
    const input = await make();
    expect(await inspectImage(input)).toMatchObject({ format, width: 120, height: 80, takenAt: null });
    const result = await processImage(input);
    expect(result.sourceFormat).toBe(format);
    expect(result.original).toMatchObject({ width: 120, height: 80, contentType: 'image/jpeg' });
    expectColour(await pixel(result.original.data, 2, 2), RED);
  });

  it('puts transparent areas on white in JPEG and keeps alpha in WebP', async () => {
    const input = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    expectColour(await pixel((await processImage(input)).display.data, 5, 5), { r: 255, g: 255, b: 255 });
    const webp = await processImage(input, { format: 'webp' });
    expect((await sharp(webp.display.data).metadata()).hasAlpha).toBe(true);
  });
});

describe('bad files', () => {
  it('refuses a truncated JPEG', async () => {
    const whole = await sharp({ create: { width: 200, height: 150, channels: 3, background: BLUE, noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
      .jpeg()
      .toBuffer();
    const err = await rejected(processImage(whole.subarray(0, Math.floor(whole.length * 0.6))));
    expect(err.reason).toBe('corrupt');
    expect(err.message).toMatch(/JPEG image is damaged or incomplete/);
    // Cut inside the header, even the quick inspection notices.
    expect((await rejected(inspectImage(whole.subarray(0, 100)))).reason).toBe('corrupt');
  });

  it('refuses an HTML page saved as .jpg', async () => {
    const html = Buffer.from('<!DOCTYPE html>\n<html><head><title>Hi</title></head><body><script>alert(1)</script></body></html>');
    const err = await rejected(processImage(html));
    expect(err.reason).toBe('unsupported_format');
    expect(err.message).toMatch(/not an image/);
    expect(err.message).toMatch(/HTML document/);
  });

  it.each([
    '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    '\uFEFF  <svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<!-- made with Inkscape -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
  ])('refuses SVG, naming it', async (svg) => {
    const err = await rejected(inspectImage(Buffer.from(svg)));
    expect(err.reason).toBe('unsupported_format');
    expect(err.message).toMatch(/SVG image/);
  });

  it('refuses text, GIF, TIFF, PDF, an unknown blob and an empty file with a clear message', async () => {
    expect((await rejected(inspectImage(Buffer.from('just some notes\nabout the day\n')))).message).toMatch(/text file/);
    expect((await rejected(inspectImage(await marked(20, 20).gif().toBuffer()))).message).toMatch(/GIF image/);
    expect((await rejected(inspectImage(await marked(20, 20).tiff().toBuffer()))).message).toMatch(/TIFF image/);
    expect((await rejected(inspectImage(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3', 'latin1')))).message).toMatch(/PDF/);
    const blob = await rejected(inspectImage(Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x00, 0x42, 0x99, 0x01])));
    expect(blob.message).toMatch(/not an image in a format we accept/);
    expect((await rejected(inspectImage(Buffer.alloc(0)))).reason).toBe('corrupt');
  });

  it('names HEIC when a HEIC file cannot be read', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(200, 1)]);
    expect((await rejected(processImage(heic))).message).toMatch(/HEIC/);
    const video = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\0\0isomavc1'), Buffer.alloc(200, 1)]);
    expect((await rejected(inspectImage(video))).message).toMatch(/it is a video/);
  });

  it('refuses a JPEG whose data is not a JPEG after the magic bytes', async () => {
    const err = await rejected(processImage(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)])));
    expect(err.reason).toBe('corrupt');
  });

  it.each([
    ['PNG', () => Promise.resolve(craftedPng(20_000, 20_000))],
    ['JPEG', () => jpegDeclaring(20_000, 20_000)],
  ])('refuses a small %s declaring 20000x20000 fast, without decoding it', async (_, make) => {
    const input = await make();
    expect(input.length).toBeLessThan(5_000);
    const started = performance.now();
    const err = await rejected(processImage(input));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.reason).toBe('too_many_pixels');
    expect(err.message).toMatch(/20000x20000 pixels \(400 megapixels\); the maximum is 40 megapixels/);
  });

  it('applies a custom pixel limit', async () => {
    const input = await marked(100, 100).png().toBuffer();
    expect((await rejected(processImage(input, { maxPixels: 9_999 }))).reason).toBe('too_many_pixels');
    await expect(processImage(input, { maxPixels: 10_000 })).resolves.toBeDefined();
  });
});
