/**
 * Contrast arithmetic for the organisation's accent colour (WCAG 2.2 relative luminance and
 * contrast ratio). The accent is the colour of links on the light surface and the background
 * of buttons under white text, so it must reach 4.5:1 against white; the dark-mode shade is
 * derived from it here, so one colour in the config gives readable pages in both modes.
 */

export type Rgb = readonly [number, number, number];

/** At least this against the surface: WCAG AA for normal text (links are normal text). */
export const MIN_CONTRAST = 4.5;
export const LIGHT_SURFACE = '#ffffff';
/** The dark theme's surface and the text colour on accent buttons there (views/static/portal.css). */
export const DARK_SURFACE = '#1e2321';
export const DARK_ACCENT_TEXT = '#10201f';

const HEX = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i;

export function parseHex(colour: string): Rgb | undefined {
  const m = HEX.exec(colour.trim());
  if (!m) return undefined;
  const hex = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

export function toHex(rgb: Rgb): string {
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

function luminance([r, g, b]: Rgb): number {
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Why an accent colour cannot be used, or undefined when it can. */
export function accentProblem(colour: string): string | undefined {
  const rgb = parseHex(colour);
  if (!rgb) return `"${colour}" is not a colour like #1d5c63`;
  const ratio = contrast(rgb, parseHex(LIGHT_SURFACE)!);
  if (ratio < MIN_CONTRAST) {
    return `${colour} is too light: links in it have a contrast of ${ratio.toFixed(1)}:1 on white, at least ${MIN_CONTRAST}:1 is needed (choose a darker shade)`;
  }
  return undefined;
}

/**
 * The accent's shade for dark mode: mixed towards white in small steps until it reads on the
 * dark surface and under the dark button text. Keeps the hue the organisation chose.
 */
export function darkModeAccent(colour: string): string {
  const rgb = parseHex(colour);
  if (!rgb) throw new Error(`not a colour: ${colour}`);
  const surface = parseHex(DARK_SURFACE)!;
  const text = parseHex(DARK_ACCENT_TEXT)!;
  for (let t = 0; t <= 1.0001; t += 0.02) {
    const mixed = rgb.map((c) => c + (255 - c) * t) as unknown as Rgb;
    if (contrast(mixed, surface) >= MIN_CONTRAST && contrast(mixed, text) >= MIN_CONTRAST) return toHex(mixed);
  }
  return '#ffffff';
}
