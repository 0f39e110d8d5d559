import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import {
  ACCOUNT_MAIL_DEAD,
  ACCOUNT_MAIL_QUEUE,
  type AccountMailJob,
  ensureAccountMailQueue,
  type MailContext,
} from './account-mail.ts';
import { startAccountMailWorker } from './account-mail-worker.ts';
import { deadlineAfter } from '../clock.ts';

/**
 * What the admin sees of the mail queue (`portal mail status|retry|work`). pg-boss keeps jobs
 * in `pgboss.job` and moves finished ones to `pgboss.archive`; a mail that failed its last
 * retry is copied to the dead-letter queue, which is our list of undelivered mails.
 */

export interface MailFailure {
  jobId: string;
  email: string | null;
  kind: string;
  attempts: number;
  error: string | null;
  failedAt: string | null;
}

export interface MailStatus {
  /** Waiting for their first attempt. */
  queued: number;
  /** Being sent right now. */
  sending: number;
  /** Failed at least once, waiting for the next attempt (backoff). */
  retrying: number;
  sent: number;
  /** Gave up after the last retry: `portal mail retry` sends them again. */
  failed: number;
  /** Recipients who may have a mail twice (a send interrupted by a crash, then sent again). */
  possiblyDuplicated: number;
  retries: MailFailure[];
  failures: MailFailure[];
  /** Per recipient of an account mail, from the audit trail of each send and the queue. */
  recipients: RecipientMail[];
}

/**
 * One recipient's account mails. `possiblyDuplicated`: mails that may have arrived twice (the
 * copies carry the same Message-ID, and the newer mail says it replaces the earlier one).
 */
export interface RecipientMail {
  accountId: number;
  email: string;
  sent: number;
  pending: number;
  failed: number;
  possiblyDuplicated: number;
}

interface TrailRow {
  job_id: string;
  account_id: number;
  email: string;
  sending: number;
  sent: number;
  failed: number;
  timed_out: number;
}

/**
 * What each queued mail's audit trail says (account-mail-worker.ts writes it): a `mail.sending`
 * with neither `mail.sent` nor `mail.failed` after it is a send the worker did not live to
 * record, and a timed-out send may have arrived too. With a recorded send, each such attempt is
 * one possible extra copy.
 */
async function trails(em: EntityManager): Promise<TrailRow[]> {
  return (await em.getConnection().execute(
    `select t.job_id, t.account_id, coalesce(a.email, t.subject) as email, t.sending, t.sent, t.failed, t.timed_out
       from (select details->>'jobId' as job_id, max(account_id) as account_id, max(subject) as subject,
                    count(*) filter (where type = 'mail.sending')::int as sending,
                    count(*) filter (where type = 'mail.sent')::int as sent,
                    count(*) filter (where type = 'mail.failed')::int as failed,
                    count(*) filter (where type = 'mail.failed' and details->>'timedOut' = 'true')::int as timed_out
               from audit_event
              where type in ('mail.sending', 'mail.sent', 'mail.failed') and details ? 'jobId'
              group by 1) t
       left join account a on a.id = t.account_id`,
  )) as TrailRow[];
}

/** Possible copies of one mail beyond the first. */
export function possibleExtraCopies(t: Pick<TrailRow, 'sending' | 'sent' | 'failed' | 'timed_out'>): number {
  const unrecorded = Math.max(0, t.sending - t.sent - t.failed);
  return Math.max(0, t.sent + unrecorded + t.timed_out - 1);
}

interface JobRow {
  id: string;
  name: string;
  state: string;
  retry_count: number;
  data: AccountMailJob;
  output: { message?: string } | null;
  completed_on: string | Date | null;
  created_on: string | Date;
  email: string | null;
}

const jobSql = (table: 'job' | 'archive') => `
  select j.id, j.name, j.state, j.retry_count, j.data, j.output, j.completed_on, j.created_on, a.email
    from ${QUEUE_SCHEMA}.${table} j
    left join account a on a.id = (j.data->>'accountId')::int
   where j.name in ('${ACCOUNT_MAIL_QUEUE}', '${ACCOUNT_MAIL_DEAD}')`;

async function jobRows(em: EntityManager): Promise<JobRow[]> {
  const conn = em.getConnection();
  const live = (await conn.execute(jobSql('job'))) as JobRow[];
  const archived = (await conn.execute(jobSql('archive'))) as JobRow[];
  return [...live, ...archived];
}

const failure = (r: JobRow): MailFailure => ({
  jobId: r.id,
  email: r.email,
  kind: r.data.kind,
  attempts: r.retry_count + (r.name === ACCOUNT_MAIL_DEAD ? 0 : 1),
  error: r.output?.message ?? null,
  failedAt: r.completed_on ?? r.created_on ? new Date(r.completed_on ?? r.created_on).toISOString() : null,
});

