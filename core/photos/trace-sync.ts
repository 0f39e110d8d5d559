import type { Sharp } from 'sharp';

/**
 * Geometry of the invisible trace mark (see trace-mark.ts): the normalised cell grid, the window
 * of the original that a (possibly cropped) copy shows, and the synchronisation patterns that let
 * the extractor find that window again.
 *
 * Synchronisation: besides the payload, the mark carries two known pseudo-random 1-D sequences,
 * one along x (constant down each column) and one along y (constant along each row). Averaging a
 * copy's high-passed luma over its rows cancels the picture content and the payload (which has
 * zero row and column means) far more than it cancels the x sequence, so the averaged profile
 * is the x sequence as the copy shows it: stretched and shifted by the crop. Trying every pair of
 * (left, right) crop fractions and correlating finds the mapping; y likewise, independently.
 */

/** Cells per axis of the normalised embedding grid. */
export const GRID = 128;
/** Working pixels per cell (per axis) of an uncropped copy. */
const SUPERSAMPLE = 4;
/** Side of the square working picture every copy is resampled to. */
export const WORK = GRID * SUPERSAMPLE;
/** Largest crop per side that the extractor looks for (fraction of the original's side). */
export const MAX_CROP = 0.13;
/** Coarse search step: one working pixel of an uncropped copy (a quarter cell). */
const COARSE_STEP = 1 / WORK;
/** Candidate crops per axis that are handed on to the payload decoder. */
const CANDIDATES_PER_AXIS = 4;
/** Half-width (working pixels) of the box whose mean is removed from the sync profile. */
const PROFILE_HALF_BOX = 6;
/** Pixel residuals beyond this many robust standard deviations are clipped before averaging. */
const PROFILE_CLIP_SIGMAS = 2.5;
/** Order of the whitening filter fitted to each profile. */
const WHITEN_ORDER = 12;
const SYNC_KEY_X = 0x5f1c_2e97;
const SYNC_KEY_Y = 0x2b8d_41a3;

/** Fractions of the original's width and height cut off each side in a copy. */
export interface Window {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const FULL_WINDOW: Window = { left: 0, right: 0, top: 0, bottom: 0 };

/** Luma of a picture resampled to WORK x WORK, whatever its aspect ratio. */
export interface Luma {
  data: Float64Array;
  width: number;
  height: number;
}

export async function workingLuma(pipeline: Sharp): Promise<Luma> {
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
  return { data: luma, width: info.width, height: info.height };
}

// --- cells of the original seen through a window ------------------------------------------------

/**
 * Mean luma of every cell of the original's grid as seen in a copy showing `window` of it, and
 * which cells the copy shows entirely (the others are unknown). Exact area means via a summed-area
 * table, so fractional cell boundaries cost no more than whole ones.
 */
export function windowCellMeans(luma: Luma, window: Window): { means: Float64Array; known: Uint8Array } {
  const { width, height, data } = luma;
  const stride = width + 1;
  const table = new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let run = 0;
    for (let x = 0; x < width; x++) {
      run += data[y * width + x]!;
      table[(y + 1) * stride + x + 1] = table[y * stride + x + 1]! + run;
    }
  }
  // The integral of a pixel-constant picture is bilinear inside each pixel, so this is exact.
  const integral = (x: number, y: number): number => {
    const x0 = Math.min(width - 1, Math.floor(x));
    const y0 = Math.min(height - 1, Math.floor(y));
    const fx = x - x0;
    const fy = y - y0;
    const a = table[y0 * stride + x0]!;
    const b = table[y0 * stride + x0 + 1]!;
    const c = table[(y0 + 1) * stride + x0]!;
    const d = table[(y0 + 1) * stride + x0 + 1]!;
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
  };
  const xs = cellEdges(window.left, window.right, width);
  const ys = cellEdges(window.top, window.bottom, height);
  const means = new Float64Array(GRID * GRID);
  const known = new Uint8Array(GRID * GRID);
  for (let j = 0; j < GRID; j++) {
    const y0 = ys[j]!;
    const y1 = ys[j + 1]!;
    if (y0 < -1e-6 || y1 > height + 1e-6) continue;
    for (let i = 0; i < GRID; i++) {
      const x0 = xs[i]!;
      const x1 = xs[i + 1]!;
      if (x0 < -1e-6 || x1 > width + 1e-6) continue;
      const cx0 = Math.max(0, x0);
      const cx1 = Math.min(width, x1);
      const cy0 = Math.max(0, y0);
      const cy1 = Math.min(height, y1);
      const sum = integral(cx1, cy1) - integral(cx0, cy1) - integral(cx1, cy0) + integral(cx0, cy0);
      means[j * GRID + i] = sum / ((cx1 - cx0) * (cy1 - cy0));
      known[j * GRID + i] = 1;
    }
  }
  return { means, known };
}

