import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { authorize } from '../access/index.ts';
import { audit } from '../audit.ts';
import { idFilter, idsInScope } from '../authorization.ts';
import { dryRunnable } from '../db/dry-run.ts';
import { inTransaction } from '../db/errors.ts';
import { Group } from '../entities/group.ts';
import { type ILocation, Location, locationContact } from '../entities/location.ts';
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
  /** Registration number in the Landelijk Register Kinderopvang (9 digits). */
  lrk: string | null;
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
    ...locationContact(l),
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
  /** The LRK number; '' (or null) clears it. */
  lrk: z
    .string()
    .trim()
    .refine((v) => v === '' || /^\d{9}$/.test(v), 'LRK number: expected exactly 9 digits, e.g. 123456789')
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional(),
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

/** The locatiemanager must be a staff member with the manager role; they get the location too. */
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
    audit(tx, { type: 'location.added', actor, subject: l.name, details: { ...data, manager: l.manager?.email ?? null } });
    return l;
  });
  return await toView(em, location);
}

export interface LocationUpdate extends LocationView {
  /** What changed, old and new value (the manager by e-mail); empty when nothing did. */
  changes: { field: string; from: string | null; to: string | null }[];
  dryRun: boolean;
}

/** Changes the given fields; the old and new values go to the audit log (`location.updated`). */
export async function updateLocation(
  em: EntityManager,
  actor: Actor,
  ref: string,
  input: UpdateLocationInput,
  options: { dryRun?: boolean } = {},
): Promise<LocationUpdate> {
  requireAdmin(actor, 'directory.manage');
  const { manager, ...data } = parseInput(updateSchema, input);
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const l = await findLocation(tx, ref);
    if (data.name) await assertNameFree(tx, data.name, l.id);
    await tx.populate(l, ['manager']);
    const before = snapshot(l);
    const given = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
    tx.assign(l, given);
    if (manager !== undefined) await setManager(tx, l, manager);
    const after = snapshot(l);
    const changes = Object.keys(after)
      .filter((field) => before[field] !== after[field])
      .map((field) => ({ field, from: before[field] ?? null, to: after[field] ?? null }));
    if (changes.length) {
      audit(tx, {
        type: 'location.updated',
        actor,
        subject: l.name,
        details: {
          before: Object.fromEntries(changes.map((c) => [c.field, c.from])),
          after: Object.fromEntries(changes.map((c) => [c.field, c.to])),
        },
      });
    }
    await tx.flush();
    return { ...(await toView(tx, l)), changes, dryRun: Boolean(options.dryRun) };
  });
}

/** The fields of a location an update can change, as text (the manager by e-mail). */
function snapshot(l: ILocation): Record<string, string | null> {
  return {
    name: l.name,
    ...locationContact(l),
    messagesReadAt: l.messagesReadAt,
    manager: l.manager?.email ?? null,
  };
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
