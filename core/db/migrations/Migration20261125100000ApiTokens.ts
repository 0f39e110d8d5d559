import { Migration } from '@mikro-orm/migrations';

/** Bearer tokens of the mobile app (core/auth/api-tokens.ts), stored as SHA-256 only. */
export class Migration20261125100000ApiTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "api_token" ("id" serial primary key, "token_hash" varchar(64) not null, "account_id" int not null, "name" varchar(100) not null, "created_at" timestamptz not null, "last_used_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null)`);
    this.addSql(`alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash")`);
    this.addSql(`create index "api_token_account_id_index" on "api_token" ("account_id")`);
    this.addSql(`alter table "api_token" add constraint "api_token_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_token" cascade`);
  }
}
