import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from './Migration20261125140000DeletedRows.ts';

/**
 * What parents tell the group about a child's day (core/entities/child-day.ts): ziekmeldingen
 * (from a day until a day) and ophaalberichten (who picks the child up, when; one per day).
 */
export class Migration20261206140200ChildDay extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "sick_report" (
      "id" serial primary key,
      "child_id" int not null,
      "from_date" date not null,
      "until_date" date not null,
      "note" varchar(300) null,
      "reported_by" varchar(200) not null,
      "reported_by_parent_id" int null,
      "created_at" timestamptz not null,
      constraint "sick_report_dates_check" check (until_date >= from_date)
    )`);
    this.addSql(`create index "sick_report_child_id_until_date_index" on "sick_report" ("child_id", "until_date")`);

    this.addSql(`create table "pickup_note" (
      "id" serial primary key,
      "child_id" int not null,
      "date" date not null,
      "name" varchar(100) not null,
      "relation" varchar(60) null,
      "time" varchar(5) not null,
      "note" varchar(300) null,
      "set_by" varchar(200) not null,
      "set_by_parent_id" int null,
      "updated_at" timestamptz not null
    )`);
    this.addSql(`alter table "pickup_note" add constraint "pickup_note_child_id_date_unique" unique ("child_id", "date")`);

    for (const [table, col, ref, rule] of [
      ['sick_report', 'child_id', 'child', 'cascade'],
      ['sick_report', 'reported_by_parent_id', 'parent', 'set null'],
      ['pickup_note', 'child_id', 'child', 'cascade'],
      ['pickup_note', 'set_by_parent_id', 'parent', 'set null'],
    ] as const) {
      this.addSql(
        `alter table "${table}" add constraint "${table}_${col}_foreign" foreign key ("${col}") references "${ref}" ("id") on update cascade on delete ${rule}`,
      );
    }
    // Exported (core/export/tables.ts): its deletions reach the nightly export as well.
    this.addSql(deletionTriggerSql(['sick_report', 'pickup_note']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "pickup_note"`);
    this.addSql(`drop table if exists "sick_report"`);
  }
}
