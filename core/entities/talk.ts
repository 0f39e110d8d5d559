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
