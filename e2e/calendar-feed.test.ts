import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { parseIcs } from '../test/ics.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { seedScheduleWorld } from '../test/schedule.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, startE2E, screenshotWidths } from './harness.ts';

/**
 * The agenda-koppeling in Chromium: a parent makes the link on mijn gegevens, sees it once (with
 * the webcal:// link), a calendar app fetches it (Evi's days, no other family's child), the
 * parent revokes it and the same URL is 404. Pages photographed at 360, 768 and 1280 px and
 * checked with axe.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const PHONE = { width: 360, height: 780 };

const shots = (page: Page, name: string) => screenshotWidths(page, name, PHONE);

describe.skipIf(!hasChromium)('agenda-koppeling in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedScheduleWorld(e2e.portal, { publicUrl: e2e.baseUrl });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'a parent makes the link, a calendar fetches it, the parent revokes it and the URL is 404',
    async () => {
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await logInAs(page, PEOPLE.anna, PASSWORD);
        await page.goto('/mijn-gegevens');
        const card = page.locator('section', { has: page.getByRole('heading', { name: 'Agenda-koppeling' }) });
        expect(await card.count()).toBe(1);
        await card.scrollIntoViewIfNeeded();
        await checkA11y(page, 'profile with the calendar feed card');
        await shots(page, 'calendar-feed-profile');

        await card.getByRole('button', { name: 'Agenda-koppeling maken' }).click();
        await page.waitForURL('**/mijn-gegevens/agenda-koppeling');
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Uw agenda-koppeling');
        const url = await page.getByLabel('Link voor uw agenda').inputValue();
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/agenda\/[A-Za-z0-9_-]{43}\.ics$/);
        const webcal = await page.getByRole('link', { name: 'Openen in mijn agenda-app' }).getAttribute('href');
        expect(webcal).toBe(url.replace(/^http:/, 'webcal:'));
        await checkA11y(page, 'the link, shown once');
        await shots(page, 'calendar-feed-created');

        // A calendar app: no cookie.
        const feed = await fetch(url);
        expect(feed.status).toBe(200);
        expect(feed.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
        expect(feed.headers.get('set-cookie')).toBeNull();
        const ics = parseIcs(await feed.text());
        const summaries = ics.events.map((e) => e['SUMMARY']).join('\n');
        expect(summaries).toContain('Evi naar de opvang (Boomhut)');
        expect(summaries).not.toMatch(/Sam|Lot|Noor|Pim/);

        // Back on mijn gegevens the URL is not shown again; the parent revokes the link.
        await page.getByRole('link', { name: 'Terug naar mijn gegevens' }).click();
        await page.waitForURL('**/mijn-gegevens');
        expect(await page.content()).not.toContain(url);
        await page.getByRole('button', { name: 'Koppeling intrekken' }).click();
        await page.waitForURL('**/mijn-gegevens');
        expect(await page.getByRole('status').first().textContent()).toContain('Uw agenda-koppeling is ingetrokken');
        await checkA11y(page, 'profile after revoking');
        await shots(page, 'calendar-feed-revoked');
        expect((await fetch(url)).status).toBe(404);
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
