import { Migration } from '@mikro-orm/migrations';

/**
 * Photos uploaded for the batch tagging screen wait for staff to publish them: with chips that
 * save one at a time, a photo would otherwise reach the parents the moment the first child with
 * consent is ticked, before staff have ticked the child without. Existing photos keep the old
 * rule (shared as soon as their tags allow), hence the default false.
 */
export class Migration20261206140300PhotoAwaitingPublish extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "photo" add column "awaiting_publish" boolean not null default false`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "photo" drop column "awaiting_publish"`);
  }
}
