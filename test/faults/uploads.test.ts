import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import exifr from 'exifr';
import type { Hono } from 'hono';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGroup } from '../../core/directory/groups.ts';
import { addLocation } from '../../core/directory/locations.ts';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { addStaff, assignStaff } from '../../core/directory/staff.ts';
import { Group } from '../../core/entities/group.ts';
import { Photo } from '../../core/entities/photo.ts';
import { backgroundTasks, tick } from '../../core/jobs/background.ts';
import { QUEUE_SCHEMA } from '../../core/jobs/queue.ts';
import { PHOTO_QUEUE, processUploadedPhoto, startPhotoWorker, uploadPhoto } from '../../core/photos/upload.ts';
import { type AppEnv, createApp } from '../../http/app.ts';
import { accountFor, LOOSE, TestBrowser } from '../../http/testing.ts';
import { cliAgainst } from '../cli.ts';
import { admin, createTestPortal, type TestPortal } from '../portal.ts';

/**
 * Drills for "nothing stuck, nothing lost" in the photo pipeline. Each asserts what was kept (rows,
 * files in the incoming store) and what the staff member was told, with real sharp, a real queue
 * and real stores in a temp folder. The periodic work is driven through the server's own task
 * list (core/jobs/background.ts), as `portal serve` runs it.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const MAX_FILES = 50;

let portal: TestPortal;
let app: Hono<AppEnv>;
let mia: TestBrowser;
let groupId: number;
const { cli, json } = cliAgainst(() => ({ PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir }));

/** A phone picture: EXIF with GPS and a camera serial, as staff upload them. */
async function phonePhoto(hue: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
    <rect width="640" height="480" fill="hsl(${hue},60%,70%)"/><circle cx="200" cy="240" r="120" fill="#c0392b"/></svg>`;
  return await sharp(Buffer.from(svg))
    .jpeg({ quality: 85 })
    .withExif({
      IFD0: { Make: 'Phone', Model: 'X' },
      IFD2: { BodySerialNumber: 'SN-42' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 0/1' },
    })
    .toBuffer();
}

/** Posts the upload form as a browser without JS does: token, group, caption, then the files. */
async function upload(files: { name: string; data: Uint8Array }[]): Promise<Response> {
  const form = new FormData();
  form.append('_csrf', mia.csrf ?? '');
  form.append('groep', String(groupId));
  form.append('bijschrift', '');
  for (const f of files) form.append('foto', new Blob([f.data], { type: 'image/jpeg' }), f.name);
  return await mia.request('/fotos/uploaden', { method: 'POST', body: form });
}

const states = async () => {
  const rows = await portal.em().fork().find(Photo, {}, { fields: ['state'] });
  const count = (s: string) => rows.filter((r) => r.state === s).length;
  return { total: rows.length, processing: count('processing'), ready: count('ready'), failed: count('failed') };
};
async function incomingKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of portal.incoming.keys()) keys.push(k);
  return keys;
}
async function processAll(): Promise<void> {
  for (const p of await portal.em().fork().find(Photo, { state: 'processing' })) await processUploadedPhoto(portal, p.id);
}
/** The queue loses the photo's jobs, as a restored or wiped job table would. */
async function loseJobs(): Promise<void> {
  await portal.em().getConnection().execute(`delete from ${QUEUE_SCHEMA}.job where name = ?`, [PHOTO_QUEUE]);
}
function task(name: string) {
  const found = backgroundTasks(portal).find((t) => t.name === name);
  expect(found, `background task ${name}`).toBeDefined();
  return found!;
}
/** One run of the reaper, a few minutes on. */
async function reap(): Promise<void> {
  portal.clock.advance({ minutes: 4 });
  expect(await tick(portal, task('photo-reaper'))).toBe('ran');
}
/** Uploads one photo and lets its processing get stuck for good: the job lost three times. */
async function stuckPhoto(hue: number): Promise<string> {
  expect((await upload([{ name: `vast-${hue}.jpg`, data: await phonePhoto(hue) }])).status).toBe(303);
  const [p] = await portal.em().fork().find(Photo, { state: 'processing' }, { orderBy: { uploadedAt: 'desc' }, limit: 1 });
  for (let i = 0; i < 3; i++) {
    await loseJobs();
    await reap();
  }
  return p!.id;
}
/** The staff photo page; logged in again when the session ran out while the clock moved on. */
async function staffPage(): Promise<string> {
  let res = await mia.get(`/fotos?groep=${groupId}`);
  if (res.status === 303) {
    expect((await mia.login('mia@example.nl', PASSWORD)).status).toBe(303);
    res = await mia.get(`/fotos?groep=${groupId}`);
  }
  expect(res.status).toBe(200);
  return await res.text();
}
const fileOf = (key: string) => join(portal.dataDir, 'incoming', key.slice(0, 2), key.slice(2, 4), key);
const twoHoursAgo = () => new Date(Date.now() - 2 * 60 * 60_000); // file times are real time

beforeAll(async () => {
  portal = await createTestPortal({ 'photos.maxFilesPerUpload': MAX_FILES });
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Werker', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  await accountFor(portal, 'mia@example.nl', PASSWORD);
  app = createApp(portal, LOOSE);
  mia = new TestBrowser(app, { 'X-Forwarded-For': '203.0.113.7' });
  expect((await mia.login('mia@example.nl', PASSWORD)).status).toBe(303);
  await mia.get('/fotos');
});
afterAll(() => portal?.destroy());

describe('duplicate content', () => {
  it('40 parallel uploads of the same bytes while the worker runs: all 40 published, none stuck, no upload left', async () => {
    const same = await phonePhoto(10);
    const queue = await portal.jobs();
    // The worker runs while the uploads arrive, so jobs end between other uploads' put and commit.
    await startPhotoWorker(portal);
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, (i % 8) * 150));
          return await upload([{ name: `zelfde-${i}.jpg`, data: same }]);
        }),
      );
      expect(results.map((r) => r.status)).toEqual(Array(40).fill(303));
      const until = Date.now() + 50_000;
      while ((await states()).processing > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await queue.boss.offWork(PHOTO_QUEUE);
    }
    expect(await states()).toEqual({ total: 40, processing: 0, ready: 40, failed: 0 });
    // The shared upload went with the last photo that needed it.
    expect(await incomingKeys()).toEqual([]);
    // What staff see: 40 photos waiting to be tagged, none "wordt verwerkt".
    expect(await staffPage()).not.toContain('Wordt verwerkt');
  }, 60_000);

  it('a job that ends between another upload of the same bytes and its commit does not take the file from under it', async () => {
    const same = await phonePhoto(15);
    expect((await upload([{ name: 'eerste.jpg', data: same }])).status).toBe(303);
    const first = (await portal.em().fork().find(Photo, { state: 'processing' }))[0]!;
    // The second upload's bytes are stored; right then the first photo's job ends (and, seeing no
    // other photo yet, releases the shared file) before the second's row is committed.
    let ended = false;
    const incoming = {
      ...portal.incoming,
      put: async (...args: Parameters<typeof portal.incoming.put>) => {
        const stored = await portal.incoming.put(...args);
        if (!ended) {
          ended = true;
          expect(await processUploadedPhoto(portal, first.id)).toBe('ready');
        }
        return stored;
      },
    };
    const ctx = Object.assign(Object.create(portal) as TestPortal, { incoming });
    const staff = { kind: 'staff' as const, staffId: first.uploadedBy!.id, label: 'mia@example.nl' };
    const { photoId } = await uploadPhoto(portal.em().fork(), ctx, staff, { groupId, data: same });
    expect(await processUploadedPhoto(portal, photoId)).toBe('ready');
    expect(await incomingKeys()).toEqual([]);
  });

  it('the same bytes twice in one upload: two photos, both published', async () => {
    const before = await states();
    const same = await phonePhoto(20);
    expect((await upload([{ name: 'a.jpg', data: same }, { name: 'b.jpg', data: same }])).status).toBe(303);
    await processAll();
    expect(await states()).toEqual({ ...before, total: before.total + 2, ready: before.ready + 2 });
    expect(await incomingKeys()).toEqual([]);
  });
});

describe('refused at upload, with the reason', () => {
  it(`${MAX_FILES + 1} files in one upload: refused as a whole with the limit named, nothing kept`, async () => {
    const before = await states();
    const files = await Promise.all(Array.from({ length: MAX_FILES + 1 }, async (_, i) => ({ name: `f${i}.jpg`, data: await phonePhoto(100 + i) })));
    const res = await upload(files);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain(`Upload er hoogstens ${MAX_FILES} tegelijk; er is nu niets geüpload.`);
    expect(await states()).toEqual(before);
    expect(await incomingKeys()).toEqual([]);
  });

  it('a truncated JPEG is refused by its name while the uploader waits, nothing kept', async () => {
    const before = await states();
    const whole = await phonePhoto(30);
    const res = await upload([{ name: 'half.jpg', data: whole.subarray(0, Math.floor(whole.length * 0.6)) }]);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('<strong>half.jpg</strong>: dit bestand is beschadigd of onvolledig');
    expect(await states()).toEqual(before);
    expect(await incomingKeys()).toEqual([]);
  });
});

describe('the reaper, retry and what staff see', () => {
  it('a photo whose job was lost is queued again by the reaper and published', async () => {
    expect((await upload([{ name: 'kwijt.jpg', data: await phonePhoto(40) }])).status).toBe(303);
    const [p] = await portal.em().fork().find(Photo, { state: 'processing' });
    await loseJobs();
    await reap();
    const jobs = await portal.em().getConnection().execute(`select 1 from ${QUEUE_SCHEMA}.job where name = ? and data->>'photoId' = ?`, [PHOTO_QUEUE, p!.id]);
    expect(jobs).toHaveLength(1);
    await processAll();
    expect((await portal.em().fork().findOneOrFail(Photo, { id: p!.id })).state).toBe('ready');
  });

  it('one that stays stuck ends failed with a reason; staff see it with "opnieuw proberen" and "verwijderen", and a retry publishes it', async () => {
    const id = await stuckPhoto(50);
    const photo = await portal.em().fork().findOneOrFail(Photo, { id });
    expect(photo).toMatchObject({ state: 'failed', failureCode: 'stuck', attempts: 2 });
    expect(photo.sourceKey).not.toBeNull(); // kept, so that a retry can work

    const page = await staffPage();
    expect(page).toContain('Verwerken mislukt');
    expect(page).toContain('door een storing bij ons, niet door uw foto');
    expect(page).toContain(`action="/fotos/${id}/opnieuw"`);
    expect(page).toContain(`action="/fotos/${id}/verwijderen"`);
    // And on the batch tagging screen of that upload, the same reason.
    const batch = await (await mia.get(`/fotos/taggen?groep=${groupId}&fotos=${id}`)).text();
    expect(batch).toContain('door een storing bij ons, niet door uw foto');

    const res = await mia.post(`/fotos/${id}/opnieuw`, {});
    expect(res.status).toBe(303);
    expect(await (await mia.get(res.headers.get('location')!)).text()).toContain('De foto wordt opnieuw verwerkt.');
    await processAll();
    expect((await portal.em().fork().findOneOrFail(Photo, { id })).state).toBe('ready');
    expect(await incomingKeys()).toEqual([]);
  });

  it('portal photos status names the failed photo and whether a retry can help; portal photos retry --all publishes it', async () => {
    const id = await stuckPhoto(60);
    const status = await json('photos', 'status');
    expect(status).toMatchObject({ processing: 0, failed: 1 });
    expect(status.failures).toEqual([expect.objectContaining({ photoId: id, group: 'Boomhut', code: 'stuck', retryable: true })]);
    expect(await json('photos', 'retry', '--all')).toEqual({ retried: [id], refused: [] });
    await processAll();
    expect((await json('photos', 'status')).failed).toBe(0);
    // A photo that is not failed cannot be tried again: one line, exit 1.
    const r = await cli('photos', 'retry', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${id}: only a failed photo can be tried again\n`);
  });
});

