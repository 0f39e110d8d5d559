import type { Hono } from 'hono';
import { texturedPhoto } from '../test/pictures.ts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendParent } from '../core/accounts/suspension.ts';
import type { Actor } from '../core/actor.ts';
import { addDays, } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Photo, PhotoDownload, PhotoView } from '../core/entities/photo.ts';
import { Staff } from '../core/entities/staff.ts';
import { traceDownload } from '../core/photos/downloads.ts';
import { tracedViewEmbeds, variantEncodes } from '../core/photos/traced-views.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, TestBrowser } from './testing.ts';

/**
 * The parent's photo pages from every side: who gets which route, that a refusal never carries
 * image bytes, caching that still lets a withdrawn consent through at once, the spelregels
 * before the first download, and a download that traces back to its parent.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = {
  throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } },
};

let portal: TestPortal;
let app: Hono<AppEnv>;
/** Tagged: Evi (Anna's) and Noor (Cor's), both in Boomhut. */
let photoId: string;
/** Tagged: Sam (Bram's), for the consent test. */
let samPhotoId: string;
let ip = 0;

type Who = 'anonymous' | 'ownChild' | 'sameGroup' | 'otherGroup' | 'suspended' | 'staff' | 'otherStaff' | 'admin';
const browsers = {} as Record<Who, TestBrowser>;

const picture = (hue: number) => texturedPhoto(hue, { width: 800, height: 600, quality: 90 });

