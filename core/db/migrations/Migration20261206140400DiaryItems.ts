import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from './Migration20261125140000DeletedRows.ts';

/**
 * The quick schriftje: quick picks (slept, ate, drank, mood, nappy) as rows with a kind, times
 * and a value, hanging off the day's staff entry (its cascade carries retention and erasure).
 *
 * The single-line inputs go: what staff typed in them ("Slapen: 12:30 tot 14:00") cannot be
 * parsed into times reliably, so it is kept word for word at the top of the entry's note, one
 * "label: text" line each, and the lines are emptied. The revisions keep every earlier state.
 */
export const FOLD_LINES_INTO_NOTE_SQL = `update "diary_entry" e
   set "text" = concat_ws(E'\\n\\n',
         (select string_agg((l.value ->> 'label') || ': ' || (l.value ->> 'text'), E'\\n' order by l.ord)
            from jsonb_array_elements(e."lines") with ordinality as l(value, ord)),
         nullif(e."text", '')),
       "lines" = '[]'::jsonb
 where jsonb_typeof(e."lines") = 'array' and jsonb_array_length(e."lines") > 0`;

export class Migration20261206140400DiaryItems extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "diary_item" ("id" uuid not null, "entry_id" uuid not null, "kind" text check ("kind" in ('sleep', 'meal', 'drink', 'mood', 'nappy')) not null, "starts_at" varchar(5) not null, "ends_at" varchar(5) null, "value" varchar(20) not null, "detail" varchar(100) null, "staff_id" int null, "author_label" varchar(200) not null, "created_at" timestamptz not null, constraint "diary_item_pkey" primary key ("id"))`);
    this.addSql(`create index "diary_item_entry_id_starts_at_index" on "diary_item" ("entry_id", "starts_at")`);
    this.addSql(`alter table "diary_item" add constraint "diary_item_entry_id_foreign" foreign key ("entry_id") references "diary_entry" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "diary_item" add constraint "diary_item_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete set null`);
    this.addSql(FOLD_LINES_INTO_NOTE_SQL);
    // Exported (core/export/tables.ts): its deletions reach the nightly export as well.
    this.addSql(deletionTriggerSql(['diary_item']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "diary_item" cascade`);
  }
}
