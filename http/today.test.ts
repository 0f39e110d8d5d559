import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { PickupNote, SickReport } from '../core/entities/child-day.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import type { TestPortal } from '../test/portal.ts';
import type { ScheduleWorld, } from '../test/schedule.ts';
import { API_BASE } from './api/app.ts';
import type { AppEnv, } from './app.ts';
import { loggedInBrowser, scheduleWorldApp } from './testing.ts';

/**
 * Vandaag, Ziek melden and Ophalen over HTTP, from the attacker's side first: another family's
 * child is 404 for both forms (GET and POST) and nothing is written; staff of another group do
 * not see this group's day; a forged CSRF token is 403. Then the forms do what they say, and a
 * bad value is a 422 next to its field. The clock stands on the schedule world's Monday.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
let w: ScheduleWorld;

const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);

beforeAll(async () => {
  ({ portal, app, w } = await scheduleWorldApp());
  portal.clock.set(`${w.monday}T07:00:00Z`);
});
afterAll(async () => {
  await portal?.destroy();
});

describe('the attacker side', () => {
  it("another family's child is not found for ziek melden and ophalen, and nothing is written", async () => {
    const cor = await loggedIn(PEOPLE.cor);
    const evi = w.children.evi;
    expect((await cor.get(`/kind/${evi}/ziek`)).status).toBe(404);
    expect((await cor.get(`/kind/${evi}/ophalen`)).status).toBe(404);
    expect((await cor.post(`/kind/${evi}/ziek`, { van: w.monday }, { visit: '/' })).status).toBe(404);
    expect((await cor.post(`/kind/${evi}/ziek/beter`, {}, { visit: '/' })).status).toBe(404);
    expect((await cor.post(`/kind/${evi}/ophalen`, { naam: 'Onbekende', tijd: '16:00' }, { visit: '/' })).status).toBe(404);
    expect((await cor.post(`/kind/${evi}/ophalen/wissen`, {}, { visit: '/' })).status).toBe(404);
    expect((await cor.get('/kind/abc/ziek')).status).toBe(404);
    // Staff cannot report either: it is the guardians' word.
    const mia = await loggedIn(PEOPLE.mia);
    expect((await mia.post(`/kind/${evi}/ziek`, { van: w.monday }, { visit: '/' })).status).toBe(404);
    expect(await portal.em().fork().count(SickReport, {})).toBe(0);
    expect(await portal.em().fork().count(PickupNote, {})).toBe(0);
  });

  it("staff of another group and parents do not see this group's Vandaag", async () => {
    const otto = await loggedIn(PEOPLE.otto);
    expect((await otto.get(`/vandaag?groep=${w.groups.boomhut}`)).status).toBe(404);
    const ownDay = await (await otto.get('/')).text();
    expect(ownDay).toContain('Vlinder');
    expect(ownDay).not.toContain('Boomhut');
    const anna = await loggedIn(PEOPLE.anna);
    expect((await anna.get(`/vandaag?groep=${w.groups.boomhut}`)).status).toBe(404);
    expect((await (await loggedIn(PEOPLE.mia)).get('/vandaag?groep=x')).status).toBe(404);
  });

  it('a forged CSRF token is refused (403) and changes nothing', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    await anna.get('/');
    const forged = { csrf: 'x'.repeat(43) };
    expect((await anna.post(`/kind/${w.children.evi}/ziek`, { van: w.monday }, forged)).status).toBe(403);
    expect((await anna.post(`/kind/${w.children.evi}/ophalen`, { naam: 'Oma', tijd: '16:00' }, forged)).status).toBe(403);
    expect(await portal.em().fork().count(SickReport, {})).toBe(0);
    expect(await portal.em().fork().count(PickupNote, {})).toBe(0);
  });
});

describe('the forms and Vandaag', () => {
  it('the child card links to both forms; the sick form is filled in with today', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const home = await (await anna.get('/')).text();
    expect(home).toContain(`href="/kind/${w.children.evi}/ziek"`);
    expect(home).toContain(`href="/kind/${w.children.evi}/ophalen"`);
    const form = await (await anna.get(`/kind/${w.children.evi}/ziek`)).text();
    expect(form).toContain(`name="van" value="${w.monday}"`);
  });

  it('a past day or a bad time is a 422 next to its field, and nothing is written', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const past = await anna.post(`/kind/${w.children.evi}/ziek`, { van: addDays(w.monday, -1) }, { visit: '/' });
    expect(past.status).toBe(422);
    expect(await past.text()).toContain('een dag in het verleden kan niet');
    const far = await anna.post(`/kind/${w.children.evi}/ziek`, { van: w.monday, tot: addDays(w.monday, 30) }, { visit: '/' });
    expect(far.status).toBe(422);
    const time = await anna.post(`/kind/${w.children.evi}/ophalen`, { dag: w.monday, naam: 'Oma Ria', tijd: 'straks' }, { visit: '/' });
    expect(time.status).toBe(422);
    const body = await time.text();
    expect(body).toContain('Vul een tijd in');
    expect(body).toContain('value="Oma Ria"');
    expect(await portal.em().fork().count(SickReport, {})).toBe(0);
  });

  it('a sick report and a pickup note land on the staff Vandaag; "weer beter" takes the child off', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const sick = await anna.post(`/kind/${w.children.evi}/ziek`, { van: w.monday, tot: '', notitie: 'Koorts' }, { visit: '/' });
    expect(sick.status).toBe(303);
    expect(sick.headers.get('Location')).toBe('/');
    const cor = await loggedIn(PEOPLE.cor);
    const pickup = await cor.post(`/kind/${w.children.sam}/ophalen`, { dag: w.monday, naam: 'Opa Jan', relatie: 'opa', tijd: '16:45' }, { visit: '/' });
    expect(pickup.status).toBe(303);

    const mia = await loggedIn(PEOPLE.mia);
    const day = await (await mia.get('/')).text();
    const sickSection = day.slice(day.indexOf('id="ziek"'), day.indexOf('id="ophalen"'));
    expect(sickSection).toContain('Evi Jansen');
    expect(sickSection).toContain('Koorts');
    expect(day).toContain('16:45 · Sam');
    expect(day).toContain('Opa Jan');
    expect(day).toContain(`href="/schriftje?groep=${w.groups.boomhut}"`);

    expect((await anna.post(`/kind/${w.children.evi}/ziek/beter`, {}, { visit: '/' })).status).toBe(303);
    const after = await (await mia.get('/')).text();
    expect(after.slice(after.indexOf('id="ziek"'), after.indexOf('id="ophalen"'))).not.toContain('Evi');
  });

  it('the manager picks among the groups of the location', async () => {
    const hanna = await loggedIn(PEOPLE.hanna);
    const day = await (await hanna.get(`/vandaag?groep=${w.groups.zolder}`)).text();
    expect(day).toContain('Vandaag in Zolder');
    expect(day).toContain(`href="/vandaag?groep=${w.groups.boomhut}"`);
  });
});

describe('the app API', () => {
  async function tokenOf(email: string): Promise<string> {
    const res = await app.request(`http://localhost${API_BASE}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' },
      body: JSON.stringify({ username: email, password: PASSWORD, deviceName: 'Test' }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }
  const call = async (token: string, method: string, path: string, body?: unknown) =>
    await app.request(`http://localhost${API_BASE}${path}`, {
      method,
      headers: { 'X-Forwarded-For': '203.0.113.9', Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("reports ill and sets the pickup for one's own child; another family's child is 404; bad input 422", async () => {
    const cor = await tokenOf(PEOPLE.cor);
    const sam = w.children.sam;
    expect((await call(cor, 'POST', `/children/${w.children.evi}/sick`, {})).status).toBe(404);
    expect((await call(cor, 'PUT', `/children/${w.children.evi}/pickup`, { name: 'X', time: '16:00' })).status).toBe(404);
    expect((await call(cor, 'POST', `/children/${sam}/sick`, { from: addDays(w.monday, -1) })).status).toBe(422);
    const made = await call(cor, 'POST', `/children/${sam}/sick`, { until: addDays(w.monday, 1), note: 'Waterpokken' });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ fromDate: w.monday, untilDate: addDays(w.monday, 1), note: 'Waterpokken' });
    const state = (await (await call(cor, 'GET', `/children/${sam}/sick`)).json()) as { open: unknown[] };
    expect(state.open).toHaveLength(1);
    expect((await call(cor, 'DELETE', `/children/${sam}/sick`)).status).toBe(204);
    expect((await call(cor, 'PUT', `/children/${sam}/pickup`, { name: 'Opa', time: 'later' })).status).toBe(422);
    const set = await call(cor, 'PUT', `/children/${sam}/pickup`, { date: addDays(w.monday, 1), name: 'Opa Jan', time: '17:00' });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ date: addDays(w.monday, 1), name: 'Opa Jan', time: '17:00', relation: null });
    expect((await call(cor, 'DELETE', `/children/${sam}/pickup?date=${addDays(w.monday, 1)}`)).status).toBe(204);
    expect((await call(cor, 'DELETE', `/children/${sam}/pickup?date=${addDays(w.monday, 1)}`)).status).toBe(404);
  });
});
