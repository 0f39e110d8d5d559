import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../db/sql.ts';

/**
 * Set-based SQL for bulk imports (with `sql` from core/db/sql.ts). A file of 10,000 children
 * becomes a handful of statements per batch (`insert … select … from json_to_recordset(?)`)
 * instead of one ORM entity and one statement per record: fast, and memory stays flat because
 * nothing lands in an identity map. A whole batch travels as one JSON parameter.
 */

/** A JSON parameter for `json_to_recordset(?::json)` / `json_array_elements_text(?::json)`. */
export const json = (value: unknown) => JSON.stringify(value);

/**
 * Serialises imports: a second import (or a second admin) waits until the first has committed
 * or rolled back, so two files never interleave. Released with the transaction.
 */
export async function lockImports(em: EntityManager): Promise<void> {
  await sql(em, "select pg_advisory_xact_lock(hashtext('ouderportaal.import'))");
}
