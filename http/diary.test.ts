import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { writeParentEntry } from '../core/diary/entries.ts';
import { Account } from '../core/entities/account.ts';
import { Child } from '../core/entities/child.ts';
import { DiaryEntry, DiaryEntryRevision } from '../core/entities/diary.ts';
import { Parent } from '../core/entities/parent.ts';
import { Staff } from '../core/entities/staff.ts';
import { type DiaryFixture, PEOPLE, seedDiary } from '../test/diary-fixture.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { TestBrowser, loggedInBrowser } from './testing.ts';

/**
 * The schriftje over HTTP, from the side of who must be refused: every route × every kind of
 * visitor with the status written down, refusals that leak nothing and write nothing, stored
 * markup that comes back escaped, and the row-by-row saving of the staff's day sheet with and
 * without htmx.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };
/** Only in Cor's entry for Evi: must never reach anyone who may not read Evi's schriftje. */
const SECRET = 'Evi sliep slecht door de tandjes';

let portal: TestPortal;
let app: Hono<AppEnv>;
let f: DiaryFixture;
let corEntry: string;

const WHO = ['anonymous', 'cor', 'anna', 'bram', 'eva', 'mia', 'kees', 'otto', 'lia', 'ada'] as const;
type Who = (typeof WHO)[number];
const browsers = {} as Record<Who, TestBrowser>;

async function account(email: string): Promise<void> {
  const em = portal.em();
  const parent = await em.findOne(Parent, { email });
  const staff = parent ? null : await em.findOneOrFail(Staff, { email });
  em.create(Account, { email, parent, staff, passwordHash: await portal.hasher.hash(PASSWORD), passwordMustChange: false, passwordExpiresAt: null });
  await em.flush();
}

const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);

const counts = async () => ({ entries: await portal.em().count(DiaryEntry, {}), revisions: await portal.em().count(DiaryEntryRevision, {}) });

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  await initOrganisation(portal.em(), admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  app = createApp(portal, LOOSE);
  f = await seedDiary(portal.em());
  for (const [email] of [...PEOPLE.parents, ...PEOPLE.staff]) await account(email);
  corEntry = (await writeParentEntry(portal.em(), f.actors.cor, f.child.evi, { text: SECRET })).id;
  browsers.anonymous = new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.250' });
  for (const who of WHO.slice(1)) browsers[who] = await loggedIn(`${who}@example.nl`);
});
afterAll(() => portal?.destroy());

