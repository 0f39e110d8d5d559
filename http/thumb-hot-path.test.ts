import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendParent } from '../core/accounts/suspension.ts';
import type { Actor } from '../core/actor.ts';
import { hashSessionId } from '../core/auth/sessions.ts';
import { createLogger } from '../core/log.ts';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { Account, Session } from '../core/entities/account.ts';
import { Group } from '../core/entities/group.ts';
import { Photo } from '../core/entities/photo.ts';
import { Staff } from '../core/entities/staff.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { texturedPhoto } from '../test/pictures.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, LOOSE, TestBrowser } from './testing.ts';

/**
 * `GET /fotos/:id/klein` on its hot path (routes/photos.ts thumbHotPath, before the session
 * loader) from the attacker's side: another family's photo, a withdrawn consent, a suspended
 * parent, a timed-out or half-finished session all get no bytes on the very next request, and
 * exactly the answer of the ordinary route. Whether a request took the hot path shows in the
 * units of work the app asked for: the hot path asks for none.
 */

const PASSWORD = 'een lange zin als wachtwoord';
let portal: TestPortal;
let app: Hono<AppEnv>;
/** portal.em() calls by the app: the ordinary way forks one per request, the hot path none. */
let units = 0;
/** Evi (Anna's and Cor's child) in Boomhut; Lot (Eva's) in Zolder; nobody tagged yet in Boomhut (held). */
let eviPhoto: string;
let lotPhoto: string;
let heldPhoto: string;
let ip = 0;
/** The app's JSON log lines (the access log among them). */
const logLines: string[] = [];

const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8;
const thumbKey = async (id: string) => (await portal.em().findOneOrFail(Photo, { id })).thumbKey!;