/** Positions in the copy's working pixels of the original's cell edges along one axis. */
function cellEdges(before: number, after: number, length: number): Float64Array {
  const scale = length / (1 - before - after);
  const edges = new Float64Array(GRID + 1);
  for (let i = 0; i <= GRID; i++) edges[i] = (i / GRID - before) * scale;
  return edges;
}

// --- sync sequences -----------------------------------------------------------------------------

let cachedSequences: { x: Float64Array; y: Float64Array } | undefined;

/** The known zero-mean ±1 sequences along x and y, one value per grid column / row. */
export function syncSequences(): { x: Float64Array; y: Float64Array } {
  if (cachedSequences) return cachedSequences;
  const make = (key: number) => {
    const random = mulberry32(key);
    const seq = Float64Array.from({ length: GRID }, () => (random() < 0.5 ? -1 : 1));
    const mean = seq.reduce((s, v) => s + v, 0) / GRID;
    return seq.map((v) => v - mean);
  };
  cachedSequences = { x: make(SYNC_KEY_X), y: make(SYNC_KEY_Y) };
  return cachedSequences;
}

/** A sequence sampled at normalised position u in [0, 1], bilinear between cell centres. */
function sample(seq: Float64Array, u: number): number {
  const t = Math.min(GRID - 1, Math.max(0, u * GRID - 0.5));
  const i = Math.min(GRID - 2, Math.floor(t));
  const f = t - i;
  return seq[i]! * (1 - f) + seq[i + 1]! * f;
}

// --- profile and crop search --------------------------------------------------------------------

/**
 * High-passed, clipped luma averaged across the other axis: along x (averaging each column) or
 * along y (averaging each row). Clipping keeps a few strong edges from dominating the average.
 */
function profile(luma: Luma, axis: 'x' | 'y'): Float64Array {
  const { width, height, data } = luma;
  const length = axis === 'x' ? width : height;
  const lines = axis === 'x' ? height : width;
  const at = axis === 'x' ? (line: number, p: number) => data[line * width + p]! : (line: number, p: number) => data[p * width + line]!;
  const residual = new Float64Array(length * lines);
  const line = new Float64Array(length);
  for (let l = 0; l < lines; l++) {
    for (let p = 0; p < length; p++) line[p] = at(l, p);
    highPassLine(line, residual.subarray(l * length, (l + 1) * length));
  }
  const magnitudes = Float64Array.from({ length: 4096 }, (_, k) => Math.abs(residual[(k * 7919) % residual.length]!)).sort();
  const limit = PROFILE_CLIP_SIGMAS * 1.4826 * magnitudes[magnitudes.length >> 1]!;
  const out = new Float64Array(length);
  for (let l = 0; l < lines; l++) {
    for (let p = 0; p < length; p++) out[p]! += Math.max(-limit, Math.min(limit, residual[l * length + p]!));
  }
  for (let p = 0; p < length; p++) out[p] = out[p]! / lines;
  return out;
}

/** `line` minus its running mean over ±PROFILE_HALF_BOX (truncated at the ends). */
function highPassLine(line: ArrayLike<number>, out: Float64Array): void {
  const n = line.length;
  const prefix = new Float64Array(n + 1);
  for (let p = 0; p < n; p++) prefix[p + 1] = prefix[p]! + line[p]!;
  for (let p = 0; p < n; p++) {
    const a = Math.max(0, p - PROFILE_HALF_BOX);
    const b = Math.min(n, p + PROFILE_HALF_BOX + 1);
    out[p] = line[p]! - (prefix[b]! - prefix[a]!) / (b - a);
  }
}

interface AxisCandidate {
  before: number;
  after: number;
  score: number;
}

/**
 * A prediction-error (whitening) filter fitted to a profile: the picture's leftover content is
 * strongly coloured (smooth blobs, repeated edges), and whitening it before correlating turns the
 * plain correlation into a matched filter for the sync in that coloured noise.
 */
function whitener(observed: Float64Array): Float64Array {
  const n = observed.length;
  const r = new Float64Array(WHITEN_ORDER + 1);
  for (let k = 0; k <= WHITEN_ORDER; k++) {
    for (let p = k; p < n; p++) r[k]! += observed[p]! * observed[p - k]!;
  }
  r[0] = r[0]! * 1.01 + 1e-9; // a little white floor keeps the filter tame
  // Levinson-Durbin recursion for the coefficients a[1..order] (a[0] = 1).
  let a = new Float64Array(WHITEN_ORDER + 1);
  a[0] = 1;
  let error = r[0]!;
  for (let m = 1; m <= WHITEN_ORDER; m++) {
    let acc = r[m]!;
    for (let k = 1; k < m; k++) acc += a[k]! * r[m - k]!;
    const reflection = -acc / error;
    const next = a.slice();
    for (let k = 1; k < m; k++) next[k] = a[k]! + reflection * a[m - k]!;
    next[m] = reflection;
    a = next;
    error *= 1 - reflection * reflection;
  }
  return a;
}

