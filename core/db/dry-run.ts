import type { EntityManager } from '@mikro-orm/postgresql';
import { translateDbError } from './errors.ts';

/** Thrown inside the transaction to roll it back while carrying the result out. */
class DryRunRollback<T> extends Error {
  constructor(readonly result: T) {
    super('dry run: rolled back');
  }
}

/**
 * Runs `fn` in one transaction. With `dryRun` the transaction is rolled back after `fn` has done
 * everything it would do, so a `--dry-run` reports exactly what the real run changes (the same
 * checks, the same refusals, the same counts) and leaves the database as it was. Side effects
 * outside the database (mail, files) must be queued on `tx` (the job queue's `enqueueOn`), so
 * they roll back with it. Database errors come out translated, as from inTransaction.
 */
export async function dryRunnable<T>(em: EntityManager, dryRun: boolean | undefined, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await em.transactional(async (tx) => {
      const result = await fn(tx as EntityManager);
      if (dryRun) {
        await tx.flush();
        throw new DryRunRollback(result);
      }
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) {
      em.clear(); // the rolled-back entities must not linger in the identity map
      return err.result as T;
    }
    // A unique or check violation is a conflict or invalid input, as in inTransaction.
    throw translateDbError(err);
  }
}
