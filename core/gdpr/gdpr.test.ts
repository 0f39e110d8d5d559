import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { errorCode } from '../../test/errors.ts';
import { seedBoomhutChildren } from '../../test/boomhut-world.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { readZip } from '../../test/zip.ts';
import type { Actor } from '../actor.ts';
import { addDays, } from '../dates.ts';
import { saveStaffEntry, writeParentEntry } from '../diary/entries.ts';
import { addDiaryItems } from '../diary/items.ts';
import { setPickup } from '../pickup/pickup.ts';
import { reportSick } from '../schedule/sick.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Account } from '../entities/account.ts';
import { AuditEvent } from '../entities/audit.ts';
import { Child } from '../entities/child.ts';
import { DiaryEntry } from '../entities/diary.ts';
import { PickupNote, SickReport } from '../entities/child-day.ts';
import { Group } from '../entities/group.ts';
import { Message, MessageThread } from '../entities/message.ts';
import { Guardianship, Parent } from '../entities/parent.ts';
import { Photo, PhotoDownload, PhotoTag, PhotoView } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { markAnnouncementRead, sendAnnouncement } from '../messages/announcements.ts';
import { confirmAnnouncement } from '../messages/confirmations.ts';
import { replyToThread, startThread } from '../messages/threads.ts';
import { bookSlot } from '../talks/booking.ts';
import { groupTalks, publishSlots } from '../talks/slots.ts';
import { downloadPhoto, traceDownload } from '../photos/downloads.ts';
import { tracedDisplayImage } from '../photos/traced-views.ts';
import { tagPhoto } from '../photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../photos/upload.ts';
import { eraseParent } from './erase.ts';
import { exportParentData } from './export.ts';

/**
 * The AVG rights for a parent: access (one ZIP with everything) and erasure (the parent gone,
 * the shared child's record kept for the other parent, an orphaned child's diary and tags gone).
 *
 * Boomhut: Evi (K1: Anna and Dirk), Sam (K2: Bram only), Noor (K3: Cor, no consent).
 * Photo 1 shows Evi and Sam (shareable); photo 2 shows Sam and Noor (held: Noor has no consent).
 */

let portal: TestPortal;
const who: Record<string, Actor> = {};
let mia: Actor;
let photo1: string;
let photo2: string;
let groupId: number;
const childId: Record<string, number> = {};

