import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../test/errors.ts';
import { texturedPhoto } from '../../test/pictures.ts';
import { seedBoomhutChildren } from '../../test/boomhut-world.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { readZip } from '../../test/zip.ts';
import { newAccount } from '../accounts/accounts.ts';
import type { Actor } from '../actor.ts';
import { addDays } from '../dates.ts';
import { saveStaffEntry, writeParentEntry } from '../diary/entries.ts';
import { addDiaryItems } from '../diary/items.ts';
import { leaveChild } from '../directory/children.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Account } from '../entities/account.ts';
import { AuditEvent } from '../entities/audit.ts';
import { Group } from '../entities/group.ts';
import { Parent } from '../entities/parent.ts';
import { PhotoView } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import type { AccountMailJob } from '../mail/account-mail.ts';
import { formatTraceCode } from '../photos/downloads.ts';
import { tagPhoto } from '../photos/tagging.ts';
import { extractTraceCode } from '../photos/trace-mark.ts';
import { processUploadedPhoto, uploadPhoto } from '../photos/upload.ts';
import { makeYearBook, yearBookOverview } from './book.ts';
import { composeYearBookOffer, OFFER_DAYS_BEFORE_LEAVING, offerDueYearBooks, offerYearBooks } from './offer.ts';
import { yearBookChildren } from './window.ts';

/**
 * The year book from both sides: what a parent gets (their child's shareable photos, traced to
 * them; the schriftje by month, printable and self-contained) and who is refused (another family,
 * staff, a child whose archive is gone, a second book within the hour).
 *
 * Boomhut: Evi (K1: Anna), Sam (K2: Bram), Noor (K3: Cor, no consent). Photo 1 shows Evi and Sam;
 * photo 2 shows Evi and Noor (held: Noor has no consent), so Evi's book has one photo.
 */

let portal: TestPortal;
const who: Record<string, Actor> = {};
let mia: Actor;
const childId: Record<string, number> = {};
let photo1: string;

const code = async (p: Promise<unknown>) => (await errorCode(p)) ?? 'ok';
const zipOf = async (book: { stream: Readable }) => readZip(await buffer(book.stream));

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  Object.assign(childId, await seedBoomhutChildren(em, 40));
  for (const [email, first, children] of [
    ['anna@example.nl', 'Anna', ['K1']],
    ['bram@example.nl', 'Bram', ['K2']],
    ['cor@example.nl', 'Cor', ['K3']],
  ] as const) {
    await addParent(em, admin, { email, firstName: first, lastName: 'Ouder', children: [...children] });
    const parent = await em.findOneOrFail(Parent, { email });
    newAccount(em, { parent });
    await em.flush();
    who[email] = { kind: 'parent', parentId: parent.id, label: email };
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Staf', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  mia = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;

  ({ photoId: photo1 } = await uploadPhoto(em, portal, mia, { groupId, data: await texturedPhoto(30) }));
  await processUploadedPhoto(portal, photo1);
  await tagPhoto(portal.em(), mia, photo1, { childNumbers: ['K1', 'K2'] });
  const { photoId: photo2 } = await uploadPhoto(em, portal, mia, { groupId, data: await texturedPhoto(200) });
  await processUploadedPhoto(portal, photo2);
  await tagPhoto(portal.em(), mia, photo2, { childNumbers: ['K1', 'K3'] });

  await saveStaffEntry(portal.em(), mia, { lines: ['Slapen'] }, childId.K1!, { text: 'Evi heeft <b>heerlijk</b> buiten gespeeld.' });
  await addDiaryItems(portal.em(), mia, [childId.K1!], { kind: 'mood', value: 'blij', from: '00:00' });
  await writeParentEntry(portal.em(), who['anna@example.nl']!, childId.K1!, { text: 'Evi sliep slecht vannacht.' });
  await saveStaffEntry(portal.em(), mia, { lines: ['Slapen'] }, childId.K2!, { text: 'Sam heeft een toren gebouwd.' });
});
afterAll(() => portal?.destroy());

