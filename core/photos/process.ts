import sharp, { type Metadata, type Sharp } from 'sharp';
import { DomainError } from '../errors.ts';

/**
 * Processing of an uploaded photo, before anything is stored.
 *
 *  1. `inspectImage` decides from the bytes alone (never the file name or the declared type)
 *     what the upload is: the magic bytes first, so SVG, HTML, text, GIF and friends are refused
 *     with a message naming them, then sharp reads the header only, so a small file declaring an
 *     enormous picture is refused before any pixel is decoded.
 *  2. `processImage` decodes the pixels once (auto-rotated by the EXIF orientation, converted to
 *     sRGB), and encodes three variants from those pixels: a full-resolution copy for downloads,
 *     a display version and a thumbnail. sharp writes no metadata unless asked to
 *     (`keepMetadata`, `withMetadata`, `keepExif`, ...), and none of those is used here, so EXIF
 *     (GPS, camera serial), XMP, IPTC and ICC profiles end up in none of the variants.
 *
 * The time the photo was taken is read from the EXIF DateTimeOriginal (a small TIFF parser
 * below; no runtime dependency) before it is stripped. It is null when absent: the caller then
 * uses the upload time.
 *
 * Pure functions over Buffers; no I/O apart from sharp.
 */

/** 'heic_unsupported': a HEIC photo this server's sharp cannot decode (no HEVC decoder). */
export type PhotoRejectReason = 'unsupported_format' | 'heic_unsupported' | 'too_many_pixels' | 'corrupt';

/** An upload that is not a photo we can take. `code` is 'validation'; `reason` says why. */
export class PhotoRejectedError extends DomainError {
  constructor(
    readonly reason: PhotoRejectReason,
    message: string,
  ) {
    super('validation', message, [{ path: 'photo', message }]);
    this.name = 'PhotoRejectedError';
  }
}

export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'heif';
export type OutputFormat = 'jpeg' | 'webp';

/** 40 megapixels: more than any phone camera, far less than a decompression bomb. */
export const DEFAULT_MAX_PIXELS = 40_000_000;
export const DEFAULT_DISPLAY_SIZE = 1600;
export const DEFAULT_THUMB_SIZE = 400;

const QUALITY = { original: 90, display: 82, thumbnail: 75 } as const;
/** WebP cannot encode a side longer than this; a longer full-resolution copy falls back to JPEG. */
const WEBP_MAX_SIDE = 16383;
/** The organisation's time zone, used for EXIF times that carry no offset. */
const LOCAL_TIME_ZONE = 'Europe/Amsterdam';
const ACCEPTED = 'JPEG, PNG, WebP, AVIF or HEIC';

export interface InspectOptions {
  /** Refuse pictures with more pixels than this (default 40 MP). */
  maxPixels?: number;
  /** The portal's time, to refuse a camera date far in the future; without it any date after 1900 passes. */
  now?: Date;
}

export interface ImageInfo {
  format: SourceFormat;
  /** As stored, before the EXIF orientation is applied. */
  width: number;
  height: number;
  /** EXIF orientation (1-8) when present. */
  orientation?: number;
  /** EXIF DateTimeOriginal (or DateTimeDigitized); null when absent or unusable. */
  takenAt: Date | null;
}

export interface ProcessOptions extends InspectOptions {
  /** Longest side of the display version (default 1600). */
  displaySize?: number;
  /** Longest side of the thumbnail (default 400). */
  thumbSize?: number;
  /** Output format of all variants (default 'jpeg'). */
  format?: OutputFormat;
  /**
   * Called with each variant as soon as it is encoded, before the others are done (the small ones
   * finish first): the caller can start storing it while the full-resolution copy still encodes.
   * A variant handed out here may belong to a photo that is rejected after all (a truncated file
   * fails in the last pipeline): whatever the caller stored of it is then an unreferenced file.
   */
  onVariant?: (name: 'original' | 'display' | 'thumbnail', variant: ImageVariant) => void;
}

