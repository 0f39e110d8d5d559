import MarkdownIt from 'markdown-it';

/**
 * Markdown for FAQ answers, rendered so that nothing in a file can run in a parent's browser:
 * no raw HTML (`html: false` escapes it as text), links only to http(s), mailto, tel or a path
 * on the portal, no images (a tracking pixel or a huge picture in an answer helps nobody) and no
 * headings (an answer sits under its question inside the page's own heading structure).
 */
const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
md.disable(['image', 'heading', 'lheading']);

const SAFE_SCHEME = /^(https?|mailto|tel):/i;

/** A link target is allowed when it has one of the safe schemes, or none at all (a same-site path). */
export function isSafeLink(url: string): boolean {
  const u = url.trim();
  if (u.startsWith('//') || u.startsWith('\\')) return false;
  // A colon before the first / ? # is a scheme ("javascript:", "data:"); after it, part of a path.
  const scheme = /^[^/?#]*:/.test(u);
  return scheme ? SAFE_SCHEME.test(u) : true;
}
md.validateLink = isSafeLink;

// Links leaving the portal open without handing it the page (no opener, no referrer).
const defaultLinkOpen = md.renderer.rules['link_open'] ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules['link_open'] = (tokens, idx, options, env, self) => {
  const href = String(tokens[idx]?.attrGet('href') ?? '');
  if (/^https?:/i.test(href)) tokens[idx]?.attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** HTML from markdown-it; safe to put into a page with raw(). */
export function renderMarkdown(source: string): string {
  return md.render(source);
}
