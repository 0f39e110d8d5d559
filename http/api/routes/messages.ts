import { createRoute, z } from '@hono/zod-openapi';
import { announcementPage, announcementView, markAnnouncementRead } from '../../../core/messages/announcements.ts';
import { confirmAnnouncement } from '../../../core/messages/confirmations.ts';
import type { AttachmentUpload } from '../../../core/messages/attachments.ts';
import { attachmentForActor } from '../../../core/messages/downloads.ts';
import { invalid } from '../../../core/errors.ts';
import {
  MAX_BODY,
  MAX_SUBJECT,
  markThreadRead,
  parentThreadPage,
  replyToThread,
  startThread,
  threadView,
  writableGroups,
} from '../../../core/messages/threads.ts';
import { attachmentResponse } from '../../routes/messages.ts';
import type { ApiModule } from '../deps.ts';
import { errors, IdParam, json, PageQuery, page, pageBody, pageQuery } from '../schemas.ts';

/**
 * Message threads with the group and the announcements: the core use cases of /berichten.
 * A message may carry one attachment (multipart/form-data), as on the website. Threads and
 * announcements page by cursor (core/paging.ts); a thread's messages come whole.
 */

const Attachment = z.object({ id: z.string(), filename: z.string(), contentType: z.string(), size: z.number().int() });

const ThreadSummary = z
  .object({
    id: z.string(),
    subject: z.string(),
    groupName: z.string(),
    childName: z.string(),
    lastMessageAt: z.string(),
    messages: z.number().int(),
    unread: z.boolean(),
  })
  .openapi('ThreadSummary');

const Thread = z
  .object({
    id: z.string(),
    subject: z.string(),
    group: z.object({ id: z.number().int(), name: z.string() }),
    location: z.object({ name: z.string(), phone: z.string().nullable(), messagesReadAt: z.string() }),
    childName: z.string(),
    childReview: z.boolean().openapi({ description: 'Awaiting its child: only the parent who started it sees it until staff assign the child' }),
    canReply: z.boolean(),
    messages: z.array(
      z.object({
        id: z.number().int(),
        side: z.enum(['parent', 'staff']),
        authorLabel: z.string(),
        body: z.string(),
        createdAt: z.string(),
        ownSide: z.boolean(),
        readByOtherSide: z.boolean(),
        attachments: z.array(Attachment),
      }),
    ),
  })
  .openapi('Thread');

const WritableGroup = z
  .object({
    groupId: z.number().int(),
    groupName: z.string(),
    locationName: z.string(),
    phone: z.string().nullable(),
    messagesReadAt: z.string(),
    children: z.array(z.string()),
    childOptions: z
      .array(z.object({ id: z.number().int(), firstName: z.string(), name: z.string() }))
      .openapi({ description: 'My children in this group: the `childId` of a new thread (required when there are two or more)' }),
  })
  .openapi('WritableGroup');

const Announcement = z
  .object({
    id: z.string(),
    subject: z.string(),
    groupName: z.string().nullable(),
    locationName: z.string(),
    authorLabel: z.string(),
    createdAt: z.string(),
    unread: z.boolean(),
    confirmationRequested: z.boolean().openapi({ description: 'The announcement asks its parents to confirm they read it' }),
    confirmPending: z.boolean().openapi({ description: 'It asks, and I have not confirmed yet: show "please confirm" until POST /announcements/{id}/confirmation' }),
  })
  .openapi('AnnouncementSummary');

const AnnouncementDetail = Announcement.extend({ body: z.string(), emailCopy: z.boolean(), attachments: z.array(Attachment) }).openapi('Announcement');

const threads = createRoute({
  method: 'get',
  path: '/threads',
  operationId: 'listThreads',
  tags: ['Messages'],
  summary: 'My message threads, newest first (a thread with a new message moves to the top), by cursor',
  request: { query: PageQuery },
  responses: { 200: json(page(ThreadSummary, 'ThreadList'), 'My threads'), ...errors(422) },
});

