import sharp, { type OverlayOptions, type Sharp } from 'sharp';

/**
 * Per-download trace code for photos.
 *
 * Every downloaded copy of a photo carries a 32-bit trace code:
 *  - invisibly, as a low-amplitude spread-spectrum pattern in the luma of the pixels, and
 *  - optionally visibly, as a small semi-transparent text label in the bottom-right corner.
 *
 * Invisible scheme (keyed spread spectrum on a normalised grid):
 *  - The picture is divided into a fixed GRID x GRID grid of cells in *normalised* coordinates
 *    (the grid always spans the whole picture, whatever its size), so downscaling a copy does not
 *    move the cells relative to the content.
 *  - The payload is the 32-bit code plus a CRC-16 (48 bits). A permutation derived from a constant
 *    key spreads every payload bit over GRID*GRID/48 (≈340) cells scattered across the picture,
 *    and gives each cell a ±1 chip (balanced per bit).
 *  - Embedding adds `amplitude[bit] * chip` grey levels to every cell, bilinearly interpolated
 *    between cell centres (no hard block edges), equally to R, G and B (so it lives in the luma
 *    only). The per-bit amplitudes are fitted so that the picture's own correlation with each
 *    bit's chips is cancelled ("improved spread spectrum"): each bit then correlates as strongly
 *    as `strength` would on a flat picture, and busy photos no longer drown the mark.
 *  - Extraction resamples a copy to a fixed working resolution, averages the luma per cell,
 *    removes the picture content with a local high-pass (cell minus the mean of its 8 neighbours),
 *    clips outliers, and correlates with each bit's chips. The sign gives the bit. The CRC must
 *    match and the per-bit correlations must be uniformly strong, so unmarked or unrelated
 *    pictures yield null rather than a wrong code.
 *
 * The pattern survives JPEG re-encoding and rescaling (it is coarse and low-amplitude), but not
 * cropping, rotation or strong geometric edits, which shift the grid.
 *
 * Pure functions over Buffers; no I/O apart from sharp.
 */

/** Cells per axis of the normalised embedding grid. */
const GRID = 128;
/** Working pixels per cell (per axis) when extracting. */
const SUPERSAMPLE = 4;
const WORK = GRID * SUPERSAMPLE;
/** Residuals beyond this many (robust) standard deviations are clipped when correlating. */
const CLIP_SIGMAS = 3;
/** Refinement passes when fitting the per-bit amplitudes. */
const EMBED_ITERATIONS = 4;
/** Cap on a bit's amplitude relative to `strength`, for pictures that fight the pattern hard. */
const MAX_AMPLITUDE_FACTOR = 3;
const CODE_BITS = 32;
const CRC_BITS = 16;
const PAYLOAD_BITS = CODE_BITS + CRC_BITS;
/** Fixed key for the pseudo-random layout. Changing it invalidates all existing marks. */
const LAYOUT_KEY = 0x0d5a_7c31;
/** Default amplitude of the pattern, in 8-bit grey levels. */
export const DEFAULT_TRACE_STRENGTH = 3;
const MAX_STRENGTH = 24;
const OUTPUT_JPEG_QUALITY = 90;
/**
 * Minimum confidence to accept a code (besides the CRC). Unmarked pictures score below ~0.1
 * (their per-bit correlations have a half-normal spread); marked copies score near 1.
 */
const MIN_CONFIDENCE = 0.5;
const MAX_LABEL_LENGTH = 80;

export interface EmbedTraceOptions {
  /** When given, also rendered as a small semi-transparent text mark in the bottom-right corner. */
  visibleLabel?: string;
  /** Amplitude of the invisible pattern in grey levels (default 3). Higher is more robust and more visible. */
  strength?: number;
}

export interface TraceResult {
  code: number;
  /**
   * Estimated probability (0..1) that every payload bit was read correctly, from how uniform
   * the per-bit correlation magnitudes are (a mark makes them all about equal). Codes below
   * 0.5 are not returned; cleanly marked copies score ≈1.
   */
  confidence: number;
}

