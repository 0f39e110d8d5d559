import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { authorize } from '../access/index.ts';
import { idFilter, idsInScope } from '../authorization.ts';
import { inTransaction } from '../db/errors.ts';
import { Group } from '../entities/group.ts';
import { type ILocation, Location } from '../entities/location.ts';
import { StaffAssignment } from '../entities/staff-assignment.ts';
import { conflict, invalid, } from '../errors.ts';
import { fullName } from '../people.ts';
import { email, optionalPhone, optionalText, parseInput, text } from '../validation.ts';
import { findLocation, findStaff } from './refs.ts';

export interface LocationView {
  id: number;
  name: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  openingHours: string | null;
  /** When staff read messages (HH:MM), told to parents on the compose page. */
  messagesReadAt: string;
  manager: { email: string; name: string } | null;
  groups: number;
}

async function toViews(em: EntityManager, locations: ILocation[]): Promise<LocationView[]> {
  if (locations.length === 0) return [];
  await em.populate(locations, ['manager']);
  const groups = await em.find(Group, { location: { $in: locations.map((l) => l.id) }, archivedAt: null }, { fields: ['location'] });
  return locations.map((l) => ({
    id: l.id,
    name: l.name,
    address: l.address ?? null,
    phone: l.phone ?? null,
    email: l.email ?? null,
    openingHours: l.openingHours ?? null,
    messagesReadAt: l.messagesReadAt,
    manager: l.manager ? { email: l.manager.email, name: fullName(l.manager) } : null,
    groups: groups.filter((g) => g.location.id === l.id).length,
  }));
}

const toView = async (em: EntityManager, l: ILocation) => (await toViews(em, [l]))[0]!;

const fields = {
  address: optionalText(500, 'address'),
  phone: optionalPhone,
  email: z.union([z.literal(''), email]).transform((v) => (v === '' ? null : v)).nullable().optional(),
  openingHours: optionalText(500, 'opening hours'),
  messagesReadAt: z
    .string()
    .trim()
    .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'messages read at: expected a time like 12:00')
    .transform((v) => v.padStart(5, '0'))
    .optional(),
  manager: z.string().trim().optional(),
};
const addSchema = z.object({ name: text(200, 'name'), ...fields });
const updateSchema = z.object({ name: text(200, 'name').optional(), ...fields });
export type AddLocationInput = z.input<typeof addSchema>;
export type UpdateLocationInput = z.input<typeof updateSchema>;

async function assertNameFree(em: EntityManager, name: string, exceptId?: number) {
  const same = await em.findOne(Location, { name: { $ilike: name.replace(/[\\%_]/g, '\\$&') } });
  if (same && same.id !== exceptId) throw conflict(`a location named "${same.name}" already exists`);
}

/** The locatiehoofd must be a staff member with the manager role; they get the location too. */
async function setManager(em: EntityManager, location: ILocation, managerEmail: string) {
  if (managerEmail === '') {
    location.manager = null;
    return;
  }
  const manager = await findStaff(em, managerEmail);
  if (manager.role !== 'manager' && manager.role !== 'admin') {
    throw invalid('manager', `${manager.email} has the role "${manager.role}"; a location manager needs "manager"`);
  }
  location.manager = manager;
  const assigned = await em.findOne(StaffAssignment, { staff: manager.id, location: location.id });
  if (!assigned) em.create(StaffAssignment, { staff: manager, location, group: null });
}

export async function addLocation(em: EntityManager, actor: Actor, input: AddLocationInput): Promise<LocationView> {
  requireAdmin(actor, 'directory.manage');
  const { manager, ...data } = parseInput(addSchema, input);
  const location = await inTransaction(em, async (tx) => {
    await assertNameFree(tx, data.name);
    const l = tx.create(Location, { ...data, manager: null });
    if (manager !== undefined) {
      await tx.flush();
      await setManager(tx, l, manager);
    }
    return l;
  });
  return await toView(em, location);
}

export async function updateLocation(
  em: EntityManager,
  actor: Actor,
  ref: string,
  input: UpdateLocationInput,
): Promise<LocationView> {
  requireAdmin(actor, 'directory.manage');
  const { manager, ...data } = parseInput(updateSchema, input);
  const location = await inTransaction(em, async (tx) => {
    const l = await findLocation(tx, ref);
    if (data.name) await assertNameFree(tx, data.name, l.id);
    const changes = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
    tx.assign(l, changes);
    if (manager !== undefined) await setManager(tx, l, manager);
    return l;
  });
  return await toView(em, location);
}

/** Locations the actor works at or has children at; all of them for an admin. */
export async function listLocations(em: EntityManager, actor: Actor): Promise<LocationView[]> {
  const scope = await idsInScope(em, actor, 'location.read');
  const locations = await em.find(Location, idFilter(scope), { orderBy: { name: 'asc' } });
  return await toViews(em, locations);
}

export async function showLocation(em: EntityManager, actor: Actor, ref: string): Promise<LocationView> {
  const location = await findLocation(em, ref);
  await authorize(em, actor, 'location.read', location.id, `location "${ref}"`);
  return await toView(em, location);
}
