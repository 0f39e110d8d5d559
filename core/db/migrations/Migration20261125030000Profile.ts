import { Migration } from '@mikro-orm/migrations';

/** Mijn gegevens: the parent's address and notification choice, e-mail changes, server signing keys. */
export class Migration20261125030000Profile extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "parent" add column "street" varchar(200) null, add column "postal_code" varchar(10) null, add column "city" varchar(100) null, add column "notification_mode" text check ("notification_mode" in ('off', 'immediate', 'digest')) not null default 'digest'`);
    this.addSql(`create table "email_change" ("id" serial primary key, "account_id" int not null, "old_email" varchar(320) not null, "new_email" varchar(320) not null, "token_hash" varchar(64) null, "expires_at" timestamptz null, "confirmed_at" timestamptz null, "created_at" timestamptz not null)`);
    this.addSql(`alter table "email_change" add constraint "email_change_token_hash_unique" unique ("token_hash")`);
    this.addSql(`create index "email_change_account_id_created_at_index" on "email_change" ("account_id", "created_at")`);
    this.addSql(`alter table "email_change" add constraint "email_change_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade`);
    this.addSql(`create table "server_secret" ("name" varchar(50) not null, "value" varchar(64) not null, "created_at" timestamptz not null, constraint "server_secret_pkey" primary key ("name"))`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "server_secret" cascade`);
    this.addSql(`drop table if exists "email_change" cascade`);
    this.addSql(`alter table "parent" drop column "street", drop column "postal_code", drop column "city", drop column "notification_mode"`);
  }
}