export async function mailStatus(em: EntityManager, ctx: Pick<MailContext, 'config' | 'jobs'>, actor: Actor): Promise<MailStatus> {
  requireAdmin(actor, 'mail.status');
  await ensureAccountMailQueue(ctx); // creates pg-boss's tables on a database that never sent mail
  const rows = await jobRows(em);
  const main = rows.filter((r) => r.name === ACCOUNT_MAIL_QUEUE);
  const dead = rows.filter((r) => r.name === ACCOUNT_MAIL_DEAD && r.state === 'created');
  const retrying = main.filter((r) => r.state === 'retry');
  const recipients = new Map<number, RecipientMail>();
  const of = (accountId: number, email: string | null) => {
    const known = recipients.get(accountId);
    if (known) return known;
    const r = { accountId, email: email ?? `account ${accountId}`, sent: 0, pending: 0, failed: 0, possiblyDuplicated: 0 };
    recipients.set(accountId, r);
    return r;
  };
  for (const t of await trails(em)) {
    const r = of(t.account_id, t.email);
    if (t.sent > 0) r.sent++;
    r.possiblyDuplicated += possibleExtraCopies(t);
  }
  for (const j of main) if (['created', 'active', 'retry'].includes(j.state)) of(j.data.accountId, j.email).pending++;
  for (const j of dead) of(j.data.accountId, j.email).failed++;
  const list = [...recipients.values()].sort((a, b) => a.email.localeCompare(b.email));
  return {
    queued: main.filter((r) => r.state === 'created').length,
    sending: main.filter((r) => r.state === 'active').length,
    retrying: retrying.length,
    sent: main.filter((r) => r.state === 'completed').length,
    failed: dead.length,
    possiblyDuplicated: list.filter((r) => r.possiblyDuplicated > 0).length,
    recipients: list,
    retries: retrying.map(failure),
    failures: dead.map((r) => ({ ...failure(r), error: main.find((m) => m.data.accountId === r.data.accountId && m.state === 'failed')?.output?.message ?? null })),
  };
}

/**
 * Sends the dead-lettered mails again: each goes back on the queue as a new job (a new
 * secret is made when it is sent) and leaves the dead-letter list, in one transaction.
 */
export async function retryFailedMail(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
): Promise<{ requeued: number }> {
  requireAdmin(actor, 'mail.status');
  const jobs = await ensureAccountMailQueue(ctx);
  const dead = (await jobRows(em)).filter((r) => r.name === ACCOUNT_MAIL_DEAD && r.state === 'created');
  await em.transactional(async (tx) => {
    for (const row of dead) {
      await jobs.send(tx, ACCOUNT_MAIL_QUEUE, { ...row.data, requestedBy: actor.label });
      await tx
        .getConnection()
        .execute(
          `update ${QUEUE_SCHEMA}.job set state = 'completed', completed_on = now(), output = '{"message":"requeued by portal mail retry"}'::jsonb where name = ? and id = ?`,
          [ACCOUNT_MAIL_DEAD, row.id],
          'run',
          tx.getTransactionContext(),
        );
    }
  });
  return { requeued: dead.length };
}

/** States of the given jobs: to wait until each had its first attempt. */
export async function jobStates(em: EntityManager, ids: string[]): Promise<Map<string, { state: string; error: string | null }>> {
  const out = new Map<string, { state: string; error: string | null }>();
  // One array parameter (a PostgreSQL array literal), however many jobs: no list of thousands of placeholders.
  const idArray = `{${ids.join(',')}}`;
  for (const table of ['job', 'archive']) {
    const rows = (await em
      .getConnection()
      .execute(
        `select id, state, output from ${QUEUE_SCHEMA}.${table} where name = ? and id = any(?::uuid[])`,
        [ACCOUNT_MAIL_QUEUE, idArray],
      )) as { id: string; state: string; output: { message?: string } | null }[];
    for (const r of rows) out.set(r.id, { state: r.state, error: r.output?.message ?? null });
  }
  return out;
}

/**
 * Works the mail queue in this process until the given jobs (or, without ids, every mail due
 * now) had an attempt. For installations without a running server, and so that `portal
 * parents invite` can report what happened to its mails.
 */
export async function workMailQueue(
  ctx: MailContext,
  options: { ids?: string[]; timeoutMs?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ sent: number; failed: { jobId: string; error: string | null }[]; pending: number }> {
  const jobs = await ensureAccountMailQueue(ctx);
  const workerIds = await startAccountMailWorker(ctx);
  const deadline = deadlineAfter(options.timeoutMs ?? 30 * 60_000);
  const waitFor = async (ids: string[]) => {
    for (;;) {
      const states = await jobStates(ctx.em(), ids);
      const waiting = ids.filter((id) => ['created', 'active', undefined].includes(states.get(id)?.state));
      options.onProgress?.(ids.length - waiting.length, ids.length);
      if (waiting.length === 0 || deadline.passed()) {
        return {
          sent: ids.filter((id) => states.get(id)?.state === 'completed').length,
          failed: ids
            .filter((id) => ['retry', 'failed'].includes(states.get(id)?.state ?? ''))
            .map((id) => ({ jobId: id, error: states.get(id)?.error ?? null })),
          pending: waiting.length,
        };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  try {
    if (options.ids) return await waitFor(options.ids);
    const total = { sent: 0, failed: [] as { jobId: string; error: string | null }[], pending: 0 };
    for (;;) {
      const due = (await ctx
        .em()
        .getConnection()
        .execute(
          `select id from ${QUEUE_SCHEMA}.job where name = ? and state in ('created', 'active') and start_after <= now()`,
          [ACCOUNT_MAIL_QUEUE],
        )) as { id: string }[];
      if (due.length === 0) return total;
      const round = await waitFor(due.map((d) => d.id));
      total.sent += round.sent;
      total.failed.push(...round.failed);
      total.pending += round.pending;
      if (round.pending) return total;
    }
  } finally {
    for (const id of workerIds) await jobs.boss.offWork({ id });
  }
}
