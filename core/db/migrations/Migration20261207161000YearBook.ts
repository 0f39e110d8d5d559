import { Migration } from '@mikro-orm/migrations';

/**
 * The year book (herinneringenboek, core/yearbook): one row per parent and child, made when the
 * offer is mailed or the book is first made. `offered_at` makes the "before access ends" mail
 * go once; `last_built_at` limits making the book (it traces every photo: CPU) to once an hour.
 */
export class Migration20261207161000YearBook extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "year_book" ("id" serial primary key, "child_id" int not null, "parent_id" int not null, "offered_at" timestamptz null, "last_built_at" timestamptz null, "builds" int not null default 0)`,
    );
    this.addSql(`create index "year_book_parent_id_index" on "year_book" ("parent_id")`);
    this.addSql(`alter table "year_book" add constraint "year_book_child_id_parent_id_unique" unique ("child_id", "parent_id")`);
    this.addSql(
      `alter table "year_book" add constraint "year_book_child_id_foreign" foreign key ("child_id") references "child" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "year_book" add constraint "year_book_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "year_book" cascade`);
  }
}
