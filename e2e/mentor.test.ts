import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { admin } from '../test/portal.ts';
import { accountFor } from '../http/testing.ts';
import { seedCentrum } from './photo-world.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, startE2E, screenshotWidths } from './harness.ts';

/**
 * The mentor in Chromium: the location manager chooses Evi's mentor on /mentoren (htmx saves the
 * row in place), Evi's mother sees the mentor with the initials badge on Evi's card at home, and
 * the mentor finds Evi under "Mijn mentorkinderen". Every screen is photographed at 360, 768 and
 * 1280 px and checked with axe.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 180_000;
const PASSWORD = 'een lange zin als wachtwoord';
const PHONE = { width: 360, height: 800 };

const shots = (page: Page, name: string) => screenshotWidths(page, name);

describe.skipIf(!hasChromium)('the mentor in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedCentrum(e2e, ['Boomhut'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Noor', 'Boomhut'],
    ], {
      parents: [['anna@example.nl', 'Anna', 'Jansen', ['K1']]],
      staff: [
        ['mia@example.nl', 'Mia', 'Bakker', 'Boomhut'],
        ['nina@example.nl', 'Nina', 'de Wit', 'Boomhut'],
      ],
      password: PASSWORD,
    });
    const em = e2e.portal.em();
    await addStaff(em, admin, { email: 'lena@example.nl', firstName: 'Lena', lastName: 'Manager', role: 'manager' });
    await assignStaff(em, admin, 'lena@example.nl', { location: 'Centrum' });
    await accountFor(e2e.portal, 'lena@example.nl', PASSWORD);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'the manager sets a mentor, the parent sees it on the card, the mentor sees her mentor children',
    async () => {
      const manager = await newPage(e2e, { width: 1280, height: 900 });
      try {
        const { page } = manager;
        await logInAs(page, 'lena@example.nl', PASSWORD);
        await page.goto('/mentoren');
        await checkA11y(page, 'mentoren');
        await page.getByLabel('Mentor van Evi Jansen').selectOption({ label: 'Mia Bakker' });
        const row = page.locator('li', { has: page.getByLabel('Mentor van Evi Jansen') });
        await row.getByRole('button', { name: 'Opslaan' }).click();
        // htmx swapped the row alone: the page did not reload, the row says it is saved.
        await expect.poll(() => row.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Opgeslagen');
        expect(page.url()).toMatch(/\/mentoren$/);
        await checkA11y(page, 'mentoren na opslaan');
        await shots(page, 'mentor-board');
      } finally {
        await manager.context.close();
      }

      const parent = await newPage(e2e, PHONE);
      try {
        const { page } = parent;
        await logInAs(page, 'anna@example.nl', PASSWORD);
        const card = page.locator('.mentor-card');
        await expect.poll(() => card.textContent()).toContain('Mentor: Mia Bakker');
        expect(await card.locator('.mentor-initials').textContent()).toBe('MB');
        await checkA11y(page, 'home met mentor');
        await shots(page, 'mentor-home');
      } finally {
        await parent.context.close();
      }

      const mentor = await newPage(e2e, PHONE);
      try {
        const { page } = mentor;
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.getByRole('link', { name: 'Mijn mentorkinderen' }).click();
        await page.waitForURL((url) => url.pathname === '/mentorkinderen');
        expect(await page.getByRole('link', { name: 'Evi Jansen' }).getAttribute('href')).toMatch(/^\/schriftje\/kind\/\d+$/);
        expect(await page.getByText('Noor').count()).toBe(0);
        await checkA11y(page, 'mijn mentorkinderen');
        await shots(page, 'mentor-children');
      } finally {
        await mentor.context.close();
      }
    },
    TIMEOUT,
  );
});