function applyFilter(filter: Float64Array, input: Float64Array, out: Float64Array): void {
  for (let p = 0; p < input.length; p++) {
    let acc = 0;
    for (let k = 0; k < filter.length && k <= p; k++) acc += filter[k]! * input[p - k]!;
    out[p] = acc;
  }
}

interface Observation {
  /** The whitened, clipped profile. */
  profile: Float64Array;
  filter: Float64Array;
  energy: number;
}

function observe(raw: Float64Array): Observation {
  const filter = whitener(raw);
  const profile = new Float64Array(raw.length);
  applyFilter(filter, raw, profile);
  // A strong straight edge across the picture leaves a spike even after whitening: clip it.
  const magnitudes = Float64Array.from(profile, Math.abs).sort();
  const limit = PROFILE_CLIP_SIGMAS * 1.4826 * magnitudes[magnitudes.length >> 1]!;
  for (let p = 0; p < profile.length; p++) profile[p] = Math.max(-limit, Math.min(limit, profile[p]!));
  const energy = Math.sqrt(profile.reduce((s, v) => s + v * v, 0)) || 1;
  return { profile, filter, energy };
}

/** Normalised correlation of the observation with the sequence as a copy cropping (before, after) shows it. */
function matchScore(observed: Observation, seq: Float64Array, before: number, after: number, scratch: Float64Array[]): number {
  const n = observed.profile.length;
  const [model, filtered, whitened] = scratch as [Float64Array, Float64Array, Float64Array];
  const span = 1 - before - after;
  for (let p = 0; p < n; p++) model[p] = sample(seq, before + (span * (p + 0.5)) / n);
  highPassLine(model, filtered);
  applyFilter(observed.filter, filtered, whitened);
  let dot = 0;
  let norm = 0;
  for (let p = 0; p < n; p++) {
    dot += observed.profile[p]! * whitened[p]!;
    norm += whitened[p]! ** 2;
  }
  return norm > 0 ? dot / Math.sqrt(norm) / observed.energy : 0;
}

/** The best few (before, after) crops along one axis, best first. */
function axisCandidates(raw: Float64Array, seq: Float64Array): AxisCandidate[] {
  const observed = observe(raw);
  const n = raw.length;
  const scratch = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const steps = Math.round(MAX_CROP / COARSE_STEP);
  const coarse: AxisCandidate[] = [];
  for (let a = 0; a <= steps; a++) {
    for (let b = 0; b <= steps; b++) {
      const before = a * COARSE_STEP;
      const after = b * COARSE_STEP;
      coarse.push({ before, after, score: matchScore(observed, seq, before, after, scratch) });
    }
  }
  coarse.sort((p, q) => q.score - p.score);
  // Distinct peaks only: neighbours of a peak score high for the same reason as the peak.
  const peaks: AxisCandidate[] = [];
  for (const c of coarse) {
    if (peaks.length >= CANDIDATES_PER_AXIS) break;
    const near = peaks.some((p) => Math.abs(p.before - c.before) < 6 * COARSE_STEP && Math.abs(p.after - c.after) < 6 * COARSE_STEP);
    if (!near) peaks.push(c);
  }
  return peaks.map((peak) => {
    let best = peak;
    const fine = COARSE_STEP / 4;
    for (let a = -4; a <= 4; a++) {
      for (let b = -4; b <= 4; b++) {
        const before = peak.before + a * fine;
        const after = peak.after + b * fine;
        if (before < 0 || after < 0) continue;
        const score = matchScore(observed, seq, before, after, scratch);
        if (score > best.score) best = { before, after, score };
      }
    }
    return best;
  });
}

/**
 * Candidate windows for a copy that may have been cropped, most likely first: the best few crops
 * along x times the best few along y, ordered by their combined sync correlation.
 */
export function cropCandidates(luma: Luma): Window[] {
  const seqs = syncSequences();
  const xs = axisCandidates(profile(luma, 'x'), seqs.x);
  const ys = axisCandidates(profile(luma, 'y'), seqs.y);
  const windows: { window: Window; score: number }[] = [];
  for (const x of xs) {
    for (const y of ys) {
      windows.push({ window: { left: x.before, right: x.after, top: y.before, bottom: y.after }, score: x.score + y.score });
    }
  }
  return windows.sort((p, q) => q.score - p.score).map((w) => w.window);
}

// --- helpers ------------------------------------------------------------------------------------

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
