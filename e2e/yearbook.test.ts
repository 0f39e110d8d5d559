import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../core/actor.ts';
import { saveStaffEntry, writeParentEntry } from '../core/diary/entries.ts';
import { leaveChild } from '../core/directory/children.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Parent } from '../core/entities/parent.ts';
import { Staff } from '../core/entities/staff.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { offerYearBooks } from '../core/yearbook/offer.ts';
import { texturedPhoto } from '../test/pictures.ts';
import { admin } from '../test/portal.ts';
import { readZip } from '../test/zip.ts';
import { seedCentrum } from './photo-world.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E, waitForMail, screenshotWidths } from './harness.ts';

/**
 * The year book in Chromium: Evi leaves, her mother gets the mail with the link before access
 * ends, opens the page from it (what is in the book, until when), makes the book and gets the
 * ZIP; the page then says from when she can make it again. The printable dagboek.html from the
 * ZIP is opened in the browser too. Every screen is photographed at 360, 768 and 1280 px and
 * checked with axe.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 180_000;
const PASSWORD = 'een lange zin als wachtwoord';
const PHONE = { width: 360, height: 800 };

const shots = (page: Page, name: string) => screenshotWidths(page, name);

describe.skipIf(!hasChromium)('the year book in the browser', () => {
  let e2e: E2E;
  let evi: number;
  beforeAll(async () => {
    e2e = await startE2E();
    await seedCentrum(e2e, ['Boomhut'], [
      ['K1', 'Evi', 'Boomhut'],
      ['K2', 'Noor', 'Boomhut'],
    ], {
      parents: [['anna@example.nl', 'Anna', 'Jansen', ['K1']]],
      staff: [['mia@example.nl', 'Mia', 'Bakker', 'Boomhut']],
      password: PASSWORD,
    });
    const em = e2e.portal.em();
    evi = (await em.findOneOrFail(Child, { childNumber: 'K1' })).id;
    const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'Mia Bakker' };
    const anna: Actor = { kind: 'parent', parentId: (await em.findOneOrFail(Parent, { email: 'anna@example.nl' })).id, label: 'anna@example.nl' };
    const groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
    for (const [hue, children] of [[30, ['K1']], [160, ['K1', 'K2']]] as const) {
      const { photoId } = await uploadPhoto(em, e2e.portal, mia, { groupId, data: await texturedPhoto(hue) });
      await processUploadedPhoto(e2e.portal, photoId);
      await tagPhoto(e2e.portal.em(), mia, photoId, { childNumbers: [...children] });
    }
    await saveStaffEntry(e2e.portal.em(), mia, { lines: ['Slapen'] }, evi, { text: 'Evi heeft met de blokken een hoge toren gebouwd.', lines: { Slapen: '12:30 tot 14:00' } });
    await writeParentEntry(e2e.portal.em(), anna, evi, { text: 'Evi heeft vannacht goed geslapen.' });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'the parent gets the offer by mail when Evi leaves, makes the book and gets the ZIP',
    async () => {
      const since = Date.now();
      const em = e2e.portal.em();
      const leave = await leaveChild(em, admin, 'K1', { date: e2e.portal.clock.today() }, { leaverGraceDays: e2e.portal.config.retention.leaverGraceDays });
      const offer = await offerYearBooks(e2e.portal.em(), e2e.portal, admin, 'K1');
      expect(offer.mailed).toEqual(['anna@example.nl']);
      const mail = await waitForMail(e2e, 'anna@example.nl', since);
      const link = /https?:\/\/\S+\/kind\/\d+\/herinneringenboek/.exec(mail)?.[0];
      expect(link).toBe(`${e2e.baseUrl}/kind/${evi}/herinneringenboek`);
      expect(leave.archiveUntil).toBe(offer.availableUntil);

      const parent = await newPage(e2e, PHONE);
      try {
        const { page } = parent;
        await logInAs(page, 'anna@example.nl', PASSWORD);
        await page.goto(new URL(link!).pathname);
        await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Herinneringenboek van Evi');
        expect(await page.getByText('2 foto’s').count()).toBe(1);
        expect(await page.getByText('Evi is van de opvang af').count()).toBe(1);
        await checkA11y(page, 'herinneringenboek');
        await shots(page, 'yearbook');

        await page.setViewportSize(PHONE);
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Maak het boek' }).click()]);
        expect(download.suggestedFilename()).toMatch(/^herinneringenboek-evi-\d{4}-\d{2}-\d{2}\.zip$/);
        const zip = readZip(readFileSync((await download.path())!));
        expect([...zip.keys()].filter((k) => k.startsWith('fotos/'))).toHaveLength(2);
        const html = zip.get('dagboek.html')!.toString('utf8');
        expect(html).toContain('Evi heeft vannacht goed geslapen.');

        // Made: the page says from when it can be made again, without the button.
        await page.reload();
        await expect.poll(() => page.getByText('U kunt het weer maken vanaf').count()).toBe(1);
        expect(await page.getByRole('button', { name: 'Maak het boek' }).count()).toBe(0);
        await checkA11y(page, 'herinneringenboek gemaakt');
        await shots(page, 'yearbook-made');

        // The printable schriftje from the ZIP, as the parent opens it: a blank page of its own (the
        // portal's CSP, which refuses inline styles, is the portal's, not the file's).
        const diary = await parent.context.newPage();
        await diary.setContent(html);
        await checkA11y(diary, 'dagboek.html');
        await shots(diary, 'yearbook-diary');
        await diary.emulateMedia({ media: 'print' });
        await screenshot(diary, 'yearbook-diary-print');
      } finally {
        await parent.context.close();
      }
    },
    TIMEOUT,
  );
});
