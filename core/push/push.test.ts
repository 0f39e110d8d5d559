import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { saveStaffEntry } from '../../core/diary/entries.ts';
import { Child } from '../../core/entities/child.ts';
import { PushSetting, PushSubscription } from '../../core/entities/push.ts';
import { sendAnnouncement } from '../../core/messages/announcements.ts';
import { replyToThread, startThread } from '../../core/messages/threads.ts';
import { type MessageWorld, seedMessageWorld } from '../../test/messages.ts';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type PushServiceStandIn, startPushService } from '../../test/push-service.ts';
import type { Actor } from '../actor.ts';
import { dutchTime, sendNotification } from '../notifications/notify.ts';
import { sendPush } from './deliver.ts';
import { PUSH_QUEUE, type PushJob, pushQueue, scanPush } from './scan.ts';
import { ownPushSettings, setOwnPushSettings, subscribeOwnDevice, unsubscribeOwnDevice } from './subscriptions.ts';
import { vapidKeys } from './vapid.ts';
import { suspendParent, unsuspendParent } from '../accounts/suspension.ts';
import { deactivateStaff, reactivateStaff } from '../directory/staff.ts';
import { addDays } from '../dates.ts';
import { newsFor } from '../notifications/notify.ts';
import { cancelDay } from '../schedule/cancel.ts';
import { DECISION_MAIL_QUEUE } from '../schedule/decision-mail.ts';
import { importSchedule } from '../schedule/schedule-import.ts';
import { decideSwap, requestSwap } from '../schedule/swaps.ts';
import { PEOPLE } from '../../test/messages.ts';
import { nextMonday } from '../../test/schedule.ts';
import { admin } from '../../test/portal.ts';

/**
 * Web Push end to end against a push service stand-in that checks the VAPID JWT and decrypts
 * the payload like a browser: what a push says (a title and a link, nothing else), who gets
 * which kind, quiet hours on the pinned Clock, staff and parent messages, what a 410 and a 500
 * do, and, from the attacker's side, that a parent never hears of another family's child and
 * cannot touch another account's device.
 */

let portal: TestPortal;
let world: MessageWorld;
let service: PushServiceStandIn;
/** The portal's public key as the browsers were given it when they subscribed. */
let portalKey = '';
const loop = { allowLoopback: true };
const ctx = () => ({ ...portal });

/** Works off every queued push once, as the worker would; returns what each did (or the error). */
async function deliverQueued(): Promise<string[]> {
  const rows = (await portal
    .em()
    .getConnection()
    .execute(`delete from pgboss.job where name = ? returning data`, [PUSH_QUEUE])) as { data: PushJob }[];
  const out: string[] = [];
  for (const { data } of rows) out.push(await sendPush(portal, data).catch((err: Error) => `error: ${err.message}`));
  return out;
}

async function news(): Promise<void> {
  portal.clock.advance({ minutes: 1 });
}

async function settingsReset(): Promise<void> {
  await portal.em().nativeDelete(PushSubscription, {});
  await portal.em().nativeDelete(PushSetting, {});
  await portal.em().getConnection().execute(`delete from pgboss.job where name = '${PUSH_QUEUE}'`);
  service.received.length = 0;
  service.answer(201);
}

const payloads = (browser: string) => service.received.filter((r) => r.browser === browser).map((r) => JSON.parse(r.plaintext) as Record<string, string>);
const parentIdOf = (a: Actor) => (a.kind === 'parent' ? a.parentId : -1);

beforeAll(async () => {
  portal = await createTestPortal();
  world = await seedMessageWorld(portal);
  portalKey = (await vapidKeys(portal.em())).publicKey;
  service = await startPushService(async () => portalKey);
});
afterAll(async () => {
  await portal?.destroy();
  await service?.close();
});
beforeEach(settingsReset);

