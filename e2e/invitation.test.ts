import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteParents } from '../core/accounts/invitations.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { importPlanningExport } from '../core/import/planning-import.ts';
import { Account } from '../core/entities/account.ts';
import { admin } from '../test/portal.ts';
import { passwordFrom, type SmtpSink, startSmtpSink } from '../test/smtp.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, VIEWPORTS, submitLogin } from './harness.ts';
import { PLANNING_SAMPLE } from '../test/fixtures.ts';

/**
 * The whole way in, as the organisation does it: import the planning system's export, invite,
 * the parent reads the mail (a real SMTP server), logs in with the generated password, is made
 * to choose their own, and reaches home. Afterwards neither the generated password nor a
 * guess works; only the parent's own.
 */

if (!hasChromium) console.warn(SKIP_REASON);
const TIMEOUT = 120_000;
const SAMPLE = PLANNING_SAMPLE;

describe.skipIf(!hasChromium)('from the planning export to the first login', () => {
  let smtp: SmtpSink;
  let e2e: E2E;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    e2e = await startE2E({ flags: { 'mail.smtpUrl': smtp.url } });
    const em = e2e.portal.em();
    // The admin provisions locations and groups first; the import refers to them by name.
    const groups = readFileSync(SAMPLE, 'utf8')
      .split(/\r?\n/)
      .slice(1)
      .filter(Boolean)
      .map((line) => line.replace(/^\uFEFF/, '').split(';').slice(0, 2) as [string, string]);
    for (const location of new Set(groups.map(([l]) => l))) await addLocation(em, admin, { name: location });
    for (const key of new Set(groups.map(([l, g]) => `${l}/${g}`))) {
      const [location, name] = key.split('/') as [string, string];
      await addGroup(em, admin, { location, name });
    }
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
    await smtp?.close();
  }, TIMEOUT);

  it(
    'import, invite, mail, login with the generated password, forced change, home',
    async () => {
      const report = await importPlanningExport(e2e.portal.em(), admin, { source: readFileSync(SAMPLE, 'utf8') });
      expect(report.rowErrors).toEqual([]);
      expect(report.created.children).toBe(43);

      const email = 'linda.visser@example.nl';
      const invite = await inviteParents(e2e.portal.em(), e2e.portal, admin, { emails: [email] });
      expect(invite.queued).toHaveLength(1);
      // The server's mail worker sends it.
      await expect.poll(() => smtp.to(email).length, { timeout: 20_000 }).toBe(1);
      const mail = smtp.to(email)[0]!;
      expect(mail.subject).toBe('Uw inloggegevens voor het Ouderportaal van Kinderopvang De Zonnebloem');
      expect(mail.text).toContain(`Gebruikersnaam (uw e-mailadres): ${email}`);
      const generated = passwordFrom(mail);

      const { context, page } = await newPage(e2e, VIEWPORTS.phone);
      try {
        await page.goto('/');
        await submitLogin(page, email, generated);
        await page.waitForURL('**/wachtwoord-wijzigen');
        await checkA11y(page, 'forced change after invitation');
        const mine = 'mijn eigen zin voor het ouderportaal';
        await page.getByLabel('Nieuw wachtwoord').fill(mine);
        await page.getByLabel('Herhaal het nieuwe wachtwoord').fill(mine);
        await page.getByRole('button', { name: 'Wachtwoord opslaan' }).click();
        await page.waitForURL((url) => url.pathname === '/');
        await expect.poll(() => page.locator('h1').textContent()).toBe('Welkom, Linda');
        await checkA11y(page, 'home after invitation');
        await screenshot(page, 'invitation-home');

        await page.locator('header').getByRole('button', { name: 'Uitloggen' }).click();
        await page.waitForURL('**/login');

        // The generated password was used up by the change.
        await submitLogin(page, email, generated);
        await expect.poll(() => page.getByRole('alert').textContent()).toContain('E-mailadres of wachtwoord klopt niet.');
        expect(new URL(page.url()).pathname).toBe('/login');

        await submitLogin(page, email, mine);
        await page.waitForURL((url) => url.pathname === '/');
        await expect.poll(() => page.locator('h1').textContent()).toBe('Welkom, Linda');
      } finally {
        await context.close();
      }
      const account = await e2e.portal.em().findOneOrFail(Account, { email });
      expect(account.passwordMustChange).toBe(false);
      expect(await e2e.portal.hasher.verify(account.passwordHash!, generated)).toBe(false);
    },
    TIMEOUT,
  );
});
