import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, scopeFilter, scopeOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { clockOf } from '../clock.ts';
import { addDays } from '../dates.ts';
import { sql } from '../db/sql.ts';
import { Child } from '../entities/child.ts';
import { notFound } from '../errors.ts';

/**
 * Whose year book, and until when. The catalogue's `child.yearbook` says who (a guardian with an
 * active account); this says until when: while the child is placed, and after it left until
 * leftOn + retention.leaverGraceDays, the day after which the retention run removes the
 * schriftje and the photo tags. The grace period is configuration, which the access rules (pure
 * SQL on the clock's day) do not see, so the window is checked here, for every use of the book,
 * and answers "not found" like a refusal: after that day there is no book to speak of.
 */

export interface YearBookChild {
  id: number;
  childNumber: string;
  firstName: string;
  leftOn: string | null;
  /** The last day the book can be made (leftOn + grace); null while the child has not left. */
  availableUntil: string | null;
}

/** The last day of a leaver's archive: the retention run removes it the day after. */
export const archiveUntil = (leftOn: string, graceDays: number): string => addDays(leftOn, graceDays);

export async function yearBookChild(em: EntityManager, actor: Actor, childId: number, graceDays: number): Promise<YearBookChild> {
  await authorize(em, actor, 'child.yearbook', childId, 'child');
  const child = await em.findOneOrFail(Child, { id: childId });
  const leftOn = child.leftOn ?? null;
  const availableUntil = leftOn === null ? null : archiveUntil(leftOn, graceDays);
  if (availableUntil !== null && availableUntil < clockOf(em).today()) throw notFound('child');
  return { id: child.id, childNumber: child.childNumber, firstName: child.firstName, leftOn, availableUntil };
}

/**
 * The children whose book this parent can make today (Mijn gegevens links to each): the
 * catalogue's scope of `child.yearbook`, without those whose archive is gone.
 */
export async function yearBookChildren(em: EntityManager, actor: Actor, graceDays: number): Promise<{ id: number; firstName: string }[]> {
  const scope = scopeFilter(scopeOf(em, actor, 'child.yearbook'), 'c.id');
  return await sql<{ id: number; firstName: string }>(
    em,
    `select c.id, c.first_name as "firstName" from child c
      where ${scope.sql} and (c.left_on is null or c.left_on + ?::int >= ?::date)
      order by c.birth_date, c.id`,
    [...scope.params, graceDays, clockOf(em).today()],
  );
}