async function picture(hue: number): Promise<Buffer> {
  return await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: hue, g: 120, b: 200 - hue } } })
    .jpeg()
    .toBuffer();
}

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  Object.assign(childId, await seedBoomhutChildren(em, 10));
  for (const [email, first, children] of [
    ['anna@example.nl', 'Anna', ['K1']],
    ['dirk@example.nl', 'Dirk', ['K1']],
    ['bram@example.nl', 'Bram', ['K2']],
    ['cor@example.nl', 'Cor', ['K3']],
  ] as const) {
    await addParent(em, admin, { email, firstName: first, lastName: 'Ouder', phone: '0612345678', children: [...children] });
    const parent = await em.findOneOrFail(Parent, { email });
    who[email] = { kind: 'parent', parentId: parent.id, label: email };
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Staf', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  mia = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;

  ({ photoId: photo1 } = await uploadPhoto(em, portal, mia, { groupId, data: await picture(10) }));
  await processUploadedPhoto(portal, photo1);
  await tagPhoto(portal.em(), mia, photo1, { childNumbers: ['K1', 'K2'] });
  ({ photoId: photo2 } = await uploadPhoto(em, portal, mia, { groupId, data: await picture(90) }));
  await processUploadedPhoto(portal, photo2);
  await tagPhoto(portal.em(), mia, photo2, { childNumbers: ['K2', 'K3'] });

  const settings = { lines: ['Slapen'] };
  await saveStaffEntry(portal.em(), mia, settings, childId.K1!, { text: 'Evi heeft heerlijk buiten gespeeld.' });
  await saveStaffEntry(portal.em(), mia, settings, childId.K2!, { text: 'Sam heeft een toren gebouwd.' });
  await writeParentEntry(portal.em(), who['anna@example.nl']!, childId.K1!, { text: 'Evi sliep slecht vannacht.' });
  await writeParentEntry(portal.em(), who['bram@example.nl']!, childId.K2!, { text: 'Sam wordt om vier uur opgehaald.' });
  await addDiaryItems(portal.em(), mia, [childId.K2!], { kind: 'mood', value: 'blij', from: '00:00' });
  await reportSick(portal.em(), who['bram@example.nl']!, { childId: childId.K2!, note: 'Koorts' });
  await setPickup(portal.em(), who['bram@example.nl']!, { childId: childId.K2!, name: 'Opa Piet', time: '16:30' });

  const ctx = { config: portal.config, attachments: portal.attachments, jobs: portal.jobs };
  const evi = await startThread(portal.em(), ctx, who['anna@example.nl']!, { groupId, subject: 'Knuffel kwijt', body: 'Heeft iemand de knuffel gezien?' });
  await replyToThread(portal.em(), ctx, mia, evi.threadId, { body: 'Ja, hij ligt in de kast.' });
  await startThread(portal.em(), ctx, who['bram@example.nl']!, { groupId, subject: 'Ophalen', body: 'Opa haalt Sam vandaag op.' });

  const { announcementId } = await sendAnnouncement(portal.em(), portal, mia, {
    groupId,
    subject: 'Luizen in de groep',
    body: 'Wilt u even kijken?',
    confirmationRequested: 'ja',
  });
  await markAnnouncementRead(portal.em(), who['bram@example.nl']!, announcementId);
  await confirmAnnouncement(portal.em(), who['bram@example.nl']!, announcementId);
  await markAnnouncementRead(portal.em(), who['anna@example.nl']!, announcementId);
  // An oudergesprek about Sam, held, with a note (as when the organisation keeps notes).
  await publishSlots(portal.em(), mia, { groupId, date: addDays(portal.clock.today(), 1), from: '09:00', count: 1, minutes: 15, place: 'Kantoor' });
  const [slot] = (await groupTalks(portal.em(), mia, groupId)).upcoming;
  await bookSlot(portal.em(), portal, who['bram@example.nl']!, { childId: childId.K2!, slotId: slot!.id });
  await portal.em().getConnection().execute(`update talk_slot set held_at = booked_at, held_by_label = 'Mia Staf', note = 'Sam praat veel' where id = ?`, [slot!.id]);

  await downloadPhoto(portal.em(), portal, who['bram@example.nl']!, photo1, { ip: '10.0.0.2', rulesAccepted: true });
  await downloadPhoto(portal.em(), portal, who['anna@example.nl']!, photo1, { ip: '10.0.0.1', rulesAccepted: true });
});
afterAll(() => portal?.destroy());

