import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendParent, unsuspendParent } from '../core/accounts/suspension.ts';
import { CalendarFeed } from '../core/entities/calendar-feed.ts';
import { createLogger } from '../core/log.ts';
import { parseIcs } from '../test/ics.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { admin, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { LOOSE, loggedInBrowser, scheduleWorldApp, TestBrowser } from './testing.ts';

/**
 * The agenda-koppeling over HTTP, from the attacker's side: a feed URL gives only its own
 * parent's children, a renewed or revoked URL and a suspended parent's URL are 404 at once, a
 * forged CSRF token cannot make or revoke a link, and fetching a feed sets no cookie. The token
 * never reaches the access log.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
const logLines: string[] = [];

const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);
const URL_IN_PAGE = /https?:\/\/[^"<\s]+\/agenda\/([A-Za-z0-9_-]{43})\.ics/;

/** Makes (or renews) the parent's link through the page and returns its path. */
async function makeLink(b: TestBrowser): Promise<string> {
  const res = await b.post('/mijn-gegevens/agenda-koppeling', {}, { visit: '/mijn-gegevens' });
  expect(res.status).toBe(200);
  const html = await res.text();
  const match = URL_IN_PAGE.exec(html);
  expect(match, 'the URL is on the page').not.toBeNull();
  expect(html).toContain(`webcal://${new URL(match![0]).host}/agenda/${match![1]}.ics`);
  return new URL(match![0]).pathname;
}

/** A calendar app: no cookies, its own address. */
const fetchFeed = (path: string) => new TestBrowser(app, { 'X-Forwarded-For': '203.0.113.9' }).get(path);

beforeAll(async () => {
  ({ portal } = await scheduleWorldApp());
  const log = createLogger('info', (l) => logLines.push(l), 'json');
  app = createApp({ ...portal, log }, LOOSE);
});
afterAll(async () => {
  await portal?.destroy();
});

