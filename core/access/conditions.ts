import { parentIdOf, staffIdOf } from './actors.ts';
import type { Condition } from './rules.ts';

/**
 * Conditions on the object an action is about, shared by the catalogue and by the queries that
 * need the same words (the album, the home page, the notifications, the export).
 */

/**
 * SQL: every child tagged in photo `p` has this kind of consent in force (the newest statement;
 * none at all counts as no). Shared by the album (internal) and the external export.
 */
export function everyTaggedChildConsents(kind: 'internal' | 'external'): string {
  return `not exists (
    select 1 from photo_tag t
     where t.photo_id = p.id
       and not coalesce((
         select c.${kind} from consent_record c
          where c.child_id = t.child_id
          order by c.recorded_at desc, c.id desc limit 1), false)
  )`;
}

/**
 * A photo may be shown to the parents of its group when it is processed, not hidden, published
 * (not waiting on the batch tagging screen), staff either tagged at least one child or confirmed
 * that no child is recognisable, and every tagged child's consent in force is internal "yes" (no
 * statement at all counts as no).
 * `p` is the alias of the photo table. Privacy invariant 1 of DESIGN.md.
 *
 * `offset 0` keeps the "any tag at all" test a probe of photo_tag's index per photo. Without it,
 * PostgreSQL may turn an EXISTS under OR into a hashed subplan that reads the whole photo_tag
 * table on every statement: at one year of history the album's 150 candidates paid a 50,000-row
 * scan (20 ms), and the cost grew with the history. OFFSET is the one thing that stops that
 * conversion (it is not a simple EXISTS any more); the result is the same.
 */
export const SHAREABLE = `(
  p.state = 'ready' and p.hidden_at is null and not p.awaiting_publish
  and (p.no_child_confirmed or exists (select 1 from photo_tag t where t.photo_id = p.id offset 0))
  and ${everyTaggedChildConsents('internal')}
)`;

/**
 * SQL: a thread whose child is settled, or one this parent started. A thread stored before a
 * parent had to choose the child, by a parent with two or more children in the group, may be
 * about the wrong child (`child_review`, Migration20261206100000ThreadChildReview): until staff
 * or an admin assigns the child, no parent but the one who started it sees it.
 */
export function settledThreadFilter(parentId: number, alias: string): { sql: string; params: unknown[] } {
  return { sql: `(not ${alias}.child_review or ${alias}.started_by_id = ?)`, params: [parentId] };
}

export const conditions = {
  /** The photo is shown to parents: ready, not hidden, tagged or confirmed, every tagged child consents. */
  shareable: { name: 'the photo is shareable', sql: () => ({ sql: SHAREABLE, params: [] }) },

  /** One of the acting parent's own children is tagged in the photo (downloads, invariant 2). */
  ownChildTagged: {
    name: 'their own child is tagged',
    sql: (_t, { actor }) => {
      const parentId = parentIdOf(actor);
      if (parentId === undefined) return { sql: 'false', params: [] };
      return {
        // `offset 0`: probed per photo, not hashed over every tag of the family's children
        // (which grows with the history); see SHAREABLE.
        sql: `exists (select 1 from photo_tag pt join guardianship g on g.child_id = pt.child_id
                       where pt.photo_id = p.id and g.parent_id = ? offset 0)`,
        params: [parentId],
      };
    },
  },

  /** The acting staff member uploaded the photo themselves. */
  uploadedBySelf: {
    name: 'they uploaded it',
    sql: (_t, { actor }) => {
      const staffId = staffIdOf(actor);
      return staffId === undefined ? { sql: 'false', params: [] } : { sql: 'p.uploaded_by_id = ?', params: [staffId] };
    },
  },

  /** The object's group is in use (not archived): nothing new is written in an archived group. */
  groupOpen: {
    name: 'the group is in use',
    sql: (t) =>
      t.group
        ? { sql: `exists (select 1 from care_group og where og.id = ${t.group} and og.archived_at is null)`, params: [] }
        : null,
  },

  /** The entry is the acting parent's own. */
  ownEntry: {
    name: 'they wrote it',
    sql: (_t, { actor }) => {
      const parentId = parentIdOf(actor);
      return parentId === undefined
        ? { sql: 'false', params: [] }
        : { sql: "de.author_kind = 'parent' and de.parent_id = ?", params: [parentId] };
    },
  },

  /** The actor writes under a name of their own (a staff record), not as the terminal. */
  inPerson: {
    name: 'in person',
    sql: (_t, { actor }) => (staffIdOf(actor) === undefined && parentIdOf(actor) === undefined ? { sql: 'false', params: [] } : null),
  },

  /** For a parent: the thread's child is settled, or they started it themselves (staff see every thread of their groups). */
  threadChildSettled: {
    name: 'the child it is about is settled',
    sql: (t, { actor }) => {
      const parentId = parentIdOf(actor);
      return parentId === undefined ? null : settledThreadFilter(parentId, t.alias);
    },
  },

  /** The account is a parent's login (what is about their children, such as the calendar feed). */
  parentLogin: { name: "a parent's login", sql: (t) => ({ sql: `${t.alias}.parent_id is not null`, params: [] }) },

  /** An announcement to a whole location (not to one group). */
  wholeLocation: { name: 'to the whole location', sql: () => ({ sql: 'a.group_id is null', params: [] }) },

  /** The announcement asks its parents to confirm they read it. */
  confirmationRequested: { name: 'it asks for a read confirmation', sql: () => ({ sql: 'a.confirmation_requested', params: [] }) },

  /** The child is placed in a group today (not left, not yet to start): a talk is about a child in care. */
  placedToday: {
    name: 'the child is placed today',
    sql: (t, { day }) =>
      t.child
        ? {
            sql: `exists (select 1 from placement tp where tp.child_id = ${t.child} and tp.start_date <= ?::date and (tp.end_date is null or tp.end_date >= ?::date))`,
            params: [day, day],
          }
        : null,
  },
} satisfies Record<string, Condition>;
