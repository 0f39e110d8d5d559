import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { addDays } from '../dates.ts';
import { addChild, leaveChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { suspendParent, unsuspendParent } from '../accounts/suspension.ts';
import { Group } from '../entities/group.ts';
import { Parent } from '../entities/parent.ts';
import { Child } from '../entities/child.ts';
import { Photo, PhotoTag } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import { parentAlbum, photoForActor } from './visibility.ts';

/**
 * Privacy invariants 1, 2 and 6 from the side of who must be refused: other groups, children
 * without consent, a child who left, a suspended parent, staff of another location.
 */

let portal: TestPortal;
const actors: Record<string, Actor> = {};
const photos: Record<string, string> = {};

async function photo(name: string, group: string, tags: string[], extra: { noChildConfirmed?: boolean; state?: 'ready' | 'processing'; hours?: number } = {}) {
  const em = portal.em();
  const g = await em.findOneOrFail(Group, { name: group });
  const p = em.create(Photo, {
    group: g,
    takenAt: new Date(portal.clock.now().getTime() - (extra.hours ?? 1) * 3_600_000),
    state: extra.state ?? 'ready',
    noChildConfirmed: extra.noChildConfirmed ?? false,
    caption: name,
  });
  for (const number of tags) {
    em.create(PhotoTag, { photo: p, child: await em.findOneOrFail(Child, { childNumber: number }), taggedBy: 'test' });
  }
  await em.flush();
  photos[name] = p.id;
}

const album = async (who: string) => (await parentAlbum(portal.em(), actors[who]!)).map((p) => p.caption).sort();
const refused = async (who: string, name: string) => {
  const err = await photoForActor(portal.em(), actors[who]!, photos[name]!).catch((e: unknown) => e);
  return err instanceof DomainError && err.code === 'not_found';
};

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Wyck' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Wyck', name: 'Egeltjes' });
  const since = addDays(portal.clock.today(), -30);
  await addChild(em, admin, { childNumber: 'K1', firstName: 'Evi', lastName: 'A', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
  await addChild(em, admin, { childNumber: 'K3', firstName: 'Sam', lastName: 'C', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
  await addChild(em, admin, { childNumber: 'K2', firstName: 'Noor', lastName: 'B', birthDate: '2023-01-01', group: 'Egeltjes', startDate: since });
  await addParent(em, admin, { email: 'p1@example.nl', firstName: 'P', lastName: 'Een', children: ['K1'] });
  await addParent(em, admin, { email: 'p3@example.nl', firstName: 'P', lastName: 'Drie', children: ['K3'] });
  await addParent(em, admin, { email: 'p2@example.nl', firstName: 'P', lastName: 'Twee', children: ['K2'] });
  for (const [key, email] of [['p1', 'p1@example.nl'], ['p2', 'p2@example.nl'], ['p3', 'p3@example.nl']] as const) {
    const p = await em.findOneOrFail(Parent, { email });
    actors[key] = { kind: 'parent', parentId: p.id, label: email };
  }
  for (const [email, group] of [['boomhut@example.nl', 'Boomhut'], ['egel@example.nl', 'Egeltjes']] as const) {
    await addStaff(em, admin, { email, firstName: 'S', lastName: group, role: 'staff' });
    await assignStaff(em, admin, email, { group });
    const s = await em.findOneOrFail(Staff, { email });
    actors[group] = { kind: 'staff', staffId: s.id, label: email };
  }
  await setConsent(em, admin, 'K1', { internal: 'ja', external: 'nee' });
  await setConsent(em, admin, 'K2', { internal: 'ja', external: 'nee' });
  await setConsent(em, admin, 'K3', { internal: 'ja', external: 'ja' });

  await photo('K1 alone', 'Boomhut', ['K1'], { hours: 1 });
  await photo('K1 and K3', 'Boomhut', ['K1', 'K3'], { hours: 2 });
  await photo('K3 alone', 'Boomhut', ['K3'], { hours: 3 });
  await photo('nobody, confirmed', 'Boomhut', [], { noChildConfirmed: true, hours: 4 });
  await photo('nobody, unconfirmed', 'Boomhut', [], { hours: 5 });
  await photo('still processing', 'Boomhut', ['K1'], { state: 'processing', hours: 6 });
  await photo('K2 in Egeltjes', 'Egeltjes', ['K2'], { hours: 1 });
});
afterAll(() => portal?.destroy());

describe('photo visibility', () => {

  it('parents see the shareable photos of their child\'s group only; download only where their own child is tagged', async () => {
    expect(await album('p1')).toEqual(['K1 alone', 'K1 and K3', 'K3 alone', 'nobody, confirmed']);
    const list = await parentAlbum(portal.em(), actors['p1']!);
    expect(Object.fromEntries(list.map((p) => [p.caption, p.downloadable]))).toEqual({
      'K1 alone': true,
      'K1 and K3': true,
      'K3 alone': false,
      'nobody, confirmed': false,
    });
    expect(await album('p2')).toEqual(['K2 in Egeltjes']);
  });

  it('a parent of another group asking for a photo by id gets not found', async () => {
    expect(await refused('p2', 'K1 alone')).toBe(true);
    expect(await refused('p1', 'K2 in Egeltjes')).toBe(true);
    expect(await refused('p1', 'nobody, unconfirmed')).toBe(true);
    expect(await refused('p1', 'still processing')).toBe(true);
    expect((await photoForActor(portal.em(), actors['p1']!, photos['K1 alone']!)).downloadable).toBe(true);
  });

  it('withdrawing one tagged child\'s consent hides every photo with that child at once, for everyone; a grant shows them again', async () => {
    await setConsent(portal.em(), admin, 'K3', { internal: 'nee', external: 'nee' });
    expect(await album('p1')).toEqual(['K1 alone', 'nobody, confirmed']);
    expect(await album('p3')).toEqual(['K1 alone', 'nobody, confirmed']);
    expect(await refused('p1', 'K1 and K3')).toBe(true);
    await setConsent(portal.em(), admin, 'K3', { internal: 'ja', external: 'nee' });
    expect(await album('p1')).toEqual(['K1 alone', 'K1 and K3', 'K3 alone', 'nobody, confirmed']);
  });

  it('a suspended parent sees nothing', async () => {
    await suspendParent(portal.em(), admin, 'p1@example.nl', 'test');
    expect(await album('p1')).toEqual([]);
    expect(await refused('p1', 'K1 alone')).toBe(true);
    await unsuspendParent(portal.em(), admin, 'p1@example.nl');
    expect(await album('p1')).toContain('K1 alone');
  });

  it('staff see the photos of their own groups, held ones included; staff of another location get not found', async () => {
    expect((await photoForActor(portal.em(), actors['Boomhut']!, photos['nobody, unconfirmed']!)).caption).toBe('nobody, unconfirmed');
    expect(await refused('Egeltjes', 'K1 alone')).toBe(true);
    expect(await parentAlbum(portal.em(), actors['Boomhut']!)).toEqual([]);
  });

  it('a parent whose child left the group no longer sees its photos', async () => {
    await leaveChild(portal.em(), admin, 'K3', { date: addDays(portal.clock.today(), -1) });
    expect(await album('p3')).toEqual([]);
    expect(await refused('p3', 'K3 alone')).toBe(true);
  });

  it('ids that are not UUIDs are not found, without a query error', async () => {
    const err = await photoForActor(portal.em(), actors['p1']!, "1' or '1'='1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('not_found');
  });
});

describe('album paging', () => {
  it('pages by (takenAt, id): photos taken in the same second are neither skipped nor repeated', async () => {
    const em = portal.em();
    const all = await parentAlbum(em, actors['p1']!);
    // Give all of them one capture time: only the id can order them now.
    await em.getConnection().execute('update photo set taken_at = ? where id = any(?::uuid[])', [
      new Date('2026-06-01T10:00:00.000Z'),
      `{${all.map((p) => p.id).join(',')}}`,
    ]);
    const seen: string[] = [];
    let before: { takenAt: string; id: string } | undefined;
    for (;;) {
      const page = await parentAlbum(portal.em(), actors['p1']!, { before, limit: 1 });
      if (page.length === 0) break;
      seen.push(page[0]!.id);
      before = { takenAt: page[0]!.takenAt, id: page[0]!.id };
    }
    expect(seen.sort()).toEqual(all.map((p) => p.id).sort());
  });
});
