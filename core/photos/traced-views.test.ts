import { mkdtempSync, writeFileSync } from 'node:fs';
import { texturedPhoto } from '../../test/pictures.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { errorCode } from '../../test/errors.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { addDays } from '../dates.ts';
import { addChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Group } from '../entities/group.ts';
import { Parent } from '../entities/parent.ts';
import { Photo, PhotoView } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { downloadPhoto, parseTraceCode, traceDownload } from './downloads.ts';
import { deletePhoto } from './manage.ts';
import { tagPhoto } from './tagging.ts';
import { extractTraceCode } from './trace-mark.ts';
import { tracedDisplayImage, tracedViewEmbeds } from './traced-views.ts';
import { processUploadedPhoto, uploadPhoto } from './upload.ts';

/**
 * The display image from the side of a parent who would pass it on: every parent gets their own
 * traced copy, which names them; the second view is the kept copy; refusals stay refusals.
 * Boomhut: Evi (K1, Anna), Sam (K2, Bram); Zolder: Lot (K9, Eva).
 */

let portal: TestPortal;
let photoId: string;
let mia: Actor;
const who: Record<string, Actor> = {};

const picture = (hue: number) => texturedPhoto(hue);

const views = (parent: Actor) => portal.em().find(PhotoView, { parent: parent.kind === 'parent' ? parent.parentId : 0 });

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Zolder' });
  const since = addDays(portal.clock.today(), -10);
  for (const [n, name, group] of [['K1', 'Evi', 'Boomhut'], ['K2', 'Sam', 'Boomhut'], ['K9', 'Lot', 'Zolder']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  for (const [email, firstName, child] of [['anna@example.nl', 'Anna', 'K1'], ['bram@example.nl', 'Bram', 'K2'], ['eva@example.nl', 'Eva', 'K9']] as const) {
    await addParent(em, admin, { email, firstName, lastName: 'Ouder', children: [child] });
    who[email] = { kind: 'parent', parentId: (await em.findOneOrFail(Parent, { email })).id, label: email };
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Staf', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  mia = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const group = await em.findOneOrFail(Group, { name: 'Boomhut' });
  ({ photoId } = await uploadPhoto(em, portal, mia, { groupId: group.id, data: await picture(200) }));
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), mia, photoId, { childNumbers: ['K1'] });
});
afterAll(() => portal?.destroy());