/** Returns a JPEG of `image` carrying `code` invisibly (and `visibleLabel` visibly, if given). */
export async function embedTraceCode(image: Buffer, code: number, options: EmbedTraceOptions = {}): Promise<Buffer> {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff_ffff) {
    throw new RangeError('trace code must be a 32-bit unsigned integer');
  }
  const strength = options.strength ?? DEFAULT_TRACE_STRENGTH;
  if (!Number.isFinite(strength) || strength <= 0 || strength > MAX_STRENGTH) {
    throw new RangeError(`strength must be in (0, ${MAX_STRENGTH}]`);
  }

  const { data, info } = await sharp(image)
    .rotate() // bake in the EXIF orientation: leaked copies are compared as displayed
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;

  // What the extractor would see of the unmarked picture, to cancel its interference.
  const host = await workingResidual(sharp(data, { raw: { width, height, channels } }));
  const field = cellField(bitAmplitudes(host, payloadBits(code), strength));
  addField(data, width, height, channels, field);

  let pipeline = sharp(data, { raw: { width, height, channels } });
  const label = options.visibleLabel?.trim();
  if (label) {
    const overlay = labelOverlay(label, width, height);
    if (overlay) pipeline = pipeline.composite([overlay]);
  }
  return pipeline.jpeg({ quality: OUTPUT_JPEG_QUALITY }).toBuffer();
}

