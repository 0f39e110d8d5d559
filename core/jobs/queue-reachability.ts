import type PgBoss from 'pg-boss';

/**
 * Whether the job queue reaches its database, for /readyz (Portal.jobsState). pg-boss 10 rides
 * out an outage by itself: its pg.Pool drops dead connections and makes new ones, its workers and
 * its maintenance report the failure as an 'error' event and simply try again at their next
 * interval. But it never says that it is back. So on an error its own pool is asked `select 1`;
 * while that fails the queue counts as unreachable, and it is asked again every half second until
 * it answers. Timers here are infrastructure, not the portal's Clock (a pinned clock must not
 * stop them).
 */

export interface QueueReachabilityOptions {
  /** How often an unreachable queue is asked again; default 500 ms. */
  recheckMs?: number;
  /** A probe that hangs (a database that accepts but does not answer) counts as failed after this; default 3 s. */
  timeoutMs?: number;
}

/** Calls onChange(false) when the queue loses its database and onChange(true) when it has it again; returns a function that stops watching. */
export function watchQueueReachability(
  boss: Pick<PgBoss, 'on' | 'off' | 'getDb'>,
  onChange: (reachable: boolean) => void,
  options: QueueReachabilityOptions = {},
): () => void {
  const recheckMs = options.recheckMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 3_000;
  let reachable = true;
  let checking = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (): Promise<boolean> => {
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const answer = boss
        .getDb()
        .executeSql('select 1', [])
        .then(
          () => true,
          () => false,
        );
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timeout);
    }
  };

  const check = async () => {
    if (checking || stopped) return;
    checking = true;
    try {
      const ok = await probe();
      if (stopped) return;
      if (ok !== reachable) {
        reachable = ok;
        onChange(ok);
      }
      if (!ok) {
        timer = setTimeout(() => void check(), recheckMs);
        timer.unref();
      }
    } finally {
      checking = false;
    }
  };

  const onError = () => void check();
  boss.on('error', onError);
  return () => {
    stopped = true;
    clearTimeout(timer);
    boss.off('error', onError);
  };
}