describe('access to every schriftje route', () => {
  const ROUTES = ['read', 'more', 'sheet', 'write', 'row', 'editPage', 'edit'] as const;
  type Route = (typeof ROUTES)[number];
  /** 303 after a POST = saved (PRG); 303 for anonymous = to the login page; 404 = refused as not found. */
  const MATRIX: Record<Who, Record<Route, number>> = {
    anonymous: { read: 303, more: 401, sheet: 303, write: 303, row: 303, editPage: 303, edit: 303 },
    cor: { read: 200, more: 200, sheet: 200, write: 303, row: 403, editPage: 200, edit: 303 },
    anna: { read: 200, more: 200, sheet: 200, write: 303, row: 403, editPage: 200, edit: 403 },
    bram: { read: 404, more: 404, sheet: 200, write: 404, row: 404, editPage: 404, edit: 404 },
    eva: { read: 404, more: 404, sheet: 200, write: 404, row: 404, editPage: 404, edit: 404 },
    mia: { read: 200, more: 200, sheet: 200, write: 403, row: 303, editPage: 200, edit: 403 },
    kees: { read: 404, more: 404, sheet: 404, write: 404, row: 404, editPage: 404, edit: 404 },
    otto: { read: 404, more: 404, sheet: 404, write: 404, row: 404, editPage: 404, edit: 404 },
    lia: { read: 200, more: 200, sheet: 200, write: 403, row: 303, editPage: 200, edit: 403 },
    ada: { read: 200, more: 200, sheet: 200, write: 403, row: 303, editPage: 200, edit: 403 },
  };
  const WRITES: Route[] = ['write', 'row', 'edit'];
  /** Who may see Evi's schriftje; nobody else may find the secret in any answer. */
  const READERS: Who[] = ['cor', 'anna', 'mia', 'lia', 'ada'];

  const call = async (who: Who, route: Route): Promise<Response> => {
    const b = browsers[who];
    const tomorrow = addDays(portal.clock.today(), 1);
    switch (route) {
      case 'read':
        return await b.get(`/schriftje/kind/${f.child.evi}`);
      case 'more':
        return await b.get(`/schriftje/kind/${f.child.evi}?voor=${tomorrow}`, { 'HX-Request': 'true' });
      case 'sheet':
        return await b.get(`/schriftje?groep=${f.group.boomhut}`);
      case 'write':
        return await b.post(`/schriftje/kind/${f.child.evi}`, { tekst: `Geschreven door ${who}` }, { visit: '/login' });
      case 'row':
        return await b.post(`/schriftje/rij/${f.child.evi}`, { tekst: `Dag van Evi door ${who}`, groep: String(f.group.boomhut) }, { visit: '/login' });
      case 'editPage':
        return await b.get(`/schriftje/stukje/${corEntry}`);
      case 'edit':
        return await b.post(`/schriftje/stukje/${corEntry}`, { tekst: `${SECRET} (aangevuld door ${who})` }, { visit: '/login' });
    }
  };

  for (const who of WHO) {
    it(`${who}: ${ROUTES.map((r) => `${r} ${MATRIX[who][r]}`).join(', ')}`, async () => {
      for (const route of ROUTES) {
        const before = await counts();
        const res = await call(who, route);
        const expected = MATRIX[who][route];
        expect(res.status, `${who} ${route}`).toBe(expected);
        const body = await res.text();
        if (!READERS.includes(who)) expect(body, `${who} ${route}`).not.toContain('Evi sliep slecht');
        if (expected === 404) expect(body, `${who} ${route}`).toContain('Pagina niet gevonden');
        if (who === 'anonymous' && expected === 303) expect(res.headers.get('Location')).toBe('/login');
        if (WRITES.includes(route)) {
          const after = await counts();
          if (expected === 303 && who !== 'anonymous') {
            expect(after.revisions, `${who} ${route} keeps a revision`).toBe(before.revisions + 1);
          } else {
            expect(after, `${who} ${route} wrote nothing`).toEqual(before);
          }
        }
        if (route === 'read' && expected === 200) expect(body, who).toContain('Evi sliep slecht');
      }
    });
  }

  it('a bad or unknown id is not found, like a refused one', async () => {
    for (const path of ['/schriftje/kind/abc', '/schriftje/kind/999999', '/schriftje/stukje/1', '/schriftje/stukje/00000000-0000-4000-8000-000000000000']) {
      expect((await browsers.cor.get(path)).status, path).toBe(404);
    }
  });

  it('a post without the CSRF token is refused and writes nothing', async () => {
    const before = await counts();
    const res = await browsers.cor.post(`/schriftje/kind/${f.child.evi}`, { tekst: 'zonder token' }, { csrf: null });
    expect(res.status).toBe(403);
    expect(await counts()).toEqual(before);
  });
});

