import { Migration } from '@mikro-orm/migrations';

/**
 * Web Push: the browsers (devices) an account subscribed, and per account which kinds of news
 * may be pushed, the quiet hours, and how far the push scan has told it. An account's rows go
 * with the account.
 */
export class Migration20261206140100Push extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "push_subscription" (
      "id" serial primary key,
      "account_id" int not null,
      "endpoint" varchar(2000) not null,
      "p256dh" varchar(120) not null,
      "auth" varchar(40) not null,
      "device" varchar(100) not null default '',
      "created_at" timestamptz not null,
      "last_sent_at" timestamptz null,
      constraint "push_subscription_endpoint_unique" unique ("endpoint"),
      constraint "push_subscription_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade)`);
    this.addSql(`create index "push_subscription_account_index" on "push_subscription" ("account_id")`);
    this.addSql(`create table "push_setting" (
      "account_id" int primary key,
      "categories" jsonb not null default '[]',
      "quiet_from" smallint null,
      "quiet_until" smallint null,
      "pushed_until" timestamptz null,
      constraint "push_setting_quiet_from_check" check (quiet_from >= 0 and quiet_from <= 23),
      constraint "push_setting_quiet_until_check" check (quiet_until >= 0 and quiet_until <= 23),
      constraint "push_setting_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade)`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "push_setting" cascade`);
    this.addSql(`drop table if exists "push_subscription" cascade`);
  }
}
