import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { authorize, parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { currentPlacement } from '../authorization.ts';
import { clockOf } from '../clock.ts';
import { addDays } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { sql } from '../db/sql.ts';
import { Child, type IChild, Placement } from '../entities/child.ts';
import { SickReport } from '../entities/child-day.ts';
import { Parent } from '../entities/parent.ts';
import { invalid, notFound } from '../errors.ts';
import { date, optionalText, parseInput } from '../validation.ts';

/**
 * Ziekmelden: a parent tells the group that their child is ill, from today (or a later day)
 * until a day, with an optional note, and withdraws it when the child is better ("weer beter").
 *
 * How it sits in the schedule (core/schedule/rules.ts is silent on illness, so this decides):
 * - A ziekmelding is NOT an afmelding. Cancelling is a choice to give a day back before the
 *   location's `cancelBefore`; illness comes when it comes, so a ziekmelding is accepted at any
 *   hour of the day, also after the deadline.
 * - It earns no swap credit (a credit is the counterpart of a place given back in time) and it
 *   spends none. An approved swap day the child is ill on stays used.
 * - It gives no place back: the group's occupancy (what a manager weighs a swap request
 *   against) still counts the child, who may be back before the last day reported.
 * - The staff's Vandaag lists the child under "ziek", not under the children expected.
 * - The parent's schedule (core/schedule/overview.ts) marks the days a report covers, with the
 *   report, so the parent can change or withdraw it there. Such a day can still be cancelled
 *   under the ordinary rules (before `cancelBefore`, earning the usual credit): the two are
 *   independent, a ziekmelding neither replaces an afmelding nor forbids one. Refusing it would
 *   take a choice away from the parent who tells the group, and teach parents to cancel first
 *   and report later, or not at all. After the deadline the day stays as it is: ill, not cancelled.
 * Past days are refused (a ziekmelding tells the group what to expect), and a report spans at
 * most SICK_MAX_DAYS days from today: a longer illness is a conversation with the location.
 */

/** The last day a ziekmelding may reach, counted from today (today + 14 days). */
export const SICK_MAX_DAYS = 14;
/** Characters of the optional note. */
export const SICK_NOTE_MAX = 300;

export interface SickInput {
  childId: number;
  /** First day ill; default today. */
  from?: string;
  /** Last day ill (inclusive); default the first day. */
  until?: string;
  note?: string | null;
}

export interface SickReportView {
  id: number;
  childId: number;
  fromDate: string;
  untilDate: string;
  note: string | null;
  reportedBy: string;
}

const schema = z.object({
  from: date.optional(),
  until: z.union([z.literal(''), date]).optional(),
  note: optionalText(SICK_NOTE_MAX, 'note'),
});

/** Dates are 'YYYY-MM-DD' strings in core, whatever the driver hands back. */
const iso = (value: string | Date): string => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));

const view = (r: { id: number; child: { id: number }; fromDate: string; untilDate: string; note?: string | null; reportedBy: string }): SickReportView => ({
  id: r.id,
  childId: r.child.id,
  fromDate: iso(r.fromDate),
  untilDate: iso(r.untilDate),
  note: r.note ?? null,
  reportedBy: r.reportedBy,
});

/** The child if the actor may report it ill (`child.sick.report`: its guardians); not found otherwise. */
async function childToReport(em: EntityManager, actor: Actor, childId: number): Promise<IChild> {
  await authorize(em, actor, 'child.sick.report', childId, 'child');
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw notFound('child');
  return child;
}

/** The name the group sees beside a report: the parent's label (their e-mail) as other use cases record it. */
const reporterOf = (actor: Actor) => actor.label;

/**
 * Reports a child ill. A report that overlaps one still running (or planned) is changed rather
 * than doubled: its last day and note become the new ones, its first day the earlier of the two.
 */
