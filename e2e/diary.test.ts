
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../core/actor.ts';
import { Account } from '../core/entities/account.ts';
import { Parent } from '../core/entities/parent.ts';
import { Photo } from '../core/entities/photo.ts';
import { Staff } from '../core/entities/staff.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { type DiaryFixture, seedDiary } from '../test/diary-fixture.ts';
import { checkA11y, type E2E, hasChromium, newPage, SKIP_REASON, screenshot, startE2E, logInAs } from './harness.ts';

/**
 * The schriftje in a real browser on a phone: a staff member writes the day for three children
 * on one screen (htmx saves a row while the typing in the other rows stays), a parent reads it
 * with the photo and writes an entry of their own, and the staff member sees it marked "Nieuw".
 * Every page is checked with axe-core.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 180_000;
const PASSWORD = 'een lange zin als wachtwoord';
const PHONE = { width: 360, height: 780 };

describe.skipIf(!hasChromium)('the schriftje in the browser', () => {
  let e2e: E2E;
  let f: DiaryFixture;
  let photoId: string;

  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    f = await seedDiary(em);
    // The fixture's photo rows have no image files; a real photo of Evi instead.
    await em.nativeDelete(Photo, {});
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="#8fc1e3"/>
      <circle cx="320" cy="240" r="140" fill="#f4a259"/></svg>`;
    const mia = f.actors.mia as Extract<Actor, { kind: 'staff' }>;
    ({ photoId } = await uploadPhoto(em, e2e.portal, mia, { groupId: f.group.boomhut, data: await sharp(Buffer.from(svg)).jpeg().toBuffer() }));
    await processUploadedPhoto(e2e.portal, photoId);
    await tagPhoto(e2e.portal.em(), mia, photoId, { childNumbers: ['K1'] });
    for (const email of ['mia@example.nl', 'cor@example.nl']) {
      const parent = await em.findOne(Parent, { email });
      const staff = parent ? null : await em.findOneOrFail(Staff, { email });
      em.create(Account, { email, parent, staff, passwordHash: await e2e.portal.hasher.hash(PASSWORD), passwordMustChange: false, passwordExpiresAt: null });
    }
    await em.flush();
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'staff write for three children, a parent reads and writes, staff see it marked new',
    async () => {
      const staff = await newPage(e2e, PHONE);
      const parent = await newPage(e2e, PHONE);
      try {
        // Staff: one screen for the group, a row per child.
        const s = staff.page;
        await logInAs(s, 'mia@example.nl', PASSWORD);
        await s.getByRole('link', { name: 'Schriftje' }).first().click();
        await s.waitForURL('**/schriftje');
        await expect.poll(() => s.locator('h1').textContent()).toBe('Schriftje Boomhut');
        await checkA11y(s, 'staff day sheet');

        const evi = s.locator(`#kind-${f.child.evi}`);
        const sam = s.locator(`#kind-${f.child.sam}`);
        const noor = s.locator(`#kind-${f.child.noor}`);
        await evi.getByLabel('Slapen').fill('12:30 tot 14:00');
        await evi.getByLabel('Over de dag').fill('Evi heeft met klei gespeeld.\nDaarna buiten in de zandbak.');
        await evi.locator(`input[name="foto"][value="${photoId}"]`).check();
        // Typed in Sam's row but not saved yet: saving Evi's row must leave it alone.
        await sam.getByLabel('Over de dag').fill('Sam zong de hele ochtend.');
        await evi.getByRole('button', { name: 'Opslaan voor Evi' }).click();
        await expect.poll(() => s.locator(`#kind-${f.child.evi} [role="status"]`).textContent()).toMatch(/Opgeslagen om \d\d:\d\d/);
        expect(await sam.getByLabel('Over de dag').inputValue()).toBe('Sam zong de hele ochtend.');
        expect(new URL(s.url()).pathname).toBe('/schriftje'); // swapped in place, no page load

        await sam.getByLabel('Eten en drinken').fill('Alles op');
        await sam.getByRole('button', { name: 'Opslaan voor Sam' }).click();
        await expect.poll(() => s.locator(`#kind-${f.child.sam} [role="status"]`).count()).toBe(1);
        await noor.getByLabel('Stemming').fill('Vrolijk');
        await noor.getByRole('button', { name: 'Opslaan voor Noor' }).click();
        await expect.poll(() => s.locator(`#kind-${f.child.noor} [role="status"]`).count()).toBe(1);
        await checkA11y(s, 'staff day sheet after saving');
        await screenshot(s, 'diary-staff-phone');

        // Parent: reads Evi's day with the photo, writes an entry.
        const p = parent.page;
        await logInAs(p, 'cor@example.nl', PASSWORD);
        await p.goto('/schriftje');
        await expect.poll(() => p.locator('h1').textContent()).toBe('Schriftje van Evi');
        const staffEntry = p.locator('.diary-entry.from-staff');
        await expect.poll(() => staffEntry.locator('.diary-text').textContent()).toBe('Evi heeft met klei gespeeld.\nDaarna buiten in de zandbak.');
        expect(await staffEntry.locator('dd').first().textContent()).toBe('12:30 tot 14:00');
        const img = staffEntry.locator(`img[src="/fotos/${photoId}/klein"]`);
        await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
        await checkA11y(p, 'parent schriftje');

        await p.getByLabel('Schrijf in het schriftje').fill('Slecht geslapen vannacht.\nOma haalt op.');
        await p.getByRole('button', { name: 'Plaatsen' }).click();
        await expect.poll(() => p.locator('.flash').textContent()).toContain('Uw stukje staat in het schriftje');
        const own = p.locator('.diary-entry.from-parent').first();
        expect(await own.locator('strong').textContent()).toBe('Van u');
        expect(await own.locator('.diary-text').textContent()).toBe('Slecht geslapen vannacht.\nOma haalt op.');
        await checkA11y(p, 'parent schriftje after writing');
        await screenshot(p, 'diary-parent-phone');

        // Staff: the parent's entry is new in Evi's row, and only until seen.
        await s.reload();
        const note = s.locator(`#kind-${f.child.evi} .diary-entry.from-parent`);
        await expect.poll(() => note.locator('.diary-text').textContent()).toBe('Slecht geslapen vannacht.\nOma haalt op.');
        expect(await note.locator('.tag').textContent()).toBe('Nieuw');
        await checkA11y(s, 'staff day sheet with a new parent entry');
        await screenshot(s, 'diary-staff-new-phone');
        await s.reload();
        expect(await s.locator(`#kind-${f.child.evi} .diary-entry.from-parent .tag`).count()).toBe(0);
      } finally {
        await staff.context.close();
        await parent.context.close();
      }
    },
    TIMEOUT,
  );
});
