import { Migration } from '@mikro-orm/migrations';

/** Helpdesk plugin: the questions sent with the help form. */
export class Migration20261125050000HelpdeskRequests extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "helpdesk_request" (
      "id" serial primary key,
      "reference" varchar(16) not null,
      "created_at" timestamptz not null,
      "status" varchar(10) not null default 'open',
      "closed_at" timestamptz null,
      "closed_by" varchar(200) null,
      "category" varchar(20) not null,
      "subject" varchar(200) not null,
      "message" text not null,
      "from_path" varchar(300) null,
      "email" varchar(320) not null,
      "name" varchar(200) null,
      "account_id" int null,
      "language" varchar(2) not null,
      "ip" varchar(64) null
    )`);
    this.addSql(`alter table "helpdesk_request" add constraint "helpdesk_request_reference_unique" unique ("reference")`);
    this.addSql(`create index "helpdesk_request_status_created_at_index" on "helpdesk_request" ("status", "created_at")`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "helpdesk_request"`);
  }
}
