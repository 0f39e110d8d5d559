import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../clock.ts';
import { Child } from './child.ts';
import { Group } from './group.ts';
import { Parent } from './parent.ts';
import { Staff } from './staff.ts';

/**
 * One time slot for an oudergesprek (core/talks), published by staff for a group and booked by a
 * parent for one child. The use cases write it with conditional SQL (a booking is
 * `update … where child_id is null`); the database's constraints (Migration20261207160000Talks)
 * are what make a double booking impossible, also under parallel requests.
 */
export const TalkSlot = defineEntity({
  name: 'TalkSlot',
  tableName: 'talk_slot',
  // As Migration20261207160000Talks makes them (core/portal.test.ts: the schema generator finds nothing to change).
  indexes: [
    {
      // A child has at most one open talk: the constraint that parallel bookings meet.
      name: 'talk_slot_child_open_unique',
      expression:
        'create unique index "talk_slot_child_open_unique" on "talk_slot" ("child_id") where "child_id" is not null and "held_at" is null and "cancelled_at" is null and "lapsed_at" is null',
    },
    {
      name: 'talk_slot_group_staff_start_unique',
      expression: 'create unique index "talk_slot_group_staff_start_unique" on "talk_slot" ("group_id", "staff_id", "starts_at") where "cancelled_at" is null',
    },
    { name: 'talk_slot_group_id_starts_at_index', properties: ['group', 'startsAt'] },
    { name: 'talk_slot_booked_by_id_index', properties: ['bookedBy'] },
  ],
  checks: [
    { name: 'talk_slot_minutes_check', expression: '"minutes" >= 5 and "minutes" <= 240' },
    { name: 'talk_slot_where_check', expression: '"place" is not null or "video_url" is not null' },
    { name: 'talk_slot_video_https_check', expression: `"video_url" is null or starts_with("video_url", 'https://')` },
    {
      name: 'talk_slot_booking_check',
      expression: '("child_id" is null) = ("booking_id" is null) and ("child_id" is null) = ("booked_at" is null)',
    },
    { name: 'talk_slot_held_check', expression: '"held_at" is null or "child_id" is not null' },
  ],
  properties: {
    id: p.integer().primary(),
    group: p.manyToOne(Group).deleteRule('cascade'),
    /** Who holds the talk; the name stays (staffLabel) if the staff record goes. */
    staff: p.manyToOne(Staff).nullable().deleteRule('set null'),
    staffLabel: p.string().length(200),
    startsAt: p.datetime(),
    minutes: p.integer(),
    place: p.string().length(200).nullable(),
    /** https only (a check constraint). */
    videoUrl: p.string().length(500).nullable(),
    child: p.manyToOne(Child).nullable().deleteRule('set null'),
    bookedBy: p.manyToOne(Parent).nullable().deleteRule('set null'),
    bookedAt: p.datetime().nullable(),
    /** The booking's calendar UID (talk-<id>): kept when the parent moves the talk. */
    bookingId: p.uuid().nullable(),
    /** The invitation's SEQUENCE: raised by every move and the cancellation. */
    sequence: p.integer().default(0),
    /** The reminder of the day before is queued (once per booking). */
    remindedAt: p.datetime().nullable(),
    heldAt: p.datetime().nullable(),
    heldByLabel: p.string().length(200).nullable(),
    /**
     * A week after the talk without "gehouden" (core/talks/reminders.ts): no longer the child's open
     * talk, so a forgotten record never blocks the next booking. Staff can still record it.
     */
    lapsedAt: p.datetime().nullable(),
    /** Only when the organisation turns it on (talks.notes); staff only. */
    note: p.text().nullable(),
    /** Withdrawn by staff (a free slot). */
    cancelledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p.datetime().onCreate(stamp).onUpdate(stamp),
  },
});
export type ITalkSlot = InferEntity<typeof TalkSlot>;
