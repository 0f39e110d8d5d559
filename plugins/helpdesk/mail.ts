import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { JobQueue } from '../../core/jobs/queue.ts';
import type { Logger } from '../../core/log.ts';
import { ensureMailQueue, publicBaseUrl, senderOf } from '../../core/mail/account-mail.ts';
import type { MailTransport, OutgoingMail } from '../../core/mail/transport.ts';
import { escapeHtml } from '../../core/messages/format.ts';
import { HelpdeskRequest, type IHelpdeskRequest } from './entity.ts';

/**
 * Two mails per question, through the job queue: the question to the organisation's helpdesk
 * address with Reply-To the requester (the helpdesk answers from its own mail program), and a
 * confirmation with the reference to the requester. The confirmation carries none of the typed
 * text: a form anyone can fill in must not let a stranger send their words to any address.
 * Jobs hold only the row id and the kind; the worker reads the row when it sends.
 */

export const HELPDESK_MAIL_QUEUE = 'helpdesk-mail';
export const HELPDESK_MAIL_DEAD = 'helpdesk-mail-dead';

export interface HelpdeskMailJob {
  requestId: number;
  kind: 'helpdesk' | 'confirmation';
}

export interface HelpdeskMailContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  mail: MailTransport;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

const queue = (ctx: Pick<HelpdeskMailContext, 'config' | 'jobs'>) => ensureMailQueue(ctx, HELPDESK_MAIL_QUEUE, HELPDESK_MAIL_DEAD);

/** On the caller's transaction. */
export async function enqueueHelpdeskMails(
  ctx: Pick<HelpdeskMailContext, 'config' | 'jobs'>,
  em: EntityManager,
  requestId: number,
): Promise<void> {
  const jobs: HelpdeskMailJob[] = [
    { requestId, kind: 'helpdesk' },
    { requestId, kind: 'confirmation' },
  ];
  await (await queue(ctx)).sendMany(em, HELPDESK_MAIL_QUEUE, jobs);
}

export const CATEGORY_LABELS: Record<string, { nl: string; en: string }> = {
  inloggen: { nl: 'Inloggen', en: 'Logging in' },
  fotos: { nl: "Foto's", en: 'Photos' },
  schriftje: { nl: 'Schriftje', en: 'Diary' },
  berichten: { nl: 'Berichten', en: 'Messages' },
  overig: { nl: 'Facturen of iets anders', en: 'Invoices or something else' },
};

const page = (lang: string, title: string, body: string) => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
${body}
</body></html>
`;

export function composeHelpdeskMail(r: IHelpdeskRequest, baseUrl: string): { subject: string; text: string; html: string } {
  const e = escapeHtml;
  const category = CATEGORY_LABELS[r.category]?.nl ?? r.category;
  const subject = `[${r.reference}] ${r.subject}`;
  const who = r.name ? `${r.name} <${r.email}>` : r.email;
  const rows: [string, string][] = [
    ['Referentie', r.reference],
    ['Van', who],
    ['Ingelogd', r.accountId ? `ja (account ${r.accountId})` : 'nee (vanaf de inlogpagina)'],
    ['Onderwerp', r.subject],
    ['Categorie', category],
    ['Pagina', r.fromPath ? `${baseUrl}${r.fromPath}` : '(onbekend)'],
    ['Verstuurd', r.createdAt.toISOString()],
  ];
  const text = [
    'Nieuwe vraag via het helpformulier van het ouderportaal.',
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    r.message,
    '',
    `Antwoord met "Beantwoorden": uw antwoord gaat naar ${r.email}. Afsluiten: portal helpdesk close ${r.reference}`,
    '',
  ].join('\n');
  const html = page(
    'nl',
    subject,
    `<p>Nieuwe vraag via het helpformulier van het ouderportaal.</p>
<table>${rows.map(([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>
<p style="white-space:pre-wrap">${e(r.message)}</p>
<p style="color:#57606a">Antwoord met "Beantwoorden": uw antwoord gaat naar ${e(r.email)}. Afsluiten: <code>portal helpdesk close ${e(r.reference)}</code></p>`,
  );
  return { subject, text, html };
}

export function composeConfirmationMail(r: IHelpdeskRequest, organisation: string): { subject: string; text: string; html: string } {
  const en = r.language === 'en';
  const t = en
    ? {
        subject: `We have received your question (${r.reference})`,
        body: `Thank you for your question to the helpdesk of ${organisation}. We have received it under reference ${r.reference} and will answer you by e-mail.`,
        note: 'Did you not send a question? Then you can ignore this e-mail.',
        closing: `Kind regards,\n${organisation}`,
      }
    : {
        subject: `Wij hebben uw vraag ontvangen (${r.reference})`,
        body: `Dank u wel voor uw vraag aan de helpdesk van ${organisation}. Wij hebben hem ontvangen onder referentie ${r.reference} en beantwoorden hem per e-mail.`,
        note: 'Heeft u geen vraag gesteld? Dan kunt u deze e-mail negeren.',
        closing: `Met vriendelijke groet,\n${organisation}`,
      };
  const text = [t.body, '', t.note, '', t.closing, ''].join('\n');
  const e = escapeHtml;
  const html = page(r.language, t.subject, `<p>${e(t.body)}</p>\n<p style="color:#57606a">${e(t.note)}</p>\n<p>${e(t.closing).replace('\n', '<br>')}</p>`);
  return { subject: t.subject, text, html };
}

/** Sends one mail of a question; 'skipped' when the row is gone or no helpdesk address is set. */
export async function sendHelpdeskMail(ctx: HelpdeskMailContext, job: HelpdeskMailJob): Promise<'sent' | 'skipped'> {
  const em = ctx.em();
  const request = await em.findOne(HelpdeskRequest, { id: job.requestId });
  if (!request) return 'skipped';
  const organisation = await getOrganisation(em);
  const from = senderOf(ctx, organisation);
  let mail: OutgoingMail;
  if (job.kind === 'helpdesk') {
    if (!organisation.helpdeskEmail) {
      ctx.log.warn(`helpdesk request ${request.reference}: no helpdesk address set (portal init); read it with portal helpdesk show`);
      return 'skipped';
    }
    const base = publicBaseUrl(ctx, organisation.publicUrl);
    mail = { to: organisation.helpdeskEmail, from, replyTo: request.email, ...composeHelpdeskMail(request, base) };
  } else {
    const replyTo = organisation.helpdeskEmail ?? undefined;
    mail = { to: request.email, from, ...(replyTo ? { replyTo } : {}), ...composeConfirmationMail(request, organisation.name) };
  }
  await ctx.mail.send(mail);
  return 'sent';
}

export async function startHelpdeskMailWorker(ctx: HelpdeskMailContext): Promise<string> {
  const jobs = await queue(ctx);
  return await jobs.workEach<HelpdeskMailJob>(
    HELPDESK_MAIL_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 1 },
    (job) => sendHelpdeskMail(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `helpdesk mail (${job.kind}) for request ${job.requestId}`,
  );
}
