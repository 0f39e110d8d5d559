import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setConsent } from '../core/directory/consent.ts';
import { processUploadedPhoto, startPhotoWorker, uploadPhoto } from '../core/photos/upload.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { Group } from '../core/entities/group.ts';
import { Staff } from '../core/entities/staff.ts';
import { Child } from '../core/entities/child.ts';
import type { Actor } from '../core/actor.ts';
import type { Page } from 'playwright-core';
import { admin } from '../test/portal.ts';
import { jpeg, seedCentrum } from './photo-world.ts';
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


describe.skipIf(!hasChromium)('photos in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedCentrum(e2e, ['Boomhut', 'Zolder'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Thijs', 'Boomhut'],
      ['K9', 'Lot', 'Zolder'],
    ], {
      parents: [
        ['anna@example.nl', 'Anna', 'Jansen', ['K1']],
        ['eva@example.nl', 'Eva', 'de Wit', ['K9']],
      ],
      staff: [['mia@example.nl', 'Mia', 'Bakker', 'Boomhut']],
      password: PASSWORD,
    });
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

/** The three widths every page is designed at. */
const WIDTHS = [
  { name: '360', viewport: { width: 360, height: 760 } },
  { name: '768', viewport: { width: 768, height: 1024 } },
  { name: '1280', viewport: { width: 1280, height: 800 } },
] as const;

