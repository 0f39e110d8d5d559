import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Announcement, Message, MessageAttachment, MessageThread } from '../core/entities/message.ts';
import { sendAnnouncement } from '../core/messages/announcements.ts';
import { startThread } from '../core/messages/threads.ts';
import { type MessageWorld, PASSWORD, PEOPLE, type Person, seedMessageWorld } from '../test/messages.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { FAMILY, seedTwinFamily, storeAmbiguousThread, type TwinFamily } from '../test/thread-child.ts';
import { AuditEvent } from '../core/entities/audit.ts';
import { type AppEnv, createApp } from './app.ts';
import { TestBrowser, loggedInBrowser } from './testing.ts';

/**
 * Berichten over HTTP from every side: every route × every role with the status written down
 * (a route missing here fails the suite), refused writes that leave no row, stored XSS that
 * comes back escaped, replies with and without htmx, attachments, and the unread count.
 */

const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };
const XSS_NAME = 'Mia <img src=x onerror=alert(1)>';
const XSS_SUBJECT = '<script>alert("onderwerp")</script>';
const XSS_BODY = 'Zie https://example.nl/plan\n<img src=x onerror=alert(2)><script>alert(3)</script>';

let portal: TestPortal;
let app: Hono<AppEnv>;
let w: MessageWorld;
let threadId: string;
let announcementId: string;
let attachmentId: string;

type Who = 'anonymous' | Exclude<Person, 'bart'>;
const browsers = {} as Record<Who, TestBrowser>;

const pdf = (text: string) => new Blob([`%PDF-1.4\n% ${text}\ntrailer << >>\n%%EOF\n`], { type: 'application/pdf' });

const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);

/** A multipart POST as the browser sends a form with a file. */
async function postMultipart(b: TestBrowser, path: string, fields: Record<string, string | Blob>, htmx = false): Promise<Response> {
  if (!b.csrf) await b.get('/login');
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v, ...(v instanceof Blob ? ['upload.pdf'] : []));
  const headers: Record<string, string> = { 'X-CSRF-Token': b.csrf ?? '' };
  if (htmx) headers['HX-Request'] = 'true';
  return await b.request(path, { method: 'POST', body: form, headers });
}

const counts = async () => {
  const em = portal.em();
  return {
    threads: await em.count(MessageThread, {}),
    messages: await em.count(Message, {}),
    announcements: await em.count(Announcement, {}),
    attachments: await em.count(MessageAttachment, {}),
  };
};

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true, 'messages.maxAttachmentBytes': 50_000 });
  w = await seedMessageWorld(portal, { names: { mia: XSS_NAME, anna: 'Anna <b>vet</b>' } });
  app = createApp(portal, LOOSE);
  ({ threadId } = await startThread(portal.em(), portal, w.actors.anna, {
    groupId: w.groups.boomhut,
    subject: XSS_SUBJECT,
    body: XSS_BODY,
    attachment: { filename: 'briefje.pdf', data: new Uint8Array(await pdf('anna').arrayBuffer()) },
  }));
  attachmentId = (await portal.em().findOneOrFail(MessageAttachment, { message: { thread: threadId } })).id;
  ({ announcementId } = await sendAnnouncement(portal.em(), portal, w.actors.mia, {
    groupId: w.groups.boomhut,
    subject: `Mededeling ${XSS_SUBJECT}`,
    body: XSS_BODY,
  }));
  browsers.anonymous = new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.250' });
  for (const who of ['anna', 'cor', 'eva', 'mia', 'otto', 'hanna', 'ada'] as const) browsers[who] = await loggedIn(PEOPLE[who]);
});
afterAll(() => portal?.destroy());

