import type { EntityManager } from '@mikro-orm/postgresql';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { admin } from './portal.ts';

/** Everyone in the mentor world with an e-mail address: staff and managers, then the parents. */
export const MENTOR_STAFF = ['mia@example.nl', 'nina@example.nl', 'kees@example.nl', 'otto@example.nl', 'lena@example.nl', 'wim@example.nl'];
export const MENTOR_PARENTS = ['anna@example.nl', 'bert@example.nl'];

/**
 * Two locations for the mentor suites: Centrum (Boomhut with Evi and Noor, Kikkers empty;
 * manager Lena) and Wyck (Egeltjes with Mats; manager Wim). Mia and Nina work in Boomhut, Kees
 * in Kikkers, Otto in Egeltjes. Anna is Evi's parent, Bert Noor's.
 */
export async function seedMentorWorld(em: EntityManager): Promise<void> {
  await initOrganisation(em, admin, { name: 'Kinderopvang Zonnetje', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Wyck' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Kikkers' });
  await addGroup(em, admin, { location: 'Wyck', name: 'Egeltjes' });
  for (const [n, first, group] of [
    ['K1', 'Evi', 'Boomhut'],
    ['K2', 'Noor', 'Boomhut'],
    ['K4', 'Mats', 'Egeltjes'],
  ] as const) {
    await addChild(em, admin, { childNumber: n, firstName: first, lastName: 'Test', birthDate: '2023-01-01', group, startDate: '2026-01-05' });
  }
  for (const [email, first, role, where] of [
    ['mia@example.nl', 'Mia', 'staff', { group: 'Boomhut' }],
    ['nina@example.nl', 'Nina', 'staff', { group: 'Boomhut' }],
    ['kees@example.nl', 'Kees', 'staff', { group: 'Kikkers' }],
    ['otto@example.nl', 'Otto', 'staff', { group: 'Egeltjes' }],
    ['lena@example.nl', 'Lena', 'manager', { location: 'Centrum' }],
    ['wim@example.nl', 'Wim', 'manager', { location: 'Wyck' }],
  ] as const) {
    await addStaff(em, admin, { email, firstName: first, lastName: 'de Vries', role });
    await assignStaff(em, admin, email, where);
  }
  await addParent(em, admin, { email: 'anna@example.nl', firstName: 'Anna', lastName: 'Ouder', children: ['K1'] });
  await addParent(em, admin, { email: 'bert@example.nl', firstName: 'Bert', lastName: 'Ouder', children: ['K2'] });
}
