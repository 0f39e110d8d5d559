import sharp, { type OverlayOptions } from 'sharp';
import { cropCandidates, FULL_WINDOW, GRID, type Luma, MAX_CROP, mulberry32, syncSequences, WORK, type Window, windowCellMeans, workingLuma } from './trace-sync.ts';

/**
 * Per-download trace code for photos.
 *
 * Every downloaded copy of a photo carries a 32-bit trace code:
 *  - invisibly, as a low-amplitude spread-spectrum pattern in the luma of the pixels, and
 *  - optionally visibly, as a small semi-transparent text label in the bottom-right corner.
 *
 * Invisible scheme (keyed spread spectrum on a normalised grid, with synchronisation):
 *  - The picture is divided into a fixed GRID x GRID grid of cells in *normalised* coordinates
 *    (the grid always spans the whole picture, whatever its size), so rescaling a copy does not
 *    move the cells relative to the content.
 *  - The payload is the 32-bit code plus a CRC-16 (48 bits). A permutation derived from a constant
 *    key spreads every payload bit over GRID*GRID/48 (≈340) cells scattered across the picture,
 *    and gives each cell a ±1 chip (balanced per bit). The payload pattern has its row and column
 *    means removed.
 *  - Two known pseudo-random sequences are added for synchronisation: one along x (constant down
 *    each column) and one along y (constant along each row); see trace-sync.ts.
 *  - Embedding adds the payload and sync patterns to every cell, bilinearly interpolated between
 *    cell centres (no hard block edges), equally to R, G and B (so they live in the luma only).
 *    The payload amplitudes are fitted so that the picture's own correlation with each bit's
 *    chips is cancelled ("improved spread spectrum"), separately for the core of the picture that
 *    every tolerated crop keeps and for the ring around it, so busy photos do not drown the mark
 *    in a cropped copy either.
 *  - Extraction resamples a copy to a fixed working resolution and first assumes it shows the
 *    whole original. If no code is found there, the sync profiles give the few most likely crops
 *    (fractions cut off each side, up to MAX_CROP), and each is tried: the copy is mapped back
 *    onto the original's grid (cells it does not show are left out), and decoded the same way.
 *  - Decoding averages the luma per cell, removes the picture content with a local high-pass
 *    (cell minus the mean of its known neighbours) and removes row and column means (the sync),
 *    clips outliers, and correlates with each bit's chips. The sign gives the bit. The CRC must
 *    match and the per-bit correlations must be uniformly strong, so unmarked or unrelated
 *    pictures yield null rather than a wrong code.
 *
 * The pattern survives JPEG re-encoding (down to q50), rescaling (down to 50%), screenshots
 * (PNG, rescaled), and crops of up to ~10% from any side (symmetric or not), also combined with
 * re-encoding or rescaling (`npx tsx bench/trace-survival.ts` prints the matrix). It does not
 * survive rotation, flips, perspective changes, crops well beyond 10% per side, or a crop of
 * busy, coarse content that is also rescaled hard (the payload then gets too weak).
 *
 * Pure functions over Buffers; no I/O apart from sharp.
 */

