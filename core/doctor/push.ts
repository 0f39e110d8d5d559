import type { EntityManager } from '@mikro-orm/postgresql';
import { vapidKeyState } from '../push/vapid.ts';
import { type CheckResult, fail, ok, warn } from './report.ts';

/**
 * The Web Push key pair (core/push/vapid.ts): there, and one a browser accepts. Missing is only a
 * warning, because the next `portal serve` (or `portal init`) makes it; a pair that is not a P-256
 * key fails, because every push would then be refused by the push services. Read only: the
 * doctor makes no key.
 */
export async function checkPush(em: EntityManager): Promise<CheckResult> {
  const keys = await vapidKeyState(em);
  if (keys.state === 'missing') return warn('push', 'no VAPID key pair yet: the next `portal serve` or `portal init` makes it');
  if (keys.state === 'invalid') {
    return fail('push', `the VAPID key pair (server_secret "vapid") is unusable: ${keys.problem}; devices cannot be pushed to`);
  }
  return ok('push', `VAPID key pair present (public key ${keys.publicKey.slice(0, 12)}…, a P-256 point)`);
}
