import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { PortalConfig } from '../../config/schema.ts';
import { authorize, can, parentIdOf, permittedActions, scopeFilter, scopeOf, sideOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { currentPlacement, idsInScope } from '../authorization.ts';
import { Child, Placement } from '../entities/child.ts';
import { Group } from '../entities/group.ts';
import {
  type AuthorSide,
  type IMessageThread,
  Message,
  MessageAttachment,
  MessageRead,
  MessageThread,
} from '../entities/message.ts';
import { Guardianship, Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError, type ErrorDetail, isDomainError, notFound } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { afterCursor, type Page, type PageCursor, pageLimit, pageTimeSql, toPage } from '../paging.ts';
import { fullName } from '../people.ts';
import type { PhotoStore } from '../photos/store.ts';
import { parseInput, text } from '../validation.ts';
import {
  markRead,
  staffGroupScope,
} from './access.ts';
import { type AttachmentUpload, type PreparedAttachment, prepareAttachment, storeAttachment } from './attachments.ts';
import { clockOf } from '../clock.ts';

/**
 * Threads: a parent writes to the group of one of their children; the staff of that group and
 * the location manager read the group's inbox (unread first) and reply; both sides see whether
 * the other side has read what they wrote.
 */

/** What the message use cases need of the portal (structural, like MailContext). */
export interface MessageContext {
  config: Readonly<PortalConfig>;
  attachments: PhotoStore;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

export const MAX_BODY = 10_000;
export const MAX_SUBJECT = 200;

const bodySchema = text(MAX_BODY, 'body');
const startSchema = z.object({ subject: text(MAX_SUBJECT, 'subject'), body: bodySchema });

export interface AttachmentView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface WritableGroup {
  groupId: number;
  groupName: string;
  locationName: string;
  /** The location's phone number for urgent matters. */
  phone: string | null;
  /** When staff read messages (HH:MM). */
  messagesReadAt: string;
  /** The parent's children in this group, by first name. */
  children: string[];
  /** The same children to choose from (`childId` of a new thread): needed when there are two or more. */
  childOptions: ThreadChildChoice[];
}

/** A child a parent may start a thread about. */
export interface ThreadChildChoice {
  id: number;
  firstName: string;
  /** Full name ("Sam de Vries"). */
  name: string;
}

/**
 * The parent's own children placed today in a (not removed) group: the children a new thread
 * there can be about, by first name. Empty for anyone else, a suspended parent, or a group
 * without a child of theirs.
 */
export async function threadChildChoices(em: EntityManager, actor: Actor, groupId: number): Promise<ThreadChildChoice[]> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined || !(await can(em, actor, 'thread.start', groupId))) return [];
  const links = await em.find(Guardianship, { parent: parentId });
  if (links.length === 0) return [];
  const placements = await em.find(
    Placement,
    { child: { $in: links.map((l) => l.child.id) }, group: { id: groupId, archivedAt: null }, ...currentPlacement(clockOf(em).today()) },
    { populate: ['child'], orderBy: { child: { firstName: 'asc', id: 'asc' } } },
  );
  const choices: ThreadChildChoice[] = [];
  for (const p of placements) {
    if (!choices.some((c) => c.id === p.child.id)) choices.push({ id: p.child.id, firstName: p.child.firstName, name: fullName(p.child) });
  }
  return choices;
}

