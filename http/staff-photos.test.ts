import type { Hono } from 'hono';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { Group } from '../core/entities/group.ts';
import { Photo, PhotoTag } from '../core/entities/photo.ts';
import { processUploadedPhoto } from '../core/photos/upload.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, TestBrowser } from './testing.ts';

/**
 * The staff side of photos over HTTP: the streamed upload (CSRF from the first field, refusals
 * by file name, nothing stored for the refused), the tag sheet with consent at a glance and
 * its effect on what parents see, hiding and deleting by who may, and the same routes from the
 * side of those who may not (parents, staff of another location).
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };
/** Small, so that the size limit can be tested with a small file. */
const MAX_UPLOAD = 200 * 1024;

let portal: TestPortal;
let app: Hono<AppEnv>;
let boomhut: number;
let zolder: number;
let ip = 0;
type Who = 'mia' | 'nina' | 'otto' | 'lena' | 'anna';
const b = {} as Record<Who, TestBrowser>;

async function picture(hue: number, width = 640): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="480">
    <rect width="${width}" height="480" fill="hsl(${hue},60%,70%)"/><circle cx="200" cy="240" r="120" fill="#c0392b"/></svg>`;
  return await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

async function loggedIn(email: string): Promise<TestBrowser> {
  ip++;
  const browser = new TestBrowser(app, { 'X-Forwarded-For': `203.0.113.${ip}` });
  const res = await browser.login(email, PASSWORD);
  expect(res.status, email).toBe(303);
  await browser.get('/fotos'); // a page, as a browser has one open with the form's token
  return browser;
}

interface UploadFile {
  name: string;
  data: Uint8Array;
  type?: string;
}

/** Posts the upload form as a browser does: token first, then group and caption, the files last. */
async function upload(
  browser: TestBrowser,
  files: UploadFile[],
  options: { group?: number; caption?: string; csrf?: string; htmx?: boolean; tokenLast?: boolean } = {},
): Promise<Response> {
  const form = new FormData();
  const token = options.csrf ?? browser.csrf ?? '';
  if (!options.htmx && !options.tokenLast) form.append('_csrf', token);
  form.append('groep', String(options.group ?? boomhut));
  form.append('bijschrift', options.caption ?? '');
  for (const f of files) form.append('foto', new Blob([f.data], { type: f.type ?? 'image/jpeg' }), f.name);
  if (options.tokenLast) form.append('_csrf', token);
  const headers: Record<string, string> = options.htmx ? { 'HX-Request': 'true', 'X-CSRF-Token': token } : {};
  // Each upload a moment after the one before (the clock is pinned), so that "newest" means one photo.
  portal.clock.advance({ seconds: 1 });
  return await browser.request('/fotos/uploaden', { method: 'POST', body: form, headers });
}

const photoCount = async () => await portal.em().count(Photo, {});
async function incomingCount(): Promise<number> {
  let n = 0;
  for await (const _ of portal.incoming.keys()) n++;
  return n;
}
async function processAll(): Promise<void> {
  for (const p of await portal.em().find(Photo, { state: 'processing' })) await processUploadedPhoto(portal, p.id);
}
async function newestPhoto(): Promise<string> {
  const [p] = await portal.em().find(Photo, {}, { orderBy: { uploadedAt: 'desc' }, limit: 1 });
  return p!.id;
}
const albumShows = async (browser: TestBrowser, id: string) => (await (await browser.get('/fotos')).text()).includes(`/fotos/${id}/klein`);

beforeAll(async () => {
  portal = await createTestPortal({ 'photos.maxUploadBytes': MAX_UPLOAD, 'photos.maxFilesPerUpload': 3 });
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  app = createApp(portal, LOOSE);
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Noord', name: 'Zolder' });
  boomhut = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  zolder = (await em.findOneOrFail(Group, { name: 'Zolder' })).id;
  const since = addDays(portal.clock.today(), -10);
  for (const [n, name, group, consent] of [
    ['K1', 'Evi', 'Boomhut', 'ja'],
    ['K2', 'Thijs', 'Boomhut', 'nee'],
    ['K3', 'Noor', 'Boomhut', undefined],
    ['K9', 'Lot', 'Zolder', 'ja'],
  ] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    if (consent) await setConsent(em, admin, n, { internal: consent, external: 'nee' });
  }
  await addParent(em, admin, { email: 'anna@example.nl', firstName: 'Anna', lastName: 'Ouder', children: ['K1'] });
  await accountFor(portal, 'anna@example.nl', PASSWORD);
  for (const [email, role, where] of [
    ['mia@example.nl', 'staff', { group: 'Boomhut' }],
    ['nina@example.nl', 'staff', { group: 'Boomhut' }],
    ['otto@example.nl', 'staff', { group: 'Zolder' }],
    ['lena@example.nl', 'manager', { location: 'Centrum' }],
  ] as const) {
    await addStaff(em, admin, { email, firstName: email.split('@')[0]!, lastName: 'Werker', role });
    await assignStaff(em, admin, email, where);
    await accountFor(portal, email, PASSWORD);
  }
  for (const who of ['mia', 'nina', 'otto', 'lena', 'anna'] as Who[]) b[who] = await loggedIn(`${who}@example.nl`);
});
afterAll(() => portal?.destroy());

describe('the staff photo page', () => {
  it('shows staff the upload form for their own group only; a parent gets the album instead', async () => {
    const mia = await (await b.mia.get('/fotos')).text();
    expect(mia).toContain('enctype="multipart/form-data"');
    expect(mia).toContain(`name="groep" value="${boomhut}"`);
    expect(mia).not.toContain('Zolder');
    // Asking for another location's group by number shows one's own group instead.
    const otto = await (await b.otto.get(`/fotos?groep=${boomhut}`)).text();
    expect(otto).toContain(`name="groep" value="${zolder}"`);
    expect(otto).not.toContain('Boomhut');
    const anna = await (await b.anna.get('/fotos')).text();
    expect(anna).not.toContain('/fotos/uploaden');
  });
});

describe('uploading', () => {
  it('without JS: stores the good files, refuses the bad one by name in Dutch, and keeps the others', async () => {
    const before = await photoCount();
    const res = await upload(b.mia, [
      { name: 'zandbak.jpg', data: await picture(30) },
      { name: 'notities.jpg', data: new TextEncoder().encode('<html><script>alert(1)</script></html>') },
      { name: 'glijbaan.jpg', data: await picture(90) },
    ]);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('<strong>notities.jpg</strong>: dit is geen foto');
    expect(await photoCount()).toBe(before + 2);
    expect(await incomingCount()).toBe(2); // the refused file left nothing behind
    await processAll();
    expect(await incomingCount()).toBe(0);
    const page = await (await b.mia.get('/fotos')).text();
    expect(page.match(/Nog niet zichtbaar: tag de kinderen/g)?.length).toBe(2);
  });

  it('all files good: 303 back to the group with a confirmation', async () => {
    const res = await upload(b.mia, [{ name: 'a.jpg', data: await picture(120) }], { caption: 'Buiten <b>spelen</b>' });
    expect(res.status).toBe(303);
    // Straight on to the batch tagging screen, for just this upload's photo.
    expect(res.headers.get('Location')).toBe(`/fotos/taggen?groep=${boomhut}&fotos=${await newestPhoto()}`);
    const page = await (await b.mia.get(res.headers.get('Location')!)).text();
    expect(page).toContain('De foto&#39;s zijn ontvangen');
    expect(page).toContain('Buiten &lt;b&gt;spelen&lt;/b&gt;');
    expect(page).not.toContain('<b>spelen</b>');
    await processAll();
  });

  it("with htmx (our upload script): answers a row that polls until processed, then shows the thumbnail", async () => {
    const res = await upload(b.mia, [{ name: 'b.jpg', data: await picture(150) }], { htmx: true });
    expect(res.status).toBe(200);
    const row = await res.text();
    expect(row).not.toContain('<html');
    const id = await newestPhoto();
    expect(row).toContain(`hx-get="/fotos/${id}/status"`);
    expect(row).toContain('Wordt verwerkt');
    await processUploadedPhoto(portal, id);
    const after = await (await b.mia.get(`/fotos/${id}/status`, { 'HX-Request': 'true' })).text();
    expect(after).not.toContain('hx-get');
    expect(after).toContain(`src="/fotos/${id}/klein"`);
  });

  it('a file over the size limit is refused while streaming; nothing of it is stored', async () => {
    const before = await photoCount();
    const big = new Uint8Array(MAX_UPLOAD + 50_000);
    big.set(await picture(10), 0);
    const res = await upload(b.mia, [{ name: 'groot.jpg', data: big }]);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('<strong>groot.jpg</strong>: dit bestand is groter dan');
    expect(await photoCount()).toBe(before);
    expect(await incomingCount()).toBe(0);
  });

  it('more files than allowed at once is refused as a whole', async () => {
    const before = await photoCount();
    const one = await picture(60);
    const res = await upload(
      b.mia,
      [1, 2, 3, 4].map((i) => ({ name: `${i}.jpg`, data: one })),
    );
    // Refused with the limit named; the three taken before the fourth arrived are undone.
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('hoogstens 3 tegelijk');
    expect(await photoCount()).toBe(before);
    expect(await incomingCount()).toBe(0);
  });

  it('CSRF: a forged token, a missing token or a token after the file: 403 and nothing stored', async () => {
    const before = await photoCount();
    const data = await picture(200);
    expect((await upload(b.mia, [{ name: 'x.jpg', data }], { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await upload(b.mia, [{ name: 'x.jpg', data }], { csrf: '' })).status).toBe(403);
    expect((await upload(b.mia, [{ name: 'x.jpg', data }], { tokenLast: true })).status).toBe(403);
    expect((await upload(b.mia, [{ name: 'x.jpg', data }], { htmx: true, csrf: 'B'.repeat(43) })).status).toBe(403);
    expect(await photoCount()).toBe(before);
    expect(await incomingCount()).toBe(0);
  });

  it('a parent, or staff of another location, cannot upload into the group: 404 and nothing stored', async () => {
    const before = await photoCount();
    const data = await picture(220);
    expect((await upload(b.anna, [{ name: 'x.jpg', data }])).status).toBe(404);
    expect((await upload(b.otto, [{ name: 'x.jpg', data }], { group: boomhut })).status).toBe(404);
    expect(await photoCount()).toBe(before);
    expect(await incomingCount()).toBe(0);
  });
});

describe('tagging, hiding and deleting', () => {
  let id: string;
  beforeAll(async () => {
    expect((await upload(b.mia, [{ name: 'tag.jpg', data: await picture(250) }])).status).toBe(303);
    id = await newestPhoto();
    await processUploadedPhoto(portal, id);
  });

  it('the tag sheet lists the group with consent at a glance, in words', async () => {
    const html = await (await b.mia.get(`/fotos/${id}/taggen`)).text();
    expect(html).toMatch(/Evi Test[\s\S]*?portaal: ja/);
    expect(html).toMatch(/Thijs Test[\s\S]*?portaal: nee/);
    expect(html).toMatch(/Noor Test[\s\S]*?portaal: onbekend/);
    expect(html).not.toContain('Lot Test'); // another group's child
  });

  it('a child without consent holds the photo and says why; untagging shares it', async () => {
    const held = await b.mia.post(`/fotos/${id}/taggen`, { kind: 'K1' }, { visit: '/fotos' });
    expect(held.status).toBe(303);
    expect(await albumShows(b.anna, id)).toBe(true);

    const form = new URLSearchParams([
      ['_csrf', b.mia.csrf!],
      ['kind', 'K1'],
      ['kind', 'K2'],
    ]);
    const res = await b.mia.request(`/fotos/${id}/taggen`, {
      method: 'POST',
      body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(303);
    const sheet = await (await b.mia.get(`/fotos/${id}/taggen`)).text();
    expect(sheet).toContain('Thijs Test: geen toestemming');
    expect(await albumShows(b.anna, id)).toBe(false);

    // With htmx the answer is just the form part, already showing the new state.
    const fragment = await b.mia.post(`/fotos/${id}/taggen`, { kind: 'K1' }, { htmx: true });
    expect(fragment.status).toBe(200);
    const part = await fragment.text();
    expect(part).not.toContain('<html');
    expect(part).toContain('Zichtbaar voor de ouders');
    expect(await albumShows(b.anna, id)).toBe(true);
  });

  it('tagging a child of another group is refused with a clear error and changes nothing', async () => {
    const res = await b.mia.post(`/fotos/${id}/taggen`, { kind: 'K9' }, { visit: '/fotos' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('child K9 is not in this group');
    expect(await albumShows(b.anna, id)).toBe(true);
  });

  it('only the uploader and the location manager hide; others of the group get 403, another location 404', async () => {
    expect((await b.nina.post(`/fotos/${id}/verbergen`, { verbergen: 'ja' })).status).toBe(403);
    expect((await b.otto.post(`/fotos/${id}/verbergen`, { verbergen: 'ja' })).status).toBe(404);
    expect((await b.anna.post(`/fotos/${id}/verbergen`, { verbergen: 'ja' })).status).toBe(404);
    expect(await albumShows(b.anna, id)).toBe(true);
    expect((await b.lena.post(`/fotos/${id}/verbergen`, { verbergen: 'ja' })).status).toBe(303);
    expect(await albumShows(b.anna, id)).toBe(false);
    expect((await b.mia.post(`/fotos/${id}/verbergen`, { verbergen: 'nee' })).status).toBe(303);
    expect(await albumShows(b.anna, id)).toBe(true);
  });

  it('the staff routes are not found for parents and other locations', async () => {
    for (const browser of [b.anna, b.otto]) {
      expect((await browser.get(`/fotos/${id}/taggen`)).status).toBe(404);
      expect((await browser.get(`/fotos/${id}/status`)).status).toBe(404);
      expect((await browser.post(`/fotos/${id}/taggen`, { kind: 'K1' })).status).toBe(404);
      expect((await browser.post(`/fotos/${id}/opnieuw`, {})).status).toBe(404);
    }
    // "Opnieuw proberen" on a photo that did not fail changes nothing.
    expect((await b.mia.post(`/fotos/${id}/opnieuw`, {})).status).toBe(303);
    expect((await portal.em().fork().findOneOrFail(Photo, { id })).state).toBe('ready');
  });

  it('deleting: not by a colleague; by the uploader, and then the row and its files are gone', async () => {
    const photo = await portal.em().findOneOrFail(Photo, { id });
    const keys = [photo.originalKey!, photo.displayKey!, photo.thumbKey!];
    expect((await b.nina.post(`/fotos/${id}/verwijderen`, {})).status).toBe(403);
    expect((await b.otto.post(`/fotos/${id}/verwijderen`, {})).status).toBe(404);
    expect(await portal.em().count(Photo, { id })).toBe(1);
    const res = await b.mia.post(`/fotos/${id}/verwijderen`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/fotos?groep=${boomhut}`);
    expect(await portal.em().count(Photo, { id })).toBe(0);
    for (const key of keys) expect(await portal.photos.stat(key), key).toBeNull();
    expect((await b.anna.get(`/fotos/${id}/klein`)).status).toBe(404);
  });

  it('an untagged photo is shared once staff confirm that no child is recognisable', async () => {
    expect((await upload(b.mia, [{ name: 'lucht.jpg', data: await picture(300, 700) }])).status).toBe(303);
    const sky = await newestPhoto();
    await processUploadedPhoto(portal, sky);
    expect(await albumShows(b.anna, sky)).toBe(false);
    expect((await b.mia.post(`/fotos/${sky}/taggen`, { geenKind: 'ja' })).status).toBe(303);
    expect(await albumShows(b.anna, sky)).toBe(true);
  });
});

