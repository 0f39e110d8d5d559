import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, parentIdOf, scopeFilter, scopeOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { dryRunnable } from '../db/dry-run.ts';
import { sql } from '../db/sql.ts';
import type { IChild } from '../entities/child.ts';
import { Child } from '../entities/child.ts';
import { Staff } from '../entities/staff.ts';
import { invalid, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { normalizeEmail } from '../validation.ts';
import { findChild } from './refs.ts';

/**
 * The mentor: one staff member of a child's group who is the parents' first contact. Set by the
 * location's manager on the page (action child.setMentor), by an administrator at the terminal
 * (`portal children update --mentor`) or by the planning import's Mentor column.
 *
 * Valid mentor: an active staff member assigned directly to a group the child is placed in today
 * or later (a placement not yet ended). Only a valid mentor is set, and only a valid mentor is
 * shown to parents. What happens when that stops being true (the mentor is unassigned from the
 * group, the child moves, the mentor is deactivated): the record stays until someone changes it,
 * so a reactivation or a quick correction of the roster loses nothing; parents then see no mentor
 * (never a colleague who no longer works there), the mentor's own list drops the child with their
 * access, and the manager's page flags the child ("werkt niet meer in de groep", "niet actief").
 * Removing the staff record (`portal staff remove`) empties it (foreign key, on delete set null).
 */

/** The groups a child is placed in today or later. Binds childId, day. */
const CHILD_GROUPS = 'select pl.group_id from placement pl where pl.child_id = ? and (pl.end_date is null or pl.end_date >= ?::date)';

export interface MentorOption {
  staffId: number;
  name: string;
}

/** Active staff assigned directly to one of the child's groups (today or later), by name. */
export async function mentorOptions(em: EntityManager, childId: number): Promise<MentorOption[]> {
  const rows = await sql<{ id: number; first_name: string; infix: string | null; last_name: string }>(
    em,
    `select distinct s.id, s.first_name, s.infix, s.last_name, s.last_name as ln, s.first_name as fn from staff s
       join staff_assignment sa on sa.staff_id = s.id
      where s.active and sa.group_id in (${CHILD_GROUPS}) order by ln, fn`,
    [childId, clockOf(em).today()],
  );
  return rows.map((r) => ({ staffId: r.id, name: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }) }));
}

export interface MentorChange {
  childId: number;
  childNumber: string;
  childName: string;
  /** The mentor before and after, as "Name <email>" (null: none). */
  from: string | null;
  to: string | null;
  changed: boolean;
  dryRun: boolean;
}

/** Who is meant: by e-mail (terminal, import), by staff id (the page's select), or nobody. */
export type MentorRef = { email: string } | { staffId: number } | null;

const label = (s: { firstName: string; infix?: string | null; lastName: string; email: string }) => `${fullName(s)} <${s.email}>`;

/**
 * Sets (or clears, with null) a child's mentor. The child by id (the page) or number (the
 * terminal); refused as not found outside the actor's child.setMentor scope. A mentor who is not
 * active staff of one of the child's groups is a validation error on the field `mentor`.
 */
export async function setChildMentor(
  em: EntityManager,
  actor: Actor,
  child: { id: number } | { number: string },
  mentor: MentorRef,
  options: { dryRun?: boolean } = {},
): Promise<MentorChange> {
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const found: IChild | null =
      'id' in child
        ? Number.isSafeInteger(child.id) && child.id > 0 && child.id <= 2_147_483_647
          ? await tx.findOne(Child, { id: child.id })
          : null
        : await findChild(tx, child.number);
    if (!found) throw notFound('child');
    await authorize(tx, actor, 'child.setMentor', found.id, 'number' in child ? `child "${child.number.trim()}"` : 'child');
    await tx.populate(found, ['mentor']);
    const before = found.mentor ?? null;
    let next: typeof before = null;
    if (mentor !== null) {
      const options = await mentorOptions(tx, found.id);
      const staff = await sql<{ id: number; active: boolean; email: string }>(
        tx,
        'email' in mentor ? 'select id, active, email from staff where email = ?' : 'select id, active, email from staff where id = ?',
        ['email' in mentor ? normalizeEmail(mentor.email) : mentor.staffId],
      );
      const who = 'email' in mentor ? normalizeEmail(mentor.email) : 'that staff member';
      const s = staff[0];
      if (!s) throw invalid('mentor', `no staff member ${who}`);
      if (!s.active) throw invalid('mentor', `${s.email} is deactivated and cannot be a mentor`);
      if (!options.some((o) => o.staffId === s.id)) {
        const groups = await sql<{ name: string }>(
          tx,
          `select l.name || '/' || cg.name as name from care_group cg join location l on l.id = cg.location_id
            where cg.id in (${CHILD_GROUPS}) order by 1`,
          [found.id, clockOf(tx).today()],
        );
        const where = groups.length ? groups.map((g) => g.name).join(', ') : 'no group (the child is placed nowhere now or later)';
        throw invalid('mentor', `${s.email} does not work in the group of child ${found.childNumber}: ${where}`);
      }
      next = await tx.findOneOrFail(Staff, { id: s.id });
    }
    const changed = (before?.id ?? null) !== (next?.id ?? null);
    const result: MentorChange = {
      childId: found.id,
      childNumber: found.childNumber,
      childName: fullName(found),
      from: before ? label(before) : null,
      to: next ? label(next) : null,
      changed,
      dryRun: Boolean(options.dryRun),
    };
    if (changed) {
      found.mentor = next;
      audit(tx, { type: 'child.mentor_set', actor, subject: found.childNumber, details: { from: result.from, to: result.to } });
      await tx.flush();
    }
    return result;
  });
}

