import { pruneApiTokens } from '../auth/api-tokens.ts';
import { pruneSessions } from '../auth/sessions.ts';
import { PasswordResetToken } from '../entities/account.ts';
import type { MailContext } from '../mail/account-mail.ts';
import { startAccountMailWorker } from '../mail/account-mail-worker.ts';
import { type DataExportContext, pruneDataExports, startDataExportWorker } from '../gdpr/self-service.ts';
import { startAnnouncementMailWorker } from '../messages/announcement-mail.ts';
import { startDecisionMailWorker } from '../schedule/decision-mail.ts';
import { startTalkMailWorker } from '../talks/mail.ts';
import { lapseUnrecorded, remindTomorrow } from '../talks/reminders.ts';
import { scanNotifications, startNotificationWorker } from '../notifications/notify.ts';
import { startPushWorker } from '../push/deliver.ts';
import { scanPush } from '../push/scan.ts';
import { vapidKeys } from '../push/vapid.ts';
import { applyRetention } from '../retention/retention.ts';
import { offerDueYearBooks } from '../yearbook/offer.ts';
import { type PhotoContext, startPhotoWorker } from '../photos/upload.ts';
import { reapStuckPhotos } from '../photos/reaper.ts';
import { sweepIncoming } from '../photos/sweep.ts';
import { systemActor } from '../actor.ts';
import { loggableMessage } from '../db/errors.ts';
import { clockOf } from '../clock.ts';
import { type PeriodicOutcome, type PeriodicTask, runPeriodic } from './periodic.ts';

const HOUSEKEEPING_MS = 15 * 60_000;
const NOTIFY_SCAN_MS = 5 * 60_000;
/** Pushes are meant to be prompt: who is due is looked at every minute. */
const PUSH_SCAN_MS = 60_000;
const RETENTION_MS = 24 * 60 * 60_000;
/** Retention is daily, but asked for hourly: a failed run (or a node that was down) is caught up within the hour. */
const RETENTION_TICK_MS = 60 * 60_000;
/** Photos stuck in processing are looked at every minute: none stays there more than a few (reaper.ts). */
const PHOTO_REAPER_MS = 60_000;
/** Uploads as received (GPS and all) and temp files older than an hour go hourly; asked every 10 minutes to catch up soon. */
const PHOTO_SWEEP_MS = 60 * 60_000;
const PHOTO_SWEEP_TICK_MS = 10 * 60_000;
/** Reminders of tomorrow's talks (oudergesprekken): looked at every quarter of an hour; each booking is reminded once. */
const TALK_REMINDER_MS = 15 * 60_000;

type BackgroundContext = MailContext & PhotoContext & Pick<DataExportContext, 'exports'>;

/** A periodic task and how often each node asks whether it is due (periodic.ts). */
export interface BackgroundTask extends PeriodicTask {
  tickMs: number;
  /** Run (when due) at start, before the server listens. */
  atStart: boolean;
}

/**
 * The periodic work of a server. Every node has every task; `runPeriodic` lets one run per
 * period across the nodes (the scans' windows are safe on their own as well: each parent's or
 * account's mark moves in one compare-and-set, so two scans never queue one window twice).
 * A task throws on failure, so its mark stays and the next tick tries again.
 */
