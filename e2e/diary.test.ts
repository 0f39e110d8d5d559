
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
 * The schriftje in a real browser: a staff member taps quick picks for two children on the
 * group's screen (one nap for both, a meal for one; htmx saves each tap while the typing in the
 * other cards stays), a parent reads the day's timeline with the photo and answers, and the
 * staff member sees the answer marked "Nieuw". Every page is checked with axe-core and
 * photographed at 360, 768 and 1280 px.
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
    'staff tap quick picks for two children on the group screen, a parent reads the timeline and answers',
    async () => {
      const staff = await newPage(e2e, PHONE);
      const parent = await newPage(e2e, PHONE);
      try {
        // Staff: one screen for the group, a card per child.
        const s = staff.page;
        await logInAs(s, 'mia@example.nl', PASSWORD);
        await s.getByRole('link', { name: 'Schriftje' }).first().click();
        await s.waitForURL('**/schriftje');
        await expect.poll(() => s.locator('h1').textContent()).toBe('Schriftje Boomhut');
        await expect.poll(() => s.locator('#diary-progress strong').textContent()).toBe('Geschreven voor 0 van 3 kinderen');
        await checkA11y(s, 'staff group screen');

        const evi = s.locator(`#kind-${f.child.evi}`);
        const sam = s.locator(`#kind-${f.child.sam}`);
        // A note typed for Sam but not saved: the picks must leave it alone (htmx swaps only the timeline).
        await sam.getByLabel('Over de dag').fill('Sam zong de hele ochtend.');
        // The nap for Evi and Sam at once, from the form for several children.
        const group = s.locator('.diary-group-picks');
        const now = await group.getByLabel('Tijd (of van)').inputValue();
        const minus = (m: number) => {
          const [h, mm] = now.split(':').map(Number) as [number, number];
          const t = Math.max(0, h * 60 + mm - m);
          return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
        };
        await group.getByLabel('Evi').check();
        await group.getByLabel('Sam').check();
        await group.getByLabel('Tijd (of van)').fill(minus(90));
        await group.getByLabel('Tot (bij slapen)').fill(minus(30));
        await group.locator('button[value="sleep:slept"]').click();
        await expect.poll(() => s.locator('#diary-group-status [role="status"]').textContent()).toContain('Opgeslagen voor 2 kinderen');
        await expect.poll(() => evi.locator('.diary-timeline').textContent()).toContain(`${minus(90)}–${minus(30)}`);
        expect(await sam.locator('.diary-timeline').textContent()).toContain('Geslapen');
        // One tap for Evi alone: ate a little, with what.
        await evi.getByLabel('Wat (bij eten en drinken, mag leeg)').fill('pasta');
        await evi.getByLabel('Tijd (of van)').fill(minus(120));
        await evi.locator('button[value="meal:beetje"]').click();
        await expect.poll(() => evi.locator('.diary-timeline li').count()).toBe(2);
        expect(await evi.locator('.diary-timeline li').first().textContent()).toContain('Gegeten: Een beetje (pasta)');
        await evi.getByLabel('Over de dag').fill('Evi heeft met klei gespeeld.\nDaarna buiten in de zandbak.');
        await evi.locator(`input[name="foto"][value="${photoId}"]`).check();
        await evi.getByRole('button', { name: 'Opslaan voor Evi' }).click();
        await expect.poll(() => s.locator(`#kind-${f.child.evi}-notitie [role="status"]`).textContent()).toMatch(/Opgeslagen om \d\d:\d\d/);
        expect(await sam.getByLabel('Over de dag').inputValue()).toBe('Sam zong de hele ochtend.');
        expect(new URL(s.url()).pathname).toBe('/schriftje'); // swapped in place, no page load
        await expect.poll(() => s.locator('#diary-progress strong').textContent()).toBe('Geschreven voor 2 van 3 kinderen');
        // A bad time is refused in words, in place.
        await evi.getByLabel('Tijd (of van)').fill('23:59');
        if (now < '23:59') {
          await evi.locator('button[value="mood:blij"]').click();
          await expect.poll(() => evi.locator('.diary-moments [role="alert"]').textContent()).toBe('Deze tijd is nog niet geweest.');
        }
        await checkA11y(s, 'staff group screen after picks');
        for (const [width, height] of [[360, 780], [768, 1024], [1280, 900]] as const) {
          await s.setViewportSize({ width, height });
          await screenshot(s, `diary-staff-group-${width}`);
        }
        await checkA11y(s, 'staff group screen at 1280');

        // Parent: the day's timeline in time order, the note, the author by first name; then an answer.
        const p = parent.page;
        await logInAs(p, 'cor@example.nl', PASSWORD);
        await p.goto('/schriftje');
        await expect.poll(() => p.locator('h1').textContent()).toBe('Schriftje van Evi');
        await expect.poll(() => p.locator('.diary-day h2').first().textContent()).toBe('Vandaag');
        const staffEntry = p.locator('.diary-entry.from-staff');
        expect(await staffEntry.locator('strong').first().textContent()).toBe('Van de groep: Mia');
        const lines = await staffEntry.locator('.diary-timeline li').allTextContents();
        expect(lines.map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
          `${minus(120)} Gegeten: Een beetje (pasta)`,
          `${minus(90)}–${minus(30)} Geslapen`,
        ]);
        expect(await staffEntry.locator('.diary-text').textContent()).toBe('Evi heeft met klei gespeeld.\nDaarna buiten in de zandbak.');
        const img = staffEntry.locator(`img[src="/fotos/${photoId}/klein"]`);
        await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
        await checkA11y(p, 'parent timeline');

        await p.getByLabel('Schrijf in het schriftje').fill('Dank je! Thuis ook pasta gegeten.\nOma haalt op.');
        await p.getByRole('button', { name: 'Plaatsen' }).click();
        await expect.poll(() => p.locator('.flash').textContent()).toContain('Uw stukje staat in het schriftje');
        const own = p.locator('.diary-entry.from-parent').last();
        expect(await own.locator('strong').textContent()).toBe('Van u');
        expect(await own.locator('.diary-text').textContent()).toBe('Dank je! Thuis ook pasta gegeten.\nOma haalt op.');
        await checkA11y(p, 'parent timeline after answering');
        for (const [width, height] of [[360, 780], [768, 1024], [1280, 900]] as const) {
          await p.setViewportSize({ width, height });
          await screenshot(p, `diary-parent-timeline-${width}`);
        }

        // Staff: the answer is new on Evi's card, and only until seen.
        await s.reload();
        const note = s.locator(`#kind-${f.child.evi} .diary-entry.from-parent`);
        await expect.poll(() => note.locator('.diary-text').textContent()).toBe('Dank je! Thuis ook pasta gegeten.\nOma haalt op.');
        expect(await note.locator('.tag').textContent()).toBe('Nieuw');
        await checkA11y(s, 'staff group screen with a new parent entry');
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
