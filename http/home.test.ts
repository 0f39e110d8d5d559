import type { Hono } from 'hono';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendParent } from '../core/accounts/suspension.ts';
import { saveStaffEntry } from '../core/diary/entries.ts';
import { setConsent } from '../core/directory/consent.ts';
import { Child } from '../core/entities/child.ts';
import { parentHome } from '../core/home/home.ts';
import { sendAnnouncement } from '../core/messages/announcements.ts';
import { replyToThread, startThread } from '../core/messages/threads.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { type MessageWorld, PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { TestBrowser } from './testing.ts';

/**
 * The parent's home page: a card per own child with today's schriftje, the group's newest
 * shareable photos and unread messages about that child; the newest announcements. Nothing of
 * another family's child, nothing after a suspension, and every text escaped.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
let world: MessageWorld;
let evisPhoto: string;
let heldPhoto: string;
let ip = 0;

async function browser(who: keyof typeof PEOPLE): Promise<TestBrowser> {
  ip++;
  const b = new TestBrowser(app, { 'X-Forwarded-For': `192.0.2.${ip}` });
  expect((await b.login(PEOPLE[who], PASSWORD)).status).toBe(303);
  return b;
}

async function photo(tag: string[]): Promise<string> {
  const data = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
  const { photoId } = await uploadPhoto(portal.em(), portal, world.actors.mia, { groupId: world.groups.boomhut, data });
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), world.actors.mia, photoId, { childNumbers: tag });
  return photoId;
}

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  world = await seedMessageWorld(portal);
  app = createApp(portal, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
  const em = portal.em();
  for (const n of ['K1', 'K2', 'K3', 'K4']) await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  await setConsent(em, admin, 'K2', { internal: 'nee', external: 'nee' });
  evisPhoto = await photo(['K1']);
  heldPhoto = await photo(['K1', 'K2']); // Sam has no consent: held
  const evi = await em.findOneOrFail(Child, { childNumber: 'K1' });
  await saveStaffEntry(portal.em(), world.actors.mia, portal.config.diary, evi.id, {
    text: 'Evi heeft <script>alert(1)</script> geschilderd',
    lines: { Slapen: 'van 12:30 tot 14:00' },
  });
  const { threadId } = await startThread(portal.em(), portal, world.actors.anna, { groupId: world.groups.boomhut, subject: 'Vraag', body: 'Hoe ging het?' });
  portal.clock.advance({ minutes: 1 }); // the answer comes after the question: at one instant, Anna's own mark would cover it
  await replyToThread(portal.em(), portal, world.actors.mia, threadId, { body: 'Goed!' });
  await sendAnnouncement(portal.em(), portal, world.actors.hanna, { locationId: world.locations.centrum, subject: 'Sint komt vrijdag', body: 'Om 10 uur' });
  await sendAnnouncement(portal.em(), portal, world.actors.otto, { groupId: world.groups.vlinder, subject: 'Alleen voor Vlinder', body: '…' });
});
afterAll(() => portal?.destroy());

describe('the parent home page', () => {
  it("shows each own child with today's schriftje (escaped), shareable photos only, and unread messages", async () => {
    const html = await (await (await browser('anna')).get('/')).text();
    expect(html).toContain('id="kind-');
    expect(html).toMatch(/<h2 id="kind-\d+">Evi/);
    expect(html).toContain('Evi heeft &lt;script&gt;alert(1)&lt;/script&gt; geschilderd');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('van 12:30 tot 14:00');
    expect(html).toContain(`/fotos/${evisPhoto}/klein`);
    expect(html).not.toContain(`/fotos/${heldPhoto}/klein`);
    expect(html).toContain('1 ongelezen bericht over Evi');
    expect(html).toContain('Sint komt vrijdag');
    expect(html).not.toContain('Alleen voor Vlinder');
    // What is new comes first: the unread message and the unread announcement above the children.
    const fresh = html.indexOf('<h2 id="nieuw">Nieuw voor u</h2>');
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThan(html.indexOf('1 ongelezen bericht over Evi'));
    expect(html.indexOf('Sint komt vrijdag')).toBeLessThan(html.indexOf('id="kind-'));
    // Sam is in the same group but not Anna's child.
    expect(html).not.toContain('>Sam');
  });

  it('a parent of two children sees two cards; the unread message belongs to Evi only', async () => {
    const home = await parentHome(portal.em(), world.actors.cor);
    expect(home.children.map((c) => c.firstName).sort()).toEqual(['Lot', 'Sam']);
    for (const child of home.children) {
      expect(child.unreadThreads).toBe(0);
      expect(child.diary).toEqual([]);
      // Sam's group photos: Evi's is shareable (the group album rule), the held one is not.
      if (child.firstName === 'Sam') expect(child.photos.map((p) => p.id)).toEqual([evisPhoto]);
    }
  });

  it('a parent at another location sees none of it', async () => {
    const html = await (await (await browser('eva')).get('/')).text();
    expect(html).toMatch(/<h2 id="kind-\d+">Noor/);
    expect(html).not.toContain('Evi');
    expect(html).not.toContain('Sint komt vrijdag');
    expect(html).toContain('Alleen voor Vlinder');
    expect(html).not.toContain(`/fotos/${evisPhoto}/klein`);
  });

  it('staff get their own start page, not a family card', async () => {
    const html = await (await (await browser('mia')).get('/')).text();
    expect(html).not.toContain('id="kind-');
    expect(html).toContain('href="/schriftje"');
  });

  it('a suspended parent gets nothing from core, and the session is gone', async () => {
    const bart = await browser('bart');
    await suspendParent(portal.em(), admin, PEOPLE.bart, 'test');
    expect(await parentHome(portal.em(), world.actors.bart)).toEqual({ children: [], announcements: [], unread: 0 });
    const res = await bart.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
  });
});
