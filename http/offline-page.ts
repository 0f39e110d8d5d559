import { translate } from '../views/i18n/index.ts';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);

/**
 * The page the service worker shows when a navigation fails. It is kept on the phone, so it
 * holds nothing personal (no name, no CSRF token, no language cookie choice): Dutch first,
 * then the same in English, since the worker cannot know which one the parent reads. The
 * retry link is a plain link home: it works without JavaScript.
 */
export function offlinePageHtml(options: { siteName: string; cssHref: string; themeHref?: string; themeColour: string }): string {
  const nl = (key: string) => escapeHtml(translate('nl', key));
  const en = (key: string) => escapeHtml(translate('en', key));
  const site = escapeHtml(options.siteName);
  return `<!doctype html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="theme-color" content="${escapeHtml(options.themeColour)}">
  <title>${nl('offline.title')} · ${site}</title>
  <link rel="stylesheet" href="${escapeHtml(options.cssHref)}">
${options.themeHref ? `  <link rel="stylesheet" href="${escapeHtml(options.themeHref)}">\n` : ''}</head>
<body>
  <header class="site-header">
    <p class="site-name"><span>${site}</span></p>
  </header>
  <main id="main" class="page">
    <h1>${nl('offline.heading')}</h1>
    <p>${nl('offline.body')}</p>
    <p>${nl('offline.privacy')}</p>
    <p><a class="button" href="/">${nl('offline.retry')}</a></p>
    <section lang="en" aria-labelledby="offline-en">
      <h2 id="offline-en">${en('offline.heading')}</h2>
      <p>${en('offline.body')}</p>
      <p>${en('offline.privacy')}</p>
      <p><a href="/">${en('offline.retry')}</a></p>
    </section>
  </main>
</body>
</html>
`;
}
