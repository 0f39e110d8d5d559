import type { Actor } from '../actor.ts';
import { isAdmin, isManager, parentIdOf, staffIdOf } from './actors.ts';
import type { Target } from './targets.ts';

/**
 * The few rules every action is built from. A rule answers, for one actor on one day, "which
 * objects of the target's kind does this relation reach?" as a SQL sub-select, so the same rule
 * serves a check on one object, a list's scope and the buttons a page shows. Relations are
 * written once here (parent of a child, parent with a child in a group today, staff of a group,
 * manager of a location, admin) and reach every kind of object through its child and group
 * columns (targets.ts). Conditions narrow a rule on the object itself (the photo is shareable,
 * the group is not archived).
 */

export interface Sql {
  sql: string;
  params: unknown[];
}

/** The relation a rule's sub-select yields: ids of children, groups, locations, parents, accounts, or (child, group) placements. */
export type Relation = 'child' | 'group' | 'location' | 'placement' | 'parent' | 'account';

/** Every object of the target kind (an administrator). */
export const EVERY = 'every' as const;

export interface RuleContext {
  actor: Actor;
  /** The day the rule is evaluated on (the portal clock's), for placements in force. */
  day: string;
}

/** A condition on the object itself; `t` is the target's table alias. Null: no condition for this actor. */
export type Condition = {
  name: string;
  sql: (t: Target, ctx: RuleContext) => Sql | null;
};

export interface Rule {
  /** What the rule says, in words (test names and the catalogue's documentation). */
  name: string;
  on: Relation | 'any';
  /** The related ids this actor reaches, EVERY, or null when the rule does not apply to the actor. */
  grant: (ctx: RuleContext) => Sql | typeof EVERY | null;
  where: readonly Condition[];
}

const rule = (name: string, on: Relation | 'any', grant: Rule['grant']): Rule => ({ name, on, grant, where: [] });

/** The same rule, narrowed by conditions on the object. */
export const where = (base: Rule, ...conditions: Condition[]): Rule => ({
  ...base,
  name: `${base.name}, ${conditions.map((c) => c.name).join(', ')}`,
  where: [...base.where, ...conditions],
});

// --- building blocks (SQL) ------------------------------------------------------------------

/** A parent whose account is suspended reaches nothing (privacy invariant 6). Binds parentId. */
const ACTIVE_PARENT = 'not exists (select 1 from account ac where ac.parent_id = ? and ac.suspended_at is not null)';

/** Placements in force on a day (alias pl). Binds day, day. */
const CURRENT = 'pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)';

/**
 * A deactivated staff member reaches nothing through their assignments (kept for `reactivate`),
 * whatever session they still hold. Correlated on the assignment (alias sa); binds nothing.
 */
const ACTIVE_STAFF = 'exists (select 1 from staff st where st.id = sa.staff_id and st.active)';

/** The groups a staff member works in: assigned directly, or through their location. Binds staffId, staffId. */
const STAFF_GROUPS = `select sa.group_id from staff_assignment sa where sa.staff_id = ? and sa.group_id is not null and ${ACTIVE_STAFF}
  union all select cg.id from care_group cg join staff_assignment sa on sa.location_id = cg.location_id where sa.staff_id = ? and ${ACTIVE_STAFF}`;

/** The locations a manager is assigned to. Binds staffId. */
const MANAGED_LOCATIONS = `select sa.location_id from staff_assignment sa where sa.staff_id = ? and sa.location_id is not null and ${ACTIVE_STAFF}`;

/**
 * SQL: the placements in force on a day of a parent's children (alias pl). Binds parentId, day,
 * day. The one rule for "which children and groups does this parent have today".
 */
export const PARENT_PLACEMENTS = `placement pl join guardianship g on g.child_id = pl.child_id where g.parent_id = ? and ${CURRENT}`;

/** SQL: the groups in which one of a parent's children is placed on a day. Binds parentId, day, day. */
export const PARENT_GROUPS_SQL = `(select pl.group_id from ${PARENT_PLACEMENTS})`;

function parentPlacements(parentId: number, day: string, columns: string): Sql {
  return { sql: `select ${columns} from ${PARENT_PLACEMENTS} and ${ACTIVE_PARENT}`, params: [parentId, day, day, parentId] };
}

/** The staff member behind an organisation actor who is not an administrator. */
const worker = (actor: Actor): number | undefined => (isAdmin(actor) ? undefined : staffIdOf(actor));

// --- the rules ------------------------------------------------------------------------------