describe('the batch tagging screen', () => {
  let ids: string[];
  let zolderPhoto: string;
  const tagsOf = async (id: string) =>
    (await portal.em().fork().find(PhotoTag, { photo: id }, { populate: ['child'] })).map((t) => t.child.childNumber).sort();
  /** One photo's card on the batch screen: from its start to the next card (or the list's end). */
  const cardAt = (html: string, start: number) => {
    const next = html.indexOf('<li class="batch-photo"', start + 1);
    return html.slice(start, next > 0 ? next : html.indexOf('</ol>', start));
  };
  const confirmedOf = async (id: string) => (await portal.em().fork().findOneOrFail(Photo, { id })).noChildConfirmed;

  /** Posts the batch form as a browser does (repeated checkbox names), token first. */
  async function postBatch(browser: TestBrowser, pairs: [string, string][], csrf?: string): Promise<Response> {
    const form = new URLSearchParams([['_csrf', csrf ?? browser.csrf ?? ''], ...pairs]);
    return await browser.request('/fotos/taggen', {
      method: 'POST',
      body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
  }
  const batchOf = (group: number, rows: [string, string[], boolean?][], extra: [string, string][] = []) => [
    ['groep', String(group)] as [string, string],
    ...rows.flatMap(([id, kids, none]) => [
      ['foto', id] as [string, string],
      ...kids.map((k) => [`kind-${id}`, k] as [string, string]),
      ...(none ? [[`geenKind-${id}`, 'ja'] as [string, string]] : []),
    ]),
    ...extra,
  ];

  beforeAll(async () => {
    const res = await upload(b.mia, [
      { name: 'een.jpg', data: await picture(10, 600) },
      { name: 'twee.jpg', data: await picture(40, 600) },
      { name: 'drie.jpg', data: await picture(70, 600) },
    ]);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('Location')!, 'http://x');
    expect(location.pathname).toBe('/fotos/taggen');
    ids = location.searchParams.get('fotos')!.split(',');
    expect(ids).toHaveLength(3);
    expect((await upload(b.otto, [{ name: 'zolder.jpg', data: await picture(99) }], { group: zolder })).status).toBe(303);
    zolderPhoto = await newestPhoto();
  });

  it('shows every photo of the upload with the group’s children as labelled checkboxes', async () => {
    const html = await (await b.mia.get(`/fotos/taggen?groep=${boomhut}&fotos=${ids.join(',')}`)).text();
    for (const id of ids) {
      expect(html).toContain(`name="foto" value="${id}"`);
      expect(html).toMatch(new RegExp(`<label class="tag-chip">\\s*<input type="checkbox" name="kind-${id}" value="K1">\\s*<span>Evi Test`));
      expect(html).toContain(`name="geenKind-${id}"`);
    }
    expect(html).toContain('Wordt nog verwerkt');
    expect(html).toMatch(/Thijs Test <span class="tag-chip-note">\(geen toestemming\)/);
    expect(html).not.toContain('Lot Test'); // another group's child
    expect(html).not.toContain(zolderPhoto);
    await processAll();
  });

  it('a chip saves at once (htmx) but the photo stays unpublished until staff publish it', async () => {
    const res = await b.mia.post(`/fotos/${ids[0]}/chips`, { kind: 'K1' }, { htmx: true });
    expect(res.status).toBe(200);
    const part = await res.text();
    expect(part).not.toContain('<html');
    expect(part).toContain('Klaar om te publiceren');
    expect(await tagsOf(ids[0]!)).toEqual(['K1']);
    expect(await albumShows(b.anna, ids[0]!)).toBe(false);
    // The one-photo page still lists it, with the same status.
    expect(await (await b.mia.get('/fotos')).text()).toContain('Nog niet gepubliceerd');
  });

  it('publishes the ready photos in one go; a consent conflict blocks its photo and says so next to it', async () => {
    const res = await postBatch(
      b.mia,
      batchOf(boomhut, [[ids[0]!, ['K1']], [ids[1]!, ['K1', 'K2']], [ids[2]!, [], true]], [['fotos', ids.join(',')], ['actie', 'publiceren']]),
    );
    expect(res.status).toBe(303);
    expect(await albumShows(b.anna, ids[0]!)).toBe(true);
    expect(await albumShows(b.anna, ids[1]!)).toBe(false); // Thijs has no consent
    expect(await albumShows(b.anna, ids[2]!)).toBe(true); // nobody recognisable: published with no tags
    expect(await tagsOf(ids[2]!)).toEqual([]);
    const html = await (await b.mia.get(res.headers.get('Location')!)).text();
    expect(html).toContain('De foto&#39;s die klaar waren zijn gepubliceerd');
    const start = html.indexOf(`id="foto-${ids[1]}"`);
    const card = cardAt(html, start);
    // In the order the files were chosen.
    expect(html.indexOf(`id="foto-${ids[0]}"`)).toBeLessThan(start);
    expect(card).toContain('Kan niet gepubliceerd worden');
    expect(card).toContain('Thijs Test: geen toestemming');
    expect(card).toContain('Haal dan het vinkje weg');
    // Reopened without the upload's ids: only what still waits (the held photo), not the published ones.
    const waiting = await (await b.mia.get(`/fotos/taggen?groep=${boomhut}`)).text();
    expect(waiting).toContain(`name="foto" value="${ids[1]}"`);
    expect(waiting).not.toContain(`name="foto" value="${ids[0]}"`);
  });

  it('untagging the child without consent and publishing again shares that photo too', async () => {
    const res = await postBatch(b.mia, batchOf(boomhut, [[ids[1]!, ['K1']]], [['actie', 'publiceren']]));
    expect(res.status).toBe(303);
    expect(await albumShows(b.anna, ids[1]!)).toBe(true);
  });

  it('select several photos, then a child: that child is tagged on all of them, the other ticks kept', async () => {
    const res = await postBatch(
      b.mia,
      batchOf(boomhut, [[ids[0]!, ['K1']], [ids[1]!, ['K1']], [ids[2]!, [], true]], [
        ['selectie', ids[0]!],
        ['selectie', ids[2]!],
        ['alleKind', 'K3'],
      ]),
    );
    expect(res.status).toBe(303);
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']);
    expect(await tagsOf(ids[1]!)).toEqual(['K1']);
    expect(await tagsOf(ids[2]!)).toEqual(['K3']);
    expect(await confirmedOf(ids[2]!)).toBe(false);
  });

  it('a child of another group in the batch: 422, and nothing of the batch is saved', async () => {
    const res = await postBatch(b.mia, batchOf(boomhut, [[ids[0]!, []], [ids[1]!, ['K9']]], [['actie', 'publiceren']]));
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('Er is nog niets opgeslagen');
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']); // the valid half was not saved either
    expect(await tagsOf(ids[1]!)).toEqual(['K1']);
  });

  it('children and "nobody recognisable" on one photo: 422 next to that photo, the ticks kept, nothing saved', async () => {
    const res = await postBatch(b.mia, batchOf(boomhut, [[ids[0]!, []], [ids[1]!, ['K2'], true]]));
    expect(res.status).toBe(422);
    const html = await res.text();
    const start = html.indexOf(`id="foto-${ids[1]}"`);
    expect(start).toBeGreaterThan(0);
    const card = cardAt(html, start);
    expect(card).toMatch(/name="kind-[^"]+" value="K2" checked/);
    expect(card).toContain('Kies één van beide');
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']);
  });

  it('a photo of another group slipped into the form: 404 and nothing saved', async () => {
    const res = await postBatch(b.mia, batchOf(boomhut, [[ids[0]!, []], [zolderPhoto, ['K1']]], [['actie', 'publiceren']]));
    expect(res.status).toBe(404);
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']);
    expect(await tagsOf(zolderPhoto)).toEqual([]);
    // Nor may staff of the other location post this group's photos, or a parent.
    for (const browser of [b.otto, b.anna]) {
      expect((await postBatch(browser, batchOf(boomhut, [[ids[0]!, []]]))).status).toBe(404);
      expect((await postBatch(browser, batchOf(zolder, [[ids[0]!, []]]))).status).toBe(404);
      expect((await browser.get(`/fotos/taggen?groep=${boomhut}`)).status).toBe(404);
      expect((await browser.post(`/fotos/${ids[0]}/chips`, { kind: 'K1' })).status).toBe(404);
    }
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']);
  });

  it('CSRF: a forged token is refused with 403 and nothing is saved', async () => {
    expect((await postBatch(b.mia, batchOf(boomhut, [[ids[0]!, []]]), 'A'.repeat(43))).status).toBe(403);
    expect((await b.mia.post(`/fotos/${ids[0]}/chips`, { kind: 'K2' }, { csrf: 'B'.repeat(43) })).status).toBe(403);
    expect(await tagsOf(ids[0]!)).toEqual(['K1', 'K3']);
  });
});
