import type { Logger } from '../log.ts';
import type { EmbeddedPostgres } from './embedded-postgres.ts';

/**
 * Keeps the embedded PostgreSQL of a running server up. It runs as a detached daemon (see
 * embedded-postgres.ts), so no child-exit event tells us it died: its postmaster.pid is looked
 * at a few times a second instead (a file read and a kill(0), nothing on the database). When the
 * server is gone (OOM killer, kill -9, a crash) it is started again on the same port, with
 * backoff between failed attempts: the old server's processes may still hold its shared memory
 * for a moment, and a full disk or a broken cluster must not become a busy loop. The pools need
 * nothing from here: they drop dead connections and make new ones once the port answers again.
 *
 * Times here are infrastructure timers (setTimeout, performance.now), not the portal's Clock:
 * a pinned test clock must not stop a restart.
 */

export interface EmbeddedSupervisorOptions {
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How often the postmaster is looked at; default 250 ms. */
  checkEveryMs?: number;
  /** The wait after the first failed restart, doubled after each further one; default 500 ms. */
  firstBackoffMs?: number;
  /** The longest wait between attempts; default 10 s. */
  maxBackoffMs?: number;
}

export interface EmbeddedSupervisor {
  /** Stop watching; waits for a restart under way to finish (call before releasing the server). */
  stop(): Promise<void>;
}

/**
 * Why a start failed, on one line short enough for a log: postgres's own FATAL line when there is
 * one ("pre-existing shared memory block … is still in use"), else pg_ctl's lines joined.
 */
export function startFailure(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.findLast((l) => /\b(FATAL|PANIC):/.test(l));
  return (fatal ? fatal.slice(fatal.search(/\b(FATAL|PANIC):/)).replace(/\s+/g, ' ') : lines.join(' | ')).slice(0, 300);
}

/** The waits between restart attempts: first, twice that, … up to max. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(firstMs * 2 ** Math.max(0, attempt - 1), maxMs);
}

export function superviseEmbeddedPostgres(
  cluster: Pick<EmbeddedPostgres, 'state' | 'restart'>,
  port: number,
  options: EmbeddedSupervisorOptions,
): EmbeddedSupervisor {
  const { log } = options;
  const checkEveryMs = options.checkEveryMs ?? 250;
  const firstBackoffMs = options.firstBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  /** Said once, not on every check: the server runs, but not where our pools look. */
  let movedWarned = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      // unref: the web server keeps the process alive, this timer alone must not.
      timer = setTimeout(resolve, ms);
      timer.unref();
    });

  const recover = async (lostPid: number | undefined) => {
    const since = performance.now();
    log.warn(`embedded PostgreSQL${lostPid ? ` (pid ${lostPid})` : ''} is gone: restarting it on port ${port}`);
    for (let attempt = 1; !stopped; attempt++) {
      try {
        const outcome = await cluster.restart(port);
        const seconds = ((performance.now() - since) / 1000).toFixed(1);
        const who = outcome === 'running' ? 'started by another portal process' : `attempt ${attempt}`;
        log.info(`embedded PostgreSQL is back on port ${port} after ${seconds} s (${who}, pid ${cluster.state().pid ?? '?'})`);
        return;
      } catch (err) {
        const wait = backoffMs(attempt, firstBackoffMs, maxBackoffMs);
        log.error(`embedded PostgreSQL did not start again (attempt ${attempt}): ${startFailure(err)}; next attempt in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait);
      }
    }
  };

  const watch = async () => {
    let pid = cluster.state().pid;
    while (!stopped) {
      await sleep(checkEveryMs);
      if (stopped) break;
      const state = cluster.state();
      if (state.running) {
        pid = state.pid;
        if (state.port !== port && !movedWarned) {
          movedWarned = true;
          log.error(`embedded PostgreSQL runs on port ${state.port}, not on ${port} where this portal connects: restart the portal`);
        }
        continue;
      }
      try {
        await recover(pid);
      } catch (err) {
        // Never an unhandled rejection out of a background loop: say it, look again later.
        log.error(`embedded PostgreSQL supervision: ${startFailure(err)}`);
      }
      pid = cluster.state().pid;
    }
  };

  const running = watch();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}
