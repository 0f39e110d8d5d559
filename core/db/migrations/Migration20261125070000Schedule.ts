import { Migration } from '@mikro-orm/migrations';

/** Contracted days, cancellations (afmelden), the credits they earn, and swap requests (ruilen). */
export class Migration20261125070000Schedule extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "contract_day" (
      "id" serial primary key,
      "child_id" int not null,
      "group_id" int not null,
      "weekday" int not null,
      "part" text check ("part" in ('day', 'morning', 'afternoon')) not null,
      "valid_from" date not null,
      "valid_until" date null,
      "created_at" timestamptz not null,
      constraint "contract_day_weekday_check" check (weekday >= 1 and weekday <= 5),
      constraint "contract_day_dates_check" check (valid_until is null or valid_until >= valid_from)
    )`);
    this.addSql(`create index "contract_day_child_id_index" on "contract_day" ("child_id")`);
    this.addSql(`create index "contract_day_group_id_index" on "contract_day" ("group_id")`);

    this.addSql(`create table "day_cancellation" (
      "id" serial primary key,
      "child_id" int not null,
      "group_id" int not null,
      "date" date not null,
      "part" text check ("part" in ('day', 'morning', 'afternoon')) not null,
      "cancelled_by" varchar(200) not null,
      "created_at" timestamptz not null
    )`);
    this.addSql(`create index "day_cancellation_group_id_date_index" on "day_cancellation" ("group_id", "date")`);
    this.addSql(`alter table "day_cancellation" add constraint "day_cancellation_child_id_date_part_unique" unique ("child_id", "date", "part")`);

    this.addSql(`create table "swap_credit" (
      "id" serial primary key,
      "child_id" int not null,
      "group_id" int not null,
      "cancellation_id" int not null,
      "source_date" date not null,
      "part" text check ("part" in ('day', 'morning', 'afternoon')) not null,
      "expires_on" date not null,
      "created_at" timestamptz not null
    )`);
    this.addSql(`create index "swap_credit_child_id_expires_on_index" on "swap_credit" ("child_id", "expires_on")`);
    this.addSql(`alter table "swap_credit" add constraint "swap_credit_cancellation_id_unique" unique ("cancellation_id")`);

    this.addSql(`create table "swap_request" (
      "id" serial primary key,
      "child_id" int not null,
      "group_id" int not null,
      "credit_id" int not null,
      "date" date not null,
      "part" text check ("part" in ('day', 'morning', 'afternoon')) not null,
      "status" text check ("status" in ('pending', 'approved', 'rejected', 'withdrawn')) not null default 'pending',
      "reason" varchar(500) null,
      "requested_by" varchar(200) not null,
      "requested_by_parent_id" int null,
      "decided_by" varchar(200) null,
      "decided_at" timestamptz null,
      "created_at" timestamptz not null,
      constraint "swap_request_reason_check" check (status <> 'rejected' or reason is not null)
    )`);
    this.addSql(`create index "swap_request_group_id_date_index" on "swap_request" ("group_id", "date")`);
    this.addSql(`create index "swap_request_child_id_index" on "swap_request" ("child_id")`);
    // A credit backs at most one open (pending or approved) request.
    this.addSql(`create unique index "swap_request_credit_open_unique" on "swap_request" ("credit_id") where "status" in ('pending', 'approved')`);

    for (const [table, col, ref, rule] of [
      ['contract_day', 'child_id', 'child', 'cascade'],
      ['contract_day', 'group_id', 'care_group', 'cascade'],
      ['day_cancellation', 'child_id', 'child', 'cascade'],
      ['day_cancellation', 'group_id', 'care_group', 'cascade'],
      ['swap_credit', 'child_id', 'child', 'cascade'],
      ['swap_credit', 'group_id', 'care_group', 'cascade'],
      ['swap_credit', 'cancellation_id', 'day_cancellation', 'cascade'],
      ['swap_request', 'child_id', 'child', 'cascade'],
      ['swap_request', 'group_id', 'care_group', 'cascade'],
      ['swap_request', 'credit_id', 'swap_credit', 'cascade'],
      ['swap_request', 'requested_by_parent_id', 'parent', 'set null'],
    ] as const) {
      this.addSql(
        `alter table "${table}" add constraint "${table}_${col}_foreign" foreign key ("${col}") references "${ref}" ("id") on update cascade on delete ${rule}`,
      );
    }
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "swap_request"`);
    this.addSql(`drop table if exists "swap_credit"`);
    this.addSql(`drop table if exists "day_cancellation"`);
    this.addSql(`drop table if exists "contract_day"`);
  }
}
