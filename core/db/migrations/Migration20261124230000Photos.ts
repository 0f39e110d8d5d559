import { Migration } from '@mikro-orm/migrations';

/** Photos of a group, the children tagged in them, and every download with its trace code. */
export class Migration20261124230000Photos extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "photo" ("id" uuid not null, "group_id" int not null, "uploaded_by_id" int null, "caption" varchar(500) null, "state" text check ("state" in ('processing', 'ready', 'failed')) not null default 'processing', "failure_reason" varchar(500) null, "taken_at" timestamptz not null, "uploaded_at" timestamptz not null, "source_key" varchar(64) null, "original_key" varchar(64) null, "display_key" varchar(64) null, "thumb_key" varchar(64) null, "width" int null, "height" int null, "no_child_confirmed" boolean not null default false, "hidden_at" timestamptz null, constraint "photo_pkey" primary key ("id"))`);
    this.addSql(`create index "photo_group_id_taken_at_index" on "photo" ("group_id", "taken_at")`);
    this.addSql(`create table "photo_tag" ("id" serial primary key, "photo_id" uuid not null, "child_id" int not null, "tagged_by" varchar(200) not null, "created_at" timestamptz not null)`);
    this.addSql(`create index "photo_tag_child_id_index" on "photo_tag" ("child_id")`);
    this.addSql(`alter table "photo_tag" add constraint "photo_tag_photo_id_child_id_unique" unique ("photo_id", "child_id")`);
    this.addSql(`create table "photo_download" ("id" bigserial primary key, "trace_code" bigint not null, "photo_id" uuid null, "photo_ref" uuid not null, "parent_id" int null, "email" varchar(320) not null, "at" timestamptz not null, "ip" varchar(64) null, "user_agent" varchar(300) null)`);
    this.addSql(`alter table "photo_download" add constraint "photo_download_trace_code_unique" unique ("trace_code")`);
    this.addSql(`create index "photo_download_parent_id_at_index" on "photo_download" ("parent_id", "at")`);
    this.addSql(`create index "photo_download_photo_id_at_index" on "photo_download" ("photo_id", "at")`);
    this.addSql(`alter table "photo" add constraint "photo_group_id_foreign" foreign key ("group_id") references "care_group" ("id") on update cascade`);
    this.addSql(`alter table "photo" add constraint "photo_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "photo_tag" add constraint "photo_tag_photo_id_foreign" foreign key ("photo_id") references "photo" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "photo_tag" add constraint "photo_tag_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "photo_download" add constraint "photo_download_photo_id_foreign" foreign key ("photo_id") references "photo" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "photo_download" add constraint "photo_download_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete set null`);
  }

  override async down(): Promise<void> {
    for (const table of ['photo_download', 'photo_tag', 'photo']) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
  }
}
