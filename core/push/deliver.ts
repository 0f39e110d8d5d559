import type { EntityManager } from '@mikro-orm/postgresql';
import webpush from 'web-push';
import type { PortalConfig } from '../../config/schema.ts';
import { clockOf } from '../clock.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { PushSubscription } from '../entities/push.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { publicBaseUrl, senderOf } from '../mail/account-mail.ts';
import { payloadFor } from './categories.ts';
import { PUSH_QUEUE, type PushJob, pushQueue } from './scan.ts';
import { vapidKeys, vapidSubject } from './vapid.ts';

/**
 * Sends one queued push. The job holds only a subscription id and a kind of news: the endpoint,
 * the browser's keys and the VAPID key are read from the database when it is sent, so the queue
 * holds nothing a reader could use. The payload is a short title and a link (categories.ts),
 * encrypted for the browser (aes128gcm, RFC 8291) by web-push.
 *
 * The push service's answer decides what follows: 404 or 410 means the browser dropped the
 * subscription, which is removed; any other failure (5xx, 429, a timeout, no network) throws, so
 * the queue retries with backoff (the mail queues' policy) and an outage loses nothing.
 */

export interface PushContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

/** How long a push service keeps a push for a phone that is off: news older than a day is old. */
const TTL_SECONDS = 24 * 60 * 60;

export async function sendPush(ctx: Pick<PushContext, 'config' | 'em'>, job: PushJob): Promise<'sent' | 'removed' | 'gone'> {
  const em = ctx.em().fork();
  const subscription = await em.findOne(PushSubscription, { id: job.subscriptionId }, { populate: ['account.parent', 'account.staff'] });
  if (!subscription) return 'gone';
  const account = subscription.account;
  const language = account.parent?.language ?? account.staff?.language ?? 'nl';
  const organisation = await getOrganisation(em);
  const base = publicBaseUrl(ctx, organisation.publicUrl);
  const keys = await vapidKeys(em);
  const payload = payloadFor(job.category, language, base);
  // web-push encrypts and signs; the request itself goes out with fetch, which also speaks
  // plain http to the loopback stand-in in tests (web-push's own sender is https only).
  const request = webpush.generateRequestDetails(
    { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
    JSON.stringify(payload),
    {
      vapidDetails: { subject: vapidSubject(base, senderOf(ctx, organisation)), publicKey: keys.publicKey, privateKey: keys.privateKey },
      TTL: TTL_SECONDS,
      contentEncoding: 'aes128gcm',
      // One push per kind replaces the previous unseen one on the device.
      topic: job.category,
    },
  );
  let status: number;
  try {
    const response = await fetch(request.endpoint, {
      method: 'POST',
      headers: request.headers as Record<string, string>,
      body: request.body ?? null,
      redirect: 'error',
      signal: AbortSignal.timeout(15_000),
    });
    status = response.status;
    await response.body?.cancel();
  } catch (err) {
    // Not the error's message: it can carry the endpoint, a capability URL of the browser.
    throw new Error(`push service unreachable (${(err as Error).name})`);
  }
  if (status === 404 || status === 410) {
    await em.nativeDelete(PushSubscription, { id: subscription.id });
    return 'removed';
  }
  if (status < 200 || status >= 300) throw new Error(`push service answered ${status}`);
  await em.nativeUpdate(PushSubscription, { id: subscription.id }, { lastSentAt: clockOf(em).now() });
  return 'sent';
}

/** The worker of a running server. */
export async function startPushWorker(ctx: PushContext): Promise<string> {
  const jobs = await pushQueue(ctx);
  return await jobs.workEach<PushJob>(
    PUSH_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 2 },
    (job) => sendPush(ctx, job),
    (m) => ctx.log.warn(m),
    (job) => `push ${job.category} to device ${job.subscriptionId}`,
  );
}