describe('the parent pages', () => {
  it('a parent with two children gets a switcher; with one child none', async () => {
    const anna = await (await browsers.anna.get('/schriftje')).text();
    expect(anna).toContain('<h1>Schriftje van Evi</h1>');
    expect(anna).toContain(`href="/schriftje/kind/${f.child.finn}"`);
    expect(anna).toMatch(new RegExp(`<a href="/schriftje/kind/${f.child.evi}" aria-current="page">Evi</a>`));
    const bram = await (await browsers.bram.get('/schriftje')).text();
    expect(bram).toContain('<h1>Schriftje van Sam</h1>');
    expect(bram).not.toContain('Kies een kind');
  });

  it('tells staff and parent entries apart, and offers "Wijzigen" only on the own entry of today', async () => {
    const html = await (await browsers.cor.get(`/schriftje/kind/${f.child.evi}`)).text();
    expect(html).toMatch(/class="diary-entry from-staff"[\s\S]*?Van de groep: /);
    expect(html).toContain('Van u');
    expect(html).toContain(`href="/schriftje/stukje/${corEntry}"`);
    const annaView = await (await browsers.anna.get(`/schriftje/kind/${f.child.evi}`)).text();
    expect(annaView).toContain('Van ouder Cor Ouder');
    expect(annaView).not.toContain(`href="/schriftje/stukje/${corEntry}"`);
  });

  it('an empty text comes back with the error next to the field (422), an edit after the day is refused in words', async () => {
    const res = await browsers.bram.post(`/schriftje/kind/${f.child.sam}`, { tekst: '   ' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('id="diary-text-error"');
    const old = (await writeParentEntry(portal.em(), f.actors.bram, f.child.sam, { text: 'Van gisteren' })).id;
    await portal.em().nativeUpdate(DiaryEntry, { id: old }, { day: addDays(portal.clock.today(), -1) });
    const late = await browsers.bram.post(`/schriftje/stukje/${old}`, { tekst: 'te laat gewijzigd' });
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('alleen worden gewijzigd op de dag');
    expect((await portal.em().findOneOrFail(DiaryEntry, { id: old })).text).toBe('Van gisteren');
  });

  it('"meer laden" gives the older days as a fragment for htmx, a whole page without', async () => {
    const em = portal.em();
    for (let i = 1; i <= 9; i++) {
      em.create(DiaryEntry, { child: f.child.finn, day: addDays(portal.clock.today(), -i), authorKind: 'staff', staff: null, parent: null, authorLabel: 'Kees Werker', text: `Finn dag -${i}`, lines: [], photoIds: [] });
    }
    await em.flush();
    const page = await (await browsers.anna.get(`/schriftje/kind/${f.child.finn}`)).text();
    expect(page).toContain('Finn dag -7'); // a page holds 7 days
    expect(page).not.toContain('Finn dag -8');
    const more = `/schriftje/kind/${f.child.finn}?voor=${addDays(portal.clock.today(), -7)}`;
    expect(page).toContain(`hx-get="${more}"`);
    const fragment = await (await browsers.anna.get(more, { 'HX-Request': 'true' })).text();
    expect(fragment).not.toContain('<html');
    expect(fragment).toContain('Finn dag -9');
    expect(fragment).toContain('Finn dag -8');
    expect(fragment).not.toContain('Finn dag -7');
    expect(fragment).not.toContain('Meer laden');
    expect(await (await browsers.anna.get(more)).text()).toContain('<html');
  });
});

describe('the staff day sheet', () => {
  const row = (html: string, childId: number) => {
    const start = html.indexOf(`<form method="post" action="/schriftje/rij/${childId}"`);
    return html.slice(start, html.indexOf('</form>', start));
  };

  it('has a row per child of the group, each its own form with CSRF token, lines and the photos that may be attached', async () => {
    const html = await (await browsers.mia.get('/schriftje')).text();
    for (const child of [f.child.evi, f.child.sam, f.child.noor]) expect(html).toContain(`id="kind-${child}"`);
    expect(html).not.toContain(`id="kind-${f.child.finn}"`);
    const evi = row(html, f.child.evi);
    expect(evi).toContain('hx-post="/schriftje/rij/');
    expect(evi).toMatch(/name="_csrf" value="[^"]+"/);
    for (const label of ['Eten en drinken', 'Slapen', 'Verschonen', 'Activiteiten', 'Stemming']) expect(evi).toContain(`>${label}</label>`);
    expect(evi).toContain(`value="${f.photo.evi}"`);
    expect(evi).not.toContain(`value="${f.photo.eviNoor}"`);
    expect(row(html, f.child.sam)).not.toContain(`value="${f.photo.evi}"`);
  });

  it('htmx saves one row and gets back only that row; without htmx the same form saves and returns to the row', async () => {
    const fields = { groep: String(f.group.boomhut), 'regel-1': '13:00 tot 14:30', tekst: 'Samen gebouwd', foto: f.photo.sam };
    const htmx = await browsers.mia.post(`/schriftje/rij/${f.child.sam}`, fields, { htmx: true });
    expect(htmx.status).toBe(200);
    const fragment = await htmx.text();
    expect(fragment).not.toContain('<html');
    expect(fragment.match(/<form /g)).toHaveLength(1);
    expect(fragment).toContain(`id="kind-${f.child.sam}"`);
    expect(fragment).toContain('Opgeslagen om');
    expect(fragment).toContain('value="13:00 tot 14:30"');
    expect(fragment).toMatch(new RegExp(`value="${f.photo.sam}" checked`));

    const plain = await browsers.mia.post(`/schriftje/rij/${f.child.sam}`, { ...fields, tekst: 'Samen gebouwd en gezongen', versie: '1' });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe(`/schriftje?groep=${f.group.boomhut}#kind-${f.child.sam}`);
    const page = await (await browsers.mia.get(plain.headers.get('Location')!)).text();
    expect(page).toContain('Het stukje is opgeslagen.');
    expect(row(page, f.child.sam)).toContain('Samen gebouwd en gezongen</textarea>');
  });

  it('an error keeps what was typed in the row (422), a stale form is a conflict (409) that keeps it too', async () => {
    const long = 'x'.repeat(301);
    const res = await browsers.mia.post(`/schriftje/rij/${f.child.noor}`, { groep: String(f.group.boomhut), 'regel-0': long, tekst: 'Mijn getypte tekst' }, { htmx: true });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Hoogstens 300 tekens per regel.');
    expect(html).toContain('Mijn getypte tekst</textarea>');
    expect(await portal.em().count(DiaryEntry, { child: f.child.noor })).toBe(0);

    const stale = await browsers.lia.post(`/schriftje/rij/${f.child.sam}`, { groep: String(f.group.boomhut), tekst: 'Oude versie van Lia', versie: '1' }, { htmx: true });
    expect(stale.status).toBe(409);
    const conflict = await stale.text();
    expect(conflict).toContain('intussen gewijzigd');
    expect(conflict).toContain('Oude versie van Lia</textarea>');
    expect(conflict).toContain('name="versie" value="2"');
    const noJs = await browsers.lia.post(`/schriftje/rij/${f.child.sam}`, { groep: String(f.group.boomhut), tekst: 'Zonder JavaScript', versie: '1' });
    expect(noJs.status).toBe(409);
    expect(await noJs.text()).toContain('Zonder JavaScript</textarea>');
  });

  it('marks a parent entry "Nieuw" for each staff member until they have seen it', async () => {
    await writeParentEntry(portal.em(), f.actors.bram, f.child.sam, { text: 'Oma haalt Sam op' });
    const first = await (await browsers.mia.get('/schriftje')).text();
    expect(row(first, f.child.sam)).toContain('<span class="tag">Nieuw</span>');
    const again = await (await browsers.mia.get('/schriftje')).text();
    expect(row(again, f.child.sam)).toContain('Oma haalt Sam op');
    expect(row(again, f.child.sam)).not.toContain('<span class="tag">Nieuw</span>');
    expect(row(await (await browsers.lia.get(`/schriftje?groep=${f.group.boomhut}`)).text(), f.child.sam)).toContain('<span class="tag">Nieuw</span>');
  });

  it('a manager picks among the location\'s groups; a group outside it is not found', async () => {
    const html = await (await browsers.lia.get(`/schriftje?groep=${f.group.kikkers}`)).text();
    expect(html).toContain('<h1>Schriftje Kikkers</h1>');
    expect(html).toContain(`href="/schriftje?groep=${f.group.boomhut}"`);
    expect(html).not.toContain(`groep=${f.group.zolder}`);
    expect((await browsers.lia.get(`/schriftje?groep=${f.group.zolder}`)).status).toBe(404);
  });
});

describe('stored markup comes back escaped', () => {
  it('in entries, structured lines, child and parent names', async () => {
    const em = portal.em();
    await addChild(em, admin, { childNumber: 'K7', firstName: '<script>alert(1)</script>', lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -5) });
    await addParent(em, admin, { email: 'xss@example.nl', firstName: 'Xavier', lastName: '<img src=x onerror=alert(2)>', children: ['K7'] });
    await account('xss@example.nl');
    const xss = await loggedIn('xss@example.nl');
    const childId = (await em.findOneOrFail(Child, { childNumber: 'K7' })).id;
    expect((await xss.post(`/schriftje/kind/${childId}`, { tekst: '<b onmouseover="alert(3)">vet</b>\nregel 2' })).status).toBe(303);
    expect((await browsers.mia.post(`/schriftje/rij/${childId}`, { groep: String(f.group.boomhut), 'regel-4': '"><svg onload=alert(4)>', tekst: '</textarea><script>alert(5)</script>' })).status).toBe(303);

    for (const html of [await (await xss.get(`/schriftje/kind/${childId}`)).text(), await (await browsers.mia.get('/schriftje')).text()]) {
      expect(html).not.toMatch(/<script>alert|<img src=x|<b onmouseover|<svg onload|<\/textarea><script>/);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    const parentView = await (await xss.get(`/schriftje/kind/${childId}`)).text();
    expect(parentView).toContain('&lt;b onmouseover=&quot;alert(3)&quot;&gt;vet&lt;/b&gt;\nregel 2');
    expect(parentView).toContain('&quot;&gt;&lt;svg onload=alert(4)&gt;');
    const staffView = await (await browsers.mia.get('/schriftje')).text();
    expect(staffView).toContain('Van ouder Xavier &lt;img src=x onerror=alert(2)&gt;');
    expect(staffView).toContain('&lt;/textarea&gt;&lt;script&gt;alert(5)&lt;/script&gt;</textarea>');
  });
});
