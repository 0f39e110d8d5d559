import { Migration } from '@mikro-orm/migrations';

/**
 * The last run of each periodic background task (retention, housekeeping, the notification and
 * push scans), so that several `portal serve` nodes run each once per period between them.
 */
export class Migration20261207041000PeriodicRuns extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "periodic_run" ("name" varchar(50) not null, "last_run_at" timestamptz not null, constraint "periodic_run_pkey" primary key ("name"))`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "periodic_run" cascade`);
  }
}