describe('portal gdpr export', () => {
  it("writes one ZIP with the parent's profile, children, consent history, schriftje, messages, downloads, audit and the photos they may see", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdpr-'));
    const file = join(dir, 'bram.zip');
    const summary = await exportParentData(portal.em(), portal.photos, admin, 'BRAM@example.nl', file);
    expect(summary).toMatchObject({ children: 1, photos: 1, downloads: 1 });
    expect(readdirSync(dir)).toEqual(['bram.zip']); // no .partial left behind

    const zip = readZip(readFileSync(file));
    const data = JSON.parse(zip.get('gegevens.json')!.toString('utf8'));
    expect(data.profile).toMatchObject({ email: 'bram@example.nl', first_name: 'Bram', phone: '0612345678' });
    expect(JSON.stringify(data.profile)).not.toMatch(/password_hash|totp_secret|\$argon2/);
    expect(data.children.map((c: { child_number: string }) => c.child_number)).toEqual(['K2']);
    expect(data.placements[0]).toMatchObject({ child_number: 'K2', location: 'Centrum', group: 'Boomhut' });
    expect(data.consentHistory).toHaveLength(1);
    expect(data.schriftje.map((e: { text: string }) => e.text).sort()).toEqual(['Sam heeft een toren gebouwd.', 'Sam wordt om vier uur opgehaald.']);
    expect(data.messages.map((m: { body: string }) => m.body)).toEqual(['Opa haalt Sam vandaag op.']);
    // The schriftje's moments, the sick report (with its note) and the pickup note are Sam's data too.
    expect(data.schriftje.flatMap((e: { moments: { kind: string; value: string }[] }) => e.moments)).toEqual([expect.objectContaining({ kind: 'mood', value: 'blij' })]);
    expect(data.sickReports).toEqual([expect.objectContaining({ child_number: 'K2', note: 'Koorts' })]);
    expect(data.pickups).toEqual([expect.objectContaining({ child_number: 'K2', name: 'Opa Piet', time: '16:30' })]);
    // The announcement Bram opened and confirmed, with both times (Anna's read mark is hers).
    expect(data.announcementsReadAndConfirmed).toEqual([
      expect.objectContaining({ subject: 'Luizen in de groep', read_at: expect.any(String), confirmed_at: expect.any(String) }),
    ]);
    expect(data.talks).toEqual([expect.objectContaining({ child_number: 'K2', place: 'Kantoor', note: 'Sam praat veel', held_at: expect.any(String) })]);
    expect(data.yourDownloads).toHaveLength(1);
    // Anna downloaded photo 1 (Sam is in it): Bram sees that as "a parent of the group".
    expect(data.downloadsOfYourChildrensPhotos.map((d: { by: string }) => d.by).sort()).toEqual(['group-parent', 'you']);
    // Nothing of another family: no Evi entries, no Anna, no Noor.
    expect(zip.get('gegevens.json')!.toString()).not.toMatch(/Evi|anna@|Noor|knuffel/i);
    // Photo 1 (Evi and Sam, both consent) is in; photo 2 (with Noor, no consent) is not.
    const photos = [...zip.keys()].filter((k) => k.startsWith('fotos/'));
    expect(photos).toHaveLength(1);
    expect(photos[0]).toContain(photo1.slice(0, 8));
    expect((await sharp(zip.get(photos[0]!)!).metadata()).format).toBe('jpeg');
    expect(await portal.em().count(AuditEvent, { type: 'gdpr.exported', subject: 'bram@example.nl' })).toBe(1);
  });

  it('each photo in fotos/ carries the requesting parent\'s trace mark, recorded as their view of it, the same copy as the photo page', async () => {
    const exportFor = async (email: string) => {
      const file = join(mkdtempSync(join(tmpdir(), 'gdpr-')), 'x.zip');
      await exportParentData(portal.em(), portal.photos, admin, email, file);
      const zip = readZip(readFileSync(file));
      const name = [...zip.keys()].find((k) => k.startsWith('fotos/'))!;
      return { photo: zip.get(name)!, data: JSON.parse(zip.get('gegevens.json')!.toString('utf8')) };
    };
    const bram = await exportFor('bram@example.nl');
    const anna = await exportFor('anna@example.nl');
    expect(bram.photo.equals(anna.photo)).toBe(false);
    const fromBram = await traceDownload(portal.em(), admin, { file: bram.photo });
    expect(fromBram).toMatchObject({ kind: 'view', email: 'bram@example.nl', photoId: photo1 });
    expect(fromBram.view?.exportedAt).not.toBeNull();
    expect(await traceDownload(portal.em(), admin, { file: anna.photo })).toMatchObject({ kind: 'view', email: 'anna@example.nl', photoId: photo1 });
    // The record is in the export too (right of access), and the photo page sends the same copy.
    expect(bram.data.yourPhotoViews).toEqual([expect.objectContaining({ photo: photo1 })]);
    const page = await tracedDisplayImage(portal.em(), portal, who['bram@example.nl']!, photo1);
    expect(page.data.equals(bram.photo)).toBe(true);
    expect(await portal.em().count(PhotoView, { photoRef: photo1, email: 'bram@example.nl' })).toBe(1);
  });

  it('a parent may export only their own data; an unknown address is not found', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gdpr-')), 'x.zip');
    expect(await errorCode(exportParentData(portal.em(), portal.photos, who['anna@example.nl']!, 'bram@example.nl', file))).toBe('forbidden');
    expect(await errorCode(exportParentData(portal.em(), portal.photos, admin, 'niemand@example.nl', file))).toBe('not_found');
  });
});

