import { Migration } from '@mikro-orm/migrations';

/** Accounts (logins of parents and staff), sessions, reset tokens, recovery codes, audit log, login throttle. */
export class Migration20261124120000Accounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_event" ("id" bigserial primary key, "at" timestamptz not null, "type" varchar(60) not null, "actor" varchar(200) not null, "account_id" int null, "subject" varchar(320) null, "ip" varchar(64) null, "details" jsonb null)`);
    this.addSql(`create index "audit_event_at_index" on "audit_event" ("at")`);
    this.addSql(`create index "audit_event_account_id_at_index" on "audit_event" ("account_id", "at")`);
    this.addSql(`create index "audit_event_type_at_index" on "audit_event" ("type", "at")`);
    this.addSql(`create table "rate_limit" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, constraint "rate_limit_pkey" primary key ("key"))`);
    this.addSql(`create table "account" ("id" serial primary key, "email" varchar(320) not null, "parent_id" int null, "staff_id" int null, "password_hash" varchar(255) null, "password_must_change" boolean not null default false, "password_expires_at" timestamptz null, "password_changed_at" timestamptz null, "invited_at" timestamptz null, "invitation_sent_at" timestamptz null, "last_login_at" timestamptz null, "suspended_at" timestamptz null, "suspended_reason" varchar(500) null, "totp_secret" varchar(64) null, "totp_enabled_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint account_one_person check ((parent_id is null) <> (staff_id is null)))`);
    this.addSql(`alter table "account" add constraint "account_email_unique" unique ("email")`);
    this.addSql(`alter table "account" add constraint "account_parent_id_unique" unique ("parent_id")`);
    this.addSql(`alter table "account" add constraint "account_staff_id_unique" unique ("staff_id")`);
    this.addSql(`create table "session" ("id_hash" varchar(64) not null, "account_id" int not null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "second_factor_pending" boolean not null default false, "ip" varchar(64) null, "user_agent" varchar(300) null, constraint "session_pkey" primary key ("id_hash"))`);
    this.addSql(`create index "session_account_id_index" on "session" ("account_id")`);
    this.addSql(`create table "recovery_code" ("id" serial primary key, "account_id" int not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, "created_at" timestamptz not null)`);
    this.addSql(`create index "recovery_code_account_id_index" on "recovery_code" ("account_id")`);
    this.addSql(`create table "password_reset_token" ("token_hash" varchar(64) not null, "account_id" int not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "password_reset_token_pkey" primary key ("token_hash"))`);
    this.addSql(`alter table "account" add constraint "account_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "account" add constraint "account_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "session" add constraint "session_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "recovery_code" add constraint "recovery_code_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "password_reset_token" add constraint "password_reset_token_account_id_foreign" foreign key ("account_id") references "account" ("id") on update cascade on delete cascade`);

    // The audit trail only grows: no row is ever changed. (Removal under a retention policy
    // is a delete, which stays possible for the owner; see the README on database grants.)
    this.addSql(`create function audit_event_immutable() returns trigger language plpgsql as $$
      begin raise exception 'audit_event rows are never updated'; end $$`);
    this.addSql(`create trigger audit_event_no_update before update on "audit_event"
      for each row execute function audit_event_immutable()`);
  }

  override async down(): Promise<void> {
    for (const table of ['rate_limit', 'recovery_code', 'password_reset_token', 'session', 'account', 'audit_event']) {
      this.addSql(`drop table if exists "${table}" cascade`);
    }
    this.addSql('drop function if exists audit_event_immutable()');
  }
}
