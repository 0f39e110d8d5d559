import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Announcement, perParentOfAnnouncement } from './message.ts';
import { Staff } from './staff.ts';

/**
 * Read confirmations (core/messages/confirmations.ts). A parent confirms an announcement that
 * asks for it once; the row is the proof ("gelezen en begrepen") with its time.
 */
const confirmationMark = perParentOfAnnouncement();
export const AnnouncementConfirmation = defineEntity({
  name: 'AnnouncementConfirmation',
  tableName: 'announcement_confirmation',
  uniques: confirmationMark.uniques,
  indexes: confirmationMark.indexes,
  properties: {
    ...confirmationMark.properties,
    confirmedAt: p.datetime(),
  },
});
export type IAnnouncementConfirmation = InferEntity<typeof AnnouncementConfirmation>;

/**
 * One reminder to the parents who had not confirmed yet. At most one per announcement per day
 * (Europe/Amsterdam): the unique key is the lock, so two clicks at once send once.
 */
export const AnnouncementReminder = defineEntity({
  name: 'AnnouncementReminder',
  tableName: 'announcement_reminder',
  uniques: [{ properties: ['announcement', 'day'] }],
  properties: {
    id: p.bigint('number').primary(),
    announcement: p.manyToOne(Announcement).deleteRule('cascade'),
    day: p.date(),
    sentAt: p.datetime(),
    sentBy: p.manyToOne(Staff).nullable().deleteRule('set null'),
    /** The name as it was ("Hanna Werker", "cli:admin"), so a removed sender still has one. */
    sentByLabel: p.string().length(200),
    /** How many mails it queued. */
    recipients: p.integer(),
  },
});
export type IAnnouncementReminder = InferEntity<typeof AnnouncementReminder>;
