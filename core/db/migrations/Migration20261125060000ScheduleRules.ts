import { Migration } from '@mikro-orm/migrations';

/** The rules for afmelden and ruilen: the organisation's row (location null) and overrides per location. */
export class Migration20261125060000ScheduleRules extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "schedule_rules" (
      "id" serial primary key,
      "location_id" int null,
      "cancel_before" varchar(5) null,
      "swap_notice_days" int null,
      "credit_valid_weeks" int null,
      "half_days_swappable" boolean null,
      "closed_on_public_holidays" boolean null,
      "updated_at" timestamptz not null,
      constraint "schedule_rules_cancel_before_check" check (cancel_before ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
      constraint "schedule_rules_swap_notice_days_check" check (swap_notice_days >= 0 and swap_notice_days <= 60),
      constraint "schedule_rules_credit_valid_weeks_check" check (credit_valid_weeks >= 1 and credit_valid_weeks <= 104)
    )`);
    this.addSql(`alter table "schedule_rules" add constraint "schedule_rules_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete cascade`);
    this.addSql(`create unique index "schedule_rules_location_unique" on "schedule_rules" ("location_id") where "location_id" is not null`);
    // One organisation row at most: a unique index over a constant for the rows without location.
    this.addSql(`create unique index "schedule_rules_organisation_unique" on "schedule_rules" ((true)) where "location_id" is null`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "schedule_rules"`);
  }
}
