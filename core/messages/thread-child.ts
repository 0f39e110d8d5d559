import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { PORTAL_TIME_ZONE } from '../clock.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { MessageThread } from '../entities/message.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { authorize, can, scopeFilter, scopeOf } from '../access/index.ts';

/**
 * Ambiguous threads (privacy invariant 3: a thread is about exactly one child). Threads stored
 * before a parent had to choose the child, started by a parent with two or more children in the
 * group, carry `child_review` (marked by Migration20261206100000ThreadChildReview). Only the
 * parent who started one sees it (the catalogue's `threadChildSettled`, core/access/conditions.ts) until staff of the
 * group, the location manager or an admin assigns the child it is about: one of the starter's
 * children placed in the thread's group on the day it was started.
 */

/** A child a thread under review may be about. */
export interface ThreadChildCandidate {
  childNumber: string;
  name: string;
}

export interface AmbiguousThread {
  id: string;
  groupId: number;
  /** "Location/Group". */
  group: string;
  /** The e-mail address of the parent who started it (null when that parent was removed). */
  startedBy: string | null;
  startedAt: string;
  subject: string;
  /** The child it is stored under now (the first by name: a guess, not shown to other parents). */
  currentChild: string;
  candidates: ThreadChildCandidate[];
}

/** The day (Europe/Amsterdam) thread `t` was started. */
const STARTED_ON = `(t.created_at at time zone '${PORTAL_TIME_ZONE}')::date`;

/**
 * SQL: the children thread `t` may be about, as a JSON array ordered by first name: the
 * starter's children placed in the thread's group on the day it was started.
 */
const CANDIDATES_JSON = `coalesce((select json_agg(json_build_object('childNumber', c.child_number,
      'firstName', c.first_name, 'infix', c.infix, 'lastName', c.last_name) order by c.first_name, c.id)
    from child c
   where c.id in (select gd.child_id from guardianship gd where gd.parent_id = t.started_by_id)
     and exists (select 1 from placement pl where pl.child_id = c.id and pl.group_id = t.group_id
                   and pl.start_date <= ${STARTED_ON} and (pl.end_date is null or pl.end_date >= ${STARTED_ON}))), '[]'::json)`;

interface CandidateRow {
  childNumber: string;
  firstName: string;
  infix: string | null;
  lastName: string;
}

const candidatesOf = (rows: CandidateRow[]): ThreadChildCandidate[] =>
  rows.map((c) => ({ childNumber: c.childNumber, name: fullName(c) }));

interface AmbiguousRow {
  id: string;
  group_id: number;
  group_name: string;
  location_name: string;
  started_by: string | null;
  created_at: string | Date;
  subject: string;
  child_number: string;
  candidates: CandidateRow[];
}

async function ambiguousRows(em: EntityManager, actor: Actor, threadId?: string): Promise<AmbiguousRow[]> {
  const scope = scopeOf(em, actor, 'thread.assignChild');
  if (scope.kind === 'none') return [];
  const reach = scopeFilter(scope, 't.id');
  const where: string[] = ['t.child_review', reach.sql];
  const params: unknown[] = [...reach.params];
  if (threadId !== undefined) {
    where.push('t.id = ?');
    params.push(threadId);
  }
  return await sql<AmbiguousRow>(
    em,
    `select t.id, t.group_id, g.name as group_name, l.name as location_name, p.email as started_by, t.created_at, t.subject,
            c.child_number, ${CANDIDATES_JSON} as candidates
       from message_thread t
       join care_group g on g.id = t.group_id
       join location l on l.id = g.location_id
       join child c on c.id = t.child_id
       left join parent p on p.id = t.started_by_id
      where ${where.join(' and ')}
      order by t.created_at, t.id`,
    params,
  );
}

/** The threads awaiting their child, oldest first, in the groups the actor handles (all for an admin). */
export async function ambiguousThreads(em: EntityManager, actor: Actor): Promise<AmbiguousThread[]> {
  return (await ambiguousRows(em, actor)).map((r) => ({
    id: r.id,
    groupId: r.group_id,
    group: `${r.location_name}/${r.group_name}`,
    startedBy: r.started_by,
    startedAt: new Date(r.created_at).toISOString(),
    subject: r.subject,
    currentChild: r.child_number,
    candidates: candidatesOf(r.candidates),
  }));
}

/**
 * The children a thread awaiting its child may be assigned to, for staff of its group, the
 * location manager or an admin; empty when the thread is settled or out of the actor's reach
 * (the staff view of a thread shows the form only then).
 */
export async function threadChildCandidates(em: EntityManager, actor: Actor, threadId: string): Promise<ThreadChildCandidate[]> {
  if (!(await can(em, actor, 'thread.assignChild', threadId))) return [];
  const [row] = await ambiguousRows(em, actor, threadId);
  return row ? candidatesOf(row.candidates) : [];
}

export interface ChildAssignment {
  threadId: string;
  /** The child number it was stored under, and the one it is about now. */
  from: string;
  to: string;
  childName: string;
}

/**
 * Staff of the thread's group, the location manager or an admin says which child a thread
 * awaiting its child is about: one of the starter's children placed in the group on the day it
 * was started. The thread is then settled (every guardian of that child reads it) and the audit
 * log records who assigned which child. A thread out of reach is "not found"; a settled thread
 * is a conflict; another child is a validation error naming the candidates.
 */
export async function assignThreadChild(em: EntityManager, actor: Actor, threadId: string, childNumber: string): Promise<ChildAssignment> {
  await authorize(em, actor, 'thread.assignChild', threadId, 'thread');
  const thread = await em.findOne(MessageThread, { id: threadId }, { populate: ['group', 'child'] });
  if (!thread) throw notFound('thread');
  if (!thread.childReview) throw conflict(`thread ${threadId} is not awaiting its child: it is about ${thread.child.childNumber}`);
  const [row] = await ambiguousRows(em, actor, threadId);
  const wanted = childNumber.trim();
  const choice = row?.candidates.find((c) => c.childNumber === wanted);
  if (!row || !choice) {
    const options = candidatesOf(row?.candidates ?? []).map((c) => `${c.childNumber} (${c.name})`);
    throw invalid(
      'child',
      `${wanted || '(empty)'} is not one of the children of the parent who started the thread placed in the group on that day; choose one of: ${options.join(', ') || 'none'}`,
    );
  }
  const from = row.child_number;
  await em.transactional(async (tx) => {
    // Settles the thread only while it still awaits its child: two assignments at once, one wins.
    const changed = await sqlCount(
      tx,
      `update message_thread set child_id = (select id from child where child_number = ?), child_review = false
        where id = ? and child_review`,
      [wanted, threadId],
    );
    if (changed !== 1) throw conflict(`thread ${threadId} is not awaiting its child`);
    audit(tx, {
      type: 'message.child_assigned',
      actor,
      subject: wanted,
      details: { threadId, groupId: row.group_id, from, to: wanted },
    });
    await tx.flush();
  });
  // The caller's unit of work must not keep the thread as it was.
  await em.refresh(thread);
  return { threadId, from, to: wanted, childName: fullName(choice) };
}
