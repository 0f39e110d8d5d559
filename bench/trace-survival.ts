/**
 * Survival matrix of the invisible photo trace mark (core/photos/trace-mark.ts): which edits a
 * marked copy survives, how confidently it is read back, and what marking and reading cost.
 *   - photos: generated here (sharp: SVG scenes with gradients, shapes, texture and sensor-like
 *     noise; coarse "busy" blobs; fine grain), 1600 px on the long side like the display image;
 *   - transforms: JPEG re-encoding, resizing, crops (symmetric and asymmetric), combinations, and
 *     a PNG "screenshot" scaled to 1080 px wide;
 *   - per transform: copies that yield their own code / total, mean confidence, and copies of the
 *     unmarked photos that yield any code at all (false positives, must be 0);
 *   - timing: embed of a 1600x1200 JPEG (median, p99) and extract (median, max).
 *
 *   npx tsx bench/trace-survival.ts [--images 6] [--runs 40] [--strength 3]
 *
 * `traceSurvivalMatrix()` returns the same rows for other benches (bench/photos.ts).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp, { type OutputInfo } from 'sharp';
import { DEFAULT_TRACE_STRENGTH, embedTraceCode, extractTraceCode } from '../core/photos/trace-mark.ts';

export interface SurvivalRow {
  transform: string;
  survived: number;
  total: number;
  meanConfidence: number;
  /** Unmarked photos put through the same transform that still yielded a code. */
  falsePositives: number;
}

export interface SurvivalMatrix {
  rows: SurvivalRow[];
  embedMs: { median: number; p99: number };
  extractMs: { median: number; max: number };
  /** PSNR of marked against unmarked photos (dB), lowest and mean. */
  psnr: { min: number; mean: number };
}

type Transform = (image: Buffer) => Promise<Buffer>;

const jpeg = (quality: number): Transform => (image) => sharp(image).jpeg({ quality }).toBuffer();

const resize =
  (factor: number, quality = 75): Transform =>
  async (image) => {
    const { width } = await sharp(image).metadata();
    return sharp(image)
      .resize({ width: Math.round(width! * factor) })
      .jpeg({ quality })
      .toBuffer();
  };

/** Cuts the given fractions off the left, right, top and bottom, then re-encodes. */
const crop =
  (left: number, right: number, top: number, bottom: number, quality = 90): Transform =>
  async (image) => {
    const { width, height } = await sharp(image).metadata();
    const x = Math.round(width! * left);
    const y = Math.round(height! * top);
    return sharp(image)
      .extract({ left: x, top: y, width: Math.round(width! * (1 - right)) - x, height: Math.round(height! * (1 - bottom)) - y })
      .jpeg({ quality })
      .toBuffer();
  };

const screenshot: Transform = (image) => sharp(image).resize({ width: 1080 }).png().toBuffer();

const then =
  (...steps: Transform[]): Transform =>
  async (image) => {
    let out = image;
    for (const step of steps) out = await step(out);
    return out;
  };

export const TRANSFORMS: [string, Transform][] = [
  ['none (as downloaded)', async (image) => image],
  ['JPEG q90', jpeg(90)],
  ['JPEG q75', jpeg(75)],
  ['JPEG q50', jpeg(50)],
  ['resize 75% (q75)', resize(0.75)],
  ['resize 50% (q75)', resize(0.5)],
  ['crop 10% each side', crop(0.1, 0.1, 0.1, 0.1)],
  ['crop 10% left only', crop(0.1, 0, 0, 0)],
  ['crop 10% bottom only', crop(0, 0, 0, 0.1)],
  ['crop asym 3/9/10/2%', crop(0.03, 0.09, 0.1, 0.02)],
  ['crop asym 10/0/4/8%', crop(0.1, 0, 0.04, 0.08)],
  ['crop 10% + q75', crop(0.1, 0.1, 0.1, 0.1, 75)],
  ['crop 10% + q50', crop(0.1, 0.1, 0.1, 0.1, 50)],
  ['crop 10% + resize 50%', then(crop(0.1, 0.1, 0.1, 0.1), resize(0.5))],
  ['PNG screenshot 1080 px', screenshot],
  ['crop 10% + screenshot', then(crop(0.1, 0.1, 0.1, 0.1), screenshot)],
];