describe('sweeping the uploads as received', () => {
  it('at start-up and hourly, removes a GPS-tagged original and temp files older than an hour, keeps what a live job needs', async () => {
    const sweep = task('photo-sweep');
    expect(sweep).toMatchObject({ atStart: true, periodMs: 60 * 60_000 });

    // An upload whose row never came (a crash between the put and the commit): GPS and all.
    const orphan = await phonePhoto(70);
    expect((await exifr.parse(orphan, { gps: true }))?.latitude).toBeCloseTo(52.3667, 3);
    const { key: orphanKey } = await portal.incoming.put(orphan);
    // A failed photo's kept upload, past its hour: goes, and the retry button with it.
    const failedId = await stuckPhoto(90);
    const failedKey = (await portal.em().fork().findOneOrFail(Photo, { id: failedId })).sourceKey!;
    // A photo still being processed from an old upload (the queue is long): kept.
    expect((await upload([{ name: 'bezig.jpg', data: await phonePhoto(80) }])).status).toBe(303);
    const live = (await portal.em().fork().find(Photo, { state: 'processing' }))[0]!;
    // Half a write, left by a crash.
    mkdirSync(join(portal.dataDir, 'incoming', '.tmp'), { recursive: true });
    const part = join(portal.dataDir, 'incoming', '.tmp', 'deadbeef.part');
    writeFileSync(part, orphan.subarray(0, 1000));
    for (const path of [fileOf(orphanKey), fileOf(live.sourceKey!), fileOf(failedKey), part]) utimesSync(path, twoHoursAgo(), twoHoursAgo());

    portal.clock.advance({ hours: 1 });
    expect(await tick(portal, sweep)).toBe('ran');
    expect(existsSync(fileOf(orphanKey))).toBe(false);
    expect(existsSync(part)).toBe(false);
    expect(existsSync(fileOf(failedKey))).toBe(false);
    expect(existsSync(fileOf(live.sourceKey!))).toBe(true);
    expect(await incomingKeys()).toEqual([live.sourceKey]);

    // Staff are told the upload is gone: delete and upload again, no retry button.
    const page = await staffPage();
    expect(page).toContain('Het geüploade bestand is niet meer aanwezig. Verwijder de foto en upload hem opnieuw.');
    expect(page).not.toContain(`action="/fotos/${failedId}/opnieuw"`);
    expect(page).toContain(`action="/fotos/${failedId}/verwijderen"`);

    // The live photo still finishes; then nothing is left.
    await processAll();
    expect((await portal.em().fork().findOneOrFail(Photo, { id: live.id })).state).toBe('ready');
    expect(await incomingKeys()).toEqual([]);
  });
});