/** Residuals beyond this many (robust) standard deviations are clipped when correlating. */
const CLIP_SIGMAS = 3;
/** Refinement passes when fitting the per-bit amplitudes. */
const EMBED_ITERATIONS = 4;
/** Cap on a bit's amplitude relative to `strength`, for pictures that fight the pattern hard. */
const MAX_AMPLITUDE_FACTOR = 3;
/** Amplitude of each sync sequence relative to `strength`. */
const SYNC_FACTOR = 0.35;
const CODE_BITS = 32;
const CRC_BITS = 16;
const PAYLOAD_BITS = CODE_BITS + CRC_BITS;
/** Fixed key for the pseudo-random layout. Changing it invalidates all existing marks. */
const LAYOUT_KEY = 0x0d5a_7c32;
/** Default amplitude of the pattern, in 8-bit grey levels. */
export const DEFAULT_TRACE_STRENGTH = 2.5;
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
  /** Amplitude of the invisible pattern in grey levels (default 2.5). Higher is more robust and more visible. */
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
  const hostLuma = await workingLuma(sharp(data, { raw: { width, height, channels } }));
  const host = windowResidual(hostLuma, FULL_WINDOW);
  const field = payloadField(bitAmplitudes(host.residual, payloadBits(code), strength));
  const sync = syncSequences();
  const syncAmplitude = SYNC_FACTOR * strength;
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) field[j * GRID + i]! += syncAmplitude * (sync.x[i]! + sync.y[j]!);
  }
  addField(data, width, height, channels, field);

  let pipeline = sharp(data, { raw: { width, height, channels } });
  const label = options.visibleLabel?.trim();
  if (label) {
    const overlay = labelOverlay(label, width, height);
    if (overlay) pipeline = pipeline.composite([overlay]);
  }
  return pipeline.jpeg({ quality: OUTPUT_JPEG_QUALITY }).toBuffer();
}

/**
 * Reads the trace code from a (possibly re-encoded, rescaled or cropped) copy; null if none is
 * found. Tries the uncropped geometry first, then the crops that the sync patterns point at.
 */
