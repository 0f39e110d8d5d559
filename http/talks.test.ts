import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwnFeed, feedPath } from '../core/calendar-feed/links.ts';
import { leaveChild } from '../core/directory/children.ts';
import { Parent } from '../core/entities/parent.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { MENTOR_PARENTS, MENTOR_STAFF, seedMentorWorld } from '../test/mentor-world.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, LOOSE, loggedInBrowser, type TestBrowser } from './testing.ts';

/**
 * Oudergesprekken over HTTP: staff publish times (bad input a 422 naming the field), a parent
 * books without JavaScript (303 back to the child) and with htmx (the child's card alone), a
 * time taken meanwhile is a 409 "Dit tijdstip is net bezet"; from the attacker's side another
 * family's child and another group's time are 404, a forged token 403, a child who left 404.
 */

const PASSWORD = 'een lange zin als wachtwoord';

let portal: TestPortal;
let app: Hono<AppEnv>;
const b = {} as Record<'mia' | 'otto' | 'anna' | 'bert', TestBrowser>;
const id = {} as Record<'evi' | 'noor' | 'mats' | 'boomhut' | 'egeltjes', number>;

const slotIds = async (groupId: number, free: boolean) =>
  (
    await portal
      .em()
      .getConnection()
      .execute<{ id: number }[]>(`select id from talk_slot where group_id = ? and cancelled_at is null and (child_id is null) = ? order by starts_at`, [groupId, free])
  ).map((r) => r.id);
const bookedChild = async (slotId: number) =>
  (await portal.em().getConnection().execute<{ child_id: number | null }[]>('select child_id from talk_slot where id = ?', [slotId]))[0]?.child_id ?? null;

beforeAll(async () => {
  portal = await createTestPortal();
  portal.clock.set('2026-06-10T10:00:00+02:00');
  await seedMentorWorld(portal.em());
  app = createApp(portal, LOOSE);
  for (const e of [...MENTOR_STAFF, ...MENTOR_PARENTS]) await accountFor(portal, e, PASSWORD);
  for (const who of ['mia', 'otto', 'anna', 'bert'] as const) b[who] = await loggedInBrowser(app, `${who}@example.nl`, PASSWORD);
  const child = async (n: string) => (await portal.em().findOneOrFail(Child, { childNumber: n })).id;
  const group = async (n: string) => (await portal.em().findOneOrFail(Group, { name: n })).id;
  Object.assign(id, { evi: await child('K1'), noor: await child('K2'), mats: await child('K4'), boomhut: await group('Boomhut'), egeltjes: await group('Egeltjes') });
});
afterAll(() => portal?.destroy());

const publish = (who: TestBrowser, groupId: number, form: Record<string, string>, options: Parameters<TestBrowser['post']>[2] = {}) =>
  who.post(`/gesprekken/groep/${groupId}/tijden`, { datum: '2026-06-11', van: '10:00', minuten: '15', aantal: '3', plaats: 'Kantoor', video: '', ...form }, { visit: `/gesprekken/groep/${groupId}`, ...options });
const book = (who: TestBrowser, childId: number, slotId: number | string, options: Parameters<TestBrowser['post']>[2] = {}) =>
  who.post('/gesprekken/boeken', { kind: String(childId), tijd: String(slotId) }, { visit: '/gesprekken', ...options });

