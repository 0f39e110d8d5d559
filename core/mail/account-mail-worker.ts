import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type PgBoss from 'pg-boss';
import { audit } from '../audit.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { Account } from '../entities/account.ts';
import {
  ACCOUNT_MAIL_QUEUE,
  type AccountMailJob,
  type Composed,
  ensureAccountMailQueue,
  type MailContext,
  messageIdFor,
  senderOf,
  sendTimeoutMs,
} from './account-mail.ts';
import { ACCOUNT_MAIL_COMPOSERS } from './composers.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { MailTimeout, sendWithin } from './transport.ts';

/**
 * Sending the account mails (account-mail.ts has the queue, the jobs and the composer contract):
 * each job's kind is looked up in ACCOUNT_MAIL_COMPOSERS, the explicit list of composers, so
 * whoever works the queue (the server, `portal mail work`, a test) has them all without
 * importing anything for its side effects.
 */

export type SendOutcome = { status: 'sent' } | { status: 'skipped' } | { status: 'failed'; error: Error };

/** The audit trail of one queued mail so far (queue-status.ts reads the same records). */
interface Trail {
  sending: number;
  sent: number;
  failed: number;
}

/** The mail.* records of these jobs: a job already recorded as sent is not sent again. */
async function trailsOf(em: EntityManager, jobIds: string[]): Promise<Map<string, Trail>> {
  const out = new Map<string, Trail>();
  if (jobIds.length === 0) return out;
  const rows = (await em.getConnection().execute(
    `select details->>'jobId' as job_id,
            count(*) filter (where type = 'mail.sending')::int as sending,
            count(*) filter (where type = 'mail.sent')::int as sent,
            count(*) filter (where type = 'mail.failed')::int as failed
       from audit_event
      where type in ('mail.sending', 'mail.sent', 'mail.failed') and details->>'jobId' = any(?::text[])
      group by 1`,
    [`{${jobIds.join(',')}}`],
  )) as { job_id: string; sending: number; sent: number; failed: number }[];
  for (const r of rows) out.set(r.job_id, { sending: r.sending, sent: r.sent, failed: r.failed });
  return out;
}

/**
 * Sends queued mails, each on its own: the composer makes the secret and stores its hash (before
 * the send, so a mail never carries a secret the database does not know); a `mail.sending`
 * record is committed; the mail goes out, time-limited; then `mail.sent` (with the composer's
 * own record) is committed at once, or on failure the secret is revoked and `mail.failed`
 * written. So a crash can leave at most the mails in flight at that moment unrecorded: their
 * job comes back (expiry), sees a `mail.sending` without an outcome and sends once more with
 * the same Message-ID (one possible copy, which `portal mail status` shows); a job whose mail
 * was recorded as sent before the crash is not sent again.
 *
 * `jobIds` (the queue's ids, in the order of `jobs`) give the Message-IDs and the trail; a mail
 * sent without a queue job (tests) gets a fresh id.
 */
