import type { EntityManager } from '@mikro-orm/postgresql';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { Child } from '../core/entities/child.ts';
import { clockOf } from '../core/clock.ts';
import { admin } from './portal.ts';

/**
 * Centrum/Boomhut with three children placed `sinceDays` ago: Evi (K1) and Sam (K2) with photo
 * consent, Noor (K3) without, so a photo of Sam and Noor is held back. Returns the children's ids
 * by number. The AVG and year book suites add their own parents and photos.
 */
export async function seedBoomhutChildren(em: EntityManager, sinceDays: number): Promise<Record<'K1' | 'K2' | 'K3', number>> {
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  const since = addDays(clockOf(em).today(), -sinceDays);
  const ids = {} as Record<'K1' | 'K2' | 'K3', number>;
  for (const [n, name, consent] of [['K1', 'Evi', 'ja'], ['K2', 'Sam', 'ja'], ['K3', 'Noor', 'nee']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
    await setConsent(em, admin, n, { internal: consent, external: 'nee' });
    ids[n] = (await em.findOneOrFail(Child, { childNumber: n })).id;
  }
  return ids;
}