/** A deterministic pseudo-random generator, so every run measures the same photos. */
function lcg(seed: number): () => number {
  let state = (seed * 0x9e37_79b9) >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

/** Adds fine texture and sensor-like noise to a raw picture and stores it as JPEG q92. */
async function grain(raw: { data: Buffer; info: OutputInfo }, seed: number, amount: number): Promise<Buffer> {
  const { data, info } = raw;
  const random = lcg(seed);
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const p = (y * info.width + x) * info.channels;
      const texture = y > info.height * 0.6 ? 8 * Math.sin(x * 0.9 + Math.sin(y * 0.21) * 3) * Math.sin(y * 0.37) : 0;
      const noise = (random() + random() + random() - 1.5) * amount;
      for (let ch = 0; ch < 3; ch++) pixels[p + ch] = pixels[p + ch]! + texture + noise;
    }
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .removeAlpha()
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** An outdoor-like scene: sky, hills, a house, trees, people-sized blobs, at random places. */
async function scene(width: number, height: number, seed: number): Promise<Buffer> {
  const random = lcg(seed);
  const at = (n: number) => Math.round(random() * n);
  const colour = () => `rgb(${at(255)},${at(255)},${at(255)})`;
  let shapes = '';
  for (let i = 0; i < 14; i++) {
    shapes += random() < 0.5
      ? `<circle cx="${at(1600)}" cy="${600 + at(600)}" r="${30 + at(140)}" fill="${colour()}" fill-opacity="${0.6 + random() * 0.4}"/>`
      : `<rect x="${at(1500)}" y="${500 + at(600)}" width="${40 + at(300)}" height="${40 + at(260)}" rx="${at(30)}" fill="${colour()}"/>`;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1600 1200" preserveAspectRatio="none">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#3b6fb6"/><stop offset="1" stop-color="#cfe3f5"/></linearGradient>
    <linearGradient id="grass" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="#6f9e3a"/><stop offset="1" stop-color="#2f5418"/></linearGradient>
    <radialGradient id="sun"><stop offset="0" stop-color="#fffbe0"/><stop offset="1" stop-color="#ffd54a"/></radialGradient>
  </defs>
  <rect width="1600" height="1200" fill="url(#sky)"/>
  <circle cx="${200 + at(1200)}" cy="${120 + at(200)}" r="90" fill="url(#sun)"/>
  <ellipse cx="${at(1600)}" cy="260" rx="220" ry="60" fill="#ffffff" fill-opacity="0.7"/>
  <path d="M0 ${700 + at(120)} C 300 620, 600 700, 900 640 S 1400 600, 1600 ${650 + at(100)} L1600 1200 L0 1200 Z" fill="#5b7f4a"/>
  <path d="M0 860 C 400 780, 800 900, 1600 820 L1600 1200 L0 1200 Z" fill="url(#grass)"/>
  <rect x="${700 + at(500)}" y="600" width="300" height="230" fill="#b5523b"/>
  <rect x="${100 + at(400)}" y="640" width="34" height="200" fill="#5b3b22"/>
  <circle cx="${150 + at(400)}" cy="580" r="110" fill="#2e6b2a"/>
  ${shapes}
</svg>`;
  return grain(await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true }), seed, 4);
}

/** Content as coarse as the pattern itself: smooth random blobs over the whole picture. */
async function blobs(width: number, height: number, seed: number): Promise<Buffer> {
  const small = await sharp({
    create: { width: 160, height: 120, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128 + seed, sigma: 40 } },
  })
    .png()
    .toBuffer();
  return sharp(small).resize(width, height, { kernel: 'cubic' }).jpeg({ quality: 92 }).toBuffer();
}

/** A soft indoor-like picture: a wide gradient, a few large soft shapes, strong grain. */
async function indoor(width: number, height: number, seed: number): Promise<Buffer> {
  const random = lcg(seed);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><radialGradient id="g" cx="${random()}" cy="${random()}" r="0.9"><stop offset="0" stop-color="#f4e3c8"/><stop offset="1" stop-color="#6b4b34"/></radialGradient></defs>
  <rect width="100%" height="100%" fill="url(#g)"/>
  <rect x="${width * 0.1}" y="${height * 0.55}" width="${width * 0.8}" height="${height * 0.12}" fill="#8a5a3b"/>
  <circle cx="${width * (0.3 + random() * 0.4)}" cy="${height * 0.4}" r="${height * 0.18}" fill="#e9b99a"/>
  <rect x="${width * 0.62}" y="${height * 0.2}" width="${width * 0.25}" height="${height * 0.33}" fill="#3e6e9e" fill-opacity="0.8"/>
</svg>`;
  return grain(await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true }), seed, 9);
}

