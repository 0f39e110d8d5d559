import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, logInAs } from './harness.ts';

/**
 * Berichten in a real browser on a 360 px phone: a parent writes to the group, staff find it in
 * the group's inbox and reply (htmx swaps the thread without a page load), the parent sees the
 * reply and the unread count beside "Berichten" appear and go. axe-core checks every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const PHONE = { width: 360, height: 780 };

describe.skipIf(!hasChromium)('messages in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedMessageWorld(e2e.portal, { publicUrl: e2e.baseUrl });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  const navLink = (page: Page) => page.getByRole('navigation', { name: 'Hoofdmenu' }).getByRole('link', { name: /^Berichten/ });

  it(
    'a parent writes to the group, staff reply without a page load, the parent sees the reply and the count',
    async () => {
      const parent = await newPage(e2e, PHONE);
      const staff = await newPage(e2e, PHONE);
      try {
        // The parent writes.
        const p = parent.page;
        await logInAs(p, PEOPLE.anna, PASSWORD);
        expect(await navLink(p).textContent()).toBe('Berichten');
        await navLink(p).click();
        await p.waitForURL('**/berichten');
        await checkA11y(p, 'parent inbox, empty');
        await p.getByRole('link', { name: 'Nieuw bericht' }).click();
        await p.waitForURL('**/berichten/nieuw');
        const main = p.locator('main');
        expect(await main.textContent()).toContain('De medewerkers lezen berichten één keer per dag, rond 12:30 uur.');
        expect(await p.getByRole('link', { name: '045 111 22 33' }).getAttribute('href')).toBe('tel:0451112233');
        await checkA11y(p, 'compose');
        await screenshot(p, 'messages-360-compose');
        await p.getByLabel('Onderwerp').fill('Evi wordt opgehaald door oma');
        await p.getByLabel('Uw bericht').fill('Vandaag haalt oma Evi om 15:00 op.\nMeer over oma: https://example.nl/oma');
        await p.getByRole('button', { name: 'Versturen' }).click();
        await p.waitForURL(/\/berichten\/gesprek\/[0-9a-f-]{36}$/);
        expect(await p.getByRole('status').first().textContent()).toContain('Bericht verstuurd.');
        expect(await main.textContent()).toContain('Nog niet gelezen door de groep');
        expect(await p.getByRole('link', { name: 'https://example.nl/oma' }).getAttribute('rel')).toBe('noopener noreferrer nofollow');
        await checkA11y(p, 'thread after sending');
        const threadUrl = p.url();

        // Staff see the count, find the thread in the group's inbox and reply.
        const s = staff.page;
        await logInAs(s, PEOPLE.mia, PASSWORD);
        expect(await navLink(s).textContent()).toBe('Berichten 1 ongelezen');
        await navLink(s).click();
        await s.waitForURL('**/berichten');
        await checkA11y(s, 'staff messages');
        await s.getByRole('link', { name: /Boomhut/ }).click();
        await s.waitForURL(/\/berichten\/groep\/\d+$/);
        expect(await s.locator('main').textContent()).toContain('Nieuw');
        await checkA11y(s, 'group inbox');
        await screenshot(s, 'messages-360-staff-inbox');
        await s.getByRole('link', { name: /Evi wordt opgehaald door oma/ }).click();
        await s.waitForURL(threadUrl);
        expect(await navLink(s).textContent()).toBe('Berichten');
        await checkA11y(s, 'staff thread');
        // A marker on the window survives only if the reply does not load a new page.
        await s.evaluate(() => {
          (globalThis as unknown as { stayed: boolean }).stayed = true;
        });
        await s.getByLabel('Uw antwoord').fill('Dank u wel, wij geven het door aan de collega’s.');
        await s.getByRole('button', { name: 'Antwoord versturen' }).click();
        await expect.poll(() => s.locator('#thread').textContent()).toContain('Dank u wel, wij geven het door');
        expect(await s.locator('#thread').getByRole('status').textContent()).toBe('Bericht verstuurd.');
        expect(await s.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).toBe(true);
        expect(await s.getByLabel('Uw antwoord').inputValue()).toBe('');
        expect(await s.locator('#thread').textContent()).toContain('Nog niet gelezen door de ouder');
        await checkA11y(s, 'staff thread after reply');
        await screenshot(s, 'messages-360-staff-thread');

        // The parent sees the count, then the reply; the count goes.
        await p.goto('/berichten');
        expect(await navLink(p).textContent()).toBe('Berichten 1 ongelezen');
        await checkA11y(p, 'parent inbox with unread');
        await screenshot(p, 'messages-360-parent-inbox');
        await p.getByRole('link', { name: /Evi wordt opgehaald door oma/ }).click();
        await p.waitForURL(threadUrl);
        expect(await p.locator('#thread').textContent()).toContain('Dank u wel, wij geven het door');
        expect(await p.locator('#thread').textContent()).toContain('Gelezen door de groep');
        expect(await navLink(p).textContent()).toBe('Berichten');
        await checkA11y(p, 'parent thread with reply');
        await screenshot(p, 'messages-360-parent-thread');

        // And the staff member sees that the parent has read it.
        await s.reload();
        expect(await s.locator('#thread').textContent()).toContain('Gelezen door de ouder');
      } finally {
        await parent.context.close();
        await staff.context.close();
      }
    },
    TIMEOUT,
  );

  it(
    'the location manager sends an announcement to the whole location; a parent there opens it',
    async () => {
      const manager = await newPage(e2e, PHONE);
      const parent = await newPage(e2e, PHONE);
      try {
        const m = manager.page;
        await logInAs(m, PEOPLE.hanna, PASSWORD);
        await m.goto('/berichten/mededeling/nieuw');
        await checkA11y(m, 'announcement form');
        await m.getByLabel('Alle ouders van vestiging Centrum').check();
        await m.getByLabel('Onderwerp').fill('Studiedag op vrijdag');
        await m.getByLabel('Uw bericht').fill('Vrijdag zijn alle groepen om 16:00 dicht.');
        await screenshot(m, 'messages-360-announcement-form');
        await m.getByRole('button', { name: 'Mededeling versturen' }).click();
        await m.waitForURL(/\/berichten\/mededeling\/[0-9a-f-]{36}$/);
        expect(await m.getByRole('status').textContent()).toBe('Mededeling verstuurd.');

        const p = parent.page;
        await logInAs(p, PEOPLE.cor, PASSWORD);
        expect(await navLink(p).textContent()).toBe('Berichten 1 ongelezen');
        await navLink(p).click();
        await p.getByRole('link', { name: /Studiedag op vrijdag/ }).click();
        expect(await p.locator('main').textContent()).toContain('Vrijdag zijn alle groepen om 16:00 dicht.');
        expect(await navLink(p).textContent()).toBe('Berichten');
        await checkA11y(p, 'announcement');
      } finally {
        await manager.context.close();
        await parent.context.close();
      }
    },
    TIMEOUT,
  );
});
