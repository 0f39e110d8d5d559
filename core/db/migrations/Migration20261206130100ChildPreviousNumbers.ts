import { Migration } from '@mikro-orm/migrations';

/**
 * The numbers a child had before a correction (`portal children update --child-number`). The
 * planning system may still send the old number; the importer matches children by number, so it
 * would add the child a second time. A trigger refuses a child number that is another child's
 * earlier number, as a unique violation (whoever inserts: the importer, `children add`, a
 * restore), and names the number it became.
 *
 * The trigger is per statement over the rows the statement wrote, joined against the few children
 * that were ever corrected (a partial index holds just those): a per-row lookup made a 20,000-row
 * import quadratic once PL/pgSQL settled on a generic plan that scans the table.
 */
export const RETIRED_NUMBER_FUNCTION = 'ouderportaal_child_number_not_retired';

export class Migration20261206130100ChildPreviousNumbers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "child" add column "previous_numbers" jsonb null`);
    this.addSql(`create index "child_corrected_index" on "child" ("id") where "previous_numbers" is not null`);
    this.addSql(`create function ${RETIRED_NUMBER_FUNCTION}() returns trigger language plpgsql as $$
      declare clash record;
      begin
        select n.child_number as old_number, c.child_number as current_number into clash
          from child c
          cross join lateral jsonb_array_elements_text(c.previous_numbers) as p(number)
          join new_rows n on n.child_number = p.number and n.id <> c.id
         where c.previous_numbers is not null
         limit 1;
        if found then
          raise exception 'child number % was corrected to %', clash.old_number, clash.current_number using errcode = 'unique_violation';
        end if;
        return null;
      end $$`);
    // Transition tables allow one event per trigger and no column list: one trigger each.
    this.addSql(
      `create trigger "child_number_not_retired_insert" after insert on "child" referencing new table as new_rows for each statement execute function ${RETIRED_NUMBER_FUNCTION}()`,
    );
    this.addSql(
      `create trigger "child_number_not_retired_update" after update on "child" referencing new table as new_rows for each statement execute function ${RETIRED_NUMBER_FUNCTION}()`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "child_number_not_retired_insert" on "child"`);
    this.addSql(`drop trigger if exists "child_number_not_retired_update" on "child"`);
    this.addSql(`drop function if exists ${RETIRED_NUMBER_FUNCTION}()`);
    this.addSql(`drop index if exists "child_corrected_index"`);
    this.addSql(`alter table "child" drop column "previous_numbers"`);
  }
}