/** Reads the trace code from a (possibly re-encoded or rescaled) copy; null if none is found. */
export async function extractTraceCode(image: Buffer): Promise<TraceResult | null> {
  const residual = await workingResidual(sharp(image).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb'));
  const dots = correlate(residual);
  if (!dots) return null;

  let code = 0;
  for (let i = 0; i < CODE_BITS; i++) code = code * 2 + (dots[i]! > 0 ? 1 : 0);
  let crc = 0;
  for (let i = CODE_BITS; i < PAYLOAD_BITS; i++) crc = crc * 2 + (dots[i]! > 0 ? 1 : 0);
  if (crc !== crc16(code)) return null;

  // A mark gives every bit about the same correlation magnitude; noise gives a half-normal spread.
  const magnitudes = dots.map(Math.abs);
  const mean = magnitudes.reduce((sum, m) => sum + m, 0) / PAYLOAD_BITS;
  const spread = Math.sqrt(magnitudes.reduce((sum, m) => sum + (m - mean) ** 2, 0) / (PAYLOAD_BITS - 1));
  const bitError = spread > 0 ? normalTail(mean / spread) : 0;
  const confidence = (1 - bitError) ** PAYLOAD_BITS;
  if (confidence < MIN_CONFIDENCE) return null;
  return { code, confidence };
}

// --- layout -------------------------------------------------------------------------------------

interface Layout {
  /** Payload bit carried by each cell. */
  bitOf: Uint8Array;
  /** ±1 chip of each cell. */
  chip: Int8Array;
  /** Number of cells per payload bit. */
  count: Uint32Array;
}

let cachedLayout: Layout | undefined;

function layout(): Layout {
  if (cachedLayout) return cachedLayout;
  const cells = GRID * GRID;
  const random = mulberry32(LAYOUT_KEY);
  const order = new Uint32Array(cells);
  for (let i = 0; i < cells; i++) order[i] = i;
  for (let i = cells - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const bitOf = new Uint8Array(cells);
  const chip = new Int8Array(cells);
  // Scattered cells k = b, b+48, b+96, … carry bit b; alternating chips keep each bit balanced.
  for (let k = 0; k < cells; k++) {
    const cell = order[k]!;
    bitOf[cell] = k % PAYLOAD_BITS;
    chip[cell] = Math.floor(k / PAYLOAD_BITS) % 2 === 0 ? 1 : -1;
  }
  const count = new Uint32Array(PAYLOAD_BITS);
  for (let c = 0; c < cells; c++) count[bitOf[c]!]! += 1;
  cachedLayout = { bitOf, chip, count };
  return cachedLayout;
}

function payloadBits(code: number): boolean[] {
  const bits: boolean[] = [];
  for (let i = CODE_BITS - 1; i >= 0; i--) bits.push(Math.floor(code / 2 ** i) % 2 === 1);
  const crc = crc16(code);
  for (let i = CRC_BITS - 1; i >= 0; i--) bits.push(((crc >> i) & 1) === 1);
  return bits;
}

/** Per-cell pattern (grey levels) for the given per-bit amplitudes. */
function cellField(amplitudes: Float64Array): Float32Array {
  const { bitOf, chip } = layout();
  const field = new Float32Array(GRID * GRID);
  for (let c = 0; c < field.length; c++) field[c] = chip[c]! * amplitudes[bitOf[c]!]!;
  return field;
}

// --- embedding ----------------------------------------------------------------------------------

interface Taps {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

/** Bilinear taps from pixel positions to cell centres along one axis of `length` pixels. */
function taps(length: number): Taps {
  const lo = new Int32Array(length);
  const hi = new Int32Array(length);
  const frac = new Float32Array(length);
  for (let p = 0; p < length; p++) {
    const u = Math.min(GRID - 1, Math.max(0, ((p + 0.5) * GRID) / length - 0.5));
    const i = Math.min(GRID - 2, Math.floor(u));
    lo[p] = i;
    hi[p] = i + 1;
    frac[p] = u - i;
  }
  return { lo, hi, frac };
}

function addField(data: Buffer, width: number, height: number, channels: number, field: Float32Array): void {
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  const xs = taps(width);
  const ys = taps(height);
  const row = new Float32Array(GRID);
  const colour = Math.min(channels, 3);
  for (let y = 0; y < height; y++) {
    const a = ys.lo[y]! * GRID;
    const b = ys.hi[y]! * GRID;
    const fy = ys.frac[y]!;
    for (let i = 0; i < GRID; i++) row[i] = field[a + i]! * (1 - fy) + field[b + i]! * fy;
    let p = y * width * channels;
    for (let x = 0; x < width; x++, p += channels) {
      const fx = xs.frac[x]!;
      const delta = row[xs.lo[x]!]! * (1 - fx) + row[xs.hi[x]!]! * fx;
      for (let ch = 0; ch < colour; ch++) pixels[p + ch] = pixels[p + ch]! + delta;
    }
  }
}

/**
 * Per-bit amplitudes (signed grey levels) such that the extractor's correlation for every bit
 * reaches the same target as `strength` would give on a flat picture, after cancelling the
 * picture's own correlation with that bit's chips ("improved spread spectrum"): the picture
 * content then no longer acts as noise, only later processing (re-encoding, resizing) does.
 */
function bitAmplitudes(host: Float64Array, bits: boolean[], strength: number): Float64Array {
  const { count } = layout();
  const g = patternGain();
  const amplitudes = new Float64Array(PAYLOAD_BITS);
  const target = new Float64Array(PAYLOAD_BITS);
  for (let b = 0; b < PAYLOAD_BITS; b++) {
    const sign = bits[b] ? 1 : -1;
    amplitudes[b] = sign * strength;
    target[b] = sign * strength * g * count[b]!;
  }
  const limit = MAX_AMPLITUDE_FACTOR * strength;
  const combined = new Float64Array(host.length);
  for (let iteration = 0; iteration < EMBED_ITERATIONS; iteration++) {
    const response = patternResponse(cellField(amplitudes));
    for (let c = 0; c < combined.length; c++) combined[c] = host[c]! + response[c]!;
    const dots = correlate(combined);
    if (!dots) break;
    for (let b = 0; b < PAYLOAD_BITS; b++) {
      const next = amplitudes[b]! + (target[b]! - dots[b]!) / (g * count[b]!);
      amplitudes[b] = Math.max(-limit, Math.min(limit, next));
    }
  }
  return amplitudes;
}

/** The residual the extractor sees of a pattern alone (rendered at working resolution). */
function patternResponse(field: Float32Array): Float64Array {
  const luma = new Float64Array(WORK * WORK);
  const t = taps(WORK);
  const row = new Float32Array(GRID);
  for (let y = 0; y < WORK; y++) {
    const a = t.lo[y]! * GRID;
    const b = t.hi[y]! * GRID;
    const fy = t.frac[y]!;
    for (let i = 0; i < GRID; i++) row[i] = field[a + i]! * (1 - fy) + field[b + i]! * fy;
    for (let x = 0; x < WORK; x++) {
      const fx = t.frac[x]!;
      luma[y * WORK + x] = row[t.lo[x]!]! * (1 - fx) + row[t.hi[x]!]! * fx;
    }
  }
  return highPass(cellMeans(luma, WORK, WORK));
}

let cachedGain: number | undefined;

/** Mean correlation per cell and grey level of a bit's own pattern, as seen by the extractor. */
function patternGain(): number {
  if (cachedGain !== undefined) return cachedGain;
  const { chip, bitOf, count } = layout();
  const response = patternResponse(Float32Array.from(chip));
  const dot = new Float64Array(PAYLOAD_BITS);
  for (let c = 0; c < response.length; c++) dot[bitOf[c]!]! += response[c]! * chip[c]!;
  let sum = 0;
  for (let b = 0; b < PAYLOAD_BITS; b++) sum += dot[b]! / count[b]!;
  cachedGain = sum / PAYLOAD_BITS;
  return cachedGain;
}

// --- extraction ---------------------------------------------------------------------------------

/** Luma residual per cell of a picture resampled to the working resolution. */
async function workingResidual(pipeline: Sharp): Promise<Float64Array> {
  const { data, info } = await pipeline
    .resize(WORK, WORK, { fit: 'fill' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const pixels = info.width * info.height;
  const luma = new Float64Array(pixels);
  const n = info.channels;
  for (let i = 0, p = 0; i < pixels; i++, p += n) {
    luma[i] = n >= 3 ? 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]! : data[p]!;
  }
  return highPass(cellMeans(luma, info.width, info.height));
}

function cellMeans(luma: Float64Array, width: number, height: number): Float64Array {
  const sums = new Float64Array(GRID * GRID);
  const counts = new Uint32Array(GRID * GRID);
  for (let y = 0; y < height; y++) {
    const rowBase = Math.min(GRID - 1, Math.floor((y * GRID) / height)) * GRID;
    for (let x = 0; x < width; x++) {
      const c = rowBase + Math.min(GRID - 1, Math.floor((x * GRID) / width));
      sums[c]! += luma[y * width + x]!;
      counts[c]! += 1;
    }
  }
  for (let c = 0; c < sums.length; c++) sums[c] = sums[c]! / Math.max(1, counts[c]!);
  return sums;
}

/** Cell mean minus the mean of its (up to 8) neighbours: removes the smooth picture content. */
function highPass(means: Float64Array): Float64Array {
  const out = new Float64Array(means.length);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= GRID) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= GRID) continue;
          sum += means[yy * GRID + xx]!;
          n++;
        }
      }
      out[y * GRID + x] = means[y * GRID + x]! - sum / n;
    }
  }
  return out;
}

