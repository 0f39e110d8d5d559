import sharp from 'sharp';
import { errorCode } from '../../test/errors.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, type MessageWorld, seedMessageWorld } from '../../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.ts';
import { suspendParent } from '../accounts/suspension.ts';
import { moveChild } from '../directory/children.ts';
import { Announcement, Message, MessageAttachment, MessageThread } from '../entities/message.ts';
import type { DomainError } from '../errors.ts';
import { ANNOUNCEMENT_MAIL_QUEUE, type AnnouncementMailJob, sendAnnouncementMail } from './announcement-mail.ts';
import { announcementView, listAnnouncements, markAnnouncementRead, sendAnnouncement } from './announcements.ts';
import { AttachmentRejectedError, prepareAttachment } from './attachments.ts';
import {
  groupInbox,
  inboxGroups,
  markThreadRead,
  parentThreads,
  replyToThread,
  startThread,
  threadView,
  writableGroups,
} from './threads.ts';
import { unreadCount } from './unread.ts';

/**
 * Messages and announcements in core, mostly from the side of who must be refused: every
 * refusal is "not found" and leaves no row behind.
 */

let portal: TestPortal;
let smtp: SmtpSink;
let w: MessageWorld;

const code = async (p: Promise<unknown>) => (await errorCode(p)) ?? 'ok';

const rows = async () => {
  const em = portal.em();
  return {
    threads: await em.count(MessageThread, {}),
    messages: await em.count(Message, {}),
    announcements: await em.count(Announcement, {}),
    attachments: await em.count(MessageAttachment, {}),
  };
};

const pdf = (text = 'hallo') => Buffer.from(`%PDF-1.4\n1 0 obj << >> endobj\n% ${text}\ntrailer << >>\n%%EOF\n`, 'latin1');

