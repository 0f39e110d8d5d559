import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, parentIdOf, permittedActions, scopeFilter, scopeOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf, startOfDay } from '../clock.ts';
import { addDays } from '../dates.ts';
import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { UUID } from './access.ts';
import { type AnnouncementMailContext, enqueueAnnouncementMails } from './announcement-mail.ts';
import { markAnnouncementRead } from './announcements.ts';

/**
 * Read confirmations (leesbevestigingen). An announcement may ask its parents to confirm that
 * they read it: each parent it reaches confirms once, with one tap. Whoever may manage it (the
 * location's manager, staff of its group, an administrator: `announcement.confirmations`) sees
 * per group who did and who did not, and may remind those who did not by e-mail, at most once
 * per day per announcement. The reminder's row, unique per (announcement, day), is the lock:
 * two clicks at once queue one set of mails.
 */

/** What the announcement page needs to know about confirming, for this actor. */
export interface ConfirmationState {
  requested: boolean;
  /** The actor may confirm (a parent it went to, while it asks for it). */
  mayConfirm: boolean;
  /** When this parent confirmed; null when not (yet). */
  confirmedAt: string | null;
  /** The actor may see the overview and remind (staff side). */
  mayManage: boolean;
}

export async function confirmationState(em: EntityManager, actor: Actor, announcementId: string): Promise<ConfirmationState> {
  const none: ConfirmationState = { requested: false, mayConfirm: false, confirmedAt: null, mayManage: false };
  if (!UUID.test(announcementId)) return none;
  const rows = (await em.getConnection().execute(
    `select a.confirmation_requested as requested,
            (select ac.confirmed_at from announcement_confirmation ac where ac.announcement_id = a.id and ac.parent_id = ?) as confirmed_at
       from announcement a where a.id = ?`,
    [parentIdOf(actor) ?? null, announcementId],
  )) as { requested: boolean; confirmed_at: string | Date | null }[];
  const row = rows[0];
  if (!row?.requested) return none;
  const allowed = await permittedActions(em, actor, 'announcement', announcementId);
  return {
    requested: true,
    mayConfirm: allowed.has('announcement.confirm'),
    confirmedAt: row.confirmed_at ? new Date(row.confirmed_at).toISOString() : null,
    mayManage: allowed.has('announcement.confirmations'),
  };
}

/**
 * A parent confirms they read the announcement (idempotent: the first time counts). Not found
 * for anyone it did not go to, for an announcement that asks for no confirmation, and for a
 * suspended parent. Confirming also marks it read.
 */
export async function confirmAnnouncement(em: EntityManager, actor: Actor, announcementId: string): Promise<{ confirmedAt: string; first: boolean }> {
  await authorize(em, actor, 'announcement.confirm', announcementId, 'announcement');
  const parentId = parentIdOf(actor)!;
  const now = clockOf(em).now();
  await markAnnouncementRead(em, actor, announcementId);
  return await em.transactional(async (tx) => {
    const inserted = (await tx.getConnection().execute(
      `insert into announcement_confirmation (announcement_id, parent_id, confirmed_at) values (?, ?, ?)
       on conflict (announcement_id, parent_id) do nothing returning confirmed_at`,
      [announcementId, parentId, now],
      'all',
      tx.getTransactionContext(),
    )) as { confirmed_at: string | Date }[];
    if (inserted.length > 0) {
      audit(tx, { type: 'announcement.confirmed', actor, details: { announcementId } });
      await tx.flush();
      return { confirmedAt: new Date(inserted[0]!.confirmed_at).toISOString(), first: true };
    }
    const rows = (await tx.getConnection().execute(
      'select confirmed_at from announcement_confirmation where announcement_id = ? and parent_id = ?',
      [announcementId, parentId],
      'all',
      tx.getTransactionContext(),
    )) as { confirmed_at: string | Date }[];
    return { confirmedAt: new Date(rows[0]!.confirmed_at).toISOString(), first: false };
  });
}

