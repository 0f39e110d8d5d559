import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Group } from './group.ts';
import { Parent } from './parent.ts';
import { stamp } from '../clock.ts';

/** A day part: the whole day, or the morning or afternoon half (dagdeel). */
export const DAY_PARTS = ['day', 'morning', 'afternoon'] as const;
export type DayPart = (typeof DAY_PARTS)[number];

/** `cancelled`: an approved swap day the parent called off again (its credit is free once more). */
export const SWAP_STATUSES = ['pending', 'approved', 'rejected', 'withdrawn', 'cancelled'] as const;
export type SwapStatus = (typeof SWAP_STATUSES)[number];

/**
 * A contracted day of a child, as the planning system exports it: a weekday (ISO, 1 = Monday)
 * and day part in a group, from `validFrom` until `validUntil` (inclusive; null = open-ended).
 * `portal schedule import` replaces a child's rows as a whole.
 */
export const ContractDay = defineEntity({
  name: 'ContractDay',
  tableName: 'contract_day',
  indexes: [{ properties: ['child'] }, { properties: ['group'] }],
  checks: [
    { name: 'contract_day_weekday_check', expression: 'weekday >= 1 and weekday <= 5' },
    { name: 'contract_day_dates_check', expression: 'valid_until is null or valid_until >= valid_from' },
  ],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    group: p.manyToOne(Group).deleteRule('cascade'),
    weekday: p.integer(),
    part: p.enum(['day', 'morning', 'afternoon'] as DayPart[]),
    validFrom: p.date(),
    validUntil: p.date().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IContractDay = InferEntity<typeof ContractDay>;

/** A contracted day (or day part) the parent called off (afgemeld). One per child, date and part. */
export const DayCancellation = defineEntity({
  name: 'DayCancellation',
  tableName: 'day_cancellation',
  uniques: [{ properties: ['child', 'date', 'part'] }],
  indexes: [{ properties: ['group', 'date'] }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    group: p.manyToOne(Group).deleteRule('cascade'),
    date: p.date(),
    part: p.enum(['day', 'morning', 'afternoon'] as DayPart[]),
    cancelledBy: p.string().length(200),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IDayCancellation = InferEntity<typeof DayCancellation>;

/**
 * A ruildag tegoed: the right to one day (part) in the group, earned by cancelling a contracted
 * day in time, usable until `expiresOn` (source date + creditValidWeeks weeks at the moment of
 * cancelling; later rule changes do not move existing credits).
 */
export const SwapCredit = defineEntity({
  name: 'SwapCredit',
  tableName: 'swap_credit',
  indexes: [{ properties: ['child', 'expiresOn'] }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    group: p.manyToOne(Group).deleteRule('cascade'),
    cancellation: p.manyToOne(DayCancellation).deleteRule('cascade').unique(),
    sourceDate: p.date(),
    part: p.enum(['day', 'morning', 'afternoon'] as DayPart[]),
    expiresOn: p.date(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type ISwapCredit = InferEntity<typeof SwapCredit>;

/**
 * A request to use a credit on another day in the same group. A credit backs at most one
 * request that is pending or approved (partial unique index): rejected and withdrawn ones set
 * it free again.
 */
export const SwapRequest = defineEntity({
  name: 'SwapRequest',
  tableName: 'swap_request',
  indexes: [
    { properties: ['group', 'date'] },
    { properties: ['child'] },
    {
      name: 'swap_request_credit_open_unique',
      expression:
        `create unique index "swap_request_credit_open_unique" on "swap_request" ("credit_id") where "status" in ('pending', 'approved')`,
    },
  ],
  checks: [{ name: 'swap_request_reason_check', expression: "status <> 'rejected' or reason is not null" }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    group: p.manyToOne(Group).deleteRule('cascade'),
    credit: p.manyToOne(SwapCredit).deleteRule('cascade'),
    date: p.date(),
    part: p.enum(['day', 'morning', 'afternoon'] as DayPart[]),
    status: p.enum([...SWAP_STATUSES]).default('pending'),
    reason: p.string().length(500).nullable(),
    requestedBy: p.string().length(200),
    /** The parent who asked: the decision mail goes to them. */
    requestedByParent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    decidedBy: p.string().length(200).nullable(),
    decidedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type ISwapRequest = InferEntity<typeof SwapRequest>;