describe('access to every message route', () => {
  const ROUTES = {
    inbox: 'GET /berichten',
    compose: 'GET /berichten/nieuw',
    start: 'POST /berichten/nieuw',
    groupInbox: 'GET /berichten/groep/:groupId',
    thread: 'GET /berichten/gesprek/:id',
    reply: 'POST /berichten/gesprek/:id',
    markRead: 'POST /berichten/gesprek/:id/gelezen',
    assignChild: 'POST /berichten/gesprek/:id/kind',
    announceForm: 'GET /berichten/mededeling/nieuw',
    announce: 'POST /berichten/mededeling/nieuw',
    announcement: 'GET /berichten/mededeling/:id',
    confirm: 'POST /berichten/mededeling/:id/bevestigen',
    confirmations: 'GET /berichten/mededeling/:id/bevestigingen',
    remind: 'POST /berichten/mededeling/:id/herinnering',
    attachment: 'GET /berichten/bijlage/:id',
  } as const;
  type Route = keyof typeof ROUTES;

  /**
   * Anna: mother of Evi (Boomhut), wrote the thread. Cor: Sam in Boomhut, not Evi's parent.
   * Eva: Noor in Vlinder (Noord). Mia: staff of Boomhut. Otto: staff of Vlinder (Noord).
   * Hanna: manager of Centrum. Ada: admin. 303 = login page for anonymous, else PRG.
   * assignChild: the thread is settled (it names its child), so whoever may assign gets 409.
   * confirm, confirmations, remind: this announcement asks for no read confirmation, so nobody
   * may (http/confirmations.test.ts has one that does).
   */
  const MATRIX: Record<Who, Record<Route, number>> = {
    anonymous: { inbox: 303, compose: 303, start: 303, groupInbox: 303, thread: 303, reply: 303, markRead: 303, assignChild: 303, announceForm: 303, announce: 303, announcement: 303, confirm: 303, confirmations: 303, remind: 303, attachment: 303 },
    anna: { inbox: 200, compose: 200, start: 303, groupInbox: 404, thread: 200, reply: 303, markRead: 303, assignChild: 404, announceForm: 303, announce: 404, announcement: 200, confirm: 404, confirmations: 404, remind: 404, attachment: 200 },
    cor: { inbox: 200, compose: 200, start: 303, groupInbox: 404, thread: 404, reply: 404, markRead: 404, assignChild: 404, announceForm: 303, announce: 404, announcement: 200, confirm: 404, confirmations: 404, remind: 404, attachment: 404 },
    eva: { inbox: 200, compose: 200, start: 404, groupInbox: 404, thread: 404, reply: 404, markRead: 404, assignChild: 404, announceForm: 303, announce: 404, announcement: 404, confirm: 404, confirmations: 404, remind: 404, attachment: 404 },
    mia: { inbox: 200, compose: 303, start: 404, groupInbox: 200, thread: 200, reply: 303, markRead: 303, assignChild: 409, announceForm: 200, announce: 303, announcement: 200, confirm: 404, confirmations: 404, remind: 404, attachment: 200 },
    otto: { inbox: 200, compose: 303, start: 404, groupInbox: 404, thread: 404, reply: 404, markRead: 404, assignChild: 404, announceForm: 200, announce: 404, announcement: 404, confirm: 404, confirmations: 404, remind: 404, attachment: 404 },
    hanna: { inbox: 200, compose: 303, start: 404, groupInbox: 200, thread: 200, reply: 303, markRead: 303, assignChild: 409, announceForm: 200, announce: 303, announcement: 200, confirm: 404, confirmations: 404, remind: 404, attachment: 200 },
    ada: { inbox: 200, compose: 303, start: 404, groupInbox: 200, thread: 200, reply: 303, markRead: 303, assignChild: 409, announceForm: 200, announce: 303, announcement: 200, confirm: 404, confirmations: 404, remind: 404, attachment: 200 },
  };

  /** The rows a successful write adds. */
  const WRITES: Partial<Record<Route, Partial<Awaited<ReturnType<typeof counts>>>>> = {
    start: { threads: 1, messages: 1 },
    reply: { messages: 1 },
    announce: { announcements: 1 },
  };

  const call = async (b: TestBrowser, route: Route): Promise<Response> => {
    const boomhut = String(w.groups.boomhut);
    switch (route) {
      case 'inbox':
        return await b.get('/berichten');
      case 'compose':
        return await b.get('/berichten/nieuw');
      case 'start':
        return await b.post('/berichten/nieuw', { groep: boomhut, onderwerp: 'Vraag', bericht: 'Hoe gaat het?' });
      case 'groupInbox':
        return await b.get(`/berichten/groep/${boomhut}`);
      case 'thread':
        return await b.get(`/berichten/gesprek/${threadId}`);
      case 'reply':
        return await b.post(`/berichten/gesprek/${threadId}`, { bericht: 'Een antwoord' });
      case 'markRead':
        return await b.post(`/berichten/gesprek/${threadId}/gelezen`, {});
      case 'assignChild':
        return await b.post(`/berichten/gesprek/${threadId}/kind`, { kind: 'K1' });
      case 'announceForm':
        return await b.get('/berichten/mededeling/nieuw');
      case 'announce':
        return await b.post('/berichten/mededeling/nieuw', { aan: `groep:${boomhut}`, onderwerp: 'Let op', bericht: 'Tekst' });
      case 'announcement':
        return await b.get(`/berichten/mededeling/${announcementId}`);
      case 'confirm':
        return await b.post(`/berichten/mededeling/${announcementId}/bevestigen`, {});
      case 'confirmations':
        return await b.get(`/berichten/mededeling/${announcementId}/bevestigingen`);
      case 'remind':
        return await b.post(`/berichten/mededeling/${announcementId}/herinnering`, {});
      case 'attachment':
        return await b.get(`/berichten/bijlage/${attachmentId}`);
    }
  };

  it('lists every route the app has under /berichten', () => {
    const registered = app.routes
      .filter((r) => r.path.startsWith('/berichten') && ['GET', 'POST'].includes(r.method))
      .map((r) => `${r.method} ${r.path}`);
    expect([...new Set(registered)].sort()).toEqual(Object.values(ROUTES).sort());
  });

  for (const who of Object.keys(MATRIX) as Who[]) {
    it(`${who}: ${Object.entries(MATRIX[who]).map(([r, s]) => `${r} ${s}`).join(', ')}`, async () => {
      for (const route of Object.keys(ROUTES) as Route[]) {
        const before = await counts();
        const res = await call(browsers[who], route);
        const expected = MATRIX[who][route];
        expect(res.status, `${who} ${route}`).toBe(expected);
        const body = new Uint8Array(await res.arrayBuffer());
        if (who === 'anonymous') expect(res.headers.get('Location'), route).toBe('/login');
        const after = await counts();
        const added = expected === 303 && who !== 'anonymous' ? (WRITES[route] ?? {}) : {};
        for (const key of Object.keys(before) as (keyof typeof before)[]) {
          expect(after[key] - before[key], `${who} ${route}: ${key}`).toBe(added[key] ?? 0);
        }
        const isPdf = new TextDecoder().decode(body.subarray(0, 5)) === '%PDF-';
        expect(isPdf, `${who} ${route}`).toBe(route === 'attachment' && expected === 200);
        if (route === 'attachment' && expected !== 200) expect(res.headers.get('Content-Disposition')).toBeNull();
      }
    });
  }

  it('an unknown or malformed id is 404 like a refused one', async () => {
    for (const path of [
      '/berichten/gesprek/00000000-0000-4000-8000-000000000000',
      '/berichten/gesprek/1',
      '/berichten/mededeling/niet-een-id',
      '/berichten/bijlage/00000000-0000-4000-8000-000000000000',
      '/berichten/groep/abc',
    ]) {
      expect((await browsers.hanna.get(path)).status, path).toBe(404);
    }
  });
});

