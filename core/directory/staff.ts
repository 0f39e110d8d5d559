import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { endSessionsOf } from '../accounts/accounts.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { dryRunnable } from '../db/dry-run.ts';
import { inTransaction } from '../db/errors.ts';
import { inList, sql, sqlCount } from '../db/sql.ts';
import { Account } from '../entities/account.ts';
import { Group } from '../entities/group.ts';
import { type IStaff, STAFF_ROLES, Staff, type StaffRole } from '../entities/staff.ts';
import { type IStaffAssignment, StaffAssignment } from '../entities/staff-assignment.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { email, language, optionalPhone, optionalText, parseInput, text } from '../validation.ts';
import { getOrganisation } from './organisation.ts';
import { findGroup, findLocation, findStaff } from './refs.ts';

export interface StaffView {
  email: string;
  name: string;
  role: IStaff['role'];
  phone: string | null;
  active: boolean;
  /** Set while deactivated: when (ISO) and why. */
  deactivatedAt: string | null;
  deactivatedReason: string | null;
  /** "Location/Group" for a group, "Location" for a whole location. */
  assignments: string[];
}

/** "Location/Group" or "Location"; needs `location` and `group.location` populated. */
const describeAssignment = (a: IStaffAssignment) => (a.group ? `${a.group.location.name}/${a.group.name}` : a.location!.name);

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
    deactivatedAt: s.deactivatedAt?.toISOString() ?? null,
    deactivatedReason: s.deactivatedReason ?? null,
    assignments: assignments
      .filter((a) => a.staff.id === s.id)
      .map(describeAssignment)
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
 * Ends these assignments of a staff member and, since their access shrinks, their sessions and
 * app tokens; audited with what ended. The one way assignments end (unassign, assign --remove,
 * a demotion). Returns the ended assignments by name and the sessions ended.
 */
async function endAssignments(
  tx: EntityManager,
  actor: Actor,
  staff: IStaff,
  rows: IStaffAssignment[],
  cause: string,
): Promise<{ ended: string[]; sessionsEnded: number }> {
  if (rows.length === 0) return { ended: [], sessionsEnded: 0 };
  await tx.populate(rows, ['location', 'group.location']);
  const ended = rows.map(describeAssignment).sort();
  for (const row of rows) tx.remove(row);
  await tx.flush();
  const sessionsEnded = await endSessionsOf(tx, { staff });
  audit(tx, { type: 'staff.unassigned', actor, subject: staff.email, details: { ended, sessionsEnded, cause } });
  return { ended, sessionsEnded };
}

/**
 * Assigns a staff member to a group, or to a whole location (with --location alone); `remove`
 * takes that one assignment away again (as `unassignStaff` does, sessions end). Managers are
 * normally assigned to their location.
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
      await endAssignments(tx, actor, staff, [existing], 'assign --remove');
      return true;
    }
    if (existing) return false;
    const created = tx.create(StaffAssignment, { staff, ...target });
    audit(tx, { type: 'staff.assigned', actor, subject: staff.email, details: { assignment: describeAssignment(created) } });
    return true;
  });
  const staff = await findStaff(em, staffEmail);
  return { ...(await toViews(em, [staff]))[0]!, changed };
}

// --- the lifecycle: unassign, set-role, deactivate, reactivate, remove ------------------------

export interface DryRunOption {
  /** Do everything, report it, and roll it back (core/db/dry-run.ts). */
  dryRun?: boolean;
}

/** A staff member after a lifecycle change, with what the change ended. */
export interface StaffChange extends StaffView {
  /** Sessions (browsers) logged out; app tokens are revoked with them. */
  sessionsEnded: number;
  /** Assignments ended by the change, by name. */
  assignmentsEnded: string[];
  /** False when the staff member already was as asked (nothing written). */
  changed: boolean;
  dryRun: boolean;
}

async function changeOf(
  tx: EntityManager,
  staff: IStaff,
  change: Partial<Pick<StaffChange, 'sessionsEnded' | 'assignmentsEnded' | 'changed'>>,
  options: DryRunOption,
): Promise<StaffChange> {
  await tx.flush();
  return {
    ...(await toViews(tx, [staff]))[0]!,
    sessionsEnded: change.sessionsEnded ?? 0,
    assignmentsEnded: change.assignmentsEnded ?? [],
    changed: change.changed ?? true,
    dryRun: Boolean(options.dryRun),
  };
}

/**
 * An organisation must keep someone who can administer it on the web: the last active admin is
 * not demoted, deactivated or removed. (The terminal is always admin; this is about the portal.)
 */
async function refuseLastAdmin(tx: EntityManager, staff: IStaff, what: string): Promise<void> {
  if (staff.role !== 'admin' || !staff.active) return;
  const others = await tx.count(Staff, { role: 'admin', active: true, id: { $ne: staff.id } });
  if (others === 0) {
    throw conflict(
      `${staff.email} is the last active admin and cannot be ${what}; make someone else admin first (\`portal staff set-role <email> admin\`)`,
    );
  }
}

