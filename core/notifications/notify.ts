import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { dayOf } from '../dates.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { publicBaseUrl, senderOf, ensureMailQueue } from '../mail/account-mail.ts';
import type { MailTransport } from '../mail/transport.ts';
import { SHAREABLE } from '../photos/visibility.ts';
import { notificationHeaders, unsubscribeToken, unsubscribeUrl } from '../profile/notifications.ts';
import { filterOf, settledThreadFilter } from '../access/index.ts';
import { parentAnnouncementFilter } from '../messages/access.ts';
import { escapeHtml } from '../messages/format.ts';
import { clockOf } from '../clock.ts';

/**
 * E-mail notifications of what is new for a parent: photos of their children's groups, the
 * staff's schriftje entries, replies from the group, announcements. Each parent chooses (Mijn
 * gegevens): off, immediately (at most one mail per IMMEDIATE_INTERVAL_MINUTES) or a daily
 * digest at notifications.digestHour. `Parent.notifiedUntil` marks what has been told.
 *
 * A scan (every few minutes, in the server's background work) finds the parents who are due and,
 * in one transaction per parent, moves their mark to now and queues one job with the window
 * (since, until]. The worker counts what is new in that window and sends one mail, or nothing
 * when there is nothing. A failed send is retried by the queue, so an SMTP outage loses nothing;
 * a window is never mailed twice because the mark moved with the job.
 *
 * The mail says what kind of news there is and for which child, never the text of a message or
 * entry: that stays behind the login.
 */

export const NOTIFY_QUEUE = 'notification-mail';
export const NOTIFY_DEAD = 'notification-mail-dead';
/** "Immediately" is at most one mail per this many minutes. */
export const IMMEDIATE_INTERVAL_MINUTES = 15;
/** How far back a parent's first window reaches (a new parent is not mailed their whole past). */
const FIRST_WINDOW_HOURS = 24;

export interface NotifyContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  mail: MailTransport;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

export interface NotifyJob {
  parentId: number;
  since: string;
  until: string;
}

async function queue(ctx: Pick<NotifyContext, 'config' | 'jobs'>): Promise<JobQueue> {
  return await ensureMailQueue(ctx, NOTIFY_QUEUE, NOTIFY_DEAD);
}