export async function extractTraceCode(image: Buffer): Promise<TraceResult | null> {
  const luma = await workingLuma(sharp(image).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb'));
  const direct = decodeWindow(luma, FULL_WINDOW);
  if (direct) return direct;
  let best: TraceResult | null = null;
  for (const window of cropCandidates(luma)) {
    const found = decodeWindow(luma, window);
    if (found && (!best || found.confidence > best.confidence)) best = found;
  }
  return best;
}

function decodeWindow(luma: Luma, window: Window): TraceResult | null {
  const { residual, known } = windowResidual(luma, window);
  const dots = correlate(residual, known);
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

/**
 * The cells of each bit fall in two groups: the core that every crop the extractor looks for
 * keeps, and the ring around it. The embedder cancels the picture's interference per group, so a
 * cropped copy, which loses part of the ring, still has the core's interference cancelled.
 */
const GROUPS = 2 * PAYLOAD_BITS;

interface Layout {
  /** Payload bit carried by each cell. */
  bitOf: Uint8Array;
  /** Group of each cell: its bit, plus PAYLOAD_BITS when it lies in the ring. */
  groupOf: Uint8Array;
  /** ±1 chip of each cell. */
  chip: Int8Array;
  /** Number of cells per payload bit. */
  count: Uint32Array;
  groupCount: Uint32Array;
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
  const groupOf = new Uint8Array(cells);
  const groupCount = new Uint32Array(GROUPS);
  const inCore = (i: number) => (i + 0.5) / GRID > MAX_CROP && (i + 0.5) / GRID < 1 - MAX_CROP;
  for (let c = 0; c < cells; c++) {
    const core = inCore(c % GRID) && inCore(Math.floor(c / GRID));
    groupOf[c] = bitOf[c]! + (core ? 0 : PAYLOAD_BITS);
    groupCount[groupOf[c]!]! += 1;
  }
  cachedLayout = { bitOf, groupOf, chip, count, groupCount };
  return cachedLayout;
}

function payloadBits(code: number): boolean[] {
  const bits: boolean[] = [];
  for (let i = CODE_BITS - 1; i >= 0; i--) bits.push(Math.floor(code / 2 ** i) % 2 === 1);
  const crc = crc16(code);
  for (let i = CRC_BITS - 1; i >= 0; i--) bits.push(((crc >> i) & 1) === 1);
  return bits;
}

/**
 * Per-cell payload pattern (grey levels) for the given per-bit amplitudes, with its row and column
 * means removed: the extractor discards those anyway, and without them the payload does not
 * disturb the sync profiles, which are exactly such means.
 */
function payloadField(amplitudes: Float64Array): Float64Array {
  const { groupOf, chip } = layout();
  const field = new Float64Array(GRID * GRID);
  for (let c = 0; c < field.length; c++) field[c] = chip[c]! * amplitudes[groupOf[c]!]!;
  removeLineMeans(field, ALL_KNOWN);
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

function addField(data: Buffer, width: number, height: number, channels: number, field: Float64Array): void {
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  const xs = taps(width);
  const ys = taps(height);
  // Each grid row interpolated across the picture's width once; per pixel only the blend down.
  const across = new Float32Array(GRID * width);
  for (let j = 0; j < GRID; j++) {
    for (let x = 0; x < width; x++) {
      const fx = xs.frac[x]!;
      across[j * width + x] = field[j * GRID + xs.lo[x]!]! * (1 - fx) + field[j * GRID + xs.hi[x]!]! * fx;
    }
  }
  const colour = Math.min(channels, 3);
  for (let y = 0; y < height; y++) {
    const a = ys.lo[y]! * width;
    const b = ys.hi[y]! * width;
    const fy = ys.frac[y]!;
    let p = y * width * channels;
    for (let x = 0; x < width; x++, p += channels) {
      const delta = across[a + x]! * (1 - fy) + across[b + x]! * fy;
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
  const { groupCount } = layout();
  const g = patternGain();
  const amplitudes = new Float64Array(GROUPS);
  const target = new Float64Array(GROUPS);
  for (let k = 0; k < GROUPS; k++) {
    const sign = bits[k % PAYLOAD_BITS] ? 1 : -1;
    amplitudes[k] = sign * strength;
    target[k] = sign * strength * g * groupCount[k]!;
  }
  const limit = MAX_AMPLITUDE_FACTOR * strength;
  const combined = new Float64Array(host.length);
  for (let iteration = 0; iteration < EMBED_ITERATIONS; iteration++) {
    const response = patternResponse(payloadField(amplitudes));
    for (let c = 0; c < combined.length; c++) combined[c] = host[c]! + response[c]!;
    const dots = correlateGroups(combined, ALL_KNOWN);
    if (!dots) break;
    for (let k = 0; k < GROUPS; k++) {
      const next = amplitudes[k]! + (target[k]! - dots[k]!) / (g * groupCount[k]!);
      amplitudes[k] = Math.max(-limit, Math.min(limit, next));
    }
  }
  return amplitudes;
}

/** Per cell, the working pixels' weights on each cell centre: [cell, weight] pairs. */
let cachedCellWeights: [number, number][][] | undefined;

function cellWeights(): [number, number][][] {
  if (cachedCellWeights) return cachedCellWeights;
  const t = taps(WORK);
  const per = WORK / GRID;
  const weights: [number, number][][] = [];
  for (let i = 0; i < GRID; i++) {
    const w = new Map<number, number>();
    for (let p = i * per; p < (i + 1) * per; p++) {
      w.set(t.lo[p]!, (w.get(t.lo[p]!) ?? 0) + (1 - t.frac[p]!) / per);
      w.set(t.hi[p]!, (w.get(t.hi[p]!) ?? 0) + t.frac[p]! / per);
    }
    weights.push([...w]);
  }
  cachedCellWeights = weights;
  return weights;
}

/**
 * The residual the extractor sees of a pattern alone. Rendering bilinearly at working resolution
 * and averaging per cell is separable and local, so it is applied per axis on the grid itself.
 */
function patternResponse(field: Float64Array): Float64Array {
  const weights = cellWeights();
  const across = new Float64Array(GRID * GRID);
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      let sum = 0;
      for (const [k, w] of weights[i]!) sum += w * field[j * GRID + k]!;
      across[j * GRID + i] = sum;
    }
  }
  const means = new Float64Array(GRID * GRID);
  for (let j = 0; j < GRID; j++) {
    for (const [k, w] of weights[j]!) {
      for (let i = 0; i < GRID; i++) means[j * GRID + i]! += w * across[k * GRID + i]!;
    }
  }
  return residualOfMeans(means, ALL_KNOWN);
}

let cachedGain: number | undefined;

/** Mean correlation per cell and grey level of a bit's own pattern, as seen by the extractor. */
function patternGain(): number {
  if (cachedGain !== undefined) return cachedGain;
  const { chip, bitOf, count } = layout();
  const response = patternResponse(Float64Array.from(chip));
  const dot = new Float64Array(PAYLOAD_BITS);
  for (let c = 0; c < response.length; c++) dot[bitOf[c]!]! += response[c]! * chip[c]!;
  let sum = 0;
  for (let b = 0; b < PAYLOAD_BITS; b++) sum += dot[b]! / count[b]!;
  cachedGain = sum / PAYLOAD_BITS;
  return cachedGain;
}

// --- extraction ---------------------------------------------------------------------------------

const ALL_KNOWN = new Uint8Array(GRID * GRID).fill(1);

/** Residual per cell of the original's grid as a copy showing `window` of it shows it. */
function windowResidual(luma: Luma, window: Window): { residual: Float64Array; known: Uint8Array } {
  const { means, known } = windowCellMeans(luma, window);
  return { residual: residualOfMeans(means, known), known };
}

/**
 * Removes the picture content from cell means: each cell minus the mean of its known neighbours
 * (a local high-pass), then every row's and column's mean, which also holds the sync patterns.
 */
function residualOfMeans(means: Float64Array, known: Uint8Array): Float64Array {
  const out = new Float64Array(means.length);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      if (!known[y * GRID + x]) continue;
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= GRID) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= GRID || !known[yy * GRID + xx]) continue;
          sum += means[yy * GRID + xx]!;
          n++;
        }
      }
      out[y * GRID + x] = n > 0 ? means[y * GRID + x]! - sum / n : 0;
    }
  }
  removeLineMeans(out, known);
  return out;
}

