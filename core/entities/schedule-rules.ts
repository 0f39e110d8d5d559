import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Location } from './location.ts';
import { stamp } from '../clock.ts';

/**
 * The rules for afmelden and ruilen: one row for the organisation (location null) and at most
 * one per location that overrides some of them. A null column means "as the organisation"
 * (or, on the organisation's row, the built-in default): see core/schedule/rules.ts.
 */
export const ScheduleRules = defineEntity({
  name: 'ScheduleRules',
  tableName: 'schedule_rules',
  indexes: [
    {
      name: 'schedule_rules_location_unique',
      expression: 'create unique index "schedule_rules_location_unique" on "schedule_rules" ("location_id") where "location_id" is not null',
    },
    {
      // At most one organisation row: a unique index over a constant for the rows without location.
      name: 'schedule_rules_organisation_unique',
      expression: 'create unique index "schedule_rules_organisation_unique" on "schedule_rules" ((true)) where "location_id" is null',
    },
  ],
  checks: [
    { name: 'schedule_rules_cancel_before_check', expression: `cancel_before ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'` },
    { name: 'schedule_rules_swap_notice_days_check', expression: 'swap_notice_days >= 0 and swap_notice_days <= 60' },
    { name: 'schedule_rules_credit_valid_weeks_check', expression: 'credit_valid_weeks >= 1 and credit_valid_weeks <= 104' },
  ],
  properties: {
    id: p.integer().primary(),
    location: p.manyToOne(Location).nullable().deleteRule('cascade'),
    cancelBefore: p.string().length(5).nullable(),
    swapNoticeDays: p.integer().nullable(),
    creditValidWeeks: p.integer().nullable(),
    halfDaysSwappable: p.boolean().nullable(),
    closedOnPublicHolidays: p.boolean().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IScheduleRules = InferEntity<typeof ScheduleRules>;
