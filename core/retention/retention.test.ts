import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { addDays } from '../dates.ts';
import { addChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { AuditEvent } from '../entities/audit.ts';
import { Child } from '../entities/child.ts';
import { PickupNote, SickReport } from '../entities/child-day.ts';
import { DiaryEntry } from '../entities/diary.ts';
import { Group } from '../entities/group.ts';
import { MessageThread } from '../entities/message.ts';
import { Photo, PhotoTag } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { tagPhoto } from '../photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../photos/upload.ts';
import { applyRetention } from './retention.ts';

/** Retention per kind of data: what is past its period goes, what is not stays, and a dry run counts only. */

let portal: TestPortal;
let photoOfLeaver: string;
const id: Record<string, number> = {};

beforeAll(async () => {
  portal = await createTestPortal({
    'retention.diaryMonths': 12,
    'retention.messagesMonths': 6,
    'retention.auditMonths': 3,
    'retention.leaverGraceDays': 30,
    'retention.dayNotesDays': 20,
  });
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  for (const [n, name] of [['K1', 'Evi'], ['K2', 'Sam'], ['K3', 'Noor'], ['K4', 'Lina']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -400) });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
    id[n] = (await em.findOneOrFail(Child, { childNumber: n })).id;
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Staf', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  const mia = { kind: 'staff' as const, staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const group = await em.findOneOrFail(Group, { name: 'Boomhut' });
  const data = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#8ec5ff' } }).jpeg().toBuffer();
  ({ photoId: photoOfLeaver } = await uploadPhoto(em, portal, mia, { groupId: group.id, data }));
  await processUploadedPhoto(portal, photoOfLeaver);
  await tagPhoto(portal.em(), mia, photoOfLeaver, { childNumbers: ['K2', 'K1'] });

  const db = em.getConnection();
  // Every moment is the portal's (never the database's now()): retention compares with its clock.
  const now = portal.clock.now();
  const entry = (child: number, day: string, text: string) =>
    db.execute(
      `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
       values (gen_random_uuid(), ?, ?, 'staff', 'Mia', ?, '[]', '[]', 1, ?, ?)`,
      [child, day, text, now, now],
    );
  await entry(id.K1!, addDays(portal.clock.today(), -500), 'heel oud');
  await entry(id.K1!, addDays(portal.clock.today(), -30), 'recent');
  await entry(id.K2!, addDays(portal.clock.today(), -40), 'van een kind dat lang geleden vertrok');
  await entry(id.K3!, addDays(portal.clock.today(), -5), 'van een kind dat net vertrok');
  const thread = (child: number, daysAgo: number) =>
    db.execute(
      `insert into message_thread (id, group_id, child_id, subject, created_at, last_message_at)
       values (gen_random_uuid(), ?, ?, 'Vraag', ?::timestamptz - make_interval(days => ?), ?::timestamptz - make_interval(days => ?))`,
      [group.id, child, now, daysAgo, now, daysAgo],
    );
  await thread(id.K1!, 300);
  await thread(id.K1!, 20);
  await db.execute(`insert into audit_event (type, actor, at) values ('login.success', 'oud', ?::timestamptz - interval '200 days'), ('login.success', 'nieuw', ?)`, [now, now]);
  // Keys of deleted rows for `portal export --since`: one past DELETED_ROW_DAYS (90), one not. The
  // trigger stamps them with the database's time, and their age is measured on it.
  await db.execute(
    `insert into deleted_row (table_name, row_key, deleted_at) values ('location', '{"id": 998}', now() - interval '100 days'), ('location', '{"id": 999}', now() - interval '10 days')`,
  );
  // Day notes (retention.dayNotesDays = 20), by their last day: Evi's one exactly 20 days ago is
  // inside the period (also a report that began long before), one 21 days ago is outside.
  const sick = (child: number, from: number, until: number, note: string) =>
    db.execute(`insert into sick_report (child_id, from_date, until_date, note, reported_by, created_at) values (?, ?, ?, ?, 'anna', ?)`, [
      child,
      addDays(portal.clock.today(), from),
      addDays(portal.clock.today(), until),
      note,
      now,
    ]);
  const pickup = (child: number, day: number, name: string) =>
    db.execute(`insert into pickup_note (child_id, date, name, time, set_by, updated_at) values (?, ?, ?, '16:30', 'anna', ?)`, [
      child,
      addDays(portal.clock.today(), day),
      name,
      now,
    ]);
  await sick(id.K1!, -40, -20, 'binnen de termijn');
  await sick(id.K1!, -30, -21, 'net erbuiten');
  await pickup(id.K1!, -20, 'Oma binnen');
  await pickup(id.K1!, -21, 'Oma erbuiten');
  // A leaver's notes go with the leaver (counted there, not twice); Lina left only a pickup note.
  await sick(id.K2!, -50, -48, 'van een kind dat lang geleden vertrok');
  await pickup(id.K2!, -46, 'Opa van Sam');
  await pickup(id.K4!, -51, 'Tante van Lina');
  await pickup(id.K3!, -11, 'Buurvrouw van Noor');
  // Sam left 45 days ago and Lina 50 (past the 30-day grace), Noor 10 days ago (still within it).
  await db.execute(`update child set left_on = ? where id = ?`, [addDays(portal.clock.today(), -45), id.K2!]);
  await db.execute(`update child set left_on = ? where id = ?`, [addDays(portal.clock.today(), -10), id.K3!]);
  await db.execute(`update child set left_on = ? where id = ?`, [addDays(portal.clock.today(), -50), id.K4!]);
});
afterAll(() => portal?.destroy());