describe('staff publish times', () => {
  it('publishes and shows them; bad input is a 422 naming the field; another group is 404', async () => {
    const res = await publish(b.mia, id.boomhut, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/gesprekken/groep/${id.boomhut}`);
    const page = await (await b.mia.get(`/gesprekken/groep/${id.boomhut}`)).text();
    expect(page).toContain('donderdag 11 juni, 10:00–10:15');
    expect((await slotIds(id.boomhut, true)).length).toBe(3);

    const bad = await publish(b.mia, id.boomhut, { minuten: '2' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('Vul 5 tot 240 minuten in.');
    expect(html).toMatch(/id="minuten"[^>]*aria-invalid="true"/);
    expect((await publish(b.mia, id.boomhut, { plaats: '', video: 'http://x.nl' })).status).toBe(422);
    expect((await publish(b.otto, id.boomhut, {})).status).toBe(404);
    expect((await b.otto.get(`/gesprekken/groep/${id.boomhut}`)).status).toBe(404);
    expect((await b.anna.get(`/gesprekken/groep/${id.boomhut}`)).status).toBe(404);
    expect((await publish(b.mia, id.boomhut, {}, { csrf: 'vervalst' })).status).toBe(403);
    expect((await publish(b.otto, id.egeltjes, { aantal: '1' })).status).toBe(303);
  });
});

describe('parents book', () => {
  it('shows the free times of their own child, books without JavaScript and with htmx', async () => {
    const page = await (await b.anna.get('/gesprekken')).text();
    expect(page).toContain('Evi Test');
    expect(page).not.toContain('Noor');
    const [first, second] = await slotIds(id.boomhut, true);
    const plain = await book(b.anna, id.evi, first!);
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe(`/gesprekken#kind-${id.evi}`);
    expect(await bookedChild(first!)).toBe(id.evi);
    const moved = await book(b.anna, id.evi, second!, { htmx: true });
    expect(moved.status).toBe(200);
    const card = await moved.text();
    expect(card).toMatch(/^\s*<section class="card talk-child" id="kind-\d+"/);
    expect(card).toContain('Het gesprek is verzet.');
    expect(card).not.toContain('<html');
    expect(await bookedChild(first!)).toBeNull();
    expect(await bookedChild(second!)).toBe(id.evi);
    // The booked talk is in the parent's calendar feed, a timed event in Dutch time.
    const anna = await portal.em().findOneOrFail(Parent, { email: 'anna@example.nl' });
    const { token } = await createOwnFeed(portal.em(), { kind: 'parent', parentId: anna.id, label: anna.email });
    const feed = await (await b.anna.get(feedPath(token))).text();
    expect(feed).toContain('SUMMARY:Gesprek over Evi Test met Mia de Vries');
    expect(feed).toContain('DTSTART;TZID=Europe/Amsterdam:20260611T101500');
  });

  it('a time just taken by another family is a 409 with the reason at the choice', async () => {
    const taken = (await slotIds(id.boomhut, false))[0]!;
    const res = await book(b.bert, id.noor, taken);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('Dit tijdstip is net bezet.');
    expect(await bookedChild(taken)).toBe(id.evi);
  });

  it("from the attacker's side: another family's child, another group's time, a forged token, a child who left", async () => {
    const [free] = await slotIds(id.boomhut, true);
    const [egeltjes] = await slotIds(id.egeltjes, true);
    const evis = (await slotIds(id.boomhut, false))[0]!;
    expect((await book(b.bert, id.evi, free!)).status).toBe(404);
    expect((await book(b.anna, id.evi, egeltjes!)).status).toBe(404);
    expect((await book(b.anna, id.mats, egeltjes!)).status).toBe(404);
    expect((await b.bert.post('/gesprekken/annuleren', { kind: String(id.evi), tijd: String(evis) }, { visit: '/gesprekken' })).status).toBe(404);
    expect((await b.bert.post('/gesprekken/annuleren', { kind: String(id.noor), tijd: String(evis) }, { visit: '/gesprekken' })).status).toBe(404);
    expect((await book(b.anna, id.evi, free!, { csrf: 'vervalst' })).status).toBe(403);
    expect((await book(b.anna, id.evi, 'abc')).status).toBe(422);
    expect(await bookedChild(evis)).toBe(id.evi);
    await leaveChild(portal.em(), admin, 'K2', { date: '2026-06-09' });
    expect((await book(b.bert, id.noor, free!)).status).toBe(404);
    expect(await (await b.bert.get('/gesprekken')).text()).not.toContain('Noor');
  });

  it('cancels without JavaScript: the time is free again', async () => {
    const evis = (await slotIds(id.boomhut, false))[0]!;
    const res = await b.anna.post('/gesprekken/annuleren', { kind: String(id.evi), tijd: String(evis) }, { visit: '/gesprekken' });
    expect(res.status).toBe(303);
    expect(await bookedChild(evis)).toBeNull();
  });
});