export interface ConfirmationPerson {
  parentId: number;
  name: string;
  /** The first names of their children in this group. */
  children: string;
  confirmedAt: string | null;
}

export interface ConfirmationGroup {
  id: number;
  name: string;
  confirmed: ConfirmationPerson[];
  pending: ConfirmationPerson[];
}

export interface ConfirmationOverview {
  announcement: { id: string; subject: string; groupName: string | null; locationName: string; createdAt: string };
  groups: ConfirmationGroup[];
  /** Each parent once, even with children in two groups. */
  totals: { parents: number; confirmed: number; pending: number };
  lastReminder: { sentAt: string; by: string; recipients: number } | null;
  /** A reminder may go now (none today yet, and someone has not confirmed). */
  canRemind: boolean;
  /** When the next reminder may go, when not now because one went today (start of tomorrow). */
  nextReminderAt: string | null;
}

interface PersonRow {
  group_id: number;
  group_name: string;
  parent_id: number;
  first_name: string;
  infix: string | null;
  last_name: string;
  children: string;
  confirmed_at: string | Date | null;
}

/**
 * The parents an announcement reaches today, per group, with their confirmation: only parents
 * the actor may see (`parent.read`), and no suspended parent (they are not reached). The
 * reminder goes to exactly the "not yet" people of this list.
 */
async function people(em: EntityManager, actor: Actor, announcementId: string): Promise<PersonRow[]> {
  const day = clockOf(em).today();
  const seen = scopeFilter(scopeOf(em, actor, 'parent.read'), 'pa.id');
  return (await em.getConnection().execute(
    `select cg.id as group_id, cg.name as group_name, pa.id as parent_id, pa.first_name, pa.infix, pa.last_name,
            string_agg(distinct c.first_name, ', ') as children, ac.confirmed_at
       from announcement a
       join care_group cg on (a.group_id is not null and cg.id = a.group_id) or (a.group_id is null and cg.location_id = a.location_id)
       join placement pl on pl.group_id = cg.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
       join child c on c.id = pl.child_id
       join guardianship g on g.child_id = pl.child_id
       join parent pa on pa.id = g.parent_id
       left join announcement_confirmation ac on ac.announcement_id = a.id and ac.parent_id = pa.id
      where a.id = ?
        and not exists (select 1 from account acc where acc.parent_id = pa.id and acc.suspended_at is not null)
        and ${seen.sql}
      group by cg.id, cg.name, pa.id, pa.first_name, pa.infix, pa.last_name, ac.confirmed_at
      order by cg.name, cg.id, pa.first_name, pa.last_name, pa.id`,
    [day, day, announcementId, ...seen.params],
    'all',
    em.getTransactionContext(),
  )) as PersonRow[];
}

const pendingIds = (rows: PersonRow[]) => [...new Set(rows.filter((r) => !r.confirmed_at).map((r) => r.parent_id))];

