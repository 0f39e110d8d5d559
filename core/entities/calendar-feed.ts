import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../clock.ts';
import { Parent } from './parent.ts';

/**
 * A parent's agenda-koppeling: the private calendar URL (core/calendar-feed). Only the SHA-256
 * of its token is kept: the URL is shown once, and a leaked database holds no working feed.
 * One row per parent: renewing replaces the hash, revoking deletes the row, so an old URL stops
 * working on the very next request.
 */
export const CalendarFeed = defineEntity({
  name: 'CalendarFeed',
  tableName: 'calendar_feed',
  properties: {
    id: p.integer().primary(),
    parent: p.oneToOne(Parent).unique('calendar_feed_parent_unique').deleteRule('cascade'),
    tokenHash: p.string().length(64).unique('calendar_feed_token_hash_unique'),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type ICalendarFeed = InferEntity<typeof CalendarFeed>;
