import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { addStaff } from '../core/directory/staff.ts';
import { unsubscribeToken } from '../core/profile/notifications.ts';
import { seedAccount } from '../http/testing.ts';
import { admin } from '../test/portal.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * Mijn gegevens and mijn vestiging in a real browser on a small phone (360 px): a refused form
 * keeps what was typed, a saved one says so, English switches the whole page, the locations of
 * two children show both; plus the public unsubscribe page. axe-core on every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;
const PHONE = { width: 360, height: 780 };
const GOOD = 'paard batterij nietje correct';

describe.skipIf(!hasChromium)('mijn gegevens in the browser', () => {
  let e2e: E2E;
  let parentId: number;
  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    await addStaff(em, admin, { email: 'hoofd@example.nl', firstName: 'Mieke', lastName: 'Jansen', role: 'manager' });
    await addLocation(em, admin, {
      name: 'Heerlen Centrum',
      address: 'Markt 1\n6411 AA Heerlen',
      phone: '045-1234567',
      email: 'centrum@example.nl',
      openingHours: 'maandag t/m vrijdag 7:00-18:30',
      manager: 'hoofd@example.nl',
    });
    await addLocation(em, admin, { name: 'Maastricht Wyck', phone: '043-7654321', openingHours: 'ma-do 7:30-18:00' });
    await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
    await addGroup(em, admin, { location: 'Maastricht Wyck', name: 'Egeltjes' });
    const start = addDays(e2e.portal.clock.today(), -30);
    await addChild(em, admin, { childNumber: 'E1', firstName: 'Evi', lastName: 'Jansen', birthDate: '2023-03-01', group: 'Boomhut', startDate: start });
    await addChild(em, admin, { childNumber: 'E2', firstName: 'Daan', lastName: 'Jansen', birthDate: '2024-06-01', group: 'Egeltjes', startDate: start });
    const account = await seedAccount(e2e.portal, { email: 'anna@example.nl', password: GOOD, firstName: 'Anna', lastName: 'Jansen' });
    parentId = account.personId;
    await linkParent(em, admin, account.email, 'E1');
    await linkParent(em, admin, account.email, 'E2');
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  const shot = (page: Page, what: string) => screenshot(page, `profile-360-${what}`);

  it(
    'edits details and language, sees the page switch to English, views mijn vestiging',
    async () => {
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await page.goto('/login');
        await page.getByLabel('E-mailadres').fill('anna@example.nl');
        await page.getByLabel('Wachtwoord', { exact: true }).fill(GOOD);
        await page.getByRole('button', { name: 'Inloggen' }).click();
        await page.waitForURL((url) => url.pathname === '/');

        await page.getByRole('navigation', { name: 'Hoofdmenu' }).getByRole('link', { name: 'Meer' }).click();
        await page.getByRole('link', { name: 'Mijn gegevens' }).click();
        await page.waitForURL('**/mijn-gegevens');
        expect(await page.getByLabel('Voornaam').inputValue()).toBe('Anna');
        await checkA11y(page, 'profile');
        await shot(page, 'profile');

        // Refused: the error sits next to its field and what was typed stays.
        await page.getByLabel('Voornaam').fill('');
        await page.getByLabel('Telefoonnummer').fill('06-12345678');
        await page.getByLabel('Straat en huisnummer').fill('Dorpsstraat 12');
        await page.getByRole('button', { name: 'Gegevens opslaan' }).click();
        await expect.poll(() => page.locator('#firstName-error').textContent()).toBe('Vul uw voornaam in.');
        expect(await page.getByLabel('Telefoonnummer').inputValue()).toBe('06-12345678');
        expect(await page.locator('#city-error').textContent()).toContain('Vul het hele adres in');
        await checkA11y(page, 'profile with errors');
        await shot(page, 'profile-errors');

        await page.getByLabel('Voornaam').fill('Anna');
        await page.getByLabel('Postcode').fill('6411ab');
        await page.getByLabel('Woonplaats').fill('Heerlen');
        await page.getByRole('button', { name: 'Gegevens opslaan' }).click();
        await expect.poll(() => page.getByRole('status').textContent()).toBe('Gegevens opgeslagen.');
        expect(await page.getByLabel('Postcode').inputValue()).toBe('6411 AB');

        await page.getByLabel('Geen e-mails').check();
        await page.getByRole('button', { name: 'Keuze opslaan' }).click();
        await expect.poll(() => page.getByRole('status').textContent()).toContain('e-mailmeldingen is opgeslagen');
        expect(await page.getByLabel('Geen e-mails').isChecked()).toBe(true);

        await page.getByLabel('English').check();
        await page.getByRole('button', { name: 'Taal opslaan' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('My details');
        expect(await page.locator('html').getAttribute('lang')).toBe('en');
        expect(await page.getByRole('status').textContent()).toBe('Your language has been saved.');
        expect(await page.getByRole('navigation', { name: 'Main menu' }).textContent()).toContain('More');
        await checkA11y(page, 'profile in English');
        await shot(page, 'profile-en');

        await page.goto('/mijn-vestiging');
        await expect.poll(() => page.locator('h1').textContent()).toBe('My locations');
        const main = (await page.locator('main').textContent()) ?? '';
        expect(main).toContain('Heerlen Centrum');
        expect(main).toContain('Maastricht Wyck');
        expect(main).toContain('Mieke Jansen');
        expect(main).toContain('For Evi');
        expect(await page.getByRole('link', { name: '045-1234567' }).getAttribute('href')).toBe('tel:0451234567');
        await checkA11y(page, 'my locations');
        await shot(page, 'locations');

        await page.goto('/mijn-gegevens/e-mailadres');
        await checkA11y(page, 'e-mail change');
        await shot(page, 'email-change');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );

  it(
    'the unsubscribe link works without logging in',
    async () => {
      const token = await unsubscribeToken(e2e.portal.em(), parentId);
      await e2e.portal.em().getConnection().execute("update parent set notification_mode = 'digest', language = 'nl' where id = ?", [parentId]);
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await page.goto(`/uitschrijven/${token}`);
        expect(await page.locator('main').textContent()).toContain('a…@example.nl');
        await checkA11y(page, 'unsubscribe');
        await shot(page, 'unsubscribe');
        await page.getByRole('button', { name: 'Ja, zet de e-mails uit' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('E-mailmeldingen staan uit');
        await checkA11y(page, 'unsubscribed');
        const rows = await e2e.portal.em().getConnection().execute('select notification_mode from parent where id = ?', [parentId]);
        expect(rows[0]?.notification_mode).toBe('off');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );

  it(
    'asks for "download mijn gegevens" and reads who downloaded photos of the children',
    async () => {
      await e2e.portal.em().getConnection().execute("update parent set language = 'nl' where id = ?", [parentId]);
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await logInAs(page, 'anna@example.nl', GOOD);
        await page.goto('/mijn-gegevens');
        await page.getByRole('button', { name: 'Download mijn gegevens' }).click();
        await page.waitForURL('**/mijn-gegevens');
        expect(await page.locator('main').textContent()).toContain('We zetten uw gegevens klaar');
        // Asked: the button is replaced by what happens next.
        expect(await page.getByRole('button', { name: 'Download mijn gegevens' }).count()).toBe(0);
        await checkA11y(page, 'profile after data export request');
        await shot(page, 'data-export-requested');

        await page.getByRole('link', { name: "Wie heeft foto's van mijn kind gedownload?" }).click();
        await page.waitForURL('**/mijn-gegevens/downloads');
        expect(await page.locator('h1').textContent()).toBe("Downloads van foto's van uw kind");
        expect(await page.locator('main').textContent()).toContain("Er zijn nog geen foto's van uw kind gedownload.");
        await checkA11y(page, 'downloads of my children');
        await shot(page, 'downloads');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
