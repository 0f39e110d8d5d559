import { Migration } from '@mikro-orm/migrations';

/**
 * The photo page's image variants (480, 1024 and 1600 px wide, as AVIF, WebP and JPEG), made on
 * first request and kept in the photo store so a repeat costs no encoding. A row with a parent
 * is that parent's traced copy (their trace code from photo_view, privacy invariant 2); a row
 * without one is the shared, untraced variant staff receive. Only a cache of derived files: it
 * goes with the photo or the parent (the trace record itself is photo_view, which stays).
 */
export class Migration20261206140000PhotoVariants extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "photo_variant" ("id" bigserial primary key, "photo_id" uuid not null, "parent_id" int null, "variant" varchar(16) not null, "display_key" varchar(64) not null, "key" varchar(64) not null)`);
    this.addSql(`alter table "photo_variant" add constraint "photo_variant_photo_id_parent_id_variant_unique" unique ("photo_id", "parent_id", "variant")`);
    this.addSql(`alter table "photo_variant" add constraint "photo_variant_photo_id_foreign" foreign key ("photo_id") references "photo" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "photo_variant" add constraint "photo_variant_parent_id_foreign" foreign key ("parent_id") references "parent" ("id") on update cascade on delete cascade`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "photo_variant" cascade`);
  }
}
