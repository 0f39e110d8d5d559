import type { Knex } from '@mikro-orm/postgresql';
import { type RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { onePerPool, postgresLimiter } from '../../core/auth/throttle.ts';
import type { HelpdeskConfig } from './settings.ts';

/**
 * How many questions the helpdesk takes, for the form and the app alike. Every question sends two
 * mails, so logged in or not it counts against: its account (per hour, from every IP together),
 * the anonymous limit of its IP (visitors only), its IP (everyone: a location's shared
 * connection) and the portal's hourly budget. The counters live in PostgreSQL beside the login
 * brake's (core/auth/throttle.ts), so every web process shares them and a restart forgets
 * nothing. They are taken in that order and the first that is full stops the rest: a refused
 * account or IP does not eat into the IP's or the portal's budget, so one account cannot use up
 * the helpdesk for everyone.
 */

export type HelpdeskLimit = 'account' | 'anonymousIp' | 'ip' | 'portal';

export type HelpdeskVerdict = { allowed: true } | { allowed: false; limit: HelpdeskLimit; retryAfterSeconds: number };

export interface HelpdeskLimits {
  /** Counts a question; says which limit refused it, if one did. */
  take(who: { accountId?: number | null; ip: string | null }): Promise<HelpdeskVerdict>;
}

const HOUR = 3600;
const cache = new WeakMap<object, Map<string, HelpdeskLimits>>();

export function helpdeskLimits(knex: Knex, config: Pick<HelpdeskConfig, 'anonymousPerHour' | 'perAccountPerHour' | 'perIpPerHour' | 'perHour'>): HelpdeskLimits {
  const settings = [config.anonymousPerHour, config.perAccountPerHour, config.perIpPerHour, config.perHour];
  return onePerPool(cache, knex, settings, () => makeLimits(knex, config));
}

function makeLimits(knex: Knex, config: Pick<HelpdeskConfig, 'anonymousPerHour' | 'perAccountPerHour' | 'perIpPerHour' | 'perHour'>): HelpdeskLimits {
  const limiter = (keyPrefix: string, points: number) => postgresLimiter(knex, keyPrefix, points, HOUR);
  const account = limiter('helpdesk-account', config.perAccountPerHour);
  // The prefix the visitors' limit always had: its counters carry over.
  const anonymousIp = limiter('helpdesk-ip', config.anonymousPerHour);
  const ip = limiter('helpdesk-ip-all', config.perIpPerHour);
  const portal = limiter('helpdesk-portal', config.perHour);

  /** consume() rejects with a RateLimiterRes when over the limit; other errors are real. */
  const consume = async (rl: RateLimiterPostgres, key: string, limit: HelpdeskLimit): Promise<HelpdeskVerdict> => {
    try {
      await rl.consume(key);
      return { allowed: true };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return { allowed: false, limit, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
    }
  };

  const limits: HelpdeskLimits = {
    async take(who) {
      const ipKey = (who.ip ?? 'unknown').slice(0, 64);
      const steps: [RateLimiterPostgres, string, HelpdeskLimit][] = [
        ...(who.accountId != null
          ? [[account, String(who.accountId), 'account'] as [RateLimiterPostgres, string, HelpdeskLimit]]
          : [[anonymousIp, ipKey, 'anonymousIp'] as [RateLimiterPostgres, string, HelpdeskLimit]]),
        [ip, ipKey, 'ip'],
        [portal, 'all', 'portal'],
      ];
      for (const [rl, key, limit] of steps) {
        const verdict = await consume(rl, key, limit);
        if (!verdict.allowed) return verdict;
      }
      return { allowed: true };
    },
  };
  return limits;
}
