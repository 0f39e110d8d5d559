import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from './Migration20261125140000DeletedRows.ts';

/**
 * Read confirmations: an announcement may ask its parents to confirm they read it; each parent
 * confirms once (unique), and staff remind the others at most once per day, which the unique
 * (announcement, day) of the reminder table enforces even when two people click at once.
 */
export class Migration20261207092000AnnouncementConfirmations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "announcement" add column "confirmation_requested" boolean not null default false`);
    this.addSql(
      `create table "announcement_confirmation" ("id" bigserial primary key, "announcement_id" uuid not null, "parent_id" int not null, "confirmed_at" timestamptz not null)`,
    );
    this.addSql(`create index "announcement_confirmation_parent_id_index" on "announcement_confirmation" ("parent_id")`);
    this.addSql(
      `alter table "announcement_confirmation" add constraint "announcement_confirmation_announcement_id_parent_id_unique" unique ("announcement_id", "parent_id")`,
    );
    this.addSql(
      `alter table "announcement_confirmation" add constraint "announcement_confirmation_announcement_id_foreign" foreign key ("announcement_id") references "announcement" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "announcement_confirmation" add constraint "announcement_confirmation_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `create table "announcement_reminder" ("id" bigserial primary key, "announcement_id" uuid not null, "day" date not null, "sent_at" timestamptz not null, "sent_by_id" int null, "sent_by_label" varchar(200) not null, "recipients" int not null)`,
    );
    this.addSql(
      `alter table "announcement_reminder" add constraint "announcement_reminder_announcement_id_day_unique" unique ("announcement_id", "day")`,
    );
    this.addSql(
      `alter table "announcement_reminder" add constraint "announcement_reminder_announcement_id_foreign" foreign key ("announcement_id") references "announcement" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "announcement_reminder" add constraint "announcement_reminder_sent_by_id_foreign" foreign key ("sent_by_id") references "staff" ("id") on update cascade on delete set null`,
    );
    // Exported (core/export/tables.ts): their deletions reach the nightly export as well.
    this.addSql(deletionTriggerSql(['announcement_confirmation', 'announcement_reminder']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "announcement_reminder" cascade`);
    this.addSql(`drop table if exists "announcement_confirmation" cascade`);
    this.addSql(`alter table "announcement" drop column "confirmation_requested"`);
  }
}
