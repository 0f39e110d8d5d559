import { Account, PasswordResetToken, RateLimit, RecoveryCode, Session } from './account.ts';
import { ApiToken } from './api-token.ts';
import { AuditEvent } from './audit.ts';
import { CalendarFeed } from './calendar-feed.ts';
import { Child, ConsentRecord, Placement } from './child.ts';
import { DataExport } from './data-export.ts';
import { DeletedRow } from './deleted-row.ts';
import { DiaryEntry, DiaryEntryRevision, DiaryEntrySeen, DiaryItem } from './diary.ts';
import { Group } from './group.ts';
import { Location } from './location.ts';
import { AnnouncementConfirmation, AnnouncementReminder } from './announcement-confirmation.ts';
import { Announcement, AnnouncementRead, Message, MessageAttachment, MessageRead, MessageThread } from './message.ts';
import { Organisation } from './organisation.ts';
import { Guardianship, Parent } from './parent.ts';
import { Photo, PhotoDownload, PhotoTag, PhotoView } from './photo.ts';
import { PhotoVariant } from './photo-variant.ts';
import { PeriodicRun } from './periodic-run.ts';
import { ContractDay, DayCancellation, SwapCredit, SwapRequest } from './schedule.ts';
import { PickupNote, SickReport } from './child-day.ts';
import { ScheduleRules } from './schedule-rules.ts';
import { TalkSlot } from './talk.ts';
import { YearBook } from './year-book.ts';
import { EmailChange, ServerSecret } from './profile.ts';
import { PushSetting, PushSubscription } from './push.ts';
import { Staff } from './staff.ts';
import { StaffAssignment } from './staff-assignment.ts';

export * from './account.ts';
export * from './api-token.ts';
export * from './audit.ts';
export * from './calendar-feed.ts';
export * from './child.ts';
export * from './data-export.ts';
export * from './deleted-row.ts';
export * from './diary.ts';
export * from './group.ts';
export * from './location.ts';
export * from './message.ts';
export * from './organisation.ts';
export * from './parent.ts';
export * from './photo.ts';
export * from './photo-variant.ts';
export * from './periodic-run.ts';
export * from './profile.ts';
export * from './push.ts';
export * from './schedule.ts';
export * from './child-day.ts';
export * from './schedule-rules.ts';
export * from './staff.ts';
export * from './staff-assignment.ts';

/** Every entity of core, in one list for the ORM. Plugins add theirs beside it. */
export const coreEntities = [
  Organisation,
  Location,
  Group,
  Child,
  Placement,
  ConsentRecord,
  Parent,
  Guardianship,
  Staff,
  StaffAssignment,
  Account,
  Session,
  PasswordResetToken,
  RecoveryCode,
  AuditEvent,
  RateLimit,
  Photo,
  PhotoTag,
  PhotoDownload,
  PhotoView,
  PhotoVariant,
  EmailChange,
  ServerSecret,
  DiaryEntry,
  DiaryEntryRevision,
  DiaryEntrySeen,
  DiaryItem,
  MessageThread,
  Message,
  MessageRead,
  Announcement,
  AnnouncementRead,
  AnnouncementConfirmation,
  AnnouncementReminder,
  MessageAttachment,
  ScheduleRules,
  DataExport,
  DeletedRow,
  ApiToken,
  ContractDay,
  DayCancellation,
  SwapCredit,
  SwapRequest,
  SickReport,
  PickupNote,
  PushSubscription,
  PushSetting,
  PeriodicRun,
  CalendarFeed,
  TalkSlot,
  YearBook,
];
