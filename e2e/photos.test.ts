import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { startPhotoWorker } from '../core/photos/upload.ts';
import { accountFor } from '../http/testing.ts';
import { admin } from '../test/portal.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, VIEWPORTS, logInAs } from './harness.ts';

/**
 * The photo journey in Chromium: a staff member uploads two photos on a phone (our upload
 * script shows each one's progress, then its thumbnail once the worker has processed it) and
 * tags the children; a parent of the group sees the photo and downloads it after accepting the
 * spelregels; a parent of another group does not see it; when a tagged child's consent is
 * withdrawn the photo is gone from the album at once. axe-core checks every page.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 180_000;
const PASSWORD = 'een lange zin als wachtwoord';

async function jpeg(path: string, hue: number): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">
    <rect width="1200" height="900" fill="hsl(${hue},55%,72%)"/><circle cx="400" cy="450" r="220" fill="#e67e22"/>
    <rect x="700" y="300" width="300" height="380" fill="#2e86c1"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toFile(path);
  return path;
}

describe.skipIf(!hasChromium)('photos in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    await addLocation(em, admin, { name: 'Centrum', phone: '045 123 45 67' });
    await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
    await addGroup(em, admin, { location: 'Centrum', name: 'Zolder' });
    const since = addDays(e2e.portal.clock.today(), -30);
    for (const [n, first, group] of [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Thijs', 'Boomhut'],
      ['K9', 'Lot', 'Zolder'],
    ] as const) {
      await addChild(em, admin, { childNumber: n, firstName: first, lastName: 'Jansen', birthDate: '2023-05-01', group, startDate: since });
      await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
    }
    await addParent(em, admin, { email: 'anna@example.nl', firstName: 'Anna', lastName: 'Jansen', children: ['K1'] });
    await addParent(em, admin, { email: 'eva@example.nl', firstName: 'Eva', lastName: 'de Wit', children: ['K9'] });
    await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Bakker', role: 'staff' });
    await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
    for (const email of ['anna@example.nl', 'eva@example.nl', 'mia@example.nl']) await accountFor(e2e.portal, email, PASSWORD);
    await startPhotoWorker(e2e.portal);
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'staff upload and tag; a parent of the group sees and downloads; another group does not; consent withdrawn hides it',
    async () => {
      const files = [await jpeg('/tmp/e2e-zandbak.jpg', 40), await jpeg('/tmp/e2e-glijbaan.jpg', 200)];
      const staff = await newPage(e2e, VIEWPORTS.phone);
      const { page } = staff;
      let photoId: string;
      try {
        await logInAs(page, 'mia@example.nl', PASSWORD);
        await page.getByRole('link', { name: "Foto's" }).first().click();
        await page.waitForURL('**/fotos');
        await checkA11y(page, 'staff photos (empty)');
        await page.getByLabel('Bijschrift').fill('Spelen in de zandbak');
        await page.getByLabel("Foto's kiezen").setInputFiles(files);
        await page.getByRole('button', { name: 'Uploaden' }).click();
        // Our script uploads each file on its own and shows the row that the server answers;
        // the rows then poll until the worker has made the thumbnails.
        await expect.poll(() => page.locator('#staff-photos img').count(), { timeout: 30_000 }).toBe(2);
        expect(new URL(page.url()).pathname).toBe('/fotos'); // no page load: the script did it
        expect(await page.locator('#staff-photos-empty').count()).toBe(0);
        await expect.poll(() => page.locator('#staff-photos').textContent()).toContain('Nog niet zichtbaar');
        await checkA11y(page, 'staff photos after upload');
        await screenshot(page, 'phone-staff-photos');

        await page.getByRole('link', { name: 'Kinderen taggen' }).first().click();
        await page.waitForURL('**/taggen');
        photoId = page.url().split('/').at(-2)!;
        await checkA11y(page, 'tag sheet');
        await page.getByRole('checkbox', { name: /Evi Jansen/ }).check();
        await page.getByRole('checkbox', { name: /Thijs Jansen/ }).check();
        await page.getByRole('button', { name: 'Opslaan' }).click();
        // htmx swaps the form part in place with the new state.
        await expect.poll(() => page.locator('#tag-form [role=status]').textContent()).toContain('Zichtbaar voor de ouders');
        await screenshot(page, 'phone-tag-sheet');
      } finally {
        await staff.context.close();
      }

      // The parent of the group: sees it, and downloads after accepting the rules.
      const parent = await newPage(e2e, VIEWPORTS.phone);
      try {
        await logInAs(parent.page, 'anna@example.nl', PASSWORD);
        await parent.page.goto('/fotos');
        await expect.poll(() => parent.page.locator(`img[src="/fotos/${photoId}/klein"]`).count()).toBe(1);
        await checkA11y(parent.page, 'parent album');
        await parent.page.locator(`a[href="/fotos/${photoId}"]`).click();
        await parent.page.waitForURL(`**/fotos/${photoId}`);
        await parent.page.getByRole('checkbox', { name: 'Ik ken de spelregels' }).check();
        const [download] = await Promise.all([
          parent.page.waitForEvent('download'),
          parent.page.getByRole('button', { name: 'Foto downloaden' }).click(),
        ]);
        const saved = await download.path();
        const bytes = readFileSync(saved);
        expect(bytes[0]).toBe(0xff);
        expect(bytes[1]).toBe(0xd8);
        const meta = await sharp(bytes).metadata();
        expect(meta.exif).toBeUndefined();
        expect(meta.width).toBe(1200);

        // Home shows Evi's card with the group's newest photos.
        await parent.page.goto('/');
        await expect.poll(() => parent.page.locator(`.home-child img[src="/fotos/${photoId}/klein"]`).count()).toBe(1);
        await checkA11y(parent.page, 'parent home');
        await screenshot(parent.page, 'phone-parent-home');
      } finally {
        await parent.context.close();
      }

      // A parent of another group: not in the album, and the photo's address is not found.
      const other = await newPage(e2e, VIEWPORTS.phone);
      try {
        await logInAs(other.page, 'eva@example.nl', PASSWORD);
        await other.page.goto('/fotos');
        expect(await other.page.locator(`img[src="/fotos/${photoId}/klein"]`).count()).toBe(0);
        const res = await other.page.goto(`/fotos/${photoId}`);
        expect(res?.status()).toBe(404);
      } finally {
        await other.context.close();
      }

      // Thijs's parents withdraw consent: the photo is gone from Anna's album at once.
      await setConsent(e2e.portal.em(), admin, 'K2', { internal: 'nee', external: 'nee' });
      const again = await newPage(e2e, VIEWPORTS.phone);
      try {
        await logInAs(again.page, 'anna@example.nl', PASSWORD);
        await again.page.goto('/fotos');
        expect(await again.page.locator(`img[src="/fotos/${photoId}/klein"]`).count()).toBe(0);
        const res = await again.page.goto(`/fotos/${photoId}/klein`);
        expect(res?.status()).toBe(404);
      } finally {
        await again.context.close();
      }
    },
    TIMEOUT,
  );
});
