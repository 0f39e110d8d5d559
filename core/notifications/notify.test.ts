import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { saveStaffEntry } from '../../core/diary/entries.ts';
import { Child } from '../../core/entities/child.ts';
import { Photo } from '../../core/entities/photo.ts';
import { tagPhoto } from '../../core/photos/tagging.ts';
import { Parent } from '../../core/entities/parent.ts';
import { sendAnnouncement } from '../../core/messages/announcements.ts';
import { replyToThread, startThread } from '../../core/messages/threads.ts';
import { setNotificationMode } from '../../core/profile/notifications.ts';
import { type MessageWorld, PEOPLE, seedMessageWorld } from '../../test/messages.ts';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type SmtpSink, startSmtpSink } from '../../test/smtp.ts';
import { dutchTime, NOTIFY_QUEUE, type NotifyJob, newsFor, scanNotifications, sendNotification } from './notify.ts';

/**
 * E-mail notifications from the parent's side: who is due when (immediate at most once per
 * interval, the digest once a day after its hour), that a window is never queued twice, that the
 * mail counts the right news per child without a word of its content, escapes what it shows,
 * and carries the one-click unsubscribe headers; and that "off" and a suspension send nothing.
 */

let portal: TestPortal;
let world: MessageWorld;
let smtp: SmtpSink;

async function queuedJobs(): Promise<NotifyJob[]> {
  const rows = (await portal
    .em()
    .getConnection()
    .execute(`select data from pgboss.job where name = ? order by created_on`, [NOTIFY_QUEUE])) as { data: NotifyJob }[];
  return rows.map((r) => r.data);
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url, 'notifications.digestHour': 18 });
  world = await seedMessageWorld(portal, { names: { mia: 'Mia <b>' } });
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});
beforeEach(async () => {
  await portal.em().getConnection().execute(`delete from pgboss.job where name = '${NOTIFY_QUEUE}'`);
  await portal.em().nativeUpdate(Parent, {}, { notifiedUntil: null });
});

describe('dutchTime', () => {
  it('is 18:00 in Amsterdam, winter and summer', () => {
    expect(dutchTime('2026-01-15', 18).toISOString()).toBe('2026-01-15T17:00:00.000Z');
    expect(dutchTime('2026-07-15', 18).toISOString()).toBe('2026-07-15T16:00:00.000Z');
  });
});

describe('who is due', () => {
  it('digest parents only after the digest hour, once per day; immediate parents once per interval', async () => {
    const { actors } = world;
    await setNotificationMode(portal.em(), actors.anna, 'immediate');
    const morning = dutchTime('2026-11-25', 9);
    // 09:00: only Anna (immediate) is due; the digest waits for 18:00.
    expect(await scanNotifications(portal, morning)).toBe(1);
    expect((await queuedJobs()).map((j) => j.parentId)).toEqual([actors.anna.kind === 'parent' ? actors.anna.parentId : -1]);
    // Ten minutes later: nobody (Anna's interval has not passed).
    expect(await scanNotifications(portal, new Date(morning.getTime() + 10 * 60_000))).toBe(0);
    // 18:05: the digest parents (Bart, Cor, Eva) and Anna again.
    const evening = dutchTime('2026-11-25', 18);
    expect(await scanNotifications(portal, new Date(evening.getTime() + 5 * 60_000))).toBe(4);
    // 18:10: the digest went out today; Anna's interval has not passed.
    expect(await scanNotifications(portal, new Date(evening.getTime() + 10 * 60_000))).toBe(0);
    // Windows follow each other without a gap or an overlap.
    const annas = (await queuedJobs()).filter((j) => actors.anna.kind === 'parent' && j.parentId === actors.anna.parentId);
    expect(annas[1]!.since).toBe(annas[0]!.until);
    await setNotificationMode(portal.em(), actors.anna, 'digest');
  });

  it('skips parents who switched notifications off', async () => {
    await setNotificationMode(portal.em(), world.actors.eva, 'off');
    expect(await scanNotifications(portal, dutchTime('2026-11-26', 19))).toBe(3);
    await setNotificationMode(portal.em(), world.actors.eva, 'digest');
  });
});

