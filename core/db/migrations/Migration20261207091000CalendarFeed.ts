import { Migration } from '@mikro-orm/migrations';

/**
 * The agenda-koppeling: per parent at most one private calendar URL, kept as the SHA-256 of its
 * token. The row goes with the parent.
 */
export class Migration20261207091000CalendarFeed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "calendar_feed" (
      "id" serial primary key,
      "parent_id" int not null,
      "token_hash" varchar(64) not null,
      "created_at" timestamptz not null,
      constraint "calendar_feed_parent_unique" unique ("parent_id"),
      constraint "calendar_feed_token_hash_unique" unique ("token_hash"),
      constraint "calendar_feed_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade)`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "calendar_feed" cascade`);
  }
}
