import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { inTransaction } from '../db/errors.ts';
import { Group } from '../entities/group.ts';
import { type IStaff, STAFF_ROLES, Staff } from '../entities/staff.ts';
import { StaffAssignment } from '../entities/staff-assignment.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { email, language, optionalPhone, optionalText, parseInput, text } from '../validation.ts';
import { findGroup, findLocation, findStaff } from './refs.ts';

export interface StaffView {
  email: string;
  name: string;
  role: IStaff['role'];
  phone: string | null;
  active: boolean;
  /** "Location/Group" for a group, "Location" for a whole location. */
  assignments: string[];
}

async function toViews(em: EntityManager, staff: IStaff[]): Promise<StaffView[]> {
  const assignments = await em.find(
    StaffAssignment,
    { staff: { $in: staff.map((s) => s.id) } },
    { populate: ['location', 'group.location'] },
  );
  return staff.map((s) => ({
    email: s.email,
    name: fullName(s),
    role: s.role,
    phone: s.phone ?? null,
    active: s.active,
    assignments: assignments
      .filter((a) => a.staff.id === s.id)
      .map((a) => (a.group ? `${a.group.location.name}/${a.group.name}` : a.location!.name))
      .sort(),
  }));
}

const role = z.enum(STAFF_ROLES, { error: `must be one of ${STAFF_ROLES.join(', ')}` });
const addSchema = z.object({
  email,
  firstName: text(100, 'first name'),
  infix: optionalText(50, 'infix'),
  lastName: text(100, 'last name'),
  phone: optionalPhone,
  role,
  language: language.default('nl'),
});
export type AddStaffInput = z.input<typeof addSchema>;

export async function addStaff(em: EntityManager, actor: Actor, input: AddStaffInput): Promise<StaffView> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(addSchema, input);
  const staff = await inTransaction(em, async (tx) => {
    if (await tx.findOne(Staff, { email: data.email })) throw conflict(`a staff member with e-mail ${data.email} already exists`);
    return tx.create(Staff, { ...data, infix: data.infix ?? null, phone: data.phone ?? null, active: true });
  });
  return (await toViews(em, [staff]))[0]!;
}

export async function listStaff(
  em: EntityManager,
  actor: Actor,
  filter: { location?: string; group?: string; role?: string } = {},
): Promise<StaffView[]> {
  requireAdmin(actor, 'directory.manage');
  const where: Record<string, unknown> = {};
  if (filter.role) where['role'] = parseInput(role, filter.role);
  if (filter.group || filter.location) {
    const group = filter.group ? await findGroup(em, filter.group, filter.location) : undefined;
    const location = group ? group.location : await findLocation(em, filter.location!);
    const groupIds = group ? [group.id] : (await em.find(Group, { location: location.id })).map((g) => g.id);
    const assignments = await em.find(StaffAssignment, {
      $or: [{ group: { $in: groupIds } }, { location: location.id }],
    });
    where['id'] = { $in: assignments.map((a) => a.staff.id) };
  }
  const staff = await em.find(Staff, where, { orderBy: { lastName: 'asc', firstName: 'asc' } });
  return await toViews(em, staff);
}

const assignSchema = z
  .object({ group: z.string().trim().min(1).optional(), location: z.string().trim().min(1).optional() })
  .refine((v) => v.group || v.location, { message: 'name a group or a location', path: ['group'] });

/**
 * Assigns a staff member to a group, or to a whole location (with --location alone); `remove`
 * takes the assignment away again. Managers are normally assigned to their location.
 */
export async function assignStaff(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  input: z.input<typeof assignSchema>,
  remove = false,
): Promise<StaffView & { changed: boolean }> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(assignSchema, input);
  const changed = await inTransaction(em, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    const target = data.group
      ? { group: await findGroup(tx, data.group, data.location), location: null }
      : { group: null, location: await findLocation(tx, data.location!) };
    if (!remove && staff.role === 'staff' && target.location) {
      throw invalid('location', 'a staff member works in groups; assign a group, or give them the manager role');
    }
    const existing = await tx.findOne(StaffAssignment, {
      staff: staff.id,
      ...(target.group ? { group: target.group.id } : { location: target.location!.id }),
    });
    if (remove) {
      if (!existing) throw notFound('that assignment');
      tx.remove(existing);
      return true;
    }
    if (existing) return false;
    tx.create(StaffAssignment, { staff, ...target });
    return true;
  });
  const staff = await findStaff(em, staffEmail);
  return { ...(await toViews(em, [staff]))[0]!, changed };
}
