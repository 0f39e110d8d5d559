import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { filterOf, parentIdOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { idFilter, idsInScope } from '../authorization.ts';
import { Group } from '../entities/group.ts';
import { Location } from '../entities/location.ts';
import { Announcement, MessageAttachment } from '../entities/message.ts';

import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import { afterCursor, type Page, type PageCursor, pageLimit, pageTimeSql, toPage } from '../paging.ts';
import { fullName } from '../people.ts';
import { parseInput, text, yesNo } from '../validation.ts';
import { UUID } from './access.ts';
import { enqueueAnnouncementMails } from './announcement-mail.ts';
import { type AttachmentUpload, prepareAttachment, storeAttachment } from './attachments.ts';
import { type AttachmentView, MAX_BODY, MAX_SUBJECT, type MessageContext } from './threads.ts';
import { clockOf } from '../clock.ts';

/**
 * Announcements (mededelingen): staff write to all parents of one of their groups, the location
 * manager also to all parents of their location. Parents find them in their inbox (read marks
 * per parent) and, when the author asks for it, get one e-mail copy each.
 */

export interface AnnouncementTargets {
  groups: { id: number; name: string; locationName: string }[];
  locations: { id: number; name: string }[];
}

/** Where the actor may send an announcement (`group.announce`, `location.announce`): their groups, and for a manager their locations. */
export async function announcementTargets(em: EntityManager, actor: Actor): Promise<AnnouncementTargets> {
  const scope = await idsInScope(em, actor, 'group.announce');
  const managed = await idsInScope(em, actor, 'location.announce');
  const groups = await em.find(Group, idFilter(scope), { populate: ['location'], orderBy: { location: { name: 'asc' }, name: 'asc' } });
  const locations = await em.find(Location, idFilter(managed), { orderBy: { name: 'asc' } });
  return {
    groups: groups.map((g) => ({ id: g.id, name: g.name, locationName: g.location.name })),
    locations: locations.map((l) => ({ id: l.id, name: l.name })),
  };
}

const sendSchema = z.object({
  subject: text(MAX_SUBJECT, 'subject'),
  body: text(MAX_BODY, 'body'),
  emailCopy: yesNo.optional(),
  confirmationRequested: yesNo.optional(),
});

export interface SendAnnouncementInput {
  /** Exactly one: a group, or (manager, admin) a whole location. */
  groupId?: number;
  locationId?: number;
  subject: string;
  body: string;
  emailCopy?: boolean | string;
  /** Ask every parent to confirm they read it (core/messages/confirmations.ts). */
  confirmationRequested?: boolean | string;
  attachment?: AttachmentUpload;
}

/**
 * Sends an announcement. A target outside the actor's reach is "not found", and then nothing
 * is written, stored or queued. With `emailCopy`, one mail job per parent (a parent with two
 * children there gets one) is queued in the same transaction.
 */
export async function sendAnnouncement(
  em: EntityManager,
  ctx: MessageContext,
  actor: Actor,
  input: SendAnnouncementInput,
): Promise<{ announcementId: string; mails: number }> {
  const targets = await announcementTargets(em, actor);
  const group = input.groupId !== undefined ? targets.groups.find((g) => g.id === input.groupId) : undefined;
  const location = input.groupId === undefined && input.locationId !== undefined ? targets.locations.find((l) => l.id === input.locationId) : undefined;
  if (!group && !location) throw notFound(input.groupId !== undefined ? 'group' : 'location');
  const data = parseInput(sendSchema, {
    subject: input.subject,
    body: input.body,
    emailCopy: input.emailCopy ?? false,
    confirmationRequested: input.confirmationRequested ?? false,
  });
  const file =
    input.attachment && input.attachment.data.byteLength > 0
      ? await prepareAttachment(input.attachment, {
          maxBytes: ctx.config.messages.maxAttachmentBytes,
          maxPixels: ctx.config.photos.maxPixels,
        })
      : undefined;
  const key = file ? await storeAttachment(ctx.attachments, file) : undefined;
  const author = await em.findOneOrFail(Staff, { id: staffIdOf(actor)! });
  return await em.transactional(async (tx) => {
    const groupRow = group ? await tx.findOneOrFail(Group, { id: group.id }) : null;
    const announcement = tx.create(Announcement, {
      location: groupRow ? groupRow.location : tx.getReference(Location, location!.id),
      group: groupRow,
      author,
      authorLabel: fullName(author),
      subject: data.subject,
      body: data.body,
      emailCopy: Boolean(data.emailCopy),
      confirmationRequested: Boolean(data.confirmationRequested),
    });
    if (file && key) {
      tx.create(MessageAttachment, {
        message: null,
        announcement,
        key,
        filename: file.filename,
        contentType: file.contentType,
        size: file.data.byteLength,
      });
    }
    await tx.flush();
    let mails = 0;
    if (announcement.emailCopy) {
      const recipients = await recipientsOf(tx, announcement.id);
      mails = (await enqueueAnnouncementMails(ctx, tx, recipients.map((parentId) => ({ announcementId: announcement.id, parentId }))))
        .length;
    }
    return { announcementId: announcement.id, mails };
  });
}

/**
 * The parents an announcement reaches today: each parent once, with a child placed in its group
 * (or in a group of its location), whose access is not suspended.
 */
export async function recipientsOf(em: EntityManager, announcementId: string): Promise<number[]> {
  const day = clockOf(em).today();
  const rows = (await em.getConnection().execute(
    `select distinct g.parent_id
       from announcement a
       join care_group cg on (a.group_id is not null and cg.id = a.group_id) or (a.group_id is null and cg.location_id = a.location_id)
       join placement pl on pl.group_id = cg.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
       join guardianship g on g.child_id = pl.child_id
      where a.id = ?
        and not exists (select 1 from account ac where ac.parent_id = g.parent_id and ac.suspended_at is not null)
      order by g.parent_id`,
    [day, day, announcementId],
    'all',
    em.getTransactionContext(),
  )) as { parent_id: number }[];
  return rows.map((r) => r.parent_id);
}

export interface AnnouncementSummary {
  id: string;
  subject: string;
  /** The group's name, or null for the whole location. */
  groupName: string | null;
  locationName: string;
  authorLabel: string;
  createdAt: string;
  unread: boolean;
  /** It asks its parents to confirm they read it. */
  confirmationRequested: boolean;
  /** A parent: it asks, and they have not confirmed yet ("bevestigen gevraagd"). */
  confirmPending: boolean;
}

export interface AnnouncementView extends AnnouncementSummary {
  body: string;
  emailCopy: boolean;
  attachments: AttachmentView[];
}

interface Row {
  id: string;
  subject: string;
  group_name: string | null;
  location_name: string;
  author_label: string;
  created_at: string | Date;
  unread: boolean;
  confirmation_requested: boolean;
  confirm_pending: boolean;
  body?: string;
  email_copy?: boolean;
}

const toSummary = (r: Row): AnnouncementSummary => ({
  id: r.id,
  subject: r.subject,
  groupName: r.group_name,
  locationName: r.location_name,
  authorLabel: r.author_label,
  createdAt: new Date(r.created_at).toISOString(),
  unread: r.unread,
  confirmationRequested: r.confirmation_requested,
  confirmPending: r.confirm_pending,
});

const COLUMNS = `a.id, a.subject, cg.name as group_name, l.name as location_name, a.author_label, a.created_at, a.confirmation_requested`;
const FROM = `from announcement a join location l on l.id = a.location_id left join care_group cg on cg.id = a.group_id`;

/** SQL filter and bindings for the announcements an actor may read, with the parent's marks (unread, confirm_pending) as columns; null when none. */
async function readable(em: EntityManager, actor: Actor): Promise<{ sql: string; params: unknown[]; marks: string; marksParams: unknown[] } | null> {
  const filter = filterOf(em, actor, 'announcement.read');
  if (filter.sql === 'false') return null;
  // Unread marks and confirmations are the parents' (staff send announcements, they do not collect them).
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return { ...filter, marks: 'false as unread, false as confirm_pending', marksParams: [] };
  return {
    ...filter,
    marks: `not exists (select 1 from announcement_read ar where ar.announcement_id = a.id and ar.parent_id = ?) as unread,
      a.confirmation_requested and not exists (select 1 from announcement_confirmation ac where ac.announcement_id = a.id and ac.parent_id = ?) as confirm_pending`,
    marksParams: [parentId, parentId],
  };
}

export const ANNOUNCEMENT_LIMIT = 50;

/** Announcements an actor may read, newest first: a parent's inbox, or what staff sent and see. */
export async function listAnnouncements(em: EntityManager, actor: Actor): Promise<AnnouncementSummary[]> {
  return (await announcementPage(em, actor, { limit: ANNOUNCEMENT_LIMIT })).items;
}

/** The same, a page at a time for the app: `before` is the previous page's `next`. */
export async function announcementPage(
  em: EntityManager,
  actor: Actor,
  options: { before?: PageCursor; limit?: number } = {},
): Promise<Page<AnnouncementSummary>> {
  const filter = await readable(em, actor);
  if (!filter) return { items: [] };
  const limit = pageLimit(options.limit, 30, ANNOUNCEMENT_LIMIT);
  const after = afterCursor('a.created_at', 'a.id', options.before);
  const rows = (await em.getConnection().execute(
    `select ${COLUMNS}, ${pageTimeSql('a.created_at')} as cursor_at, ${filter.marks} ${FROM}
      where ${filter.sql}${after.sql} order by a.created_at desc, a.id desc limit ?`,
    [...filter.marksParams, ...filter.params, ...after.params, limit + 1],
  )) as (Row & { cursor_at: string })[];
  return toPage(rows, limit, toSummary);
}

/** One announcement, or not found when the actor may not read it. */
export async function announcementView(em: EntityManager, actor: Actor, id: string): Promise<AnnouncementView> {
  const missing = notFound('announcement');
  if (!UUID.test(id)) throw missing;
  const filter = await readable(em, actor);
  if (!filter) throw missing;
  const rows = (await em.getConnection().execute(
    `select ${COLUMNS}, a.body, a.email_copy, ${filter.marks} ${FROM} where a.id = ? and ${filter.sql}`,
    [...filter.marksParams, id, ...filter.params],
  )) as Row[];
  const row = rows[0];
  if (!row) throw missing;
  const attachments = await em.find(MessageAttachment, { announcement: id }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return {
    ...toSummary(row),
    body: row.body ?? '',
    emailCopy: Boolean(row.email_copy),
    attachments: attachments.map((a) => ({ id: a.id, filename: a.filename, contentType: a.contentType, size: a.size })),
  };
}

/** A parent has read an announcement (idempotent); nothing for staff. */
export async function markAnnouncementRead(em: EntityManager, actor: Actor, id: string): Promise<void> {
  await announcementView(em, actor, id);
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return;
  await em.getConnection().execute(
    `insert into announcement_read (announcement_id, parent_id, read_at) values (?, ?, ?)
     on conflict (announcement_id, parent_id) do nothing`,
    [id, parentId, clockOf(em).now()],
  );
}