/** The groups a parent may write to: those where one of their children is placed today. */
export async function writableGroups(em: EntityManager, actor: Actor): Promise<WritableGroup[]> {
  const parentId = parentIdOf(actor);
  const groups = await idsInScope(em, actor, 'thread.start');
  if (parentId === undefined || groups === 'all' || groups.length === 0) return [];
  const links = await em.find(Guardianship, { parent: parentId });
  if (links.length === 0) return [];
  const placements = await em.find(
    Placement,
    { child: { $in: links.map((l) => l.child.id) }, group: { id: { $in: groups } }, ...currentPlacement(clockOf(em).today()) },
    { populate: ['child', 'group', 'group.location'], orderBy: { child: { firstName: 'asc', id: 'asc' } } },
  );
  const byGroup = new Map<number, WritableGroup>();
  for (const p of placements) {
    const g = p.group;
    const entry = byGroup.get(g.id) ?? {
      groupId: g.id,
      groupName: g.name,
      locationName: g.location.name,
      phone: g.location.phone ?? null,
      messagesReadAt: g.location.messagesReadAt,
      children: [],
      childOptions: [],
    };
    if (!entry.childOptions.some((c) => c.id === p.child.id)) {
      entry.childOptions.push({ id: p.child.id, firstName: p.child.firstName, name: fullName(p.child) });
      entry.children.push(p.child.firstName);
    }
    byGroup.set(g.id, entry);
  }
  return [...byGroup.values()].sort((a, b) => a.groupName.localeCompare(b.groupName, 'nl'));
}

async function prepared(ctx: MessageContext, upload: AttachmentUpload | undefined): Promise<PreparedAttachment | undefined> {
  if (!upload || upload.data.byteLength === 0) return undefined;
  return await prepareAttachment(upload, {
    maxBytes: ctx.config.messages.maxAttachmentBytes,
    maxPixels: ctx.config.photos.maxPixels,
  });
}

/**
 * Loads a thread for an actor, or throws not found: for reading, a parent must be a guardian of
 * its child; for writing, that child must also be placed in the thread's group today. Staff,
 * managers and admins need the thread's group in their scope.
 */
export async function threadForActor(em: EntityManager, actor: Actor, threadId: string, mode: 'read' | 'write'): Promise<IMessageThread> {
  await authorize(em, actor, mode === 'read' ? 'thread.read' : 'thread.reply', threadId, 'thread');
  const thread = await em.findOne(MessageThread, { id: threadId }, { populate: ['group', 'group.location', 'child'] });
  if (!thread) throw notFound('thread');
  return thread;
}

interface Author {
  side: AuthorSide;
  parent: number | null;
  staff: number | null;
  label: string;
}

async function authorOf(em: EntityManager, actor: Actor): Promise<Author> {
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) {
    const parent = await em.findOneOrFail(Parent, { id: parentId });
    return { side: 'parent', parent: parent.id, staff: null, label: fullName(parent) };
  }
  const staffId = staffIdOf(actor);
  if (staffId === undefined) throw notFound('thread');
  const staff = await em.findOneOrFail(Staff, { id: staffId });
  return { side: 'staff', parent: null, staff: staff.id, label: fullName(staff) };
}

/** Adds a message (and its attachment) to a thread in the caller's transaction; moves the thread's clocks and the author's mark. */
async function addMessage(
  tx: EntityManager,
  thread: IMessageThread,
  author: Author,
  body: string,
  attachment: { prepared: PreparedAttachment; key: string } | undefined,
): Promise<void> {
  const message = tx.create(Message, {
    thread,
    authorSide: author.side,
    authorParent: author.parent === null ? null : tx.getReference(Parent, author.parent),
    authorStaff: author.staff === null ? null : tx.getReference(Staff, author.staff),
    authorLabel: author.label,
    body,
  });
  await tx.flush();
  const at = message.createdAt;
  if (attachment) {
    tx.create(MessageAttachment, {
      message,
      announcement: null,
      key: attachment.key,
      filename: attachment.prepared.filename,
      contentType: attachment.prepared.contentType,
      size: attachment.prepared.data.byteLength,
    });
  }
  thread.lastMessageAt = at;
  if (author.side === 'parent') thread.lastParentMessageAt = at;
  else thread.lastStaffMessageAt = at;
  await tx.flush();
  await markRead(tx, thread.id, author.parent !== null ? { parentId: author.parent } : { staffId: author.staff! }, at);
}