/** Subtracts row then column means over the known cells (exact double centring when all are known). */
function removeLineMeans(grid: Float64Array, known: Uint8Array): void {
  for (const [outer, inner] of [
    [GRID, 1],
    [1, GRID],
  ] as const) {
    for (let a = 0; a < GRID; a++) {
      let sum = 0;
      let n = 0;
      for (let b = 0; b < GRID; b++) {
        const c = a * inner + b * outer;
        if (known[c]) {
          sum += grid[c]!;
          n++;
        }
      }
      if (n === 0) continue;
      const mean = sum / n;
      for (let b = 0; b < GRID; b++) {
        const c = a * inner + b * outer;
        if (known[c]) grid[c] = grid[c]! - mean;
      }
    }
  }
}

/** Correlation of the (outlier-clipped) known residual with each payload bit's chips, or null if flat. */
function correlate(residual: Float64Array, known: Uint8Array): number[] | null {
  const groups = correlateGroups(residual, known);
  return groups && Array.from({ length: PAYLOAD_BITS }, (_, b) => groups[b]! + groups[b + PAYLOAD_BITS]!);
}

function correlateGroups(residual: Float64Array, known: Uint8Array): number[] | null {
  const magnitudes = new Float64Array(residual.length);
  let n = 0;
  for (let c = 0; c < residual.length; c++) if (known[c]) magnitudes[n++] = Math.abs(residual[c]!);
  if (n === 0) return null;
  const sigma = 1.4826 * median(magnitudes.subarray(0, n));
  if (!(sigma > 1e-3)) return null;
  const limit = CLIP_SIGMAS * sigma;
  const { groupOf, chip } = layout();
  const dot = new Array<number>(GROUPS).fill(0);
  for (let c = 0; c < residual.length; c++) {
    if (!known[c]) continue;
    const r = Math.max(-limit, Math.min(limit, residual[c]!));
    dot[groupOf[c]!]! += r * chip[c]!;
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

/** Median by quickselect (reorders `values`): sorting every call made embedding noticeably slower. */
function median(values: Float64Array): number {
  const k = values.length >> 1;
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k]!;
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
