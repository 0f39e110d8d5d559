import type { Actor } from '../core/actor.ts';
import { clockOf } from '../core/clock.ts';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { Account } from '../core/entities/account.ts';
import { Group } from '../core/entities/group.ts';
import { Location } from '../core/entities/location.ts';
import { Parent } from '../core/entities/parent.ts';
import { Staff } from '../core/entities/staff.ts';
import type { Portal } from '../core/portal.ts';
import { admin } from './portal.ts';

/**
 * One small organisation for the message tests (core, HTTP, browser):
 *   Centrum (phone 045 111 22 33, messages read at 12:30): groups Boomhut and Zolder; manager Hanna.
 *   Noord: group Vlinder.
 *   Evi (Boomhut): parents Anna and Bart.   Sam (Boomhut) and Lot (Zolder): parent Cor.
 *   Noor (Vlinder): parent Eva.             Staff: Mia (Boomhut), Otto (Vlinder), admin Ada.
 * Every person gets an account with PASSWORD.
 */

export const PASSWORD = 'een lange zin als wachtwoord';

export const PEOPLE = {
  anna: 'anna@example.nl',
  bart: 'bart@example.nl',
  cor: 'cor@example.nl',
  eva: 'eva@example.nl',
  mia: 'mia@example.nl',
  otto: 'otto@example.nl',
  hanna: 'hanna@example.nl',
  ada: 'ada@example.nl',
} as const;
export type Person = keyof typeof PEOPLE;

export interface MessageWorld {
  actors: Record<Person, Actor>;
  groups: { boomhut: number; zolder: number; vlinder: number };
  locations: { centrum: number; noord: number };
}

export async function seedMessageWorld(
  portal: Pick<Portal, 'em' | 'hasher'>,
  options: { publicUrl?: string; names?: Partial<Record<Person, string>> } = {},
): Promise<MessageWorld> {
  const em = portal.em();
  await initOrganisation(em, admin, {
    name: 'Kinderopvang De Boomgaard',
    publicUrl: options.publicUrl ?? 'https://ouders.example.nl',
    helpdeskEmail: 'help@example.nl',
  });
  await addLocation(em, admin, { name: 'Centrum', phone: '045 111 22 33', messagesReadAt: '12:30' });
  await addLocation(em, admin, { name: 'Noord', phone: '045 999 88 77' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Zolder' });
  await addGroup(em, admin, { location: 'Noord', name: 'Vlinder' });
  const since = addDays(clockOf(em).today(), -30);
  for (const [n, name, group] of [
    ['K1', 'Evi', 'Boomhut'],
    ['K2', 'Sam', 'Boomhut'],
    ['K3', 'Lot', 'Zolder'],
    ['K4', 'Noor', 'Vlinder'],
  ] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Jansen', birthDate: '2023-01-01', group, startDate: since });
  }
  const name = (p: Person, fallback: string) => options.names?.[p] ?? fallback;
  for (const [p, first, children] of [
    ['anna', 'Anna', ['K1']],
    ['bart', 'Bart', ['K1']],
    ['cor', 'Cor', ['K2', 'K3']],
    ['eva', 'Eva', ['K4']],
  ] as const) {
    await addParent(em, admin, { email: PEOPLE[p], firstName: name(p, first), lastName: 'Ouder', children: [...children] });
  }
  for (const [p, first, role] of [
    ['mia', 'Mia', 'staff'],
    ['otto', 'Otto', 'staff'],
    ['hanna', 'Hanna', 'manager'],
    ['ada', 'Ada', 'admin'],
  ] as const) {
    await addStaff(em, admin, { email: PEOPLE[p], firstName: name(p, first), lastName: 'Werker', role });
  }
  await assignStaff(em, admin, PEOPLE.mia, { group: 'Boomhut' });
  await assignStaff(em, admin, PEOPLE.otto, { group: 'Vlinder' });
  await assignStaff(em, admin, PEOPLE.hanna, { location: 'Centrum' });

  const hash = await portal.hasher.hash(PASSWORD);
  const actors = {} as Record<Person, Actor>;
  for (const p of Object.keys(PEOPLE) as Person[]) {
    const email = PEOPLE[p];
    const parent = await em.findOne(Parent, { email });
    const staff = parent ? null : await em.findOneOrFail(Staff, { email });
    em.create(Account, { email, parent, staff, passwordHash: hash, passwordMustChange: false, passwordExpiresAt: null });
    actors[p] = parent
      ? { kind: 'parent', parentId: parent.id, label: email }
      : staff!.role === 'admin'
        ? { kind: 'admin', staffId: staff!.id, label: email }
        : { kind: staff!.role as 'staff' | 'manager', staffId: staff!.id, label: email };
  }
  await em.flush();
  const group = async (n: string) => (await em.findOneOrFail(Group, { name: n })).id;
  const location = async (n: string) => (await em.findOneOrFail(Location, { name: n })).id;
  return {
    actors,
    groups: { boomhut: await group('Boomhut'), zolder: await group('Zolder'), vlinder: await group('Vlinder') },
    locations: { centrum: await location('Centrum'), noord: await location('Noord') },
  };
}
