import { Migration } from '@mikro-orm/migrations';

/**
 * Every photo ends published, failed or deleted (core/photos/reaper.ts): `failure_code` says why
 * a photo failed in words staff get translated (the existing `failure_reason` stays the English
 * text for the CLI and logs), `attempts` counts how often the reaper queued it again, and
 * `queued_at` is when it last went into the queue, which the reaper's limit counts from. Photos
 * already processing count from their upload.
 */
export class Migration20261207080000PhotoProcessingLimits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "photo" add column "failure_code" varchar(40) null`);
    this.addSql(`alter table "photo" add column "attempts" int not null default 0`);
    this.addSql(`alter table "photo" add column "queued_at" timestamptz null`);
    this.addSql(`update "photo" set "queued_at" = "uploaded_at" where "state" = 'processing'`);
    this.addSql(`update "photo" set "failure_code" = 'corrupt' where "state" = 'failed'`);
    // The reaper's and the status command's look at the photos still in the pipeline.
    this.addSql(`create index "photo_processing_idx" on "photo" ("queued_at") where "state" = 'processing'`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "photo_processing_idx"`);
    this.addSql(`alter table "photo" drop column "queued_at"`);
    this.addSql(`alter table "photo" drop column "attempts"`);
    this.addSql(`alter table "photo" drop column "failure_code"`);
  }
}
