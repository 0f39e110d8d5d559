
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPhotoWorker } from '../core/photos/upload.ts';
import type { Page } from 'playwright-core';
import { jpeg, seedCentrum } from './photo-world.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, startE2E, screenshotWidths } from './harness.ts';

/**
 * Bulk tagging in Chromium, by keyboard: a staff member on a tablet uploads three photos, goes on
 * to the batch screen, ticks children with Tab and Space (each chip saves at once, focus stays on
 * it), sees the consent conflict next to its photo, and publishes the rest in one go. The screen
 * is photographed at 360, 768 and 1280 px and checked with axe, before and after publishing; a
 * parent of the group then sees exactly the published photos.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 180_000;
const PASSWORD = 'een lange zin als wachtwoord';
const TABLET = { width: 768, height: 1024 };


/** What has keyboard focus: "name=value" of an input, else the element's text. */
const focused = async (page: Page) =>
  (await page.evaluate(
    "(() => { const e = document.activeElement; return e && e.name ? e.name + '=' + e.value : (e?.textContent ?? '').trim(); })()",
  )) as string;

/** Presses Tab until the focused control is `want` (at most 60 times): keyboard only. */
async function tabTo(page: Page, want: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if ((await focused(page)) === want) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${want}; focus is on ${await focused(page)}`);
}

const shots = (page: Page, name: string) => screenshotWidths(page, name, TABLET);

describe.skipIf(!hasChromium)('bulk tagging in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedCentrum(e2e, ['Boomhut'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Noor', 'Boomhut', 'nee'],
      ['K3', 'Thijs', 'Boomhut'],
    ], {
      parents: [['anna@example.nl', 'Anna', 'Jansen', ['K1']]],
      staff: [['mia@example.nl', 'Mia', 'Bakker', 'Boomhut']],
      password: PASSWORD,
    });
    await startPhotoWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'upload three, tag by keyboard on one screen, see the conflict, publish the ready ones',
    async () => {
      const files = [await jpeg('/tmp/e2e-batch-1.jpg', 30), await jpeg('/tmp/e2e-batch-2.jpg', 140), await jpeg('/tmp/e2e-batch-3.jpg', 260)];
      const staff = await newPage(e2e, TABLET);
      const { page } = staff;
      let ids: string[];
      try {
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.goto('/fotos');
        await page.getByLabel("Foto's kiezen").setInputFiles(files);
        await page.getByRole('button', { name: 'Uploaden' }).focus();
        await page.keyboard.press('Enter');
        // Our upload script sends each file, then offers (and focuses) the way on.
        const next = page.getByRole('link', { name: "Foto's taggen en publiceren" }).first();
        await expect.poll(() => next.getAttribute('href'), { timeout: 30_000 }).toMatch(/^\/fotos\/taggen\?groep=\d+&fotos=/);
        expect(await focused(page)).toBe("Foto's taggen en publiceren");
        await page.keyboard.press('Enter');
        await page.waitForURL('**/fotos/taggen?**');
        ids = new URL(page.url()).searchParams.get('fotos')!.split(',');
        expect(ids).toHaveLength(3);
        // Until the worker is done a photo shows a placeholder; a reload shows the thumbnails.
        const thumbnails = async () => {
          await page.reload();
          return await page.locator('.batch-photo img').count();
        };
        await expect.poll(thumbnails, { timeout: 30_000 }).toBe(3);
        expect(await page.locator('h1').textContent()).toBe("Foto's taggen en publiceren");

        // Keyboard only: skip link, then Tab through the chips in reading order.
        await page.keyboard.press('Tab');
        expect(await focused(page)).toBe('Direct naar de inhoud');
        await page.keyboard.press('Enter');
        await page.keyboard.press('Tab');
        expect(await focused(page)).toBe(`kind-${ids[0]}=K1`); // the first chip of the first photo
        await page.keyboard.press('Space');
        await expect.poll(() => page.locator(`#status-${ids[0]}`).textContent()).toContain('Klaar om te publiceren');
        expect(await focused(page)).toBe(`kind-${ids[0]}=K1`); // the save kept focus on the chip
        // The focus is visible on the chip itself.
        const outline = await page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle");
        expect(outline).toBe('solid');

        await tabTo(page, `kind-${ids[1]}=K2`); // Noor, who has no photo consent
        await page.keyboard.press('Space');
        await expect.poll(() => page.locator(`#status-${ids[1]}`).textContent()).toContain('Kan niet gepubliceerd worden');
        expect(await page.locator(`#status-${ids[1]}`).textContent()).toContain('Noor Jansen: geen toestemming');

        await tabTo(page, `geenKind-${ids[2]}=ja`); // nobody recognisable
        await page.keyboard.press('Space');
        await expect.poll(() => page.locator(`#status-${ids[2]}`).textContent()).toContain('Klaar om te publiceren');
        expect(new URL(page.url()).pathname).toBe('/fotos/taggen'); // saved in place, no page load

        await checkA11y(page, 'batch tagging before publishing');
        await shots(page, 'staff-batch-tagging');

        await tabTo(page, 'actie=publiceren'); // "Publiceer wat klaar is"
        await page.keyboard.press('Enter');
        await expect.poll(() => page.locator('.flash').textContent()).toContain("De foto's die klaar waren zijn gepubliceerd");
        expect(await page.locator(`#status-${ids[0]}`).textContent()).toContain('Gepubliceerd');
        expect(await page.locator(`#status-${ids[1]}`).textContent()).toContain('Kan niet gepubliceerd worden');
        expect(await page.locator(`#status-${ids[2]}`).textContent()).toContain('Gepubliceerd');
        await checkA11y(page, 'batch tagging after publishing');
        await shots(page, 'staff-batch-published');
      } finally {
        await staff.context.close();
      }

      // A parent of the group sees the two published photos, not the one with Noor.
      const parent = await newPage(e2e, TABLET);
      try {
        await logInAs(parent.page, 'anna@example.nl', PASSWORD);
        await parent.page.goto('/fotos');
        // A link to the photo or an image of it (the album's markup is another page's to change).
        const shown = async (id: string) => (await parent.page.locator(`[href^="/fotos/${id}"], [src*="/fotos/${id}/"]`).count()) > 0;
        expect(await shown(ids[0]!)).toBe(true);
        expect(await shown(ids[1]!)).toBe(false);
        expect(await shown(ids[2]!)).toBe(true);
      } finally {
        await parent.context.close();
      }
    },
    TIMEOUT,
  );
  it(
    'a photo that got stuck says why, offers Opnieuw proberen and Verwijderen, and a retry publishes it',
    async () => {
      const file = await jpeg('/tmp/e2e-stuck.jpg', 200);
      const staff = await newPage(e2e, TABLET);
      const { page } = staff;
      try {
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.goto('/fotos');
        await page.getByLabel("Foto's kiezen").setInputFiles([file]);
        await page.getByRole('button', { name: 'Uploaden' }).click();
        const next = page.getByRole('link', { name: "Foto's taggen en publiceren" }).first();
        await expect.poll(() => next.getAttribute('href'), { timeout: 30_000 }).toMatch(/fotos=/);
        const id = new URL((await next.getAttribute('href'))!, 'http://x').searchParams.get('fotos')!;
        // What the reaper leaves after the last re-queue (core/photos/reaper.ts): failed as
        // stuck, its upload kept. The upload goes back into the incoming store as it came.
        const { readFile } = await import('node:fs/promises');
        const { key } = await e2e.portal.incoming.put(await readFile(file));
        const em = e2e.portal.em();
        await em.getConnection().execute(
          `update photo set state = 'failed', failure_code = 'stuck', failure_reason = 'processing did not finish after 3 attempts', source_key = ? where id = ?`,
          [key, id],
        );
        await page.goto('/fotos');
        const row = page.locator(`#foto-${id}`);
        expect(await row.textContent()).toContain('door een storing bij ons, niet door uw foto');
        expect(await row.getByRole('button', { name: 'Verwijderen' }).count()).toBe(1);
        await checkA11y(page, 'staff photos with a failed photo');
        await row.scrollIntoViewIfNeeded();
        await shots(page, 'staff-photos-failed');

        await row.getByRole('button', { name: 'Opnieuw proberen' }).click();
        await expect.poll(() => page.locator('.flash').textContent()).toContain('De foto wordt opnieuw verwerkt');
        const state = async () =>
          ((await em.fork().getConnection().execute('select state from photo where id = ?', [id])) as { state: string }[])[0]?.state;
        await expect.poll(state, { timeout: 30_000 }).toBe('ready');
        await page.reload();
        expect(await page.locator(`#foto-${id} img`).count()).toBe(1);
      } finally {
        await staff.context.close();
      }
    },
    TIMEOUT,
  );
});