/** What the world above holds past its periods: a dry run counts it, a run removes it. */
const COUNTS = {
  diaryEntries: 1,
  threads: 1,
  auditEvents: 1,
  deletions: 1,
  sickReports: 1,
  pickupNotes: 1,
  leavers: { children: ['K2', 'K4'], diaryEntries: 1, photoTags: 1, photosHidden: 1, sickReports: 1, pickupNotes: 2 },
};

describe('retention', () => {
  it('a dry run counts per kind and removes nothing', async () => {
    const r = await applyRetention(portal.em(), portal, admin, { dryRun: true });
    expect(r).toMatchObject({ dryRun: true, ...COUNTS });
    expect(await portal.em().count(DiaryEntry, {})).toBe(4);
    expect(await portal.em().count(SickReport, {})).toBe(3);
    expect(await portal.em().count(PickupNote, {})).toBe(5);
    expect(await portal.em().count(AuditEvent, { actor: 'oud' })).toBe(1);
  });

  it('removes what is past its period, keeps the rest, hides a photo of a leaver, and writes its report to the audit log', async () => {
    const r = await applyRetention(portal.em(), portal, admin);
    // The same counts as the dry run: a dry run tells what a run will do.
    expect(r).toMatchObject({ dryRun: false, ...COUNTS });
    const em = portal.em();
    // Day notes: one day inside the period stays (by its last day, however early it began), one day outside goes.
    expect((await em.find(SickReport, {})).map((x) => x.note)).toEqual(['binnen de termijn']);
    expect((await em.find(PickupNote, {}, { orderBy: { date: 'asc' } })).map((x) => x.name)).toEqual(['Oma binnen', 'Buurvrouw van Noor']);
    expect((await em.find(DiaryEntry, {}, { orderBy: { day: 'asc' } })).map((e) => e.text)).toEqual(['recent', 'van een kind dat net vertrok']);
    expect(await em.count(MessageThread, {})).toBe(1);
    expect(await em.count(AuditEvent, { actor: 'oud' })).toBe(0);
    expect(await em.count(AuditEvent, { actor: 'nieuw' })).toBe(1);
    // The old deletion key is gone, the recent one stays, and what retention deleted is recorded for the next --since export.
    const keys = await em.getConnection().execute<{ table_name: string; id: string | null }[]>(`select table_name, row_key->>'id' as id from deleted_row`);
    expect(keys.filter((k) => k.table_name === 'location').map((k) => k.id)).toEqual(['999']);
    expect(keys.filter((k) => k.table_name === 'diary_entry').length).toBeGreaterThanOrEqual(2);
    // Evi is still in the photo, but so is Sam, who is no longer tagged: hidden.
    expect(await em.count(PhotoTag, { photo: photoOfLeaver })).toBe(1);
    expect((await em.findOneOrFail(Photo, { id: photoOfLeaver })).hiddenAt).not.toBeNull();
    const [event] = await em.find(AuditEvent, { type: 'retention.applied' });
    expect(event?.details).toMatchObject({ diaryEntries: 1, auditEvents: 1, sickReports: 1, pickupNotes: 1, leavers: { sickReports: 1, pickupNotes: 2 } });
    // Run again: nothing left to do.
    expect(await applyRetention(portal.em(), portal, admin)).toMatchObject({
      diaryEntries: 0,
      threads: 0,
      auditEvents: 0,
      deletions: 0,
      sickReports: 0,
      pickupNotes: 0,
      leavers: { children: [] },
    });
  });

  it('portal retention run --dry-run prints the report', async () => {
    // A grace of 5 days: Noor, who left 10 days ago, is now past it. Day notes for 10 days: Evi's
    // two of 20 days ago are past it; Noor's of 11 days ago is hers as a leaver, not counted twice.
    const r = await runCli(['retention', 'run', '--dry-run'], {
      PORTAL_DATABASE_URL: portal.dbUrl,
      PORTAL_RETENTION_LEAVER_GRACE_DAYS: '5',
      PORTAL_RETENTION_DAY_NOTES_DAYS: '10',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Would remove \(dry run\)/);
    expect(r.stdout).toMatch(/Children who left:\s+K3\n\s+their schriftje entries:\s+1\n/);
    expect(r.stdout).toMatch(/Sick reports:\s+1\n\s*Pickup notes:\s+1\n/);
    expect(r.stdout).toMatch(/their sick reports:\s+0\n\s+their pickup notes:\s+1\n/);
    expect(await portal.em().count(DiaryEntry, {})).toBe(2);
    expect(await portal.em().count(PickupNote, {})).toBe(2);
  });
});
