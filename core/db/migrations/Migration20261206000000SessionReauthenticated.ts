import { Migration } from '@mikro-orm/migrations';

/**
 * When the person behind a session last proved who they are (password at login or since, or a
 * code from the app): sensitive changes ask again when that is more than five minutes ago.
 */
export class Migration20261206000000SessionReauthenticated extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "session" add column "reauthenticated_at" timestamptz null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "session" drop column "reauthenticated_at"`);
  }
}
