import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../test/errors.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { suspendParent } from '../accounts/suspension.ts';
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
import { PhotoDownload } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { downloadPhoto, traceDownload } from './downloads.ts';
import { downloadsOfMyChildren } from './my-children-downloads.ts';
import { tagPhoto } from './tagging.ts';
import { processUploadedPhoto, uploadPhoto } from './upload.ts';

/** Downloads from the refused side, and tracing a leaked copy back to its download. */

let portal: TestPortal;
let photoId: string;
const who: Record<string, Actor> = {};

/** Something like a photo: gradients, shapes and noise, so the hidden mark has texture to live in. */
async function picture(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">
    <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#8ec5ff"/><stop offset="1" stop-color="#f6e7c1"/></linearGradient></defs>
    <rect width="1200" height="900" fill="url(#s)"/><circle cx="300" cy="500" r="180" fill="#c0392b"/>
    <rect x="650" y="350" width="380" height="420" fill="#27ae60"/><ellipse cx="900" cy="200" rx="160" ry="70" fill="#fff"/></svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < base.data.length; i++) base.data[i] = Math.max(0, Math.min(255, base.data[i]! + ((i * 7919) % 23) - 11));
  return await sharp(base.data, { raw: base.info }).jpeg({ quality: 92 }).toBuffer();
}


beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  const since = addDays(portal.clock.today(), -10);
  for (const [n, name] of [['K1', 'Evi'], ['K2', 'Sam'], ['K3', 'Noor']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  await addParent(em, admin, { email: 'anna@example.nl', firstName: 'Anna', lastName: 'Een', children: ['K1'] });
  await addParent(em, admin, { email: 'bram@example.nl', firstName: 'Bram', lastName: 'Twee', children: ['K2'] });
  await addParent(em, admin, { email: 'cor@example.nl', firstName: 'Cor', lastName: 'Drie', children: ['K3'] });
  for (const email of ['anna@example.nl', 'bram@example.nl', 'cor@example.nl']) {
    who[email] = { kind: 'parent', parentId: (await em.findOneOrFail(Parent, { email })).id, label: email };
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Staf', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const group = await em.findOneOrFail(Group, { name: 'Boomhut' });
  ({ photoId } = await uploadPhoto(em, portal, mia, { groupId: group.id, data: await picture() }));
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), mia, photoId, { childNumbers: ['K1', 'K2'] });
});
afterAll(() => portal?.destroy());

describe('downloads', () => {
  it('two parents download the same photo: the files differ, each traces back to its own download, also after re-encoding and resizing', async () => {
    const a = await downloadPhoto(portal.em(), portal, who['anna@example.nl']!, photoId, { ip: '10.0.0.1', userAgent: 'test', rulesAccepted: true });
    const b = await downloadPhoto(portal.em(), portal, who['bram@example.nl']!, photoId, { ip: '10.0.0.2', rulesAccepted: true });
    expect(a.data.equals(b.data)).toBe(false);
    expect(a.traceCode).not.toBe(b.traceCode);
    expect(a.filename).toMatch(/^foto-\d{4}-\d{2}-\d{2}-[0-9A-Z]{7}\.jpg$/);
    const leaked = await sharp(b.data).resize({ width: 600 }).jpeg({ quality: 75 }).toBuffer();
    const fromA = await traceDownload(portal.em(), admin, { file: a.data });
    const fromB = await traceDownload(portal.em(), admin, { file: leaked });
    expect(fromA).toMatchObject({ email: 'anna@example.nl', parentName: 'Anna Een', photoId, ip: '10.0.0.1', traceCode: a.traceCode });
    expect(fromB).toMatchObject({ email: 'bram@example.nl', traceCode: b.traceCode });
    expect(await traceDownload(portal.em(), admin, { code: a.traceCode.toLowerCase() })).toMatchObject({ email: 'anna@example.nl' });
    expect(await portal.em().count(PhotoDownload, {})).toBe(2);
  });

  it('is refused, as not found and without a record, to a parent whose child is not in the photo', async () => {
    const before = await portal.em().count(PhotoDownload, {});
    expect(await errorCode(downloadPhoto(portal.em(), portal, who['cor@example.nl']!, photoId))).toBe('not_found');
    expect(await portal.em().count(PhotoDownload, {})).toBe(before);
  });

  it('is refused to a suspended parent', async () => {
    await suspendParent(portal.em(), admin, 'anna@example.nl', 'misbruik');
    expect(await errorCode(downloadPhoto(portal.em(), portal, who['anna@example.nl']!, photoId))).toBe('not_found');
  });

  it('tracing is for admins, and an unmarked image names nobody', async () => {
    expect(await errorCode(traceDownload(portal.em(), who['bram@example.nl']!, { code: 'ABC' }))).toBe('forbidden');
    expect(await errorCode(traceDownload(portal.em(), admin, { file: await picture() }))).toBe('not_found');
    expect(await errorCode(traceDownload(portal.em(), admin, { code: 'not a code!' }))).toBe('validation');
  });
});

