import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveStaffEntry } from '../core/diary/entries.ts';
import { leaveChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Staff } from '../core/entities/staff.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import type { Actor } from '../core/actor.ts';
import { MENTOR_PARENTS, MENTOR_STAFF, seedMentorWorld } from '../test/mentor-world.ts';
import { texturedPhoto } from '../test/pictures.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { readZip } from '../test/zip.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, LOOSE, loggedInBrowser, type TestBrowser } from './testing.ts';

/**
 * The year book over HTTP: the parent's page and the form that answers with the ZIP, and the
 * attacker's side: another family's child and staff get 404, a forged or missing CSRF token 403,
 * a second book within the hour 429 with the page saying from when, and a left child's book is
 * 404 once its archive period is over.
 *
 * The mentor world: Anna is Evi's parent (K1), Bert Noor's (K2), Mia works in Boomhut.
 */

const PASSWORD = 'een lange zin als wachtwoord';

let portal: TestPortal;
let app: Hono<AppEnv>;
const b = {} as Record<'anna' | 'bert' | 'mia', TestBrowser>;
const id = {} as Record<'evi' | 'noor', number>;
const book = (childId: number) => `/kind/${childId}/herinneringenboek`;

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await seedMentorWorld(em);
  for (const n of ['K1', 'K2']) await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  id.evi = (await em.findOneOrFail(Child, { childNumber: 'K1' })).id;
  id.noor = (await em.findOneOrFail(Child, { childNumber: 'K2' })).id;
  const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  const { photoId } = await uploadPhoto(em, portal, mia, { groupId, data: await texturedPhoto(80) });
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), mia, photoId, { childNumbers: ['K1'] });
  await saveStaffEntry(portal.em(), mia, { lines: [] }, id.evi, { text: 'Evi speelde met de blokken.' });
  app = createApp(portal, LOOSE);
  for (const e of [...MENTOR_STAFF, ...MENTOR_PARENTS]) await accountFor(portal, e, PASSWORD);
  for (const who of ['anna', 'bert', 'mia'] as const) b[who] = await loggedInBrowser(app, `${who}@example.nl`, PASSWORD);
});
afterAll(() => portal?.destroy());

describe('the parent', () => {
  it('finds the book on the child card and in Mijn gegevens; the page says what is in it', async () => {
    expect(await (await b.anna.get('/')).text()).toContain(`href="${book(id.evi)}"`);
    expect(await (await b.anna.get('/mijn-gegevens')).text()).toContain(`href="${book(id.evi)}"`);
    const res = await b.anna.get(book(id.evi));
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Herinneringenboek van Evi');
    expect(page).toContain('1 foto');
    expect(page).toContain('1 stukje in het schriftje');
    expect(page).toContain('Maak het boek');
  });

  it('a forged or missing CSRF token is refused (403) and makes nothing', async () => {
    expect((await b.anna.post(book(id.evi), {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await b.anna.post(book(id.evi), {}, { csrf: null })).status).toBe(403);
    const rows = await portal.em().getConnection().execute('select * from year_book');
    expect(rows).toHaveLength(0);
  });

  it('another family, staff: 404 on the page and on the button', async () => {
    expect((await b.bert.get(book(id.evi))).status).toBe(404);
    expect((await b.bert.post(book(id.evi), {}, { visit: book(id.noor) })).status).toBe(404);
    expect((await b.mia.get(book(id.evi))).status).toBe(404);
    expect((await b.mia.post(book(id.evi), {}, { visit: '/' })).status).toBe(404);
    expect((await b.anna.get('/kind/abc/herinneringenboek')).status).toBe(404);
  });

  it('the button answers with the ZIP; a second within the hour is 429 with the page saying from when', async () => {
    const res = await b.anna.post(book(id.evi), {}, { visit: book(id.evi) });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/zip');
    expect(res.headers.get('Content-Disposition')).toBe(`attachment; filename="herinneringenboek-evi-${portal.clock.today()}.zip"`);
    const zip = readZip(Buffer.from(await res.arrayBuffer()));
    expect([...zip.keys()].filter((k) => k.endsWith('.jpg'))).toHaveLength(1);
    expect(zip.get('dagboek.html')!.toString()).toContain('Evi speelde met de blokken.');

    const again = await b.anna.post(book(id.evi), {}, { visit: book(id.evi) });
    expect(again.status).toBe(429);
    const page = await again.text();
    expect(page).toContain('het afgelopen uur al gemaakt');
    expect(page).toContain('U kunt het weer maken vanaf');
    expect(page).not.toContain('Maak het boek</button>');
  });
});

describe('a child who left', () => {
  it("keeps the book until leftOn + leaverGraceDays, then it is 404 (page and button)", async () => {
    const grace = portal.config.retention.leaverGraceDays;
    await leaveChild(portal.em(), admin, 'K2', { date: portal.clock.today() }, { leaverGraceDays: grace });
    const open = await b.bert.get(book(id.noor));
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('Noor is van de opvang af');
    portal.clock.advance({ days: grace + 1 });
    // Weeks later the session is gone: Bert logs in again (a parent keeps the login).
    const bert = await loggedInBrowser(app, 'bert@example.nl', PASSWORD);
    expect((await bert.get(book(id.noor))).status).toBe(404);
    expect((await bert.post(book(id.noor), {}, { visit: '/' })).status).toBe(404);
    expect(await (await bert.get('/mijn-gegevens')).text()).not.toContain(book(id.noor));
  });
});