/** Who confirmed and who did not, per group, and where the reminders stand. Not found unless the actor may manage it. */
export async function confirmationOverview(em: EntityManager, actor: Actor, announcementId: string): Promise<ConfirmationOverview> {
  await authorize(em, actor, 'announcement.confirmations', announcementId, 'announcement');
  const [head] = (await em.getConnection().execute(
    `select a.id, a.subject, cg.name as group_name, l.name as location_name, a.created_at
       from announcement a join location l on l.id = a.location_id left join care_group cg on cg.id = a.group_id where a.id = ?`,
    [announcementId],
  )) as { id: string; subject: string; group_name: string | null; location_name: string; created_at: string | Date }[];
  if (!head) throw notFound('announcement');
  const rows = await people(em, actor, announcementId);
  const groups = new Map<number, ConfirmationGroup>();
  for (const r of rows) {
    const group = groups.get(r.group_id) ?? { id: r.group_id, name: r.group_name, confirmed: [], pending: [] };
    groups.set(r.group_id, group);
    const person: ConfirmationPerson = {
      parentId: r.parent_id,
      name: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }),
      children: r.children,
      confirmedAt: r.confirmed_at ? new Date(r.confirmed_at).toISOString() : null,
    };
    (person.confirmedAt ? group.confirmed : group.pending).push(person);
  }
  const all = new Set(rows.map((r) => r.parent_id));
  const pending = pendingIds(rows).length;
  const [last] = (await em.getConnection().execute(
    `select sent_at, sent_by_label, recipients, day from announcement_reminder where announcement_id = ? order by sent_at desc, id desc limit 1`,
    [announcementId],
  )) as { sent_at: string | Date; sent_by_label: string; recipients: number; day: string | Date }[];
  const today = clockOf(em).today();
  const remindedToday = last !== undefined && dayString(last.day) === today;
  return {
    announcement: {
      id: head.id,
      subject: head.subject,
      groupName: head.group_name,
      locationName: head.location_name,
      createdAt: new Date(head.created_at).toISOString(),
    },
    groups: [...groups.values()],
    totals: { parents: all.size, confirmed: all.size - pending, pending },
    lastReminder: last ? { sentAt: new Date(last.sent_at).toISOString(), by: last.sent_by_label, recipients: last.recipients } : null,
    canRemind: !remindedToday && pending > 0,
    nextReminderAt: remindedToday ? startOfDay(addDays(today, 1)).toISOString() : null,
  };
}

/** A `date` column as PostgreSQL's driver hands it back (string, or a Date at local midnight). */
function dayString(value: string | Date): string {
  if (typeof value === 'string') return value.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}

export type ReminderOutcome =
  | { outcome: 'sent'; mails: number }
  /** One went today already (maybe by a colleague a moment ago): nothing queued. */
  | { outcome: 'already_today'; nextAt: string }
  /** Everyone confirmed: nothing to send. */
  | { outcome: 'nobody' };

/**
 * Reminds, by e-mail, every parent of the overview who has not confirmed, at most once per
 * announcement per day (Europe/Amsterdam). The reminder's row and its mail jobs are written in
 * one transaction; the row's unique (announcement, day) makes a second click, or a colleague's
 * at the same moment, wait for the first and then find the day taken.
 */
export async function remindUnconfirmed(
  em: EntityManager,
  ctx: Pick<AnnouncementMailContext, 'config' | 'jobs'>,
  actor: Actor,
  announcementId: string,
): Promise<ReminderOutcome> {
  await authorize(em, actor, 'announcement.confirmations', announcementId, 'announcement');
  const clock = clockOf(em);
  const today = clock.today();
  const nextAt = startOfDay(addDays(today, 1)).toISOString();
  const staffId = staffIdOf(actor);
  const staff = staffId !== undefined ? await em.findOne(Staff, { id: staffId }) : null;
  const label = staff ? fullName(staff) : actor.label;
  return await em.transactional(async (tx) => {
    const pending = pendingIds(await people(tx, actor, announcementId));
    if (pending.length === 0) return { outcome: 'nobody' } as const;
    const claimed = (await tx.getConnection().execute(
      `insert into announcement_reminder (announcement_id, day, sent_at, sent_by_id, sent_by_label, recipients)
       values (?, ?::date, ?, ?, ?, ?) on conflict (announcement_id, day) do nothing returning id`,
      [announcementId, today, clock.now(), staff?.id ?? null, label, pending.length],
      'all',
      tx.getTransactionContext(),
    )) as { id: number }[];
    if (claimed.length === 0) return { outcome: 'already_today', nextAt } as const;
    const jobs = await enqueueAnnouncementMails(
      ctx,
      tx,
      pending.map((parentId) => ({ announcementId, parentId, reminder: true })),
    );
    audit(tx, { type: 'announcement.reminded', actor, details: { announcementId, mails: jobs.length } });
    await tx.flush();
    return { outcome: 'sent', mails: jobs.length } as const;
  });
}
