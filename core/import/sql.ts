import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { translateDbError } from '../db/errors.ts';

/**
 * Set-based SQL for bulk imports. A file of 10,000 children becomes a handful of statements per
 * batch (`insert … select … from json_to_recordset(?)`, `update … from json_to_recordset(?)`)
 * instead of one ORM entity and one statement per record: fast, and memory stays flat because
 * nothing lands in an identity map. Everything runs on the caller's transaction (`em` from
 * `em.transactional`), so the import stays all-or-nothing. Bindings are sent as parameters,
 * never spliced into the SQL text; a whole batch travels as one JSON parameter.
 */
export async function sql<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  const query = em.getKnex().raw(text, params as Knex.RawBinding[]);
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (trx) query.transacting(trx);
  try {
    const result = (await query) as { rows: T[] };
    return result.rows;
  } catch (err) {
    throw translateDbError(em.getDriver().convertException(err as Error));
  }
}

/** A JSON parameter for `json_to_recordset(?::json)` / `json_array_elements_text(?::json)`. */
export const json = (value: unknown) => JSON.stringify(value);

/**
 * Serialises imports: a second import (or a second admin) waits until the first has committed
 * or rolled back, so two files never interleave. Released with the transaction.
 */
export async function lockImports(em: EntityManager): Promise<void> {
  await sql(em, "select pg_advisory_xact_lock(hashtext('ouderportaal.import'))");
}
