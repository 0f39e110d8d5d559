import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePassword } from '../core/auth/passwords.ts';
import { seedAccount } from '../http/testing.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, VIEWPORTS, waitForMail, submitLogin } from './harness.ts';

/**
 * Accounts in a real browser: the first login with a generated password, the forced change,
 * home, logout; "forgot password" through the mail and back; on a phone and on a desktop (the
 * desktop in dark mode, so both colour schemes meet the contrast rules). Every page visited is
 * checked with axe-core against WCAG 2.2 AA.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;

describe.skipIf(!hasChromium)('accounts in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  const path = (page: Page) => new URL(page.url()).pathname;

  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    const colorScheme = name === 'phone' ? ('light' as const) : ('dark' as const);
    const shot = (page: Page, what: string) => screenshot(page, `${name}-${what}`);

    it(
      `${name}: first login with a generated password, forced change, home, logout`,
      async () => {
        const email = `eerste-${name}@example.nl`;
        const generated = generatePassword();
        await seedAccount(e2e.portal, {
          email,
          password: generated,
          firstName: 'Anna',
          mustChange: true,
          passwordExpiresAt: new Date(e2e.portal.clock.now().getTime() + 14 * 86_400_000),
        });
        const { context, page } = await newPage(e2e, viewport, { colorScheme });
        try {
          await page.goto('/');
          expect(path(page)).toBe('/login');
          await checkA11y(page, 'login');
          await shot(page, 'login');

          await submitLogin(page, email, 'helemaal verkeerd wachtwoord');
          await expect.poll(() => page.getByRole('alert').textContent()).toContain('E-mailadres of wachtwoord klopt niet.');
          expect(await page.getByLabel('E-mailadres').inputValue()).toBe(email);
          await checkA11y(page, 'login with error');

          await submitLogin(page, email, generated);
          await page.waitForURL('**/wachtwoord-wijzigen');
          await expect.poll(() => page.locator('h1').textContent()).toBe('Kies uw eigen wachtwoord');
          await checkA11y(page, 'forced change');
          await shot(page, 'forced-change');

          // Nothing else is reachable until the change is done.
          await page.goto('/fotos');
          expect(path(page)).toBe('/wachtwoord-wijzigen');

          // A refused password: htmx swaps the 422 form with the error next to the field.
          await page.getByLabel('Nieuw wachtwoord').fill('te kort');
          await page.getByLabel('Herhaal het nieuwe wachtwoord').fill('te kort');
          await page.getByRole('button', { name: 'Wachtwoord opslaan' }).click();
          await expect.poll(() => page.locator('#newPassword-error').textContent()).toBe('Kies een wachtwoord van minstens 12 tekens.');
          await checkA11y(page, 'forced change with error');
          await shot(page, 'forced-change-error');

          const mine = 'fietsen langs de grote rivier';
          await page.getByLabel('Nieuw wachtwoord').fill(mine);
          await page.getByLabel('Herhaal het nieuwe wachtwoord').fill(mine);
          await page.getByRole('button', { name: 'Wachtwoord opslaan' }).click();
          await page.waitForURL((url) => url.pathname === '/');
          await expect.poll(() => page.locator('h1').textContent()).toBe('Welkom, Anna');
          expect(await page.getByRole('status').textContent()).toContain('Uw wachtwoord is gewijzigd.');
          await checkA11y(page, 'home');
          await shot(page, 'home');

          const nav = page.getByRole('navigation', { name: 'Hoofdmenu' });
          await nav.getByRole('link', { name: "Foto's" }).click();
          await page.waitForURL('**/fotos');
          expect(await page.locator('main').textContent()).toContain("Nog geen foto's");
          await checkA11y(page, 'empty album');
          await nav.getByRole('link', { name: 'Schriftje' }).click();
          await page.waitForURL('**/schriftje');
          expect(await page.locator('main').textContent()).toContain('Er is nog geen kind aan uw account gekoppeld.');
          await checkA11y(page, 'schriftje without a child');
          await nav.getByRole('link', { name: 'Meer' }).click();
          await page.waitForURL('**/meer');
          await checkA11y(page, 'more');
          await page.getByRole('link', { name: 'Mijn gegevens' }).click();
          await page.waitForURL('**/mijn-gegevens');
          await checkA11y(page, 'profile');
          await shot(page, 'profile');

          await page.locator('header').getByRole('button', { name: 'Uitloggen' }).click();
          await page.waitForURL('**/login');
          expect(await page.getByRole('status').textContent()).toBe('U bent uitgelogd.');
          await checkA11y(page, 'logged out');
          // Back does not bring the private page back.
          await page.goBack();
          expect(await page.content()).not.toContain('Welkom, Anna');
          await page.goto('/mijn-gegevens');
          expect(path(page)).toBe('/login');
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );

    it(
      `${name}: forgot password, the link from the mail, a new password, login`,
      async () => {
        const email = `vergeten-${name}@example.nl`;
        await seedAccount(e2e.portal, { email, password: 'het oude wachtwoord dat weg is', firstName: 'Bram' });
        const { context, page } = await newPage(e2e, viewport, { colorScheme });
        try {
          await page.goto('/login');
          await page.getByRole('link', { name: 'Wachtwoord vergeten?' }).click();
          await page.waitForURL('**/wachtwoord-vergeten');
          await checkA11y(page, 'forgot password');
          await shot(page, 'forgot-password');

          const asked = Date.now();
          await page.getByLabel('E-mailadres').fill(email);
          await page.getByRole('button', { name: 'Stuur mij een link' }).click();
          await expect.poll(() => page.getByRole('status').textContent()).toContain('Als dit e-mailadres bij ons bekend is');
          await checkA11y(page, 'forgot password sent');
          await shot(page, 'forgot-password-sent');

          const mail = await waitForMail(e2e, email, asked);
          expect(mail).toContain('Beste Bram,');
          const link = /(http:\/\/\S+\/wachtwoord-herstellen\/[\w-]{43})/.exec(mail)?.[1];
          expect(link, mail).toBeDefined();
          await page.goto(link!);
          await expect.poll(() => page.locator('h1').textContent()).toBe('Nieuw wachtwoord kiezen');
          await checkA11y(page, 'reset password');
          await shot(page, 'reset-password');

          const fresh = 'een nieuw begin met koffie';
          await page.getByLabel('Nieuw wachtwoord').fill(fresh);
          await page.getByLabel('Herhaal het nieuwe wachtwoord').fill(fresh);
          await page.getByRole('button', { name: 'Wachtwoord opslaan' }).click();
          await page.waitForURL('**/login');
          expect(await page.getByRole('status').textContent()).toContain('Uw nieuwe wachtwoord is ingesteld.');
          await checkA11y(page, 'login after reset');

          // The link is used up.
          await page.goto(link!);
          await expect.poll(() => page.locator('h1').textContent()).toBe('Deze link werkt niet meer');
          await checkA11y(page, 'used link');

          await page.goto('/login');
          await submitLogin(page, email, fresh);
          await page.waitForURL((url) => url.pathname === '/');
          await expect.poll(() => page.locator('h1').textContent()).toBe('Welkom, Bram');
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );
  }

  it(
    'htmx 4: the CSRF header set once on <body> (hx-headers:inherited) reaches a request, and a 422 is swapped',
    async () => {
      const email = 'htmx@example.nl';
      const password = 'een wachtwoord voor htmx';
      await seedAccount(e2e.portal, { email, password });
      const { context, page } = await newPage(e2e, VIEWPORTS.desktop);
      try {
        await page.goto('/login');
        await submitLogin(page, email, password);
        await page.waitForURL((url) => url.pathname === '/');
        await page.goto('/wachtwoord-wijzigen');
        const headers = await page.locator('body').getAttribute('hx-headers:inherited');
        const token = (JSON.parse(headers!) as Record<string, string>)['X-CSRF-Token'];
        expect(token).toMatch(/^[\w-]{86}$/); // masked per page (BREACH)
        // Take the token out of the form: only the inherited header can carry it now. And mark
        // the window, to see that the page was swapped in place rather than reloaded.
        await page.evaluate(`
          document.querySelector('#password-form input[name="_csrf"]').remove();
          window.marker = 'same page';
        `);
        await page.getByLabel('Huidig wachtwoord').fill(password);
        await page.getByLabel('Nieuw wachtwoord').fill('kort');
        await page.getByLabel('Herhaal het nieuwe wachtwoord').fill('kort');
        const [request, response] = await Promise.all([
          page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/wachtwoord-wijzigen')),
          page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/wachtwoord-wijzigen')),
          page.getByRole('button', { name: 'Wachtwoord opslaan' }).click(),
        ]);
        const sent = await request.allHeaders();
        expect(sent['hx-request']).toBe('true');
        expect(sent['x-csrf-token']).toBe(token);
        expect(request.postData() ?? '').not.toContain('_csrf=');
        expect(response.status()).toBe(422);
        await expect.poll(() => page.locator('#newPassword-error').textContent()).toBe('Kies een wachtwoord van minstens 12 tekens.');
        expect(await page.evaluate('window.marker')).toBe('same page');
        expect(await page.locator('#password-form input[name="_csrf"]').count()).toBe(1);
        await checkA11y(page, 'profile change with error');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
