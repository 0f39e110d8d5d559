import { Migration } from '@mikro-orm/migrations';

/**
 * A location's registration number in the Landelijk Register Kinderopvang (LRK): parents need it
 * for the childcare allowance and to look up the GGD's inspection reports; mijn vestiging shows it.
 */
export class Migration20261206130000LocationLrk extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "location" add column "lrk" varchar(9) null`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "location" drop column "lrk"`);
  }
}
