import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { filterOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { actorForAccount } from '../auth/sessions.ts';
import { clockOf } from '../clock.ts';
import { PushSetting } from '../entities/push.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { ensureMailQueue } from '../mail/account-mail.ts';
import { newsFor } from '../notifications/notify.ts';
import { isPushCategory, type PushCategory } from './categories.ts';

/**
 * Who gets a push, found the way the e-mail notifications are (core/notifications/notify.ts): a
 * scan every minute looks, per account with a device and a category chosen, at what is new in
 * the window (pushed_until, now] that the account may see, moves the mark to now and queues one
 * job per device and kind of news, all in one transaction. A parent's news is `newsFor`, the
 * mail's own, so a parent is told only about their own children (guardianship), the
 * announcements that reach them and the decisions on their own swap requests, exactly what the
 * mail knows; staff about parent messages in the conversations the catalogue lets them read.
 *
 * Quiet hours: during them the mark does not move, so what happens at night is pushed once, in
 * one push per kind, at the first scan after they end. Nothing is dropped, and nobody's phone
 * buzzes at 03:00. The hour is Dutch time of the portal Clock.
 */

export const PUSH_QUEUE = 'web-push';
export const PUSH_DEAD = 'web-push-dead';

export interface PushJob {
  subscriptionId: number;
  category: PushCategory;
}

export interface PushScanContext {
  config: Readonly<PortalConfig>;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

/** The queue with the retry policy of the mail queues: a push service outage only delays. */
export async function pushQueue(ctx: Pick<PushScanContext, 'config' | 'jobs'>): Promise<JobQueue> {
  return await ensureMailQueue(ctx, PUSH_QUEUE, PUSH_DEAD);
}

/** The hour (0–23) in Amsterdam at `at`. */
export function dutchHour(at: Date): number {
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', hourCycle: 'h23' }).format(at));
}

/** Whether `at` falls in the quiet hours [from, until), which may wrap midnight (20 → 7). */
export function inQuietHours(at: Date, from: number | null, until: number | null): boolean {
  if (from === null || until === null || from === until) return false;
  const h = dutchHour(at);
  return from < until ? h >= from && h < until : h >= from || h < until;
}

/** The kinds of news in (since, until] that this account may see. */
export async function newsCategories(em: EntityManager, actor: Actor, parentId: number | null, since: Date, until: Date): Promise<Set<PushCategory>> {
  const found = new Set<PushCategory>();
  if (parentId !== null) {
    const news = await newsFor(em, parentId, since, until);
    if (news.children.some((c) => c.photos > 0)) found.add('photos');
    if (news.children.some((c) => c.diary > 0)) found.add('diary');
    if (news.children.some((c) => c.messages > 0)) found.add('replies');
    if (news.announcements.length > 0) found.add('announcements');
    if (news.decisions > 0) found.add('decisions');
    return found;
  }
  const readable = filterOf(em, actor, 'thread.read');
  const rows = await em.getConnection().execute<unknown[]>(
    `select 1 from message m join message_thread mt on mt.id = m.thread_id
      where m.author_side = 'parent' and m.created_at > ? and m.created_at <= ? and ${readable.sql} limit 1`,
    [since, until, ...readable.params],
  );
  if (rows.length) found.add('parentMessages');
  return found;
}

/** Queues the pushes that are due at `at` (default: the Clock's now); returns how many. */
export async function scanPush(ctx: PushScanContext, at?: Date): Promise<number> {
  const em = ctx.em().fork();
  const now = at ?? clockOf(em).now();
  const settings = await em.find(
    PushSetting,
    { account: { suspendedAt: null } },
    { populate: ['account', 'account.parent', 'account.staff'], orderBy: { account: 'asc' } },
  );
  let queued = 0;
  for (const setting of settings) {
    const chosen = setting.categories.filter(isPushCategory);
    if (chosen.length === 0 || inQuietHours(now, setting.quietFrom ?? null, setting.quietUntil ?? null)) continue;
    const account = setting.account;
    const subscriptions = await em.getConnection().execute<{ id: number }[]>(
      'select id from push_subscription where account_id = ? order by id',
      [account.id],
    );
    if (subscriptions.length === 0) continue;
    const since = setting.pushedUntil ?? now;
    if (since >= now) continue;
    const actor = actorForAccount(account);
    const news = await newsCategories(em, actor, account.parent?.id ?? null, since, now);
    const due = chosen.filter((c) => news.has(c));
    const jobs = await pushQueue(ctx);
    await em.transactional(async (tx) => {
      // Moved only if nobody else moved it meanwhile (two servers scanning at once).
      const moved = await tx.nativeUpdate(PushSetting, { account: account.id, pushedUntil: setting.pushedUntil }, { pushedUntil: now });
      if (moved !== 1 || due.length === 0) return;
      const data = subscriptions.flatMap((s) => due.map((category) => ({ subscriptionId: s.id, category }) satisfies PushJob));
      await jobs.sendMany(tx, PUSH_QUEUE, data);
      queued += data.length;
    });
  }
  return queued;
}
