import type { EntityManager } from '@mikro-orm/postgresql';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { admin } from './portal.ts';

/**
 * The smallest world an invitation needs: De Zon, one group (Boomhut) with one child (Evi, K1),
 * and the given parents of that child. The mail suites differ in their parents, not in this.
 */
export async function seedMailWorld(em: EntityManager, parents: { email: string; firstName: string; language: 'nl' | 'en' }[]): Promise<void> {
  await initOrganisation(em, admin, { name: 'De Zon', publicUrl: 'https://ouders.dezon.nl', helpdeskEmail: 'help@dezon.nl' });
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addChild(em, admin, { childNumber: 'K1', firstName: 'Evi', lastName: 'Berg', birthDate: '2024-01-01', group: 'Boomhut' });
  for (const p of parents) await addParent(em, admin, { ...p, lastName: 'Test', children: ['K1'] });
}
