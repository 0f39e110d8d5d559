import { sideOf } from '../../core/access/index.ts';
import type { Context, Hono } from 'hono';
import type { PhotoStore } from '../../core/photos/store.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Actor } from '../../core/actor.ts';
import { isDomainError } from '../../core/errors.ts';
import {
  type AnnouncementSummary,
  announcementTargets,
  announcementView,
  listAnnouncements,
  markAnnouncementRead,
  sendAnnouncement,
} from '../../core/messages/announcements.ts';
import { AttachmentRejectedError, type AttachmentUpload, contentDisposition } from '../../core/messages/attachments.ts';
import { type AttachmentFile, attachmentForActor } from '../../core/messages/downloads.ts';
import { messageHtml } from '../../core/messages/format.ts';
import {
  groupInbox,
  inboxGroups,
  markThreadRead,
  parentThreads,
  replyToThread,
  startThread,
  type ThreadSummary,
  type ThreadView,
  threadChildChoices,
  threadView,
  writableGroups,
} from '../../core/messages/threads.ts';
import { assignThreadChild, threadChildCandidates } from '../../core/messages/thread-child.ts';
import type { Portal } from '../../core/portal.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { isHtmx, seeOther } from '../forms.ts';
import type { Pages } from '../render.ts';
import { dayHeading } from './photos.ts';
import { confirmationBox } from './confirmations.ts';

/**
 * Berichten: the parent's inbox (threads with the group, announcements), writing to a group,
 * the staff inbox per group, replies (swapped in place by htmx, POST-redirect-GET without it),
 * announcements, and attachments. Every decision about who may read or write is core's
 * (core/messages); a refusal is "not found" like an id that does not exist.
 */

export const MESSAGES_PATH = '/berichten';
const FILE_FIELD = 'bijlage';
/** Form fields are a few kilobytes; a message body may be up to 10,000 characters. */
const MAX_FIELD = 12_000;

const timeFormat = new Intl.DateTimeFormat('nl-NL', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam' });

/** "5 MB", "320 kB": attachment sizes as people read them. */
export function formatSize(bytes: number, lang: 'nl' | 'en'): string {
  const number = (n: number) => n.toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { maximumFractionDigits: 1 });
  if (bytes >= 1024 * 1024) return `${number(bytes / (1024 * 1024))} MB`;
  return `${number(Math.max(1, Math.round(bytes / 1024)))} kB`;
}

interface Posted {
  fields: Record<string, string>;
  attachment?: AttachmentUpload;
}

/** The text fields and the one optional file of a (multipart) form. */
async function readPosted(c: Context<AuthedEnv>): Promise<Posted> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[key] = value.slice(0, MAX_FIELD);
  }
  const file = body[FILE_FIELD];
  if (file instanceof File && file.size > 0) {
    return { fields, attachment: { filename: file.name, data: new Uint8Array(await file.arrayBuffer()) } };
  }
  return { fields };
}

/** Validation problems of a form, as text keyed by field, for the template; rethrows anything else. */
function formErrors(c: Context<AuthedEnv>, err: unknown, maxBytes: number): Record<string, string> {
  if (err instanceof AttachmentRejectedError) {
    return { attachment: c.var.t(`messages.error.attachment.${err.reason}`, { size: formatSize(maxBytes, c.var.lang) }) };
  }
  if (!isDomainError(err) || err.code !== 'validation') throw err;
  const errors: Record<string, string> = {};
  for (const d of err.details) {
    const field = d.path === 'childId' ? 'child' : d.path === 'subject' || d.path === 'body' ? d.path : 'body';
    errors[field] = c.var.t(`messages.error.${field}`);
  }
  return errors;
}

/**
 * An attachment the actor may read (core decided), as a download: never shown inline and never
 * cached, sniffing off. The page route and the app API both answer with this.
 */
export async function attachmentResponse(c: Context, store: Pick<PhotoStore, 'get'>, file: AttachmentFile): Promise<Response> {
  const data = await store.get(file.key);
  return c.body(new Uint8Array(data), 200, {
    'Content-Type': file.contentType,
    'Content-Disposition': contentDisposition(file.filename),
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
  });
}

