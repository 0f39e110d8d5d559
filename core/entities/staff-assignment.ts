import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Group } from './group.ts';
import { Location } from './location.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

/** Where a staff member works: one group, or a whole location (managers). Exactly one is set. */
export const StaffAssignment = defineEntity({
  name: 'StaffAssignment',
  tableName: 'staff_assignment',
  uniques: [{ properties: ['staff', 'location'] }, { properties: ['staff', 'group'] }],
  indexes: [{ properties: ['group'] }, { properties: ['location'] }],
  checks: [{ name: 'staff_assignment_one_target', expression: '(location_id is null) <> (group_id is null)' }],
  properties: {
    id: p.integer().primary(),
    staff: p.manyToOne(Staff).deleteRule('cascade'),
    location: p.manyToOne(Location).nullable().deleteRule('cascade'),
    group: p.manyToOne(Group).nullable().deleteRule('cascade'),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IStaffAssignment = InferEntity<typeof StaffAssignment>;
