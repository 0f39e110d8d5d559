import { Migration } from '@mikro-orm/migrations';

/**
 * Deletions for `portal export --since`: a trigger on every exported table writes the deleted
 * row's primary key (never its content) to deleted_row. The trigger function is shared (plugins
 * add it to their own tables in their migrations) and finds nothing to configure per table: the
 * key columns are passed as trigger arguments, read here from the catalog when the trigger is made.
 */
export const RECORD_DELETION_FUNCTION = 'ouderportaal_record_deletion';

/** SQL that puts the deletion trigger on one table, with its primary key's columns as arguments. */
export function deletionTriggerSql(tables: readonly string[]): string {
  const list = tables.map((t) => `'${t}'`).join(', ');
  return `do $$
    declare t text; args text;
    begin
      foreach t in array array[${list}] loop
        select string_agg(quote_literal(a.attname), ', ' order by array_position(i.indkey::int2[], a.attnum))
          into args
          from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
         where i.indrelid = t::regclass and i.indisprimary;
        execute format('create trigger %I after delete on %I for each row execute function ${RECORD_DELETION_FUNCTION}(%s)', t || '_record_deletion', t, args);
      end loop;
    end $$`;
}

export class Migration20261125140000DeletedRows extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "deleted_row" ("id" serial primary key, "table_name" varchar(63) not null, "row_key" jsonb not null, "deleted_at" timestamptz not null)`);
    this.addSql(`create index "deleted_row_deleted_at_index" on "deleted_row" ("deleted_at")`);
    this.addSql(`create function ${RECORD_DELETION_FUNCTION}() returns trigger language plpgsql as $$
      declare key jsonb := '{}'::jsonb; col text;
      begin
        foreach col in array tg_argv loop
          key := key || jsonb_build_object(col, to_jsonb(old) -> col);
        end loop;
        insert into deleted_row (table_name, row_key, deleted_at) values (tg_table_name, key, now());
        return old;
      end $$`);
    // The tables exported when this migration was written; a later table gets its trigger in its own migration.
    this.addSql(deletionTriggerSql(['organisation', 'staff', 'location', 'care_group', 'child', 'placement', 'consent_record', 'parent', 'guardianship', 'staff_assignment', 'account', 'photo', 'photo_tag', 'photo_download', 'diary_entry', 'diary_entry_revision', 'diary_entry_seen', 'message_thread', 'message', 'message_read', 'announcement', 'announcement_read', 'message_attachment', 'schedule_rules', 'contract_day', 'day_cancellation', 'swap_credit', 'swap_request', 'audit_event']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists ${RECORD_DELETION_FUNCTION}() cascade`);
    this.addSql(`drop table if exists "deleted_row"`);
  }
}
