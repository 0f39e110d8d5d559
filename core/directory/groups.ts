import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { currentPlacement, idFilter, idsInScope } from '../authorization.ts';
import { inTransaction } from '../db/errors.ts';
import { Placement } from '../entities/child.ts';
import { Group, type IGroup } from '../entities/group.ts';
import { conflict } from '../errors.ts';
import { parseInput, text } from '../validation.ts';
import { findGroup, findLocation } from './refs.ts';
import { clockOf } from '../clock.ts';

export interface GroupView {
  id: number;
  location: string;
  name: string;
  capacity: number | null;
  children: number;
  archived: boolean;
}

/** Views of many groups with two queries in all, whatever their number. */
async function toViews(em: EntityManager, groups: IGroup[]): Promise<GroupView[]> {
  if (groups.length === 0) return [];
  await em.populate(groups, ['location']);
  const placements = await em.find(
    Placement,
    { group: { $in: groups.map((g) => g.id) }, ...currentPlacement(clockOf(em).today()) },
    { fields: ['group'] },
  );
  const count = new Map<number, number>();
  for (const p of placements) count.set(p.group.id, (count.get(p.group.id) ?? 0) + 1);
  return groups.map((g) => ({
    id: g.id,
    location: g.location.name,
    name: g.name,
    capacity: g.capacity ?? null,
    children: count.get(g.id) ?? 0,
    archived: g.archivedAt != null,
  }));
}

const toView = async (em: EntityManager, g: IGroup) => (await toViews(em, [g]))[0]!;

const capacity = z.coerce
  .number({ error: 'must be a whole number' })
  .int('must be a whole number')
  .min(0, 'cannot be negative')
  .max(500, 'is not a realistic group size')
  .nullable()
  .optional();
const addSchema = z.object({ location: text(200, 'location'), name: text(200, 'name'), capacity });
const updateSchema = z.object({ name: text(200, 'name').optional(), capacity });
export type AddGroupInput = z.input<typeof addSchema>;
export type UpdateGroupInput = z.input<typeof updateSchema>;

async function assertNameFree(em: EntityManager, locationId: number, name: string, exceptId?: number) {
  const same = await em.findOne(Group, {
    location: locationId,
    archivedAt: null,
    name: { $ilike: name.replace(/[\\%_]/g, '\\$&') },
  });
  if (same && same.id !== exceptId) throw conflict(`this location already has a group named "${same.name}"`);
}

export async function addGroup(em: EntityManager, actor: Actor, input: AddGroupInput): Promise<GroupView> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(addSchema, input);
  const group = await inTransaction(em, async (tx) => {
    const location = await findLocation(tx, data.location);
    await assertNameFree(tx, location.id, data.name);
    return tx.create(Group, { location, name: data.name, capacity: data.capacity ?? null, archivedAt: null });
  });
  return await toView(em, group);
}

export async function updateGroup(
  em: EntityManager,
  actor: Actor,
  ref: string,
  input: UpdateGroupInput,
  locationRef?: string,
): Promise<GroupView> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(updateSchema, input);
  const group = await inTransaction(em, async (tx) => {
    const g = await findGroup(tx, ref, locationRef);
    if (data.name) await assertNameFree(tx, g.location.id, data.name, g.id);
    if (data.name) g.name = data.name;
    if (data.capacity !== undefined) g.capacity = data.capacity;
    return g;
  });
  return await toView(em, group);
}

/**
 * Removes a group from use. A group that still has children (today or planned) is refused with
 * the count, so nobody loses a placement by accident; move or end them first. The row stays,
 * archived, because past placements and (later) photos refer to it.
 */
export async function removeGroup(
  em: EntityManager,
  actor: Actor,
  ref: string,
  locationRef?: string,
): Promise<GroupView> {
  requireAdmin(actor, 'directory.manage');
  const group = await inTransaction(em, async (tx) => {
    const g = await findGroup(tx, ref, locationRef);
    const active = await tx.count(Placement, {
      group: g.id,
      $or: [{ endDate: null }, { endDate: { $gte: clockOf(em).today() } }],
    });
    if (active > 0) {
      throw conflict(
        `group "${g.location.name}/${g.name}" still has ${active} current or planned placement(s); ` +
          'move those children (`portal children move`) or end their placement (`portal children leave`) first',
      );
    }
    g.archivedAt = clockOf(tx).now();
    return g;
  });
  return await toView(em, group);
}

export async function listGroups(
  em: EntityManager,
  actor: Actor,
  filter: { location?: string; includeArchived?: boolean } = {},
): Promise<GroupView[]> {
  const scope = await idsInScope(em, actor, 'group.read');
  const groups = await em.find(
    Group,
    {
      ...idFilter(scope),
      ...(filter.includeArchived ? {} : { archivedAt: null }),
      ...(filter.location ? { location: (await findLocation(em, filter.location)).id } : {}),
    },
    { populate: ['location'], orderBy: { location: { name: 'asc' }, name: 'asc' } },
  );
  return await toViews(em, groups);
}
