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
    // When parents could first see it: what the news (e-mail and push) counts as "new photos".
    // Every existing photo was published when it was uploaded.
    this.addSql(`alter table "photo" add column "published_at" timestamptz null`);
    this.addSql(`update "photo" set "published_at" = "uploaded_at"`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "photo" drop column "published_at"`);
    this.addSql(`alter table "photo" drop column "awaiting_publish"`);
  }
}
