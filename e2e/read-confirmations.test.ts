
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnnouncementMailWorker } from '../core/messages/announcement-mail.ts';
import { PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, startE2E, waitForMail, screenshotWidths } from './harness.ts';

/**
 * Read confirmations in Chromium: the location manager posts an announcement that asks parents
 * to confirm, a parent sees "Bevestigen gevraagd" on Home and confirms with one tap (htmx swaps
 * the box, no page load), another parent does the same without JavaScript, and the manager sees
 * who did and who did not per group and sends one reminder, which reaches only the parent who
 * had not confirmed. Every page is checked with axe and photographed at 360, 768 and 1280 px.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1280, height: 800 };

const shots = screenshotWidths;

describe.skipIf(!hasChromium)('read confirmations in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedMessageWorld(e2e.portal, { publicUrl: e2e.baseUrl });
    await startAnnouncementMailWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'the manager asks, parents confirm with one tap, the manager sees who did and reminds the others once',
    async () => {
      const manager = await newPage(e2e, DESKTOP);
      const parent = await newPage(e2e, PHONE);
      // A parent whose browser runs no JavaScript: the same tap is a plain form.
      const plainContext = await e2e.browser.newContext({ baseURL: e2e.baseUrl, viewport: PHONE, locale: 'nl-NL', javaScriptEnabled: false });
      const plain = await plainContext.newPage();
      try {
        // The manager writes to the whole location and asks for confirmation.
        const m = manager.page;
        await logInAs(m, PEOPLE.hanna, PASSWORD);
        await m.goto('/berichten/mededeling/nieuw');
        await m.getByLabel('Alle ouders van vestiging Centrum').check();
        await m.getByLabel('Onderwerp').fill('Nieuwe sluitingstijd');
        await m.getByLabel('Uw bericht').fill('Vanaf 1 januari sluiten alle groepen om 18:00.');
        await m.getByLabel('Vraag ouders om te bevestigen dat ze dit gelezen hebben').check();
        await checkA11y(m, 'announcement form with the confirmation box ticked');
        await shots(m, 'confirm-announcement-form', DESKTOP);
        await m.getByRole('button', { name: 'Mededeling versturen' }).click();
        await m.waitForURL(/\/berichten\/mededeling\/[0-9a-f-]{36}$/);
        const announcementUrl = new URL(m.url()).pathname;

        // A parent: Home says it is asked; one tap on the announcement confirms it in place.
        const p = parent.page;
        await logInAs(p, PEOPLE.anna, PASSWORD);
        const news = p.locator('.home-new');
        expect(await news.textContent()).toContain('Nieuwe sluitingstijd');
        expect(await news.textContent()).toContain('Bevestigen gevraagd');
        await checkA11y(p, 'home with a confirmation asked');
        await shots(p, 'confirm-parent-home', PHONE);
        await news.getByRole('link', { name: 'Nieuwe sluitingstijd' }).click();
        await p.waitForURL(`**${announcementUrl}`);
        await checkA11y(p, 'announcement asking for confirmation');
        await shots(p, 'confirm-parent-asked', PHONE);
        await p.evaluate(() => {
          (globalThis as unknown as { stayed: boolean }).stayed = true;
        });
        await p.getByRole('button', { name: 'Gelezen en begrepen' }).click();
        await expect.poll(() => p.locator('#bevestiging').textContent()).toContain('U hebt bevestigd dat u dit gelezen hebt');
        expect(await p.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).toBe(true);
        expect(await p.getByRole('button', { name: 'Gelezen en begrepen' }).count()).toBe(0);
        await checkA11y(p, 'announcement after confirming');
        await shots(p, 'confirm-parent-confirmed', PHONE);
        await p.goto('/');
        expect(await p.locator('main').textContent()).not.toContain('Bevestigen gevraagd');

        // Another parent of Evi, without JavaScript: the form posts and the page comes back.
        await plain.goto('/login');
        await plain.getByLabel('E-mailadres').fill(PEOPLE.bart);
        await plain.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
        await plain.getByRole('button', { name: 'Inloggen' }).click();
        await plain.waitForURL((url) => url.pathname === '/');
        await plain.goto(announcementUrl);
        await plain.getByRole('button', { name: 'Gelezen en begrepen' }).click();
        await plain.waitForURL(`**${announcementUrl}`);
        expect(await plain.locator('main').textContent()).toContain('Dank u wel, uw bevestiging is ontvangen.');

        // The manager: who did and who did not, per group; one reminder.
        await m.goto(announcementUrl);
        await m.getByRole('link', { name: 'Wie heeft het gelezen?' }).click();
        await m.waitForURL(`**${announcementUrl}/bevestigingen`);
        const main = m.locator('main');
        expect(await main.textContent()).toContain('2 van de 3 ouders hebben bevestigd.');
        const boomhut = m.getByRole('region', { name: 'Groep Boomhut' });
        expect(await boomhut.textContent()).toContain('Bevestigd (2)');
        expect(await boomhut.textContent()).toContain('Nog niet bevestigd (1)');
        expect(await m.getByRole('region', { name: 'Groep Zolder' }).textContent()).toContain('Cor Ouder');
        await checkA11y(m, 'confirmations overview');
        await shots(m, 'confirm-overview', DESKTOP);

        const since = Date.now();
        await m.getByRole('button', { name: 'Herinnering sturen' }).click();
        await m.waitForURL(`**${announcementUrl}/bevestigingen`);
        expect(await m.getByRole('status').first().textContent()).toContain('De herinnering is verstuurd.');
        expect(await main.textContent()).toMatch(/Laatste herinnering: vandaag \d\d:\d\d, door Hanna Werker, aan 1 ouder\./);
        expect(await main.textContent()).toContain('De volgende kan vanaf');
        expect(await m.getByRole('button', { name: 'Herinnering sturen' }).count()).toBe(0);
        await checkA11y(m, 'confirmations overview after the reminder');
        await shots(m, 'confirm-overview-reminded', DESKTOP);

        const mail = await waitForMail(e2e, PEOPLE.cor, since);
        expect(mail).toContain('Nieuwe sluitingstijd');
        expect(mail).toContain('Gelezen en begrepen');
        expect(mail).toContain(`${e2e.baseUrl}${announcementUrl}`);
      } finally {
        await manager.context.close();
        await parent.context.close();
        await plainContext.close();
      }
    },
    TIMEOUT,
  );
});