describe("who downloaded photos of my child (Mijn gegevens)", () => {
  it('a parent sees each download of a photo of their own child, by role and never by name; others see nothing of it', async () => {
    const em = portal.em();
    await addParent(em, admin, { email: 'dirk@example.nl', firstName: 'Dirk', lastName: 'Een', children: ['K1'] });
    const dirk: Actor = { kind: 'parent', parentId: (await em.findOneOrFail(Parent, { email: 'dirk@example.nl' })).id, label: 'dirk' };
    await downloadPhoto(portal.em(), portal, dirk, photoId, { ip: '10.0.0.9', rulesAccepted: true });

    const anna = await downloadsOfMyChildren(portal.em(), who['anna@example.nl']!);
    const byRole = anna.map((d) => d.by).sort();
    // Anna and Bram downloaded it in the test above; Dirk (Evi's other parent) just now.
    expect(byRole).toEqual(['co-guardian', 'group-parent', 'you']);
    expect(anna.every((d) => d.childFirstName === 'Evi' && d.photoId === photoId)).toBe(true);
    expect(JSON.stringify(anna)).not.toMatch(/bram|Bram|dirk|Dirk|10\.0\.0/);
    // Newest first.
    expect(anna[0]!.by).toBe('co-guardian');

    // Bram's child Sam is in the photo too: he sees the same downloads from his side.
    expect((await downloadsOfMyChildren(portal.em(), who['bram@example.nl']!)).map((d) => d.by).sort()).toEqual(['group-parent', 'group-parent', 'you']);
    // Noor is not in the photo: her parent sees nothing of it.
    expect(await downloadsOfMyChildren(portal.em(), who['cor@example.nl']!)).toEqual([]);
    // Staff have no children here.
    expect(await errorCode(downloadsOfMyChildren(portal.em(), { kind: 'staff', staffId: 1, label: 'mia' }))).toBe('forbidden');
  });
});

describe('downloads in the audit log', () => {
  it('each download is an event naming the children in the photo, so `portal audit --child` finds it', async () => {
    const em = portal.em();
    const { listAudit } = await import('../audit.ts');
    const ofEvi = await listAudit(em, admin, { child: 'K1', type: 'photo.downloaded' });
    // Anna, Bram and Dirk downloaded the photo of Evi and Sam in the tests above.
    expect(ofEvi.length).toBe(await em.count(PhotoDownload, { photo: photoId }));
    expect(ofEvi.every((e) => JSON.stringify(e.details?.['children']) === '["K1","K2"]')).toBe(true);
    expect(ofEvi.map((e) => e.details?.['traceCode'])).toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9A-Z]{7}$/)]));
    // Noor is not in it: none of these downloads are about her.
    expect(await listAudit(em, admin, { child: 'K3', type: 'photo.downloaded' })).toEqual([]);
  });
});