describe('Agenda-koppeling over HTTP', () => {
  it('a parent makes a link on mijn gegevens; the feed is text/calendar, private, and sets no cookie', async () => {
    const anna = await loggedIn(PEOPLE.anna);
    const page = await (await anna.get('/mijn-gegevens')).text();
    expect(page).toContain('Agenda-koppeling maken');
    const path = await makeLink(anna);
    // The page never shows the URL again: only that there is a link.
    const after = await (await anna.get('/mijn-gegevens')).text();
    expect(after).not.toMatch(URL_IN_PAGE);
    expect(after).toContain('Nieuwe link maken');

    const res = await fetchFeed(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/calendar; charset=utf-8');
    expect(res.headers.get('Cache-Control')).toBe('private, no-store');
    expect(res.headers.getSetCookie()).toEqual([]);
    const ics = parseIcs(await res.text());
    const summaries = ics.events.map((e) => e['SUMMARY']).join('\n');
    expect(summaries).toContain('Evi naar de opvang (Boomhut)');
    expect(summaries).not.toMatch(/Sam|Lot|Noor|Pim/);
    // HEAD, as some calendar apps probe first: same answer, no cookie.
    const head = await new TestBrowser(app).request(path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.getSetCookie()).toEqual([]);
  });

  it("another parent's URL gives only that parent's children, never the attacker's own or a third family's", async () => {
    const cor = await loggedIn(PEOPLE.cor);
    const corPath = await makeLink(cor);
    const ics = parseIcs(await (await fetchFeed(corPath)).text());
    const summaries = ics.events.map((e) => e['SUMMARY']).join('\n');
    expect(summaries).toMatch(/Sam naar de opvang/);
    expect(summaries).toMatch(/Lot naar de opvang, ochtend \(Zolder\)/);
    expect(summaries).not.toMatch(/Evi|Noor|Pim/);
    // A feed fetched with Anna's session cookie is still Cor's: the cookie plays no part.
    const anna = await loggedIn(PEOPLE.anna);
    const withCookie = parseIcs(await (await anna.get(corPath)).text());
    expect(withCookie.events.map((e) => e['SUMMARY']).join('\n')).not.toMatch(/Evi/);
  });

  it('an unknown or malformed token is 404, without a cookie', async () => {
    for (const path of [`/agenda/${'A'.repeat(43)}.ics`, '/agenda/kort.ics', `/agenda/${'A'.repeat(43)}`]) {
      const res = await fetchFeed(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.getSetCookie(), path).toEqual([]);
    }
  });

  it('renewed: the old URL is 404 at once and the new one works; revoked: 404', async () => {
    const bart = await loggedIn(PEOPLE.bart);
    const first = await makeLink(bart);
    expect((await fetchFeed(first)).status).toBe(200);
    const second = await makeLink(bart);
    expect(second).not.toBe(first);
    expect((await fetchFeed(first)).status).toBe(404);
    expect((await fetchFeed(second)).status).toBe(200);

    const revoke = await bart.post('/mijn-gegevens/agenda-koppeling/intrekken', {});
    expect(revoke.status).toBe(303);
    expect((await fetchFeed(second)).status).toBe(404);
    expect(await (await bart.get('/mijn-gegevens')).text()).toContain('ingetrokken');
  });

  it('a suspended parent’s URL is 404 while suspended', async () => {
    const pia = await loggedIn('pia@example.nl');
    const path = await makeLink(pia);
    await suspendParent(portal.em(), admin, 'pia@example.nl', 'test');
    expect((await fetchFeed(path)).status).toBe(404);
    await unsuspendParent(portal.em(), admin, 'pia@example.nl');
    expect((await fetchFeed(path)).status).toBe(200);
  });

  it('a forged or missing CSRF token cannot make or revoke a link (403), and changes nothing', async () => {
    const eva = await loggedIn(PEOPLE.eva);
    const path = await makeLink(eva);
    const before = await portal.em().fork().find(CalendarFeed, {});
    for (const csrf of ['x'.repeat(43), null]) {
      expect((await eva.post('/mijn-gegevens/agenda-koppeling', {}, { csrf })).status).toBe(403);
      expect((await eva.post('/mijn-gegevens/agenda-koppeling/intrekken', {}, { csrf })).status).toBe(403);
    }
    // A cross-site form post with the right cookie but from another site is refused too.
    const crossSite = await eva.post('/mijn-gegevens/agenda-koppeling/intrekken', {}, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const after = await portal.em().fork().find(CalendarFeed, {});
    expect(after.map((r) => r.tokenHash)).toEqual(before.map((r) => r.tokenHash));
    expect((await fetchFeed(path)).status).toBe(200);
  });

  it('staff have no link to make (404), and the profile page shows them no card', async () => {
    const mia = await loggedIn(PEOPLE.mia);
    expect(await (await mia.get('/mijn-gegevens')).text()).not.toContain('Agenda-koppeling');
    expect((await mia.post('/mijn-gegevens/agenda-koppeling', {})).status).toBe(404);
  });

  it('never writes the token to the access log', async () => {
    const tokens = logLines.flatMap((l) => /[A-Za-z0-9_-]{43}\.ics/.exec(l) ?? []);
    expect(tokens).toEqual([]);
    const feedLines = logLines.map((l) => JSON.parse(l) as { path?: string }).filter((l) => l.path?.startsWith('/agenda/'));
    expect(feedLines.length).toBeGreaterThan(5);
    expect(new Set(feedLines.map((l) => l.path))).toEqual(new Set(['/agenda/[token]']));
  });
});

describe('the feed rate limit', () => {
  it('answers 429 with Retry-After past the limit per IP', async () => {
    const limited = createApp(portal, { ...LOOSE, calendarFeedRateLimit: { points: 3, seconds: 60 } });
    const b = new TestBrowser(limited, { 'X-Forwarded-For': '203.0.113.77' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await b.get(`/agenda/${'B'.repeat(43)}.ics`)).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
    const res = await b.get(`/agenda/${'B'.repeat(43)}.ics`);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Another address is not held up.
    expect((await new TestBrowser(limited, { 'X-Forwarded-For': '203.0.113.78' }).get(`/agenda/${'B'.repeat(43)}.ics`)).status).toBe(404);
  });
});
