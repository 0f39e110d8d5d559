import { createHash } from 'node:crypto';
import { transformSync } from 'esbuild';
import type { Asset } from './assets.ts';

/**
 * The whole stylesheet, inlined in every page's <head>, so the first paint needs one round trip
 * (the HTML) instead of two (HTML, then the render-blocking CSS). Measured (README, "On a phone"):
 * portal.css is 24 KB, 17.8 KB minified, 3.8 KB of that with Brotli: less than one round trip's
 * worth of bytes on a slow connection; splitting "critical" from "the rest" would save a couple of KB per page and
 * cost a second, non-blocking download and a repaint. Repeat visits pay those 3.8 KB again on each
 * page (pages are no-store); the external file stays served (content-hashed, immutable) for the
 * offline page, the service worker's shell and the API's connect screen.
 *
 * The strict CSP stays: the `<style>` element is allowed by the sha256 of its exact text, made
 * once at start, never 'unsafe-inline' (which would also let an injected style="" through).
 */
export interface InlineStyle {
  /** The text that goes between <style> and </style>, byte for byte. */
  css: string;
  /** For style-src: `'sha256-…'`. */
  hash: string;
}

/** The CSP source for this exact text (CSP 3: base64 of the SHA-256 of the UTF-8 bytes). */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/**
 * Our stylesheet followed by the organisation's colours (that order: the theme's :root rules
 * must win), as one style element.
 */
export function inlineStyle(css: Asset, theme?: Asset): InlineStyle {
  const decoder = new TextDecoder();
  // Trimmed so the template's one-line <style><%~ css %></style> holds exactly this text, and a
  // `</style` can never end the element early (our own files; checked all the same).
  // Minified: the comments are for us, not for every page a parent loads (a third of the bytes),
  // and a page's text should hold nothing a search in it could mistake for markup.
  const text = [css, theme]
    .filter((a): a is Asset => a !== undefined)
    .map((a) => transformSync(decoder.decode(a.body), { loader: 'css', minify: true }).code.trim())
    .join('\n');
  if (/<\/style/i.test(text)) throw new Error('a stylesheet contains "</style": it cannot be inlined');
  return { css: text, hash: styleHash(text) };
}
