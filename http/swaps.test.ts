import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { DayCancellation, SwapRequest } from '../core/entities/schedule.ts';
import { cancelDay } from '../core/schedule/cancel.ts';
import { creditsOf } from '../core/schedule/credits.ts';
import { spokenDate } from '../core/schedule/decision-mail.ts';
import { childSchedule } from '../core/schedule/overview.ts';
import { reportSick, SICK_MAX_DAYS } from '../core/schedule/sick.ts';
import { decideSwap, requestSwap } from '../core/schedule/swaps.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { TEST_NOW, type TestPortal } from '../test/portal.ts';
import type { ScheduleWorld, } from '../test/schedule.ts';
import type { AppEnv, } from './app.ts';
import { loggedInBrowser, scheduleWorldApp } from './testing.ts';

/**
 * Afmelden en ruilen over HTTP, mostly from the attacker's side: another family's child or
 * request is "not found", a forged CSRF token is refused before anything is written, and a
 * parent or group staff cannot reach the manager's page. Then the pages do what they say.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
let w: ScheduleWorld;

const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);

beforeAll(async () => {
  ({ portal, app, w } = await scheduleWorldApp());
});
afterAll(async () => {
  await portal?.destroy();
});

describe('Afmelden en ruilen over HTTP', () => {
  const tuesday = () => addDays(w.monday, 1);

  it("another family's child or request is not found, and nothing is written", async () => {
    const anna = await loggedIn(PEOPLE.anna);
    expect((await anna.get(`/ruilen?kind=${w.children.sam}`)).status).toBe(404);
    const cancel = await anna.post('/ruilen/afmelden', { kind: String(w.children.sam), datum: tuesday() }, { visit: '/ruilen' });
    expect(cancel.status).toBe(404);
    expect(await portal.em().count(DayCancellation, {})).toBe(0);

    // Cor's credit for Sam, and his request for Thursday (Evi only: 1 of 2 places).
    const credit = (await cancelDay(portal.em(), w.actors.cor, { childId: w.children.sam, date: w.monday })).credit!.id;
    const ask = await anna.post('/ruilen/aanvragen', { kind: String(w.children.evi), tegoed: String(credit), datum: addDays(w.monday, 3) });
    expect(ask.status).toBe(404);
    const { requestId } = await requestSwap(portal.em(), w.actors.cor, { childId: w.children.sam, creditId: credit, date: addDays(w.monday, 3) });
    expect((await anna.post(`/ruilen/${requestId}/intrekken`, { kind: String(w.children.evi) })).status).toBe(404);
    expect((await portal.em().fork().findOneOrFail(SwapRequest, { id: requestId })).status).toBe('pending');
    expect(await portal.em().fork().count(SwapRequest, {})).toBe(1);
  });

  it('a forged CSRF token is refused (403) and changes nothing', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    await anna.get('/ruilen');
    const res = await anna.post('/ruilen/afmelden', { kind: String(w.children.evi), datum: tuesday() }, { csrf: 'x'.repeat(43) });
    expect(res.status).toBe(403);
    expect(await portal.em().fork().count(DayCancellation, { date: tuesday() })).toBe(0);
  });

  it('parents and group staff cannot reach the manager page or decide', async () => {
    const pending = await portal.em().fork().findOneOrFail(SwapRequest, { status: 'pending' });
    for (const who of [PEOPLE.cor, PEOPLE.anna, PEOPLE.mia]) {
      const b = await loggedIn(who);
      expect((await b.get('/locatie/ruilverzoeken')).status, who).toBe(404);
      expect((await b.post(`/locatie/ruilverzoeken/${pending.id}/goedkeuren`, {}, { visit: '/' })).status, who).toBe(404);
    }
    const otto = await loggedIn(PEOPLE.otto);
    expect((await otto.get('/locatie/ruilverzoeken')).status).toBe(404);
    expect((await otto.get('/ruilen')).status).toBe(404);
    expect((await portal.em().fork().findOneOrFail(SwapRequest, { id: pending.id })).status).toBe('pending');
  });

  it('the parent cancels a day and sees the credit; a refusal is shown next to the form (422)', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const page = await (await anna.get('/ruilen')).text();
    expect(page).toContain('Afmelden en ruilen');
    expect(page).toContain('Afmelden voor vandaag kan tot 09:00 uur');
    const res = await anna.post('/ruilen/afmelden', { kind: String(w.children.evi), datum: tuesday() });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/ruilen?kind=${w.children.evi}`);
    const after = await (await anna.get(res.headers.get('Location')!)).text();
    expect(after).toContain('De dag is afgemeld.');
    expect(after).toContain('U heeft 1 ruildag tegoed.');
    // A mis-tap can be undone, and the day cancelled again.
    const undo = await anna.post('/ruilen/herstellen', { kind: String(w.children.evi), datum: tuesday() });
    expect(undo.status).toBe(303);
    expect(await (await anna.get(undo.headers.get('Location')!)).text()).toContain('De afmelding is ongedaan gemaakt');
    expect(await portal.em().fork().count(DayCancellation, { child: w.children.evi })).toBe(0);
    expect((await anna.post('/ruilen/afmelden', { kind: String(w.children.evi), datum: tuesday() })).status).toBe(303);
    const again = await anna.post('/ruilen/afmelden', { kind: String(w.children.evi), datum: tuesday() });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain('Deze dag is al afgemeld.');
    // A swap into a day the child already comes: refused with the reason, what was typed kept.
    expect(await portal.em().fork().count(DayCancellation, { child: w.children.evi })).toBe(1);
    // A credit that is not the child's own: not found.
    const form = await anna.post('/ruilen/aanvragen', { kind: String(w.children.evi), tegoed: '999999', datum: addDays(w.monday, 3) });
    expect(form.status).toBe(404);
  });

  it('Mijn vestiging shows the balance per child with a link to /ruilen', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const html = await (await anna.get('/mijn-vestiging')).text();
    expect(html).toContain('data-section="swaps"');
    expect(html).toContain(`<a href="/ruilen?kind=${w.children.evi}">Evi Jansen: 1 ruildag tegoed`);
    const cor = await loggedIn(PEOPLE.cor);
    const his = await (await cor.get('/mijn-vestiging')).text();
    expect(his).toContain('Sam Jansen: 0 ruildagen tegoed');
    expect(his).toContain('1 aanvraag in behandeling');
    // Noord imports no contracted days: Eva's Mijn vestiging has no such section.
    const eva = await loggedIn(PEOPLE.eva);
    expect(await (await eva.get('/mijn-vestiging')).text()).not.toContain('data-section="swaps"');
    // And the page speaks English when asked.
    expect(await (await anna.get('/ruilen?lang=en')).text()).toContain('<h1>Cancel and swap days</h1>');
  });

  it('the manager sees the occupancy, a rejection without reason is refused, with a reason it is decided', async () => {
    const hanna = await loggedIn(PEOPLE.hanna);
    expect((await hanna.get('/locatie')).headers.get('Location')).toBe('/locatie/ruilverzoeken');
    const page = await (await hanna.get('/locatie/ruilverzoeken')).text();
    expect(page).toMatch(/1 van 2 plaatsen bezet/);
    const pending = await portal.em().fork().findOneOrFail(SwapRequest, { status: 'pending' });
    const empty = await hanna.post(`/locatie/ruilverzoeken/${pending.id}/afwijzen`, { reden: ' ' });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('Geef een reden op');
    const done = await hanna.post(`/locatie/ruilverzoeken/${pending.id}/afwijzen`, { reden: 'Die week is <b>vol</b>' });
    expect(done.status).toBe(303);
    const after = await (await hanna.get('/locatie/ruilverzoeken')).text();
    expect(after).toContain('Die week is &lt;b&gt;vol&lt;/b&gt;');
    // Who decided reads as a name, never as the login's audit label ("web:hanna@…").
    expect(after).toMatch(/door Hanna [A-Z]/);
    expect(after).not.toContain('web:');
    const cor = await loggedIn(PEOPLE.cor);
    const parent = await (await cor.get(`/ruilen?kind=${w.children.sam}`)).text();
    expect(parent).toContain('afgewezen');
    expect(parent).toContain('Reden: Die week is &lt;b&gt;vol&lt;/b&gt;');
  });

  it('the parent withdraws a pending request; a second time it says so next to the requests (422)', async () => {
    const [credit] = (await creditsOf(portal.em(), [w.children.sam])).get(w.children.sam)!.filter((c) => c.state === 'available');
    const { requestId } = await requestSwap(portal.em(), w.actors.cor, { childId: w.children.sam, creditId: credit!.id, date: addDays(w.monday, 3) });
    const cor = await loggedIn(PEOPLE.cor);
    const res = await cor.post(`/ruilen/${requestId}/intrekken`, { kind: String(w.children.sam) });
    expect(res.status).toBe(303);
    expect(await (await cor.get(res.headers.get('Location')!)).text()).toContain('Uw aanvraag is ingetrokken.');
    const again = await cor.post(`/ruilen/${requestId}/intrekken`, { kind: String(w.children.sam) });
    expect(again.status).toBe(422);
    expect(await again.text()).toMatch(/<h2 id="requests">Aanvragen<\/h2>\s*<p class="field-error" role="alert">Over deze aanvraag is al beslist, of hij is ingetrokken.<\/p>/);
  });

  it('the parent calls off an approved swap day from the page; another family and a forged token cannot', async () => {
    const [credit] = (await creditsOf(portal.em(), [w.children.sam])).get(w.children.sam)!.filter((c) => c.state === 'available');
    const { requestId } = await requestSwap(portal.em(), w.actors.cor, { childId: w.children.sam, creditId: credit!.id, date: addDays(w.monday, 3) });
    await decideSwap(portal.em(), portal, w.actors.hanna, requestId, { approve: true });
    const status = async () => (await portal.em().fork().findOneOrFail(SwapRequest, { id: requestId })).status;
    const cor = await loggedIn(PEOPLE.cor);
    const page = await (await cor.get(`/ruilen?kind=${w.children.sam}`)).text();
    expect(page).toContain(`action="/ruilen/${requestId}/ruildag-afmelden"`);
    expect(page).toContain('Afmelden geeft het tegoed terug, zolang het geldig is.');

    const anna = await loggedIn(PEOPLE.anna);
    await anna.get('/ruilen');
    expect((await anna.post(`/ruilen/${requestId}/ruildag-afmelden`, { kind: String(w.children.evi) })).status).toBe(404);
    expect((await cor.post(`/ruilen/${requestId}/ruildag-afmelden`, { kind: String(w.children.sam) }, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect(await status()).toBe('approved');

    const res = await cor.post(`/ruilen/${requestId}/ruildag-afmelden`, { kind: String(w.children.sam) });
    expect(res.status).toBe(303);
    const after = await (await cor.get(res.headers.get('Location')!)).text();
    expect(after).toContain('De ruildag is afgemeld.');
    expect(after).not.toContain(`action="/ruilen/${requestId}/ruildag-afmelden"`);
    expect(after).toMatch(/<span class="tag">afgemeld<\/span>/);
    expect(await status()).toBe('cancelled');
    const again = await cor.post(`/ruilen/${requestId}/ruildag-afmelden`, { kind: String(w.children.sam) });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain('Deze ruildag is niet (meer) goedgekeurd.');
  });

  it('a day reported ill says so, links to the report, and can still be cancelled; after the deadline no "call us"', async () => {
    // Sam's first day listed that can still be cancelled, within the days a report may reach.
    const days = (await childSchedule(portal.em(), w.actors.cor, w.children.sam)).days;
    const sickDay = days.find((d) => !d.refusal && !d.cancelled && !d.swap && d.date <= addDays(portal.clock.today(), SICK_MAX_DAYS))!.date;
    await reportSick(portal.em(), w.actors.cor, { childId: w.children.sam, from: sickDay });
    /** The row of one day on the page (each day is one list item). */
    const rowOf = (page: string, date: string) => page.split('<li class="swap-day">').find((li) => li.includes(`<span>${spokenDate(date, 'nl')} <span`)) ?? '';

    const cor = await loggedIn(PEOPLE.cor);
    const page = await (await cor.get(`/ruilen?kind=${w.children.sam}`)).text();
    const row = rowOf(page, sickDay);
    expect(row).toContain('<span class="tag">ziek gemeld</span>');
    expect(row).toContain(`href="/kind/${w.children.sam}/ziek"`);
    expect(row).toMatch(/aria-label="Ziekmelding voor \w+ \d+ \w+ wijzigen of intrekken">Wijzigen<\/a>/);
    // Not an afmelding: the day can still be given back in time (sick.ts).
    expect(row).toContain('action="/ruilen/afmelden"');
    expect(page.match(/ziek gemeld<\/span>/g)).toHaveLength(1);
    // Another family's page says nothing of it.
    const anna = await loggedIn(PEOPLE.anna);
    expect(await (await anna.get('/ruilen')).text()).not.toContain('ziek gemeld');

    try {
      // Past the deadline on the day itself: no cancel button, and no "call us" either: the group knows.
      portal.clock.set(`${sickDay}T10:30:00Z`);
      const late = await (await (await loggedIn(PEOPLE.cor)).get(`/ruilen?kind=${w.children.sam}`)).text();
      const lateRow = rowOf(late, sickDay);
      expect(lateRow).toContain('ziek gemeld');
      expect(lateRow).toContain(`href="/kind/${w.children.sam}/ziek"`);
      expect(lateRow).not.toContain('action="/ruilen/afmelden"');
      expect(late).not.toContain('Afmelden kon tot');
    } finally {
      portal.clock.set(TEST_NOW);
    }
  });
});
