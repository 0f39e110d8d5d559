import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Group } from './group.ts';
import { Location } from './location.ts';
import { Parent } from './parent.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

/**
 * Berichten: a conversation (thread) between the parents of one child and that child's group,
 * and announcements (mededelingen) from staff to all parents of a group or a location.
 * Ids of threads, announcements and attachments are random UUIDs: they appear in links and
 * cannot be guessed or counted. Who may read what is decided in core/messages/access.ts.
 */

export const AUTHOR_SIDES = ['parent', 'staff'] as const;
export type AuthorSide = (typeof AUTHOR_SIDES)[number];

/**
 * A conversation about one child with its group. Every guardian of the child reads it; the
 * staff of the group and the location manager answer it. The last message time of each side
 * is kept on the thread, so "unread" is one comparison with the reader's mark.
 */
export const MessageThread = defineEntity({
  name: 'MessageThread',
  tableName: 'message_thread',
  indexes: [
    { properties: ['group', 'lastMessageAt'] },
    { properties: ['child'] },
    // Staff's list of threads waiting for their child (core/messages/thread-child.ts).
    {
      name: 'message_thread_child_review_index',
      expression: 'create index "message_thread_child_review_index" on "message_thread" ("group_id") where "child_review"',
    },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    group: p.manyToOne(Group),
    child: p.manyToOne(Child).deleteRule('cascade'),
    subject: p.string().length(200),
    startedBy: p.manyToOne(Parent).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(stamp),
    lastMessageAt: p.datetime(),
    lastParentMessageAt: p.datetime().nullable(),
    lastStaffMessageAt: p.datetime().nullable(),
    /**
     * Ambiguous: started before a parent had to say which child a thread is about, by a parent
     * with two or more children in the group. Only that parent sees it until staff of the group
     * or an admin assigns the child (core/messages/thread-child.ts). New threads: always false.
     */
    childReview: p.boolean().default(false),
  },
});
export type IMessageThread = InferEntity<typeof MessageThread>;

/**
 * One message in a thread. `authorLabel` is the name as it was when written ("Mia (Boomhut)"),
 * so a removed author still has a name; the author links are for read status and audits.
 */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'message',
  indexes: [{ properties: ['thread', 'createdAt'] }],
  checks: [
    {
      name: 'message_author_side',
      expression: "(author_side = 'parent' and author_staff_id is null) or (author_side = 'staff' and author_parent_id is null)",
    },
  ],
  properties: {
    id: p.bigint('number').primary(),
    thread: p.manyToOne(MessageThread).deleteRule('cascade'),
    authorSide: p.enum(['parent', 'staff'] as AuthorSide[]),
    authorParent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    authorStaff: p.manyToOne(Staff).nullable().deleteRule('set null'),
    authorLabel: p.string().length(200),
    body: p.text(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IMessage = InferEntity<typeof Message>;

/**
 * How far one reader (a parent or a staff member: exactly one is set) has read a thread.
 * A message is read by the other side when one of its readers' marks is at or after it.
 */
export const MessageRead = defineEntity({
  name: 'MessageRead',
  tableName: 'message_read',
  uniques: [{ properties: ['thread', 'parent'] }, { properties: ['thread', 'staff'] }],
  checks: [{ name: 'message_read_one_reader', expression: '(parent_id is null) <> (staff_id is null)' }],
  properties: {
    id: p.bigint('number').primary(),
    thread: p.manyToOne(MessageThread).deleteRule('cascade'),
    parent: p.manyToOne(Parent).nullable().deleteRule('cascade'),
    staff: p.manyToOne(Staff).nullable().deleteRule('cascade'),
    readAt: p.datetime(),
  },
});
export type IMessageRead = InferEntity<typeof MessageRead>;

/**
 * A mededeling to all parents of one group (`group` set) or of a whole location (`group` null).
 * `location` is always set, so both kinds are found with one index.
 */
export const Announcement = defineEntity({
  name: 'Announcement',
  tableName: 'announcement',
  indexes: [{ properties: ['location', 'createdAt'] }, { properties: ['group', 'createdAt'] }],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    location: p.manyToOne(Location).deleteRule('cascade'),
    group: p.manyToOne(Group).nullable().deleteRule('cascade'),
    author: p.manyToOne(Staff).nullable().deleteRule('set null'),
    authorLabel: p.string().length(200),
    subject: p.string().length(200),
    body: p.text(),
    /** A copy by e-mail to every parent it reaches, one mail each, through the job queue. */
    emailCopy: p.boolean().default(false),
    /** Parents are asked to confirm they read it (core/messages/confirmations.ts). */
    confirmationRequested: p.boolean().default(false),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IAnnouncement = InferEntity<typeof Announcement>;

/**
 * What a parent did with an announcement, once per parent (read, confirmed): one row each,
 * gone with the announcement or the parent. The caller adds when it happened.
 */
export const perParentOfAnnouncement = () => ({
  uniques: [{ properties: ['announcement', 'parent'] as ['announcement', 'parent'] }],
  indexes: [{ properties: ['parent'] as ['parent'] }],
  properties: {
    id: p.bigint('number').primary(),
    announcement: p.manyToOne(Announcement).deleteRule('cascade'),
    parent: p.manyToOne(Parent).deleteRule('cascade'),
  },
});

/** A parent has opened an announcement. */
const readMark = perParentOfAnnouncement();
export const AnnouncementRead = defineEntity({
  name: 'AnnouncementRead',
  tableName: 'announcement_read',
  uniques: readMark.uniques,
  indexes: readMark.indexes,
  properties: {
    ...readMark.properties,
    readAt: p.datetime().onCreate(stamp),
  },
});
export type IAnnouncementRead = InferEntity<typeof AnnouncementRead>;

/**
 * A file sent with a message or an announcement (exactly one is set): a PDF or an image,
 * checked by its content. `key` points into the attachment store (content-addressed).
 */
export const MessageAttachment = defineEntity({
  name: 'MessageAttachment',
  tableName: 'message_attachment',
  indexes: [{ properties: ['message'] }, { properties: ['announcement'] }],
  checks: [{ name: 'message_attachment_one_owner', expression: '(message_id is null) <> (announcement_id is null)' }],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    message: p.manyToOne(Message).nullable().deleteRule('cascade'),
    announcement: p.manyToOne(Announcement).nullable().deleteRule('cascade'),
    key: p.string().length(64),
    filename: p.string().length(200),
    contentType: p.string().length(100),
    size: p.integer(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IMessageAttachment = InferEntity<typeof MessageAttachment>;
