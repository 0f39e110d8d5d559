import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Group } from './group.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

/** A kind, keyed by the planning system's child number. Dates are 'YYYY-MM-DD' strings. */
export const Child = defineEntity({
  name: 'Child',
  tableName: 'child',
  indexes: [
    {
      // Just the corrected children: the retired-number trigger joins only those.
      name: 'child_corrected_index',
      expression: 'create index "child_corrected_index" on "child" ("id") where "previous_numbers" is not null',
    },
    {
      // "Mijn mentorkinderen": the few children of one staff member.
      name: 'child_mentor_id_index',
      expression: 'create index "child_mentor_id_index" on "child" ("mentor_id") where "mentor_id" is not null',
    },
  ],
  properties: {
    id: p.integer().primary(),
    childNumber: p.string().length(50).unique(),
    /**
     * Numbers the child had before a correction (`portal children update --child-number`), oldest
     * first: a trigger refuses them for any other child, so a re-import under an old number
     * cannot create the child twice (Migration20261206130100ChildPreviousNumbers).
     */
    previousNumbers: p.json<string[]>().nullable(),
    firstName: p.string().length(100),
    infix: p.string().length(50).nullable(),
    lastName: p.string().length(100),
    birthDate: p.date(),
    leftOn: p.date().nullable(),
    /** The child's mentor, staff of one of its groups (core/directory/mentor.ts); emptied when the staff record goes. */
    mentor: p.manyToOne(Staff).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IChild = InferEntity<typeof Child>;

/** A child's stay in a group from startDate to endDate (inclusive; null = open-ended). */
export const Placement = defineEntity({
  name: 'Placement',
  tableName: 'placement',
  indexes: [{ properties: ['child', 'startDate'] }, { properties: ['group', 'startDate'] }],
  checks: [{ name: 'placement_dates', expression: 'end_date is null or end_date >= start_date' }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    group: p.manyToOne(Group),
    startDate: p.date(),
    endDate: p.date().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IPlacement = InferEntity<typeof Placement>;

export const CONSENT_SOURCES = ['cli', 'import', 'web'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/**
 * One statement of a child's photo consent. Rows are only ever added (a trigger refuses
 * updates): the newest row is the consent in force, the older ones are its history.
 */
export const ConsentRecord = defineEntity({
  name: 'ConsentRecord',
  tableName: 'consent_record',
  indexes: [{ properties: ['child', 'recordedAt'] }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    internal: p.boolean(),
    external: p.boolean(),
    source: p.enum(['cli', 'import', 'web'] as ConsentSource[]),
    recordedBy: p.string().length(200),
    note: p.string().length(500).nullable(),
    recordedAt: p.datetime().onCreate(stamp),
  },
});
export type IConsentRecord = InferEntity<typeof ConsentRecord>;
