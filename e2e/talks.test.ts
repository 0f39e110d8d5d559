
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { startTalkMailWorker } from '../core/talks/mail.ts';
import { seedCentrum } from './photo-world.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, startE2E, waitForMail, screenshotWidths } from './harness.ts';

/**
 * Oudergesprekken in Chromium: a staff member publishes three times for tomorrow on her group's
 * page, Evi's mother finds "Gesprek plannen" on Home, books a time (htmx swaps Evi's card), gets
 * the confirmation mail, and moves the talk; a parent without JavaScript books for Noor with a
 * plain form; the staff member sees both bookings. Every screen is checked with axe and
 * photographed at 360, 768 and 1280 px.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const PASSWORD = 'een lange zin als wachtwoord';
const PHONE = { width: 360, height: 800 };
const DESKTOP = { width: 1280, height: 900 };

const shots = screenshotWidths;

describe.skipIf(!hasChromium)('oudergesprekken in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedCentrum(e2e, ['Boomhut'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Noor', 'Boomhut'],
    ], {
      parents: [
        ['anna@example.nl', 'Anna', 'Jansen', ['K1']],
        ['bert@example.nl', 'Bert', 'Jansen', ['K2']],
      ],
      staff: [['mia@example.nl', 'Mia', 'Bakker', 'Boomhut']],
      password: PASSWORD,
    });
    await startTalkMailWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'staff publish times, a parent books and moves a talk with htmx, another books without JavaScript, staff see the bookings',
    async () => {
      const tomorrow = addDays(e2e.portal.clock.today(), 1);
      const staff = await newPage(e2e, DESKTOP);
      try {
        const { page } = staff;
        // A step that cannot happen fails within seconds, naming the step, instead of at the test's end.
        page.setDefaultTimeout(20_000);
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.getByRole('link', { name: 'Oudergesprekken' }).first().click();
        await page.waitForURL(/\/gesprekken\/groep\/\d+$/);
        await page.getByLabel('Datum').fill(tomorrow);
        await page.getByLabel('Eerste gesprek om').fill('15:00');
        await page.getByLabel('Minuten per gesprek (5 tot 240)').fill('15');
        await page.getByLabel('Aantal gesprekken (hooguit 40)').fill('3');
        await page.getByLabel('Plaats').fill('Kantoor, eerste verdieping');
        await checkA11y(page, 'talks group form');
        await page.getByRole('button', { name: 'Tijden klaarzetten' }).click();
        await expect.poll(() => page.getByRole('status').textContent()).toContain('De tijden staan klaar');
        expect(await page.locator('.talk-slots li').count()).toBe(3);
        await checkA11y(page, 'talks group with times');
        await shots(page, 'talks-group', DESKTOP);
      } finally {
        await staff.context.close();
      }

      const parent = await newPage(e2e, PHONE);
      try {
        const { page } = parent;
        page.setDefaultTimeout(20_000);
        await logInAs(page, 'anna@example.nl', PASSWORD);
        await page.getByRole('link', { name: 'Gesprek plannen' }).click();
        await page.waitForURL((url) => url.pathname === '/gesprekken');
        await checkA11y(page, 'talks parent');
        await shots(page, 'talks-parent', PHONE);
        const since = Date.now();
        const card = page.locator('section.talk-child');
        await card.getByRole('radio').first().check();
        await card.getByRole('button', { name: 'Boeken' }).click();
        // htmx swapped Evi's card alone: no page load, the card says it is booked.
        await expect.poll(() => page.locator('section.talk-child [role="status"]').textContent(), { timeout: 10_000 }).toContain('Het gesprek is geboekt');
        expect(await page.locator('section.talk-child').textContent()).toContain('15:00–15:15');
        const mail = await waitForMail(e2e, 'anna@example.nl', since);
        expect(mail).toContain('U hebt een gesprek over Evi Jansen met Mia Bakker geboekt.');
        await checkA11y(page, 'talks parent booked');
        await shots(page, 'talks-parent-booked', PHONE);
        await page.locator('section.talk-child').getByRole('radio').last().check();
        await page.locator('section.talk-child').getByRole('button', { name: 'Verzetten' }).click();
        await expect.poll(() => page.locator('section.talk-child [role="status"]').textContent(), { timeout: 10_000 }).toContain('Het gesprek is verzet');
        expect(await page.locator('section.talk-child').textContent()).toContain('15:30–15:45');
      } finally {
        await parent.context.close();
      }

      // A parent whose browser runs no JavaScript: the same choice is a plain form.
      const plainContext = await e2e.browser.newContext({ baseURL: e2e.baseUrl, viewport: PHONE, locale: 'nl-NL', javaScriptEnabled: false });
      try {
        const page = await plainContext.newPage();
        page.setDefaultTimeout(20_000);
        await logInAs(page, 'bert@example.nl', PASSWORD);
        await page.goto('/gesprekken');
        await page.getByRole('radio').first().check();
        await page.getByRole('button', { name: 'Boeken' }).click();
        await page.waitForURL((url) => url.pathname === '/gesprekken');
        // (No axe here: it runs as a script, which this browser does not run; the page is the same one checked above.)
        expect(await page.getByRole('status').first().textContent()).toContain('Het gesprek is geboekt');
      } finally {
        await plainContext.close();
      }

      const back = await newPage(e2e, DESKTOP);
      try {
        const { page } = back;
        page.setDefaultTimeout(20_000);
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.goto('/gesprekken');
        await page.getByRole('link', { name: 'Boomhut' }).click();
        const list = page.locator('.talk-slots');
        await expect.poll(() => list.textContent()).toContain('Geboekt voor Evi Jansen door Anna Jansen');
        expect(await list.textContent()).toContain('Geboekt voor Noor Jansen door Bert Jansen');
        await checkA11y(page, 'talks group with bookings');
        await shots(page, 'talks-group-booked', DESKTOP);
      } finally {
        await back.context.close();
      }
    },
    TIMEOUT,
  );
});