beforeAll(async () => {
  smtp = await startSmtpSink();
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url, 'messages.maxAttachmentBytes': 200_000 });
  w = await seedMessageWorld(portal, { names: { mia: 'Mia <img src=x onerror=alert(1)>' } });
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('threads', () => {
  let threadId: string;

  it('a parent writes to the groups of their own children only; each group shows the noon time and phone', async () => {
    const cor = await writableGroups(portal.em(), w.actors.cor);
    expect(cor.map((g) => g.groupName)).toEqual(['Boomhut', 'Zolder']);
    expect(cor[0]).toMatchObject({ phone: '045 111 22 33', messagesReadAt: '12:30', children: ['Sam'] });
    expect((await writableGroups(portal.em(), w.actors.eva))[0]).toMatchObject({ groupName: 'Vlinder', messagesReadAt: '12:00' });
    expect(await writableGroups(portal.em(), w.actors.mia)).toEqual([]);
  });

  it('posting to a group without a child of the parent is not found, and nothing is written or stored', async () => {
    const before = await rows();
    for (const [who, groupId] of [
      ['anna', w.groups.vlinder],
      ['anna', w.groups.zolder],
      ['eva', w.groups.boomhut],
      ['mia', w.groups.boomhut],
      ['anna', 999_999],
    ] as const) {
      const attempt = startThread(portal.em(), portal, w.actors[who], {
        groupId,
        subject: 'Hallo',
        body: 'Mag dit?',
        attachment: { filename: 'a.pdf', data: pdf(`${who}-${groupId}`) },
      });
      expect(await code(attempt), `${who} → ${groupId}`).toBe('not_found');
    }
    expect(await rows()).toEqual(before);
    const stored: string[] = [];
    for await (const key of portal.attachments.keys()) stored.push(key);
    expect(stored).toEqual([]);
  });

  it('a parent starts a thread; the staff of the group and the manager see it unread, others do not see it', async () => {
    ({ threadId } = await startThread(portal.em(), portal, w.actors.anna, {
      groupId: w.groups.boomhut,
      subject: 'Evi wordt om 15:00 opgehaald',
      body: 'Vandaag haalt oma Evi op.\nZij heeft een rode jas.',
    }));
    expect(await unreadCount(portal.em(), w.actors.mia)).toBe(1);
    expect(await unreadCount(portal.em(), w.actors.hanna)).toBe(1);
    expect(await unreadCount(portal.em(), w.actors.otto)).toBe(0);
    expect(await unreadCount(portal.em(), w.actors.anna)).toBe(0);
    const inbox = await groupInbox(portal.em(), w.actors.mia, w.groups.boomhut);
    expect(inbox).toMatchObject([{ id: threadId, unread: true, childName: 'Evi Jansen', messages: 1 }]);
    expect((await inboxGroups(portal.em(), w.actors.hanna)).map((g) => [g.name, g.unread])).toEqual([
      ['Boomhut', 1],
      ['Zolder', 0],
    ]);
    expect(await code(groupInbox(portal.em(), w.actors.otto, w.groups.boomhut))).toBe('not_found');
    expect(await code(groupInbox(portal.em(), w.actors.anna, w.groups.boomhut))).toBe('not_found');
  });

  it('the other guardian of the child reads the thread; other parents and other staff get not found', async () => {
    expect((await threadView(portal.em(), w.actors.bart, threadId)).messages).toHaveLength(1);
    for (const who of ['cor', 'eva', 'otto'] as const) {
      expect(await code(threadView(portal.em(), w.actors[who], threadId)), who).toBe('not_found');
      expect(await code(markThreadRead(portal.em(), w.actors[who], threadId)), who).toBe('not_found');
      const before = await rows();
      expect(await code(replyToThread(portal.em(), portal, w.actors[who], threadId, { body: 'ik ook' })), who).toBe('not_found');
      expect(await rows(), who).toEqual(before);
    }
    expect(await code(threadView(portal.em(), w.actors.anna, 'niet-een-id'))).toBe('not_found');
    expect(await code(threadView(portal.em(), w.actors.anna, '00000000-0000-4000-8000-000000000000'))).toBe('not_found');
  });

  it('staff read and reply; both sides see read status and the unread counts follow', async () => {
    let view = await threadView(portal.em(), w.actors.anna, threadId);
    expect(view.messages[0]).toMatchObject({ ownSide: true, readByOtherSide: false });
    await markThreadRead(portal.em(), w.actors.mia, threadId);
    expect(await unreadCount(portal.em(), w.actors.mia)).toBe(0);
    // Per reader: the manager has not opened it yet.
    expect(await unreadCount(portal.em(), w.actors.hanna)).toBe(1);
    view = await threadView(portal.em(), w.actors.anna, threadId);
    expect(view.messages[0]!.readByOtherSide).toBe(true);

    // The reply comes after the reading (at one instant, reading wins: see markRead).
    portal.clock.advance({ minutes: 1 });
    await replyToThread(portal.em(), portal, w.actors.mia, threadId, { body: 'Dank u, wij geven het door.' });
    expect(await unreadCount(portal.em(), w.actors.anna)).toBe(1);
    expect(await unreadCount(portal.em(), w.actors.bart)).toBe(1);
    expect(await unreadCount(portal.em(), w.actors.mia)).toBe(0);
    expect((await parentThreads(portal.em(), w.actors.anna))[0]).toMatchObject({ id: threadId, unread: true, messages: 2 });
    const staffView = await threadView(portal.em(), w.actors.mia, threadId);
    expect(staffView.messages[1]).toMatchObject({ side: 'staff', ownSide: true, readByOtherSide: false });
    expect(staffView.messages[1]!.authorLabel).toBe('Mia <img src=x onerror=alert(1)> Werker');

    await markThreadRead(portal.em(), w.actors.anna, threadId);
    expect(await unreadCount(portal.em(), w.actors.anna)).toBe(0);
    expect(await unreadCount(portal.em(), w.actors.bart)).toBe(1);
    expect((await threadView(portal.em(), w.actors.mia, threadId)).messages[1]!.readByOtherSide).toBe(true);
  });

  it('unread threads come first in the group inbox', async () => {
    const { threadId: second } = await startThread(portal.em(), portal, w.actors.cor, {
      groupId: w.groups.boomhut,
      subject: 'Sam is ziek',
      body: 'Sam blijft thuis.',
    });
    await replyToThread(portal.em(), portal, w.actors.anna, threadId, { body: 'Prima!' });
    await markThreadRead(portal.em(), w.actors.mia, threadId);
    const inbox = await groupInbox(portal.em(), w.actors.mia, w.groups.boomhut);
    expect(inbox.map((t) => [t.id, t.unread])).toEqual([
      [second, true],
      [threadId, false],
    ]);
  });

  it('a child moved to another group: the parent still reads the thread but cannot add to it', async () => {
    const { threadId: t } = await startThread(portal.em(), portal, w.actors.eva, { groupId: w.groups.vlinder, subject: 'Vraag', body: 'Hoe ging het?' });
    await moveChild(portal.em(), admin, 'K4', { group: 'Zolder' });
    const view = await threadView(portal.em(), w.actors.eva, t);
    expect(view.canReply).toBe(false);
    expect(await code(replyToThread(portal.em(), portal, w.actors.eva, t, { body: 'nog iets' }))).toBe('not_found');
    expect(await code(startThread(portal.em(), portal, w.actors.eva, { groupId: w.groups.vlinder, subject: 'x', body: 'y' }))).toBe('not_found');
    await moveChild(portal.em(), admin, 'K4', { group: 'Vlinder' });
  });

  it('empty subjects and bodies are refused with the field named', async () => {
    const err = await startThread(portal.em(), portal, w.actors.anna, { groupId: w.groups.boomhut, subject: ' ', body: '' }).catch((e) => e);
    expect((err as DomainError).details.map((d) => d.path).sort()).toEqual(['body', 'subject']);
  });
});