const unassignSchema = z
  .object({
    group: z.string().trim().min(1).optional(),
    location: z.string().trim().min(1).optional(),
    all: z.boolean().optional(),
  })
  .refine((v) => v.all || v.group || v.location, { message: 'name a group, a location or --all', path: ['group'] })
  .refine((v) => !(v.all && (v.group || v.location)), { message: '--all takes no group or location', path: ['all'] });

/**
 * `portal staff unassign`: ends assignments. --group G: that group (--location qualifies the
 * group's name as with assign); --location L alone: everything at L (the location itself and its
 * groups); --all: every assignment. The staff member's sessions end when any assignment ends.
 */
export async function unassignStaff(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  input: z.input<typeof unassignSchema>,
  options: DryRunOption = {},
): Promise<StaffChange> {
  requireAdmin(actor, 'directory.manage');
  const which = parseInput(unassignSchema, input);
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    let where: Record<string, unknown> = { staff: staff.id };
    let named = '';
    if (which.group) {
      const group = await findGroup(tx, which.group, which.location);
      where = { staff: staff.id, group: group.id };
      named = `${group.location.name}/${group.name}`;
    } else if (which.location) {
      const location = await findLocation(tx, which.location);
      where = { staff: staff.id, $or: [{ location: location.id }, { group: { location: location.id } }] };
      named = location.name;
    }
    const rows = await tx.find(StaffAssignment, where);
    if (rows.length === 0 && !which.all) throw notFound(`an assignment of ${staff.email} at ${named}`);
    const { ended, sessionsEnded } = await endAssignments(tx, actor, staff, rows, 'unassign');
    return await changeOf(tx, staff, { assignmentsEnded: ended, sessionsEnded, changed: ended.length > 0 }, options);
  });
}

const RANK: Record<StaffRole, number> = { staff: 0, manager: 1, admin: 2 };

/**
 * `portal staff set-role`: a new role. A demotion ends the sessions (the next request sees the
 * smaller role). Whole-location assignments do not fit the staff role (staff work in groups):
 * a demotion to staff ends them and reports them, rather than leaving access nobody asked for.
 * The last active admin is not demoted.
 */
export async function setStaffRole(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  newRole: string,
  options: DryRunOption = {},
): Promise<StaffChange & { previousRole: StaffRole }> {
  requireAdmin(actor, 'directory.manage');
  const to = parseInput(role, newRole);
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    const from = staff.role;
    if (from === to) return { ...(await changeOf(tx, staff, { changed: false }, options)), previousRole: from };
    if (to !== 'admin') await refuseLastAdmin(tx, staff, 'demoted');
    const misfits = to === 'staff' ? await tx.find(StaffAssignment, { staff: staff.id, location: { $ne: null } }) : [];
    const unassigned = await endAssignments(tx, actor, staff, misfits, `role ${to}`);
    const ended = unassigned.ended;
    staff.role = to;
    await tx.flush();
    const demoted = RANK[to] < RANK[from];
    const sessionsEnded = unassigned.sessionsEnded + (demoted ? await endSessionsOf(tx, { staff }) : 0);
    audit(tx, {
      type: 'staff.role_changed',
      actor,
      subject: staff.email,
      details: { from, to, assignmentsEnded: ended, sessionsEnded },
    });
    return { ...(await changeOf(tx, staff, { assignmentsEnded: ended, sessionsEnded }, options)), previousRole: from };
  });
}

/**
 * `portal staff deactivate`: a leaver or long leave. Login is refused and every staff rule stops
 * reaching anything (core/access/rules.ts) at once, sessions and app tokens end; the assignments
 * stay, so `reactivate` restores exactly the access there was.
 */
export async function deactivateStaff(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  input: { reason?: string } = {},
  options: DryRunOption = {},
): Promise<StaffChange> {
  requireAdmin(actor, 'directory.manage');
  const reason = parseInput(optionalText(500, 'reason'), input.reason) ?? null;
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    if (!staff.active) {
      const since = staff.deactivatedAt ? ` since ${staff.deactivatedAt.toISOString().slice(0, 10)}` : '';
      throw conflict(`${staff.email} is already deactivated${since}`);
    }
    await refuseLastAdmin(tx, staff, 'deactivated');
    staff.active = false;
    staff.deactivatedAt = clockOf(tx).now();
    staff.deactivatedReason = reason;
    await tx.flush();
    const sessionsEnded = await endSessionsOf(tx, { staff });
    audit(tx, { type: 'staff.deactivated', actor, subject: staff.email, details: { reason, sessionsEnded } });
    return await changeOf(tx, staff, { sessionsEnded }, options);
  });
}

