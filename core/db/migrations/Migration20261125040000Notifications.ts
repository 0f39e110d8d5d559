import { Migration } from '@mikro-orm/migrations';

/** E-mail notifications: how far each parent's news has been mailed. */
export class Migration20261125040000Notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "parent" add column "notified_until" timestamptz null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "parent" drop column "notified_until"`);
  }
}