describe('attachments', () => {
  const exifJpeg = async () =>
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'Geheim', Model: 'Serienummer 12345' } })
      .toBuffer();

  it('accepts a PDF by its magic bytes and an image re-encoded without metadata', async () => {
    const doc = await prepareAttachment({ filename: '../../etc/Verklaring "arts".PDF', data: pdf() }, { maxBytes: 10_000 });
    expect(doc).toMatchObject({ contentType: 'application/pdf', filename: 'Verklaring arts.pdf' });
    const original = await exifJpeg();
    expect(original.includes(Buffer.from('Serienummer'))).toBe(true);
    const image = await prepareAttachment({ filename: 'foto.heic', data: original }, { maxBytes: 100_000 });
    expect(image.contentType).toBe('image/jpeg');
    expect(image.filename).toBe('foto.jpg');
    expect(Buffer.from(image.data).includes(Buffer.from('Serienummer'))).toBe(false);
    expect((await sharp(image.data).metadata()).exif).toBeUndefined();
  });

  it('refuses HTML or SVG named .pdf or .jpg, empty files, and files over the limit', async () => {
    const reject = async (filename: string, data: Buffer, maxBytes = 10_000) => {
      const err = await prepareAttachment({ filename, data }, { maxBytes }).catch((e) => e);
      expect(err, filename).toBeInstanceOf(AttachmentRejectedError);
      return (err as AttachmentRejectedError).reason;
    };
    expect(await reject('brief.pdf', Buffer.from('<html><script>alert(1)</script></html>'))).toBe('unsupported');
    expect(await reject('plaatje.jpg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBe(
      'unsupported',
    );
    expect(await reject('leeg.pdf', Buffer.alloc(0))).toBe('corrupt');
    expect(await reject('groot.pdf', pdf('x'.repeat(2000)), 1000)).toBe('too_large');
  });

  it('a message with an attachment keeps the file in the attachment store', async () => {
    const { threadId } = await startThread(portal.em(), portal, w.actors.cor, {
      groupId: w.groups.zolder,
      subject: 'Verklaring',
      body: 'Zie bijlage',
      attachment: { filename: 'verklaring.pdf', data: pdf('verklaring') },
    });
    const view = await threadView(portal.em(), w.actors.hanna, threadId);
    const [attachment] = view.messages[0]!.attachments;
    expect(attachment).toMatchObject({ filename: 'verklaring.pdf', contentType: 'application/pdf' });
    const row = await portal.em().findOneOrFail(MessageAttachment, { id: attachment!.id });
    expect((await portal.attachments.get(row.key)).toString('latin1')).toContain('% verklaring');
  });
});

