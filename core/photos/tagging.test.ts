import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { Photo } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import { batchTagSheet, saveBatchTags } from './batch-tagging.ts';
import { setPhotoHidden, tagPhoto, tagStatus } from './tagging.ts';
import { parentAlbum } from './visibility.ts';

let portal: TestPortal;
const actors: Record<string, Actor> = {};
let photoId: string;


beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Kikkers' });
  const since = addDays(portal.clock.today(), -10);
  await addChild(em, admin, { childNumber: 'K1', firstName: 'Thijs', lastName: 'Ramdin', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
  await addChild(em, admin, { childNumber: 'K2', firstName: 'Evi', lastName: 'Berg', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
  await addChild(em, admin, { childNumber: 'K9', firstName: 'Finn', lastName: 'Wit', birthDate: '2023-01-01', group: 'Kikkers', startDate: since });
  await setConsent(em, admin, 'K1', { internal: 'nee', external: 'nee' });
  await setConsent(em, admin, 'K2', { internal: 'ja', external: 'nee' });
  await addParent(em, admin, { email: 'ouder@example.nl', firstName: 'O', lastName: 'Berg', children: ['K2'] });
  const parent = await em.findOneOrFail(Parent, { email: 'ouder@example.nl' });
  actors['parent'] = { kind: 'parent', parentId: parent.id, label: 'ouder' };
  for (const [email, group] of [['mia@example.nl', 'Boomhut'], ['bas@example.nl', 'Boomhut'], ['kik@example.nl', 'Kikkers']] as const) {
    await addStaff(em, admin, { email, firstName: email.split('@')[0]!, lastName: 'Staf', role: 'staff' });
    await assignStaff(em, admin, email, { group });
    actors[email] = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email })).id, label: `web:${email}` };
  }
  const p = em.create(Photo, {
    group: await em.findOneOrFail(Group, { name: 'Boomhut' }),
    uploadedBy: await em.findOneOrFail(Staff, { email: 'mia@example.nl' }),
    takenAt: portal.clock.now(),
    state: 'ready',
  });
  await em.flush();
  photoId = p.id;
});
afterAll(() => portal?.destroy());

describe('tagging photos', () => {
  it('an untagged photo is held until staff tag children or confirm that none is recognisable', async () => {
    const status = await tagStatus(portal.em(), actors['mia@example.nl']!, photoId);
    expect(status).toMatchObject({ tagged: [], needsConfirmation: true, held: [] });
    expect(await parentAlbum(portal.em(), actors['parent']!)).toEqual([]);
  });

  it('says which tagged child holds the photo back, and shares it once that child is untagged', async () => {
    const tagged = await tagPhoto(portal.em(), actors['mia@example.nl']!, photoId, { childNumbers: ['K1', 'K2'] });
    expect(tagged.tagged.map((t) => t.name)).toEqual(['Evi Berg', 'Thijs Ramdin']);
    expect(tagged.held).toEqual([{ childNumber: 'K1', name: 'Thijs Ramdin', reason: 'no_consent' }]);
    expect(await parentAlbum(portal.em(), actors['parent']!)).toEqual([]);

    const untagged = await tagPhoto(portal.em(), actors['bas@example.nl']!, photoId, { childNumbers: ['K2'] });
    expect(untagged.held).toEqual([]);
    expect((await parentAlbum(portal.em(), actors['parent']!)).map((p) => p.id)).toEqual([photoId]);
  });

  it('refuses children of another group and writes nothing', async () => {
    const err = await tagPhoto(portal.em(), actors['mia@example.nl']!, photoId, { childNumbers: ['K2', 'K9'] }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.details).toEqual([{ path: 'childNumbers', message: 'child K9 is not in this group' }]);
    expect((await tagStatus(portal.em(), actors['mia@example.nl']!, photoId)).tagged.map((t) => t.childNumber)).toEqual(['K2']);
  });

  it('is refused to parents and to staff of another group, as not found', async () => {
    expect(await errorCode(tagPhoto(portal.em(), actors['parent']!, photoId, { childNumbers: [] }))).toBe('not_found');
    expect(await errorCode(tagPhoto(portal.em(), actors['kik@example.nl']!, photoId, { childNumbers: ['K9'] }))).toBe('not_found');
    expect(await errorCode(tagStatus(portal.em(), actors['kik@example.nl']!, photoId))).toBe('not_found');
  });

  it('staff hide their own photos only; an admin hides any', async () => {
    expect(await errorCode(setPhotoHidden(portal.em(), actors['bas@example.nl']!, photoId, true))).toBe('forbidden');
    await setPhotoHidden(portal.em(), actors['mia@example.nl']!, photoId, true);
    expect(await parentAlbum(portal.em(), actors['parent']!)).toEqual([]);
    await setPhotoHidden(portal.em(), admin, photoId, false);
    expect((await parentAlbum(portal.em(), actors['parent']!)).map((p) => p.id)).toEqual([photoId]);
  });
});

