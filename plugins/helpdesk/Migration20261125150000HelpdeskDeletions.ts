import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from '../../core/db/migrations/Migration20261125140000DeletedRows.ts';

/** Deletions of helpdesk_request rows reach `portal export --since` like core's (core's deleted_row). */
export class Migration20261125150000HelpdeskDeletions extends Migration {
  override async up(): Promise<void> {
    this.addSql(deletionTriggerSql(['helpdesk_request']));
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists "helpdesk_request_record_deletion" on "helpdesk_request"');
  }
}