const groups = createRoute({
  method: 'get',
  path: '/message-groups',
  operationId: 'listMessageGroups',
  tags: ['Messages'],
  summary: 'The groups I may start a thread with (where one of my children is today)',
  responses: { 200: json(z.object({ items: z.array(WritableGroup) }).openapi('WritableGroups'), 'Groups'), ...errors() },
});

const thread = createRoute({
  method: 'get',
  path: '/threads/{id}',
  operationId: 'getThread',
  tags: ['Messages'],
  summary: 'One thread with its messages, oldest first (marks it read)',
  request: { params: IdParam },
  responses: { 200: json(Thread, 'The thread'), ...errors(404) },
});

/** A file part of a multipart body (the OpenAPI document shows it as binary). */
const FilePart = z.custom<File>((v) => v instanceof File, 'expected a file').openapi({ type: 'string', format: 'binary' });
const ATTACHMENT_NOTE =
  'Send JSON, or multipart/form-data with the same fields plus an optional `attachment` (one PDF, JPEG, PNG or WebP up to messages.maxAttachmentBytes; refused as 422 with details[0].path "attachment").';

const NewThreadFields = {
  groupId: z.number().int().positive(),
  childId: z
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ description: 'The child the thread is about (`childOptions[].id` of GET /message-groups); required with two or more of my children in the group' }),
  subject: z.string().min(1).max(MAX_SUBJECT),
  body: z.string().min(1).max(MAX_BODY),
};
const NewMessageFields = { body: z.string().min(1).max(MAX_BODY) };

const start = createRoute({
  method: 'post',
  path: '/threads',
  operationId: 'startThread',
  tags: ['Messages'],
  summary: 'Start a thread with the group of one of my children',
  description: `A thread is about exactly one child: every parent of that child reads it. \`childId\` names the child, one of my children placed in the group today (\`childOptions\` of GET /message-groups; another child is 404). It may be left out when I have one child in the group; with two or more and no \`childId\` the answer is 422 with details[0].path "childId" (the portal never guesses). ${ATTACHMENT_NOTE}`,
  request: {
    body: {
      content: {
        'application/json': { schema: z.object(NewThreadFields).openapi('NewThread') },
        'multipart/form-data': {
          schema: z
            .object({ ...NewThreadFields, groupId: z.coerce.number().int().positive(), childId: z.coerce.number().int().positive().optional(), attachment: FilePart.optional() })
            .openapi('NewThreadWithAttachment'),
        },
      },
      // Each schema is checked when its content type is sent (see postedFields); none is a 422.
      required: false,
    },
  },
  responses: { 201: json(Thread, 'The new thread'), ...errors(404, 422) },
});

const reply = createRoute({
  method: 'post',
  path: '/threads/{id}/messages',
  operationId: 'replyToThread',
  tags: ['Messages'],
  summary: 'Add a message to a thread',
  description: ATTACHMENT_NOTE,
  request: {
    params: IdParam,
    body: {
      content: {
        'application/json': { schema: z.object(NewMessageFields).openapi('NewMessage') },
        'multipart/form-data': { schema: z.object({ ...NewMessageFields, attachment: FilePart.optional() }).openapi('NewMessageWithAttachment') },
      },
      required: false,
    },
  },
  responses: { 201: json(Thread, 'The thread with the new message'), ...errors(404, 422) },
});

const announcements = createRoute({
  method: 'get',
  path: '/announcements',
  operationId: 'listAnnouncements',
  tags: ['Messages'],
  summary: 'Announcements for my groups and locations, newest first, by cursor',
  request: { query: PageQuery },
  responses: { 200: json(page(Announcement, 'AnnouncementList'), 'Announcements'), ...errors(422) },
});

const announcement = createRoute({
  method: 'get',
  path: '/announcements/{id}',
  operationId: 'getAnnouncement',
  tags: ['Messages'],
  summary: 'One announcement with its text (marks it read)',
  request: { params: IdParam },
  responses: { 200: json(AnnouncementDetail, 'The announcement'), ...errors(404) },
});