describe('what a push says', () => {
  it('a title and a link, encrypted for the browser and signed with the portal key; no names, no text', async () => {
    const { actors, groups } = world;
    await subscribeOwnDevice(portal.em(), actors.cor, service.subscribe('cor-phone'), loop);
    await news();
    const { threadId } = await startThread(portal.em(), ctx(), actors.cor, { groupId: groups.boomhut, subject: 'Ophalen', body: 'Oma haalt Sam op' });
    await replyToThread(portal.em(), ctx(), actors.mia, threadId, { body: 'Geheime inhoud van het antwoord' });
    const sam = await portal.em().findOneOrFail(Child, { childNumber: 'K2' });
    await saveStaffEntry(portal.em(), actors.mia, portal.config.diary, sam.id, { text: 'Sam heeft goed gegeten' });
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'Studiedag Sam', body: 'Vrijdag dicht' });
    await news();
    expect(await scanPush(portal)).toBe(3);
    expect(await deliverQueued()).toEqual(['sent', 'sent', 'sent']);
    expect(service.rejected).toEqual([]);
    const got = payloads('cor-phone');
    expect(got.map((p) => p['title']).sort()).toEqual(['Antwoord op je bericht', 'Nieuw in het schriftje', 'Nieuwe mededeling']);
    for (const p of got) {
      expect(Object.keys(p).sort()).toEqual(['title', 'url']);
      expect(p['url']).toMatch(/^https:\/\/ouders\.example\.nl\//);
    }
    const raw = service.received.map((r) => r.plaintext).join('\n');
    for (const secret of ['Sam', 'Lot', 'Cor', 'Geheime', 'gegeten', 'Studiedag', 'Ophalen']) expect(raw).not.toContain(secret);
    expect(service.received[0]!.ttl).toBe('86400');
    // The window moved: a second scan has nothing new.
    await news();
    expect(await scanPush(portal)).toBe(0);
  });

  it('is refused by the push service when signed with another key (the stand-in really checks)', async () => {
    await subscribeOwnDevice(portal.em(), world.actors.anna, service.subscribe('anna-phone'), loop);
    const real = (await vapidKeys(portal.em())).privateKey;
    await portal.em().getConnection().execute(`update server_secret set value = ? where name = 'vapid'`, ['11'.repeat(32)]);
    await news();
    await sendAnnouncement(portal.em(), ctx(), world.actors.hanna, { locationId: world.locations.centrum, subject: 'x', body: 'y' });
    await news();
    // The stand-in knows the real key; the portal now signs with another one.
    await scanPush(portal);
    const [result] = await deliverQueued();
    expect(result).toBe('error: push service answered 401');
    expect(service.rejected.at(-1)).toBe('not the portal key');
    await portal.em().getConnection().execute(`update server_secret set value = ? where name = 'vapid'`, [Buffer.from(real, 'base64url').toString('hex')]);
    service.rejected.length = 0;
  });
});

describe('who gets what', () => {
  it('only the kinds a parent opted in to', async () => {
    const { actors, groups } = world;
    await subscribeOwnDevice(portal.em(), actors.cor, service.subscribe('cor-phone'), loop);
    await setOwnPushSettings(portal.em(), actors.cor, { categories: ['announcements'] });
    await news();
    const { threadId } = await startThread(portal.em(), ctx(), actors.cor, { groupId: groups.boomhut, subject: 'a', body: 'b' });
    await replyToThread(portal.em(), ctx(), actors.mia, threadId, { body: 'c' });
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'd', body: 'e' });
    await news();
    await scanPush(portal);
    await deliverQueued();
    expect(payloads('cor-phone').map((p) => p['title'])).toEqual(['Nieuwe mededeling']);
    // Nothing chosen: nothing pushed.
    await setOwnPushSettings(portal.em(), actors.cor, { categories: [] });
    await news();
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'f', body: 'g' });
    await news();
    expect(await scanPush(portal)).toBe(0);
  });

  it('staff get new parent messages of their own groups; a parent never hears of another family', async () => {
    const { actors, groups } = world;
    await subscribeOwnDevice(portal.em(), actors.mia, service.subscribe('mia-tablet'), loop);
    await subscribeOwnDevice(portal.em(), actors.otto, service.subscribe('otto-tablet'), loop);
    await subscribeOwnDevice(portal.em(), actors.eva, service.subscribe('eva-phone'), loop);
    await news();
    // Cor (Boomhut) writes; Mia replies and writes Sam's schriftje. Eva's Noor is in Vlinder.
    const { threadId } = await startThread(portal.em(), ctx(), actors.cor, { groupId: groups.boomhut, subject: 'a', body: 'b' });
    await replyToThread(portal.em(), ctx(), actors.mia, threadId, { body: 'c' });
    const sam = await portal.em().findOneOrFail(Child, { childNumber: 'K2' });
    await saveStaffEntry(portal.em(), actors.mia, portal.config.diary, sam.id, { text: 'x' });
    await sendAnnouncement(portal.em(), ctx(), actors.mia, { groupId: groups.boomhut, subject: 'Boomhut', body: 'y' });
    await news();
    await scanPush(portal);
    await deliverQueued();
    expect(payloads('mia-tablet')).toEqual([{ title: 'Nieuw bericht van een ouder', url: 'https://ouders.example.nl/berichten' }]);
    expect(payloads('otto-tablet')).toEqual([]);
    expect(payloads('eva-phone')).toEqual([]);
  });
});

