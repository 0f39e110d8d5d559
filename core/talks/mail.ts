import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { parentIsActive } from '../access/index.ts';
import { sql } from '../db/sql.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { ensureMailQueue, publicBaseUrl, senderOf } from '../mail/account-mail.ts';
import type { MailTransport, OutgoingMail } from '../mail/transport.ts';
import { escapeHtml } from '../messages/format.ts';
import { fullName } from '../people.ts';
import { spokenDate } from '../schedule/decision-mail.ts';
import { clockOf } from '../clock.ts';
import { renderInvite } from './invite.ts';
import { readSlot, type TalkSlotView } from './read.ts';

/**
 * The mails of a talk: the confirmation of a booking, a move or a cancellation to the parent who
 * did it and to the staff member who holds the talk, each with an `.ics` invitation, and the
 * reminder of the day before to the parent. A job holds only ids and the booking's version (its
 * SEQUENCE); the worker reads the slot and the person when it sends, so nothing personal and no
 * secret waits in the queue. A confirmation whose booking has changed since (moved again,
 * cancelled) is skipped: a later mail says what is true.
 */

export const TALK_MAIL_QUEUE = 'talk-mail';
export const TALK_MAIL_DEAD = 'talk-mail-dead';

export type TalkMailEvent = 'booked' | 'moved' | 'cancelled' | 'reminder';

export interface TalkMailJob {
  slotId: number;
  bookingId: string;
  sequence: number;
  event: TalkMailEvent;
  childId: number;
  /** Exactly one recipient. */
  parentId?: number;
  staffId?: number;
  /** For the staff member's mail: the parent who booked, moved or cancelled (named in it). */
  byParentId?: number;
}