const confirm = createRoute({
  method: 'post',
  path: '/announcements/{id}/confirmation',
  operationId: 'confirmAnnouncement',
  tags: ['Messages'],
  summary: 'Confirm I have read an announcement that asks for it ("Gelezen en begrepen"); idempotent, also marks it read',
  request: { params: IdParam },
  responses: {
    200: json(z.object({ confirmedAt: z.string() }).openapi('AnnouncementConfirmation'), 'When I confirmed (the first time counts)'),
    ...errors(404),
  },
});

const attachment = createRoute({
  method: 'get',
  path: '/attachments/{id}',
  operationId: 'getAttachment',
  tags: ['Messages'],
  summary: 'An attachment of a message or announcement I may read (PDF or image)',
  request: { params: IdParam },
  responses: {
    200: { description: 'The file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errors(404),
  },
});

/**
 * The fields of a JSON or a multipart body, each already checked against its own schema by the
 * route's validators (which run only for the content type sent), and the file as core takes it.
 */
async function postedFields<T extends object>(
  c: { req: { header(name: string): string | undefined; valid(target: 'json' | 'form'): unknown } },
): Promise<T & { attachment?: AttachmentUpload }> {
  const type = c.req.header('content-type') ?? '';
  if (/^multipart\/form-data/i.test(type)) {
    const { attachment, ...fields } = c.req.valid('form') as T & { attachment?: File };
    if (!attachment) return fields as T;
    return { ...(fields as T), attachment: { filename: attachment.name, data: new Uint8Array(await attachment.arrayBuffer()) } };
  }
  if (/^application\/json/i.test(type)) return c.req.valid('json') as T;
  throw invalid('body', 'send the message as application/json or multipart/form-data');
}

export const messageRoutes: ApiModule = (api, { portal }) => {
  api.openapi(threads, async (c) =>
    c.json(pageBody(await parentThreadPage(c.var.em, c.var.api.actor, pageQuery(c.req.valid('query')))), 200),
  );

  api.openapi(groups, async (c) => c.json({ items: await writableGroups(c.var.em, c.var.api.actor) }, 200));

  api.openapi(thread, async (c) => {
    const actor = c.var.api.actor;
    const { id } = c.req.valid('param');
    const view = await threadView(c.var.em, actor, id);
    await markThreadRead(c.var.em, actor, id);
    return c.json(view, 200);
  });

  api.openapi(start, async (c) => {
    const actor = c.var.api.actor;
    const { threadId } = await startThread(c.var.em, portal, actor, await postedFields<{ groupId: number; childId?: number; subject: string; body: string }>(c));
    return c.json(await threadView(c.var.em, actor, threadId), 201);
  });

  api.openapi(reply, async (c) => {
    const actor = c.var.api.actor;
    const { id } = c.req.valid('param');
    await replyToThread(c.var.em, portal, actor, id, await postedFields<{ body: string }>(c));
    return c.json(await threadView(c.var.em, actor, id), 201);
  });

  api.openapi(announcements, async (c) =>
    c.json(pageBody(await announcementPage(c.var.em, c.var.api.actor, pageQuery(c.req.valid('query')))), 200),
  );

  api.openapi(announcement, async (c) => {
    const actor = c.var.api.actor;
    const { id } = c.req.valid('param');
    const view = await announcementView(c.var.em, actor, id);
    await markAnnouncementRead(c.var.em, actor, id);
    return c.json(view, 200);
  });

  api.openapi(confirm, async (c) => {
    const { confirmedAt } = await confirmAnnouncement(c.var.em, c.var.api.actor, c.req.valid('param').id);
    return c.json({ confirmedAt }, 200);
  });

  // The same core check and headers as the page's /berichten/bijlage/:id.
  api.openapi(attachment, async (c) => {
    const file = await attachmentForActor(c.var.em, c.var.api.actor, c.req.valid('param').id);
    return (await attachmentResponse(c, portal.attachments, file)) as never;
  });
};