export const rules = {
  /** An administrator (account, terminal or the portal itself): everything. */
  admin: rule('administrator', 'any', ({ actor }) => (isAdmin(actor) ? EVERY : null)),

  /** An administrator who is a person with a staff record (writes under their own name). */
  adminInPerson: rule('administrator with a staff record', 'any', ({ actor }) =>
    isAdmin(actor) && staffIdOf(actor) !== undefined ? EVERY : null,
  ),

  /** A parent (active account) of the child, wherever the child is placed, or left. */
  guardian: rule('guardian of the child', 'child', ({ actor }) => {
    const parentId = parentIdOf(actor);
    if (parentId === undefined) return null;
    return { sql: `select g.child_id from guardianship g where g.parent_id = ? and ${ACTIVE_PARENT}`, params: [parentId, parentId] };
  }),

  /** A parent (active account) of the child, while the child is placed in that group today. */
  guardianOfChildInGroup: rule('guardian of the child, placed in the group today', 'placement', ({ actor, day }) => {
    const parentId = parentIdOf(actor);
    return parentId === undefined ? null : parentPlacements(parentId, day, 'pl.child_id, pl.group_id');
  }),

  /** A parent (active account) with one of their children placed in the group today. */
  parentInGroup: rule('parent with a child in the group today', 'group', ({ actor, day }) => {
    const parentId = parentIdOf(actor);
    return parentId === undefined ? null : parentPlacements(parentId, day, 'pl.group_id');
  }),

  /** A parent (active account) with a child who has contracted days in the group (from the planning system). */
  parentWithContract: rule('parent with a child contracted in the group', 'group', ({ actor }) => {
    const parentId = parentIdOf(actor);
    if (parentId === undefined) return null;
    return {
      sql: `select cd.group_id from contract_day cd join guardianship g on g.child_id = cd.child_id where g.parent_id = ? and ${ACTIVE_PARENT}`,
      params: [parentId, parentId],
    };
  }),

  /** A parent (active account) with a child placed at the location now or later (a placement not yet ended, a child not left). */
  parentAtOrGoingToLocation: rule('parent with a child at the location, now or planned', 'location', ({ actor, day }) => {
    const parentId = parentIdOf(actor);
    if (parentId === undefined) return null;
    return {
      sql: `select cg.location_id from placement pl join guardianship g on g.child_id = pl.child_id
              join child c on c.id = pl.child_id join care_group cg on cg.id = pl.group_id
             where g.parent_id = ? and (pl.end_date is null or pl.end_date >= ?::date)
               and (c.left_on is null or c.left_on >= ?::date) and ${ACTIVE_PARENT}`,
      params: [parentId, day, day, parentId],
    };
  }),

  /** A parent (active account) with one of their children placed at the location today. */
  parentAtLocation: rule('parent with a child at the location today', 'location', ({ actor, day }) => {
    const parentId = parentIdOf(actor);
    if (parentId === undefined) return null;
    const groups = parentPlacements(parentId, day, 'pl.group_id');
    return { sql: `select cg.location_id from care_group cg where cg.id in (${groups.sql})`, params: groups.params };
  }),

  /** The parent themselves (active account): their own details. */
  self: rule('the parent themselves', 'parent', ({ actor }) => {
    const parentId = parentIdOf(actor);
    return parentId === undefined ? null : { sql: `select ?::int where ${ACTIVE_PARENT}`, params: [parentId, parentId] };
  }),

  /**
   * The person's own login, while it may be used: a parent's account not suspended, a staff
   * member's (managers and admin accounts too) not suspended and the staff member active. Only
   * the person: an administrator does not choose another person's push notifications, and the
   * terminal admin has no account at all.
   */
  ownAccount: rule('their own account', 'account', ({ actor }) => {
    const parentId = parentIdOf(actor);
    if (parentId !== undefined) {
      return { sql: 'select a.id from account a where a.parent_id = ? and a.suspended_at is null', params: [parentId] };
    }
    const staffId = staffIdOf(actor);
    if (staffId === undefined) return null;
    return {
      sql: 'select a.id from account a join staff st on st.id = a.staff_id where a.staff_id = ? and a.suspended_at is null and st.active',
      params: [staffId],
    };
  }),

  /** Staff (or a manager) working in the group, directly or through the location. */
  staffOfGroup: rule('staff of the group', 'group', ({ actor }) => {
    const staffId = worker(actor);
    return staffId === undefined ? null : { sql: STAFF_GROUPS, params: [staffId, staffId] };
  }),

  /** Staff (or a manager) of a group the child is placed in today. */
  staffOfChild: rule("staff of the child's group today", 'child', ({ actor, day }) => {
    const staffId = worker(actor);
    if (staffId === undefined) return null;
    return {
      sql: `select pl.child_id from placement pl where ${CURRENT} and pl.group_id in (${STAFF_GROUPS})`,
      params: [day, day, staffId, staffId],
    };
  }),

  /** The location manager, for every group of the locations they run. */
  managerOfLocation: rule('manager of the location', 'group', ({ actor }) => {
    const staffId = worker(actor);
    if (staffId === undefined || !isManager(actor)) return null;
    return { sql: `select cg.id from care_group cg where cg.location_id in (${MANAGED_LOCATIONS})`, params: [staffId] };
  }),

  /** The location manager, for the children placed today in the groups of their locations. */
  managerOfChild: rule("manager of the child's location", 'child', ({ actor, day }) => {
    const staffId = worker(actor);
    if (staffId === undefined || !isManager(actor)) return null;
    return {
      sql: `select pl.child_id from placement pl join care_group cg on cg.id = pl.group_id
             where ${CURRENT} and cg.location_id in (${MANAGED_LOCATIONS})`,
      params: [day, day, staffId],
    };
  }),

  /** The location manager, for the locations themselves (announcements to a whole location). */
  managerOfLocationItself: rule('manager of the location', 'location', ({ actor }) => {
    const staffId = worker(actor);
    return staffId === undefined || !isManager(actor) ? null : { sql: MANAGED_LOCATIONS, params: [staffId] };
  }),

  /** Staff (or a manager) who work at the location. */
  staffAtLocation: rule('staff at the location', 'location', ({ actor }) => {
    const staffId = worker(actor);
    if (staffId === undefined) return null;
    return { sql: `select cg.location_id from care_group cg where cg.id in (${STAFF_GROUPS})`, params: [staffId, staffId] };
  }),

  /** Staff (or a manager) of a group one of the parent's children is placed in today. */
  staffOfParentsChild: rule("staff of the parent's child's group today", 'parent', ({ actor, day }) => {
    const staffId = worker(actor);
    if (staffId === undefined) return null;
    return {
      sql: `select g.parent_id from guardianship g join placement pl on pl.child_id = g.child_id
             where ${CURRENT} and pl.group_id in (${STAFF_GROUPS})`,
      params: [day, day, staffId, staffId],
    };
  }),
} satisfies Record<string, Rule>;