describe('quiet hours', () => {
  it('nothing between 20:00 and 07:00 Dutch time; what came at night is pushed once after', async () => {
    const { actors } = world;
    portal.clock.set(dutchTime('2026-11-25', 21));
    await subscribeOwnDevice(portal.em(), actors.cor, service.subscribe('cor-phone'), loop);
    await setOwnPushSettings(portal.em(), actors.cor, { categories: ['announcements'], quietFrom: '20', quietUntil: '7' });
    await news();
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'a', body: 'b' });
    await news();
    expect(await scanPush(portal)).toBe(0);
    portal.clock.set(dutchTime('2026-11-26', 3));
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'c', body: 'd' });
    await news();
    expect(await scanPush(portal)).toBe(0);
    portal.clock.set(new Date(dutchTime('2026-11-26', 7).getTime() + 60_000));
    expect(await scanPush(portal)).toBe(1);
    await deliverQueued();
    expect(payloads('cor-phone')).toHaveLength(1);
    await news();
    expect(await scanPush(portal)).toBe(0);
  });
});

describe('what the push service answers', () => {
  it('410 and 404 remove the device; the mail then tells the parent again', async () => {
    const { actors } = world;
    await subscribeOwnDevice(portal.em(), actors.cor, service.subscribe('cor-phone'), loop);
    await subscribeOwnDevice(portal.em(), actors.cor, service.subscribe('cor-tablet'), loop);
    service.answer(410, 'cor-phone');
    service.answer(404, 'cor-tablet');
    const since = portal.clock.now();
    await news();
    await sendAnnouncement(portal.em(), ctx(), actors.hanna, { locationId: world.locations.centrum, subject: 'Dicht', body: 'b' });
    await news();
    await scanPush(portal);
    // While a device is subscribed, the mail leaves the announcement out (no double telling).
    const window = { parentId: parentIdOf(actors.cor), since: since.toISOString(), until: portal.clock.now().toISOString() };
    expect(await sendNotification({ ...portal, mail: portal.mail }, window)).toBe('nothing');
    expect((await deliverQueued()).sort()).toEqual(['removed', 'removed']);
    expect(await portal.em().count(PushSubscription, {})).toBe(0);
    expect(await sendNotification({ ...portal, mail: portal.mail }, window)).toBe('sent');
  });

  it('500 fails the job (the queue retries it) and a later try delivers; the queue has a retry policy', async () => {
    await subscribeOwnDevice(portal.em(), world.actors.cor, service.subscribe('cor-phone'), loop);
    service.answer(500);
    await news();
    await sendAnnouncement(portal.em(), ctx(), world.actors.hanna, { locationId: world.locations.centrum, subject: 'a', body: 'b' });
    await news();
    await scanPush(portal);
    const [job] = (await portal.em().getConnection().execute(`select data from pgboss.job where name = ?`, [PUSH_QUEUE])) as { data: PushJob }[];
    await expect(sendPush(portal, job!.data)).rejects.toThrow('push service answered 500');
    expect(await portal.em().count(PushSubscription, {})).toBe(1);
    const queue = await (await pushQueue(portal)).boss.getQueue(PUSH_QUEUE);
    expect(queue?.retryLimit).toBeGreaterThan(0);
    service.answer(201);
    expect(await sendPush(portal, job!.data)).toBe('sent');
    expect(payloads('cor-phone')).toEqual([{ title: 'Nieuwe mededeling', url: 'https://ouders.example.nl/berichten' }]);
  });
});