describe('what the pages show', () => {
  it('stored XSS in subjects, bodies and names comes back escaped on every page, links made clickable', async () => {
    const pages = [
      [browsers.mia, `/berichten/gesprek/${threadId}`],
      [browsers.anna, `/berichten/gesprek/${threadId}`],
      [browsers.mia, `/berichten/groep/${w.groups.boomhut}`],
      [browsers.anna, '/berichten'],
      [browsers.anna, `/berichten/mededeling/${announcementId}`],
      [browsers.mia, '/berichten'],
    ] as const;
    for (const [b, path] of pages) {
      const html = await (await b.get(path)).text();
      expect(html, path).toContain('&lt;script&gt;alert(&quot;onderwerp&quot;)&lt;/script&gt;');
      expect(html, path).not.toMatch(/<script>alert|<img src=x|<b>vet/);
      if (path.includes('gesprek') || path.includes('mededeling/')) {
        expect(html, path).toContain('&lt;img src=x onerror=alert(2)&gt;');
        expect(html, path).toContain('<a href="https://example.nl/plan" rel="noopener noreferrer nofollow" target="_blank">');
      }
    }
    const staffView = await (await browsers.anna.get(`/berichten/gesprek/${threadId}`)).text();
    expect(staffView).toContain('Anna &lt;b&gt;vet&lt;/b&gt; Ouder');
    const announcement = await (await browsers.anna.get(`/berichten/mededeling/${announcementId}`)).text();
    expect(announcement).toContain('Mia &lt;img src=x onerror=alert(1)&gt; Werker');
  });

  it('the compose page offers only the parent\'s groups, with the reading time and the phone number', async () => {
    const cor = await (await browsers.cor.get('/berichten/nieuw')).text();
    expect(cor).toContain('<select id="groep" name="groep">');
    expect(cor).toContain('Boomhut (voor Sam)');
    expect(cor).toContain('Zolder (voor Lot)');
    expect(cor).toContain('rond 12:30 uur');
    expect(cor).toContain('<a href="tel:0451112233">045 111 22 33</a>');
    const eva = await (await browsers.eva.get('/berichten/nieuw')).text();
    expect(eva).not.toContain('<select');
    expect(eva).toContain('Vlinder (voor Noor)');
    expect(eva).toContain('rond 12:00 uur');
    expect(eva).toContain('045 999 88 77');
    expect(eva).not.toContain('Boomhut');
  });

  it('a new message: errors next to the fields keep what was typed; success redirects with "Bericht verstuurd"', async () => {
    const before = await counts();
    const bad = await browsers.eva.post('/berichten/nieuw', { groep: String(w.groups.vlinder), onderwerp: '', bericht: 'Mijn tekst <blijft>' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('id="onderwerp-error"');
    expect(html).toContain('Mijn tekst &lt;blijft&gt;</textarea>');
    expect(await counts()).toEqual(before);
    const ok = await browsers.eva.post('/berichten/nieuw', { groep: String(w.groups.vlinder), onderwerp: 'Slaapje', bericht: 'Noor sliep slecht.' });
    expect(ok.status).toBe(303);
    const location = ok.headers.get('Location')!;
    expect(location).toMatch(/^\/berichten\/gesprek\/[0-9a-f-]{36}$/);
    const page = await (await browsers.eva.get(location)).text();
    expect(page).toContain('<p class="flash" role="status">Bericht verstuurd.</p>');
    expect(page).toContain('Nog niet gelezen door de groep');
  });

  it('replies by htmx swap the thread in place (200, no page), errors come back as 422 in the fragment', async () => {
    const bad = await browsers.mia.post(`/berichten/gesprek/${threadId}`, { bericht: '   ' }, { htmx: true });
    expect(bad.status).toBe(422);
    const fragment = await bad.text();
    expect(fragment).not.toContain('<html');
    expect(fragment).toContain('<div id="thread">');
    expect(fragment).toContain('id="bericht-error"');
    const ok = await browsers.mia.post(`/berichten/gesprek/${threadId}`, { bericht: 'Antwoord via htmx' }, { htmx: true });
    expect(ok.status).toBe(200);
    const swapped = await ok.text();
    expect(swapped).not.toContain('<html');
    expect(swapped).toContain('Antwoord via htmx');
    expect(swapped).toContain('role="status">Bericht verstuurd.');
  });

  it('the unread count beside Berichten follows what the parent has opened', async () => {
    const navCount = async (b: TestBrowser, path = '/berichten') =>
      /<a href="\/berichten"[^>]*>Berichten(?: <span class="nav-count">(\d+)<span class="vh"> ongelezen<\/span><\/span>)?<\/a>/.exec(
        await (await b.get(path)).text(),
      )?.[1] ?? '0';
    await browsers.anna.get(`/berichten/gesprek/${threadId}`);
    const before = Number(await navCount(browsers.anna));
    const fresh = await sendAnnouncement(portal.em(), portal, w.actors.mia, { groupId: w.groups.boomhut, subject: 'Nieuw', body: 'Nieuw' });
    expect(Number(await navCount(browsers.anna))).toBe(before + 1);
    // Home counts it in its own statement (core/home/home.ts): the same number.
    expect(Number(await navCount(browsers.anna, '/'))).toBe(before + 1);
    await browsers.anna.get(`/berichten/mededeling/${fresh.announcementId}`);
    expect(Number(await navCount(browsers.anna, '/'))).toBe(before);
    expect(Number(await navCount(browsers.anna))).toBe(before);
    // Each answer comes after what its reader has opened (at one instant, the read mark covers it).
    portal.clock.advance({ minutes: 1 });
    await browsers.mia.post(`/berichten/gesprek/${threadId}`, { bericht: 'Nog een antwoord' });
    expect(Number(await navCount(browsers.anna))).toBe(before + 1);
    // The thread page itself already shows the count without the thread it marks read.
    expect(Number(await navCount(browsers.anna, `/berichten/gesprek/${threadId}`))).toBe(before);
    const staffBefore = Number(await navCount(browsers.mia, '/'));
    const otherBefore = await navCount(browsers.otto, '/');
    portal.clock.advance({ minutes: 1 });
    await browsers.anna.post(`/berichten/gesprek/${threadId}`, { bericht: 'Dank u!' });
    expect(Number(await navCount(browsers.mia, '/'))).toBe(staffBefore + 1);
    expect(await navCount(browsers.otto, '/')).toBe(otherBefore);
    // Images and fragments do not pay for the count: no query result shows up there.
    const fragment = await (await browsers.anna.get('/berichten', { 'HX-Request': 'true' })).text();
    expect(fragment).not.toContain('class="nav-count"');
  });
});

describe('attachments over HTTP', () => {
  it('are served as downloads, never rendered: attachment disposition, nosniff, their own type', async () => {
    const res = await browsers.mia.get(`/berichten/bijlage/${attachmentId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/pdf');
    expect(res.headers.get('Content-Disposition')).toBe(`attachment; filename="briefje.pdf"; filename*=UTF-8''briefje.pdf`);
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('a file that is not a PDF or image, or too large, is refused next to the field and nothing is written', async () => {
    const before = await counts();
    const html = new Blob(['<html><script>alert(1)</script></html>'], { type: 'application/pdf' });
    const refused = await postMultipart(browsers.anna, `/berichten/gesprek/${threadId}`, { bericht: 'Zie bijlage', bijlage: html }, true);
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('Dit soort bestand kan niet mee.');
    const big = await postMultipart(browsers.anna, `/berichten/gesprek/${threadId}`, { bericht: 'Groot', bijlage: pdf('x'.repeat(60_000)) }, true);
    expect(big.status).toBe(422);
    expect(await big.text()).toContain('Een bijlage mag hoogstens 49 kB zijn.');
    expect(await counts()).toEqual(before);

    const ok = await postMultipart(browsers.anna, `/berichten/gesprek/${threadId}`, { bericht: 'Met bijlage', bijlage: pdf('ok') }, true);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/href="\/berichten\/bijlage\/[0-9a-f-]{36}" download>Bijlage: upload\.pdf/);
    expect((await counts()).attachments).toBe(before.attachments + 1);
  });

  it('an attachment over the forms\' 1 MB but within messages.maxAttachmentBytes goes through', async () => {
    // The same portal with the default-sized limit (5 MB; this file runs with 50 kB elsewhere).
    const roomy = createApp({ ...portal, config: { ...portal.config, messages: { maxAttachmentBytes: 5 * 1024 * 1024 } } }, LOOSE);
    const anna = await loggedInBrowser(roomy, PEOPLE.anna, PASSWORD);
    const before = await counts();
    const res = await postMultipart(anna, `/berichten/gesprek/${threadId}`, { bericht: 'Het verslag', bijlage: pdf('z'.repeat(2_000_000)) }, true);
    expect(res.status).toBe(200);
    expect((await counts()).attachments).toBe(before.attachments + 1);
    const [row] = await portal
      .em()
      .getConnection()
      .execute<{ size: number }[]>(`select a.size from message_attachment a join message m on m.id = a.message_id where m.body = 'Het verslag'`);
    expect(row!.size).toBeGreaterThan(2_000_000);
  });

  it('a body far over the limit is cut off before it is read', async () => {
    const res = await postMultipart(browsers.anna, `/berichten/gesprek/${threadId}`, { bericht: 'x', bijlage: pdf('y'.repeat(1_200_000)) });
    expect(res.status).toBe(413);
  });
});

describe('announcements over HTTP', () => {
  it('a manager sends to the whole location; parents there see it, others not; no choice is a 422', async () => {
    const none = await browsers.hanna.post('/berichten/mededeling/nieuw', { onderwerp: 'x', bericht: 'y' });
    expect(none.status).toBe(422);
    expect(await none.text()).toContain('Kies aan wie de mededeling gaat.');
    const form = await (await browsers.hanna.get('/berichten/mededeling/nieuw')).text();
    expect(form).toContain(`value="vestiging:${w.locations.centrum}"`);
    expect(form).not.toContain(`vestiging:${w.locations.noord}`);
    const staffForm = await (await browsers.mia.get('/berichten/mededeling/nieuw')).text();
    expect(staffForm).not.toContain('vestiging:');
    const res = await browsers.hanna.post('/berichten/mededeling/nieuw', {
      aan: `vestiging:${w.locations.centrum}`,
      onderwerp: 'Sluiting vrijdag',
      bericht: 'Vrijdag sluiten wij om 17:00.',
    });
    expect(res.status).toBe(303);
    const page = await (await browsers.hanna.get(res.headers.get('Location')!)).text();
    expect(page).toContain('Mededeling verstuurd.');
    expect(await (await browsers.cor.get('/berichten')).text()).toContain('Sluiting vrijdag');
    expect(await (await browsers.eva.get('/berichten')).text()).not.toContain('Sluiting vrijdag');
    expect(await (await browsers.otto.get('/berichten')).text()).not.toContain('Sluiting vrijdag');
  });
});

describe('a message is about one child', () => {
  /** Cor has Sam and Ties in Boomhut; Dirk is Sam's other parent only, Femke Ties's (test/thread-child.ts). */
  let f: TwinFamily;
  let cor: TestBrowser;
  let dirk: TestBrowser;
  let femke: TestBrowser;

  beforeAll(async () => {
    f = await seedTwinFamily(portal);
    cor = await loggedIn(PEOPLE.cor);
    dirk = await loggedIn(FAMILY.dirk);
    femke = await loggedIn(FAMILY.femke);
  });

  it('two children in the group: the form asks which one, as radio buttons in a fieldset with a legend', async () => {
    const html = await (await cor.get(`/berichten/nieuw?groep=${w.groups.boomhut}`)).text();
    expect(html).toMatch(/<fieldset class="field">\s*<legend>Over welk kind in Boomhut gaat dit bericht\?<\/legend>/);
    expect(html).toContain(`<input type="radio" name="kind" value="${f.children.sam}" required> Sam Jansen</label>`);
    expect(html).toContain(`<input type="radio" name="kind" value="${f.children.ties}" required> Ties Jansen</label>`);
    // One child in the group: who it is about, as text.
    const eva = await (await browsers.eva.get('/berichten/nieuw')).text();
    expect(eva).toContain('<strong>Over:</strong> Noor Jansen');
    expect(eva).not.toContain('type="radio"');
  });

  it('without a choice: 422 with the error in the fieldset and what was typed kept; nothing written', async () => {
    const before = await counts();
    const res = await cor.post('/berichten/nieuw', { groep: String(w.groups.boomhut), onderwerp: 'Ties: medicijnen', bericht: 'Ties krijgt <antibiotica>.' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('aria-describedby="kind-error"');
    expect(html).toContain('<p class="field-error" id="kind-error">Kies over welk kind dit bericht gaat.');
    expect(html).toContain('value="Ties: medicijnen"');
    expect(html).toContain('Ties krijgt &lt;antibiotica&gt;.</textarea>');
    expect(html).toContain(`value="${f.children.ties}" required>`);
    // A child of someone else is no choice either.
    const foreign = await cor.post('/berichten/nieuw', { groep: String(w.groups.boomhut), kind: String(f.children.evi), onderwerp: 'x', bericht: 'y' });
    expect(foreign.status).toBe(422);
    expect(await counts()).toEqual(before);
  });

  it('about Ties: Femke reads it, Dirk sees it nowhere and gets 404 for its address', async () => {
    const res = await cor.post('/berichten/nieuw', {
      groep: String(w.groups.boomhut),
      kind: String(f.children.ties),
      onderwerp: 'Ties: medicijnen',
      bericht: 'Ties krijgt antibiotica.',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location')!;
    await browsers.mia.post(location, { bericht: 'Genoteerd.' });
    expect(await (await femke.get(location)).text()).toContain('Ties Jansen · Boomhut');
    expect((await dirk.get(location)).status).toBe(404);
    expect((await dirk.post(location, { bericht: 'En Sam?' })).status).toBe(404);
    const inbox = await (await dirk.get('/berichten')).text();
    expect(inbox).not.toContain('Ties: medicijnen');
  });

  it('a stored thread that may be about either child: only Cor sees it until staff assign the child on its page', async () => {
    const id = await storeAmbiguousThread(portal, w, f);
    const path = `/berichten/gesprek/${id}`;
    expect((await dirk.get(path)).status).toBe(404);
    expect((await femke.get(path)).status).toBe(404);
    expect(await (await dirk.get('/berichten')).text()).not.toContain('Medicijnen');
    const own = await (await cor.get(path)).text();
    expect(own).toContain('Tot dan ziet alleen u het.');
    expect(own).not.toContain(`${path}/kind`);

    const staff = await (await browsers.mia.get(path)).text();
    expect(staff).toContain(`<form method="post" action="${path}/kind">`);
    expect(staff).toContain('<legend>Het gesprek gaat over</legend>');
    expect(staff).toContain('value="K5" required> Ties Jansen');
    // Without the CSRF token it is refused; a parent or staff of another group is not found.
    expect((await browsers.mia.post(`${path}/kind`, { kind: 'K5' }, { csrf: null })).status).toBe(403);
    expect((await cor.post(`${path}/kind`, { kind: 'K5' })).status).toBe(404);
    expect((await browsers.otto.post(`${path}/kind`, { kind: 'K5' })).status).toBe(404);
    expect((await browsers.mia.post(`${path}/kind`, { kind: 'K3' })).status).toBe(422);

    const assigned = await browsers.mia.post(`${path}/kind`, { kind: 'K5' });
    expect(assigned.status).toBe(303);
    expect(assigned.headers.get('Location')).toBe(path);
    expect(await (await femke.get(path)).text()).toContain('Ties Jansen · Boomhut');
    expect((await dirk.get(path)).status).toBe(404);
    expect(await (await browsers.mia.get(path)).text()).not.toContain(`${path}/kind`);
    const event = await portal.em().fork().findOneOrFail(AuditEvent, { type: 'message.child_assigned' });
    expect(event).toMatchObject({ actor: `web:${PEOPLE.mia}`, subject: 'K5', details: { threadId: id, from: 'K2', to: 'K5' } });
  });
});
