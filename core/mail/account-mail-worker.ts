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
  senderOf,
} from './account-mail.ts';
import { ACCOUNT_MAIL_COMPOSERS } from './composers.ts';

/**
 * Sending the account mails (account-mail.ts has the queue, the jobs and the composer contract):
 * each job's kind is looked up in ACCOUNT_MAIL_COMPOSERS, the explicit list of composers, so
 * whoever works the queue (the server, `portal mail work`, a test) has them all without
 * importing anything for its side effects.
 */

export type SendOutcome = { status: 'sent' } | { status: 'skipped' } | { status: 'failed'; error: Error };

/**
 * Sends queued mails: per mail the composer makes the secret and stores its hash (before the
 * send, so a mail never carries a secret the database does not know), then we send; a send that
 * fails revokes that secret, so the queue retries with a fresh one. The organisation and the
 * accounts are read once per batch and the deliveries recorded in one transaction: the hashing
 * should be the only thing that costs.
 */
export async function sendAccountMails(ctx: MailContext, jobs: AccountMailJob[]): Promise<SendOutcome[]> {
  const em = ctx.em();
  const organisation = await getOrganisation(em);
  const from = senderOf(ctx, organisation);
  const accounts = await em.find(
    Account,
    { id: { $in: [...new Set(jobs.map((j) => j.accountId))] } },
    { populate: ['parent', 'staff'] },
  );
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const delivered: Composed[] = [];
  const outcomes = await Promise.all(
    jobs.map(async (job): Promise<SendOutcome> => {
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
      try {
        await ctx.mail.send(composed.mail);
      } catch (err) {
        await ctx
          .em()
          .transactional(async (tx) => {
            await composed.revoke(tx);
            audit(tx, {
              type: 'mail.failed',
              actor: 'system:mail',
              accountId: job.accountId,
              subject: composed.mail.to,
              details: { error: (err as Error).message, kind: job.kind },
            });
          })
          .catch((e: Error) => ctx.log.error(`could not revoke the secret of account ${job.accountId}: ${e.message}`));
        return { status: 'failed', error: err as Error };
      }
      delivered.push(composed);
      return { status: 'sent' };
    }),
  );
  const hooks = delivered.flatMap((c) => (c.sent ? [c.sent] : []));
  if (hooks.length) {
    await ctx.em().transactional(async (tx) => {
      for (const sent of hooks) await sent(tx);
    });
  }
  return outcomes;
}

/** One mail; throws when it could not be sent. */
export async function sendAccountMail(ctx: MailContext, job: AccountMailJob): Promise<'sent' | 'skipped'> {
  const [outcome] = await sendAccountMails(ctx, [job]);
  if (outcome!.status === 'failed') throw outcome!.error;
  return outcome!.status;
}

/**
 * Works the account-mail queue: argon2 hashing is the expensive part, so a batch is processed
 * concurrently (the hasher caps how many hashes run at once). Each job succeeds or fails on
 * its own; a failure goes back to the queue for a retry with backoff.
 */
export async function startAccountMailWorker(ctx: MailContext, options: { batchSize?: number } = {}): Promise<string[]> {
  const jobs = await ensureAccountMailQueue(ctx);
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