/** `portal staff reactivate`: login works again, with the assignments kept at deactivation. */
export async function reactivateStaff(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  options: DryRunOption = {},
): Promise<StaffChange> {
  requireAdmin(actor, 'directory.manage');
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    if (staff.active) throw conflict(`${staff.email} is not deactivated`);
    staff.active = true;
    staff.deactivatedAt = null;
    staff.deactivatedReason = null;
    audit(tx, { type: 'staff.reactivated', actor, subject: staff.email });
    return await changeOf(tx, staff, {}, options);
  });
}

/** The name that replaces a removed staff member's in what they wrote, in the organisation's language. */
export const FORMER_STAFF = { nl: 'Oud-medewerker', en: 'Former staff member' } as const;

export interface StaffRemoval {
  email: string;
  name: string;
  role: StaffRole;
  sessionsEnded: number;
  assignmentsEnded: string[];
  /** The name now shown beside what they wrote. */
  shownAs: string;
  messagesAnonymised: number;
  announcementsAnonymised: number;
  diaryEntriesAnonymised: number;
  /** Photos they uploaded: kept, the uploader left empty. */
  photosKept: number;
  /** Locations that named them as manager and now name nobody. */
  locationsWithoutManager: string[];
  dryRun: boolean;
}

/**
 * `portal staff remove`: a leaver whose personal data must go (AVG/GDPR art. 17).
 *
 * What goes: the staff record (name, address, phone), their login (sessions, app tokens, reset
 * links, second factor), their assignments, their read marks. What stays, because it is the
 * organisation's record and the families': the messages, announcements and schriftje entries
 * they wrote and the photos they uploaded. Their name in those is replaced by "Oud-medewerker"
 * ("Former staff member" for an English-speaking organisation), in the schriftje's history too
 * (the text there stays immutable). The audit log keeps its events (security records, removed by
 * its own retention); the removal itself is audited without the address.
 *
 * The last active admin is not removed.
 */
export async function removeStaff(
  em: EntityManager,
  actor: Actor,
  staffEmail: string,
  options: DryRunOption = {},
): Promise<StaffRemoval> {
  requireAdmin(actor, 'directory.manage');
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const staff = await findStaff(tx, staffEmail);
    await refuseLastAdmin(tx, staff, 'removed');
    const shownAs = FORMER_STAFF[(await getOrganisation(tx)).defaultLanguage];
    const sessionsEnded = await endSessionsOf(tx, { staff });
    const assignments = await tx.find(StaffAssignment, { staff: staff.id }, { populate: ['location', 'group.location'] });
    const account = await tx.findOne(Account, { staff: staff.id }, { fields: ['email'] });
    const logins = [`web:${staff.email}`, ...(account && account.email !== staff.email ? [`web:${account.email}`] : [])];
    const pseudonym = `removed-staff:${staff.id}`;
    const now = clockOf(tx).now();

    const messages = await sqlCount(tx, 'update message set author_label = ? where author_staff_id = ?', [shownAs, staff.id]);
    const announcements = await sqlCount(tx, 'update announcement set author_label = ? where author_id = ?', [shownAs, staff.id]);
    const diary = await sqlCount(tx, 'update diary_entry set author_label = ?, updated_at = ? where staff_id = ?', [shownAs, now, staff.id]);
    await sqlCount(
      tx,
      `update diary_entry_revision set edited_by = ?, edited_by_name = ?
        where edited_by ${inList(logins)} or entry_id in (select id from diary_entry where staff_id = ?)`,
      [pseudonym, shownAs, ...logins, staff.id],
    );
    const [photos] = await sql<{ n: number }>(tx, 'select count(*)::int as n from photo where uploaded_by_id = ?', [staff.id]);
    const managed = await sql<{ name: string }>(tx, 'select name from location where manager_id = ? order by name', [staff.id]);

    // The staff row last: the login, assignments and read marks go with it (cascade); what they
    // wrote and uploaded keeps its row with the link to them emptied (set null).
    await sqlCount(tx, 'delete from staff where id = ?', [staff.id]);
    const report: StaffRemoval = {
      email: staff.email,
      name: fullName(staff),
      role: staff.role,
      sessionsEnded,
      assignmentsEnded: assignments.map(describeAssignment).sort(),
      shownAs,
      messagesAnonymised: messages,
      announcementsAnonymised: announcements,
      diaryEntriesAnonymised: diary,
      photosKept: photos?.n ?? 0,
      locationsWithoutManager: managed.map((m) => m.name),
      dryRun: Boolean(options.dryRun),
    };
    const { email: _email, name: _name, dryRun: _dryRun, ...details } = report;
    audit(tx, { type: 'staff.removed', actor, subject: `staff:${staff.id}`, details });
    return report;
  });
}
