import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { addDays } from '../dates.ts';
import { addChild } from '../directory/children.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff, deactivateStaff, reactivateStaff } from '../directory/staff.ts';
import { type ActionName, actionNames, can, catalogue, scopeIds, type TargetKind } from './index.ts';

/**
 * A deactivated staff member reaches nothing through the assignments kept for `reactivate`, even
 * with an actor that outlived the deactivation (a session row the gate has not seen yet, an
 * in-flight request): the staff rules themselves ask for an active staff row (rules.ts), for
 * every action of the catalogue on groups, children, locations and parents, as a single check
 * and as a list's scope.
 */

let portal: TestPortal;
const ids: Partial<Record<TargetKind, number>> = {};
const actors: Record<'leid' | 'manager', Actor> = {} as never;
const KINDS: TargetKind[] = ['group', 'child', 'location', 'parent'];
const staffActions = actionNames.filter((a) => KINDS.includes(catalogue[a].target));

async function reach(actor: Actor): Promise<ActionName[]> {
  const em = portal.em();
  const out: ActionName[] = [];
  for (const action of staffActions) {
    const scope = await scopeIds(em, actor, action);
    const one = await can(em, actor, action, ids[catalogue[action].target]);
    if (one || scope === 'all' || scope.length > 0) out.push(action);
  }
  return out;
}

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  const since = addDays(portal.clock.today(), -30);
  await addChild(em, admin, { childNumber: 'K1', firstName: 'Evi', lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: since });
  await addParent(em, admin, { email: 'ouder@example.nl', firstName: 'Anna', lastName: 'Test', children: ['K1'] });
  await addStaff(em, admin, { email: 'leid@example.nl', firstName: 'Mia', lastName: 'Test', role: 'staff' });
  await assignStaff(em, admin, 'leid@example.nl', { group: 'Boomhut' });
  await addStaff(em, admin, { email: 'manager@example.nl', firstName: 'Lena', lastName: 'Test', role: 'manager' });
  await assignStaff(em, admin, 'manager@example.nl', { location: 'Centrum' });
  const one = async (q: string) => (await em.getConnection().execute<{ id: number }[]>(q))[0]!.id;
  ids.location = await one(`select id from location where name = 'Centrum'`);
  ids.group = await one(`select id from care_group where name = 'Boomhut'`);
  ids.child = await one(`select id from child where child_number = 'K1'`);
  ids.parent = await one(`select id from parent where email = 'ouder@example.nl'`);
  actors.leid = { kind: 'staff', staffId: await one(`select id from staff where email = 'leid@example.nl'`), label: 'web:leid@example.nl' };
  actors.manager = { kind: 'manager', staffId: await one(`select id from staff where email = 'manager@example.nl'`), label: 'web:manager@example.nl' };
});
afterAll(() => portal?.destroy());

describe('a deactivated staff member, with an actor that outlived the deactivation', () => {
  for (const who of ['leid', 'manager'] as const) {
    it(`${who}: reaches nothing while deactivated, and exactly the same again when reactivated`, async () => {
      const before = await reach(actors[who]);
      // The world is built so that there is something to lose: working in the group, reading the child.
      expect(before).toEqual(expect.arrayContaining(['group.work', 'child.read', 'parent.read', 'location.read']));
      await deactivateStaff(portal.em(), admin, `${who}@example.nl`, { reason: 'test' });
      expect(await reach(actors[who])).toEqual([]);
      await reactivateStaff(portal.em(), admin, `${who}@example.nl`);
      expect(await reach(actors[who])).toEqual(before);
    });
  }

  it('is refused by the rules even when only the flag changed (no use case, sessions untouched)', async () => {
    await portal.em().getConnection().execute(`update staff set active = false where email = 'manager@example.nl'`);
    try {
      expect(await can(portal.em(), actors.manager, 'swap.decide', ids.group)).toBe(false);
      expect(await scopeIds(portal.em(), actors.manager, 'child.read')).toEqual([]);
    } finally {
      await portal.em().getConnection().execute(`update staff set active = true where email = 'manager@example.nl'`);
    }
    expect(await can(portal.em(), actors.manager, 'swap.decide', ids.group)).toBe(true);
  });
});
