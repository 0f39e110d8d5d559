import { Migration } from '@mikro-orm/migrations';

/**
 * The schriftje: entries per child and day (one staff entry per child per day, any number from
 * parents), every saved state of an entry, and which staff member has seen which parent entry.
 */
export class Migration20261125010000Diary extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "diary_entry" ("id" uuid not null, "child_id" int not null, "day" date not null, "author_kind" text check ("author_kind" in ('staff', 'parent')) not null, "staff_id" int null, "parent_id" int null, "author_label" varchar(200) not null, "text" text not null, "lines" jsonb not null, "photo_ids" jsonb not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "diary_entry_pkey" primary key ("id"), constraint diary_entry_author check ((author_kind = 'parent' and staff_id is null) or (author_kind = 'staff' and parent_id is null)))`);
    this.addSql(`create index "diary_entry_child_id_day_index" on "diary_entry" ("child_id", "day")`);
    this.addSql(`create unique index "diary_entry_staff_child_day_unique" on "diary_entry" ("child_id", "day") where "author_kind" = 'staff'`);
    this.addSql(`create table "diary_entry_seen" ("id" serial primary key, "entry_id" uuid not null, "staff_id" int not null, "seen_at" timestamptz not null)`);
    this.addSql(`create index "diary_entry_seen_staff_id_index" on "diary_entry_seen" ("staff_id")`);
    this.addSql(`alter table "diary_entry_seen" add constraint "diary_entry_seen_entry_id_staff_id_unique" unique ("entry_id", "staff_id")`);
    this.addSql(`create table "diary_entry_revision" ("id" bigserial primary key, "entry_id" uuid not null, "version" int not null, "text" text not null, "lines" jsonb not null, "photo_ids" jsonb not null, "edited_by" varchar(200) not null, "edited_by_name" varchar(200) not null, "edited_at" timestamptz not null)`);
    this.addSql(`create index "diary_entry_revision_entry_id_version_index" on "diary_entry_revision" ("entry_id", "version")`);
    this.addSql(`alter table "diary_entry" add constraint "diary_entry_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "diary_entry" add constraint "diary_entry_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "diary_entry" add constraint "diary_entry_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "diary_entry_seen" add constraint "diary_entry_seen_entry_id_foreign" foreign key ("entry_id") references "diary_entry" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "diary_entry_seen" add constraint "diary_entry_seen_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "diary_entry_revision" add constraint "diary_entry_revision_entry_id_foreign" foreign key ("entry_id") references "diary_entry" ("id") on update cascade on delete cascade`);

    // The history of an entry is what was written: a revision once saved is never changed.
    // Deleting a child (erasure) still removes its rows through the cascade.
    this.addSql(`create function diary_entry_revision_immutable() returns trigger language plpgsql as $$
      begin raise exception 'diary_entry_revision rows are never updated; save a new revision instead'; end $$`);
    this.addSql(`create trigger diary_entry_revision_no_update before update on "diary_entry_revision"
      for each row execute function diary_entry_revision_immutable()`);
  }

  override async down(): Promise<void> {
    for (const table of ['diary_entry_seen', 'diary_entry_revision', 'diary_entry']) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
    this.addSql('drop function if exists diary_entry_revision_immutable()');
  }
}
