import { errorCode } from '../../test/errors.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, type MessageWorld, seedMessageWorld } from '../../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.ts';
import { suspendParent } from '../accounts/suspension.ts';
import type { Actor } from '../actor.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { AuditEvent } from '../entities/audit.ts';
import { Staff } from '../entities/staff.ts';
import { ANNOUNCEMENT_MAIL_QUEUE, sendAnnouncementMail } from './announcement-mail.ts';
import { listAnnouncements, sendAnnouncement } from './announcements.ts';
import { confirmAnnouncement, confirmationOverview, confirmationState, remindUnconfirmed } from './confirmations.ts';

/**
 * Read confirmations in core, mostly from the side of who must be refused: only a parent the
 * announcement went to confirms, only who may manage it sees the overview, and a reminder goes
 * at most once a day, only to parents who have not confirmed and are reached by it.
 */

let portal: TestPortal;
let smtp: SmtpSink;
let w: MessageWorld;
let karel: Actor;

const code = async (p: Promise<unknown>) => (await errorCode(p)) ?? 'ok';

const parentId = (who: 'anna' | 'bart' | 'cor' | 'eva') => (w.actors[who] as Extract<Actor, { kind: 'parent' }>).parentId;

/** The parents of queued reminder mails for an announcement, sorted. */
async function reminded(announcementId: string): Promise<number[]> {
  await portal.jobs();
  const rows = await portal
    .em()
    .getConnection()
    .execute<{ parent_id: number }[]>(
      `select (data->>'parentId')::int as parent_id from pgboss.job
        where name = ? and data->>'announcementId' = ? and (data->>'reminder')::boolean order by 1`,
      [ANNOUNCEMENT_MAIL_QUEUE, announcementId],
    );
  return rows.map((r) => r.parent_id);
}

const confirmations = async () =>
  Number((await portal.em().getConnection().execute<{ n: number }[]>('select count(*)::int as n from announcement_confirmation'))[0]!.n);

async function toCentrum(subject: string, confirmationRequested = true): Promise<string> {
  const { announcementId } = await sendAnnouncement(portal.em(), portal, w.actors.hanna, {
    locationId: w.locations.centrum,
    subject,
    body: 'Lees dit even.',
    confirmationRequested,
  });
  return announcementId;
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url });
  w = await seedMessageWorld(portal);
  // A manager of the other location (Noord).
  await addStaff(portal.em(), admin, { email: 'karel@example.nl', firstName: 'Karel', lastName: 'Werker', role: 'manager' });
  await assignStaff(portal.em(), admin, 'karel@example.nl', { location: 'Noord' });
  const staff = await portal.em().findOneOrFail(Staff, { email: 'karel@example.nl' });
  karel = { kind: 'manager', staffId: staff.id, label: 'karel@example.nl' };
});

afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('confirming', () => {
  it('a parent it went to confirms once; the inbox marker goes; the first time counts', async () => {
    const id = await toCentrum('Nieuwe ophaaltijden');
    const inbox = async () => (await listAnnouncements(portal.em(), w.actors.anna)).find((a) => a.id === id)!;
    expect(await inbox()).toMatchObject({ confirmationRequested: true, confirmPending: true });
    const first = await confirmAnnouncement(portal.em(), w.actors.anna, id);
    expect(first.first).toBe(true);
    portal.clock.advance({ minutes: 5 });
    const again = await confirmAnnouncement(portal.em(), w.actors.anna, id);
    expect(again).toEqual({ confirmedAt: first.confirmedAt, first: false });
    expect(await inbox()).toMatchObject({ confirmPending: false, unread: false });
    expect(await confirmationState(portal.em(), w.actors.anna, id)).toMatchObject({ requested: true, mayConfirm: true, confirmedAt: first.confirmedAt, mayManage: false });
    const audits = await portal.em().find(AuditEvent, { type: 'announcement.confirmed' });
    expect(audits.filter((a) => (a.details as { announcementId?: string })?.announcementId === id)).toHaveLength(1);
  });

  it('refused as not found, with no row: a parent it did not go to, staff, a suspended parent, one that asks for nothing', async () => {
    const id = await toCentrum('Alleen Centrum');
    const plain = await toCentrum('Zonder bevestiging', false);
    const before = await confirmations();
    expect(await code(confirmAnnouncement(portal.em(), w.actors.eva, id))).toBe('not_found');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.hanna, id))).toBe('not_found');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.ada, id))).toBe('not_found');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.anna, plain))).toBe('not_found');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.anna, 'not-a-uuid'))).toBe('not_found');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.anna, '00000000-0000-4000-8000-000000000000'))).toBe('not_found');
    expect(await confirmations()).toBe(before);
    expect(await confirmationState(portal.em(), w.actors.eva, id)).toMatchObject({ mayConfirm: false, mayManage: false });
  });
});