describe('the mail', () => {
  it('counts the news per child (no content), escapes names, and carries one-click unsubscribe', async () => {
    const { actors, groups } = world;
    // The window (since, until]: what happens in the minute after `since`.
    const since = portal.clock.now();
    portal.clock.advance({ minutes: 1 });
    const ctx = { ...portal };
    // Cor has two children: Sam (Boomhut) gets a reply and a diary entry; Lot (Zolder) nothing.
    const { threadId } = await startThread(portal.em(), ctx, actors.cor, { groupId: groups.boomhut, subject: 'Ophalen', body: 'Oma haalt Sam op' });
    await replyToThread(portal.em(), ctx, actors.mia, threadId, { body: 'Geheime inhoud van het antwoord' });
    const sam = await portal.em().findOneOrFail(Child, { childNumber: 'K2' });
    await saveStaffEntry(portal.em(), actors.mia, portal.config.diary, sam.id, { text: 'Sam heeft goed gegeten' });
    await sendAnnouncement(portal.em(), ctx, actors.hanna, {
      locationId: world.locations.centrum,
      subject: 'Studiedag <script>alert(1)</script>',
      body: 'Vrijdag dicht',
    });
    const until = portal.clock.now();
    const cor = actors.cor.kind === 'parent' ? actors.cor.parentId : -1;

    const news = await newsFor(portal.em(), cor, since, until);
    expect(news.children).toEqual([{ firstName: 'Sam', photos: 0, diary: 1, messages: 1 }]);
    expect(news.announcements).toEqual(['Studiedag <script>alert(1)</script>']);

    const before = smtp.messages.length;
    expect(await sendNotification(portal, { parentId: cor, since: since.toISOString(), until: until.toISOString() })).toBe('sent');
    expect(smtp.messages.length).toBe(before + 1);
    const mail = smtp.to(PEOPLE.cor).at(-1)!;
    const header = (name: string) => mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');
    expect(mail.text).toContain('Sam: 1 stukje in het schriftje, 1 bericht van de groep');
    expect(mail.text).not.toContain('Geheime inhoud');
    expect(mail.text).not.toContain('goed gegeten');
    expect(mail.html).toContain('Studiedag &lt;script&gt;');
    expect(mail.html).not.toContain('<script>');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toMatch(/^<https:\/\/ouders\.example\.nl\/uitschrijven\/\d+\.[A-Za-z0-9_-]{43}>$/);

    // Nothing new in a later window: no mail at all.
    const later = new Date(until.getTime() + 60_000);
    expect(await sendNotification(portal, { parentId: cor, since: until.toISOString(), until: later.toISOString() })).toBe('nothing');
    expect(smtp.messages.length).toBe(before + 1);
  });

  it('counts a photo as news when staff publish it, not when it was uploaded', async () => {
    const { actors } = world;
    const em = portal.em().fork();
    const cor = actors.cor.kind === 'parent' ? actors.cor.parentId : -1;
    const uploaded = portal.clock.now();
    const photo = em.create(Photo, { group: world.groups.boomhut, takenAt: uploaded, state: 'ready', awaitingPublish: true });
    await em.flush();
    portal.clock.advance({ hours: 3 });
    const beforePublish = portal.clock.now();
    // Waiting to be published: no news in the hours since the upload.
    expect((await newsFor(portal.em(), cor, new Date(uploaded.getTime() - 1000), beforePublish)).children[0]?.photos ?? 0).toBe(0);
    portal.clock.advance({ minutes: 1 });
    await tagPhoto(portal.em(), actors.mia, photo.id, { childNumbers: [], noChildConfirmed: true });
    const after = portal.clock.now();
    // Published three hours after the upload: news in the window that holds the publishing,
    // none in the one that held only the upload.
    const sam = (w: { children: { firstName: string; photos: number }[] }) => w.children.find((c) => c.firstName === 'Sam')?.photos ?? 0;
    expect(sam(await newsFor(portal.em(), cor, beforePublish, after))).toBe(1);
    expect(sam(await newsFor(portal.em(), cor, new Date(uploaded.getTime() - 1000), beforePublish))).toBe(0);
  });

  it('sends nothing to a parent who switched off after the job was queued', async () => {
    const eva = world.actors.eva;
    await setNotificationMode(portal.em(), eva, 'off');
    const parentId = eva.kind === 'parent' ? eva.parentId : -1;
    const job = { parentId, since: new Date(0).toISOString(), until: portal.clock.now().toISOString() };
    expect(await sendNotification(portal, job)).toBe('skipped');
    await setNotificationMode(portal.em(), eva, 'digest');
  });
});