export function backgroundTasks(ctx: BackgroundContext): BackgroundTask[] {
  // Who is due for a notification mail (immediate: every few minutes; digest: once a day).
  const notifications = async () => {
    const queued = await scanNotifications(ctx);
    if (queued) ctx.log.debug(`notifications: ${queued} parent(s) queued`);
  };
  const pushes = async () => {
    const queued = await scanPush(ctx);
    if (queued) ctx.log.debug(`push: ${queued} push(es) queued`);
  };
  const housekeeping = async () => {
    const em = ctx.em();
    const sessions = await pruneSessions(em, ctx.config.auth);
    const links = await em.nativeDelete(PasswordResetToken, {
      $or: [{ expiresAt: { $lte: clockOf(em).now() } }, { usedAt: { $ne: null } }],
    });
    const exports = await pruneDataExports(em, ctx);
    const appTokens = await pruneApiTokens(em);
    if (sessions || links || exports || appTokens) {
      ctx.log.debug(
        `housekeeping: ${sessions} session(s), ${links} reset link(s), ${exports} expired data export(s), ${appTokens} app token(s) removed`,
      );
    }
  };
  // The year book offered before access ends, to leavers the planning import marked (core/yearbook/offer.ts).
  const yearBookOffers = async () => {
    const mailed = await offerDueYearBooks(ctx.em(), ctx, systemActor('system:yearbook'));
    if (mailed) ctx.log.info('year book offers mailed', { mailed });
  };
  // Every kind of data past its period (retention.ts).
  const retention = async () => {
    const r = await applyRetention(ctx.em(), ctx, systemActor('system:retention'));
    ctx.log.info('retention applied', {
      diaryEntries: r.diaryEntries,
      threads: r.threads,
      announcements: r.announcements,
      auditEvents: r.auditEvents,
      sickReports: r.sickReports,
      pickupNotes: r.pickupNotes,
      deletions: r.deletions,
      leavers: r.leavers.children.length,
      photos: r.photos,
      photoFiles: r.photoFiles,
    });
  };
  const photoReaper = async () => {
    await reapStuckPhotos(ctx); // logs what it did
  };
  const photoSweep = async () => {
    const r = await sweepIncoming(ctx);
    if (r.removed || r.tempFiles) ctx.log.info('photo uploads swept', { removed: r.removed, kept: r.kept, tempFiles: r.tempFiles });
  };
  const talkReminders = async () => {
    const queued = await remindTomorrow(ctx.em(), ctx);
    if (queued) ctx.log.debug(`talks: ${queued} reminder(s) queued`);
    const lapsed = await lapseUnrecorded(ctx.em());
    if (lapsed) ctx.log.info('talks never recorded as held lapsed', { lapsed });
  };
  return [
    { name: 'photo-reaper', periodMs: PHOTO_REAPER_MS, tickMs: PHOTO_REAPER_MS, atStart: true, run: photoReaper },
    { name: 'photo-sweep', periodMs: PHOTO_SWEEP_MS, tickMs: PHOTO_SWEEP_TICK_MS, atStart: true, run: photoSweep },
    { name: 'housekeeping', periodMs: HOUSEKEEPING_MS, tickMs: HOUSEKEEPING_MS, atStart: true, run: housekeeping },
    { name: 'retention', periodMs: RETENTION_MS, tickMs: RETENTION_TICK_MS, atStart: true, run: retention },
    { name: 'yearbook-offers', periodMs: RETENTION_MS, tickMs: RETENTION_TICK_MS, atStart: false, run: yearBookOffers },
    { name: 'notification-scan', periodMs: NOTIFY_SCAN_MS, tickMs: NOTIFY_SCAN_MS, atStart: true, run: notifications },
    { name: 'push-scan', periodMs: PUSH_SCAN_MS, tickMs: PUSH_SCAN_MS, atStart: false, run: pushes },
    { name: 'talk-reminders', periodMs: TALK_REMINDER_MS, tickMs: TALK_REMINDER_MS, atStart: false, run: talkReminders },
  ];
}

const FAILED: Record<string, string> = {
  housekeeping: 'housekeeping failed',
  retention: 'retention failed',
  'notification-scan': 'notification scan failed',
  'push-scan': 'push scan failed',
  'photo-reaper': 'photo reaper failed',
  'photo-sweep': 'photo upload sweep failed',
  'talk-reminders': 'talk reminders failed',
  'yearbook-offers': 'year book offers failed',
};

/** One tick of a task: runs it when due and not running elsewhere; a failure is a warning, never a crash. */
export async function tick(ctx: Pick<BackgroundContext, 'em' | 'log'>, task: PeriodicTask): Promise<PeriodicOutcome | 'failed'> {
  try {
    const outcome = await runPeriodic(ctx.em(), task);
    if (outcome === 'busy') ctx.log.debug(`${task.name}: running on another node (or still running here)`);
    return outcome;
  } catch (err) {
    ctx.log.warn(`${FAILED[task.name] ?? `${task.name} failed`}: ${loggableMessage(err)}`);
    return 'failed';
  }
}

/**
 * The background work of a running server: the mail queues (accounts, announcement copies,
 * notifications, swap decisions, with a scan every five minutes for who is due; Web Push, scanned every minute) and photo processing (with pg-boss maintenance:
 * expiring stuck jobs, archiving finished ones; composers.ts lists every kind of account
 * mail), and housekeeping: sessions past their idle or absolute end and used or expired reset
 * links are deleted every 15 minutes (they are refused anyway; this keeps the tables small).
 * Data past its retention period (every kind, retention.ts) goes once a day. With several
 * nodes, each periodic task runs once per period between them (backgroundTasks, periodic.ts).
 * Returns a function that stops the timers.
 */
export async function startBackgroundWork(ctx: BackgroundContext): Promise<() => void> {
  await ctx.jobs({ supervise: true });
  await startAccountMailWorker(ctx);
  await startPhotoWorker(ctx);
  await startAnnouncementMailWorker(ctx);
  await startDecisionMailWorker(ctx);
  await startTalkMailWorker(ctx);
  await startNotificationWorker(ctx);
  await startDataExportWorker(ctx);
  // An install from before Web Push gets its VAPID key pair on this first start.
  await vapidKeys(ctx.em());
  await startPushWorker(ctx);
  const tasks = backgroundTasks(ctx);
  for (const task of tasks) if (task.atStart) await tick(ctx, task);
  const timers = tasks.map((task) => setInterval(() => void tick(ctx, task), task.tickMs));
  for (const t of timers) t.unref();
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
