import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isDomainError } from '../../core/errors.ts';
import type { Portal } from '../../core/portal.ts';
import { spokenDate } from '../../core/schedule/decision-mail.ts';
import { makeYearBook, yearBookOverview } from '../../core/yearbook/book.ts';
import { yearBookPath } from '../../core/yearbook/offer.ts';
import type { AuthedEnv } from '../env.ts';
import type { Pages } from '../render.ts';
import { clockTime, dayInSentence } from './photos.ts';

/**
 * The year book (herinneringenboek, core/yearbook): a page that says what is in the book and
 * until when, and a plain form that answers with the ZIP itself (no JavaScript, no waiting for a
 * mail: the ZIP streams while its photos are traced). Core decides who may: another family's
 * child, a staff member, or a child whose archive is gone get "not found"; a second book within
 * the hour gets the page again (429) saying from when.
 */

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

export function yearBookRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages }): void {
  const { portal, pages } = deps;

  const page = async (c: Context<AuthedEnv>, childId: number, error: string | null = null, status: ContentfulStatusCode = 200) => {
    const book = await yearBookOverview(c.var.em, portal, c.var.actor, childId);
    const monthName = new Intl.DateTimeFormat(c.var.lang === 'nl' ? 'nl-NL' : 'en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
    const month = (m: string) => monthName.format(new Date(`${m}-15T12:00:00Z`));
    return pages.render(
      c,
      'pages/yearbook',
      {
        book,
        action: yearBookPath(book.id),
        period: book.months.length ? { from: month(book.months[0]!), until: month(book.months.at(-1)!) } : null,
        until: book.availableUntil ? spokenDate(book.availableUntil, c.var.lang) : null,
        nextAt: book.nextAt ? c.var.t('yearbook.nextAt', { day: dayInSentence(c, book.nextAt.toISOString()), time: clockTime(book.nextAt) }) : null,
        error,
      },
      status,
    );
  };

  app.get('/kind/:id/herinneringenboek', async (c) => await page(c, id(c.req.param('id'))));

  app.post('/kind/:id/herinneringenboek', async (c) => {
    const childId = id(c.req.param('id'));
    try {
      const book = await makeYearBook(c.var.em, portal, c.var.actor, childId, c.var.lang);
      return c.body(Readable.toWeb(book.stream) as ReadableStream, 200, {
        'Content-Type': 'application/zip',
        'Content-Disposition': `attachment; filename="${book.filename}"`,
        'Cache-Control': 'no-store',
      });
    } catch (err) {
      if (isDomainError(err) && err.code === 'rate_limited') return await page(c, childId, c.var.t('yearbook.tooSoon'), 429);
      throw err;
    }
  });
}
