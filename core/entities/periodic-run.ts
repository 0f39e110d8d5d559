import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * When each periodic task of the background work (core/jobs/periodic.ts) last ran, on any node:
 * every `portal serve` has the timers, and this mark (taken under an advisory lock) is how the
 * second node sees that the first has already done this period's run.
 */
export const PeriodicRun = defineEntity({
  name: 'PeriodicRun',
  tableName: 'periodic_run',
  properties: {
    name: p.string().length(50).primary(),
    lastRunAt: p.datetime(),
  },
});
export type IPeriodicRun = InferEntity<typeof PeriodicRun>;
