import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { systemClock } from '../clock.ts';
import { addDays } from '../dates.ts';
import { addChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { Group } from '../entities/group.ts';
import { Photo } from '../entities/photo.ts';
import { exportExternalPhotos } from './external-export.ts';
import { prunePhotos } from './retention.ts';
import { tagPhoto } from './tagging.ts';
import { processUploadedPhoto, uploadPhoto } from './upload.ts';

let portal: TestPortal;
const ids: Record<string, string> = {};

async function add(name: string, colour: string, tags: string[], caption?: string) {
  const group = await portal.em().findOneOrFail(Group, { name: 'Boomhut' });
  const data = await sharp({ create: { width: 200, height: 150, channels: 3, background: colour } }).jpeg().toBuffer();
  const { photoId } = await uploadPhoto(portal.em(), portal, admin, { groupId: group.id, data, caption });
  await processUploadedPhoto(portal, photoId);
  if (tags.length) await tagPhoto(portal.em(), admin, photoId, { childNumbers: tags });
  ids[name] = photoId;
}

async function storedKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const k of portal.photos.keys()) out.push(k);
  return out;
}

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  for (const n of ['K1', 'K2']) {
    await addChild(em, admin, { childNumber: n, firstName: n, lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -5) });
  }
  await setConsent(em, admin, 'K1', { internal: 'ja', external: 'ja' });
  await setConsent(em, admin, 'K2', { internal: 'ja', external: 'nee' });
  await add('old', '#a33', ['K1']);
  await add('K1 only', '#3a3', ['K1'], '=HYPERLINK("http://x")');
  await add('K1 and K2', '#33a', ['K1', 'K2']);
  await add('untagged', '#aa3', []);
  await portal.em().nativeUpdate(Photo, { id: ids['old'] }, { uploadedAt: new Date(portal.clock.now().getTime() - 400 * 86_400_000) });
});
afterAll(() => portal?.destroy());

describe('photos retention and external export', () => {
  it('prunes photos past the retention period, rows and files; a dry run removes nothing', async () => {
    const dry = await prunePhotos(portal.em(), portal, admin, { dryRun: true });
    expect(dry.photos).toBe(1);
    expect(await portal.em().count(Photo, {})).toBe(4);
    const keysBefore = await storedKeys();
    const old = await portal.em().findOneOrFail(Photo, { id: ids['old'] });
    const oldKeys = [old.originalKey!, old.displayKey!, old.thumbKey!];
    const r = await prunePhotos(portal.em(), portal, admin);
    expect(r.photos).toBe(1);
    expect(await portal.em().findOne(Photo, { id: ids['old'] })).toBeNull();
    expect(await portal.em().count(Photo, {})).toBe(3);
    // Files are removed only after the grace period (young files may belong to an upload in progress).
    expect((await storedKeys()).length).toBe(keysBefore.length);
    expect(oldKeys.every((k) => keysBefore.includes(k))).toBe(true);
    // Two hours on, in the files' time (the real one: the operating system stamps them).
    const later = await prunePhotos(portal.em(), portal, admin, { filesNow: new Date(systemClock.now().getTime() + 2 * 3_600_000) });
    expect(later.files).toBe(3);
    const left = await storedKeys();
    expect(oldKeys.some((k) => left.includes(k))).toBe(false);
    expect(left).toHaveLength(keysBefore.length - 3);
  });

  it('exports only photos in which every tagged child has external consent, with a safe CSV', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'portal-export-')), 'website');
    const r = await exportExternalPhotos(portal.em(), portal, admin, out);
    expect(r.photos).toBe(1);
    const files = readdirSync(out).sort();
    expect(files).toEqual([expect.stringMatching(new RegExp(`${ids['K1 only']}\\.jpg$`)), 'photos.csv']);
    const csv = readFileSync(join(out, 'photos.csv'), 'utf8');
    expect(csv).toContain(`'=HYPERLINK`);
    await expect(exportExternalPhotos(portal.em(), portal, admin, out)).rejects.toThrow(/already exists/);
    expect(existsSync(`${out}.partial-${process.pid}`)).toBe(false);
  });
});