async function loggedIn(email: string, landing = '/'): Promise<TestBrowser> {
  ip++;
  const b = new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${ip}` });
  const res = await b.login(email, PASSWORD);
  expect(res.status, email).toBe(303);
  expect(res.headers.get('Location'), email).toBe(landing);
  return b;
}

/** The thumbnail as the browser asks for it, with how many units of work the app made for it. */
async function thumb(b: TestBrowser, id: string, headers: Record<string, string> = {}) {
  const before = units;
  const res = await b.get(`/fotos/${id}/klein`, { Accept: 'image/avif,image/webp,image/*,*/*;q=0.8', ...headers });
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body, hot: units === before };
}

/** Not one byte of an image, whatever the status. */
function noImage(r: { res: Response; body: Uint8Array }, what: string) {
  expect(r.res.headers.get('Content-Type') ?? '', what).not.toMatch(/^image\//);
  expect(isJpeg(r.body), what).toBe(false);
  expect(r.res.headers.get('ETag'), what).toBeNull();
}

const sessionHash = (b: TestBrowser) => hashSessionId(b.cookie('portal-session')!);

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  const counted = () => {
    units++;
    return portal.em();
  };
  const log = createLogger('info', (line) => logLines.push(line), 'json');
  app = createApp({ ...portal, em: counted, log }, LOOSE);
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Noord', name: 'Zolder' });
  const since = addDays(portal.clock.today(), -10);
  for (const [n, name, group] of [['K1', 'Evi', 'Boomhut'], ['K9', 'Lot', 'Zolder']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  for (const [email, child] of [['anna@example.nl', 'K1'], ['cor@example.nl', 'K1'], ['dirk@example.nl', 'K1'], ['eva@example.nl', 'K9'], ['nieuw@example.nl', 'K1']] as const) {
    await addParent(em, admin, { email, firstName: 'Ouder', lastName: 'Test', children: [child] });
    await accountFor(portal, email, PASSWORD);
  }
  await portal.em().nativeUpdate(Account, { email: 'nieuw@example.nl' }, { passwordMustChange: true });
  for (const [email, group] of [['mia@example.nl', 'Boomhut'], ['otto@example.nl', 'Zolder']] as const) {
    await addStaff(em, admin, { email, firstName: 'Mede', lastName: 'Werker', role: 'staff' });
    await assignStaff(em, admin, email, { group });
    await accountFor(portal, email, PASSWORD);
  }
  const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const otto: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'otto@example.nl' })).id, label: 'otto' };
  const upload = async (who: Actor, group: string, hue: number, tags: string[]) => {
    const { photoId } = await uploadPhoto(portal.em(), portal, who, {
      groupId: (await portal.em().findOneOrFail(Group, { name: group })).id,
      data: await texturedPhoto(hue, { width: 800, height: 600, quality: 90 }),
    });
    await processUploadedPhoto(portal, photoId);
    if (tags.length) await tagPhoto(portal.em(), who, photoId, { childNumbers: tags });
    return photoId;
  };
  eviPhoto = await upload(mia, 'Boomhut', 200, ['K1']);
  lotPhoto = await upload(otto, 'Zolder', 40, ['K9']);
  heldPhoto = await upload(mia, 'Boomhut', 300, []);
});
afterAll(() => portal?.destroy());

describe('the thumbnail on its hot path', () => {
  it('serves a parent their child\'s thumbnail without a unit of work: the stored bytes, the caching and security headers', async () => {
    const anna = await loggedIn('anna@example.nl');
    const r = await thumb(anna, eviPhoto);
    expect(r.res.status).toBe(200);
    expect(r.hot).toBe(true);
    const key = await thumbKey(eviPhoto);
    expect(Buffer.from(r.body).equals(await portal.photos.get(key))).toBe(true);
    const h = r.res.headers;
    expect(h.get('Content-Type')).toBe('image/jpeg');
    expect(h.get('Cache-Control')).toBe('private, no-cache');
    expect(h.get('ETag')).toBe(`"${key}"`);
    expect(h.get('Vary')).toBe('Cookie');
    expect(h.get('X-Content-Type-Options')).toBe('nosniff');
    // The middleware outside it still applies: security headers and the request id of the access log.
    expect(h.get('Content-Security-Policy')).toContain("default-src 'self'");
    expect(h.get('X-Frame-Options')).toBe('DENY');
    expect(h.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.get('Set-Cookie')).toBeNull();
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reqId === h.get('X-Request-Id'));
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: `/fotos/${eviPhoto}/klein`, status: 200 });
    // Who took the image is in the access log, as on the ordinary path.
    expect(line?.account).toEqual(expect.any(Number));
  });

  it('answers 304 to a matching ETag only when allowed; another family\'s photo is 404 with or without one', async () => {
    const anna = await loggedIn('anna@example.nl');
    const own = `"${await thumbKey(eviPhoto)}"`;
    for (const tag of [own, `W/${own}`, `"x", ${own}`]) {
      const r = await thumb(anna, eviPhoto, { 'If-None-Match': tag });
      expect(r.res.status, tag).toBe(304);
      expect(r.body.byteLength).toBe(0);
      expect(r.hot).toBe(true);
    }
    expect((await thumb(anna, eviPhoto, { 'If-None-Match': '"iets anders"' })).res.status).toBe(200);
    const theirs = `"${await thumbKey(lotPhoto)}"`;
    for (const headers of [{}, { 'If-None-Match': theirs }] as Record<string, string>[]) {
      const r = await thumb(anna, lotPhoto, headers);
      expect(r.res.status).toBe(404);
      noImage(r, 'another family');
    }
    // Unknown and malformed ids: the same 404.
    for (const id of ['00000000-0000-4000-8000-000000000000', 'niet-een-id']) {
      const r = await thumb(anna, id);
      expect(r.res.status, id).toBe(404);
      noImage(r, id);
    }
    // A photo no child is tagged in yet (held): not for parents.
    expect((await thumb(anna, heldPhoto)).res.status).toBe(404);
  });

  it('a withdrawn consent makes the thumbnail 404 on the very next request, cached ETag or not; a new grant serves it again', async () => {
    const anna = await loggedIn('anna@example.nl');
    const first = await thumb(anna, eviPhoto);
    expect(first.res.status).toBe(200);
    const etag = first.res.headers.get('ETag')!;
    await setConsent(portal.em(), admin, 'K1', { internal: 'nee', external: 'nee' });
    try {
      for (const headers of [{}, { 'If-None-Match': etag }] as Record<string, string>[]) {
        const r = await thumb(anna, eviPhoto, headers);
        expect(r.res.status).toBe(404);
        noImage(r, 'withdrawn');
      }
    } finally {
      await setConsent(portal.em(), admin, 'K1', { internal: 'ja', external: 'nee' });
    }
    expect((await thumb(anna, eviPhoto)).res.status).toBe(200);
  });

  it('a suspended parent\'s session gets no bytes on the next request: sent to the login page, the session gone', async () => {
    // A suspension that left the session row (the gate checks the account itself).
    const dirk = await loggedIn('dirk@example.nl');
    expect((await thumb(dirk, eviPhoto)).res.status).toBe(200);
    const hash = sessionHash(dirk);
    await portal.em().nativeUpdate(Account, { email: 'dirk@example.nl' }, { suspendedAt: portal.clock.now() });
    const r = await thumb(dirk, eviPhoto, { 'If-None-Match': `"${await thumbKey(eviPhoto)}"` });
    expect(r.res.status).toBe(303);
    expect(r.res.headers.get('Location')).toBe('/login');
    noImage(r, 'suspended');
    expect(await portal.em().count(Session, { idHash: hash })).toBe(0);
    // The real suspension (ends every session as well).
    const cor = await loggedIn('cor@example.nl');
    expect((await thumb(cor, eviPhoto)).res.status).toBe(200);
    await suspendParent(portal.em(), admin, 'cor@example.nl', 'foto gedeeld op sociale media');
    const after = await thumb(cor, eviPhoto);
    expect(after.res.status).toBe(303);
    expect(after.res.headers.get('Location')).toBe('/login');
    noImage(after, 'suspended');
  });

  it('an idle or expired session gets no bytes and is ended; activity is recorded as by the session loader', async () => {
    const eva = await loggedIn('eva@example.nl');
    const hash = sessionHash(eva);
    const now = portal.clock.now().getTime();
    // Two minutes quiet: served, and the activity written (the idle limit counts from here).
    await portal.em().nativeUpdate(Session, { idHash: hash }, { lastSeenAt: new Date(now - 120_000) });
    const served = await thumb(eva, lotPhoto);
    expect([served.res.status, served.hot]).toEqual([200, true]);
    expect((await portal.em().findOneOrFail(Session, { idHash: hash })).lastSeenAt.getTime()).toBe(now);
    // Quiet for the whole idle limit: ended.
    await portal.em().nativeUpdate(Session, { idHash: hash }, { lastSeenAt: new Date(now - portal.config.auth.sessionIdleMinutes * 60_000) });
    const idle = await thumb(eva, lotPhoto);
    expect(idle.res.status).toBe(303);
    expect(idle.res.headers.get('Location')).toBe('/login');
    noImage(idle, 'idle');
    expect(await portal.em().count(Session, { idHash: hash })).toBe(0);
    // Past its absolute end.
    const again = await loggedIn('eva@example.nl');
    await portal.em().nativeUpdate(Session, { idHash: sessionHash(again) }, { expiresAt: new Date(now) });
    const expired = await thumb(again, lotPhoto);
    expect(expired.res.status).toBe(303);
    noImage(expired, 'expired');
  });

  it('a session that must still change its generated password gets no bytes, but the way to that page', async () => {
    const nieuw = await loggedIn('nieuw@example.nl', '/wachtwoord-wijzigen');
    const r = await thumb(nieuw, eviPhoto);
    expect(r.res.status).toBe(303);
    expect(r.res.headers.get('Location')).toBe('/wachtwoord-wijzigen');
    noImage(r, 'gated');
    const htmx = await thumb(nieuw, eviPhoto, { 'HX-Request': 'true' });
    expect(htmx.res.status).toBe(403);
    noImage(htmx, 'gated htmx');
  });

  it('no or a made-up cookie: the login page, as before', async () => {
    const anonymous = new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.250' });
    const r = await thumb(anonymous, eviPhoto);
    expect([r.res.status, r.res.headers.get('Location')]).toEqual([303, '/login']);
    anonymous.cookies.set('portal-session', 'A'.repeat(43));
    const forged = await thumb(anonymous, eviPhoto);
    expect([forged.res.status, forged.res.headers.get('Location')]).toEqual([303, '/login']);
    noImage(forged, 'forged');
  });

  it('staff still see their group\'s photos, held ones included, on the hot path; staff of another group get 404', async () => {
    const mia = await loggedIn('mia@example.nl');
    for (const id of [eviPhoto, heldPhoto]) {
      const r = await thumb(mia, id);
      expect([r.res.status, r.hot]).toEqual([200, true]);
      expect(r.res.headers.get('ETag')).toBe(`"${await thumbKey(id)}"`);
      expect(isJpeg(r.body)).toBe(true);
    }
    const otto = await loggedIn('otto@example.nl');
    const r = await thumb(otto, eviPhoto, { 'If-None-Match': `"${await thumbKey(eviPhoto)}"` });
    expect(r.res.status).toBe(404);
    noImage(r, 'other staff');
  });
});