describe('decisions on swap requests: one source for push and mail', () => {
  it('push and the mail see the same decision (newsFor); the digest leaves it to the decision mail', async () => {
    const { actors } = world;
    const em = portal.em();
    const evi = (await em.findOneOrFail(Child, { childNumber: 'K1' })).id;
    const monday = nextMonday(portal.clock.today());
    const contracts = ['ma', 'di', 'wo'].map((d) => `K1;Centrum;Boomhut;${d};hele dag`);
    expect((await importSchedule(em, admin, { source: ['Kindnummer;Locatie;Groep;Dag;Dagdeel', ...contracts].join('\r\n') })).applied).toBe(true);
    const credit = (await cancelDay(em, actors.anna, { childId: evi, date: monday })).credit!.id;
    const { requestId } = await requestSwap(em, actors.anna, { childId: evi, creditId: credit, date: addDays(monday, 3) });
    await subscribeOwnDevice(em, actors.anna, service.subscribe('anna-phone'), loop);
    // Bart is Evi's other parent: the decision mail goes to Anna, who asked, and so does the news.
    await subscribeOwnDevice(em, actors.bart, service.subscribe('bart-phone'), loop);
    await portal.em().getConnection().execute(`delete from pgboss.job where name = ?`, [DECISION_MAIL_QUEUE]);
    const since = portal.clock.now();
    await news();
    await decideSwap(em, portal, admin, requestId, { approve: false, reason: 'De groep is vol' });
    await news();
    const until = portal.clock.now();

    // The one source: Anna has one decision in the window, Bart none.
    expect((await newsFor(em, parentIdOf(actors.anna), since, until)).decisions).toBe(1);
    expect((await newsFor(em, parentIdOf(actors.bart), since, until)).decisions).toBe(0);
    // Push tells Anna (and only Anna), with no word of the child, the day or the reason.
    await scanPush(portal);
    await deliverQueued();
    expect(payloads('anna-phone')).toEqual([{ title: 'Je aanvraag is beoordeeld', url: 'https://ouders.example.nl/ruilen' }]);
    expect(payloads('bart-phone')).toEqual([]);
    // The decision mail was queued once, at the decision; the digest of the same window does not
    // repeat it, with a device or without one.
    const mails = (await em.getConnection().execute(`select count(*)::int as n from pgboss.job where name = ?`, [DECISION_MAIL_QUEUE])) as { n: number }[];
    expect(mails[0]!.n).toBe(1);
    const window = { parentId: parentIdOf(actors.anna), since: since.toISOString(), until: until.toISOString() };
    expect(await sendNotification({ ...portal, mail: portal.mail }, window)).toBe('nothing');
    await portal.em().nativeDelete(PushSubscription, {});
    expect(await sendNotification({ ...portal, mail: portal.mail }, window)).toBe('nothing');
  });
});

