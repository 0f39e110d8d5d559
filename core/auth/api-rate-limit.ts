import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { onePerPool, postgresLimiter, type Verdict, type Window } from './throttle.ts';

/**
 * Requests per app token, in the login brake's table (throttle.ts): every web process counts
 * in the same place and a restart forgets nothing. A fixed window per token that simply
 * expires; the token login itself is braked per address+IP and per IP by the login brake.
 */

/** Generous for a person scrolling an album (thumbnails count too), tight for a script. */
export const DEFAULT_API_WINDOW: Window = { points: 600, seconds: 60 };

export interface ApiRateLimit {
  readonly window: Window;
  /** Counts one request of this token; refused when its window is used up. */
  take(tokenId: number): Promise<Verdict & { remaining: number }>;
}

const instances = new WeakMap<Knex, Map<string, ApiRateLimit>>();

export function createApiRateLimit(em: EntityManager, window: Window = DEFAULT_API_WINDOW): ApiRateLimit {
  const knex = em.getConnection().getKnex();
  return onePerPool(instances, knex, window, () => {
    const limiter = postgresLimiter(knex, `api-token-${window.points}-${window.seconds}`, window.points, window.seconds);
    return {
      window,
      async take(tokenId) {
        try {
          const res = await limiter.consume(String(tokenId));
          return { allowed: true, retryAfterSeconds: 0, remaining: res.remainingPoints };
        } catch (err) {
          // consume() rejects with a RateLimiterRes when over the limit; only other errors are real.
          if (err instanceof Error) throw err;
          const res = err as { msBeforeNext: number };
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)), remaining: 0 };
        }
      },
    };
  });
}
