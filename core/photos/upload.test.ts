import exifr from 'exifr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Group } from '../entities/group.ts';
import { Photo } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import { processUploadedPhoto, uploadPhoto } from './upload.ts';

/** Upload to processed photo, with real sharp, real stores in a temp folder and a real queue. */

let portal: TestPortal;
let boomhut: number;
const staff: Record<string, Actor> = {};

async function keys(store: TestPortal['photos']) {
  const out: string[] = [];
  for await (const k of store.keys()) out.push(k);
  return out;
}

async function phoneJpeg(): Promise<Buffer> {
  return await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a7' } })
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'Canon', Model: 'EOS R5' },
      IFD2: { DateTimeOriginal: '2024:06:01 14:30:00', BodySerialNumber: 'SN-0123456789' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 0/1' },
    })
    .toBuffer();
}

beforeAll(async () => {
  portal = await createTestPortal({ 'photos.maxUploadBytes': 200_000 });
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Kikkers' });
  boomhut = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  for (const [email, group] of [['mia@example.nl', 'Boomhut'], ['kik@example.nl', 'Kikkers']] as const) {
    await addStaff(em, admin, { email, firstName: 'S', lastName: group, role: 'staff' });
    await assignStaff(em, admin, email, { group });
    staff[group] = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email })).id, label: email };
  }
});
afterAll(() => portal?.destroy());

describe('uploading a photo', () => {
  it('queues the upload with its row, then stores only stripped versions and forgets the original upload', async () => {
    const input = await phoneJpeg();
    expect((await exifr.parse(input, { gps: true }))?.latitude).toBeCloseTo(52.3667, 3);
    const { photoId, jobId } = await uploadPhoto(portal.em(), portal, staff['Boomhut']!, { groupId: boomhut, caption: 'Buiten spelen', data: input });
    const job = await portal.em().getConnection().execute(`select data from ${QUEUE_SCHEMA}.job where id = ?`, [jobId]);
    expect(job[0]?.data).toEqual({ photoId });
    expect((await portal.em().findOneOrFail(Photo, { id: photoId })).state).toBe('processing');

    expect(await processUploadedPhoto(portal, photoId)).toBe('ready');
    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    expect(photo).toMatchObject({ state: 'ready', width: 320, height: 240, sourceKey: null, caption: 'Buiten spelen' });
    expect(photo.takenAt.toISOString()).toBe('2024-06-01T12:30:00.000Z'); // 14:30 in Amsterdam
    for (const key of [photo.originalKey!, photo.displayKey!, photo.thumbKey!]) {
      const stored = await portal.photos.get(key);
      expect(await exifr.parse(stored, true)).toBeUndefined();
      expect(stored.includes(Buffer.from('SN-0123456789'))).toBe(false);
    }
    expect(await keys(portal.incoming)).toEqual([]);
    expect(await processUploadedPhoto(portal, photoId)).toBe('skipped'); // a second run changes nothing
  });

  it('refuses a file that is not an image, whatever its name, and keeps nothing', async () => {
    const before = await portal.em().count(Photo, {});
    const err = await uploadPhoto(portal.em(), portal, staff['Boomhut']!, {
      groupId: boomhut,
      data: Buffer.from('<!doctype html><html><body>hallo</body></html>'),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.message).toMatch(/HTML/);
    expect(await portal.em().count(Photo, {})).toBe(before);
    expect(await keys(portal.incoming)).toEqual([]);
  });

  it('refuses a body over the limit while it streams, and keeps nothing', async () => {
    async function* endless() {
      for (;;) yield Buffer.alloc(64 * 1024, 1);
    }
    const err = await uploadPhoto(portal.em(), portal, staff['Boomhut']!, { groupId: boomhut, data: endless() }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(await keys(portal.incoming)).toEqual([]);
  });

  it('is refused to staff of another group and to parents, as not found, before anything is stored', async () => {
    const input = await phoneJpeg();
    for (const actor of [staff['Kikkers']!, { kind: 'parent', parentId: 1, label: 'p' } as Actor]) {
      const err = await uploadPhoto(portal.em(), portal, actor, { groupId: boomhut, data: input }).catch((e) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('not_found');
    }
    expect(await keys(portal.incoming)).toEqual([]);
  });
});
