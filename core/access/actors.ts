import type { Actor } from '../actor.ts';

/**
 * Facts about an actor, the only place outside the rules that looks at `actor.kind`: which
 * parent or staff member is acting, and on which side of a conversation they write. Use cases
 * ask these questions instead of branching on the kind themselves (a guard test enforces it),
 * so what an actor may do is decided in one place, the catalogue.
 */

/** The parent behind the actor, or undefined for staff, admins and the system. */
export function parentIdOf(actor: Actor): number | undefined {
  return actor.kind === 'parent' ? actor.parentId : undefined;
}

/** The staff member behind a staff, manager or admin actor (an admin at the terminal has none). */
export function staffIdOf(actor: Actor): number | undefined {
  return actor.kind === 'staff' || actor.kind === 'manager' || actor.kind === 'admin' ? actor.staffId : undefined;
}

/** An administrator: the IT admin at the terminal, an admin account, or the portal itself. */
export function isAdmin(actor: Actor): boolean {
  return actor.kind === 'admin' || actor.kind === 'system';
}

/** The portal acting on its own (jobs, notices), not a person. */
export const isSystem = (actor: Actor): boolean => actor.kind === 'system';

/** A location manager (runs the groups of the locations they are assigned to). */
export const isManager = (actor: Actor): boolean => actor.kind === 'manager';

/**
 * Which side of a conversation or schriftje the actor writes on: families write as "parent",
 * everyone who works for the organisation as "staff".
 */
export type Side = 'parent' | 'staff';
export const sideOf = (actor: Actor): Side => (actor.kind === 'parent' ? 'parent' : 'staff');

/** A person with a profile of their own (a parent, or staff with a staff record): not the CLI admin or the system. */
export const isPerson = (actor: Actor): boolean => parentIdOf(actor) !== undefined || staffIdOf(actor) !== undefined;

/** Works for the organisation: staff, managers, admins and the system (not a parent). */
export const worksForOrganisation = (actor: Actor): boolean => actor.kind !== 'parent';
