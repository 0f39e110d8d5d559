import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261124000000Directory } from './Migration20261124000000Directory.ts';
import { Migration20261124120000Accounts } from './Migration20261124120000Accounts.ts';
import { Migration20261124230000Photos } from './Migration20261124230000Photos.ts';
import { Migration20261125010000Diary } from './Migration20261125010000Diary.ts';
import { Migration20261125020000Messages } from './Migration20261125020000Messages.ts';
import { Migration20261125030000Profile } from './Migration20261125030000Profile.ts';
import { Migration20261125040000Notifications } from './Migration20261125040000Notifications.ts';
import { Migration20261125060000ScheduleRules } from './Migration20261125060000ScheduleRules.ts';
import { Migration20261125070000Schedule } from './Migration20261125070000Schedule.ts';
import { Migration20261125090000AuditAppendOnly } from './Migration20261125090000AuditAppendOnly.ts';
import { Migration20261125100000ApiTokens } from './Migration20261125100000ApiTokens.ts';
import { Migration20261125120000DataExports } from './Migration20261125120000DataExports.ts';
import { Migration20261125130000SwapDayCancelled } from './Migration20261125130000SwapDayCancelled.ts';
import { Migration20261125140000DeletedRows } from './Migration20261125140000DeletedRows.ts';
import { Migration20261206000000SessionReauthenticated } from './Migration20261206000000SessionReauthenticated.ts';
import { Migration20261206100000ThreadChildReview } from './Migration20261206100000ThreadChildReview.ts';
import { Migration20261206110000PhotoViews } from './Migration20261206110000PhotoViews.ts';
import { Migration20261206120000StaffLifecycle } from './Migration20261206120000StaffLifecycle.ts';
import { Migration20261206130000LocationLrk } from './Migration20261206130000LocationLrk.ts';
import { Migration20261206130100ChildPreviousNumbers } from './Migration20261206130100ChildPreviousNumbers.ts';
import { Migration20261206140400DiaryItems } from './Migration20261206140400DiaryItems.ts';
import { Migration20261206140000PhotoVariants } from './Migration20261206140000PhotoVariants.ts';
import { Migration20261206140300PhotoAwaitingPublish } from './Migration20261206140300PhotoAwaitingPublish.ts';
import { Migration20261206140200ChildDay } from './Migration20261206140200ChildDay.ts';
import { Migration20261206140100Push } from './Migration20261206140100Push.ts';
import { Migration20261207040000PhotoAlbumIndex } from './Migration20261207040000PhotoAlbumIndex.ts';
import { Migration20261207041000PeriodicRuns } from './Migration20261207041000PeriodicRuns.ts';
import { Migration20261207080000PhotoProcessingLimits } from './Migration20261207080000PhotoProcessingLimits.ts';
import { Migration20261207090000ChildMentor } from './Migration20261207090000ChildMentor.ts';
import { Migration20261207091000CalendarFeed } from './Migration20261207091000CalendarFeed.ts';
import { Migration20261207092000AnnouncementConfirmations } from './Migration20261207092000AnnouncementConfirmations.ts';
import { Migration20261207160000Talks } from './Migration20261207160000Talks.ts';
import { Migration20261207161000YearBook } from './Migration20261207161000YearBook.ts';

/**
 * Every migration of core, oldest first. An explicit list rather than a folder glob: the
 * code always knows exactly which migrations it has, which is how we notice a database that
 * is ahead of it. Add new ones at the end; never edit one that has been released.
 */
export const coreMigrations: MigrationObject[] = [
  { name: 'Migration20261124000000Directory', class: Migration20261124000000Directory },
  { name: 'Migration20261124120000Accounts', class: Migration20261124120000Accounts },
  { name: 'Migration20261124230000Photos', class: Migration20261124230000Photos },
  { name: 'Migration20261125010000Diary', class: Migration20261125010000Diary },
  { name: 'Migration20261125020000Messages', class: Migration20261125020000Messages },
  { name: 'Migration20261125030000Profile', class: Migration20261125030000Profile },
  { name: 'Migration20261125040000Notifications', class: Migration20261125040000Notifications },
  { name: 'Migration20261125060000ScheduleRules', class: Migration20261125060000ScheduleRules },
  { name: 'Migration20261125070000Schedule', class: Migration20261125070000Schedule },
  { name: 'Migration20261125090000AuditAppendOnly', class: Migration20261125090000AuditAppendOnly },
  { name: 'Migration20261125100000ApiTokens', class: Migration20261125100000ApiTokens },
  { name: 'Migration20261125120000DataExports', class: Migration20261125120000DataExports },
  { name: 'Migration20261125130000SwapDayCancelled', class: Migration20261125130000SwapDayCancelled },
  { name: 'Migration20261125140000DeletedRows', class: Migration20261125140000DeletedRows },
  { name: 'Migration20261206000000SessionReauthenticated', class: Migration20261206000000SessionReauthenticated },
  { name: 'Migration20261206100000ThreadChildReview', class: Migration20261206100000ThreadChildReview },
  { name: 'Migration20261206110000PhotoViews', class: Migration20261206110000PhotoViews },
  { name: 'Migration20261206120000StaffLifecycle', class: Migration20261206120000StaffLifecycle },
  { name: 'Migration20261206130000LocationLrk', class: Migration20261206130000LocationLrk },
  { name: 'Migration20261206130100ChildPreviousNumbers', class: Migration20261206130100ChildPreviousNumbers },
  { name: 'Migration20261206140400DiaryItems', class: Migration20261206140400DiaryItems },
  { name: 'Migration20261206140000PhotoVariants', class: Migration20261206140000PhotoVariants },
  { name: 'Migration20261206140300PhotoAwaitingPublish', class: Migration20261206140300PhotoAwaitingPublish },
  { name: 'Migration20261206140200ChildDay', class: Migration20261206140200ChildDay },
  { name: 'Migration20261206140100Push', class: Migration20261206140100Push },
  { name: 'Migration20261207040000PhotoAlbumIndex', class: Migration20261207040000PhotoAlbumIndex },
  { name: 'Migration20261207041000PeriodicRuns', class: Migration20261207041000PeriodicRuns },
  { name: 'Migration20261207080000PhotoProcessingLimits', class: Migration20261207080000PhotoProcessingLimits },
  { name: 'Migration20261207090000ChildMentor', class: Migration20261207090000ChildMentor },
  { name: 'Migration20261207091000CalendarFeed', class: Migration20261207091000CalendarFeed },
  { name: 'Migration20261207092000AnnouncementConfirmations', class: Migration20261207092000AnnouncementConfirmations },
  { name: 'Migration20261207160000Talks', class: Migration20261207160000Talks },
  { name: 'Migration20261207161000YearBook', class: Migration20261207161000YearBook },
];