/** Correlation of the (outlier-clipped) residual with each payload bit's chips, or null if flat. */
function correlate(residual: Float64Array): number[] | null {
  const magnitudes = Float64Array.from(residual, Math.abs).sort();
  const sigma = 1.4826 * magnitudes[magnitudes.length >> 1]!;
  if (!(sigma > 1e-3)) return null;
  const limit = CLIP_SIGMAS * sigma;
  const { bitOf, chip } = layout();
  const dot = new Array<number>(PAYLOAD_BITS).fill(0);
  for (let c = 0; c < residual.length; c++) {
    const r = Math.max(-limit, Math.min(limit, residual[c]!));
    dot[bitOf[c]!]! += r * chip[c]!;
  }
  return dot;
}

// --- visible label ------------------------------------------------------------------------------

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A small semi-transparent label in the bottom-right corner, or null if the picture is too small. */
function labelOverlay(label: string, width: number, height: number): OverlayOptions | null {
  const text = [...label].slice(0, MAX_LABEL_LENGTH).join('');
  const fontSize = Math.max(10, Math.round(Math.min(width, height) * 0.018));
  const pad = Math.round(fontSize * 0.4);
  const boxWidth = Math.ceil([...text].length * fontSize * 0.62) + 2 * pad;
  const boxHeight = Math.ceil(fontSize * 1.3) + 2 * pad;
  const margin = Math.round(fontSize * 0.8);
  if (boxWidth + margin > width || boxHeight + margin > height) return null;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${boxWidth}" height="${boxHeight}">` +
    `<text x="${boxWidth - pad}" y="${boxHeight - pad - Math.round(fontSize * 0.25)}" text-anchor="end" ` +
    `font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" ` +
    `fill="#ffffff" fill-opacity="0.55" stroke="#000000" stroke-opacity="0.25" stroke-width="${Math.max(1, fontSize / 14)}">` +
    `${escapeXml(text)}</text></svg>`;
  return {
    input: Buffer.from(svg),
    left: width - boxWidth - margin,
    top: height - boxHeight - margin,
  };
}

// --- helpers ------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** CRC-16/CCITT-FALSE over the code's four bytes, big-endian. */
function crc16(code: number): number {
  let crc = 0xffff;
  for (let shift = 24; shift >= 0; shift -= 8) {
    crc ^= ((code >>> shift) & 0xff) << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** P(Z > z) for a standard normal Z (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.327_591_1 * x);
  const poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
  return 0.5 * poly * Math.exp(-x * x);
}
