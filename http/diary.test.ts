import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { writeParentEntry } from '../core/diary/entries.ts';
import { Account } from '../core/entities/account.ts';
import { Child } from '../core/entities/child.ts';
import { timeOfDayOf } from '../core/clock.ts';
import { DiaryEntry, DiaryEntryRevision, DiaryItem } from '../core/entities/diary.ts';
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

const counts = async () => ({
  entries: await portal.em().count(DiaryEntry, {}),
  revisions: await portal.em().count(DiaryEntryRevision, {}),
  items: await portal.em().count(DiaryItem, {}),
});
/** A time that has passed today on the portal's clock, `minutes` before now (not before 00:00). */
const earlier = (minutes: number): string => {
  const [h, m] = timeOfDayOf(portal.clock.now()).split(':').map(Number) as [number, number];
  const t = Math.max(0, h * 60 + m - minutes);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

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
  const ROUTES = ['read', 'more', 'sheet', 'write', 'row', 'pick', 'groupPick', 'editPage', 'edit'] as const;
  type Route = (typeof ROUTES)[number];
  /** 303 after a POST = saved (PRG); 303 for anonymous = to the login page; 404 = refused as not found. */
  const MATRIX: Record<Who, Record<Route, number>> = {
    anonymous: { read: 303, more: 401, sheet: 303, write: 303, row: 303, pick: 303, groupPick: 303, editPage: 303, edit: 303 },
    cor: { read: 200, more: 200, sheet: 200, write: 303, row: 403, pick: 403, groupPick: 404, editPage: 200, edit: 303 },
    anna: { read: 200, more: 200, sheet: 200, write: 303, row: 403, pick: 403, groupPick: 404, editPage: 200, edit: 403 },
    bram: { read: 404, more: 404, sheet: 200, write: 404, row: 404, pick: 404, groupPick: 404, editPage: 404, edit: 404 },
    eva: { read: 404, more: 404, sheet: 200, write: 404, row: 404, pick: 404, groupPick: 404, editPage: 404, edit: 404 },
    mia: { read: 200, more: 200, sheet: 200, write: 403, row: 303, pick: 303, groupPick: 303, editPage: 200, edit: 403 },
    kees: { read: 404, more: 404, sheet: 404, write: 404, row: 404, pick: 404, groupPick: 404, editPage: 404, edit: 404 },
    otto: { read: 404, more: 404, sheet: 404, write: 404, row: 404, pick: 404, groupPick: 404, editPage: 404, edit: 404 },
    lia: { read: 200, more: 200, sheet: 200, write: 403, row: 303, pick: 303, groupPick: 303, editPage: 200, edit: 403 },
    ada: { read: 200, more: 200, sheet: 200, write: 403, row: 303, pick: 303, groupPick: 303, editPage: 200, edit: 403 },
  };
  const WRITES: Route[] = ['write', 'row', 'pick', 'groupPick', 'edit'];
  const PICKS: Route[] = ['pick', 'groupPick'];
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
      case 'pick':
        return await b.post(`/schriftje/moment/kind/${f.child.evi}`, { moment: 'mood:blij', van: earlier(0), groep: String(f.group.boomhut) }, { visit: '/login' });
      case 'groupPick':
        return await b.post(`/schriftje/moment/groep/${f.group.boomhut}`, { moment: 'nappy:nat', van: earlier(0), kind: String(f.child.evi) }, { visit: '/login' });
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
          if (expected === 303 && who !== 'anonymous' && PICKS.includes(route)) {
            expect(after.items, `${who} ${route} saves one pick`).toBe(before.items + 1);
          } else if (expected === 303 && who !== 'anonymous') {
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
    // A forged quick pick (no token, or another session's) from staff who may write: refused too.
    const forged = await browsers.mia.post(`/schriftje/moment/kind/${f.child.evi}`, { moment: 'mood:blij', van: earlier(0), groep: String(f.group.boomhut) }, { csrf: null });
    expect(forged.status).toBe(403);
    const group = await browsers.mia.post(`/schriftje/moment/groep/${f.group.boomhut}`, { moment: 'mood:blij', van: earlier(0), kind: String(f.child.evi), _csrf: 'nagemaakt' }, { csrf: null });
    expect(group.status).toBe(403);
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
    expect(annaView).toContain('Van ouder Cor</strong>');
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
  /** A child's card: its picks, the parents' entries and its note form. */
  const row = (html: string, childId: number) => {
    const start = html.indexOf(`<section id="kind-${childId}"`);
    return html.slice(start, html.indexOf('</section>', start));
  };

  it('has a card per child of the group with quick picks and a note form, each with CSRF token, and the photos that may be attached', async () => {
    const html = await (await browsers.mia.get('/schriftje')).text();
    for (const child of [f.child.evi, f.child.sam, f.child.noor]) expect(html).toContain(`id="kind-${child}"`);
    expect(html).not.toContain(`id="kind-${f.child.finn}"`);
    const card = html.slice(html.indexOf(`<section id="kind-${f.child.evi}"`), html.indexOf('</section>', html.indexOf(`<section id="kind-${f.child.evi}"`)));
    expect(card).toContain(`hx-post="/schriftje/moment/kind/${f.child.evi}"`);
    for (const pick of ['sleep:slept', 'meal:goed', 'meal:niets', 'drink:beetje', 'mood:blij', 'nappy:wc']) expect(card).toContain(`name="moment" value="${pick}"`);
    expect(card).toContain('<textarea');
    expect(card).not.toContain('name="regel-'); // the single-line inputs are gone
    const evi = row(html, f.child.evi);
    expect(evi).toContain('hx-post="/schriftje/rij/');
    expect(evi).toMatch(/name="_csrf" value="[^"]+"/);
    expect(evi).toContain(`value="${f.photo.evi}"`);
    expect(evi).not.toContain(`value="${f.photo.eviNoor}"`);
    expect(row(html, f.child.sam)).not.toContain(`value="${f.photo.evi}"`);
  });

  it('htmx saves one row and gets back only that row; without htmx the same form saves and returns to the row', async () => {
    const fields = { groep: String(f.group.boomhut), tekst: 'Samen gebouwd', foto: f.photo.sam };
    const htmx = await browsers.mia.post(`/schriftje/rij/${f.child.sam}`, fields, { htmx: true });
    expect(htmx.status).toBe(200);
    const fragment = await htmx.text();
    expect(fragment).not.toContain('<html');
    expect(fragment.match(/<form /g)).toHaveLength(1);
    expect(fragment).toContain(`id="kind-${f.child.sam}-notitie"`);
    expect(fragment).toContain('Opgeslagen om');
    expect(fragment).toContain('id="diary-progress" class="diary-progress" hx-swap-oob="true"');
    expect(fragment).toMatch(new RegExp(`value="${f.photo.sam}" checked`));

    const plain = await browsers.mia.post(`/schriftje/rij/${f.child.sam}`, { ...fields, tekst: 'Samen gebouwd en gezongen', versie: '1' });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe(`/schriftje?groep=${f.group.boomhut}#kind-${f.child.sam}`);
    const page = await (await browsers.mia.get(plain.headers.get('Location')!)).text();
    expect(page).toContain('Het stukje is opgeslagen.');
    expect(row(page, f.child.sam)).toContain('Samen gebouwd en gezongen</textarea>');
  });

  it('an error keeps what was typed in the row (422), a stale form is a conflict (409) that keeps it too', async () => {
    const long = `Mijn getypte tekst ${'x'.repeat(4000)}`;
    const res = await browsers.mia.post(`/schriftje/rij/${f.child.noor}`, { groep: String(f.group.boomhut), tekst: long }, { htmx: true });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Deze tekst is te lang');
    expect(html).toContain(`${long}</textarea>`);
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
  it('in entries, quick picks, child and parent names', async () => {
    const em = portal.em();
    await addChild(em, admin, { childNumber: 'K7', firstName: '<script>alert(1)</script>', lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -5) });
    await addParent(em, admin, { email: 'xss@example.nl', firstName: 'Xavier', lastName: '<img src=x onerror=alert(2)>', children: ['K7'] });
    await account('xss@example.nl');
    const xss = await loggedIn('xss@example.nl');
    const childId = (await em.findOneOrFail(Child, { childNumber: 'K7' })).id;
    expect((await xss.post(`/schriftje/kind/${childId}`, { tekst: '<b onmouseover="alert(3)">vet</b>\nregel 2' })).status).toBe(303);
    expect((await browsers.mia.post(`/schriftje/rij/${childId}`, { groep: String(f.group.boomhut), tekst: '</textarea><script>alert(5)</script>' })).status).toBe(303);
    expect((await browsers.mia.post(`/schriftje/moment/kind/${childId}`, { groep: String(f.group.boomhut), moment: 'meal:goed', van: earlier(0), wat: '"><svg onload=alert(4)>' })).status).toBe(303);

    for (const html of [await (await xss.get(`/schriftje/kind/${childId}`)).text(), await (await browsers.mia.get('/schriftje')).text()]) {
      expect(html).not.toMatch(/<script>alert|<img src=x|<b onmouseover|<svg onload|<\/textarea><script>/);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    const parentView = await (await xss.get(`/schriftje/kind/${childId}`)).text();
    expect(parentView).toContain('&lt;b onmouseover=&quot;alert(3)&quot;&gt;vet&lt;/b&gt;\nregel 2');
    expect(parentView).toContain('&quot;&gt;&lt;svg onload=alert(4)&gt;');
    const staffView = await (await browsers.mia.get('/schriftje')).text();
    expect(staffView).toContain('Van ouder Xavier</strong>'); // by first name: the last name is not shown at all
    expect(staffView).not.toContain('onerror=alert(2)>');
    expect(staffView).toContain('&lt;/textarea&gt;&lt;script&gt;alert(5)&lt;/script&gt;</textarea>');
  });
});

describe('quick picks on the group screen', () => {
  /** A form with a repeated field (the children's checkboxes); the test browser takes what URLSearchParams takes. */
  const multi = (pairs: [string, string][]) => new URLSearchParams(pairs) as unknown as Record<string, string>;
  const moments = (html: string, childId: number) => {
    const start = html.indexOf(`id="kind-${childId}-momenten"`);
    return html.slice(start, html.indexOf('</ol>', start) + 5);
  };
  const noor = () => `/schriftje/moment/kind/${f.child.noor}`;
  const items = async (childId: number) =>
    await portal.em().fork().find(DiaryItem, { entry: { child: childId } }, { orderBy: { startsAt: 'asc' } });

  it('a tap saves a nap for one child (htmx gets its timeline and the progress), the parent sees it in time order', async () => {
    const before = await (await browsers.mia.get('/schriftje')).text();
    expect(before).toMatch(/Geschreven voor \d van \d kinderen/);
    const from = earlier(90);
    const to = earlier(30);
    const res = await browsers.mia.post(noor(), { groep: String(f.group.boomhut), moment: 'sleep:slept', van: from, tot: to }, { htmx: true });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<html');
    expect(html).toContain(`<time>${from}</time>–<time>${to}</time>`);
    expect(html).toContain('hx-swap-oob="true"');
    expect(html).toMatch(/Geschreven voor \d van \d kinderen/);
    await browsers.mia.post(noor(), { groep: String(f.group.boomhut), moment: 'meal:beetje', van: earlier(120), wat: 'pasta' }, { htmx: true });
    const saved = await items(f.child.noor);
    expect(saved.map((i) => [i.kind, i.value, i.startsAt, i.endsAt, i.detail])).toEqual([
      ['meal', 'beetje', earlier(120), null, 'pasta'],
      ['sleep', 'slept', from, to, null],
    ]);
    // Noor's parents are not in the fixture; staff read her schriftje as parents would.
    const page = await (await browsers.mia.get(`/schriftje/kind/${f.child.noor}`)).text();
    const timeline = page.slice(page.indexOf('class="diary-timeline"'));
    expect(timeline.indexOf('Gegeten: Een beetje (pasta)')).toBeGreaterThan(-1);
    expect(timeline.indexOf('Gegeten')).toBeLessThan(timeline.indexOf('Geslapen'));
    expect(page).toContain('Van de groep: Mia</strong>');
    expect(page).not.toContain('mia@example.nl');
  });

  it('without JavaScript the same form saves and comes back at the card', async () => {
    const res = await browsers.mia.post(noor(), { groep: String(f.group.boomhut), moment: 'nappy:nat', van: earlier(5) });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/schriftje?groep=${f.group.boomhut}#kind-${f.child.noor}`);
    const page = await (await browsers.mia.get(res.headers.get('Location')!)).text();
    expect(moments(page, f.child.noor)).toContain('Luier of wc: Nat');
  });

  it('bad times are 422 with the reason in words, and nothing is saved', async () => {
    const before = await counts();
    const cases: [Record<string, string>, string][] = [
      [{ moment: 'mood:blij', van: '25:00' }, 'Vul een tijd in, zoals 12:30.'],
      [{ moment: 'mood:blij', van: '' }, 'Vul een tijd in, zoals 12:30.'],
      [{ moment: 'sleep:slept', van: earlier(10), tot: earlier(20) }, 'De eindtijd moet na de begintijd liggen.'],
      [{ moment: 'sleep:slept', van: earlier(10), tot: '' }, 'Vul een tijd in, zoals 12:30.'],
      [{ moment: 'mood:boos', van: earlier(0) }, 'Kies een van de knoppen.'],
      [{ moment: 'bad', van: earlier(0) }, 'Kies een van de knoppen.'],
    ];
    if (earlier(0) < '23:59') cases.push([{ moment: 'mood:blij', van: '23:59' }, 'Deze tijd is nog niet geweest.']);
    for (const [fields, message] of cases) {
      for (const htmx of [true, false]) {
        const res = await browsers.mia.post(noor(), { groep: String(f.group.boomhut), ...fields }, { htmx });
        expect(res.status, JSON.stringify(fields)).toBe(422);
        expect(await res.text(), JSON.stringify(fields)).toContain(message);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('one tap for several children; a child of another group in the set is not found and nobody gets it', async () => {
    const van = earlier(15);
    const res = await browsers.mia.post(
      `/schriftje/moment/groep/${f.group.boomhut}`,
      multi([['moment', 'drink:goed'], ['van', van], ['wat', 'water'], ['kind', String(f.child.evi)], ['kind', String(f.child.sam)]]),
      { htmx: true },
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Opgeslagen voor 2 kinderen');
    expect(html).toContain(`id="kind-${f.child.evi}-momenten" class="diary-moments" hx-swap-oob="true"`);
    expect(html).toContain(`id="kind-${f.child.sam}-momenten" class="diary-moments" hx-swap-oob="true"`);
    for (const child of [f.child.evi, f.child.sam]) {
      expect((await items(child)).some((i) => i.kind === 'drink' && i.startsAt === van && i.detail === 'water'), String(child)).toBe(true);
    }
    const before = await counts();
    const mixed = await browsers.mia.post(`/schriftje/moment/groep/${f.group.boomhut}`, multi([['moment', 'drink:goed'], ['van', van], ['kind', String(f.child.evi)], ['kind', String(f.child.finn)]]));
    expect(mixed.status).toBe(404);
    const none = await browsers.mia.post(`/schriftje/moment/groep/${f.group.boomhut}`, { moment: 'drink:goed', van });
    expect(none.status).toBe(422);
    expect(await none.text()).toContain('Kies eerst een of meer kinderen.');
    // Staff of another group cannot write for these children through their own group either.
    const kees = await browsers.kees.post(`/schriftje/moment/groep/${f.group.kikkers}`, { moment: 'drink:goed', van, kind: String(f.child.evi) });
    expect(kees.status).toBe(404);
    expect(await counts()).toEqual(before);
  });

  it('a pick is taken back by staff of the group only; others get not found', async () => {
    const [item] = await items(f.child.noor);
    const path = `/schriftje/moment/${item!.id}/weg`;
    for (const who of ['kees', 'otto', 'bram'] as const) expect((await browsers[who].post(path, {})).status, who).toBe(404);
    expect((await browsers.anna.post(path, {})).status).toBe(404); // not Noor's parent
    expect((await browsers.mia.post(path, {}, { csrf: null })).status).toBe(403);
    expect(await portal.em().fork().count(DiaryItem, { id: item!.id })).toBe(1);
    const res = await browsers.mia.post(path, { groep: String(f.group.boomhut) }, { htmx: true });
    expect(res.status).toBe(200);
    expect(await portal.em().fork().count(DiaryItem, { id: item!.id })).toBe(0);
    expect((await browsers.mia.post('/schriftje/moment/niet-een-id/weg', {})).status).toBe(404);
  });
});
