import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { Announcement } from '../entities/message.ts';
import { Parent } from '../entities/parent.ts';
import type { Language } from '../entities/organisation.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { publicBaseUrl, senderOf, ensureMailQueue } from '../mail/account-mail.ts';
import type { MailTransport, OutgoingMail } from '../mail/transport.ts';
import { escapeHtml, messageHtml } from './format.ts';
import { clockOf } from '../clock.ts';

/**
 * The e-mail copy of an announcement: one job per parent, holding only which announcement goes
 * to which parent (no text, no address, no secret). The worker reads both when it sends, checks
 * that the parent is still reached by it (child still placed, access not suspended), and writes
 * the mail with every value escaped in the HTML part. Attachments stay in the portal: the mail
 * links to the announcement.
 */

export const ANNOUNCEMENT_MAIL_QUEUE = 'announcement-mail';
export const ANNOUNCEMENT_MAIL_DEAD = 'announcement-mail-dead';

export interface AnnouncementMailJob {
  announcementId: string;
  parentId: number;
  /** A reminder to confirm (core/messages/confirmations.ts): skipped once the parent has confirmed. */
  reminder?: boolean;
}

export interface AnnouncementMailContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  mail: MailTransport;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

async function queue(ctx: Pick<AnnouncementMailContext, 'config' | 'jobs'>): Promise<JobQueue> {
  return await ensureMailQueue(ctx, ANNOUNCEMENT_MAIL_QUEUE, ANNOUNCEMENT_MAIL_DEAD);
}

/** Queues the mails on the caller's transaction (call inside `em.transactional`). */
export async function enqueueAnnouncementMails(
  ctx: Pick<AnnouncementMailContext, 'config' | 'jobs'>,
  em: EntityManager,
  jobs: AnnouncementMailJob[],
): Promise<string[]> {
  if (jobs.length === 0) return [];
  return await (await queue(ctx)).sendMany(em, ANNOUNCEMENT_MAIL_QUEUE, jobs);
}

export interface AnnouncementMailInput {
  lang: Language;
  firstName: string;
  organisation: string;
  /** "groep Boomhut" or "vestiging Centrum", as the parent knows it. */
  groupName: string | null;
  locationName: string;
  authorLabel: string;
  subject: string;
  body: string;
  link: string;
  /** The announcement asks the parent to confirm they read it. */
  confirmationRequested?: boolean;
  /** This mail reminds them to (they had not confirmed yet). */
  reminder?: boolean;
}

