import { Migration } from '@mikro-orm/migrations';

/** FAQ plugin: the organisation's and the locations' own questions and answers (Markdown). */
export class Migration20261125080000FaqEntries extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "faq_entry" (
      "id" serial primary key,
      "location_id" int null,
      "language" varchar(2) not null,
      "slug" varchar(80) not null,
      "category" varchar(40) not null,
      "question" varchar(300) not null,
      "answer" text not null,
      "position" int not null,
      "updated_at" timestamptz not null
    )`);
    this.addSql(`alter table "faq_entry" add constraint "faq_entry_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete cascade`);
    this.addSql(`create unique index "faq_entry_location_language_slug_unique" on "faq_entry" ("location_id", "language", "slug") where "location_id" is not null`);
    // NULL is distinct in a plain unique index, so the organisation's rows need their own.
    this.addSql(`create unique index "faq_entry_organisation_language_slug_unique" on "faq_entry" ("language", "slug") where "location_id" is null`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "faq_entry"`);
  }
}