export interface ImageVariant {
  data: Buffer;
  width: number;
  height: number;
  contentType: 'image/jpeg' | 'image/webp';
}

export interface ProcessedImage {
  /** Full resolution, upright, stripped: what downloads serve. */
  original: ImageVariant;
  display: ImageVariant;
  thumbnail: ImageVariant;
  /** From EXIF; null when unknown (use the upload time). */
  takenAt: Date | null;
  sourceFormat: SourceFormat;
}

// ---------------------------------------------------------------------------------------------
// Sniffing

type Sniffed = { kind: 'image'; format: SourceFormat; heic: boolean } | { kind: 'other'; what: string | null };

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.subarray(start, Math.min(end, bytes.length))).toString('latin1');

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1', 'mif2']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** What the bytes are, judged from their first few hundred bytes. */
function sniff(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg', heic: false };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: 'image', format: 'png', heic: false };
  }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp', heic: false };
  if (ascii(bytes, 4, 8) === 'ftyp' && bytes.length >= 12) {
    // ISO BMFF: major brand, then (after a minor version) the compatible brands.
    const boxSize = Math.min(Buffer.from(bytes.subarray(0, 4)).readUInt32BE(0), bytes.length, 256);
    const brands = [ascii(bytes, 8, 12)];
    for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4));
    if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: 'image', format: 'avif', heic: false };
    if (brands.some((b) => HEIC_BRANDS.has(b))) return { kind: 'image', format: 'heif', heic: true };
    if (brands.some((b) => /^(qt {2}|isom|iso\d|mp4\d|M4V |3gp\d|avc1)$/.test(b))) return { kind: 'other', what: 'a video' };
    return { kind: 'other', what: null };
  }
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return { kind: 'other', what: 'a GIF image' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'other', what: 'a TIFF image' };
  }
  if (ascii(bytes, 0, 2) === 'BM') return { kind: 'other', what: 'a BMP image' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { kind: 'other', what: 'an ICO image' };
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { kind: 'other', what: 'a JPEG XL image' };
  }
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'other', what: 'a PDF document' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return { kind: 'other', what: 'a ZIP archive (or Office document)' };
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'other', what: 'a gzip archive' };
  if (ascii(bytes, 0, 4) === '8BPS') return { kind: 'other', what: 'a Photoshop document' };

  // Text-based formats. Skip a UTF-8/UTF-16 byte order mark and leading white space.
  const head = Buffer.from(bytes.subarray(0, 4096))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/<svg[\s>]/.test(head) || head.startsWith('<svg')) return { kind: 'other', what: 'an SVG image' };
  if (/^(<!doctype html|<html|<head|<body|<script|<!--)/.test(head)) return { kind: 'other', what: 'an HTML document' };
  if (head.startsWith('<?xml') || head.startsWith('<')) return { kind: 'other', what: 'an XML or HTML document' };
  if (head.startsWith('{') || head.startsWith('[')) return { kind: 'other', what: 'a text file' };
  if (looksLikeText(bytes)) return { kind: 'other', what: 'a text file' };
  return { kind: 'other', what: null };
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 1024);
  if (sample.length === 0) return false;
  let printable = 0;
  for (const b of sample) {
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || (b >= 0x20 && b !== 0x7f)) printable++;
  }
  return printable / sample.length > 0.95;
}

function refuseNonImage(sniffed: { what: string | null }): never {
  const message = sniffed.what
    ? `The file is not an image we can accept: it is ${sniffed.what}. Please upload a ${ACCEPTED} photo.`
    : `The file is not an image in a format we accept. Please upload a ${ACCEPTED} photo.`;
  // "not an image" for documents and text, the format's name in the message for other images.
  throw new PhotoRejectedError('unsupported_format', message);
}

// ---------------------------------------------------------------------------------------------
// Inspection

const FORMAT_LABEL: Record<SourceFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', heif: 'HEIC' };

