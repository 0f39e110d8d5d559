import { Migration } from '@mikro-orm/migrations';

/** "Download mijn gegevens": requests, their file and the hash of the mailed link. */
export class Migration20261125120000DataExports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "data_export" ("id" serial primary key, "parent_id" int not null, "requested_at" timestamptz not null, "ready_at" timestamptz null, "file" varchar(100) null, "token_hash" varchar(64) null, "expires_at" timestamptz null, "downloaded_at" timestamptz null)`);
    this.addSql(`create index "data_export_parent_id_requested_at_index" on "data_export" ("parent_id", "requested_at")`);
    this.addSql(`alter table "data_export" add constraint "data_export_token_hash_unique" unique ("token_hash")`);
    this.addSql(`alter table "data_export" add constraint "data_export_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "data_export"`);
  }
}