describe('the overview', () => {
  it('per group: who confirmed (with the time) and who did not; only for who may manage it', async () => {
    const id = await toCentrum('Zomerfeest');
    const { confirmedAt } = await confirmAnnouncement(portal.em(), w.actors.anna, id);
    const o = await confirmationOverview(portal.em(), w.actors.hanna, id);
    const names = (list: { name: string }[]) => list.map((p) => p.name);
    expect(o.groups.map((g) => g.name)).toEqual(['Boomhut', 'Zolder']);
    const [boomhut, zolder] = o.groups;
    expect(boomhut!.confirmed).toEqual([{ parentId: parentId('anna'), name: 'Anna Ouder', children: 'Evi', confirmedAt }]);
    expect(names(boomhut!.pending)).toEqual(['Bart Ouder', 'Cor Ouder']);
    expect(names(zolder!.pending)).toEqual(['Cor Ouder']);
    // Cor has a child in each group: one parent, counted once.
    expect(o.totals).toEqual({ parents: 3, confirmed: 1, pending: 2 });
    expect(JSON.stringify(o)).not.toContain('Eva');
    expect(o).toMatchObject({ lastReminder: null, canRemind: true, nextReminderAt: null });
    expect((await confirmationOverview(portal.em(), w.actors.ada, id)).totals).toEqual(o.totals);

    for (const who of [w.actors.anna, w.actors.eva, w.actors.otto, w.actors.mia, karel]) {
      expect(await code(confirmationOverview(portal.em(), who, id)), who.label).toBe('not_found');
    }
    const plain = await toCentrum('Gewoon nieuws', false);
    expect(await code(confirmationOverview(portal.em(), w.actors.hanna, plain))).toBe('not_found');
  });

  it("staff of the group see their group's announcement; the manager of another location does not", async () => {
    const { announcementId } = await sendAnnouncement(portal.em(), portal, w.actors.mia, {
      groupId: w.groups.boomhut,
      subject: 'Boomhut: luizen',
      body: 'Wilt u even kijken?',
      confirmationRequested: 'ja',
    });
    const o = await confirmationOverview(portal.em(), w.actors.mia, announcementId);
    expect(o.groups.map((g) => g.name)).toEqual(['Boomhut']);
    expect(o.totals.parents).toBe(3);
    expect(await code(confirmationOverview(portal.em(), karel, announcementId))).toBe('not_found');
    expect(await code(remindUnconfirmed(portal.em(), portal, karel, announcementId))).toBe('not_found');
    expect(await code(confirmationOverview(portal.em(), w.actors.otto, announcementId))).toBe('not_found');
  });
});

