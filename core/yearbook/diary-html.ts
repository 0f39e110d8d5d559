import type { Language } from '../entities/organisation.ts';

/**
 * The printable schriftje of the year book (dagboek.html): one self-contained HTML file, with its
 * CSS inline and no scripts, fonts or images from elsewhere, so it opens the same offline in ten
 * years as today, and "Print to PDF" gives a book: every month starts on a new page. Pure: the
 * entries in, the HTML out; every text from the portal is escaped.
 */

export interface BookEntry {
  day: string;
  authorKind: 'staff' | 'parent';
  /** The author's first name as shown to parents, or null (the terminal, a removed account). */
  author: string | null;
  text: string;
  lines: { label: string; text: string }[];
  moments: { kind: string; from: string; until: string | null; value: string; detail: string | null }[];
}

export interface BookMeta {
  lang: Language;
  childFirstName: string;
  organisation: string;
  /** When the book was made, as YYYY-MM-DD. */
  madeOn: string;
  photos: number;
  /** Photos per month (YYYY-MM), for the line under each month's heading. */
  photosByMonth: Map<string, number>;
}

const TEXTS = {
  nl: {
    title: 'Herinneringenboek van {name}',
    made: 'Gemaakt op {date} uit het ouderportaal van {organisation}. De foto’s staan in de map fotos/, per maand.',
    empty: 'Er staat niets in het schriftje van {name}.',
    photos: (n: number) => (n === 1 ? '1 foto in fotos/{month}/' : `${n} foto’s in fotos/{month}/`),
    staff: 'De groep',
    parent: 'Thuis',
    kinds: { sleep: 'Geslapen', meal: 'Gegeten', drink: 'Gedronken', mood: 'Stemming', nappy: 'Luier of wc' } as Record<string, string>,
    locale: 'nl-NL',
  },
  en: {
    title: '{name}’s book of memories',
    made: 'Made on {date} from the parent portal of {organisation}. The photos are in the folder photos/, by month.',
    empty: 'There is nothing in {name}’s diary.',
    photos: (n: number) => (n === 1 ? '1 photo in photos/{month}/' : `${n} photos in photos/{month}/`),
    staff: 'The group',
    parent: 'At home',
    kinds: { sleep: 'Slept', meal: 'Ate', drink: 'Drank', mood: 'Mood', nappy: 'Nappy or toilet' } as Record<string, string>,
    locale: 'en-GB',
  },
} as const;

/** Where the photos of a language's book go: `fotos/` or `photos/`, then YYYY-MM/. */
export const photoFolder = (lang: Language) => (lang === 'nl' ? 'fotos' : 'photos');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
const fill = (text: string, params: Record<string, string>) => text.replace(/\{(\w+)\}/g, (m, k: string) => params[k] ?? m);

/** Line breaks of a note kept (escaped first, so a note cannot add markup). */
const paragraph = (s: string) => escapeHtml(s).replace(/\n/g, '<br>');

/** Print-friendly and calm: the page's own styles, a page break before every month but the first. */
const CSS = `
  body { font-family: Georgia, 'Times New Roman', serif; color: #222; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  h1 { font-size: 2rem; margin-bottom: .25rem; }
  h2 { font-size: 1.5rem; border-bottom: 2px solid #c9b79c; padding-bottom: .25rem; margin-top: 2.5rem; text-transform: capitalize; }
  h3 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
  .meta, .photos { color: #555; font-size: .9rem; }
  .entry { margin: 0 0 .75rem; padding-left: .75rem; border-left: 3px solid #e6dccb; }
  .who { font-size: .85rem; color: #555; margin: 0; }
  ul { margin: .25rem 0; padding-left: 1.25rem; }
  @media print {
    body { margin: 0; max-width: none; }
    section.month { break-before: page; page-break-before: always; }
    section.month:first-of-type { break-before: auto; page-break-before: auto; }
    .entry { break-inside: avoid; page-break-inside: avoid; }
  }
`;

export function diaryHtml(entries: readonly BookEntry[], meta: BookMeta): string {
  const t = TEXTS[meta.lang];
  const name = escapeHtml(meta.childFirstName);
  const monthName = new Intl.DateTimeFormat(t.locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const dayName = new Intl.DateTimeFormat(t.locale, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
  const at = (day: string) => new Date(`${day}T12:00:00Z`);

  // Months of the schriftje and of the photos, so a month with only photos still has its page.
  const months = [...new Set([...entries.map((e) => e.day.slice(0, 7)), ...meta.photosByMonth.keys()])].sort();
  const sections = months.map((month) => {
    const inMonth = entries.filter((e) => e.day.startsWith(month));
    const days = [...new Set(inMonth.map((e) => e.day))];
    const photos = meta.photosByMonth.get(month) ?? 0;
    const body = days.map((day) => {
      const items = inMonth
        .filter((e) => e.day === day)
        .map((e) => {
          const who = e.authorKind === 'staff' ? t.staff : t.parent;
          const lines = e.lines.filter((l) => l.text.trim()).map((l) => `<li>${escapeHtml(l.label)}: ${paragraph(l.text)}</li>`);
          const moments = e.moments.map((m) => {
            const kind = t.kinds[m.kind] ?? m.kind;
            const when = m.until ? `${m.from}–${m.until}` : m.from;
            return `<li>${escapeHtml(kind)} ${escapeHtml(when)}: ${escapeHtml(m.value)}${m.detail ? `, ${escapeHtml(m.detail)}` : ''}</li>`;
          });
          const list = [...lines, ...moments];
          return [
            '<div class="entry">',
            `<p class="who">${escapeHtml(who)}${e.author ? ` · ${escapeHtml(e.author)}` : ''}</p>`,
            e.text ? `<p>${paragraph(e.text)}</p>` : '',
            list.length ? `<ul>${list.join('')}</ul>` : '',
            '</div>',
          ].join('');
        });
      return `<h3>${escapeHtml(dayName.format(at(day)))}</h3>${items.join('')}`;
    });
    const photoLine = photos ? `<p class="photos">${escapeHtml(fill(t.photos(photos), { month }))}</p>` : '';
    return `<section class="month"><h2>${escapeHtml(monthName.format(at(`${month}-15`)))}</h2>${photoLine}${body.join('')}</section>`;
  });

  return [
    '<!doctype html>',
    `<html lang="${meta.lang}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(fill(t.title, { name: meta.childFirstName }))}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(fill(t.title, { name: meta.childFirstName }))}</h1>`,
    `<p class="meta">${escapeHtml(fill(t.made, { date: dayName.format(at(meta.madeOn)), organisation: meta.organisation }))}</p>`,
    sections.length ? sections.join('\n') : `<p>${fill(escapeHtml(t.empty), { name })}</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
