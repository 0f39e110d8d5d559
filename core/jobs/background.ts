import '../mail/composers.ts';
import { startAccountMailWorker, type MailContext } from '../mail/account-mail.ts';

/**
 * The background work of a running server: the mail queue (with pg-boss maintenance:
 * expiring stuck jobs, archiving finished ones). composers.ts registers every kind of account
 * mail this process can send.
 */
export async function startBackgroundWork(ctx: MailContext): Promise<void> {
  await ctx.jobs({ supervise: true });
  await startAccountMailWorker(ctx);
}
