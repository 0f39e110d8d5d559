import { Migration } from '@mikro-orm/migrations';

/**
 * The album walks each group's photos newest first by (taken_at, id): the id breaks ties between
 * photos taken in the same second. With the id in the index, a backward scan returns rows in
 * exactly that order and the `limit` stops the scan; with (group_id, taken_at) alone PostgreSQL
 * had to sort each group's ties (an incremental sort per group on every page). It replaces the
 * old index, which is its prefix. Built inside the migration's transaction, so uploads wait while
 * it builds (seconds at 500k photos; on a very large install, plan the upgrade at night).
 */
export class Migration20261207040000PhotoAlbumIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "photo_group_id_taken_at_id_index" on "photo" ("group_id", "taken_at", "id")`);
    this.addSql(`drop index if exists "photo_group_id_taken_at_index"`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index "photo_group_id_taken_at_index" on "photo" ("group_id", "taken_at")`);
    this.addSql(`drop index if exists "photo_group_id_taken_at_id_index"`);
  }
}
