import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../core/actor.ts';
import { clockOf } from '../core/clock.ts';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Parent } from '../core/entities/parent.ts';
import { Photo, PhotoTag } from '../core/entities/photo.ts';
import { Staff } from '../core/entities/staff.ts';
import { admin } from './portal.ts';

/**
 * The people of the schriftje tests (core and HTTP):
 * - Centrum: Boomhut (Evi K1, Sam K2, Noor K3), Kikkers (Finn K4); Noord: Zolder (Lot K9).
 * - Anna: parent of Evi and Finn (two children); Cor: Evi's other parent; Bram: Sam; Eva: Lot.
 * - Mia works in Boomhut, Kees in Kikkers, Otto in Zolder (another location); Lia manages
 *   Centrum; Ada is an admin.
 * - Noor has no internal photo consent; the others do. Photos of Boomhut today: one of Evi
 *   (shareable), one of Evi with Noor (held), one of Sam.
 */

export const PEOPLE = {
  parents: [
    ['anna@example.nl', 'Anna', ['K1', 'K4']],
    ['cor@example.nl', 'Cor', ['K1']],
    ['bram@example.nl', 'Bram', ['K2']],
    ['eva@example.nl', 'Eva', ['K9']],
  ],
  staff: [
    ['mia@example.nl', 'Mia', 'staff', { group: 'Boomhut' }],
    ['kees@example.nl', 'Kees', 'staff', { group: 'Kikkers' }],
    ['otto@example.nl', 'Otto', 'staff', { group: 'Zolder' }],
    ['lia@example.nl', 'Lia', 'manager', { location: 'Centrum' }],
    ['ada@example.nl', 'Ada', 'admin', undefined],
  ],
} as const;

export type DiaryActors = Record<'anna' | 'cor' | 'bram' | 'eva' | 'mia' | 'kees' | 'otto' | 'lia' | 'ada', Actor>;

export interface DiaryFixture {
  actors: DiaryActors;
  child: Record<'evi' | 'sam' | 'noor' | 'finn' | 'lot', number>;
  group: Record<'boomhut' | 'kikkers' | 'zolder', number>;
  photo: Record<'evi' | 'eviNoor' | 'sam', string>;
}

export async function seedDiary(em: EntityManager): Promise<DiaryFixture> {
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Kikkers' });
  await addGroup(em, admin, { location: 'Noord', name: 'Zolder' });
  const since = addDays(clockOf(em).today(), -30);
  const children = [
    ['K1', 'Evi', 'Boomhut', 'ja'],
    ['K2', 'Sam', 'Boomhut', 'ja'],
    ['K3', 'Noor', 'Boomhut', 'nee'],
    ['K4', 'Finn', 'Kikkers', 'ja'],
    ['K9', 'Lot', 'Zolder', 'ja'],
  ] as const;
  for (const [n, name, group, consent] of children) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Bakker', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, n, { internal: consent, external: 'nee' });
  }
  const actors = {} as Record<string, Actor>;
  for (const [email, firstName, kids] of PEOPLE.parents) {
    await addParent(em, admin, { email, firstName, lastName: 'Ouder', children: [...kids] });
    const parent = await em.findOneOrFail(Parent, { email });
    actors[firstName.toLowerCase()] = { kind: 'parent', parentId: parent.id, label: `web:${email}` };
  }
  for (const [email, firstName, role, where] of PEOPLE.staff) {
    await addStaff(em, admin, { email, firstName, lastName: 'Werker', role });
    if (where) await assignStaff(em, admin, email, where);
    const staff = await em.findOneOrFail(Staff, { email });
    actors[firstName.toLowerCase()] = { kind: role, staffId: staff.id, label: `web:${email}` } as Actor;
  }
  const childId = async (n: string) => (await em.findOneOrFail(Child, { childNumber: n })).id;
  const groupId = async (name: string) => (await em.findOneOrFail(Group, { name })).id;
  const boomhut = await groupId('Boomhut');
  const photo = async (tags: string[]) => {
    const p = em.create(Photo, { group: boomhut, takenAt: clockOf(em).now(), state: 'ready', thumbKey: null });
    await em.flush();
    for (const n of tags) em.create(PhotoTag, { photo: p, child: await childId(n), taggedBy: 'test' });
    await em.flush();
    return p.id;
  };
  return {
    actors: actors as DiaryActors,
    child: { evi: await childId('K1'), sam: await childId('K2'), noor: await childId('K3'), finn: await childId('K4'), lot: await childId('K9') },
    group: { boomhut, kikkers: await groupId('Kikkers'), zolder: await groupId('Zolder') },
    photo: { evi: await photo(['K1']), eviNoor: await photo(['K1', 'K3']), sam: await photo(['K2']) },
  };
}