function sharpOptions(maxPixels: number) {
  // 'error' fails on truncated and broken data but lets the harmless warnings many cameras
  // trigger (extraneous bytes before a marker and the like) pass.
  return { limitInputPixels: maxPixels, failOn: 'error' } as const;
}

function tooManyPixels(width: number, height: number, maxPixels: number): PhotoRejectedError {
  const mp = (n: number) => `${Math.round(n / 100_000) / 10} megapixels`;
  const size = width && height ? `${width}x${height} pixels (${mp(width * height)})` : 'too large';
  return new PhotoRejectedError(
    'too_many_pixels',
    `The image is ${size}; the maximum is ${mp(maxPixels)}. Please upload a smaller picture.`,
  );
}

/** Turns an error from sharp into a rejection, keeping the reason as specific as we can tell. */
function rejection(err: unknown, format: SourceFormat, heic: boolean, maxPixels: number): PhotoRejectedError {
  if (err instanceof PhotoRejectedError) return err;
  const text = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(text)) return tooManyPixels(0, 0, maxPixels);
  if (heic) {
    // The prebuilt sharp binaries carry libheif with the AV1 codec only (HEVC is patent-
    // encumbered), so iPhone HEIC photos usually fail here with "unsupported codec" or "no
    // decoding plugin"; a sharp built against a system libvips with libde265 reads them.
    const unsupported = /(plugin|decoder|codec|unsupported|not supported)/i.test(text);
    return new PhotoRejectedError(
      unsupported ? 'heic_unsupported' : 'corrupt',
      unsupported
        ? 'HEIC photos cannot be read by this server. Please upload the photo as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible).'
        : 'The HEIC image could not be read: it is damaged, or this server cannot read HEIC. Please upload it again, or as JPEG.',
    );
  }
  if (/unsupported image format/i.test(text)) {
    return new PhotoRejectedError(
      'unsupported_format',
      `This ${FORMAT_LABEL[format]} image cannot be read by this server. Please upload a JPEG or PNG photo.`,
    );
  }
  return new PhotoRejectedError(
    'corrupt',
    `The ${FORMAT_LABEL[format]} image is damaged or incomplete and cannot be read. Please upload it again.`,
  );
}

function checkMaxPixels(maxPixels: number): void {
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) throw new RangeError('maxPixels must be a positive integer');
}

/**
 * What an upload is, from its bytes. Reads headers only, never the pixels, so it is fast and
 * cheap whatever the file declares. Throws `PhotoRejectedError`. Truncation past the header is
 * only noticed by `processImage`.
 */
export async function inspectImage(input: Uint8Array, options: InspectOptions = {}): Promise<ImageInfo> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkMaxPixels(maxPixels);
  if (input.length === 0) throw new PhotoRejectedError('corrupt', 'The file is empty.');
  const sniffed = sniff(input);
  if (sniffed.kind === 'other') refuseNonImage(sniffed);
  const { format, heic } = sniffed;

  let meta: Metadata;
  try {
    // Header only: no pixel is decoded, so no limit is needed here, and we can say how large the
    // picture claims to be instead of sharp's terse pixel-limit error.
    meta = await sharp(input, { ...sharpOptions(maxPixels), limitInputPixels: false }).metadata();
  } catch (err) {
    throw rejection(err, format, heic, maxPixels);
  }
  const expected = format === 'avif' ? 'heif' : format;
  if (meta.format !== expected) {
    // The magic bytes and the decoder disagree: not something we want to pass on.
    throw new PhotoRejectedError('corrupt', `The ${FORMAT_LABEL[format]} image is damaged and cannot be read.`);
  }
  const { width, height } = meta;
  if (!(width > 0 && height > 0)) {
    throw new PhotoRejectedError('corrupt', `The ${FORMAT_LABEL[format]} image has no valid size.`);
  }
  if (width * height > maxPixels) throw tooManyPixels(width, height, maxPixels);
  const info: ImageInfo = { format, width, height, takenAt: meta.exif ? exifTakenAt(meta.exif, options.now) : null };
  if (meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8) {
    info.orientation = meta.orientation;
  }
  return info;
}

