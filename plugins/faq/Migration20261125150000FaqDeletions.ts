import { Migration } from '@mikro-orm/migrations';
import { deletionTriggerSql } from '../../core/db/migrations/Migration20261125140000DeletedRows.ts';

/** Deletions of faq_entry rows reach `portal export --since` like core's (core's deleted_row). */
export class Migration20261125150000FaqDeletions extends Migration {
  override async up(): Promise<void> {
    this.addSql(deletionTriggerSql(['faq_entry']));
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists "faq_entry_record_deletion" on "faq_entry"');
  }
}
