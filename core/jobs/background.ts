import { pruneApiTokens } from '../auth/api-tokens.ts';
import { pruneSessions } from '../auth/sessions.ts';
import { PasswordResetToken } from '../entities/account.ts';
import type { MailContext } from '../mail/account-mail.ts';
import { startAccountMailWorker } from '../mail/account-mail-worker.ts';
import { type DataExportContext, pruneDataExports, startDataExportWorker } from '../gdpr/self-service.ts';
import { startAnnouncementMailWorker } from '../messages/announcement-mail.ts';
import { startDecisionMailWorker } from '../schedule/decision-mail.ts';
import { scanNotifications, startNotificationWorker } from '../notifications/notify.ts';
import { startPushWorker } from '../push/deliver.ts';
import { scanPush } from '../push/scan.ts';
import { vapidKeys } from '../push/vapid.ts';
import { applyRetention } from '../retention/retention.ts';
import { type PhotoContext, startPhotoWorker } from '../photos/upload.ts';
import { systemActor } from '../actor.ts';
import { loggableMessage } from '../db/errors.ts';
import { clockOf } from '../clock.ts';

const HOUSEKEEPING_MS = 15 * 60_000;
const NOTIFY_SCAN_MS = 5 * 60_000;
/** Pushes are meant to be prompt: who is due is looked at every minute. */
const PUSH_SCAN_MS = 60_000;

/**
 * The background work of a running server: the mail queues (accounts, announcement copies,
 * notifications, swap decisions, with a scan every five minutes for who is due; Web Push, scanned every minute) and photo processing (with pg-boss maintenance:
 * expiring stuck jobs, archiving finished ones; composers.ts lists every kind of account
 * mail), and housekeeping: sessions past their idle or absolute end and used or expired reset
 * links are deleted every 15 minutes (they are refused anyway; this keeps the tables small).
 * Data past its retention period (every kind, retention.ts) goes once a day. Returns a function that stops the timers.
 */
export async function startBackgroundWork(ctx: MailContext & PhotoContext & Pick<DataExportContext, 'exports'>): Promise<() => void> {
  await ctx.jobs({ supervise: true });
  await startAccountMailWorker(ctx);
  await startPhotoWorker(ctx);
  await startAnnouncementMailWorker(ctx);
  await startDecisionMailWorker(ctx);
  await startNotificationWorker(ctx);
  await startDataExportWorker(ctx);
  // An install from before Web Push gets its VAPID key pair on this first start.
  await vapidKeys(ctx.em());
  await startPushWorker(ctx);
  // Who is due for a notification mail (immediate: every few minutes; digest: once a day).
  const notifications = async () => {
    try {
      const queued = await scanNotifications(ctx);
      if (queued) ctx.log.debug(`notifications: ${queued} parent(s) queued`);
    } catch (err) {
      ctx.log.warn(`notification scan failed: ${loggableMessage(err)}`);
    }
  };
  const pushes = async () => {
    try {
      const queued = await scanPush(ctx);
      if (queued) ctx.log.debug(`push: ${queued} push(es) queued`);
    } catch (err) {
      ctx.log.warn(`push scan failed: ${loggableMessage(err)}`);
    }
  };
  const housekeeping = async () => {
    try {
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
    } catch (err) {
      ctx.log.warn(`housekeeping failed: ${loggableMessage(err)}`);
    }
  };
  // Retention once a day (and at start): every kind of data past its period (retention.ts).
  const retention = async () => {
    try {
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
    } catch (err) {
      ctx.log.warn(`retention failed: ${loggableMessage(err)}`);
    }
  };
  await housekeeping();
  await retention();
  await notifications();
  const timers = [
    setInterval(housekeeping, HOUSEKEEPING_MS),
    setInterval(retention, 24 * 60 * 60_000),
    setInterval(notifications, NOTIFY_SCAN_MS),
    setInterval(pushes, PUSH_SCAN_MS),
  ];
  for (const t of timers) t.unref();
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
