import { Migration } from '@mikro-orm/migrations';

const IMMUTABLE = `create or replace function diary_entry_revision_immutable() returns trigger language plpgsql as $$
      begin raise exception 'diary_entry_revision rows are never updated; save a new revision instead'; end $$`;

/**
 * The staff lifecycle (`portal staff deactivate/reactivate/remove`):
 * - when and why a staff member was deactivated (`active` stays what login and the rules read);
 * - a removed staff member's name and login address leave the schriftje's history: a revision's
 *   content stays immutable, only who wrote it may be replaced by a neutral name.
 */
export class Migration20261206120000StaffLifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "staff" add column "deactivated_at" timestamptz null, add column "deactivated_reason" varchar(500) null`);
    this.addSql(`update "staff" set "deactivated_at" = "updated_at" where not "active"`);
    this.addSql(`create or replace function diary_entry_revision_immutable() returns trigger language plpgsql as $$
      begin
        if (new.id, new.entry_id, new.version, new.text, new.lines, new.photo_ids, new.edited_at)
           is not distinct from (old.id, old.entry_id, old.version, old.text, old.lines, old.photo_ids, old.edited_at) then
          return new;
        end if;
        raise exception 'diary_entry_revision rows are never updated; save a new revision instead';
      end $$`);
  }

  override async down(): Promise<void> {
    this.addSql(IMMUTABLE);
    this.addSql(`alter table "staff" drop column "deactivated_at", drop column "deactivated_reason"`);
  }
}
