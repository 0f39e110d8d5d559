import { Migration } from '@mikro-orm/migrations';

/**
 * A child's mentor: one staff member of the child's group who is the parents' first contact
 * (core/directory/mentor.ts). Removing the staff record (`portal staff remove`) empties it; a
 * deactivation or unassignment leaves it, and the mentor is then not shown to parents.
 */
export class Migration20261207090000ChildMentor extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "child" add column "mentor_id" int null`);
    this.addSql(
      `alter table "child" add constraint "child_mentor_id_foreign" foreign key ("mentor_id") references "staff" ("id") on update cascade on delete set null`,
    );
    this.addSql(`create index "child_mentor_id_index" on "child" ("mentor_id") where "mentor_id" is not null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "child" drop column "mentor_id"`);
  }
}
