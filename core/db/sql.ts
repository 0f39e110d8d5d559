import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { translateDbError } from './errors.ts';

/**
 * Plain SQL on the caller's unit of work: inside `em.transactional` it runs on that transaction,
 * so set-based work (imports, erasure, retention) stays all-or-nothing with the ORM's writes.
 * Bindings are sent as parameters, never spliced into the SQL text; an array is not expanded,
 * so a list of ids takes one `?` per id (or one JSON parameter).
 */
async function run(em: EntityManager, text: string, params: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }> {
  const query = em.getKnex().raw(text, params as Knex.RawBinding[]);
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (trx) query.transacting(trx);
  try {
    return (await query) as { rows: unknown[]; rowCount: number | null };
  } catch (err) {
    throw translateDbError(em.getDriver().convertException(err as Error));
  }
}

/** The rows a statement returns. */
export async function sql<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  return (await run(em, text, params)).rows as T[];
}

/** How many rows an update or delete touched. */
export async function sqlCount(em: EntityManager, text: string, params: unknown[] = []): Promise<number> {
  return (await run(em, text, params)).rowCount ?? 0;
}

/** `select count(*) from <from>`: `from` is a table with its where-clause ("diary_entry where day < ?"). */
export async function countRows(em: EntityManager, from: string, params: unknown[] = []): Promise<number> {
  return (await sql<{ n: number }>(em, `select count(*)::int as n from ${from}`, params))[0]?.n ?? 0;
}

/** `in (?, ?, …)` for a list of ids (at least `in (null)`, which matches nothing). */
export const inList = (ids: readonly unknown[]) => (ids.length ? `in (${ids.map(() => '?').join(', ')})` : 'in (null)');