export interface StartThreadInput {
  groupId: number;
  /**
   * The child the thread is about: one of the parent's children placed in the group today. May
   * be left out when the parent has one child there; with two or more it is required.
   */
  childId?: number;
  subject: string;
  body: string;
  attachment?: AttachmentUpload;
}

/** The problem when a parent with two or more children in the group does not say which one. */
export const CHOOSE_CHILD = 'choose the child this message is about: you have more than one child in this group';

/**
 * A parent starts a conversation with the group of one of their children. The thread is about
 * one child (privacy invariant 3), so every guardian of that child reads it: `childId` when
 * given, which must be one of the parent's children placed in the group today, else the only
 * one there. With two or more and no `childId` it is a validation error on `childId`; the portal
 * never guesses. A group or child outside the parent's is "not found", and nothing is written
 * or stored.
 */
export async function startThread(
  em: EntityManager,
  ctx: MessageContext,
  actor: Actor,
  input: StartThreadInput,
): Promise<{ threadId: string }> {
  const missing = notFound('group');
  await authorize(em, actor, 'thread.start', input.groupId, 'group');
  const choices = await threadChildChoices(em, actor, input.groupId);
  if (choices.length === 0) throw missing;
  const problems: ErrorDetail[] = [];
  let childId: number | undefined;
  if (input.childId !== undefined && input.childId !== null) {
    childId = choices.find((c) => c.id === input.childId)?.id;
    if (childId === undefined) throw notFound('child');
  } else if (choices.length === 1) {
    childId = choices[0]!.id;
  } else {
    problems.push({ path: 'childId', message: CHOOSE_CHILD });
  }
  let data: z.output<typeof startSchema> | undefined;
  try {
    data = parseInput(startSchema, { subject: input.subject, body: input.body });
  } catch (err) {
    if (!isDomainError(err) || err.code !== 'validation') throw err;
    problems.push(...err.details);
  }
  if (problems.length > 0 || childId === undefined || !data) {
    throw new DomainError('validation', problems.map((d) => `${d.path}: ${d.message}`).join('; '), problems);
  }
  const file = await prepared(ctx, input.attachment);
  const key = file ? await storeAttachment(ctx.attachments, file) : undefined;
  const author = await authorOf(em, actor);
  return await em.transactional(async (tx) => {
    const thread = tx.create(MessageThread, {
      group: tx.getReference(Group, input.groupId),
      child: tx.getReference(Child, childId),
      subject: data.subject,
      startedBy: tx.getReference(Parent, parentIdOf(actor)!),
      lastMessageAt: clockOf(tx).now(),
      lastParentMessageAt: null,
      lastStaffMessageAt: null,
    });
    await addMessage(tx, thread, author, data.body, file && key ? { prepared: file, key } : undefined);
    return { threadId: thread.id };
  });
}

/** A reply by a guardian (child still in the group) or by staff of the group. */
export async function replyToThread(
  em: EntityManager,
  ctx: MessageContext,
  actor: Actor,
  threadId: string,
  input: { body: string; attachment?: AttachmentUpload },
): Promise<void> {
  await threadForActor(em, actor, threadId, 'write');
  const body = parseInput(bodySchema, input.body);
  const file = await prepared(ctx, input.attachment);
  const key = file ? await storeAttachment(ctx.attachments, file) : undefined;
  const author = await authorOf(em, actor);
  await em.transactional(async (tx) => {
    const thread = await threadForActor(tx, actor, threadId, 'write');
    await addMessage(tx, thread, author, body, file && key ? { prepared: file, key } : undefined);
  });
}

/** Marks a thread as read by this actor (as far as now). */
export async function markThreadRead(em: EntityManager, actor: Actor, threadId: string): Promise<void> {
  const thread = await threadForActor(em, actor, threadId, 'read');
  const parentId = parentIdOf(actor);
  const staffId = staffIdOf(actor);
  const reader = parentId !== undefined ? { parentId } : staffId !== undefined ? { staffId } : undefined;
  if (reader) await markRead(em, thread.id, reader, clockOf(em).now());
}

