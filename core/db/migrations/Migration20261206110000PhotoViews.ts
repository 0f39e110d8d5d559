import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from './Migration20261125140000DeletedRows.ts';

/**
 * Display views of a photo by a parent (privacy invariant 2): every image larger than a
 * thumbnail that a parent receives carries that parent's trace mark, so the 1600 px image of the
 * photo page (and of the AVG export) is traced like a download. One row per parent and photo,
 * with its trace code and the traced copy kept in the photo store, so a second view costs no
 * re-encoding.
 *
 * One code space: a trace code names either a download or a view, never both, so
 * `portal photos trace` finds the one copy it came from. A unique index cannot span two tables;
 * a trigger on both takes a transaction lock on the code (so two writers drawing the same code
 * at once queue up) and refuses a code the other table holds, as a unique violation (the
 * writers draw again on that).
 */
export const TRACE_CODE_FUNCTION = 'ouderportaal_trace_code_unique';
/** High half of the advisory lock key: "TRCE", so trace-code locks do not meet other locks. */
const LOCK_NAMESPACE = 0x5452_4345;

export class Migration20261206110000PhotoViews extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "photo_view" ("id" bigserial primary key, "trace_code" bigint not null, "photo_id" uuid null, "photo_ref" uuid not null, "parent_id" int null, "email" varchar(320) not null, "first_at" timestamptz not null, "last_at" timestamptz not null, "exported_at" timestamptz null, "display_key" varchar(64) null, "traced_key" varchar(64) null)`);
    this.addSql(`alter table "photo_view" add constraint "photo_view_trace_code_unique" unique ("trace_code")`);
    this.addSql(`alter table "photo_view" add constraint "photo_view_parent_id_photo_ref_unique" unique ("parent_id", "photo_ref")`);
    this.addSql(`create index "photo_view_photo_id_index" on "photo_view" ("photo_id")`);
    this.addSql(`alter table "photo_view" add constraint "photo_view_photo_id_foreign" foreign key ("photo_id") references "photo" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "photo_view" add constraint "photo_view_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete set null`);
    this.addSql(`create function ${TRACE_CODE_FUNCTION}() returns trigger language plpgsql as $$
      declare taken boolean;
      begin
        perform pg_advisory_xact_lock(${LOCK_NAMESPACE}::bigint * 4294967296 + new.trace_code);
        execute format('select exists (select 1 from %I where trace_code = $1)', tg_argv[0]) into taken using new.trace_code;
        if taken then
          raise exception 'trace code % is already in use by %', new.trace_code, tg_argv[0] using errcode = 'unique_violation';
        end if;
        return new;
      end $$`);
    for (const [table, other] of [['photo_download', 'photo_view'], ['photo_view', 'photo_download']]) {
      this.addSql(`create trigger "${table}_trace_code_unique" before insert or update of "trace_code" on "${table}" for each row execute function ${TRACE_CODE_FUNCTION}('${other}')`);
    }
    this.addSql(deletionTriggerSql(['photo_view']));
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "photo_download_trace_code_unique" on "photo_download"`);
    this.addSql(`drop table if exists "photo_view" cascade`);
    this.addSql(`drop function if exists ${TRACE_CODE_FUNCTION}() cascade`);
  }
}