describe('the book', () => {
  it("tells the parent what is in it: the child's shareable photos and its schriftje, by month", async () => {
    const overview = await yearBookOverview(portal.em(), portal, who['anna@example.nl']!, childId.K1!);
    expect(overview).toMatchObject({ firstName: 'Evi', photos: 1, diaryEntries: 2, leftOn: null, availableUntil: null, nextAt: null });
    expect(overview.months).toEqual([portal.clock.today().slice(0, 7)]);
    expect(await yearBookChildren(portal.em(), who['anna@example.nl']!, 60)).toEqual([{ id: childId.K1, firstName: 'Evi' }]);
  });

  it('is a ZIP with the traced photos by month, a printable self-contained dagboek.html and a leesmij.txt', async () => {
    const book = await makeYearBook(portal.em(), portal, who['anna@example.nl']!, childId.K1!, 'nl');
    expect(book).toMatchObject({ photos: 1, diaryEntries: 2 });
    expect(book.filename).toBe(`herinneringenboek-evi-${portal.clock.today()}.zip`);
    const zip = await zipOf(book);
    const month = portal.clock.today().slice(0, 7);
    const photos = [...zip.keys()].filter((k) => k.startsWith('fotos/'));
    expect(photos).toEqual([`fotos/${month}/${portal.clock.today()}-${photo1.slice(0, 8)}.jpg`]);
    expect([...zip.keys()].sort()).toEqual(['dagboek.html', photos[0], 'leesmij.txt']);

    // Traced to Anna: the code in the pixels is her view row's, now marked as taken away.
    const anna = (await portal.em().findOneOrFail(Parent, { email: 'anna@example.nl' })).id;
    const view = await portal.em().findOneOrFail(PhotoView, { photoRef: photo1, parent: anna });
    expect(view.exportedAt).not.toBeNull();
    const found = await extractTraceCode(zip.get(photos[0]!)!);
    expect(found && formatTraceCode(found.code)).toBe(formatTraceCode(view.traceCode));

    const html = zip.get('dagboek.html')!.toString('utf8');
    expect(html).toContain('Herinneringenboek van Evi');
    expect(html).toContain('Evi sliep slecht vannacht.');
    expect(html).toContain('Evi heeft &lt;b&gt;heerlijk&lt;/b&gt; buiten gespeeld.'); // escaped, not markup
    expect(html).toContain('Stemming 00:00: blij');
    expect(html).toMatch(/@media print[\s\S]*break-before: page/);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i); // nothing from elsewhere
    expect(html).not.toContain('Sam'); // another child's schriftje stays out
    expect(zip.get('leesmij.txt')!.toString('utf8')).toContain('dagboek.html');

    const made = await portal.em().find(AuditEvent, { type: 'yearbook.made' });
    expect(made.at(-1)).toMatchObject({ subject: 'K1', details: { photos: 1, diaryEntries: 2 } });
  });

  it('once an hour per parent and child: the second is refused with when, an hour later it is made again', async () => {
    expect(await code(makeYearBook(portal.em(), portal, who['anna@example.nl']!, childId.K1!, 'nl'))).toBe('rate_limited');
    const overview = await yearBookOverview(portal.em(), portal, who['anna@example.nl']!, childId.K1!);
    expect(overview.nextAt).not.toBeNull();
    portal.clock.advance({ hours: 1 });
    const book = await makeYearBook(portal.em(), portal, who['anna@example.nl']!, childId.K1!, 'en');
    const zip = await zipOf(book);
    expect([...zip.keys()].filter((k) => !k.startsWith('photos/')).sort()).toEqual(['README.txt', 'diary.html']);
    expect(zip.get('diary.html')!.toString('utf8')).toContain('Evi’s book of memories');
    portal.clock.advance({ hours: 1 });
  });

  it('a photo the store cannot give ends the download with an error, and gives the turn back', async () => {
    const broken = {
      config: portal.config,
      photos: {
        get: (key: string) => portal.photos.get(key),
        put: (...args: Parameters<TestPortal['photos']['put']>) => portal.photos.put(...args),
        stream: () => Promise.reject(new Error('the store is unreachable')),
      },
    };
    const book = await makeYearBook(portal.em(), broken, who['anna@example.nl']!, childId.K1!, 'nl');
    await expect(buffer(book.stream)).rejects.toThrow('the store is unreachable');
    const lastBuilt = async () =>
      (await portal.em().getConnection().execute<{ last_built_at: Date | null }[]>('select last_built_at from year_book where child_id = ?', [childId.K1]))[0]!.last_built_at;
    await expect.poll(lastBuilt).toBeNull(); // given back just after the error
    expect((await zipOf(await makeYearBook(portal.em(), portal, who['anna@example.nl']!, childId.K1!, 'nl'))).size).toBe(3);
    portal.clock.advance({ hours: 1 });
  });

  it('refuses as not found: another family, staff, an administrator, a malformed id', async () => {
    expect(await code(yearBookOverview(portal.em(), portal, who['bram@example.nl']!, childId.K1!))).toBe('not_found');
    expect(await code(makeYearBook(portal.em(), portal, who['bram@example.nl']!, childId.K1!, 'nl'))).toBe('not_found');
    expect(await code(makeYearBook(portal.em(), portal, mia, childId.K1!, 'nl'))).toBe('not_found');
    expect(await code(makeYearBook(portal.em(), portal, admin, childId.K1!, 'nl'))).toBe('not_found'); // not even an administrator
    expect(await code(yearBookOverview(portal.em(), portal, who['anna@example.nl']!, Number.NaN))).toBe('not_found');
  });
});

