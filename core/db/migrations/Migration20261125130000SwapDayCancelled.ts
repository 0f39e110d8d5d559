import { Migration } from '@mikro-orm/migrations';

/** A parent may call off an approved swap day again: the request gets the status `cancelled`. */
export class Migration20261125130000SwapDayCancelled extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "swap_request" drop constraint if exists "swap_request_status_check"`);
    this.addSql(
      `alter table "swap_request" add constraint "swap_request_status_check" check ("status" in ('pending', 'approved', 'rejected', 'withdrawn', 'cancelled'))`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`update "swap_request" set "status" = 'withdrawn' where "status" = 'cancelled'`);
    this.addSql(`alter table "swap_request" drop constraint if exists "swap_request_status_check"`);
    this.addSql(
      `alter table "swap_request" add constraint "swap_request_status_check" check ("status" in ('pending', 'approved', 'rejected', 'withdrawn'))`,
    );
  }
}
