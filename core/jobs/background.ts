import '../accounts/invitations.ts';
import { startAccountMailWorker, type MailContext } from '../mail/account-mail.ts';

/**
 * The background work of a running server: the mail queue (with pg-boss maintenance:
 * expiring stuck jobs, archiving finished ones). The imports above register the kinds of
 * account mail this process can send; a kind without a composer would fail loudly.
 */
export async function startBackgroundWork(ctx: MailContext): Promise<void> {
  await ctx.jobs({ supervise: true });
  await startAccountMailWorker(ctx);
}