export interface MessageView {
  id: number;
  side: AuthorSide;
  authorLabel: string;
  body: string;
  createdAt: string;
  /** Written by the viewer's side (the parent's family, or the group's staff). */
  ownSide: boolean;
  /** Someone on the other side has opened the thread since this message. */
  readByOtherSide: boolean;
  attachments: AttachmentView[];
}

export interface ThreadView {
  id: string;
  subject: string;
  group: { id: number; name: string };
  location: { name: string; phone: string | null; messagesReadAt: string };
  childName: string;
  /**
   * The thread awaits its child (see ./thread-child.ts): only the parent who started it, the
   * group's staff and admins see it until one of them assigns the child.
   */
  childReview: boolean;
  messages: MessageView[];
  /** The actor may add a message now. */
  canReply: boolean;
}

/** A thread with its messages, oldest first, for an actor who may read it. */
export async function threadView(em: EntityManager, actor: Actor, threadId: string): Promise<ThreadView> {
  // What the actor may do here, in one query: reading decides the page, replying the form.
  const permitted = await permittedActions(em, actor, 'thread', threadId);
  if (!permitted.has('thread.read')) throw notFound('thread');
  const thread = await em.findOneOrFail(MessageThread, { id: threadId }, { populate: ['group', 'group.location', 'child'] });
  const canReply = permitted.has('thread.reply');
  const messages = await em.find(Message, { thread: thread.id }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  const attachments = messages.length
    ? await em.find(MessageAttachment, { message: { $in: messages.map((m) => m.id) } }, { orderBy: { createdAt: 'asc', id: 'asc' } })
    : [];
  const marks = await em.find(MessageRead, { thread: thread.id });
  const lastRead = (side: AuthorSide) =>
    Math.max(-Infinity, ...marks.filter((m) => (side === 'parent' ? m.parent : m.staff)).map((m) => m.readAt.getTime()));
  const read = { parent: lastRead('parent'), staff: lastRead('staff') };
  const viewerSide: AuthorSide = sideOf(actor);
  return {
    id: thread.id,
    subject: thread.subject,
    group: { id: thread.group.id, name: thread.group.name },
    location: {
      name: thread.group.location.name,
      phone: thread.group.location.phone ?? null,
      messagesReadAt: thread.group.location.messagesReadAt,
    },
    childName: fullName(thread.child),
    childReview: thread.childReview,
    canReply,
    messages: messages.map((m) => ({
      id: m.id,
      side: m.authorSide,
      authorLabel: m.authorLabel,
      body: m.body,
      createdAt: m.createdAt.toISOString(),
      ownSide: m.authorSide === viewerSide,
      readByOtherSide: read[m.authorSide === 'parent' ? 'staff' : 'parent'] >= m.createdAt.getTime(),
      attachments: attachments
        .filter((a) => a.message?.id === m.id)
        .map((a) => ({ id: a.id, filename: a.filename, contentType: a.contentType, size: a.size })),
    })),
  };
}

export interface ThreadSummary {
  id: string;
  subject: string;
  groupName: string;
  childName: string;
  lastMessageAt: string;
  messages: number;
  unread: boolean;
}

interface SummaryRow {
  id: string;
  subject: string;
  group_name: string;
  first_name: string;
  infix: string | null;
  last_name: string;
  last_message_at: string | Date;
  messages: string | number;
  unread: boolean;
}

const toSummary = (r: SummaryRow): ThreadSummary => ({
  id: r.id,
  subject: r.subject,
  groupName: r.group_name,
  childName: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }),
  lastMessageAt: new Date(r.last_message_at).toISOString(),
  messages: Number(r.messages),
  unread: r.unread,
});

const SUMMARY_COLUMNS = `t.id, t.subject, g.name as group_name, c.first_name, c.infix, c.last_name, t.last_message_at,
  (select count(*) from message m where m.thread_id = t.id) as messages`;

