import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Parent } from './parent.ts';
import { stamp } from '../clock.ts';

/**
 * What a parent tells the group about one child's day from the child card: that the child is
 * ill (ziekmelding, from a day until a day) and who picks the child up (ophaalbericht).
 */

/**
 * A ziekmelding: the child is ill from `fromDate` until `untilDate` (inclusive). It is not an
 * afmelding: it earns no swap credit and gives no place back (core/schedule/sick.ts says why).
 */
export const SickReport = defineEntity({
  name: 'SickReport',
  tableName: 'sick_report',
  indexes: [{ properties: ['child', 'untilDate'] }],
  checks: [{ name: 'sick_report_dates_check', expression: 'until_date >= from_date' }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    fromDate: p.date(),
    untilDate: p.date(),
    note: p.string().length(300).nullable(),
    reportedBy: p.string().length(200),
    reportedByParent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type ISickReport = InferEntity<typeof SickReport>;

/** Who picks a child up on a day, and when; one per child and day, changed in place. */
export const PickupNote = defineEntity({
  name: 'PickupNote',
  tableName: 'pickup_note',
  uniques: [{ properties: ['child', 'date'] }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    date: p.date(),
    name: p.string().length(100),
    relation: p.string().length(60).nullable(),
    time: p.string().length(5),
    note: p.string().length(300).nullable(),
    setBy: p.string().length(200),
    setByParent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    updatedAt: p.datetime().onCreate(stamp).onUpdate(stamp),
  },
});
export type IPickupNote = InferEntity<typeof PickupNote>;