export function messageRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages; secure: boolean }): void {
  const { portal, pages, secure } = deps;
  const actorOf = (c: Context<AuthedEnv>): Actor => c.var.actor;
  const maxBytes = portal.config.messages.maxAttachmentBytes;
  /** "vandaag 12:03", "maandag 24 november 09:15" (the day in lower case inside a line, as Dutch writes it). */
  const when = (c: Context<AuthedEnv>, iso: string) => {
    const day = dayHeading(c, iso);
    return `${c.var.lang === 'nl' ? day.charAt(0).toLowerCase() + day.slice(1) : day} ${timeFormat.format(new Date(iso))}`;
  };
  const sizeOf = (c: Context<AuthedEnv>, bytes: number) => formatSize(bytes, c.var.lang);
  const threadItems = (c: Context<AuthedEnv>, threads: ThreadSummary[]) => threads.map((t) => ({ ...t, when: when(c, t.lastMessageAt) }));
  const announcementItems = (c: Context<AuthedEnv>, list: AnnouncementSummary[]) => list.map((a) => ({ ...a, when: when(c, a.createdAt) }));


  app.get(MESSAGES_PATH, async (c) => {
    const actor = actorOf(c);
    const em = c.var.em;
    if (sideOf(actor) === 'parent') {
      return pages.render(c, 'pages/messages', {
        threads: threadItems(c, await parentThreads(em, actor)),
        announcements: announcementItems(c, await listAnnouncements(em, actor)),
        canWrite: (await writableGroups(em, actor)).length > 0,
      });
    }
    const targets = await announcementTargets(em, actor);
    return pages.render(c, 'pages/messages-staff', {
      groups: await inboxGroups(em, actor),
      canAnnounce: targets.groups.length + targets.locations.length > 0,
      announcements: announcementItems(c, await listAnnouncements(em, actor)),
    });
  });

  // --- A parent writes to a group --------------------------------------------------------------

  const composePage = async (
    c: Context<AuthedEnv>,
    values: Record<string, string> = {},
    errors: Record<string, string> = {},
    status: ContentfulStatusCode = 200,
  ) => {
    const groups = await writableGroups(c.var.em, actorOf(c));
    const chosen = groups.find((g) => String(g.groupId) === values['groep']) ?? groups[0];
    return pages.render(
      c,
      'pages/message-new',
      { groups, chosen, values, errors, maxSize: sizeOf(c, maxBytes) },
      status,
    );
  };

  app.get(`${MESSAGES_PATH}/nieuw`, async (c) => {
    if (sideOf(actorOf(c)) !== 'parent') return c.redirect(MESSAGES_PATH, 303);
    return await composePage(c, { groep: c.req.query('groep') ?? '' });
  });

  app.post(`${MESSAGES_PATH}/nieuw`, async (c) => {
    const { fields, attachment } = await readPosted(c);
    const groupId = Number(fields['groep']);
    // The child the message is about (radio `kind`). A choice that is not one of the parent's
    // children in the posted group (left from another group, changed without JavaScript) counts
    // as no choice: core then takes the only child there, or asks again.
    const posted = Number(fields['kind']);
    const childId = (await threadChildChoices(c.var.em, actorOf(c), groupId)).some((k) => k.id === posted) ? posted : undefined;
    let threadId: string;
    try {
      ({ threadId } = await startThread(c.var.em, portal, actorOf(c), {
        groupId,
        childId,
        subject: fields['onderwerp'] ?? '',
        body: fields['bericht'] ?? '',
        attachment,
      }));
    } catch (err) {
      return await composePage(c, fields, formErrors(c, err, maxBytes), 422);
    }
    setFlash(c, 'message_sent', secure);
    return seeOther(c, `${MESSAGES_PATH}/gesprek/${threadId}`);
  });

  // --- Staff: the inbox of one group -----------------------------------------------------------

  app.get(`${MESSAGES_PATH}/groep/:groupId`, async (c) => {
    const actor = actorOf(c);
    const groupId = Number(c.req.param('groupId'));
    const threads = await groupInbox(c.var.em, actor, groupId);
    const group = (await inboxGroups(c.var.em, actor)).find((g) => g.id === groupId);
    return pages.render(c, 'pages/messages-group', {
      group,
      threads: threadItems(c, threads),
    });
  });

  // --- A thread --------------------------------------------------------------------------------

  const threadData = (c: Context<AuthedEnv>, thread: ThreadView) => ({
    thread: {
      ...thread,
      messages: thread.messages.map((m) => ({
        ...m,
        html: messageHtml(m.body),
        when: when(c, m.createdAt),
        attachments: m.attachments.map((a) => ({ ...a, sizeText: sizeOf(c, a.size) })),
      })),
    },
    parent: sideOf(actorOf(c)) === 'parent',
    maxSize: sizeOf(c, maxBytes),
  });

  app.get(`${MESSAGES_PATH}/gesprek/:id`, async (c) => {
    const actor = actorOf(c);
    const id = c.req.param('id');
    const thread = await threadView(c.var.em, actor, id);
    await markThreadRead(c.var.em, actor, id);
    // Staff of the group (or an admin) assign the child of a thread that awaits it.
    const candidates = await threadChildCandidates(c.var.em, actor, id);
    return pages.render(c, 'pages/message-thread', { ...threadData(c, thread), candidates, values: {}, errors: {} });
  });

  app.post(`${MESSAGES_PATH}/gesprek/:id/kind`, async (c) => {
    const id = c.req.param('id');
    const { fields } = await readPosted(c);
    await assignThreadChild(c.var.em, actorOf(c), id, fields['kind'] ?? '');
    return seeOther(c, `${MESSAGES_PATH}/gesprek/${id}`);
  });

  app.post(`${MESSAGES_PATH}/gesprek/:id`, async (c) => {
    const actor = actorOf(c);
    const id = c.req.param('id');
    // Refused before the form is looked at: a thread the actor may not read is not found.
    await threadView(c.var.em, actor, id);
    const { fields, attachment } = await readPosted(c);
    let errors: Record<string, string> = {};
    try {
      await replyToThread(c.var.em, portal, actor, id, { body: fields['bericht'] ?? '', attachment });
    } catch (err) {
      errors = formErrors(c, err, maxBytes);
    }
    const failed = Object.keys(errors).length > 0;
    if (!failed && !isHtmx(c)) {
      setFlash(c, 'message_sent', secure);
      return c.redirect(`${MESSAGES_PATH}/gesprek/${id}#antwoord`, 303);
    }
    const thread = await threadView(c.var.em, actor, id);
    const data = { ...threadData(c, thread), values: failed ? fields : {}, errors, sent: !failed };
    if (isHtmx(c)) return pages.render(c, 'partials/message-thread', data, failed ? 422 : 200);
    return pages.render(c, 'pages/message-thread', data, 422);
  });

  app.post(`${MESSAGES_PATH}/gesprek/:id/gelezen`, async (c) => {
    const actor = actorOf(c);
    const id = c.req.param('id');
    const thread = await threadView(c.var.em, actor, id);
    await markThreadRead(c.var.em, actor, id);
    setFlash(c, 'marked_read', secure);
    return seeOther(c, sideOf(actor) === 'parent' ? MESSAGES_PATH : `${MESSAGES_PATH}/groep/${thread.group.id}`);
  });

  // --- Announcements ---------------------------------------------------------------------------

  const announcementForm = async (
    c: Context<AuthedEnv>,
    values: Record<string, string> = {},
    errors: Record<string, string> = {},
    status: ContentfulStatusCode = 200,
  ) => {
    const targets = await announcementTargets(c.var.em, actorOf(c));
    return pages.render(
      c,
      'pages/announcement-new',
      { targets, values, errors, maxSize: sizeOf(c, maxBytes) },
      status,
    );
  };

  app.get(`${MESSAGES_PATH}/mededeling/nieuw`, async (c) => {
    if (sideOf(actorOf(c)) === 'parent') return c.redirect(MESSAGES_PATH, 303);
    return await announcementForm(c, { aan: c.req.query('aan') ?? '' });
  });

  app.post(`${MESSAGES_PATH}/mededeling/nieuw`, async (c) => {
    const { fields, attachment } = await readPosted(c);
    const [kind, rawId] = (fields['aan'] ?? '').split(':');
    const target = kind === 'groep' ? { groupId: Number(rawId) } : kind === 'vestiging' ? { locationId: Number(rawId) } : undefined;
    if (!target) return await announcementForm(c, fields, { target: c.var.t('messages.error.target') }, 422);
    let announcementId: string;
    try {
      ({ announcementId } = await sendAnnouncement(c.var.em, portal, actorOf(c), {
        ...target,
        subject: fields['onderwerp'] ?? '',
        body: fields['bericht'] ?? '',
        emailCopy: fields['email'] === 'ja',
        confirmationRequested: fields['bevestigen'] === 'ja',
        attachment,
      }));
    } catch (err) {
      return await announcementForm(c, fields, formErrors(c, err, maxBytes), 422);
    }
    setFlash(c, 'announcement_sent', secure);
    return seeOther(c, `${MESSAGES_PATH}/mededeling/${announcementId}`);
  });

  app.get(`${MESSAGES_PATH}/mededeling/:id`, async (c) => {
    const actor = actorOf(c);
    const id = c.req.param('id');
    const a = await announcementView(c.var.em, actor, id);
    await markAnnouncementRead(c.var.em, actor, id);
    return pages.render(c, 'pages/announcement', {
      confirmation: await confirmationBox(c, id),
      announcement: {
        ...a,
        html: messageHtml(a.body),
        when: when(c, a.createdAt),
        attachments: a.attachments.map((x) => ({ ...x, sizeText: sizeOf(c, x.size) })),
      },
    });
  });

  // --- Attachments -----------------------------------------------------------------------------

  app.get(`${MESSAGES_PATH}/bijlage/:id`, async (c) =>
    attachmentResponse(c, portal.attachments, await attachmentForActor(c.var.em, actorOf(c), c.req.param('id'))),
  );
}