export const INBOX_LIMIT = 100;

/** A group's inbox for its staff, the location manager or an admin: unread first, then newest. */
export async function groupInbox(em: EntityManager, actor: Actor, groupId: number): Promise<ThreadSummary[]> {
  await authorize(em, actor, 'group.messages.read', groupId, 'group');
  const rows = (await em.getConnection().execute(
    `select ${SUMMARY_COLUMNS},
       coalesce(t.last_parent_message_at > coalesce(r.read_at, '-infinity'), false) as unread
       from message_thread t
       join care_group g on g.id = t.group_id
       join child c on c.id = t.child_id
       left join message_read r on r.thread_id = t.id and r.staff_id = ?
      where t.group_id = ?
      order by unread desc, t.last_message_at desc, t.id desc
      limit ?`,
    [staffIdOf(actor) ?? 0, groupId, INBOX_LIMIT],
  )) as SummaryRow[];
  return rows.map(toSummary);
}

export interface StaffGroup {
  id: number;
  name: string;
  locationId: number;
  locationName: string;
  unread: number;
}

/** The groups whose inbox the actor reads, with their unread threads (group picker). */
export async function inboxGroups(em: EntityManager, actor: Actor): Promise<StaffGroup[]> {
  const scope = await staffGroupScope(em, actor);
  if (scope !== 'all' && scope.length === 0) return [];
  const rows = (await em.getConnection().execute(
    `select g.id, g.name, l.id as location_id, l.name as location_name,
       (select count(*) from message_thread t
          left join message_read r on r.thread_id = t.id and r.staff_id = ?
         where t.group_id = g.id and t.last_parent_message_at > coalesce(r.read_at, '-infinity')) as unread
       from care_group g join location l on l.id = g.location_id
      where g.archived_at is null ${scope === 'all' ? '' : 'and g.id in (?)'}
      order by l.name, g.name`,
    scope === 'all' ? [staffIdOf(actor) ?? 0] : [staffIdOf(actor) ?? 0, scope],
  )) as { id: number; name: string; location_id: number; location_name: string; unread: string | number }[];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    locationId: r.location_id,
    locationName: r.location_name,
    unread: Number(r.unread),
  }));
}

/** A parent's threads: about any of their children, newest first, with unread marked (the inbox page). */
export async function parentThreads(em: EntityManager, actor: Actor): Promise<ThreadSummary[]> {
  return (await parentThreadPage(em, actor, { limit: INBOX_LIMIT })).items;
}

/**
 * The same, a page at a time for the app: `before` is the previous page's `next`. A thread that
 * gets a new message moves to the top, where the app's next refresh finds it.
 */
export async function parentThreadPage(
  em: EntityManager,
  actor: Actor,
  options: { before?: PageCursor; limit?: number } = {},
): Promise<Page<ThreadSummary>> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return { items: [] };
  const limit = pageLimit(options.limit, 30, INBOX_LIMIT);
  const after = afterCursor('t.last_message_at', 't.id', options.before);
  const readable = scopeFilter(scopeOf(em, actor, 'thread.read'), 't.id');
  const rows = (await em.getConnection().execute(
    `select ${SUMMARY_COLUMNS}, ${pageTimeSql('t.last_message_at')} as cursor_at,
       coalesce(t.last_staff_message_at > coalesce(r.read_at, '-infinity'), false) as unread
       from message_thread t
       join care_group g on g.id = t.group_id
       join child c on c.id = t.child_id
       left join message_read r on r.thread_id = t.id and r.parent_id = ?
      where ${readable.sql}${after.sql}
      order by t.last_message_at desc, t.id desc
      limit ?`,
    [parentId, ...readable.params, ...after.params, limit + 1],
  )) as (SummaryRow & { cursor_at: string })[];
  return toPage(rows, limit, toSummary);
}
