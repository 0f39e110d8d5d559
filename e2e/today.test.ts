import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * Ziekmelden in two taps and the staff's Vandaag, in a real browser: a parent on a 360 px phone
 * reports her child ill from the child card (the clicks are counted: the link, then the
 * button), sets who picks up; the group's staff member sees both on Vandaag. Every page is
 * checked by axe and photographed at 360, 768 and 1280 px. The clock stands on the schedule
 * world's Monday (a weekday without holidays, whatever day the suite runs).
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 360_000;
const WIDTHS = [360, 768, 1280] as const;

/** axe and a full-page screenshot at each width, ending at the phone width again. */
async function atEveryWidth(page: Page, name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await checkA11y(page, `${name} at ${width} px`);
    await screenshot(page, `${name}-${width}`);
  }
  await page.setViewportSize({ width: 360, height: 780 });
}

describe.skipIf(!hasChromium)('ziekmelden and Vandaag in the browser', () => {
  let e2e: E2E;
  let w: ScheduleWorld;
  beforeAll(async () => {
    e2e = await startE2E();
    w = await seedScheduleWorld(e2e.portal, { publicUrl: e2e.baseUrl });
    // 08:00 in Amsterdam in winter, 09:00 in summer: the Monday, running on from there.
    e2e.portal.clock.set(`${w.monday}T07:00:00Z`);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'a parent reports her child ill in two taps and sets the pickup; staff see both on Vandaag',
    async () => {
      const parent = await newPage(e2e, { width: 360, height: 780 });
      const staff = await newPage(e2e, { width: 360, height: 780 });
      try {
        const p = parent.page;
        await logInAs(p, PEOPLE.anna, PASSWORD);
        await checkA11y(p, 'parent home with the day links');
        let taps = 0;
        const tap = async (name: string, role: 'link' | 'button') => {
          taps += 1;
          await p.getByRole(role, { name, exact: true }).click();
        };
        await tap('Ziek melden', 'link');
        await p.waitForURL(`**/kind/${w.children.evi}/ziek`);
        // Today is filled in: nothing to type.
        expect(await p.getByLabel('Ziek vanaf').inputValue()).toBe(w.monday);
        await atEveryWidth(p, 'sick-report');
        await tap('Ziek melden', 'button');
        await p.waitForURL((url) => url.pathname === '/');
        expect(taps).toBe(2);
        expect(await p.getByRole('status').first().textContent()).toContain('De ziekmelding is doorgegeven aan de groep.');

        // The form now shows the report and "weer beter".
        await p.getByRole('link', { name: 'Ziek melden', exact: true }).click();
        expect(await p.getByRole('button', { name: 'Evi is weer beter' }).count()).toBe(1);
        await checkA11y(p, 'sick report form with a running report');

        // Cor says who picks up Sam (Boomhut), from Sam's card (his other child is in Zolder).
        const c = staff.page;
        await logInAs(c, PEOPLE.cor, PASSWORD);
        await c.getByRole('region', { name: /^Sam/ }).getByRole('link', { name: 'Ophalen', exact: true }).click();
        await c.waitForURL(`**/kind/${w.children.sam}/ophalen`);
        await atEveryWidth(c, 'pickup');
        await c.getByLabel('Naam van wie ophaalt').fill('Opa Jan');
        await c.getByLabel('Relatie tot uw kind (niet verplicht)').fill('opa');
        await c.getByLabel('Hoe laat?').fill('16:45');
        await c.getByRole('button', { name: 'Opslaan' }).click();
        await c.waitForURL((url) => url.pathname === '/');
        expect(await c.getByRole('status').first().textContent()).toContain('De groep weet wie er komt ophalen.');
        await c.context().clearCookies();

        // Mia works in Boomhut: her home is Vandaag.
        await logInAs(c, PEOPLE.mia, PASSWORD);
        expect(await c.getByRole('heading', { level: 1 }).textContent()).toBe('Vandaag in Boomhut');
        const sick = c.getByRole('region', { name: /^Ziek/ });
        expect(await sick.textContent()).toContain('Evi Jansen');
        const pickups = c.getByRole('region', { name: 'Ophalen' });
        expect(await pickups.textContent()).toContain('Opa Jan');
        expect(await pickups.textContent()).toContain('16:45');
        expect(await c.getByRole('region', { name: /^Verwacht/ }).textContent()).not.toContain('Evi');
        await atEveryWidth(c, 'today');
        // One tap to the day's schriftje for this group.
        await c.getByRole('link', { name: 'Schriftjes schrijven' }).click();
        await c.waitForURL(`**/schriftje?groep=${w.groups.boomhut}`);
      } finally {
        await parent.context.close();
        await staff.context.close();
      }
    },
    TIMEOUT,
  );
});