describe.skipIf(!hasChromium)('photo-first viewing in the browser', () => {
  let e2e: E2E;
  /** Evi's photos in Boomhut, newest first (33: one "meer laden"). */
  const evi: string[] = [];
  let zolderId: string;
  let lotId: number;

  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    await seedCentrum(e2e, ['Boomhut', 'Zolder'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K9', 'Lot', 'Zolder'],
    ], {
      parents: [['anna@example.nl', 'Anna', 'Jansen', ['K1', 'K9']]],
      staff: [
        ['mia@example.nl', 'Mia', 'Bakker', 'Boomhut'],
        ['otto@example.nl', 'Otto', 'Smit', 'Zolder'],
      ],
      password: PASSWORD,
    });
    const actor = async (email: string): Promise<Actor> => ({ kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email })).id, label: email });
    const mia = await actor('mia@example.nl');
    const boomhut = await em.findOneOrFail(Group, { name: 'Boomhut' });
    const zolder = await em.findOneOrFail(Group, { name: 'Zolder' });
    for (let i = 0; i < 33; i++) {
      const { photoId } = await uploadPhoto(e2e.portal.em(), e2e.portal, mia, {
        groupId: boomhut.id,
        caption: i % 5 === 0 ? `Buiten spelen ${i + 1}` : null,
        data: await jpeg('/tmp/e2e-album.jpg', (i * 37) % 360).then((path) => readFileSync(path)),
      });
      await processUploadedPhoto(e2e.portal, photoId);
      await tagPhoto(e2e.portal.em(), mia, photoId, { childNumbers: ['K1'] });
      evi.unshift(photoId);
    }
    ({ photoId: zolderId } = await uploadPhoto(e2e.portal.em(), e2e.portal, await actor('otto@example.nl'), { groupId: zolder.id, data: readFileSync(await jpeg('/tmp/e2e-zolder.jpg', 300)) }));
    await processUploadedPhoto(e2e.portal, zolderId);
    await tagPhoto(e2e.portal.em(), await actor('otto@example.nl'), zolderId, { childNumbers: ['K9'] });
    lotId = (await em.findOneOrFail(Child, { childNumber: 'K9' })).id;
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  const thumbs = (page: Page) => page.locator('.photo-grid img').count();

  for (const who of ['anna@example.nl', 'mia@example.nl']) {
  it(
    `album and photo page at 360, 768 and 1280 px for ${who}: the photo fills the width, axe finds nothing`,
    async () => {
      {
        const role = who.startsWith('anna') ? 'parent' : 'staff';
        for (const { name, viewport } of WIDTHS) {
          const { context, page } = await newPage(e2e, viewport);
          try {
            await logInAs(page, who, PASSWORD);
            await page.goto('/fotos');
            await checkA11y(page, `${role} album at ${name}`);
            await screenshot(page, `photo-first-${role}-album-${name}`);
            if (role === 'parent') {
              const columns = await page.evaluate<number>(`getComputedStyle(document.querySelector('.photo-grid')).gridTemplateColumns.split(' ').length`);
              expect(columns, `columns at ${name}`).toBe(name === '360' ? 3 : name === '768' ? 4 : 6);
              // The first screen loads at once, the first with high priority; later ones lazily.
              expect(await page.locator('.photo-grid img').first().getAttribute('fetchpriority')).toBe('high');
              expect(await page.locator('.photo-grid img').nth(20).getAttribute('loading')).toBe('lazy');
            }
            await page.goto(`/fotos/${evi[1]}`);
            await expect.poll(() => page.evaluate<boolean>(`document.querySelector('.photo-stage img').complete`)).toBe(true);
            const box = (await page.locator('.photo-stage img').boundingBox())!;
            expect(Math.round(box.width), `photo width at ${name}`).toBe(viewport.width);
            expect(box.height, `photo height at ${name}`).toBeLessThanOrEqual(viewport.height + 1);
            expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `no sideways scroll at ${name}`).toBeLessThanOrEqual(viewport.width);
            // The browser chose one of our variants (AVIF where it can), not the 1600 px JPEG on a phone.
            const src = await page.evaluate<string>(`document.querySelector('.photo-stage img').currentSrc`);
            expect(src).toMatch(/\/(480|768|1024|1600)\.avif$/);
            await checkA11y(page, `${role} photo page at ${name}`);
            await screenshot(page, `photo-first-${role}-photo-${name}`);
          } finally {
            await context.close();
          }
        }
      }
    },
    // The first request of each variant encodes it (AVIF takes a second or two on a busy machine).
    3 * TIMEOUT,
  );
  }

  it(
    'arrow keys and a swipe go to the older and newer photo; "meer laden" keeps its place on reload and Back; the child switcher',
    async () => {
      const { context, page } = await newPage(e2e, WIDTHS[0].viewport);
      try {
        await logInAs(page, 'anna@example.nl', PASSWORD);
        await page.goto(`/fotos/${evi[1]}`);
        await page.keyboard.press('ArrowRight');
        await page.waitForURL(`**/fotos/${evi[2]}`);
        await page.keyboard.press('ArrowLeft');
        await page.waitForURL(`**/fotos/${evi[1]}`);
        // A swipe to the left (finger moving left): the older photo.
        const cdp = await context.newCDPSession(page);
        const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number) =>
          await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y: 200 }] });
        await touch('touchStart', 300);
        await touch('touchMove', 200);
        await touch('touchMove', 80);
        await touch('touchEnd', 80);
        await page.waitForURL(`**/fotos/${evi[2]}`);
        await touch('touchStart', 60);
        await touch('touchMove', 300);
        await touch('touchEnd', 300);
        await page.waitForURL(`**/fotos/${evi[1]}`);

        await page.goto('/fotos');
        expect(await thumbs(page)).toBe(30);
        await page.getByRole('link', { name: 'Meer laden' }).click();
        await expect.poll(() => thumbs(page)).toBe(34);
        expect(page.url()).toContain('?tot=');
        await screenshot(page, 'photo-first-parent-album-more-360');
        await page.reload();
        expect(await thumbs(page)).toBe(34);
        await page.locator(`a[href="/fotos/${evi[32]}"]`).click();
        await page.waitForURL(`**/fotos/${evi[32]}`);
        await page.goBack();
        await expect.poll(() => thumbs(page)).toBe(34);
        expect(page.url()).toContain('?tot=');

        // Lot's album: only Zolder; her photo page has no neighbours from Evi's group.
        await page.goto('/fotos');
        await page.getByRole('link', { name: 'Lot' }).click();
        await page.waitForURL(`**/fotos?kind=${lotId}`);
        expect(await thumbs(page)).toBe(1);
        await checkA11y(page, 'parent album, one child');
        await page.locator(`a[href="/fotos/${zolderId}?kind=${lotId}"]`).click();
        expect(await page.locator('a[rel="next"], a[rel="prev"]').count()).toBe(0);
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );

  it(
    'without JavaScript: "meer laden" is a link to the album up to there, and previous/next are links',
    async () => {
      const context = await e2e.browser.newContext({ baseURL: e2e.baseUrl, viewport: WIDTHS[1].viewport, locale: 'nl-NL', javaScriptEnabled: false });
      const page = await context.newPage();
      try {
        await logInAs(page, 'anna@example.nl', PASSWORD);
        await page.goto('/fotos');
        expect(await thumbs(page)).toBe(30);
        await page.getByRole('link', { name: 'Meer laden' }).click();
        await page.waitForURL(/\?.*tot=/);
        expect(await thumbs(page)).toBe(34);
        await page.goto(`/fotos/${evi[0]}`);
        await page.getByRole('link', { name: /Oudere/ }).click();
        await page.waitForURL(`**/fotos/${evi[1]}`);
        await page.getByRole('link', { name: /Nieuwere/ }).click();
        await page.waitForURL(`**/fotos/${evi[0]}`);
        // The newest of Anna's album is Lot's (Zolder), uploaded last: her whole album, both children.
        expect(await page.getByRole('link', { name: /Nieuwere/ }).getAttribute('href')).toBe(`/fotos/${zolderId}`);
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