export function composeAnnouncementMail(i: AnnouncementMailInput): { subject: string; text: string; html: string } {
  const en = i.lang === 'en';
  const to = en
    ? i.groupName
      ? `the parents of group ${i.groupName} (${i.locationName})`
      : `all parents of ${i.locationName}`
    : i.groupName
      ? `de ouders van groep ${i.groupName} (${i.locationName})`
      : `alle ouders van vestiging ${i.locationName}`;
  const t = en
    ? {
        greeting: `Dear ${i.firstName},`,
        intro: `${i.authorLabel} has posted an announcement for ${to} in the ${i.organisation} parent portal:`,
        link: 'Read it in the portal (with any attachment):',
        noReply: 'Please do not reply to this e-mail; use Messages in the portal.',
        closing: `Kind regards,\n${i.organisation}`,
        reminder: `Reminder: ${i.authorLabel} asked you to confirm that you have read this announcement for ${to}. You have not confirmed it yet:`,
        confirm: 'Please confirm in the portal that you have read it: one tap on "Read and understood".',
      }
    : {
        greeting: `Beste ${i.firstName},`,
        intro: `${i.authorLabel} heeft in het Ouderportaal van ${i.organisation} een mededeling geplaatst voor ${to}:`,
        link: 'U leest hem ook in het portaal (met een eventuele bijlage):',
        noReply: 'Antwoorden op deze e-mail komt niet aan; gebruikt u daarvoor Berichten in het portaal.',
        closing: `Met vriendelijke groet,\n${i.organisation}`,
        reminder: `Een herinnering: ${i.authorLabel} vroeg u te bevestigen dat u deze mededeling voor ${to} gelezen hebt. Dat hebben we nog niet van u gezien:`,
        confirm: 'Wilt u in het portaal bevestigen dat u hem gelezen hebt? Dat is één tik op "Gelezen en begrepen".',
      };
  const intro = i.reminder ? t.reminder : t.intro;
  const asks = i.reminder || i.confirmationRequested;
  const subject = `${i.reminder ? (en ? 'Reminder: ' : 'Herinnering: ') : ''}${i.subject} (${i.groupName ?? i.locationName})`;
  const text = [t.greeting, '', intro, '', i.subject, '', i.body, '', ...(asks ? [t.confirm, ''] : []), `${t.link} ${i.link}`, '', t.noReply, '', t.closing, ''].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="${i.lang}"><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${e(t.greeting)}</p>
<p>${e(intro)}</p>
<h1 style="font-size:1.2em">${e(i.subject)}</h1>
<p>${messageHtml(i.body)}</p>
${asks ? `<p><strong>${e(t.confirm)}</strong></p>\n` : ''}<p>${e(t.link)} <a href="${e(i.link)}">${e(i.link)}</a></p>
<p style="color:#57606a">${e(t.noReply)}</p>
<p>${e(t.closing).replace('\n', '<br>')}</p>
</body></html>
`;
  return { subject, text, html };
}

/** Still a recipient: a child placed today where the announcement goes, access not suspended. */
async function stillReached(em: EntityManager, job: AnnouncementMailJob): Promise<boolean> {
  const rows = (await em.getConnection().execute(
    `select 1 from announcement a
       join care_group cg on (a.group_id is not null and cg.id = a.group_id) or (a.group_id is null and cg.location_id = a.location_id)
       join placement pl on pl.group_id = cg.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
       join guardianship g on g.child_id = pl.child_id and g.parent_id = ?
      where a.id = ?
        and not exists (select 1 from account ac where ac.parent_id = g.parent_id and ac.suspended_at is not null)
      limit 1`,
    [clockOf(em).today(), clockOf(em).today(), job.parentId, job.announcementId],
  )) as unknown[];
  return rows.length > 0;
}

/** The parent confirmed meanwhile: a reminder queued earlier is not sent. */
async function confirmed(em: EntityManager, job: AnnouncementMailJob): Promise<boolean> {
  const rows = (await em.getConnection().execute(
    'select 1 from announcement_confirmation where announcement_id = ? and parent_id = ?',
    [job.announcementId, job.parentId],
  )) as unknown[];
  return rows.length > 0;
}

/** Composes and sends one copy; 'skipped' when the parent or announcement is gone or no longer reached. */
export async function sendAnnouncementMail(ctx: AnnouncementMailContext, job: AnnouncementMailJob): Promise<'sent' | 'skipped'> {
  const em = ctx.em();
  const announcement = await em.findOne(Announcement, { id: job.announcementId }, { populate: ['location', 'group'] });
  const parent = await em.findOne(Parent, { id: job.parentId });
  if (!announcement || !parent || !(await stillReached(em, job))) return 'skipped';
  if (job.reminder && (await confirmed(em, job))) return 'skipped';
  const organisation = await getOrganisation(em);
  const composed = composeAnnouncementMail({
    lang: parent.language,
    firstName: parent.firstName,
    organisation: organisation.name,
    groupName: announcement.group?.name ?? null,
    locationName: announcement.location.name,
    authorLabel: announcement.authorLabel,
    subject: announcement.subject,
    body: announcement.body,
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}/berichten/mededeling/${announcement.id}`,
    confirmationRequested: announcement.confirmationRequested,
    reminder: job.reminder === true,
  });
  const mail: OutgoingMail = { to: parent.email, from: senderOf(ctx, organisation), ...composed };
  await ctx.mail.send(mail);
  ctx.log.debug(`announcement ${announcement.id} mailed to parent ${parent.id}`);
  return 'sent';
}

/** The worker of a running server; each job succeeds or fails (and is retried) on its own. */
export async function startAnnouncementMailWorker(ctx: AnnouncementMailContext): Promise<string> {
  const jobs = await queue(ctx);
  return await jobs.workEach<AnnouncementMailJob>(
    ANNOUNCEMENT_MAIL_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 1 },
    (job) => sendAnnouncementMail(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `announcement mail to parent ${job.parentId}`,
  );
}