describe('traced display images', () => {
  it('two parents of the group get different bytes, and each copy (also re-encoded and smaller) names its parent', async () => {
    const anna = await tracedDisplayImage(portal.em(), portal, who['anna@example.nl']!, photoId);
    const bram = await tracedDisplayImage(portal.em(), portal, who['bram@example.nl']!, photoId);
    expect(anna.data.equals(bram.data)).toBe(false);
    expect(anna.key).not.toBe(bram.key);
    expect(anna.traceCode).not.toBe(bram.traceCode);
    // Only the invisible mark: no visible code on the photo page's image, and the same size.
    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    const display = await sharp(await portal.photos.get(photo.displayKey!)).metadata();
    expect((await sharp(anna.data).metadata()).width).toBe(display.width);

    const leaked = await sharp(bram.data).resize({ width: 700 }).jpeg({ quality: 75 }).toBuffer();
    expect((await extractTraceCode(anna.data))?.code).toBe(parseTraceCode(anna.traceCode!));
    expect(await traceDownload(portal.em(), admin, { file: anna.data })).toMatchObject({
      kind: 'view',
      email: 'anna@example.nl',
      parentName: 'Anna Ouder',
      photoId,
      traceCode: anna.traceCode,
    });
    expect(await traceDownload(portal.em(), admin, { file: leaked })).toMatchObject({ kind: 'view', email: 'bram@example.nl' });
    expect(await traceDownload(portal.em(), admin, { code: bram.traceCode! })).toMatchObject({ kind: 'view', email: 'bram@example.nl' });
    expect(await views(who['anna@example.nl']!)).toHaveLength(1);

    // As the admin does it: `portal photos trace FILE` on the leaked copy.
    const file = join(mkdtempSync(join(tmpdir(), 'leak-')), 'gevonden.jpg');
    writeFileSync(file, leaked);
    const cli = await runCli(['photos', 'trace', file], { PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/Received by:\s+Bram Ouder <bram@example\.nl>/);
    expect(cli.stdout).toContain(bram.traceCode!);
    expect(cli.stdout).toContain('not a download');
  });

  it("a parent's second view is the kept copy: the same bytes, no new encoding, still one row; last_at moves on by the hour", async () => {
    const anna = who['anna@example.nl']!;
    const first = await tracedDisplayImage(portal.em(), portal, anna, photoId);
    const embeds = tracedViewEmbeds();
    const second = await tracedDisplayImage(portal.em(), portal, anna, photoId);
    expect(tracedViewEmbeds()).toBe(embeds);
    expect(second.data.equals(first.data)).toBe(true);
    expect(second.key).toBe(first.key);
    // The copy is in the photo store under its own (content) key, which the row names.
    expect(await portal.photos.stat(first.key)).not.toBeNull();
    const [row] = await views(anna);
    expect(row).toMatchObject({ tracedKey: first.key, traceCode: parseTraceCode(first.traceCode!) });
    expect(await views(anna)).toHaveLength(1);
    // A view an hour later writes its time; within the hour nothing is written.
    portal.clock.advance({ hours: 2 });
    await tracedDisplayImage(portal.em(), portal, anna, photoId);
    const [later] = await views(anna);
    expect(later!.lastAt.getTime()).toBe(portal.clock.now().getTime());
    expect(later!.firstAt.getTime()).toBe(row!.firstAt.getTime());
  });

  it('a parent of another group, an unknown id and a suspended-like refusal get not found, and nothing is recorded', async () => {
    const eva = who['eva@example.nl']!;
    expect(await errorCode(tracedDisplayImage(portal.em(), portal, eva, photoId))).toBe('not_found');
    expect(await errorCode(tracedDisplayImage(portal.em(), portal, eva, '00000000-0000-4000-8000-000000000000'))).toBe('not_found');
    expect(await views(eva)).toHaveLength(0);
  });

  it('a withdrawn consent refuses the kept copy at once; a new consent serves the same copy again', async () => {
    const bram = who['bram@example.nl']!;
    const before = await tracedDisplayImage(portal.em(), portal, bram, photoId);
    await setConsent(portal.em(), admin, 'K1', { internal: 'nee', external: 'nee' });
    expect(await errorCode(tracedDisplayImage(portal.em(), portal, bram, photoId))).toBe('not_found');
    await setConsent(portal.em(), admin, 'K1', { internal: 'ja', external: 'nee' });
    expect((await tracedDisplayImage(portal.em(), portal, bram, photoId)).key).toBe(before.key);
  });

  it('staff get the shared display image, untraced and unrecorded', async () => {
    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    const staff = await tracedDisplayImage(portal.em(), portal, mia, photoId);
    expect(staff).toMatchObject({ key: photo.displayKey, traceCode: null });
    expect(staff.data.equals(await portal.photos.get(photo.displayKey!))).toBe(true);
    expect(await portal.em().count(PhotoView, {})).toBe(2);
  });

  it('a new display image (reprocessed) is traced again with the same code', async () => {
    const anna = who['anna@example.nl']!;
    const before = await tracedDisplayImage(portal.em(), portal, anna, photoId);
    const { key } = await portal.photos.put(await sharp(await picture(120)).resize({ width: 1000 }).jpeg().toBuffer());
    await portal.em().nativeUpdate(Photo, { id: photoId }, { displayKey: key });
    const after = await tracedDisplayImage(portal.em(), portal, anna, photoId);
    expect(after.key).not.toBe(before.key);
    expect(after.traceCode).toBe(before.traceCode);
    expect((await extractTraceCode(after.data))?.code).toBe(parseTraceCode(before.traceCode!));
  });

  it('one code space: a download can never take a code a view holds (and the other way round)', async () => {
    const [view] = await views(who['anna@example.nl']!);
    const insert = (code: number) =>
      portal
        .em()
        .getConnection()
        .execute(`insert into photo_download (trace_code, photo_ref, email, at) values (?, ?, 'x@example.nl', now())`, [code, photoId]);
    await expect(insert(view!.traceCode)).rejects.toThrow(/already in use by photo_view/);
    const download = await downloadPhoto(portal.em(), portal, who['anna@example.nl']!, photoId, { rulesAccepted: true });
    const code = parseTraceCode(download.traceCode)!;
    await expect(
      portal
        .em()
        .getConnection()
        .execute(`update photo_view set trace_code = ? where id = ?`, [code, view!.id]),
    ).rejects.toThrow(/already in use by photo_download/);
    // Downloads still trace as before.
    expect(await traceDownload(portal.em(), admin, { code: download.traceCode })).toMatchObject({ kind: 'download', email: 'anna@example.nl' });
  });

  it('deleting the photo removes the traced copies from the store; the view rows stay for tracing', async () => {
    const copies = (await portal.em().find(PhotoView, { photoRef: photoId })).map((v) => v.tracedKey!);
    expect(copies).toHaveLength(2);
    await deletePhoto(portal.em(), portal, mia, photoId);
    for (const key of copies) expect(await portal.photos.stat(key)).toBeNull();
    expect(await traceDownload(portal.em(), admin, { code: (await portal.em().fork().find(PhotoView, { photoRef: photoId }))[0]!.traceCode.toString(36) })).toMatchObject({
      kind: 'view',
      photoId,
    });
  });
});