// --- the manager's page -------------------------------------------------------------------

export interface BoardChild {
  id: number;
  name: string;
  mentorId: number | null;
  mentorName: string | null;
  /** Why a recorded mentor is not shown to the parents: not active, or no longer in the group. */
  problem: 'inactive' | 'notInGroup' | null;
}

export interface BoardGroup {
  id: number;
  name: string;
  locationName: string;
  staff: MentorOption[];
  children: BoardChild[];
}

/**
 * Per group, the children placed today whose mentor the actor may choose, each with its mentor,
 * and the group's staff to choose from. Groups and children follow the child.setMentor scope.
 */
export async function mentorBoard(em: EntityManager, actor: Actor): Promise<BoardGroup[]> {
  const scope = scopeFilter(scopeOf(em, actor, 'child.setMentor'), 'c.id');
  const day = clockOf(em).today();
  const rows = await sql<{
    child_id: number;
    first_name: string;
    infix: string | null;
    last_name: string;
    group_id: number;
    group_name: string;
    location_name: string;
    mentor_id: number | null;
    m_first: string | null;
    m_infix: string | null;
    m_last: string | null;
    m_active: boolean | null;
    m_in_group: boolean | null;
  }>(
    em,
    `select c.id as child_id, c.first_name, c.infix, c.last_name, cg.id as group_id, cg.name as group_name, l.name as location_name,
            c.mentor_id, s.first_name as m_first, s.infix as m_infix, s.last_name as m_last, s.active as m_active,
            exists (select 1 from staff_assignment sa where sa.staff_id = c.mentor_id and sa.group_id in (${CHILD_GROUPS.replace('pl.child_id = ?', 'pl.child_id = c.id')})) as m_in_group
       from child c
       join placement pl on pl.child_id = c.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
       join care_group cg on cg.id = pl.group_id and cg.archived_at is null
       join location l on l.id = cg.location_id
       left join staff s on s.id = c.mentor_id
      where ${scope.sql}
      order by l.name, cg.name, c.first_name, c.last_name, c.id`,
    [day, day, day, ...scope.params],
  );
  const groups = new Map<number, BoardGroup>();
  for (const r of rows) {
    let g = groups.get(r.group_id);
    if (!g) {
      g = { id: r.group_id, name: r.group_name, locationName: r.location_name, staff: [], children: [] };
      groups.set(r.group_id, g);
    }
    const mentorName = r.mentor_id && r.m_first !== null ? fullName({ firstName: r.m_first, infix: r.m_infix, lastName: r.m_last ?? '' }) : null;
    g.children.push({
      id: r.child_id,
      name: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }),
      mentorId: r.mentor_id,
      mentorName,
      problem: r.mentor_id === null ? null : !r.m_active ? 'inactive' : !r.m_in_group ? 'notInGroup' : null,
    });
  }
  if (groups.size) {
    const staff = await sql<{ group_id: number; id: number; first_name: string; infix: string | null; last_name: string }>(
      em,
      `select sa.group_id, s.id, s.first_name, s.infix, s.last_name from staff_assignment sa join staff s on s.id = sa.staff_id
        where s.active and sa.group_id in (select json_array_elements_text(?::json)::int) order by s.last_name, s.first_name, s.id`,
      [JSON.stringify([...groups.keys()])],
    );
    for (const s of staff) {
      groups.get(s.group_id)?.staff.push({ staffId: s.id, name: fullName({ firstName: s.first_name, infix: s.infix, lastName: s.last_name }) });
    }
  }
  return [...groups.values()];
}

// --- the mentor's own list ----------------------------------------------------------------

export interface MentorChild {
  id: number;
  name: string;
  groupName: string;
  locationName: string;
}

/**
 * "Mijn mentorkinderen": the children whose mentor the logged-in staff member is, placed today in
 * a group they may see (child.read). Empty for parents and for the terminal.
 */
