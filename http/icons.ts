import { createHash } from 'node:crypto';
import sharp from 'sharp';

/**
 * The home-screen icons: a white house on the organisation's accent colour, drawn here as SVG
 * and turned into PNGs by sharp (already used for photos) the first time one is asked for, so
 * there are no image files to keep in step with the configured colour. Shapes only, no text:
 * text would depend on the fonts of the server.
 */
const HOUSE = 'M256 120 L96 260 H150 V392 H226 V310 H286 V392 H362 V260 H416 Z';

function svg(colour: string, maskable: boolean): string {
  // A maskable icon is cropped to a circle or squircle by the phone: full-bleed background and
  // the house inside the middle 80% (the "safe zone"); the plain one has its own rounded corners.
  const background = maskable ? `<rect width="512" height="512" fill="${colour}"/>` : `<rect width="512" height="512" rx="96" fill="${colour}"/>`;
  const house = maskable ? `<path transform="translate(256 256) scale(0.75) translate(-256 -256)" d="${HOUSE}" fill="#ffffff"/>` : `<path d="${HOUSE}" fill="#ffffff"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">${background}${house}</svg>\n`;
}

export interface Icon {
  /** Content-hashed (immutable) path. */
  url: string;
  contentType: string;
  size?: number;
  purpose?: 'any' | 'maskable';
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
}

export interface Icons {
  svg: Icon;
  png192: Icon;
  png512: Icon;
  maskable512: Icon;
  appleTouch180: Icon;
  ico: Icon;
}

/** A PNG inside an .ico container (allowed since Windows Vista; every browser reads it). */
function icoOf(png: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt8(0, 8); // no palette
  header.writeUInt8(0, 9);
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.byteLength, 14);
  header.writeUInt32LE(22, 18); // the image follows the header
  return new Uint8Array(Buffer.concat([header, png]));
}

/** Renders once, on first use; later requests get the same bytes. */
function memo(make: () => Promise<Uint8Array<ArrayBuffer>>): () => Promise<Uint8Array<ArrayBuffer>> {
  let made: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}

const png = (source: string, size: number) =>
  memo(async () => new Uint8Array(await sharp(Buffer.from(source)).resize(size, size).png({ compressionLevel: 9 }).toBuffer()));

export function createIcons(accentColour: string): Icons {
  const plain = svg(accentColour, false);
  const maskable = svg(accentColour, true);
  // The PNGs follow from the SVG, so its hash versions them all.
  const version = createHash('sha256').update(plain).update(maskable).digest('hex').slice(0, 12);
  const png32 = png(plain, 32);
  return {
    svg: { url: `/icons/icon.${version}.svg`, contentType: 'image/svg+xml', purpose: 'any', bytes: async () => new Uint8Array(Buffer.from(plain)) },
    png192: { url: `/icons/icon-192.${version}.png`, contentType: 'image/png', size: 192, purpose: 'any', bytes: png(plain, 192) },
    png512: { url: `/icons/icon-512.${version}.png`, contentType: 'image/png', size: 512, purpose: 'any', bytes: png(plain, 512) },
    maskable512: { url: `/icons/maskable-512.${version}.png`, contentType: 'image/png', size: 512, purpose: 'maskable', bytes: png(maskable, 512) },
    appleTouch180: { url: `/icons/apple-touch-icon-180.${version}.png`, contentType: 'image/png', size: 180, bytes: png(plain, 180) },
    ico: { url: `/icons/favicon.${version}.ico`, contentType: 'image/x-icon', size: 32, bytes: memo(async () => icoOf(await png32(), 32)) },
  };
}
