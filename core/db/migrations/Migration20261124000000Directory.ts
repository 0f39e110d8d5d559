import { Migration } from '@mikro-orm/migrations';

/**
 * The organisation's directory: locations, groups, children with placements and consent
 * history, parents with their links to children, staff with their assignments.
 */
export class Migration20261124000000Directory extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "child" ("id" serial primary key, "child_number" varchar(50) not null, "first_name" varchar(100) not null, "infix" varchar(50) null, "last_name" varchar(100) not null, "birth_date" date not null, "left_on" date null, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`alter table "child" add constraint "child_child_number_unique" unique ("child_number")`);
    this.addSql(`create table "consent_record" ("id" serial primary key, "child_id" int not null, "internal" boolean not null, "external" boolean not null, "source" text check ("source" in ('cli', 'import', 'web')) not null, "recorded_by" varchar(200) not null, "note" varchar(500) null, "recorded_at" timestamptz not null)`);
    this.addSql(`create index "consent_record_child_id_recorded_at_index" on "consent_record" ("child_id", "recorded_at")`);
    this.addSql(`create table "organisation" ("id" int not null, "name" varchar(200) not null, "public_url" varchar(500) null, "helpdesk_email" varchar(320) null, "default_language" text check ("default_language" in ('nl', 'en')) not null default 'nl', "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "organisation_pkey" primary key ("id"))`);
    this.addSql(`create table "parent" ("id" serial primary key, "email" varchar(320) not null, "first_name" varchar(100) not null, "infix" varchar(50) null, "last_name" varchar(100) not null, "phone" varchar(30) null, "language" text check ("language" in ('nl', 'en')) not null default 'nl', "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`alter table "parent" add constraint "parent_email_unique" unique ("email")`);
    this.addSql(`create table "guardianship" ("id" serial primary key, "parent_id" int not null, "child_id" int not null, "created_at" timestamptz not null)`);
    this.addSql(`create index "guardianship_child_id_index" on "guardianship" ("child_id")`);
    this.addSql(`alter table "guardianship" add constraint "guardianship_parent_id_child_id_unique" unique ("parent_id", "child_id")`);
    this.addSql(`create table "staff" ("id" serial primary key, "email" varchar(320) not null, "first_name" varchar(100) not null, "infix" varchar(50) null, "last_name" varchar(100) not null, "phone" varchar(30) null, "role" text check ("role" in ('staff', 'manager', 'admin')) not null, "language" text check ("language" in ('nl', 'en')) not null default 'nl', "active" boolean not null default true, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`alter table "staff" add constraint "staff_email_unique" unique ("email")`);
    this.addSql(`create table "location" ("id" serial primary key, "name" varchar(200) not null, "address" varchar(500) null, "phone" varchar(30) null, "email" varchar(320) null, "opening_hours" varchar(500) null, "manager_id" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`create unique index "location_name_lower_unique" on "location" (lower("name"))`);
    this.addSql(`create table "care_group" ("id" serial primary key, "location_id" int not null, "name" varchar(200) not null, "capacity" int null, "archived_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`create unique index "care_group_location_name_unique" on "care_group" ("location_id", lower("name")) where "archived_at" is null`);
    this.addSql(`create table "placement" ("id" serial primary key, "child_id" int not null, "group_id" int not null, "start_date" date not null, "end_date" date null, "created_at" timestamptz not null, constraint placement_dates check (end_date is null or end_date >= start_date))`);
    this.addSql(`create index "placement_child_id_start_date_index" on "placement" ("child_id", "start_date")`);
    this.addSql(`create index "placement_group_id_start_date_index" on "placement" ("group_id", "start_date")`);
    this.addSql(`create table "staff_assignment" ("id" serial primary key, "staff_id" int not null, "location_id" int null, "group_id" int null, "created_at" timestamptz not null, constraint staff_assignment_one_target check ((location_id is null) <> (group_id is null)))`);
    this.addSql(`create index "staff_assignment_group_id_index" on "staff_assignment" ("group_id")`);
    this.addSql(`create index "staff_assignment_location_id_index" on "staff_assignment" ("location_id")`);
    this.addSql(`alter table "staff_assignment" add constraint "staff_assignment_staff_id_location_id_unique" unique ("staff_id", "location_id")`);
    this.addSql(`alter table "staff_assignment" add constraint "staff_assignment_staff_id_group_id_unique" unique ("staff_id", "group_id")`);
    this.addSql(`alter table "consent_record" add constraint "consent_record_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "guardianship" add constraint "guardianship_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "guardianship" add constraint "guardianship_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "location" add constraint "location_manager_id_foreign" foreign key ("manager_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "care_group" add constraint "care_group_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade`);
    this.addSql(`alter table "placement" add constraint "placement_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "placement" add constraint "placement_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade`);
    this.addSql(`alter table "staff_assignment" add constraint "staff_assignment_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "staff_assignment" add constraint "staff_assignment_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "staff_assignment" add constraint "staff_assignment_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "organisation" add constraint "organisation_single_row" check ("id" = 1)`);

    // Consent history is evidence: a statement once recorded is never changed. Corrections are
    // new rows. Deleting a child (erasure) may still remove its rows through the cascade.
    this.addSql(`create function consent_record_immutable() returns trigger language plpgsql as $$
      begin raise exception 'consent_record rows are never updated; record a new statement instead'; end $$`);
    this.addSql(`create trigger consent_record_no_update before update on "consent_record"
      for each row execute function consent_record_immutable()`);
  }

  override async down(): Promise<void> {
    for (const table of ['staff_assignment', 'placement', 'guardianship', 'consent_record', 'care_group', 'location', 'staff', 'parent', 'child', 'organisation']) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
    this.addSql('drop function if exists consent_record_immutable()');
  }
}