/** The moment `hour`:00 Dutch time on `day` (YYYY-MM-DD), as an instant (summer and winter time). */
export function dutchTime(day: string, hour: number): Date {
  const guess = new Date(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
  const offset = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', timeZoneName: 'shortOffset' })
    .formatToParts(guess)
    .find((p) => p.type === 'timeZoneName')?.value; // "GMT+1" or "GMT+2"
  const hours = Number(offset?.match(/GMT([+-]\d+)/)?.[1] ?? 0);
  return new Date(guess.getTime() - hours * 3_600_000);
}

/**
 * Queues a notification job for every parent who is due at `now`: immediate ones whose last
 * mail window ended at least the interval ago, digest ones whose window ended before today's
 * digest time once that time has passed. Suspended parents and parents without an account are
 * skipped. Returns how many were queued.
 */
export async function scanNotifications(ctx: Pick<NotifyContext, 'config' | 'jobs' | 'em'>, at?: Date): Promise<number> {
  const em = ctx.em();
  const now = at ?? clockOf(em).now();
  const digestAt = dutchTime(dayOf(now), ctx.config.notifications.digestHour);
  const immediateBefore = new Date(now.getTime() - IMMEDIATE_INTERVAL_MINUTES * 60_000);
  const firstSince = new Date(now.getTime() - FIRST_WINDOW_HOURS * 3_600_000);
  const due = (await em.getConnection().execute(
    `select p.id, p.notified_until from parent p
      where exists (select 1 from account a where a.parent_id = p.id and a.suspended_at is null and a.password_hash is not null)
        and ((p.notification_mode = 'immediate' and (p.notified_until is null or p.notified_until <= ?))
          or (p.notification_mode = 'digest' and ?::timestamptz <= ? and (p.notified_until is null or p.notified_until < ?)))
      order by p.id`,
    [immediateBefore, digestAt, now, digestAt],
  )) as { id: number; notified_until: Date | string | null }[];
  if (due.length === 0) return 0;
  const jobs = await queue(ctx);
  let queued = 0;
  for (const row of due) {
    await em.transactional(async (tx) => {
      // Moved only if nobody else moved it meanwhile (two servers scanning at once).
      const moved = await tx.nativeUpdate(
        Parent,
        { id: row.id, notifiedUntil: row.notified_until === null ? null : new Date(row.notified_until) },
        { notifiedUntil: now },
      );
      if (moved !== 1) return;
      const since = row.notified_until === null ? firstSince : new Date(row.notified_until);
      await jobs.send(tx, NOTIFY_QUEUE, { parentId: row.id, since: since.toISOString(), until: now.toISOString() } satisfies NotifyJob);
      queued++;
    });
  }
  return queued;
}

export interface ChildNews {
  firstName: string;
  photos: number;
  diary: number;
  messages: number;
}

export interface News {
  children: ChildNews[];
  announcements: string[];
  /**
   * Decisions on this parent's own swap requests (approved or rejected) in the window. The push
   * scan tells them ("decisions"); the digest mail does not, see `mailedNews`.
   */
  decisions: number;
}

/**
 * What is new for a parent in the window (since, until], per child; counts only. The one source
 * of a parent's news: the e-mail notification and the push scan (core/push/scan.ts) both read it,
 * so they can never disagree about what happened or about whose children it concerns.
 */
export async function newsFor(em: EntityManager, parentId: number, since: Date, until: Date): Promise<News> {
  const day = dayOf(until);
  const hidden = settledThreadFilter(parentId, 't');
  const rows = (await em.getConnection().execute(
    `select c.first_name,
       (select count(*) from photo p
         where p.group_id in (select pl.group_id from placement pl where pl.child_id = c.id
                                and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))
           and p.published_at > ? and p.published_at <= ? and ${SHAREABLE})::int as photos,
       (select count(*) from diary_entry d where d.child_id = c.id and d.author_kind = 'staff'
           and d.updated_at > ? and d.updated_at <= ?)::int as diary,
       (select count(*) from message m join message_thread t on t.id = m.thread_id
         where t.child_id = c.id and ${hidden.sql} and m.author_side = 'staff' and m.created_at > ? and m.created_at <= ?)::int as messages
       from child c join guardianship g on g.child_id = c.id
      where g.parent_id = ?
      order by c.birth_date, c.first_name`,
    [day, day, since, until, since, until, ...hidden.params, since, until, parentId],
  )) as { first_name: string; photos: number; diary: number; messages: number }[];
  const reaches = parentAnnouncementFilter(parentId, day);
  const announcements = (await em.getConnection().execute(
    `select a.subject from announcement a
      where a.created_at > ? and a.created_at <= ? and ${reaches.sql}
      order by a.created_at, a.id`,
    [since, until, ...reaches.params],
  )) as { subject: string }[];
  // The decision mail (core/schedule/decision-mail.ts) goes to the parent who asked; so does
  // this news, and by the same rule (swapRequest.read): only while the child is still theirs.
  const readable = filterOf(em, { kind: 'parent', parentId, label: `parent:${parentId}` }, 'swapRequest.read');
  const [decided] = (await em.getConnection().execute(
    `select count(*)::int as n from swap_request sr
      where sr.requested_by_parent_id = ? and sr.status in ('approved', 'rejected') and sr.decided_at > ? and sr.decided_at <= ?
        and (${readable.sql})`,
    [parentId, since, until, ...readable.params],
  )) as { n: number }[];
  return {
    children: rows
      .map((r) => ({ firstName: r.first_name, photos: r.photos, diary: r.diary, messages: r.messages }))
      .filter((c) => c.photos + c.diary + c.messages > 0),
    announcements: announcements.map((a) => a.subject),
    decisions: decided?.n ?? 0,
  };
}

const TEXTS = {
  nl: {
    subject: (org: string) => `Nieuw in het ouderportaal van ${org}`,
    greeting: (name: string) => `Beste ${name},`,
    intro: 'Sinds ons vorige bericht is er nieuws in het ouderportaal:',
    photos: (n: number) => (n === 1 ? "1 nieuwe foto" : `${n} nieuwe foto's`),
    diary: (n: number) => (n === 1 ? '1 stukje in het schriftje' : `${n} stukjes in het schriftje`),
    messages: (n: number) => (n === 1 ? '1 bericht van de groep' : `${n} berichten van de groep`),
    announcement: 'Mededeling',
    link: 'Bekijk het in het portaal:',
    unsubscribe: 'Geen e-mails meer ontvangen? Zet ze uit met deze link (inloggen is niet nodig):',
    closing: (org: string) => `Met vriendelijke groet,\n${org}`,
  },
  en: {
    subject: (org: string) => `New in the ${org} parent portal`,
    greeting: (name: string) => `Dear ${name},`,
    intro: 'Since our last e-mail there is news in the parent portal:',
    photos: (n: number) => (n === 1 ? '1 new photo' : `${n} new photos`),
    diary: (n: number) => (n === 1 ? '1 diary entry' : `${n} diary entries`),
    messages: (n: number) => (n === 1 ? '1 message from the group' : `${n} messages from the group`),
    announcement: 'Announcement',
    link: 'See it in the portal:',
    unsubscribe: 'No more e-mails? Switch them off with this link (no login needed):',
    closing: (org: string) => `Kind regards,\n${org}`,
  },
} as const;

/** The notification mail: plain text and HTML with every value escaped. */
export function composeNotification(i: {
  lang: Language;
  firstName: string;
  organisation: string;
  news: News;
  link: string;
  unsubscribe: string;
}): { subject: string; text: string; html: string } {
  const t = TEXTS[i.lang];
  const lines = i.news.children.map((c) => {
    const parts = [c.photos && t.photos(c.photos), c.diary && t.diary(c.diary), c.messages && t.messages(c.messages)].filter(
      (x): x is string => Boolean(x),
    );
    return `${c.firstName}: ${parts.join(', ')}`;
  });
  const items = [...lines, ...i.news.announcements.map((s) => `${t.announcement}: ${s}`)];
  const subject = t.subject(i.organisation);
  const text = [
    t.greeting(i.firstName),
    '',
    t.intro,
    '',
    ...items.map((x) => `- ${x}`),
    '',
    `${t.link} ${i.link}`,
    '',
    t.closing(i.organisation),
    '',
    `${t.unsubscribe} ${i.unsubscribe}`,
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="${i.lang}"><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${e(t.greeting(i.firstName))}</p>
<p>${e(t.intro)}</p>
<ul>${items.map((x) => `<li>${e(x)}</li>`).join('')}</ul>
<p>${e(t.link)} <a href="${e(i.link)}">${e(i.link)}</a></p>
<p>${e(t.closing(i.organisation)).replace('\n', '<br>')}</p>
<p style="color:#57606a;font-size:0.9em">${e(t.unsubscribe)} <a href="${e(i.unsubscribe)}">${e(i.unsubscribe)}</a></p>
</body></html>
`;
  return { subject, text, html };
}

/**
 * The kinds of news this parent gets as a push on at least one device: the mail leaves them out,
 * so nobody is told the same thing twice. A parent without a device (or who unticked a kind) gets
 * it by mail as before; a device removed by its push service (410) puts it back in the mail.
 */
async function pushedCategories(em: EntityManager, parentId: number): Promise<Set<string>> {
  const rows = (await em.getConnection().execute(
    `select ps.categories from push_setting ps join account a on a.id = ps.account_id
      where a.parent_id = ? and exists (select 1 from push_subscription s where s.account_id = a.id)`,
    [parentId],
  )) as { categories: string[] }[];
  return new Set(rows[0]?.categories ?? []);
}

/**
 * What the notification mail tells of the news: everything but what the parent gets as a push,
 * and never the decisions on swap requests. A decision is mailed on its own the moment it is
 * made (core/schedule/decision-mail.ts: child, day and the manager's reason), whether or not the
 * parent has push; repeating it as a line in the digest would tell it twice, and a digest line
 * could say less than that mail already did. The decision mail stays even for parents who get
 * the "decisions" push: it is the written answer to their request, with the reason for a "no".
 */
function mailedNews(news: News, pushed: Set<string>): News {
  return {
    children: news.children
      .map((c) => ({
        ...c,
        photos: pushed.has('photos') ? 0 : c.photos,
        diary: pushed.has('diary') ? 0 : c.diary,
        messages: pushed.has('replies') ? 0 : c.messages,
      }))
      .filter((c) => c.photos + c.diary + c.messages > 0),
    announcements: pushed.has('announcements') ? [] : news.announcements,
    decisions: 0,
  };
}

/**
 * Sends one notification, or nothing when there is no news in its window, the parent switched
 * notifications off meanwhile, or their access is suspended. Throws on a failed send (the queue
 * retries).
 */
export async function sendNotification(ctx: NotifyContext, job: NotifyJob): Promise<'sent' | 'nothing' | 'skipped'> {
  const em = ctx.em();
  const parent = await em.findOne(Parent, { id: job.parentId });
  if (!parent || parent.notificationMode === 'off') return 'skipped';
  const suspended = (await em
    .getConnection()
    .execute('select 1 from account where parent_id = ? and suspended_at is not null', [parent.id])) as unknown[];
  if (suspended.length) return 'skipped';
  const news = mailedNews(await newsFor(em, parent.id, new Date(job.since), new Date(job.until)), await pushedCategories(em, parent.id));
  if (news.children.length === 0 && news.announcements.length === 0) return 'nothing';
  const organisation = await getOrganisation(em);
  const base = publicBaseUrl(ctx, organisation.publicUrl);
  const composed = composeNotification({
    lang: parent.language,
    firstName: parent.firstName,
    organisation: organisation.name,
    news,
    link: `${base}/`,
    unsubscribe: unsubscribeUrl(base, await unsubscribeToken(em, parent.id)),
  });
  await ctx.mail.send({
    to: parent.email,
    from: senderOf(ctx, organisation),
    ...composed,
    headers: await notificationHeaders({ em, config: ctx.config }, parent),
  });
  return 'sent';
}

/** The worker of a running server. */
export async function startNotificationWorker(ctx: NotifyContext): Promise<string> {
  const jobs = await queue(ctx);
  return await jobs.workEach<NotifyJob>(
    NOTIFY_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 2 },
    (job) => sendNotification(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `notification to parent ${job.parentId}`,
  );
}