async function loggedIn(email: string): Promise<TestBrowser> {
  ip++;
  const b = new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${ip}` });
  const res = await b.login(email, PASSWORD);
  expect(res.status, email).toBe(303);
  expect(res.headers.get('Location'), email).toBe('/');
  return b;
}

const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8;
const downloads = async () => await portal.em().count(PhotoDownload, {});

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  app = createApp(portal, LOOSE);
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Noord', name: 'Zolder' });
  const since = addDays(portal.clock.today(), -10);
  const children = [
    ['K1', 'Evi', 'Boomhut'],
    ['K2', 'Sam', 'Boomhut'],
    ['K3', 'Noor', 'Boomhut'],
    ['K9', 'Lot', 'Zolder'],
  ] as const;
  for (const [n, name, group] of children) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  const parents = [
    ['anna@example.nl', 'Anna', 'K1'],
    ['bram@example.nl', 'Bram', 'K2'],
    ['cor@example.nl', 'Cor', 'K3'],
    ['eva@example.nl', 'Eva', 'K9'],
  ] as const;
  for (const [email, firstName, child] of parents) {
    await addParent(em, admin, { email, firstName, lastName: 'Ouder', children: [child] });
    await accountFor(portal, email, PASSWORD);
  }
  const staff = [
    ['mia@example.nl', 'staff', 'Boomhut'],
    ['otto@example.nl', 'staff', 'Zolder'],
    ['ada@example.nl', 'admin', undefined],
  ] as const;
  for (const [email, role, group] of staff) {
    await addStaff(em, admin, { email, firstName: 'Mede', lastName: 'Werker', role });
    if (group) await assignStaff(em, admin, email, { group });
    await accountFor(portal, email, PASSWORD);
  }

  const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const boomhut = await em.findOneOrFail(Group, { name: 'Boomhut' });
  ({ photoId } = await uploadPhoto(em, portal, mia, { groupId: boomhut.id, data: await picture(200) }));
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), mia, photoId, { childNumbers: ['K1', 'K3'] });
  ({ photoId: samPhotoId } = await uploadPhoto(em, portal, mia, { groupId: boomhut.id, data: await picture(40) }));
  await processUploadedPhoto(portal, samPhotoId);
  await tagPhoto(portal.em(), mia, samPhotoId, { childNumbers: ['K2'] });

  browsers.anonymous = new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.250' });
  browsers.ownChild = await loggedIn('anna@example.nl');
  browsers.sameGroup = await loggedIn('bram@example.nl');
  browsers.otherGroup = await loggedIn('eva@example.nl');
  browsers.suspended = await loggedIn('cor@example.nl');
  browsers.staff = await loggedIn('mia@example.nl');
  browsers.otherStaff = await loggedIn('otto@example.nl');
  browsers.admin = await loggedIn('ada@example.nl');
  // Suspended after logging in: the session it had must not open anything any more.
  await suspendParent(portal.em(), admin, 'cor@example.nl', 'foto gedeeld op sociale media');
});
afterAll(() => portal?.destroy());

describe('access to every photo route', () => {
  const ROUTES = ['album', 'page', 'thumb', 'display', 'download'] as const;
  type Route = (typeof ROUTES)[number];
  /** The expected status per actor and route. 303 = to the login page; 404 = refused as not found. */
  const MATRIX: Record<Who, Record<Route, number>> = {
    anonymous: { album: 303, page: 303, thumb: 303, display: 303, download: 303 },
    ownChild: { album: 200, page: 200, thumb: 200, display: 200, download: 200 },
    sameGroup: { album: 200, page: 200, thumb: 200, display: 200, download: 404 },
    otherGroup: { album: 200, page: 404, thumb: 404, display: 404, download: 404 },
    suspended: { album: 303, page: 303, thumb: 303, display: 303, download: 303 },
    staff: { album: 200, page: 200, thumb: 200, display: 200, download: 404 },
    otherStaff: { album: 200, page: 404, thumb: 404, display: 404, download: 404 },
    admin: { album: 200, page: 200, thumb: 200, display: 200, download: 404 },
  };

  const call = async (b: TestBrowser, route: Route): Promise<Response> => {
    switch (route) {
      case 'album':
        return await b.get('/fotos');
      case 'page':
        return await b.get(`/fotos/${photoId}`);
      case 'thumb':
        return await b.get(`/fotos/${photoId}/klein`);
      case 'display':
        return await b.get(`/fotos/${photoId}/groot`);
      case 'download':
        return await b.post(`/fotos/${photoId}/download`, { spelregels: 'ja' }, { visit: '/login' });
    }
  };

  for (const who of Object.keys(MATRIX) as Who[]) {
    it(`${who}: ${ROUTES.map((r) => `${r} ${MATRIX[who][r]}`).join(', ')}`, async () => {
      for (const route of ROUTES) {
        const before = await downloads();
        const res = await call(browsers[who], route);
        const expected = MATRIX[who][route];
        expect(res.status, `${who} ${route}`).toBe(expected);
        const body = new Uint8Array(await res.arrayBuffer());
        if (expected === 200 && ['thumb', 'display', 'download'].includes(route)) {
          expect(res.headers.get('Content-Type'), `${who} ${route}`).toBe('image/jpeg');
          expect(isJpeg(body), `${who} ${route}`).toBe(true);
        } else {
          expect(res.headers.get('Content-Type') ?? '', `${who} ${route}`).not.toMatch(/^image\//);
          expect(isJpeg(body), `${who} ${route}`).toBe(false);
          expect(res.headers.get('Content-Disposition'), `${who} ${route}`).toBeNull();
        }
        if (expected === 303) expect(res.headers.get('Location'), `${who} ${route}`).toBe('/login');
        if (route === 'download') expect(await downloads(), `${who} ${route}`).toBe(before + (expected === 200 ? 1 : 0));
        if (route === 'album' && expected === 200) {
          const html = new TextDecoder().decode(body);
          // Parents of the group in their album; the group's staff and admins in their photo list.
          const sees = who === 'ownChild' || who === 'sameGroup' || who === 'staff' || who === 'admin';
          expect(html.includes(`/fotos/${photoId}/klein`), `${who} album`).toBe(sees);
        }
      }
    });
  }

  it('anonymous htmx requests get 401 with HX-Redirect to the login page', async () => {
    for (const path of ['/fotos', `/fotos/${photoId}`, `/fotos/${photoId}/klein`, `/fotos/${photoId}/groot`]) {
      const res = await browsers.anonymous.get(path, { 'HX-Request': 'true' });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('HX-Redirect'), path).toBe('/login');
    }
  });

  it('an unknown or malformed id is 404 like a refused one', async () => {
    for (const path of ['/fotos/00000000-0000-4000-8000-000000000000/klein', '/fotos/niet-een-id/groot', '/fotos/1']) {
      const res = await browsers.ownChild.get(path);
      expect(res.status, path).toBe(404);
      expect(isJpeg(new Uint8Array(await res.arrayBuffer())), path).toBe(false);
    }
  });
});

describe('the album and the photo page', () => {
  it('groups photos under a day heading; the first thumbnail is preloaded and loads at once with high priority, the rest lazily', async () => {
    const res = await browsers.sameGroup.get('/fotos');
    const html = await res.text();
    expect(html).toContain('<h2>Vandaag</h2>');
    const thumbs = [...html.matchAll(/<img src="(\/fotos\/[0-9a-f-]{36}\/klein)" alt="[^"]+" width="\d+" height="\d+"([^>]*)>/g)];
    expect(thumbs.map((m) => m[2])).toEqual([' fetchpriority="high" decoding="async"', ' loading="lazy" decoding="async"']);
    const preload = `<link rel="preload" href="${thumbs[0]![1]}" as="image" fetchpriority="high">`;
    expect(html).toContain(preload);
    expect(html.indexOf(preload)).toBeLessThan(html.indexOf('<style>'));
    // And as a header, which the browser acts on before the HTML has arrived.
    expect(res.headers.get('Link')).toBe(`<${thumbs[0]![1]}>; rel=preload; as=image; fetchpriority=high`);
    expect(html).not.toContain('Meer laden'); // two photos: one page
    expect(html).toContain('href="/spelregels"');
  });

  it('a parent without photos sees the empty state; staff get their own page with the upload form', async () => {
    expect(await (await browsers.otherGroup.get('/fotos')).text()).toContain('Nog geen foto&#39;s');
    expect(await (await browsers.staff.get('/fotos')).text()).toContain('action="/fotos/uploaden"');
  });

  it('a later page for htmx is a fragment; without htmx a whole page; a bad "voor" or "tot" is a 422', async () => {
    const voor = encodeURIComponent(`${new Date(Date.now() + 60_000).toISOString()}_ffffffff-ffff-4fff-bfff-ffffffffffff`);
    const fragment = await browsers.sameGroup.get(`/fotos?voor=${voor}`, { 'HX-Request': 'true' });
    expect(fragment.status).toBe(200);
    const part = await fragment.text();
    expect(part).not.toContain('<html');
    expect(part).toContain(`/fotos/${samPhotoId}/klein`);
    const page = await (await browsers.sameGroup.get(`/fotos?voor=${voor}`)).text();
    expect(page).toContain('<html');
    for (const query of ['voor=gisteren%27%3B', 'tot=2026-13-45T99:00:00Z_x']) {
      const odd = await browsers.sameGroup.get(`/fotos?${query}`);
      expect(odd.status, query).toBe(422);
    }
  });

  it('the photo page shows the download form with the spelregels only to a parent of a child in it', async () => {
    const annaPage = await (await browsers.ownChild.get(`/fotos/${samPhotoId}`)).text();
    expect(annaPage).not.toContain('/download');
    const bramPage = await (await browsers.sameGroup.get(`/fotos/${samPhotoId}`)).text();
    expect(bramPage).toContain(`action="/fotos/${samPhotoId}/download"`);
    expect(bramPage).toContain('name="spelregels"');
    expect(bramPage).toContain(`src="/fotos/${samPhotoId}/groot"`);
    const rules = await browsers.sameGroup.get('/spelregels');
    expect(rules.status).toBe(200);
    expect(await rules.text()).toContain('sociale media');
  });
});

describe('image bytes', () => {
  it('are cached privately and revalidated every time, with the store key as ETag and 304 on a match', async () => {
    const b = browsers.ownChild;
    const res = await b.get(`/fotos/${photoId}/klein`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('private, no-cache');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    expect(res.headers.get('ETag')).toBe(`"${photo.thumbKey}"`);
    const again = await b.get(`/fotos/${photoId}/klein`, { 'If-None-Match': `"${photo.thumbKey}"` });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const display = await b.get(`/fotos/${photoId}/groot`, { 'If-None-Match': `"${photo.thumbKey}"` });
    expect(display.status).toBe(200);
    // A parent's display image is their own traced copy: its own key, not the shared display key.
    const view = await portal.em().findOneOrFail(PhotoView, { photoRef: photoId, email: 'anna@example.nl' });
    expect(display.headers.get('ETag')).toBe(`"${view.tracedKey}"`);
    expect(display.headers.get('ETag')).not.toBe(`"${photo.displayKey}"`);
    // A refused actor gets no 304 either: the check comes before the cache.
    const other = await browsers.otherGroup.get(`/fotos/${photoId}/klein`, { 'If-None-Match': `"${photo.thumbKey}"` });
    expect(other.status).toBe(404);
  });

  it('a withdrawn consent makes the thumbnail 404 at once, also with a cached ETag', async () => {
    const b = browsers.sameGroup;
    const first = await b.get(`/fotos/${samPhotoId}/klein`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('ETag')!;
    await setConsent(portal.em(), admin, 'K2', { internal: 'nee', external: 'nee' });
    for (const headers of [{}, { 'If-None-Match': etag }] as Record<string, string>[]) {
      const res = await b.get(`/fotos/${samPhotoId}/klein`, headers);
      expect(res.status).toBe(404);
      expect(isJpeg(new Uint8Array(await res.arrayBuffer()))).toBe(false);
    }
    expect((await browsers.ownChild.get(`/fotos/${samPhotoId}/groot`)).status).toBe(404);
    expect(await (await b.get('/fotos')).text()).not.toContain(samPhotoId);
    await setConsent(portal.em(), admin, 'K2', { internal: 'ja', external: 'nee' });
    expect((await b.get(`/fotos/${samPhotoId}/klein`)).status).toBe(200);
  });
});

describe('the display image is traced per parent', () => {
  it('two parents of the group get different bytes from /groot, each naming its parent; the second view is the kept copy', async () => {
    const url = `/fotos/${photoId}/groot`;
    const anna = await browsers.ownChild.get(url);
    const bram = await browsers.sameGroup.get(url);
    expect([anna.status, bram.status]).toEqual([200, 200]);
    const annaBytes = Buffer.from(await anna.arrayBuffer());
    const bramBytes = Buffer.from(await bram.arrayBuffer());
    expect(isJpeg(annaBytes) && isJpeg(bramBytes)).toBe(true);
    expect(annaBytes.equals(bramBytes)).toBe(false);
    expect(anna.headers.get('ETag')).not.toBe(bram.headers.get('ETag'));
    expect(anna.headers.get('Cache-Control')).toBe('private, no-cache');
    // What a leaked copy says (the hidden mark, read back as `portal photos trace FILE` does).
    expect(await traceDownload(portal.em(), admin, { file: annaBytes })).toMatchObject({ kind: 'view', email: 'anna@example.nl', photoId });
    const reposted = await sharp(bramBytes).resize({ width: 500 }).jpeg({ quality: 70 }).toBuffer();
    expect(await traceDownload(portal.em(), admin, { file: reposted })).toMatchObject({ kind: 'view', email: 'bram@example.nl', photoId });

    // Again: the same bytes, no new encoding, still one row for Bram.
    const rowsBefore = await portal.em().count(PhotoView, {});
    const embeds = tracedViewEmbeds();
    const again = await browsers.sameGroup.get(url);
    expect(Buffer.from(await again.arrayBuffer()).equals(bramBytes)).toBe(true);
    expect(tracedViewEmbeds()).toBe(embeds);
    expect(await portal.em().count(PhotoView, {})).toBe(rowsBefore);
    const row = await portal.em().findOneOrFail(PhotoView, { photoRef: photoId, email: 'bram@example.nl' });
    expect(await portal.photos.stat(row.tracedKey!)).not.toBeNull();
    // A revalidation with the parent's own ETag costs a 304 and sends nothing; another parent's ETag does not match.
    const revalidated = await browsers.sameGroup.get(url, { 'If-None-Match': bram.headers.get('ETag')! });
    expect(revalidated.status).toBe(304);
    expect((await browsers.sameGroup.get(url, { 'If-None-Match': anna.headers.get('ETag')! })).status).toBe(200);
  });

  it('a parent of another group gets 404 and no record; staff get the shared image, untraced', async () => {
    const before = await portal.em().count(PhotoView, {});
    const refused = await browsers.otherGroup.get(`/fotos/${photoId}/groot`);
    expect(refused.status).toBe(404);
    expect(isJpeg(new Uint8Array(await refused.arrayBuffer()))).toBe(false);
    const staff = await browsers.staff.get(`/fotos/${photoId}/groot`);
    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    expect(staff.headers.get('ETag')).toBe(`"${photo.displayKey}"`);
    expect(Buffer.from(await staff.arrayBuffer()).equals(await portal.photos.get(photo.displayKey!))).toBe(true);
    expect(await portal.em().count(PhotoView, {})).toBe(before);
  });

  it('a withdrawn consent makes the kept traced copy 404 at once, also with its ETag', async () => {
    const url = `/fotos/${samPhotoId}/groot`;
    const first = await browsers.ownChild.get(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('ETag')!;
    await setConsent(portal.em(), admin, 'K2', { internal: 'nee', external: 'nee' });
    for (const headers of [{}, { 'If-None-Match': etag }] as Record<string, string>[]) {
      const res = await browsers.ownChild.get(url, headers);
      expect(res.status).toBe(404);
      expect(isJpeg(new Uint8Array(await res.arrayBuffer()))).toBe(false);
    }
    await setConsent(portal.em(), admin, 'K2', { internal: 'ja', external: 'nee' });
    expect((await browsers.ownChild.get(url, { 'If-None-Match': etag })).status).toBe(304);
  });
});

describe('downloading', () => {
  it('needs the spelregels ticked before the first download, then sends an attachment that traces back to the parent', async () => {
    const b = browsers.sameGroup;
    const before = await downloads();
    const refused = await b.post(`/fotos/${samPhotoId}/download`, {});
    expect(refused.status).toBe(422);
    expect(refused.headers.get('Content-Disposition')).toBeNull();
    expect(await refused.text()).toContain('Vink aan dat u de spelregels kent');
    expect(await downloads()).toBe(before);

    const res = await b.post(`/fotos/${samPhotoId}/download`, { spelregels: 'ja' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const disposition = res.headers.get('Content-Disposition') ?? '';
    const code = /^attachment; filename="foto-\d{4}-\d{2}-\d{2}-([0-9A-Z]{7})\.jpg"$/.exec(disposition)?.[1];
    expect(code, disposition).toBeDefined();
    const data = Buffer.from(await res.arrayBuffer());
    expect(isJpeg(data)).toBe(true);
    expect(await traceDownload(portal.em(), admin, { code: code! })).toMatchObject({ email: 'bram@example.nl', photoId: samPhotoId });
    expect(await traceDownload(portal.em(), admin, { file: data })).toMatchObject({ email: 'bram@example.nl', traceCode: code });

    // After the first download the rules need not be ticked again.
    const page = await (await b.get(`/fotos/${samPhotoId}`)).text();
    expect(page).not.toContain('name="spelregels"');
    expect((await b.post(`/fotos/${samPhotoId}/download`, {})).status).toBe(200);
  });

  it('a forged CSRF token is refused with 403, without a file or a record', async () => {
    const before = await downloads();
    const res = await browsers.ownChild.post(`/fotos/${photoId}/download`, { spelregels: 'ja' }, { csrf: 'A'.repeat(43) });
    expect(res.status).toBe(403);
    expect(isJpeg(new Uint8Array(await res.arrayBuffer()))).toBe(false);
    expect(await downloads()).toBe(before);
  });
});

describe('who downloaded photos of my child', () => {
  it("shows a parent the downloads of their own child's photos by role, with no other parent's name; staff are refused", async () => {
    // Anna (Evi) downloads the photo of Evi and Noor; Bram downloaded Sam's photo above.
    expect((await browsers.ownChild.post(`/fotos/${photoId}/download`, { spelregels: 'ja' })).status).toBe(200);
    const anna = await (await browsers.ownChild.get('/mijn-gegevens/downloads')).text();
    expect(anna).toContain('Door u, foto van Evi');
    expect(anna).not.toContain('Sam');
    const bram = await browsers.sameGroup.get('/mijn-gegevens/downloads');
    expect(bram.status).toBe(200);
    const bramHtml = await bram.text();
    expect(bramHtml).toContain('Door u, foto van Sam');
    expect(bramHtml).not.toMatch(/Evi|Anna|anna@/);
    expect(await (await browsers.otherGroup.get('/mijn-gegevens/downloads')).text()).toContain('Er zijn nog geen foto&#39;s van uw kind gedownload.');
    expect((await browsers.staff.get('/mijn-gegevens/downloads')).status).toBe(403);
    // The link sits in Mijn gegevens for parents.
    expect(await (await browsers.ownChild.get('/mijn-gegevens')).text()).toContain('href="/mijn-gegevens/downloads"');
  });
});

describe('photo-first viewing: variants, previous/next and the album filters', () => {
  /** 2000×1500 in Boomhut, Sam tagged (Bram's): every variant width exists. */
  let wideId: string;
  /** In Boomhut, nobody tagged and not confirmed: held, staff see it, parents do not. */
  let heldId: string;
  /** In Zolder, Lot tagged: Eva's group, never Bram's. */
  let zolderId: string;
  let fleur: TestBrowser;
  let lotId: number;
  let samId: number;
  const FILES = ['480.avif', '480.webp', '480.jpg', '768.avif', '768.webp', '768.jpg', '1024.avif', '1024.webp', '1024.jpg', '1600.avif', '1600.webp', '1600.jpg'];

  beforeAll(async () => {
    const em = portal.em();
    const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
    const otto: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'otto@example.nl' })).id, label: 'otto' };
    const boomhut = await em.findOneOrFail(Group, { name: 'Boomhut' });
    const zolder = await em.findOneOrFail(Group, { name: 'Zolder' });
    ({ photoId: wideId } = await uploadPhoto(em, portal, mia, { groupId: boomhut.id, data: await texturedPhoto(120, { width: 2000, height: 1500, quality: 90 }) }));
    await processUploadedPhoto(portal, wideId);
    await tagPhoto(portal.em(), mia, wideId, { childNumbers: ['K2'] });
    ({ photoId: heldId } = await uploadPhoto(em, portal, mia, { groupId: boomhut.id, data: await picture(300) }));
    await processUploadedPhoto(portal, heldId);
    ({ photoId: zolderId } = await uploadPhoto(em, portal, otto, { groupId: zolder.id, data: await picture(80) }));
    await processUploadedPhoto(portal, zolderId);
    await tagPhoto(portal.em(), otto, zolderId, { childNumbers: ['K9'] });
    // Fleur: Evi (Boomhut) and Lot (Zolder), so she has the child switcher.
    await addParent(portal.em(), admin, { email: 'fleur@example.nl', firstName: 'Fleur', lastName: 'Ouder', children: ['K1', 'K9'] });
    await accountFor(portal, 'fleur@example.nl', PASSWORD);
    fleur = await loggedIn('fleur@example.nl');
    lotId = (await portal.em().findOneOrFail(Child, { childNumber: 'K9' })).id;
    samId = (await portal.em().findOneOrFail(Child, { childNumber: 'K2' })).id;
  });

  it('serves every width×format with its content type and width; a parent gets traced copies, kept after the first request', async () => {
    const widths: Record<string, number> = { '480': 480, '768': 768, '1024': 1024, '1600': 1600 };
    const types: Record<string, string> = { avif: 'image/avif', webp: 'image/webp', jpg: 'image/jpeg' };
    const formats: Record<string, string> = { avif: 'heif', webp: 'webp', jpg: 'jpeg' };
    const bytes: Record<string, Buffer> = {};
    for (const file of FILES) {
      const started = performance.now();
      const res = await browsers.sameGroup.get(`/fotos/${wideId}/${file}`);
      const took = performance.now() - started;
      expect(res.status, file).toBe(200);
      const [w, ext] = file.split('.') as [string, string];
      expect(res.headers.get('Content-Type'), file).toBe(types[ext]);
      expect(res.headers.get('Cache-Control'), file).toBe('private, no-cache');
      const data = Buffer.from(await res.arrayBuffer());
      const meta = await sharp(data).metadata();
      expect(meta.format, file).toBe(formats[ext]);
      expect(meta.width, file).toBe(widths[w]);
      bytes[file] = data;
      // The figure for the closing note: the first (traced) request of each variant.
      console.log(`first request ${file}: ${took.toFixed(0)} ms, ${data.length} bytes`);
    }
    // The 1600 px JPEG is the photo page's traced display copy: the same bytes as /groot.
    const groot = Buffer.from(await (await browsers.sameGroup.get(`/fotos/${wideId}/groot`)).arrayBuffer());
    expect(groot.equals(bytes['1600.jpg']!)).toBe(true);
    // Each of them names Bram when it leaks (the mark is in every width and format).
    for (const file of ['1024.webp', '1600.avif', '1024.jpg']) {
      expect(await traceDownload(portal.em(), admin, { file: bytes[file]! }), file).toMatchObject({ kind: 'view', email: 'bram@example.nl', photoId: wideId });
    }
    // Again: the same bytes, nothing encoded, nothing embedded.
    const encodes = variantEncodes();
    const embeds = tracedViewEmbeds();
    for (const file of FILES) {
      const again = Buffer.from(await (await browsers.sameGroup.get(`/fotos/${wideId}/${file}`)).arrayBuffer());
      expect(again.equals(bytes[file]!), file).toBe(true);
    }
    expect(variantEncodes()).toBe(encodes);
    expect(tracedViewEmbeds()).toBe(embeds);
    // Another parent of the group gets other bytes (their own code).
    for (const file of ['480.webp', '1024.avif', '480.jpg']) {
      const anna = Buffer.from(await (await browsers.ownChild.get(`/fotos/${wideId}/${file}`)).arrayBuffer());
      expect(anna.equals(bytes[file]!), file).toBe(false);
    }
    expect(await traceDownload(portal.em(), admin, { file: Buffer.from(await (await browsers.ownChild.get(`/fotos/${wideId}/1024.webp`)).arrayBuffer()) })).toMatchObject({
      kind: 'view',
      email: 'anna@example.nl',
    });
  });

  it('staff get the shared, untraced variants; a parent of another group and staff of another group get 404 on every variant, with no record', async () => {
    const staff = await browsers.staff.get(`/fotos/${wideId}/1024.webp`);
    const admins = await browsers.admin.get(`/fotos/${wideId}/1024.webp`);
    expect([staff.status, admins.status]).toEqual([200, 200]);
    expect(staff.headers.get('ETag')).toBe(admins.headers.get('ETag'));
    await expect(traceDownload(portal.em(), admin, { file: Buffer.from(await staff.arrayBuffer()) })).rejects.toThrow(/no trace code/);
    const views = await portal.em().count(PhotoView, {});
    for (const who of ['otherGroup', 'otherStaff', 'suspended', 'anonymous'] as const) {
      for (const file of FILES) {
        const res = await browsers[who].get(`/fotos/${wideId}/${file}`);
        expect(res.status, `${who} ${file}`).toBe(who === 'otherGroup' || who === 'otherStaff' ? 404 : 303);
        expect(res.headers.get('Content-Type') ?? '', `${who} ${file}`).not.toMatch(/^image\//);
      }
    }
    // Bram may not see the Zolder photo or the held one in any size.
    for (const id of [zolderId, heldId]) {
      for (const file of FILES) expect((await browsers.sameGroup.get(`/fotos/${id}/${file}`)).status, `${id} ${file}`).toBe(404);
    }
    expect(await portal.em().count(PhotoView, {})).toBe(views);
    // Not a variant we make: no route.
    expect((await browsers.sameGroup.get(`/fotos/${wideId}/800.avif`)).status).toBe(404);
  });

  it('a withdrawn consent makes a kept variant 404 at once, also with its ETag', async () => {
    const url = `/fotos/${wideId}/1024.avif`;
    const first = await browsers.sameGroup.get(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('ETag')!;
    await setConsent(portal.em(), admin, 'K2', { internal: 'nee', external: 'nee' });
    try {
      for (const headers of [{}, { 'If-None-Match': etag }] as Record<string, string>[]) {
        const res = await browsers.sameGroup.get(url, headers);
        expect(res.status).toBe(404);
        expect(res.headers.get('Content-Type') ?? '').not.toMatch(/^image\//);
      }
      expect((await browsers.staff.get(url)).status).toBe(200); // staff still see it (held)
    } finally {
      await setConsent(portal.em(), admin, 'K2', { internal: 'ja', external: 'nee' });
    }
    expect((await browsers.sameGroup.get(url, { 'If-None-Match': etag })).status).toBe(304);
  });

  const links = (html: string) => ({
    newer: /<a href="\/fotos\/([0-9a-f-]{36})[^"]*" rel="prev"/.exec(html)?.[1],
    older: /<a href="\/fotos\/([0-9a-f-]{36})[^"]*" rel="next"/.exec(html)?.[1],
  });
  const albumIds = (html: string) => [...html.matchAll(/<li id="foto-([0-9a-f-]{36})"/g)].map((m) => m[1]!);

  /** Walks the photo pages by their "older" links from the first photo; every newer link must point back. */
  async function walk(b: TestBrowser, first: string, query = ''): Promise<string[]> {
    const seen = [first];
    let previous: string | undefined;
    for (let id: string | undefined = first; id; ) {
      const page = await b.get(`/fotos/${id}${query}`);
      expect(page.status, id).toBe(200);
      const html = await page.text();
      const near = links(html);
      if (previous) expect(near.newer, id).toBe(previous);
      previous = id;
      id = near.older;
      if (id) seen.push(id);
      expect(seen.length).toBeLessThan(20);
    }
    return seen;
  }

  it('previous and next follow the album order and never lead to a photo the viewer may not see', async () => {
    const album = albumIds(await (await browsers.sameGroup.get('/fotos')).text());
    expect(album).toContain(wideId);
    expect(album).not.toContain(heldId);
    expect(album).not.toContain(zolderId);
    expect(await walk(browsers.sameGroup, album[0]!)).toEqual(album);
    // Staff walk their group, the held photo included, never the other group's.
    const staffWalk = await walk(browsers.staff, wideId);
    expect(staffWalk).not.toContain(zolderId);
    expect(await walk(browsers.staff, heldId)).not.toContain(zolderId);
    // A withdrawn consent takes the photo out of the chain at once.
    await setConsent(portal.em(), admin, 'K2', { internal: 'nee', external: 'nee' });
    try {
      const without = albumIds(await (await browsers.ownChild.get('/fotos')).text());
      expect(without).not.toContain(wideId);
      expect(await walk(browsers.ownChild, without[0]!)).toEqual(without);
    } finally {
      await setConsent(portal.em(), admin, 'K2', { internal: 'ja', external: 'nee' });
    }
  });

  it('the photo page: a <picture> with AVIF, WebP and JPEG sets, its size, the preload in the head, and the viewer script', async () => {
    const res = await browsers.sameGroup.get(`/fotos/${wideId}`);
    const html = await res.text();
    expect(res.headers.get('Link')).toBe(
      `</fotos/${wideId}/groot>; rel=preload; as=image; type="image/avif"; imagesrcset="/fotos/${wideId}/480.avif 480w, /fotos/${wideId}/768.avif 768w, /fotos/${wideId}/1024.avif 1024w, /fotos/${wideId}/1600.avif 1600w"; imagesizes="min(100vw, 133.3svh)"; fetchpriority=high`,
    );
    expect(html).toContain(`<source type="image/avif" srcset="/fotos/${wideId}/480.avif 480w, /fotos/${wideId}/768.avif 768w, /fotos/${wideId}/1024.avif 1024w, /fotos/${wideId}/1600.avif 1600w"`);
    expect(html).toContain(`<source type="image/webp" srcset="/fotos/${wideId}/480.webp 480w,`);
    expect(html).toContain(`srcset="/fotos/${wideId}/480.jpg 480w, /fotos/${wideId}/768.jpg 768w, /fotos/${wideId}/1024.jpg 1024w, /fotos/${wideId}/groot 1600w"`);
    expect(html).toContain('width="1600" height="1200"');
    expect(html).toMatch(/<link rel="preload" href="[^"]+" as="image" type="image\/avif" imagesrcset="[^"]*480\.avif 480w[^"]*" imagesizes="min\(100vw, 133\.3svh\)"/);
    expect(html.indexOf('rel="preload"')).toBeLessThan(html.indexOf('</head>'));
    // The viewer comes after the page's load event, by the layout's loader, after htmx.
    expect(html).toMatch(/<script src="\/assets\/load-scripts\.[0-9a-f]{12}\.js" defer data-scripts="\/assets\/htmx\.[0-9a-f]{12}\.min\.js [^"]* \/assets\/photo-viewer\.[0-9a-f]{12}\.js"><\/script>/);
    expect(html).toContain(' gemaakt, om ');
    // An 800 px photo has no 1024 or 1600 entries beyond its own width.
    const small = await (await browsers.sameGroup.get(`/fotos/${photoId}`)).text();
    expect(small).toContain(`srcset="/fotos/${photoId}/480.avif 480w, /fotos/${photoId}/768.avif 768w, /fotos/${photoId}/1600.avif 800w"`);
  });

  it('the child switcher shows one child\'s album; another family\'s child or a bad id is 404; one child means no switcher', async () => {
    const all = await (await fleur.get('/fotos')).text();
    expect(all).toContain('class="photo-switcher"');
    expect(albumIds(all)).toEqual(expect.arrayContaining([zolderId, photoId]));
    const lot = await fleur.get(`/fotos?kind=${lotId}`);
    expect(lot.status).toBe(200);
    const lotHtml = await lot.text();
    expect(albumIds(lotHtml)).toEqual([zolderId]);
    expect(lotHtml).toContain(`href="/fotos/${zolderId}?kind=${lotId}"`);
    expect(lotHtml).toMatch(/aria-current="page">Lot</);
    for (const kind of [String(samId), 'abc', '99999999', '-1']) {
      const res = await fleur.get(`/fotos?kind=${kind}`);
      expect(res.status, kind).toBe(404);
      expect(await res.text(), kind).not.toContain('/klein');
    }
    // The photo page with another family's child: 404 too (not a way to learn their group).
    expect((await fleur.get(`/fotos/${photoId}?kind=${samId}`)).status).toBe(404);
    // Within Lot's album the photo page has no neighbours from Evi's group.
    const page = await (await fleur.get(`/fotos/${zolderId}?kind=${lotId}`)).text();
    expect(links(page)).toEqual({ newer: undefined, older: undefined });
    expect(await (await browsers.sameGroup.get('/fotos')).text()).not.toContain('class="photo-switcher"');
  });

  it('"?tot=" shows the album up to and including that photo, so a reload after "meer laden" shows the same photos', async () => {
    const album = albumIds(await (await browsers.sameGroup.get('/fotos')).text());
    expect(album.length).toBeGreaterThanOrEqual(3);
    const html = await (await browsers.sameGroup.get('/fotos')).text();
    expect(html).not.toContain('?tot=');
    const photo = await portal.em().findOneOrFail(Photo, { id: album[1]! });
    const tot = encodeURIComponent(`${photo.takenAt.toISOString()}_${photo.id}`);
    const upTo = await (await browsers.sameGroup.get(`/fotos?tot=${tot}`)).text();
    expect(albumIds(upTo)).toEqual(album.slice(0, 2));
    // ... and then offers the rest, its link naming where that ends.
    expect(upTo).toMatch(/hx-push-url="\/fotos\?tot=[^"]+"/);
    expect(upTo).toContain('hx-get="/fotos?voor=');
  });
});
