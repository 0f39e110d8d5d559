import type { EntityManager } from '@mikro-orm/postgresql';
import { requireAdmin } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { spokenDate } from '../schedule/decision-mail.ts';
import { type ComposeInput, type Composed, enqueueAccountMail, type MailContext, publicBaseUrl } from '../mail/account-mail.ts';
import type { Language } from '../entities/organisation.ts';
import { YearBook } from '../entities/year-book.ts';
import { composeNoticeMail } from '../profile/email-change.ts';
import { archiveUntil } from './window.ts';

/**
 * "Before access ends": when a child leaves (`portal children leave`, or the daily scan for
 * leavers the planning import marks), each parent with a login gets one mail with the link
 * to the year book and the last day it can be made (leftOn + retention.leaverGraceDays). Once per
 * parent and child: the year_book row's `offered_at` is set in the transaction that queues the
 * mail, so leaving again (a corrected date) or a second run sends nothing twice. The mail carries
 * no secret: the link opens the book page only for that parent, logged in.
 */

export const yearBookPath = (childId: number) => `/kind/${childId}/herinneringenboek`;

export interface YearBookOffer {
  childNumber: string;
  /** The parents mailed now (their addresses); parents offered before, suspended or without a login are left out. */
  mailed: string[];
  availableUntil: string | null;
}

export async function offerYearBooks(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  childNumber: string,
): Promise<YearBookOffer> {
  requireAdmin(actor, 'directory.manage');
  const [child] = await sql<{ id: number; left_on: string | null }>(
    em,
    `select id, to_char(left_on, 'YYYY-MM-DD') as left_on from child where child_number = ?`,
    [childNumber],
  );
  if (!child?.left_on) return { childNumber, mailed: [], availableUntil: null };
  const availableUntil = archiveUntil(child.left_on, ctx.config.retention.leaverGraceDays);
  if (availableUntil < clockOf(em).today()) return { childNumber, mailed: [], availableUntil };
  return { childNumber, mailed: await offerForChild(em, ctx, actor, child.id, childNumber, availableUntil), availableUntil };
}

/** How long before the last day a planned leaving is offered by the daily scan. */
export const OFFER_DAYS_BEFORE_LEAVING = 14;

/**
 * The daily scan (core/jobs/background.ts): children who leave within OFFER_DAYS_BEFORE_LEAVING
 * days or left and whose archive is still there, with a parent not yet offered the book. Covers
 * leavers the planning import marks, which `portal children leave` does not see. Returns how
 * many mails it queued.
 */
export async function offerDueYearBooks(em: EntityManager, ctx: Pick<MailContext, 'config' | 'jobs'>, actor: Actor): Promise<number> {
  requireAdmin(actor, 'directory.manage');
  const today = clockOf(em).today();
  const grace = ctx.config.retention.leaverGraceDays;
  const due = await sql<{ id: number; child_number: string; left_on: string }>(
    em,
    `select c.id, c.child_number, to_char(c.left_on, 'YYYY-MM-DD') as left_on from child c
      where c.left_on is not null and c.left_on <= ?::date + ?::int and c.left_on + ?::int >= ?::date
        and exists (select 1 from guardianship g join account a on a.parent_id = g.parent_id
                     where g.child_id = c.id and a.suspended_at is null
                       and not exists (select 1 from year_book y where y.child_id = c.id and y.parent_id = g.parent_id and y.offered_at is not null))
      order by c.left_on, c.id`,
    [today, OFFER_DAYS_BEFORE_LEAVING, grace, today],
  );
  let mailed = 0;
  for (const c of due) mailed += (await offerForChild(em, ctx, actor, c.id, c.child_number, archiveUntil(c.left_on, grace))).length;
  return mailed;
}

/** One mail per parent with a login not offered yet, each marked in the same transaction. */
async function offerForChild(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  childId: number,
  childNumber: string,
  availableUntil: string,
): Promise<string[]> {
  return await em.transactional(async (tx) => {
    const now = clockOf(tx).now();
    // The unique (child, parent) row is the lock: a parallel run finds offered_at set and skips.
    const due = await sql<{ parent_id: number; account_id: number; email: string }>(
      tx,
      `select g.parent_id, a.id as account_id, a.email from guardianship g join account a on a.parent_id = g.parent_id
        where g.child_id = ? and a.suspended_at is null
          and not exists (select 1 from year_book y where y.child_id = g.child_id and y.parent_id = g.parent_id and y.offered_at is not null)
        order by a.email`,
      [childId],
    );
    const mailed: string[] = [];
    for (const d of due) {
      const [row] = await sql<{ id: number }>(
        tx,
        `insert into year_book (child_id, parent_id, offered_at) values (?, ?, ?)
         on conflict (child_id, parent_id) do update set offered_at = excluded.offered_at where year_book.offered_at is null
         returning id`,
        [childId, d.parent_id, now],
      );
      if (!row) continue;
      await enqueueAccountMail(ctx, tx, { kind: 'yearbook_offer', accountId: d.account_id, requestedBy: actor.label, ref: row.id });
      mailed.push(d.email);
    }
    if (mailed.length) audit(tx, { type: 'yearbook.offered', actor, subject: childNumber, details: { parents: mailed.length, availableUntil } });
    return mailed;
  });
}

const texts: Record<Language, { subject: string; greeting: string; lines: string[]; button: string; closing: string }> = {
  nl: {
    subject: 'Het herinneringenboek van {child}',
    greeting: 'Beste {firstName},',
    lines: [
      '{child} gaat {organisation} verlaten. Tot en met {until} kunt u in het ouderportaal het herinneringenboek van {child} maken: de foto’s waarop {child} staat en het schriftje, per maand, om te bewaren of af te drukken.',
      'Log in met uw eigen account en kies "Maak het boek". Na {until} verwijderen we het schriftje en de foto’s van {child} uit het portaal, zoals de bewaartermijnen voorschrijven.',
      'Heeft u vragen? Neem contact op met {contact}.',
    ],
    button: 'Naar het herinneringenboek',
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: '{child}’s book of memories',
    greeting: 'Dear {firstName},',
    lines: [
      '{child} is leaving {organisation}. Until {until} you can make {child}’s book of memories in the parent portal: the photos {child} is in and the diary, by month, to keep or to print.',
      'Log in with your own account and choose "Make the book". After {until} we remove {child}’s diary and photos from the portal, as the retention rules require.',
      'Any questions? Contact {contact}.',
    ],
    button: 'To the book of memories',
    closing: 'Kind regards,\n{organisation}',
  },
};

export async function composeYearBookOffer(input: ComposeInput): Promise<Composed> {
  const { em, ctx, account, organisation, job } = input;
  const row = job.ref === undefined ? null : await em.findOne(YearBook, { id: job.ref }, { populate: ['child'] });
  if (!row?.child.leftOn) throw new Error(`year book ${job.ref} is not of a child who left`);
  const lang: Language = account.parent?.language ?? organisation.defaultLanguage;
  const until = archiveUntil(row.child.leftOn, ctx.config.retention.leaverGraceDays);
  return composeNoticeMail(input, texts, {
    params: { child: row.child.firstName, until: spokenDate(until, lang) },
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}${yearBookPath(row.child.id)}`,
  });
}
