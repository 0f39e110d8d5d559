import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log is append-only for the application. An update is always refused; a delete only
 * inside a transaction that says it is applying the retention rules (`set local
 * ouderportaal.audit_retention = 'on'`), which only the retention job does. This guards against
 * our own code; the real wall is the database role's grants (README "Audit log").
 */
export class Migration20261125090000AuditAppendOnly extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function audit_event_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and coalesce(current_setting('ouderportaal.audit_retention', true), '') = 'on' then
          return old;
        end if;
        raise exception 'audit_event rows are never changed or removed (% refused)', tg_op;
      end $$`);
    this.addSql(`create trigger audit_event_append_only before update or delete on "audit_event"
      for each row execute function audit_event_append_only()`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists audit_event_append_only on "audit_event"`);
    this.addSql('drop function if exists audit_event_append_only()');
  }
}