export async function myMentorChildren(em: EntityManager, actor: Actor): Promise<MentorChild[]> {
  const staffId = staffIdOf(actor);
  if (staffId === undefined || parentIdOf(actor) !== undefined) return [];
  const scope = scopeFilter(scopeOf(em, actor, 'child.read'), 'c.id');
  const day = clockOf(em).today();
  const rows = await sql<{ id: number; first_name: string; infix: string | null; last_name: string; group_name: string; location_name: string }>(
    em,
    `select distinct on (c.first_name, c.last_name, c.id) c.id, c.first_name, c.infix, c.last_name, cg.name as group_name, l.name as location_name
       from child c
       join placement pl on pl.child_id = c.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
       join care_group cg on cg.id = pl.group_id
       join location l on l.id = cg.location_id
      where c.mentor_id = ? and ${scope.sql}
      order by c.first_name, c.last_name, c.id, pl.start_date desc`,
    [day, day, staffId, ...scope.params],
  );
  return rows.map((r) => ({
    id: r.id,
    name: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }),
    groupName: r.group_name,
    locationName: r.location_name,
  }));
}

// --- what parents see ---------------------------------------------------------------------

/**
 * SQL: the mentor parents see for the child at alias `child`, whose groups today are the int array
 * `groupsExpr`, as json {name} or null: only an active staff member still assigned to one of them.
 */
export const shownMentorSql = (child: string, groupsExpr: string) =>
  `(select json_build_object('name', concat_ws(' ', s.first_name, s.infix, s.last_name)) from staff s
     where s.id = ${child}.mentor_id and s.active
       and exists (select 1 from staff_assignment sa where sa.staff_id = s.id and sa.group_id = any(${groupsExpr})))`;

/** The mentors parents see for these children today (valid mentors only), by child id. */
export async function shownMentorNames(em: EntityManager, childIds: readonly number[]): Promise<Map<number, string>> {
  if (childIds.length === 0) return new Map();
  const rows = await sql<{ id: number; name: string }>(
    em,
    `select c.id, concat_ws(' ', s.first_name, s.infix, s.last_name) as name from child c join staff s on s.id = c.mentor_id
      where c.id in (select json_array_elements_text(?::json)::int) and s.active
        and exists (select 1 from staff_assignment sa where sa.staff_id = s.id and sa.group_id in (${CHILD_GROUPS.replace('pl.child_id = ?', 'pl.child_id = c.id')}))`,
    [JSON.stringify(childIds), clockOf(em).today()],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** One child's mentor as a parent (or anyone who may see the child) sees it; not found outside child.read. */
export async function childMentor(em: EntityManager, actor: Actor, childId: number): Promise<{ name: string } | null> {
  await authorize(em, actor, 'child.read', childId, 'child');
  const name = (await shownMentorNames(em, [childId])).get(childId);
  return name ? { name } : null;
}

/** "Anna de Vries" -> "AV": for the round badge where a photo would be (staff have no photo). */
export function initials(name: string): string {
  const words = name.split(/\s+/).filter((w) => w && w[0] === w[0]!.toUpperCase());
  const picked = words.length >= 2 ? [words[0]!, words[words.length - 1]!] : words.length ? [words[0]!] : [name];
  return picked.map((w) => [...w][0]!.toUpperCase()).join('');
}

// --- the planning import's Mentor column --------------------------------------------------

/** Per staff e-mail: id, active, and the groups they are assigned to directly. */
export type MentorCandidates = Map<string, { id: number; active: boolean; groups: Set<number> }>;

export async function loadMentorCandidates(em: EntityManager): Promise<MentorCandidates> {
  const rows = await sql<{ id: number; email: string; active: boolean; group_id: number | null }>(
    em,
    'select s.id, s.email, s.active, sa.group_id from staff s left join staff_assignment sa on sa.staff_id = s.id and sa.group_id is not null',
  );
  const out: MentorCandidates = new Map();
  for (const r of rows) {
    let c = out.get(r.email);
    if (!c) {
      c = { id: r.id, active: r.active, groups: new Set() };
      out.set(r.email, c);
    }
    if (r.group_id !== null) c.groups.add(r.group_id);
  }
  return out;
}

/**
 * A Mentor cell of the planning import for a row in group `groupId` (negative: a group the import
 * creates, which has no staff yet): the staff id, null for an empty cell (the mentor is left as
 * it is), or a message that reads after the column name.
 */
export function mentorCell(
  raw: string,
  groupId: number,
  candidates: MentorCandidates,
): { ok: true; value: number | null } | { ok: false; message: string } {
  if (raw === '') return { ok: true, value: null };
  const email = normalizeEmail(raw);
  const c = candidates.get(email);
  if (!c) return { ok: false, message: `"${raw}" is not the e-mail of a staff member` };
  if (!c.active) return { ok: false, message: `${email} is deactivated and cannot be a mentor` };
  if (!c.groups.has(groupId)) return { ok: false, message: `${email} does not work in the row's group; assign them first (portal staff assign)` };
  return { ok: true, value: c.id };
}
