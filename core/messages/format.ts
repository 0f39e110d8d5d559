/**
 * Message text is plain text: what a parent or staff member typed, shown with its line breaks
 * and with web addresses made clickable. Everything is escaped first; the only markup that comes
 * out is `<br>` and `<a>` for http(s) addresses, so a `<script>` in a message is shown as text.
 * Used by the pages and by the HTML part of e-mails alike.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** http(s) addresses up to the next space or character that cannot be part of one in running text. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than the address ("zie https://x.nl."). */
const TRAILING = /[.,;:!?)\]}]+$/;

export const LINK_REL = 'noopener noreferrer nofollow';

function link(candidate: string): { html: string; rest: string } | undefined {
  const trailing = TRAILING.exec(candidate)?.[0] ?? '';
  let href = candidate.slice(0, candidate.length - trailing.length);
  let rest = trailing;
  // Keep a closing bracket that belongs to the address (Wikipedia style), drop one that does not.
  if (trailing.startsWith(')') && (href.match(/\(/g)?.length ?? 0) > (href.match(/\)/g)?.length ?? 0)) {
    href += ')';
    rest = trailing.slice(1);
  }
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return {
    html: `<a href="${escapeHtml(url.href)}" rel="${LINK_REL}" target="_blank">${escapeHtml(href)}</a>`,
    rest,
  };
}

/** Plain text to safe HTML: escaped, line breaks kept, http(s) links clickable. */
export function messageHtml(text: string): string {
  const normalised = text.replace(/\r\n?/g, '\n');
  let out = '';
  let last = 0;
  for (const match of normalised.matchAll(URL_PATTERN)) {
    const start = match.index;
    const made = link(match[0]);
    if (!made) continue;
    out += escapeHtml(normalised.slice(last, start)) + made.html + escapeHtml(made.rest);
    last = start + match[0].length;
  }
  out += escapeHtml(normalised.slice(last));
  return out.replace(/\n/g, '<br>\n');
}
