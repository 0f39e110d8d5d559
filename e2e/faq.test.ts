import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { setRules } from '../core/schedule/rules.ts';
import { seedAccount } from '../http/testing.ts';
import { admin } from '../test/portal.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, submitLogin, startE2E } from './harness.ts';

/**
 * The help button and the FAQ in a real browser on a 360 px phone: Help from the login page
 * opens the helpdesk form; a parent logs in, opens Mijn vestiging, expands a question and reads
 * the number from the location's rules, then searches with the box (a plain GET, no JavaScript
 * needed). axe-core on every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;
const PHONE = { width: 360, height: 780 };
const PASSWORD = 'paard batterij nietje correct';

describe.skipIf(!hasChromium)('the FAQ in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    await addLocation(em, admin, { name: 'Heerlen Centrum', phone: '045-1234567', openingHours: 'maandag t/m vrijdag 7:00-18:30' });
    await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
    await addChild(em, admin, { childNumber: 'F1', firstName: 'Evi', lastName: 'Jansen', birthDate: '2023-03-01', group: 'Boomhut', startDate: addDays(e2e.portal.clock.today(), -30) });
    await seedAccount(e2e.portal, { email: 'anna@example.nl', password: PASSWORD, firstName: 'Anna' });
    await linkParent(em, admin, 'anna@example.nl', 'F1');
    await setRules(em, admin, 'Heerlen Centrum', { creditValidWeeks: 10, cancelBefore: '08:30' });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'Help from the login page, then Mijn vestiging: a question opened shows the rule, the search box finds one answer',
    async () => {
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await page.goto('/login');
        await page.getByRole('link', { name: 'Help', exact: true }).click();
        await page.waitForURL((url) => url.pathname === '/p/helpdesk');
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Vraag aan de helpdesk');
        await checkA11y(page, 'helpdesk form from the login page');

        await page.goto('/login');
        await submitLogin(page, 'anna@example.nl', PASSWORD);
        await page.waitForURL((url) => url.pathname === '/');
        await page.getByRole('navigation', { name: 'Hoofdmenu' }).getByRole('link', { name: 'Meer' }).click();
        await page.getByRole('link', { name: 'Mijn vestiging' }).click();
        await page.waitForURL('**/mijn-vestiging');
        expect(await page.getByRole('heading', { name: 'Veelgestelde vragen: afmelden en ruilen' }).isVisible()).toBe(true);

        // Closed until opened: the answer is there but hidden, as <details> does without JavaScript.
        const credit = page.locator('details', { has: page.getByText('Wat is ruiltegoed en hoe lang is het geldig?') });
        const validity = credit.getByText('10 weken');
        expect(await validity.isVisible()).toBe(false);
        await credit.locator('summary').click();
        expect(await validity.isVisible()).toBe(true);
        expect(await credit.getAttribute('open')).not.toBeNull();
        await checkA11y(page, 'mijn vestiging with an open FAQ entry');
        await screenshot(page, 'faq-360-mijn-vestiging');

        await page.getByLabel('Zoeken in de veelgestelde vragen').fill('feestdag');
        await page.getByRole('button', { name: 'Zoeken' }).click();
        await page.waitForURL((url) => url.pathname === '/p/faq' && url.searchParams.get('q') === 'feestdag');
        expect(await page.locator('details').count()).toBe(1);
        // Found entries are open, so the answer reads at once.
        expect(await page.getByText('De vestiging is gesloten op de erkende feestdagen').isVisible()).toBe(true);
        expect(await page.getByRole('status').textContent()).toBe('1 antwoord met "feestdag".');
        await checkA11y(page, 'faq search result');
        await screenshot(page, 'faq-360-search');

        await page.getByLabel('Zoeken in de veelgestelde vragen').fill('zwembad');
        await page.getByRole('button', { name: 'Zoeken' }).click();
        await page.waitForURL((url) => url.searchParams.get('q') === 'zwembad');
        expect(await page.locator('details').count()).toBe(0);
        expect(await page.getByRole('status').textContent()).toContain('Geen antwoorden gevonden');
        await page.getByRole('link', { name: 'Alle vragen tonen' }).click();
        await page.waitForURL((url) => url.pathname === '/p/faq' && !url.search);
        expect(await page.locator('details').count()).toBe(7);
        expect(await page.getByText('uiterlijk om 08:30 uur').first().isVisible()).toBe(false);
        await checkA11y(page, 'faq page');
        await screenshot(page, 'faq-360-all');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