export async function sendAccountMails(ctx: MailContext, jobs: AccountMailJob[], jobIds?: string[]): Promise<SendOutcome[]> {
  const em = ctx.em();
  const organisation = await getOrganisation(em);
  const from = senderOf(ctx, organisation);
  const accounts = await em.find(
    Account,
    { id: { $in: [...new Set(jobs.map((j) => j.accountId))] } },
    { populate: ['parent', 'staff'] },
  );
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const trails = await trailsOf(em, jobIds ?? []);
  const timeout = sendTimeoutMs(ctx.config);
  return await Promise.all(
    jobs.map(async (job, i): Promise<SendOutcome> => {
      const jobId = jobIds?.[i] ?? randomUUID();
      const trail = trails.get(jobId) ?? { sending: 0, sent: 0, failed: 0 };
      // Sent and recorded, but the worker died before the queue heard of it: done already.
      if (trail.sent > 0) return { status: 'skipped' };
      const composer = ACCOUNT_MAIL_COMPOSERS[job.kind];
      if (!composer) return { status: 'failed', error: new Error(`no composer for account mail "${job.kind}"`) };
      const account = byId.get(job.accountId);
      // Gone, or suspended since the request: nothing to send, and nothing to retry.
      if (!account || account.suspendedAt) return { status: 'skipped' };
      let composed: Composed;
      try {
        composed = await composer({ em: ctx.em(), ctx, account, organisation, from, job });
      } catch (err) {
        return { status: 'failed', error: err as Error };
      }
      const messageId = messageIdFor(jobId, from);
      const mail = { ...composed.mail, messageId };
      const about = { jobId, kind: job.kind, messageId };
      // An earlier attempt reached the server's door and nobody knows what happened next.
      const interrupted = trail.sending - trail.failed;
      await ctx.em().transactional(async (tx) => {
        audit(tx, {
          type: 'mail.sending',
          actor: 'system:mail',
          accountId: job.accountId,
          subject: mail.to,
          details: { ...about, attempt: trail.sending + 1, ...(interrupted > 0 ? { afterInterruptedSend: true } : {}) },
        });
      });
      try {
        await sendWithin(ctx.mail, mail, timeout);
      } catch (err) {
        await ctx
          .em()
          .transactional(async (tx) => {
            await composed.revoke(tx);
            audit(tx, {
              type: 'mail.failed',
              actor: 'system:mail',
              accountId: job.accountId,
              subject: mail.to,
              // A timed-out send may still arrive: status counts it as possibly sent.
              details: { ...about, error: (err as Error).message, ...(err instanceof MailTimeout ? { timedOut: true } : {}) },
            });
          })
          .catch((e: Error) => ctx.log.error(`could not revoke the secret of account ${job.accountId}: ${e.message}`));
        return { status: 'failed', error: err as Error };
      }
      await ctx.em().transactional(async (tx) => {
        await composed.sent?.(tx);
        audit(tx, { type: 'mail.sent', actor: 'system:mail', accountId: job.accountId, subject: mail.to, details: about });
      });
      return { status: 'sent' };
    }),
  );
}

/** One mail; throws when it could not be sent. */
export async function sendAccountMail(ctx: MailContext, job: AccountMailJob, jobId?: string): Promise<'sent' | 'skipped'> {
  const [outcome] = await sendAccountMails(ctx, [job], jobId ? [jobId] : undefined);
  if (outcome!.status === 'failed') throw outcome!.error;
  return outcome!.status;
}

/**
 * Works the account-mail queue: argon2 hashing is the expensive part, so a batch is processed
 * concurrently (the hasher caps how many hashes run at once). Each job succeeds or fails on
 * its own; a failure goes back to the queue for a retry with backoff. A dead worker's jobs are
 * taken back as soon as they expire (reapExpired, at start and every few seconds), so after a
 * crash the mails go out about `mail.jobExpirySeconds` later.
 */
const reaping = new WeakSet<JobQueue>();

export async function startAccountMailWorker(ctx: MailContext, options: { batchSize?: number } = {}): Promise<string[]> {
  const jobs = await ensureAccountMailQueue(ctx);
  const reap = async () => {
    const n = await jobs.reapExpired(ACCOUNT_MAIL_QUEUE);
    if (n) ctx.log.warn(`${n} account mail(s) were left mid-send by a stopped worker; sending them again`);
  };
  await reap();
  // One timer per queue connection, however often a worker is started on it (`portal mail work`
  // in a loop); often enough that the expiry, not this, is what a parent waits for.
  if (!reaping.has(jobs)) {
    reaping.add(jobs);
    jobs.every(Math.max(1, Math.min(5, ctx.config.mail.jobExpirySeconds / 4)) * 1000, reap);
  }
  // Batches several times the hashing concurrency keep every core busy; two fetch loops let one
  // batch's last hashes overlap the next batch's first, instead of idling at each batch's tail.
  const batchSize = options.batchSize ?? ctx.config.auth.maxConcurrentHashes * 8;
  const loop = () =>
    jobs.work<AccountMailJob>(
      ACCOUNT_MAIL_QUEUE,
      { batchSize, pollingIntervalSeconds: 0.5 },
      async (batch: PgBoss.Job<AccountMailJob>[]) => {
        const outcomes = await sendAccountMails(
          ctx,
          batch.map((job) => job.data),
          batch.map((job) => job.id),
        );
        // pg-boss completes the batch when this returns; the failed ones are marked first (their
        // state then is no longer active, so the completion passes them by) and retried later.
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome.status !== 'failed') continue;
          const job = batch[i]!;
          ctx.log.warn(`mail ${job.data.kind} to account ${job.data.accountId} failed: ${outcome.error.message}`);
          await jobs.boss.fail(ACCOUNT_MAIL_QUEUE, job.id, { message: outcome.error.message });
        }
      },
    );
  return [await loop(), await loop()];
}