/**
 * `inspectImage` plus one decode of every byte at thumbnail size: what an upload is checked with
 * while the uploader waits, so a truncated or damaged file is refused by name instead of failing
 * later in the queue. A JPEG decodes at an eighth of its size here (shrink-on-load): about 30 ms
 * for 12 megapixels, against the seconds the three variants take.
 */
export async function inspectUpload(input: Uint8Array, options: InspectOptions = {}): Promise<ImageInfo> {
  const info = await inspectImage(input, options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  try {
    await sharp(input, sharpOptions(maxPixels)).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (err) {
    throw rejection(err, info.format, info.format === 'heif', maxPixels);
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Processing

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
}

/**
 * Validates, auto-rotates and re-encodes an upload into its stored variants, none of which
 * carries any metadata. Throws `PhotoRejectedError`.
 */
export async function processImage(input: Uint8Array, options: ProcessOptions = {}): Promise<ProcessedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const displaySize = options.displaySize ?? DEFAULT_DISPLAY_SIZE;
  const thumbSize = options.thumbSize ?? DEFAULT_THUMB_SIZE;
  const format = options.format ?? 'jpeg';
  checkSize('displaySize', displaySize);
  checkSize('thumbSize', thumbSize);

  const info = await inspectImage(input, { maxPixels, now: options.now });
  const heic = info.format === 'heif';

  // One pipeline per variant, each upright, sRGB and 8 bits per channel. libvips decodes a
  // JPEG for a small variant at a fraction of its size (shrink-on-load), so three pipelines
  // cost less than decoding the whole image once and resizing that. JPEG output has no alpha,
  // so transparent pixels become white rather than black.
  const upright = () => {
    const pipeline = sharp(input, sharpOptions(maxPixels)).rotate().toColourspace('srgb');
    return format === 'jpeg' ? pipeline.flatten({ background: '#ffffff' }) : pipeline;
  };
  let original: ImageVariant;
  let display: ImageVariant;
  let thumbnail: ImageVariant;
  try {
    // Rotation does not change the longest side, which decides whether WebP can hold the original.
    const longest = Math.max(info.width, info.height);
    const originalFormat: OutputFormat = format === 'webp' && longest > WEBP_MAX_SIDE ? 'jpeg' : format;
    const handOut = (name: 'original' | 'display' | 'thumbnail') => (variant: ImageVariant) => {
      options.onVariant?.(name, variant);
      return variant;
    };
    [original, display, thumbnail] = await Promise.all([
      encode(upright(), originalFormat, QUALITY.original).then(handOut('original')),
      encode(fitInside(upright(), displaySize), format, QUALITY.display).then(handOut('display')),
      encode(fitInside(upright(), thumbSize), format, QUALITY.thumbnail).then(handOut('thumbnail')),
    ]);
  } catch (err) {
    throw rejection(err, info.format, heic, maxPixels);
  }
  return { original, display, thumbnail, takenAt: info.takenAt, sourceFormat: info.format };
}

const fitInside = (image: Sharp, size: number) =>
  image.resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true });

async function encode(image: Sharp, format: OutputFormat, quality: number): Promise<ImageVariant> {
  // No keepMetadata/withMetadata/keepExif/keepIccProfile: sharp writes no EXIF, XMP, IPTC or
  // ICC profile, and the pixels are already sRGB.
  const encoded =
    format === 'jpeg'
      ? image.jpeg({ quality, mozjpeg: false, progressive: quality < QUALITY.original })
      : // A full-resolution WebP at the default effort takes a second or two; effort 2 a third of that.
        image.webp({ quality, effort: quality >= QUALITY.original ? 2 : 4 });
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, contentType: format === 'jpeg' ? 'image/jpeg' : 'image/webp' };
}

