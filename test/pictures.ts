import sharp from 'sharp';

/**
 * Something like a photo for tests that read the hidden trace mark back: flat shapes plus a fixed
 * fine texture, as a camera picture has (a flat picture carries the mark too, but tells less).
 * Deterministic: the same hue gives the same bytes.
 */
export async function texturedPhoto(hue: number, size: { width: number; height: number; quality?: number } = { width: 1200, height: 900 }): Promise<Buffer> {
  const { width: w, height: h } = size;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <rect width="${w}" height="${h}" fill="hsl(${hue},60%,70%)"/><circle cx="${w / 4}" cy="${h / 2}" r="${h / 5}" fill="#c0392b"/>
    <rect x="${(w * 13) / 24}" y="${h / 3}" width="${w / 3}" height="${h / 2}" fill="#27ae60"/></svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < base.data.length; i++) base.data[i] = Math.max(0, Math.min(255, base.data[i]! + ((i * 7919) % 23) - 11));
  return await sharp(base.data, { raw: base.info }).jpeg({ quality: size.quality ?? 92 }).toBuffer();
}
