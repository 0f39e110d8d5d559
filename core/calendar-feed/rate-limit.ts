import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { onePerPool, postgresLimiter, type Verdict, type Window } from '../auth/throttle.ts';

/**
 * Fetches of calendar feeds per IP, in the login brake's table (core/auth/throttle.ts), so every
 * web process counts together. The token cannot be guessed (256 bits), so this is not about
 * guessing: it keeps one address from making the portal build feeds all day. A calendar app polls
 * a few times an hour; a household behind one address has a few parents and devices.
 */
export const DEFAULT_FEED_WINDOW: Window = { points: 120, seconds: 10 * 60 };

export interface FeedRateLimit {
  take(ip: string | null): Promise<Verdict>;
}

const instances = new WeakMap<Knex, Map<string, FeedRateLimit>>();

export function createFeedRateLimit(em: EntityManager, window: Window = DEFAULT_FEED_WINDOW): FeedRateLimit {
  const knex = em.getConnection().getKnex();
  return onePerPool(instances, knex, window, () => {
    const limiter = postgresLimiter(knex, `calendar-feed-${window.points}-${window.seconds}`, window.points, window.seconds);
    return {
      async take(ip) {
        try {
          await limiter.consume((ip ?? 'unknown').slice(0, 64));
          return { allowed: true, retryAfterSeconds: 0 };
        } catch (err) {
          // consume() rejects with a RateLimiterRes when over the limit; only other errors are real.
          if (err instanceof Error) throw err;
          const res = err as { msBeforeNext: number };
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
        }
      },
    };
  });
}