describe('announcements', () => {
  it('staff address their own groups only; a manager also the location; refusals write nothing', async () => {
    const before = await rows();
    const attempts = [
      ['mia', { groupId: w.groups.zolder }],
      ['mia', { groupId: w.groups.vlinder }],
      ['mia', { locationId: w.locations.centrum }],
      ['otto', { groupId: w.groups.boomhut }],
      ['hanna', { groupId: w.groups.vlinder }],
      ['hanna', { locationId: w.locations.noord }],
      ['anna', { groupId: w.groups.boomhut }],
    ] as const;
    for (const [who, target] of attempts) {
      const attempt = sendAnnouncement(portal.em(), portal, w.actors[who], { ...target, subject: 'Let op', body: 'Tekst', emailCopy: true });
      expect(await code(attempt), `${who} ${JSON.stringify(target)}`).toBe('not_found');
    }
    expect(await rows()).toEqual(before);
    await portal.jobs();
    const jobs = await portal.em().getConnection().execute(`select count(*)::int as n from pgboss.job where name = ?`, [ANNOUNCEMENT_MAIL_QUEUE]);
    expect(jobs[0]!.n).toBe(0);
  });

  it('parents see announcements to their group and their location; unread until opened', async () => {
    const { announcementId: toGroup } = await sendAnnouncement(portal.em(), portal, w.actors.mia, {
      groupId: w.groups.boomhut,
      subject: 'Boomhut: pyjamadag',
      body: 'Vrijdag komen de kinderen in pyjama.',
    });
    portal.clock.advance({ minutes: 1 }); // newest first: the location's comes later
    const { announcementId: toLocation } = await sendAnnouncement(portal.em(), portal, w.actors.hanna, {
      locationId: w.locations.centrum,
      subject: 'Centrum: nieuwe parkeerplaats',
      body: 'Parkeer voortaan achter het gebouw.',
    });
    const subjects = async (who: keyof typeof PEOPLE) => (await listAnnouncements(portal.em(), w.actors[who])).map((a) => a.subject);
    expect(await subjects('anna')).toEqual(['Centrum: nieuwe parkeerplaats', 'Boomhut: pyjamadag']);
    expect(await subjects('cor')).toEqual(['Centrum: nieuwe parkeerplaats', 'Boomhut: pyjamadag']);
    expect(await subjects('eva')).toEqual([]);
    expect(await subjects('otto')).toEqual([]);
    expect(await code(announcementView(portal.em(), w.actors.eva, toGroup))).toBe('not_found');
    expect(await code(announcementView(portal.em(), w.actors.otto, toLocation))).toBe('not_found');
    expect(await code(markAnnouncementRead(portal.em(), w.actors.eva, toLocation))).toBe('not_found');

    const before = await unreadCount(portal.em(), w.actors.cor);
    await markAnnouncementRead(portal.em(), w.actors.cor, toGroup);
    await markAnnouncementRead(portal.em(), w.actors.cor, toGroup);
    expect(await unreadCount(portal.em(), w.actors.cor)).toBe(before - 1);
    expect((await listAnnouncements(portal.em(), w.actors.cor)).map((a) => a.unread)).toEqual([true, false]);
  });

  it('the e-mail copy: one job per parent, sent through SMTP with everything escaped in the HTML part', async () => {
    const { announcementId, mails } = await sendAnnouncement(portal.em(), portal, w.actors.mia, {
      groupId: w.groups.boomhut,
      subject: 'Uitje <script>alert("onderwerp")</script>',
      body: 'Zie https://example.nl/uitje\n<script>alert("tekst")</script>',
      emailCopy: 'ja',
    });
    // Anna, Bart and Cor (Sam): three parents, each once.
    expect(mails).toBe(3);
    const jobs = (await (await portal.jobs()).boss.fetch<AnnouncementMailJob>(ANNOUNCEMENT_MAIL_QUEUE, { batchSize: 10 })) ?? [];
    expect(jobs.map((j) => j.data.announcementId)).toEqual([announcementId, announcementId, announcementId]);
    expect(JSON.stringify(jobs.map((j) => j.data))).not.toMatch(/Uitje|@/);
    for (const job of jobs) expect(await sendAnnouncementMail(portal, job.data)).toBe('sent');
    await expect.poll(() => smtp.messages.length).toBe(3);
    const [mail] = smtp.to(PEOPLE.anna);
    expect(smtp.to(PEOPLE.cor)).toHaveLength(1);
    expect(mail!.subject).toBe('Uitje <script>alert("onderwerp")</script> (Boomhut)');
    const html = String(mail!.html);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;tekst&quot;)&lt;/script&gt;');
    expect(html).toContain('Mia &lt;img src=x onerror=alert(1)&gt; Werker');
    expect(html).toContain('<a href="https://example.nl/uitje" rel="noopener noreferrer nofollow" target="_blank">');
    expect(html).toContain(`https://ouders.example.nl/berichten/mededeling/${announcementId}`);
    expect(mail!.text).toContain('<script>alert("tekst")</script>');
  });

  it('a suspended parent sees no threads or announcements and gets no copy', async () => {
    await suspendParent(portal.em(), admin, PEOPLE.bart, 'test');
    expect(await parentThreads(portal.em(), w.actors.bart)).toEqual([]);
    expect(await listAnnouncements(portal.em(), w.actors.bart)).toEqual([]);
    const { mails } = await sendAnnouncement(portal.em(), portal, w.actors.mia, {
      groupId: w.groups.boomhut,
      subject: 'Nog een',
      body: 'Tekst',
      emailCopy: true,
    });
    expect(mails).toBe(2);
  });
});
