/**
 * The portal's one source of the time. Core never asks the system for the date: it asks the
 * portal's clock, which `createPortal` makes once (the system clock in production) and which
 * tests pin to the instants that have broken portals before (a Saturday, Christmas, the night
 * the clocks change). Every use case gets it with its unit of work: `clockOf(em)`.
 *
 * Only this module reads the system time (a guard test fails elsewhere in core). Measuring how
 * long something took, or waiting with a time limit, is not reading the time: use
 * `performance.now()` or `deadlineAfter` below, which no pinned clock may stop.
 */
import type { Configuration } from '@mikro-orm/core';

export const PORTAL_TIME_ZONE = 'Europe/Amsterdam';

// One formatter each for the process: an Intl.DateTimeFormat holds native memory that the
// garbage collector does not see, so making one per call grows the RSS of a large import.
const amsterdamDay = new Intl.DateTimeFormat('en-CA', { timeZone: PORTAL_TIME_ZONE });
const amsterdamTime = new Intl.DateTimeFormat('en-GB', { timeZone: PORTAL_TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The calendar date of an instant in the organisation's time zone, as YYYY-MM-DD. */
export function dayOf(instant: Date): string {
  return amsterdamDay.format(instant);
}

/** The wall-clock time of an instant in the organisation's time zone, as HH:MM. */
export function timeOfDayOf(instant: Date): string {
  return amsterdamTime.format(instant);
}

/** The instant a calendar day begins in the organisation's time zone (midnight is never skipped there). */
export function startOfDay(date: string): Date {
  for (const offset of ['+01:00', '+02:00']) {
    const at = new Date(`${date}T00:00:00${offset}`);
    if (dayOf(at) === date && timeOfDayOf(at) === '00:00') return at;
  }
  throw new RangeError(`not a date: ${date}`);
}

export interface Clock {
  /** The current instant. */
  now(): Date;
  /** Today's date in the organisation's time zone (Europe/Amsterdam), YYYY-MM-DD. */
  today(): string;
  /** The wall-clock time in the organisation's time zone, HH:MM (deadlines are local). */
  timeOfDay(): string;
}

/** today() and timeOfDay() once, from now(). */
abstract class ClockBase implements Clock {
  abstract now(): Date;
  today(): string {
    return dayOf(this.now());
  }
  timeOfDay(): string {
    return timeOfDayOf(this.now());
  }
}

class SystemClock extends ClockBase {
  now(): Date {
    return new Date();
  }
}

/** The real time: what production runs on. */
export const systemClock: Clock = new SystemClock();

/**
 * A clock that tests set: it stands still until told otherwise (`set`, `advance`), or, made with
 * `{ running: true }`, runs on at the real pace from where it was set (a browser test, where a
 * reply must come after the message it answers). Accepts an ISO instant with an offset or `Z`, or
 * a Date.
 */
export class FixedClock extends ClockBase {
  #at: number;
  #since: number;
  readonly #running: boolean;
  constructor(at: Date | string, options: { running?: boolean } = {}) {
    super();
    this.#at = toMs(at);
    this.#since = performance.now();
    this.#running = options.running ?? false;
  }
  now(): Date {
    return new Date(this.#at + (this.#running ? performance.now() - this.#since : 0));
  }
  set(at: Date | string): this {
    this.#at = toMs(at);
    this.#since = performance.now();
    return this;
  }
  /** Moves the clock on by elapsed time (a day is 24 hours, also across a clock change). */
  advance(by: { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }): this {
    this.#at += (((by.days ?? 0) * 24 + (by.hours ?? 0)) * 60 + (by.minutes ?? 0)) * 60_000 + (by.seconds ?? 0) * 1000 + (by.ms ?? 0);
    return this;
  }
}

function toMs(at: Date | string): number {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(ms)) throw new Error(`not an instant: ${String(at)}`);
  if (typeof at === 'string' && !/(Z|[+-]\d\d:\d\d)$/.test(at)) throw new Error(`give the instant with its offset or Z: ${at}`);
  return ms;
}

/** A clock that starts at a given instant and runs on at the real pace from there (PORTAL_CLOCK). */
export class ShiftedClock extends FixedClock {
  constructor(start: Date | string) {
    super(start, { running: true });
  }
}

/**
 * The clock a process runs on: the system clock, or with `PORTAL_CLOCK=2026-12-25T08:00:00+01:00`
 * one that starts at that instant and runs on, to rehearse a day (Christmas, the night the clocks
 * change) or to pin the CLI in tests. Never set it in production: sessions, links and retention
 * follow it.
 */
export function clockFromEnv(env: Record<string, string | undefined>): Clock {
  const start = env.PORTAL_CLOCK?.trim();
  if (!start) return systemClock;
  try {
    return new ShiftedClock(start);
  } catch {
    throw new RangeError(`PORTAL_CLOCK: "${start}" is not an instant with its offset, e.g. 2026-12-25T08:00:00+01:00`);
  }
}

/**
 * A time limit for a wait (a lock, a queue to drain), measured on the monotonic clock so a
 * pinned or adjusted wall clock can neither stop nor shorten it.
 */
export function deadlineAfter(ms: number): { passed(): boolean; remainingMs(): number } {
  const end = performance.now() + ms;
  return { passed: () => performance.now() > end, remainingMs: () => Math.max(0, end - performance.now()) };
}

// The clock travels with the ORM's configuration, which every unit of work (EntityManager) of
// one portal shares: a use case that has `em` has the portal's clock, and so do the entities'
// creation timestamps (MikroORM hands `onCreate` the EntityManager).
const clocks = new WeakMap<Configuration, Clock>();

export function attachClock(config: Configuration, clock: Clock): void {
  clocks.set(config, clock);
}

/** The portal's clock, from any of its units of work. */
export function clockOf(em: { config: Configuration }): Clock {
  return clocks.get(em.config) ?? systemClock;
}

/** For entity timestamps: `p.datetime().onCreate(stamp)`. */
export function stamp(_entity: unknown, em: { config: Configuration }): Date {
  return clockOf(em).now();
}