export interface TalkMailContext {
  config: Readonly<PortalConfig>;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

export interface TalkMailWorkerContext extends TalkMailContext {
  log: Logger;
  mail: MailTransport;
  em(): EntityManager;
}

/** Queues the mails on the caller's transaction (call inside `em.transactional`). */
export async function enqueueTalkMails(ctx: TalkMailContext, em: EntityManager, jobs: TalkMailJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  return await (await ensureMailQueue(ctx, TALK_MAIL_QUEUE, TALK_MAIL_DEAD)).sendMany(em, TALK_MAIL_QUEUE, jobs);
}

export interface TalkMailInput {
  lang: Language;
  firstName: string;
  organisation: string;
  event: TalkMailEvent;
  /** The parent's mail speaks of "your child", the staff member's of the child's name and parent. */
  toStaff: boolean;
  childName: string;
  parentName: string;
  staffName: string;
  groupName: string;
  date: string;
  from: string;
  until: string;
  place: string | null;
  videoUrl: string | null;
  link: string;
}

export function composeTalkMail(i: TalkMailInput): { subject: string; text: string; html: string } {
  const en = i.lang === 'en';
  const when = `${spokenDate(i.date, i.lang)} ${i.from}–${i.until}`;
  const where = [i.place, i.videoUrl].filter(Boolean).join(en ? ' or ' : ' of ');
  const subjects = en
    ? { booked: 'Talk booked', moved: 'Talk moved', cancelled: 'Talk cancelled', reminder: 'Reminder: talk tomorrow' }
    : { booked: 'Gesprek geboekt', moved: 'Gesprek verzet', cancelled: 'Gesprek geannuleerd', reminder: 'Herinnering: gesprek morgen' };
  const about = en ? `about ${i.childName}` : `over ${i.childName}`;
  const body = en
    ? {
        booked: i.toStaff ? `${i.parentName} booked a talk ${about} with you.` : `You booked a talk ${about} with ${i.staffName}.`,
        moved: i.toStaff ? `${i.parentName} moved the talk ${about} to this time.` : `Your talk ${about} with ${i.staffName} is moved to this time.`,
        cancelled: i.toStaff ? `${i.parentName} cancelled the talk ${about}.` : `Your talk ${about} with ${i.staffName} is cancelled.`,
        reminder: `Tomorrow is your talk ${about} with ${i.staffName}.`,
      }
    : {
        booked: i.toStaff ? `${i.parentName} heeft een gesprek ${about} met u geboekt.` : `U hebt een gesprek ${about} met ${i.staffName} geboekt.`,
        moved: i.toStaff ? `${i.parentName} heeft het gesprek ${about} naar dit tijdstip verzet.` : `Uw gesprek ${about} met ${i.staffName} is verzet naar dit tijdstip.`,
        cancelled: i.toStaff ? `${i.parentName} heeft het gesprek ${about} geannuleerd.` : `Uw gesprek ${about} met ${i.staffName} is geannuleerd.`,
        reminder: `Morgen hebt u het gesprek ${about} met ${i.staffName}.`,
      };
  const t = en
    ? { greeting: `Dear ${i.firstName},`, when: 'When:', where: 'Where:', group: 'Group:', link: 'In the portal:', ics: 'The attachment adds it to your calendar.', closing: `Kind regards,\n${i.organisation}` }
    : { greeting: `Beste ${i.firstName},`, when: 'Wanneer:', where: 'Waar:', group: 'Groep:', link: 'In het portaal:', ics: 'Met de bijlage zet u het in uw agenda.', closing: `Met vriendelijke groet,\n${i.organisation}` };
  const subject = `${subjects[i.event]}: ${i.childName}, ${when}`;
  const facts: [string, string][] = [
    [t.when, when],
    ...(where ? ([[t.where, where]] as [string, string][]) : []),
    [t.group, i.groupName],
  ];
  const text = [t.greeting, '', body[i.event], '', ...facts.map(([k, v]) => `${k} ${v}`), '', t.ics, '', `${t.link} ${i.link}`, '', t.closing, ''].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="${i.lang}"><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${e(t.greeting)}</p>
<p>${e(body[i.event])}</p>
<ul>${facts.map(([k, v]) => `<li><strong>${e(k)}</strong> ${e(v)}</li>`).join('')}</ul>
<p>${e(t.ics)}</p>
<p>${e(t.link)} <a href="${e(i.link)}">${e(i.link)}</a></p>
<p>${e(t.closing).replace('\n', '<br>')}</p>
</body></html>
`;
  return { subject, text, html };
}

/** The bare address of a From header ("Name" <a@b> → a@b). */
const addressOf = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from;

/** The current booking still is this job's (a confirmation of an older version is not sent). */
const current = (slot: TalkSlotView, job: TalkMailJob) =>
  slot.bookingId === job.bookingId && slot.childId === job.childId && slot.sequence === job.sequence && !slot.cancelledAt;

/** Composes and sends one mail; 'skipped' when the booking changed or the recipient is gone or no longer the child's. */
export async function sendTalkMail(ctx: TalkMailWorkerContext, job: TalkMailJob): Promise<'sent' | 'skipped'> {
  const em = ctx.em();
  const slot = await readSlot(em, job.slotId);
  if (!slot) return 'skipped';
  if (job.event !== 'cancelled' && !current(slot, job)) return 'skipped';
  if (job.event === 'reminder' && slot.heldAt) return 'skipped';
  const [child] = await sql<{ first_name: string; infix: string | null; last_name: string }>(
    em,
    'select first_name, infix, last_name from child where id = ?',
    [job.childId],
  );
  if (!child) return 'skipped';
  let to: { email: string; firstName: string; lang: Language; name: string };
  let parentName = '';
  if (job.parentId !== undefined) {
    const parent = await em.findOne(Parent, { id: job.parentId });
    // A suspended parent, or one no longer the child's, gets nothing about the child.
    if (!parent || !(await parentIsActive(em, parent.id))) return 'skipped';
    const guardian = await sql(em, 'select 1 from guardianship where parent_id = ? and child_id = ?', [parent.id, job.childId]);
    if (guardian.length === 0) return 'skipped';
    to = { email: parent.email, firstName: parent.firstName, lang: parent.language, name: fullName(parent) };
  } else {
    const staff = job.staffId !== undefined ? await em.findOne(Staff, { id: job.staffId }) : null;
    if (!staff?.active) return 'skipped';
    to = { email: staff.email, firstName: staff.firstName, lang: staff.language, name: fullName(staff) };
    const booker = job.byParentId !== undefined ? await em.findOne(Parent, { id: job.byParentId }) : null;
    parentName = booker ? fullName(booker) : '';
  }
  const organisation = await getOrganisation(em);
  const base = publicBaseUrl(ctx, organisation.publicUrl);
  const from = senderOf(ctx, organisation);
  const childName = fullName({ firstName: child.first_name, infix: child.infix, lastName: child.last_name });
  const composed = composeTalkMail({
    lang: to.lang,
    firstName: to.firstName,
    organisation: organisation.name,
    event: job.event,
    toStaff: job.staffId !== undefined,
    childName,
    parentName: parentName || (to.lang === 'en' ? 'A parent' : 'Een ouder'),
    staffName: slot.staffLabel,
    groupName: slot.groupName,
    date: slot.date,
    from: slot.from,
    until: slot.until,
    place: slot.place,
    videoUrl: slot.videoUrl,
    link: `${base}${job.staffId !== undefined ? `/gesprekken/groep/${slot.groupId}` : '/gesprekken'}`,
  });
  const method = job.event === 'cancelled' ? 'CANCEL' : 'REQUEST';
  const invite = renderInvite({
    method,
    uid: `talk-${job.bookingId}@${new URL(base).host}`,
    sequence: job.sequence,
    now: clockOf(em).now(),
    date: slot.date,
    from: slot.from,
    until: slot.until,
    summary: to.lang === 'en' ? `Talk about ${childName}` : `Gesprek over ${childName}`,
    place: slot.place,
    videoUrl: slot.videoUrl,
    organiser: { name: organisation.name, email: addressOf(from) },
    attendee: { name: to.name, email: to.email },
  });
  const mail: OutgoingMail = {
    to: to.email,
    from,
    ...composed,
    attachments: [{ filename: to.lang === 'en' ? 'talk.ics' : 'gesprek.ics', content: invite, contentType: `text/calendar; charset=utf-8; method=${method}` }],
  };
  await ctx.mail.send(mail);
  ctx.log.debug(`talk ${job.event} of slot ${slot.id} mailed to ${job.parentId !== undefined ? `parent ${job.parentId}` : `staff ${job.staffId}`}`);
  return 'sent';
}

/** The worker of a running server (started with the other mail workers). */
export async function startTalkMailWorker(ctx: TalkMailWorkerContext): Promise<string> {
  const jobs = await ensureMailQueue(ctx, TALK_MAIL_QUEUE, TALK_MAIL_DEAD);
  return await jobs.workEach<TalkMailJob>(
    TALK_MAIL_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 1 },
    (job) => sendTalkMail(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `talk mail (${job.event}) for slot ${job.slotId}`,
  );
}