describe('leaving', () => {
  it('offers the book by mail once per parent, and the book stays until leftOn + leaverGraceDays, then is not found', async () => {
    const grace = portal.config.retention.leaverGraceDays;
    const today = portal.clock.today();
    await leaveChild(portal.em(), admin, 'K2', { date: today }, { leaverGraceDays: grace });
    const offer = await offerYearBooks(portal.em(), portal, admin, 'K2');
    expect(offer).toEqual({ childNumber: 'K2', mailed: ['bram@example.nl'], availableUntil: addDays(today, grace) });
    expect((await offerYearBooks(portal.em(), portal, admin, 'K2')).mailed).toEqual([]); // once
    expect((await offerYearBooks(portal.em(), portal, admin, 'K1')).mailed).toEqual([]); // not left

    // The mail: the link to the book page and the last day, in the parent's language.
    const em = portal.em();
    const account = await em.findOneOrFail(Account, { email: 'bram@example.nl' }, { populate: ['parent'] });
    const row = (await em.getConnection().execute<{ id: number }[]>('select id from year_book where child_id = ?', [childId.K2]))[0]!;
    const job: AccountMailJob = { kind: 'yearbook_offer', accountId: account.id, requestedBy: 'test', ref: row.id };
    const composed = await composeYearBookOffer({ em, ctx: portal, account, organisation: await getOrganisation(em), from: 'x@example.nl', job });
    expect(composed.mail.subject).toBe('Het herinneringenboek van Sam');
    expect(composed.mail.text).toContain(`/kind/${childId.K2}/herinneringenboek`);

    // Left: still there during the grace period, with its last day...
    portal.clock.advance({ days: grace });
    const overview = await yearBookOverview(portal.em(), portal, who['bram@example.nl']!, childId.K2!);
    expect(overview).toMatchObject({ leftOn: today, availableUntil: addDays(today, grace), photos: 1 });
    // ...and gone the day after: the page, the book, the link on Mijn gegevens.
    portal.clock.advance({ days: 1 });
    expect(await code(yearBookOverview(portal.em(), portal, who['bram@example.nl']!, childId.K2!))).toBe('not_found');
    expect(await code(makeYearBook(portal.em(), portal, who['bram@example.nl']!, childId.K2!, 'nl'))).toBe('not_found');
    expect(await yearBookChildren(portal.em(), who['bram@example.nl']!, grace)).toEqual([]);
    expect((await offerYearBooks(portal.em(), portal, admin, 'K2')).mailed).toEqual([]);
  });

  it('the daily scan offers leavers it was not told of (the planning import), from two weeks before the last day, once', async () => {
    const grace = portal.config.retention.leaverGraceDays;
    const lastDay = addDays(portal.clock.today(), OFFER_DAYS_BEFORE_LEAVING + 2);
    await leaveChild(portal.em(), admin, 'K3', { date: lastDay }, { leaverGraceDays: grace });
    expect(await offerDueYearBooks(portal.em(), portal, admin)).toBe(0); // too early
    portal.clock.advance({ days: 2 });
    expect(await offerDueYearBooks(portal.em(), portal, admin)).toBe(1); // Cor
    expect(await offerDueYearBooks(portal.em(), portal, admin)).toBe(0);
    const offered = await portal.em().find(AuditEvent, { type: 'yearbook.offered', subject: 'K3' });
    expect(offered).toHaveLength(1);
  });
});
