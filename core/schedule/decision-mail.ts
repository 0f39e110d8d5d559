import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import type { Actor } from '../actor.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { Language } from '../entities/organisation.ts';
import { SwapRequest } from '../entities/schedule.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { ensureMailQueue, publicBaseUrl, senderOf } from '../mail/account-mail.ts';
import type { MailTransport } from '../mail/transport.ts';
import { escapeHtml } from '../messages/format.ts';
import { fullName } from '../people.ts';
import { can, parentIsActive } from '../access/index.ts';

/**
 * The e-mail to the parent who asked for a swap, once the manager has decided. The job holds
 * only the request's id; the worker reads the request when it sends and writes the mail in the
 * parent's language, with every value escaped in the HTML part. The queue has the retry policy
 * of the other mail queues, so an SMTP outage only delays it.
 */

export const DECISION_MAIL_QUEUE = 'swap-decision-mail';
export const DECISION_MAIL_DEAD = 'swap-decision-mail-dead';

export interface DecisionMailJob {
  requestId: number;
}

export interface DecisionMailContext {
  config: Readonly<PortalConfig>;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

export interface DecisionMailWorkerContext extends DecisionMailContext {
  log: Logger;
  mail: MailTransport;
  em(): EntityManager;
}

/** Queues the mail on the caller's transaction (inside `em.transactional`). */
export async function enqueueDecisionMail(ctx: DecisionMailContext, em: EntityManager, job: DecisionMailJob): Promise<string> {
  const jobs = await ensureMailQueue(ctx, DECISION_MAIL_QUEUE, DECISION_MAIL_DEAD);
  return await jobs.send(em, DECISION_MAIL_QUEUE, job);
}

const longDate = {
  nl: new Intl.DateTimeFormat('nl-NL', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }),
};

/** "maandag 24 november", "Monday 24 November": dates as people say them. */
export function spokenDate(date: string, lang: Language): string {
  return longDate[lang].format(new Date(`${date}T00:00:00Z`));
}

const PART = {
  nl: { day: 'de hele dag', morning: 'de ochtend', afternoon: 'de middag' },
  en: { day: 'the whole day', morning: 'the morning', afternoon: 'the afternoon' },
} as const;

export interface DecisionMailInput {
  lang: Language;
  firstName: string;
  organisation: string;
  childName: string;
  groupName: string;
  date: string;
  part: 'day' | 'morning' | 'afternoon';
  approved: boolean;
  reason: string | null;
  link: string;
}

export function composeDecisionMail(i: DecisionMailInput): { subject: string; text: string; html: string } {
  const en = i.lang === 'en';
  const day = `${spokenDate(i.date, i.lang)} (${PART[i.lang][i.part]})`;
  const t = en
    ? {
        subject: i.approved ? `Swap day approved: ${i.childName}, ${day}` : `Swap day not possible: ${i.childName}, ${day}`,
        greeting: `Dear ${i.firstName},`,
        body: i.approved
          ? `Your request for ${i.childName} to come to group ${i.groupName} on ${day} has been approved. See you then!`
          : `Unfortunately your request for ${i.childName} to come to group ${i.groupName} on ${day} has not been approved. The credit can be used for another day.`,
        reason: 'Reason:',
        link: 'Your credits and requests:',
        closing: `Kind regards,\n${i.organisation}`,
      }
    : {
        subject: i.approved ? `Ruildag goedgekeurd: ${i.childName}, ${day}` : `Ruildag niet mogelijk: ${i.childName}, ${day}`,
        greeting: `Beste ${i.firstName},`,
        body: i.approved
          ? `Uw aanvraag om ${i.childName} op ${day} naar groep ${i.groupName} te laten komen is goedgekeurd. Tot dan!`
          : `Uw aanvraag om ${i.childName} op ${day} naar groep ${i.groupName} te laten komen is helaas niet goedgekeurd. U kunt het tegoed voor een andere dag gebruiken.`,
        reason: 'Reden:',
        link: 'Uw tegoed en aanvragen:',
        closing: `Met vriendelijke groet,\n${i.organisation}`,
      };
  const reason = !i.approved && i.reason ? i.reason : null;
  const text = [t.greeting, '', t.body, ...(reason ? ['', `${t.reason} ${reason}`] : []), '', `${t.link} ${i.link}`, '', t.closing, ''].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="${i.lang}"><head><meta charset="utf-8"><title>${e(t.subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${e(t.greeting)}</p>
<p>${e(t.body)}</p>
${reason ? `<p><strong>${e(t.reason)}</strong> ${e(reason)}</p>\n` : ''}<p>${e(t.link)} <a href="${e(i.link)}">${e(i.link)}</a></p>
<p>${e(t.closing).replace('\n', '<br>')}</p>
</body></html>
`;
  return { subject: t.subject, text, html };
}

/** Composes and sends one decision mail; 'skipped' when the request, its parent or the decision is gone. */
export async function sendDecisionMail(ctx: DecisionMailWorkerContext, job: DecisionMailJob): Promise<'sent' | 'skipped'> {
  const em = ctx.em();
  const request = await em.findOne(SwapRequest, { id: job.requestId }, { populate: ['child', 'group', 'requestedByParent'] });
  const parent = request?.requestedByParent;
  if (!request || !parent || (request.status !== 'approved' && request.status !== 'rejected')) return 'skipped';
  // A suspended parent gets no mail from the portal (as for announcements); nor does one who is
  // no longer the child's parent when the decision comes (the same rule as the page's, and as
  // the push of the decision, core/notifications/notify.ts newsFor).
  if (!(await parentIsActive(em, parent.id))) return 'skipped';
  const asked: Actor = { kind: 'parent', parentId: parent.id, label: parent.email };
  if (!(await can(em, asked, 'swapRequest.read', request.id))) return 'skipped';
  const organisation = await getOrganisation(em);
  const composed = composeDecisionMail({
    lang: parent.language,
    firstName: parent.firstName,
    organisation: organisation.name,
    childName: fullName(request.child),
    groupName: request.group.name,
    date: request.date,
    part: request.part,
    approved: request.status === 'approved',
    reason: request.reason ?? null,
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}/ruilen`,
  });
  await ctx.mail.send({ to: parent.email, from: senderOf(ctx, organisation), ...composed });
  ctx.log.debug(`swap decision ${request.id} mailed to parent ${parent.id}`);
  return 'sent';
}

/** The worker of a running server (started with the other mail workers). */
export async function startDecisionMailWorker(ctx: DecisionMailWorkerContext): Promise<string> {
  const jobs = await ensureMailQueue(ctx, DECISION_MAIL_QUEUE, DECISION_MAIL_DEAD);
  return await jobs.workEach<DecisionMailJob>(
    DECISION_MAIL_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 1 },
    (job) => sendDecisionMail(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `swap decision mail for request ${job.requestId}`,
  );
}