// ---------------------------------------------------------------------------------------------
// EXIF: just enough TIFF to find when the photo was taken.

const TAG_EXIF_IFD = 0x8769;
const TAG_DATE_TIME_ORIGINAL = 0x9003;
const TAG_DATE_TIME_DIGITIZED = 0x9004;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TAG_OFFSET_TIME_DIGITIZED = 0x9012;
const TAG_SUB_SEC_TIME_ORIGINAL = 0x9291;
const TAG_SUB_SEC_TIME_DIGITIZED = 0x9292;
const TYPE_ASCII = 2;
const TYPE_LONG = 4;
const TYPE_IFD = 13;
const MAX_IFD_ENTRIES = 1000;

type Tiff = { view: Buffer; little: boolean };

const u16 = (t: Tiff, at: number) => (t.little ? t.view.readUInt16LE(at) : t.view.readUInt16BE(at));
const u32 = (t: Tiff, at: number) => (t.little ? t.view.readUInt32LE(at) : t.view.readUInt32BE(at));

/** The entries of the IFD at `offset`, by tag, as the offset of each 12-byte entry. Empty when out of bounds. */
function readIfd(t: Tiff, offset: number): Map<number, number> {
  const entries = new Map<number, number>();
  if (offset < 8 || offset + 2 > t.view.length) return entries;
  const count = Math.min(u16(t, offset), MAX_IFD_ENTRIES);
  for (let i = 0; i < count; i++) {
    const entry = offset + 2 + i * 12;
    if (entry + 12 > t.view.length) break;
    entries.set(u16(t, entry), entry);
  }
  return entries;
}

function readAscii(t: Tiff, ifd: Map<number, number>, tag: number): string | undefined {
  const entry = ifd.get(tag);
  if (entry === undefined || u16(t, entry + 2) !== TYPE_ASCII) return undefined;
  const count = u32(t, entry + 4);
  const start = count <= 4 ? entry + 8 : u32(t, entry + 8);
  if (count === 0 || count > 256 || start + count > t.view.length) return undefined;
  const text = t.view.toString('latin1', start, start + count);
  const nul = text.indexOf('\0');
  return (nul === -1 ? text : text.slice(0, nul)).trim();
}

/**
 * When the photo was taken, from an EXIF block as sharp returns it (`Exif\0\0` and a TIFF
 * structure). The EXIF time is the camera's wall clock; it is read in its OffsetTime when the
 * camera recorded one, and as Europe/Amsterdam time otherwise. Null when absent or nonsensical.
 */
export function exifTakenAt(exif: Uint8Array, now?: Date): Date | null {
  try {
    let view = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
    if (view.toString('latin1', 0, 6) === 'Exif\0\0') view = view.subarray(6);
    if (view.length < 8) return null;
    const order = view.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return null;
    const t: Tiff = { view, little: order === 'II' };
    if (u16(t, 2) !== 42) return null;

    const ifd0 = readIfd(t, u32(t, 4));
    const pointer = ifd0.get(TAG_EXIF_IFD);
    if (pointer === undefined) return null;
    const type = u16(t, pointer + 2);
    if (type !== TYPE_LONG && type !== TYPE_IFD) return null;
    const exifIfd = readIfd(t, u32(t, pointer + 8));

    const candidates = [
      [TAG_DATE_TIME_ORIGINAL, TAG_OFFSET_TIME_ORIGINAL, TAG_SUB_SEC_TIME_ORIGINAL],
      [TAG_DATE_TIME_DIGITIZED, TAG_OFFSET_TIME_DIGITIZED, TAG_SUB_SEC_TIME_DIGITIZED],
    ] as const;
    for (const [dateTag, offsetTag, subSecTag] of candidates) {
      const date = parseExifDate(
        readAscii(t, exifIfd, dateTag),
        readAscii(t, exifIfd, offsetTag),
        readAscii(t, exifIfd, subSecTag),
      );
      // A camera whose clock was never set says 1970 or 2000; a wrong clock may say the future.
      if (date && date.getUTCFullYear() >= 1900 && (!now || date.getTime() <= now.getTime() + 2 * 86_400_000)) return date;
    }
    return null;
  } catch {
    // A malformed EXIF block is no reason to refuse the photo.
    return null;
  }
}

