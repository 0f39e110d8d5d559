import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { idsInScope } from '../authorization.ts';
import { Placement } from '../entities/child.ts';
import { type ILocation, Location, locationContact } from '../entities/location.ts';
import { Guardianship } from '../entities/parent.ts';
import { fullName } from '../people.ts';
import { clockOf } from '../clock.ts';

/**
 * The public Landelijk Register Kinderopvang, where parents look a location up by its LRK number
 * (inspection reports, the number the childcare allowance asks for). Its pages for one location
 * are addressed by an internal id, not by the LRK number, so the page links to the register's
 * search and shows the number next to it.
 */
export const LRK_REGISTER_URL = 'https://www.landelijkregisterkinderopvang.nl/';

/**
 * Mijn vestiging: the locations that matter to the actor, with what a parent needs to reach
 * them. A parent sees the location of every child's current or coming placement (two children at
 * two locations: both), with the first names of the children there; staff the locations they
 * work at; an administrator all of them.
 */
export interface MyLocation {
  id: number;
  name: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  openingHours: string | null;
  /** Registration number in the Landelijk Register Kinderopvang (9 digits). */
  lrk: string | null;
  /** Where parents look the LRK number up (LRK_REGISTER_URL); null without a number. */
  lrkUrl: string | null;
  /** The locatiemanager's name. */
  manager: string | null;
  /** Parents: first names of their children placed here, in order of birth. */
  children: string[];
}

export async function myLocations(em: EntityManager, actor: Actor, on: string = clockOf(em).today()): Promise<MyLocation[]> {
  const children = new Map<number, string[]>();
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) {
    const links = await em.find(Guardianship, { parent: parentId });
    // Placements not yet ended (current and planned), of children who have not left.
    const placements = await em.find(
      Placement,
      {
        child: { $in: links.map((l) => l.child.id), $or: [{ leftOn: null }, { leftOn: { $gte: on } }] },
        $or: [{ endDate: null }, { endDate: { $gte: on } }],
      },
      { populate: ['child', 'group'], orderBy: { child: { birthDate: 'asc', id: 'asc' }, startDate: 'asc' } },
    );
    for (const p of placements) {
      const names = children.get(p.group.location.id) ?? [];
      if (!names.includes(p.child.firstName)) names.push(p.child.firstName);
      children.set(p.group.location.id, names);
    }
  }
  const ids = await idsInScope(em, actor, 'location.read');
  if (ids !== 'all' && ids.length === 0) return [];
  const locations: ILocation[] = await em.find(Location, ids === 'all' ? {} : { id: { $in: ids } }, {
    populate: ['manager'],
    orderBy: { name: 'asc' },
  });
  return locations.map((l) => ({
    id: l.id,
    name: l.name,
    ...locationContact(l),
    lrkUrl: l.lrk ? LRK_REGISTER_URL : null,
    manager: l.manager ? fullName(l.manager) : null,
    children: children.get(l.id) ?? [],
  }));
}
