import { Migration } from '@mikro-orm/migrations';

/**
 * A thread is about exactly one child. Until now a parent with two or more children placed in
 * a group could not say which one: the thread went to the first by name, so the other guardians
 * of that child read what was meant for another child (privacy invariant 3). `child_review`
 * marks such stored threads as ambiguous: only the parent who started one sees it until staff of
 * the group or an admin assigns the right child (core/messages/thread-child.ts). New threads
 * name their child and are never ambiguous.
 */

/**
 * Marks the ambiguous threads: started by a parent who, on the day the thread was started
 * (Europe/Amsterdam), had two or more of their children placed in the thread's group. Exported
 * so tests can run the very statement the migration runs.
 */
export const MARK_AMBIGUOUS_THREADS_SQL = `update "message_thread" t set "child_review" = true
  where t.started_by_id is not null
    and (select count(distinct gd.child_id)
           from guardianship gd
           join placement pl on pl.child_id = gd.child_id and pl.group_id = t.group_id
          where gd.parent_id = t.started_by_id
            and pl.start_date <= (t.created_at at time zone 'Europe/Amsterdam')::date
            and (pl.end_date is null or pl.end_date >= (t.created_at at time zone 'Europe/Amsterdam')::date)) >= 2`;

export class Migration20261206100000ThreadChildReview extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "message_thread" add column "child_review" boolean not null default false`);
    this.addSql(`create index "message_thread_child_review_index" on "message_thread" ("group_id") where "child_review"`);
    this.addSql(MARK_AMBIGUOUS_THREADS_SQL);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "message_thread_child_review_index"`);
    this.addSql(`alter table "message_thread" drop column "child_review"`);
  }
}