describe('batch tagging (one upload on one screen)', () => {
  const mia = () => actors['mia@example.nl']!;
  let boomhut: number;
  let kikkers: number;
  async function freshPhotos(n: number, group = 'Boomhut'): Promise<string[]> {
    const em = portal.em();
    const g = await em.findOneOrFail(Group, { name: group });
    const made = Array.from({ length: n }, () =>
      em.create(Photo, { group: g, takenAt: portal.clock.now(), state: 'ready', awaitingPublish: true }),
    );
    await em.flush();
    return made.map((p) => p.id);
  }
  const tagsOf = async (id: string) => (await tagStatus(portal.em(), mia(), id)).tagged.map((t) => t.childNumber);
  const album = async () => (await parentAlbum(portal.em(), actors['parent']!)).map((p) => p.id);

  beforeAll(async () => {
    boomhut = (await portal.em().findOneOrFail(Group, { name: 'Boomhut' })).id;
    kikkers = (await portal.em().findOneOrFail(Group, { name: 'Kikkers' })).id;
  });

  it('saves without publishing; publishing shares the ready photos and leaves the conflict with its reason', async () => {
    const [a, b, c] = await freshPhotos(3);
    const photos = [
      { photoId: a!, childNumbers: ['K2'], noChildConfirmed: false },
      { photoId: b!, childNumbers: ['K1', 'K2'], noChildConfirmed: false },
      { photoId: c!, childNumbers: [], noChildConfirmed: true },
    ];
    const saved = await saveBatchTags(portal.em(), mia(), { groupId: boomhut, photos, publish: false });
    expect(saved.published).toEqual([]);
    expect(await album()).not.toContain(a);
    const report = await saveBatchTags(portal.em(), mia(), { groupId: boomhut, photos, publish: true });
    expect(report.published.sort()).toEqual([a, c].sort());
    expect(report.notPublished).toEqual([{ photoId: b, status: 'held' }]);
    const shown = await album();
    expect(shown).toContain(a);
    expect(shown).toContain(c); // nobody recognisable: published with no tags
    expect(shown).not.toContain(b);
    const sheet = await batchTagSheet(portal.em(), mia(), boomhut, { photoIds: [a!, b!, c!] });
    expect(sheet.photos.find((p) => p.id === b)!.heldFor).toEqual(['Thijs Ramdin']);
  });

  it('is all or nothing: a child of another group anywhere in the batch saves none of it', async () => {
    const [a, b] = await freshPhotos(2);
    const err = await saveBatchTags(portal.em(), mia(), {
      groupId: boomhut,
      publish: true,
      photos: [
        { photoId: a!, childNumbers: ['K2'], noChildConfirmed: false },
        { photoId: b!, childNumbers: ['K9'], noChildConfirmed: false },
      ],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('validation');
    expect(await tagsOf(a!)).toEqual([]);
    expect(await album()).not.toContain(a);
  });

  it("another group's photo in the batch, or another group's staff: not found, nothing saved", async () => {
    const [a] = await freshPhotos(1);
    const [other] = await freshPhotos(1, 'Kikkers');
    const photos = [
      { photoId: a!, childNumbers: ['K2'], noChildConfirmed: false },
      { photoId: other!, childNumbers: [], noChildConfirmed: true },
    ];
    expect(await errorCode(saveBatchTags(portal.em(), mia(), { groupId: boomhut, photos, publish: true }))).toBe('not_found');
    expect(await errorCode(saveBatchTags(portal.em(), actors['kik@example.nl']!, { groupId: kikkers, photos, publish: true }))).toBe('not_found');
    expect(await errorCode(saveBatchTags(portal.em(), actors['parent']!, { groupId: boomhut, photos: photos.slice(0, 1), publish: true }))).toBe('not_found');
    expect(await tagsOf(a!)).toEqual([]);
    expect(await errorCode(batchTagSheet(portal.em(), actors['kik@example.nl']!, boomhut))).toBe('not_found');
  });

  it('reads the screen in the same number of queries for 2 photos as for 12', async () => {
    const count = async (ids: string[]) => {
      const em = portal.em();
      let queries = 0;
      const knex = em.getKnex();
      const listener = () => queries++;
      knex.on('query', listener);
      try {
        await batchTagSheet(em, mia(), boomhut, { photoIds: ids });
      } finally {
        knex.off('query', listener);
      }
      return queries;
    };
    const few = await count(await freshPhotos(2));
    const many = await count(await freshPhotos(12));
    expect(few).toBeGreaterThan(0);
    expect(many).toBe(few);
  });
});