/** The bench's photos: varied content, landscape and portrait. */
export async function benchPhotos(count: number): Promise<Buffer[]> {
  const makers = [
    () => scene(1600, 1200, 1),
    () => blobs(1600, 1200, 0),
    () => indoor(1600, 1067, 2),
    () => scene(1200, 1600, 3),
    () => indoor(1200, 1600, 4),
    () => scene(1600, 900, 5),
    () => blobs(1600, 1200, 20),
    () => scene(1600, 1200, 7),
  ];
  const photos: Buffer[] = [];
  for (let i = 0; i < count; i++) photos.push(await makers[i % makers.length]!());
  return photos;
}

async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const x = await sharp(a).removeAlpha().raw().toBuffer();
  const y = await sharp(b).removeAlpha().raw().toBuffer();
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i]! - y[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / x.length));
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

export async function traceSurvivalMatrix(options: { images?: number; runs?: number; strength?: number } = {}): Promise<SurvivalMatrix> {
  const strength = options.strength ?? DEFAULT_TRACE_STRENGTH;
  const photos = await benchPhotos(options.images ?? 6);
  const codes = photos.map((_, i) => (0x9e37_79b9 * (i + 1)) >>> 0);
  const marked: Buffer[] = [];
  for (let i = 0; i < photos.length; i++) marked.push(await embedTraceCode(photos[i]!, codes[i]!, { strength }));

  const psnrs: number[] = [];
  for (let i = 0; i < photos.length; i++) psnrs.push(await psnr(photos[i]!, marked[i]!));

  const embedTimes: number[] = [];
  const display = photos[0]!;
  for (let run = 0; run < (options.runs ?? 40); run++) {
    const start = performance.now();
    await embedTraceCode(display, run, { strength });
    embedTimes.push(performance.now() - start);
  }

  const extractTimes: number[] = [];
  const rows: SurvivalRow[] = [];
  for (const [name, transform] of TRANSFORMS) {
    let survived = 0;
    let confidence = 0;
    let falsePositives = 0;
    for (let i = 0; i < photos.length; i++) {
      const copy = await transform(marked[i]!);
      const start = performance.now();
      const found = await extractTraceCode(copy);
      extractTimes.push(performance.now() - start);
      if (found && found.code === codes[i]) {
        survived++;
        confidence += found.confidence;
      }
      if (await extractTraceCode(await transform(photos[i]!))) falsePositives++;
    }
    rows.push({ transform: name, survived, total: photos.length, meanConfidence: survived ? confidence / survived : 0, falsePositives });
  }
  return {
    rows,
    embedMs: { median: percentile(embedTimes, 50), p99: percentile(embedTimes, 99) },
    extractMs: { median: percentile(extractTimes, 50), max: Math.max(...extractTimes) },
    psnr: { min: Math.min(...psnrs), mean: psnrs.reduce((s, v) => s + v, 0) / psnrs.length },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { images: { type: 'string', default: '6' }, runs: { type: 'string', default: '40' }, strength: { type: 'string' } },
  });
  const strength = values.strength === undefined ? undefined : Number(values.strength);
  const matrix = await traceSurvivalMatrix({ images: Number(values.images), runs: Number(values.runs), strength });
  const pad = Math.max(...matrix.rows.map((r) => r.transform.length));
  console.log(`${'transform'.padEnd(pad)}  survived  mean conf  false codes (unmarked)`);
  for (const r of matrix.rows) {
    console.log(
      `${r.transform.padEnd(pad)}  ${`${r.survived}/${r.total}`.padStart(8)}  ${r.meanConfidence.toFixed(3).padStart(9)}  ${`${r.falsePositives}/${r.total}`.padStart(6)}`,
    );
  }
  console.log(`PSNR marked vs original: min ${matrix.psnr.min.toFixed(1)} dB, mean ${matrix.psnr.mean.toFixed(1)} dB`);
  console.log(`embed 1600x1200 JPEG: median ${matrix.embedMs.median.toFixed(0)} ms, p99 ${matrix.embedMs.p99.toFixed(0)} ms`);
  console.log(`extract: median ${matrix.extractMs.median.toFixed(0)} ms, max ${matrix.extractMs.max.toFixed(0)} ms`);
}
