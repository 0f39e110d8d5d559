import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { spokenDate, startDecisionMailWorker } from '../core/schedule/decision-mail.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E, waitForMail } from './harness.ts';

/**
 * Afmelden en ruilen in a real browser on a 360 px phone: a parent cancels a contracted day,
 * uses the credit to ask for another day, the location manager sees the day's occupancy and
 * approves; the parent sees "goedgekeurd" and gets the mail. axe-core checks every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const PHONE = { width: 360, height: 780 };

describe.skipIf(!hasChromium)('afmelden en ruilen in the browser', () => {
  let e2e: E2E;
  let w: ScheduleWorld;
  beforeAll(async () => {
    e2e = await startE2E();
    w = await seedScheduleWorld(e2e.portal, { publicUrl: e2e.baseUrl });
    await startDecisionMailWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'a parent cancels a day and asks for a swap day; the manager approves; the parent sees it and gets the mail',
    async () => {
      const parent = await newPage(e2e, PHONE);
      const manager = await newPage(e2e, PHONE);
      const monday = spokenDate(w.monday, 'nl');
      const thursdayIso = addDays(w.monday, 3);
      const thursday = spokenDate(thursdayIso, 'nl');
      try {
        const p = parent.page;
        await logInAs(p, PEOPLE.cor, PASSWORD);
        await p.goto('/meer');
        await p.getByRole('link', { name: 'Afmelden en ruilen' }).click();
        await p.waitForURL('**/ruilen');
        // Cor has two children: the switcher leads to Sam's days.
        await p.getByRole('navigation', { name: 'Kies een kind' }).getByRole('link', { name: 'Sam Jansen' }).click();
        await p.waitForURL(`**/ruilen?kind=${w.children.sam}`);
        await checkA11y(p, 'parent swaps page');
        await p.getByRole('button', { name: `${monday} afmelden` }).click();
        await p.waitForURL(`**/ruilen?kind=${w.children.sam}`);
        expect(await p.getByRole('status').first().textContent()).toContain('De dag is afgemeld.');
        const main = p.locator('main');
        expect(await main.textContent()).toContain('U heeft 1 ruildag tegoed.');
        // Until the credit is used, the afmelding can be undone.
        expect(await p.getByRole('button', { name: `Afmelding van ${monday} ongedaan maken` }).count()).toBe(1);
        await checkA11y(p, 'parent swaps page after cancelling');
        await screenshot(p, 'swaps-360-parent-cancelled');

        // A day the child already comes is refused next to the form, and what was typed stays.
        await p.getByLabel('Datum').fill(addDays(w.monday, 1));
        await p.getByRole('button', { name: 'Aanvraag versturen' }).click();
        expect(await p.getByRole('alert').textContent()).toContain('Uw kind komt die dag al.');
        expect(await p.getByLabel('Datum').inputValue()).toBe(addDays(w.monday, 1));
        await checkA11y(p, 'swap request refused');

        await p.getByLabel('Datum').fill(thursdayIso);
        await p.getByRole('button', { name: 'Aanvraag versturen' }).click();
        await p.waitForURL(`**/ruilen?kind=${w.children.sam}`);
        expect(await p.getByRole('status').first().textContent()).toContain('Uw aanvraag is verstuurd.');
        expect(await main.textContent()).toContain(`${thursday}, hele dag`);
        expect(await main.textContent()).toContain('in behandeling');
        await checkA11y(p, 'parent swaps page with request');
        await screenshot(p, 'swaps-360-parent');

        // The manager sees the request with the day's occupancy and approves it.
        const m = manager.page;
        await logInAs(m, PEOPLE.hanna, PASSWORD);
        await m.getByRole('navigation', { name: 'Hoofdmenu' }).getByRole('link', { name: 'Locatie' }).click();
        await m.waitForURL('**/locatie/ruilverzoeken');
        const list = m.locator('main');
        expect(await list.textContent()).toContain('Sam Jansen');
        expect(await list.textContent()).toContain('1 van 2 plaatsen bezet');
        await checkA11y(m, 'manager swap requests');
        await screenshot(m, 'swaps-360-manager');
        const since = Date.now();
        await m.getByRole('button', { name: `Goedkeuren: Sam Jansen, ${thursday}` }).click();
        await m.waitForURL('**/locatie/ruilverzoeken');
        expect(await m.getByRole('status').first().textContent()).toContain('De aanvraag is goedgekeurd');
        expect(await list.textContent()).toContain('Er zijn geen aanvragen te beoordelen.');
        expect(await list.textContent()).toContain('goedgekeurd');
        await checkA11y(m, 'manager after approving');

        // The parent sees it, and has the mail.
        await p.reload();
        expect(await main.textContent()).toContain('goedgekeurd');
        // Thursday is now among the child's days, as a swap day with its own Afmelden.
        expect(await p.locator('.swap-day', { hasText: thursday }).first().textContent()).toContain('ruildag');
        await checkA11y(p, 'parent after approval');
        await screenshot(p, 'swaps-360-parent-approved');
        const mail = await waitForMail(e2e, PEOPLE.cor, since);
        expect(mail).toContain(`Sam Jansen op ${thursday} (de hele dag) naar groep Boomhut te laten komen is goedgekeurd`);
        expect(mail).toContain(`${e2e.baseUrl}/ruilen`);

        // Sam is ill after all: the parent calls the swap day off; the credit can be used again.
        await p.getByRole('button', { name: `Ruildag ${thursday} afmelden` }).click();
        await p.waitForURL(`**/ruilen?kind=${w.children.sam}`);
        expect(await p.getByRole('status').first().textContent()).toContain('De ruildag is afgemeld.');
        expect(await p.locator('.swap-day', { hasText: 'ruildag' }).count()).toBe(0);
        expect(await main.textContent()).toContain('afgemeld');
        expect(await p.locator('#tegoed option').count()).toBeGreaterThan(0);
        await checkA11y(p, 'parent after calling off the swap day');
        await screenshot(p, 'swaps-360-parent-swap-day-called-off');
      } finally {
        await parent.context.close();
        await manager.context.close();
      }
    },
    TIMEOUT,
  );
});