describe('portal gdpr erase', () => {
  it('from a script needs --yes; without it nothing is erased', async () => {
    // The question comes before the database is opened: a script without --yes never reaches it.
    const r = await runCli(['gdpr', 'erase', 'anna@example.nl'], { PORTAL_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Add --yes/);
    expect(await portal.em().count(Parent, { email: 'anna@example.nl' })).toBe(1);
  });

  it("erases a parent whose child has another parent: the child's record stays, their own writing goes, their messages lose their name", async () => {
    const anna = who['anna@example.nl']!;
    await reportSick(portal.em(), anna, { childId: childId.K1!, note: 'Waterpokken' });
    await setPickup(portal.em(), anna, { childId: childId.K1!, name: 'Oma Ria', time: '17:00' });
    const report = await eraseParent(portal.em(), admin, 'anna@example.nl');
    expect(report).toMatchObject({ childrenWithoutGuardian: [], ownDiaryEntriesRemoved: 1, diaryEntriesRemoved: 0, messagesAnonymised: 1, downloadsAnonymised: 1 });
    const em = portal.em();
    expect(await em.count(Parent, { email: 'anna@example.nl' })).toBe(0);
    expect(await em.count(Account, { email: 'anna@example.nl' })).toBe(0);
    expect(await em.count(Guardianship, { child: childId.K1! })).toBe(1); // Dirk
    // Evi's schriftje from the staff stays for Dirk; Anna's own entry is gone.
    expect((await em.find(DiaryEntry, { child: childId.K1! })).map((e) => e.text)).toEqual(['Evi heeft heerlijk buiten gespeeld.']);
    const messages = await em.find(Message, { thread: { child: childId.K1! } }, { orderBy: { id: 'asc' } });
    expect(messages.map((m) => m.authorLabel)).toEqual(['Verwijderde ouder', expect.stringContaining('Mia')]);
    expect(await em.count(PhotoDownload, { email: 'anna@example.nl' })).toBe(0);
    expect(await em.count(PhotoDownload, { email: `erased-parent-${anna.kind === 'parent' ? anna.parentId : 0}` })).toBe(1);
    // Her traced display views stay for tracing, without her address.
    expect(await em.count(PhotoView, { email: 'anna@example.nl' })).toBe(0);
    expect(await em.count(PhotoView, { email: `erased-parent-${anna.kind === 'parent' ? anna.parentId : 0}` })).toBe(1);
    expect(await em.count(PhotoTag, { photo: photo1 })).toBe(2);
    // Her sick report and pickup note stay for the group (Evi is still ill, Oma still comes), without her address.
    const [sick] = await em.find(SickReport, { child: childId.K1! });
    const [pickup] = await em.find(PickupNote, { child: childId.K1! });
    expect(sick?.note).toBe('Waterpokken');
    expect(pickup?.name).toBe('Oma Ria');
    expect(JSON.stringify([sick?.reportedBy, pickup?.setBy])).not.toContain('anna@');
    const [event] = await em.find(AuditEvent, { type: 'gdpr.erased' });
    expect(event?.subject).toMatch(/^parent:\d+$/);
    expect(JSON.stringify(event)).not.toContain('anna@');
  });

  it("erases a child's last parent: that child's schriftje, conversations, tags and day notes go, and the photos showing the child are hidden", async () => {
    const bram = who['bram@example.nl']!;
    await reportSick(portal.em(), bram, { childId: childId.K2!, note: 'Oorontsteking' });
    await setPickup(portal.em(), bram, { childId: childId.K2!, name: 'Opa Kees', time: '16:00' });
    const evisNotes = { sick: await portal.em().count(SickReport, { child: childId.K1! }), pickup: await portal.em().count(PickupNote, { child: childId.K1! }) };
    const report = await eraseParent(portal.em(), admin, 'bram@example.nl');
    expect(report).toMatchObject({ childrenWithoutGuardian: ['K2'], threadsRemoved: 1, photoTagsRemoved: 2, photosHidden: 2, sickReportsRemoved: 1, pickupNotesRemoved: 1 });
    const em = portal.em();
    // No parent is left to whom Sam's health note belongs: it goes. Evi's (she has Dirk) stay.
    expect(await em.count(SickReport, { child: childId.K2! })).toBe(0);
    expect(await em.count(PickupNote, { child: childId.K2! })).toBe(0);
    expect(evisNotes).toEqual({ sick: 1, pickup: 1 });
    expect(await em.count(SickReport, { child: childId.K1! })).toBe(evisNotes.sick);
    expect(await em.count(PickupNote, { child: childId.K1! })).toBe(evisNotes.pickup);
    expect(await em.count(DiaryEntry, { child: childId.K2! })).toBe(0);
    expect(await em.count(MessageThread, { child: childId.K2! })).toBe(0);
    expect(await em.count(PhotoTag, { child: childId.K2! })).toBe(0);
    // Photo 1 still shows Evi, but also Sam, who is no longer tagged: hidden, not shown untagged.
    expect((await em.findOneOrFail(Photo, { id: photo1 })).hiddenAt).not.toBeNull();
    // The child's directory record (placement, consent history) stays: the organisation must keep it.
    expect(await em.count(Child, { childNumber: 'K2' })).toBe(1);
    expect(await errorCode(eraseParent(portal.em(), admin, 'bram@example.nl'))).toBe('not_found');
    expect(await errorCode(eraseParent(portal.em(), who['cor@example.nl']!, 'dirk@example.nl'))).toBe('forbidden');
  });
});