function parseExifDate(value?: string, offset?: string, subSec?: string): Date | null {
  const m = value?.match(/^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null; // 31 February
  const ms = subSec && /^\d+$/.test(subSec) ? Math.floor(Number(`0.${subSec}`) * 1000) : 0;

  const o = offset?.match(/^([+-])(\d{2}):(\d{2})$/);
  if (o) {
    const minutes = (Number(o[2]) * 60 + Number(o[3])) * (o[1] === '-' ? -1 : 1);
    if (Math.abs(minutes) <= 14 * 60) return new Date(wall - minutes * 60_000 + ms);
  }
  return new Date(zonedWallClockToUtc(wall, LOCAL_TIME_ZONE) + ms);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at instant `utc`, in milliseconds. */
function zoneOffset(utc: number, zone: string): number {
  let format = zoneFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(utc))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(utc / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `zone` shows `wall` (given as if it were UTC). In the
 * autumn overlap the earlier instant wins; in the spring gap the clock is read as summer time.
 */
function zonedWallClockToUtc(wall: number, zone: string): number {
  const first = wall - zoneOffset(wall, zone);
  const second = wall - zoneOffset(first, zone);
  if (first === second) {
    // Check the other side of a possible overlap: the earlier instant with the same wall time.
    const earlier = wall - zoneOffset(first - 3_600_000, zone);
    return earlier < first && earlier + zoneOffset(earlier, zone) === wall ? earlier : first;
  }
  return Math.min(first, second);
}

// ---------------------------------------------------------------------------------------------
// The photo page's variants

/**
 * The widths the photo page offers (srcset), the largest being the display image's own. 768 is
 * what most phones ask for (412 px at DPR 1.75 needs 721, 360 at DPR 2 needs 720): without it
 * they took the 1024, twice the bytes on a slow line and a slower first encode.
 */
export const VARIANT_WIDTHS = [480, 768, 1024, 1600] as const;
export type VariantWidth = (typeof VARIANT_WIDTHS)[number];
export const VARIANT_FORMATS = ['avif', 'webp', 'jpeg'] as const;
export type VariantFormat = (typeof VARIANT_FORMATS)[number];
export const VARIANT_TYPES: Record<VariantFormat, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };
/**
 * AVIF effort 2 of 9: sharp's default (4) took 6.9 s for a noisy 1600 px picture on one core
 * where effort 2 took 1.5 s for a file within 1% of the size; a real photo encodes faster. The
 * variant is made once (per parent, on first request) and kept, but that first wait is a
 * person looking at a blank photo page.
 */
export const AVIF_EFFORT = 2;
const VARIANT_QUALITY: Record<VariantFormat, number> = { avif: 55, webp: 78, jpeg: 82 };

/**
 * One variant of a display image: at most `width` wide (never enlarged), encoded as `format`,
 * without metadata (as every variant here). The input is already upright and stripped.
 */
export async function encodeVariant(input: Buffer, width: number, format: VariantFormat): Promise<Buffer> {
  const image = sharp(input).resize({ width, withoutEnlargement: true });
  const quality = VARIANT_QUALITY[format];
  if (format === 'avif') return await image.avif({ quality, effort: AVIF_EFFORT }).toBuffer();
  if (format === 'webp') return await image.webp({ quality }).toBuffer();
  return await image.jpeg({ quality, mozjpeg: true }).toBuffer();
}

/** The display image's size from the original's (longest side at most `displaySize`, as processImage makes it). */
export function displaySizeOf(width: number, height: number, displaySize = DEFAULT_DISPLAY_SIZE): { width: number; height: number } {
  const scale = Math.min(1, displaySize / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
