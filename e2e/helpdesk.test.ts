import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelpdeskRequest } from '../plugins/helpdesk/entity.ts';
import { startHelpdeskMailWorker } from '../plugins/helpdesk/mail.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, waitForMail } from './harness.ts';

/**
 * Help from the login page in a real browser on a phone: the Help link, the form (a refused
 * send keeps what was typed and says what is missing), the confirmation with a reference, and
 * the mails. axe-core on every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;
const PHONE = { width: 360, height: 780 };

describe.skipIf(!hasChromium)('helpdesk in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await startHelpdeskMailWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'from the login page: Help, the form, a refused send, the confirmation with a reference',
    async () => {
      const { context, page } = await newPage(e2e, PHONE);
      try {
        await page.goto('/login');
        await checkA11y(page, 'login with help link');
        await page.getByRole('link', { name: 'Help', exact: true }).click();
        await page.waitForURL((url) => url.pathname === '/p/helpdesk');
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Vraag aan de helpdesk');
        expect(await page.locator('input[name=from]').inputValue()).toBe('/login');
        await checkA11y(page, 'helpdesk form');

        const since = Date.now();
        await page.getByLabel('Onderwerp').fill('Wachtwoord werkt niet');
        await page.getByLabel('Uw vraag').fill('Ik kom <niet> binnen na het resetten.');
        await page.getByRole('button', { name: 'Vraag versturen' }).click();
        // No category and no address: refused, what was typed kept, errors beside the fields.
        expect(await page.getByText('Kies waar uw vraag over gaat.').isVisible()).toBe(true);
        expect(await page.getByText('Vul een geldig e-mailadres in').isVisible()).toBe(true);
        expect(await page.getByLabel('Uw vraag').inputValue()).toBe('Ik kom <niet> binnen na het resetten.');
        await checkA11y(page, 'helpdesk form with errors');
        await screenshot(page, 'helpdesk-360-errors');

        await page.getByLabel('Inloggen').check();
        await page.getByLabel('Uw e-mailadres').fill('ouder@example.nl');
        await page.getByRole('button', { name: 'Vraag versturen' }).click();
        await page.waitForURL((url) => url.pathname === '/p/helpdesk/verstuurd');
        const reference = (await page.locator('.reference').textContent()) ?? '';
        expect(reference).toMatch(/^HD-[A-Z0-9]{6}$/);
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Uw vraag is verstuurd');
        await checkA11y(page, 'helpdesk confirmation');
        await screenshot(page, 'helpdesk-360-sent');

        const row = await e2e.portal.em().findOneOrFail(HelpdeskRequest, { reference });
        expect(row).toMatchObject({ category: 'inloggen', email: 'ouder@example.nl', fromPath: '/login' });
        expect(await waitForMail(e2e, 'ouder@example.nl', since)).toContain(reference);
        expect(await waitForMail(e2e, 'helpdesk@example.nl', since)).toContain('Ik kom <niet> binnen na het resetten.');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
