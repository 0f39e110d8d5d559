import { Migration } from '@mikro-orm/migrations';

/**
 * Berichten: threads between the parents of a child and its group, their messages and read
 * marks, announcements to a group or a location with per-parent read marks, attachments; and
 * per location the time at which staff read messages.
 */
export class Migration20261125020000Messages extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "message_thread" ("id" uuid not null, "group_id" int not null, "child_id" int not null, "subject" varchar(200) not null, "started_by_id" int null, "created_at" timestamptz not null, "last_message_at" timestamptz not null, "last_parent_message_at" timestamptz null, "last_staff_message_at" timestamptz null, constraint "message_thread_pkey" primary key ("id"))`);
    this.addSql(`create index "message_thread_group_id_last_message_at_index" on "message_thread" ("group_id", "last_message_at")`);
    this.addSql(`create index "message_thread_child_id_index" on "message_thread" ("child_id")`);
    this.addSql(`create table "message_read" ("id" bigserial primary key, "thread_id" uuid not null, "parent_id" int null, "staff_id" int null, "read_at" timestamptz not null, constraint message_read_one_reader check ((parent_id is null) <> (staff_id is null)))`);
    this.addSql(`alter table "message_read" add constraint "message_read_thread_id_parent_id_unique" unique ("thread_id", "parent_id")`);
    this.addSql(`alter table "message_read" add constraint "message_read_thread_id_staff_id_unique" unique ("thread_id", "staff_id")`);
    this.addSql(`create table "message" ("id" bigserial primary key, "thread_id" uuid not null, "author_side" text check ("author_side" in ('parent', 'staff')) not null, "author_parent_id" int null, "author_staff_id" int null, "author_label" varchar(200) not null, "body" text not null, "created_at" timestamptz not null, constraint message_author_side check ((author_side = 'parent' and author_staff_id is null) or (author_side = 'staff' and author_parent_id is null)))`);
    this.addSql(`create index "message_thread_id_created_at_index" on "message" ("thread_id", "created_at")`);
    this.addSql(`create table "announcement" ("id" uuid not null, "location_id" int not null, "group_id" int null, "author_id" int null, "author_label" varchar(200) not null, "subject" varchar(200) not null, "body" text not null, "email_copy" boolean not null default false, "created_at" timestamptz not null, constraint "announcement_pkey" primary key ("id"))`);
    this.addSql(`create index "announcement_location_id_created_at_index" on "announcement" ("location_id", "created_at")`);
    this.addSql(`create index "announcement_group_id_created_at_index" on "announcement" ("group_id", "created_at")`);
    this.addSql(`create table "message_attachment" ("id" uuid not null, "message_id" bigint null, "announcement_id" uuid null, "key" varchar(64) not null, "filename" varchar(200) not null, "content_type" varchar(100) not null, "size" int not null, "created_at" timestamptz not null, constraint "message_attachment_pkey" primary key ("id"), constraint message_attachment_one_owner check ((message_id is null) <> (announcement_id is null)))`);
    this.addSql(`create index "message_attachment_message_id_index" on "message_attachment" ("message_id")`);
    this.addSql(`create index "message_attachment_announcement_id_index" on "message_attachment" ("announcement_id")`);
    this.addSql(`create table "announcement_read" ("id" bigserial primary key, "announcement_id" uuid not null, "parent_id" int not null, "read_at" timestamptz not null)`);
    this.addSql(`create index "announcement_read_parent_id_index" on "announcement_read" ("parent_id")`);
    this.addSql(`alter table "announcement_read" add constraint "announcement_read_announcement_id_parent_id_unique" unique ("announcement_id", "parent_id")`);
    this.addSql(`alter table "message_thread" add constraint "message_thread_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade`);
    this.addSql(`alter table "message_thread" add constraint "message_thread_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message_thread" add constraint "message_thread_started_by_id_foreign" foreign key ("started_by_id") references "parent" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "message_read" add constraint "message_read_thread_id_foreign" foreign key ("thread_id") references "message_thread" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message_read" add constraint "message_read_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message_read" add constraint "message_read_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message" add constraint "message_thread_id_foreign" foreign key ("thread_id") references "message_thread" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message" add constraint "message_author_parent_id_foreign" foreign key ("author_parent_id") references "parent" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "message" add constraint "message_author_staff_id_foreign" foreign key ("author_staff_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "announcement" add constraint "announcement_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "announcement" add constraint "announcement_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "announcement" add constraint "announcement_author_id_foreign" foreign key ("author_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "message_attachment" add constraint "message_attachment_message_id_foreign" foreign key ("message_id") references "message" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "message_attachment" add constraint "message_attachment_announcement_id_foreign" foreign key ("announcement_id") references "announcement" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "announcement_read" add constraint "announcement_read_announcement_id_foreign" foreign key ("announcement_id") references "announcement" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "announcement_read" add constraint "announcement_read_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "location" add column "messages_read_at" varchar(5) not null default '12:00'`);
  }

  override async down(): Promise<void> {
    for (const table of ['announcement_read', 'message_attachment', 'announcement', 'message_read', 'message', 'message_thread']) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
    this.addSql(`alter table "location" drop column if exists "messages_read_at"`);
  }
}