describe('subscriptions (attacker side)', () => {
  it("a suspended parent can neither subscribe a browser, nor read or change settings, nor remove a device", async () => {
    const { actors } = world;
    const { id } = await subscribeOwnDevice(portal.em(), actors.bart, service.subscribe('bart-phone'), loop);
    await suspendParent(portal.em(), admin, PEOPLE.bart, 'foto gedeeld');
    try {
      // The actor outlived the suspension (a request in flight): the catalogue refuses by itself.
      await expect(subscribeOwnDevice(portal.em(), actors.bart, service.subscribe('bart-tablet'), loop)).rejects.toMatchObject({ code: 'not_found' });
      await expect(ownPushSettings(portal.em(), actors.bart)).rejects.toMatchObject({ code: 'not_found' });
      await expect(setOwnPushSettings(portal.em(), actors.bart, { categories: [] })).rejects.toMatchObject({ code: 'not_found' });
      await expect(unsubscribeOwnDevice(portal.em(), actors.bart, { id })).rejects.toMatchObject({ code: 'not_found' });
      expect((await portal.em().find(PushSubscription, {})).map((d) => d.id)).toEqual([id]);
      // Nor is anything pushed to the device still there.
      await news();
      await sendAnnouncement(portal.em(), ctx(), world.actors.hanna, { locationId: world.locations.centrum, subject: 'a', body: 'b' });
      await news();
      expect(await scanPush(portal)).toBe(0);
    } finally {
      await unsuspendParent(portal.em(), admin, PEOPLE.bart);
    }
  });

  it('a deactivated staff member can no longer subscribe or remove a device', async () => {
    const { id } = await subscribeOwnDevice(portal.em(), world.actors.otto, service.subscribe('otto-tablet'), loop);
    await deactivateStaff(portal.em(), admin, PEOPLE.otto);
    try {
      await expect(subscribeOwnDevice(portal.em(), world.actors.otto, service.subscribe('otto-phone'), loop)).rejects.toMatchObject({ code: 'not_found' });
      await expect(unsubscribeOwnDevice(portal.em(), world.actors.otto, { id })).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await reactivateStaff(portal.em(), admin, PEOPLE.otto);
    }
    // Active again: their own device is theirs to remove.
    await unsubscribeOwnDevice(portal.em(), world.actors.otto, { id });
    expect(await portal.em().count(PushSubscription, { id })).toBe(0);
  });

  it('the terminal admin has no account to subscribe (and chooses for nobody else)', async () => {
    await expect(subscribeOwnDevice(portal.em(), admin, service.subscribe('admin'), loop)).rejects.toMatchObject({ code: 'not_found' });
    await expect(ownPushSettings(portal.em(), admin)).rejects.toMatchObject({ code: 'not_found' });
  });

  it("another account's device cannot be removed, taken over or listed", async () => {
    const { actors } = world;
    const cors = service.subscribe('cor-phone');
    const { id } = await subscribeOwnDevice(portal.em(), actors.cor, cors, loop);
    await expect(unsubscribeOwnDevice(portal.em(), actors.eva, { id })).rejects.toMatchObject({ code: 'not_found' });
    await expect(unsubscribeOwnDevice(portal.em(), actors.eva, { endpoint: cors.endpoint })).rejects.toMatchObject({ code: 'not_found' });
    const forged = { endpoint: cors.endpoint, keys: service.subscribe('eva-phone').keys };
    await expect(subscribeOwnDevice(portal.em(), actors.eva, forged, loop)).rejects.toMatchObject({ code: 'conflict' });
    expect((await ownPushSettings(portal.em(), actors.eva)).devices).toEqual([]);
    expect((await ownPushSettings(portal.em(), actors.cor)).devices.map((d) => d.id)).toEqual([id]);
    // The same browser (same keys) may move to whoever logs in on it next.
    await subscribeOwnDevice(portal.em(), actors.eva, cors, loop);
    expect((await ownPushSettings(portal.em(), actors.cor)).devices).toEqual([]);
  });

  it('refuses endpoints that point the server at its own network, and bad keys', async () => {
    const keys = service.subscribe('x').keys;
    for (const endpoint of ['http://127.0.0.1:1/x', 'https://10.0.0.1/x', 'https://localhost/x', 'https://[::1]/x', 'ftp://push.example.net/x', 'nonsense']) {
      await expect(subscribeOwnDevice(portal.em(), world.actors.cor, { endpoint, keys })).rejects.toMatchObject({ code: 'validation' });
    }
    await expect(
      subscribeOwnDevice(portal.em(), world.actors.cor, { endpoint: 'https://push.example.net/a', keys: { p256dh: 'AAAA', auth: keys.auth } }),
    ).rejects.toMatchObject({ code: 'validation' });
    await expect(setOwnPushSettings(portal.em(), world.actors.cor, { categories: ['parentMessages'] })).rejects.toMatchObject({ code: 'validation' });
    await expect(setOwnPushSettings(portal.em(), world.actors.cor, { categories: [], quietFrom: '25', quietUntil: '7' })).rejects.toMatchObject({ code: 'validation' });
  });

  it('keeps at most the newest devices per account', async () => {
    const { MAX_SUBSCRIPTIONS } = await import('./subscriptions.ts');
    const endpoints: string[] = [];
    for (let i = 0; i <= MAX_SUBSCRIPTIONS; i++) {
      const sub = service.subscribe(`d${i}`);
      endpoints.push(sub.endpoint);
      await subscribeOwnDevice(portal.em(), world.actors.cor, sub, loop);
      portal.clock.advance({ seconds: 1 });
    }
    const kept = (await portal.em().find(PushSubscription, {})).map((d) => d.endpoint).sort();
    // The oldest went; the newest ten stay.
    expect(kept).toEqual(endpoints.slice(1).sort());
  });
});