export async function reportSick(em: EntityManager, actor: Actor, input: SickInput): Promise<SickReportView> {
  const child = await childToReport(em, actor, input.childId);
  const values = parseInput(schema, { from: input.from || undefined, until: input.until ?? '', note: input.note ?? '' });
  const today = clockOf(em).today();
  const last = addDays(today, SICK_MAX_DAYS);
  const from = values.from ?? today;
  const until = values.until || from;
  if (from < today) throw invalid('from', 'a day in the past cannot be reported');
  if (from > last) throw invalid('from', `at most ${SICK_MAX_DAYS} days ahead`);
  if (until < from) throw invalid('until', 'the last day comes on or after the first');
  if (until > last) throw invalid('until', `at most ${SICK_MAX_DAYS} days ahead`);
  const placed = await em.count(Placement, { child: child.id, ...currentPlacement(from) });
  if (placed === 0) throw invalid('from', 'the child is not placed in a group that day');

  return await inTransaction(em, async (tx) => {
    // One report at a time per child: concurrent taps by two parents must not make two.
    await sql(tx, 'select id from child where id = ? for update', [child.id]);
    const overlapping = await tx.findOne(SickReport, { child: child.id, fromDate: { $lte: until }, untilDate: { $gte: from } }, { orderBy: { id: 'asc' } });
    const report = overlapping ?? tx.create(SickReport, { child: child.id, fromDate: from, untilDate: until, reportedBy: reporterOf(actor), reportedByParent: parentIdOf(actor) ?? null });
    if (overlapping) {
      // ISO dates sort as text: the earlier first day stays.
      overlapping.fromDate = [iso(overlapping.fromDate), from].sort()[0]!;
      overlapping.untilDate = until;
      overlapping.reportedBy = reporterOf(actor);
      const parentId = parentIdOf(actor);
      overlapping.reportedByParent = parentId === undefined ? null : tx.getReference(Parent, parentId);
    }
    report.note = values.note ?? null;
    audit(tx, {
      type: 'child.sick_reported',
      actor,
      subject: child.childNumber,
      // Not the note: health details stay out of the audit log (it is kept longer than the report).
      details: { from: report.fromDate, until: report.untilDate, changed: overlapping !== null },
    });
    await tx.flush();
    return view(report);
  });
}

/**
 * "Weer beter": the child is well again from today. A report that began before today ends
 * yesterday (the days the child was ill stay on record for the group); one from today on, and
 * any planned for later, is withdrawn. Nothing running: not found.
 */
export async function endSick(em: EntityManager, actor: Actor, childId: number): Promise<void> {
  const child = await childToReport(em, actor, childId);
  const today = clockOf(em).today();
  await inTransaction(em, async (tx) => {
    await sql(tx, 'select id from child where id = ? for update', [child.id]);
    const open = await tx.find(SickReport, { child: child.id, untilDate: { $gte: today } });
    if (open.length === 0) throw notFound('sick report');
    for (const r of open) {
      if (r.fromDate < today) r.untilDate = addDays(today, -1);
      else tx.remove(r);
    }
    audit(tx, { type: 'child.sick_ended', actor, subject: child.childNumber, details: { from: today } });
    await tx.flush();
  });
}

/** What the parent's form shows: the child, the days it accepts, and the reports that run today or later. */
export interface SickForm {
  child: { id: number; firstName: string };
  today: string;
  lastDay: string;
  open: SickReportView[];
}

export async function sickForm(em: EntityManager, actor: Actor, childId: number): Promise<SickForm> {
  const child = await childToReport(em, actor, childId);
  const today = clockOf(em).today();
  const rows = await em.find(SickReport, { child: child.id, untilDate: { $gte: today } }, { orderBy: { fromDate: 'asc', id: 'asc' } });
  return { child: { id: child.id, firstName: child.firstName }, today, lastDay: addDays(today, SICK_MAX_DAYS), open: rows.map(view) };
}

/**
 * The reports of one child that cover any day from `from` until `until` (the parent's schedule),
 * earliest first. Callers have decided the actor may see this child; this is a query.
 */
export async function sickBetween(em: EntityManager, childId: number, from: string, until: string): Promise<SickReportView[]> {
  const rows = await em.find(SickReport, { child: childId, fromDate: { $lte: until }, untilDate: { $gte: from } }, { orderBy: { fromDate: 'asc', id: 'asc' } });
  return rows.map(view);
}

/**
 * The reports covering one day for some children, by child (Vandaag). Callers have decided the
 * actor may see these children; this is a query, not a use case.
 */
export async function sickOn(em: EntityManager, childIds: readonly number[], day: string): Promise<Map<number, SickReportView>> {
  if (childIds.length === 0) return new Map();
  const rows = await em.find(SickReport, { child: { $in: [...childIds] }, fromDate: { $lte: day }, untilDate: { $gte: day } }, { orderBy: { id: 'asc' } });
  return new Map(rows.map((r) => [r.child.id, view(r)]));
}
