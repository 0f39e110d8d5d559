import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from './Migration20261125140000DeletedRows.ts';

/**
 * Oudergesprekken (core/talks): staff publish time slots for a group, a parent books one for a
 * child. A slot holds at most one child (its own column), and booking is a conditional update
 * (`where child_id is null`), so two parents clicking at once cannot both win. The partial
 * unique index gives a child at most one open talk (booked, not held, not withdrawn, not lapsed): a second
 * booking in parallel fails in the database, whatever the application checked before. A move is
 * one transaction (release the old slot, take the new one) and keeps the booking's id, the
 * calendar UID, with its SEQUENCE raised.
 */
export class Migration20261207160000Talks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "talk_slot" (
      "id" serial primary key,
      "group_id" int not null,
      "staff_id" int null,
      "staff_label" varchar(200) not null,
      "starts_at" timestamptz not null,
      "minutes" int not null,
      "place" varchar(200) null,
      "video_url" varchar(500) null,
      "child_id" int null,
      "booked_by_id" int null,
      "booked_at" timestamptz null,
      "booking_id" uuid null,
      "sequence" int not null default 0,
      "reminded_at" timestamptz null,
      "held_at" timestamptz null,
      "held_by_label" varchar(200) null,
      "lapsed_at" timestamptz null,
      "note" text null,
      "cancelled_at" timestamptz null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      constraint "talk_slot_minutes_check" check ("minutes" >= 5 and "minutes" <= 240),
      constraint "talk_slot_where_check" check ("place" is not null or "video_url" is not null),
      constraint "talk_slot_video_https_check" check ("video_url" is null or starts_with("video_url", 'https://')),
      constraint "talk_slot_booking_check" check (("child_id" is null) = ("booking_id" is null) and ("child_id" is null) = ("booked_at" is null)),
      constraint "talk_slot_held_check" check ("held_at" is null or "child_id" is not null),
      constraint "talk_slot_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade on delete cascade,
      constraint "talk_slot_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete set null,
      constraint "talk_slot_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete set null,
      constraint "talk_slot_booked_by_id_foreign" foreign key ("booked_by_id") references "parent" ("id") on update cascade on delete set null)`);
    // A child has at most one open talk: the constraint the parallel bookings meet.
    this.addSql(
      `create unique index "talk_slot_child_open_unique" on "talk_slot" ("child_id") where "child_id" is not null and "held_at" is null and "cancelled_at" is null and "lapsed_at" is null`,
    );
    // The same slot is not published twice (a double click, the CLI run again).
    this.addSql(
      `create unique index "talk_slot_group_staff_start_unique" on "talk_slot" ("group_id", "staff_id", "starts_at") where "cancelled_at" is null`,
    );
    this.addSql(`create index "talk_slot_group_id_starts_at_index" on "talk_slot" ("group_id", "starts_at")`);
    this.addSql(`create index "talk_slot_booked_by_id_index" on "talk_slot" ("booked_by_id")`);
    // Exported (core/export/tables.ts): their deletions reach the nightly export as well.
    this.addSql(deletionTriggerSql(['talk_slot']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "talk_slot" cascade`);
  }
}