describe('reminders', () => {
  it('go only to parents who did not confirm and are reached, once a day, and again the next day', async () => {
    const id = await toCentrum('Ouderavond');
    await confirmAnnouncement(portal.em(), w.actors.anna, id);
    expect(await code(remindUnconfirmed(portal.em(), portal, w.actors.anna, id))).toBe('not_found');
    expect(await code(remindUnconfirmed(portal.em(), portal, w.actors.eva, id))).toBe('not_found');
    expect(await reminded(id)).toEqual([]);

    expect(await remindUnconfirmed(portal.em(), portal, w.actors.hanna, id)).toEqual({ outcome: 'sent', mails: 2 });
    expect(await reminded(id)).toEqual([parentId('bart'), parentId('cor')].sort((a, b) => a - b));
    const again = await remindUnconfirmed(portal.em(), portal, w.actors.ada, id);
    expect(again.outcome).toBe('already_today');
    expect(await reminded(id)).toHaveLength(2);
    const o = await confirmationOverview(portal.em(), w.actors.hanna, id);
    expect(o.lastReminder).toMatchObject({ by: 'Hanna Werker', recipients: 2 });
    expect(o.canRemind).toBe(false);
    expect(o.nextReminderAt).toBe(again.outcome === 'already_today' ? again.nextAt : 'x');

    // Bart confirms; the next day only Cor is reminded.
    await confirmAnnouncement(portal.em(), w.actors.bart, id);
    portal.clock.advance({ days: 1 });
    expect((await confirmationOverview(portal.em(), w.actors.hanna, id)).canRemind).toBe(true);
    expect(await remindUnconfirmed(portal.em(), portal, w.actors.hanna, id)).toEqual({ outcome: 'sent', mails: 1 });
    expect(await reminded(id)).toEqual([parentId('bart'), parentId('cor'), parentId('cor')].sort((a, b) => a - b));
    expect(await portal.em().count(AuditEvent, { type: 'announcement.reminded' })).toBeGreaterThanOrEqual(2);
  });

  it('two clicks at the same moment send once', async () => {
    const id = await toCentrum('Tegelijk');
    const outcomes = await Promise.all([
      remindUnconfirmed(portal.em(), portal, w.actors.hanna, id),
      remindUnconfirmed(portal.em(), portal, w.actors.ada, id),
      remindUnconfirmed(portal.em(), portal, w.actors.hanna, id),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['already_today', 'already_today', 'sent']);
    expect(await reminded(id)).toHaveLength(3);
    const rows = await portal.em().getConnection().execute<{ n: number }[]>('select count(*)::int as n from announcement_reminder where announcement_id = ?', [id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('nothing when everyone confirmed', async () => {
    const { announcementId } = await sendAnnouncement(portal.em(), portal, w.actors.otto, {
      groupId: w.groups.vlinder,
      subject: 'Vlinder: uitje',
      body: 'Tekst',
      confirmationRequested: true,
    });
    await confirmAnnouncement(portal.em(), w.actors.eva, announcementId);
    expect(await remindUnconfirmed(portal.em(), portal, w.actors.otto, announcementId)).toEqual({ outcome: 'nobody' });
    expect((await confirmationOverview(portal.em(), w.actors.otto, announcementId)).canRemind).toBe(false);
  });

  it('the mail: a reminder asks to confirm; one queued before the parent confirmed is not sent', async () => {
    const id = await toCentrum('Brandoefening');
    await remindUnconfirmed(portal.em(), portal, w.actors.hanna, id);
    await confirmAnnouncement(portal.em(), w.actors.bart, id);
    expect(await sendAnnouncementMail(portal, { announcementId: id, parentId: parentId('bart'), reminder: true })).toBe('skipped');
    expect(await sendAnnouncementMail(portal, { announcementId: id, parentId: parentId('eva'), reminder: true })).toBe('skipped');
    expect(await sendAnnouncementMail(portal, { announcementId: id, parentId: parentId('cor'), reminder: true })).toBe('sent');
    await expect.poll(() => smtp.to(PEOPLE.cor).filter((m) => String(m.subject).includes('Brandoefening')).length).toBe(1);
    const mail = smtp.to(PEOPLE.cor).find((m) => String(m.subject).includes('Brandoefening'))!;
    expect(mail.subject).toBe('Herinnering: Brandoefening (Centrum)');
    expect(mail.text).toContain('Gelezen en begrepen');
    expect(mail.text).toContain(`/berichten/mededeling/${id}`);
    expect(smtp.to(PEOPLE.bart).some((m) => String(m.subject).includes('Brandoefening'))).toBe(false);
  });

  it('a suspended parent is neither listed nor reminded, and cannot confirm', async () => {
    const id = await toCentrum('Na schorsing');
    await suspendParent(portal.em(), admin, PEOPLE.bart, 'test');
    expect(await code(confirmAnnouncement(portal.em(), w.actors.bart, id))).toBe('not_found');
    const o = await confirmationOverview(portal.em(), w.actors.hanna, id);
    expect(JSON.stringify(o)).not.toContain('Bart');
    await remindUnconfirmed(portal.em(), portal, w.actors.hanna, id);
    expect(await reminded(id)).toEqual([parentId('anna'), parentId('cor')].sort((a, b) => a - b));
  });
});
