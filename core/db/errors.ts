import {
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../errors.ts';

/**
 * Turns a database error into a DomainError, so callers above core never see driver types.
 * The use cases check the common cases first and give a precise message; this is the net
 * under them (two admins adding the same e-mail at the same moment, say).
 */
export function translateDbError(err: unknown): unknown {
  if (err instanceof UniqueConstraintViolationException) {
    return new DomainError('conflict', 'that record already exists (it was added at the same time elsewhere)');
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return new DomainError('conflict', 'that record is still referenced by other records');
  }
  if (err instanceof NotNullConstraintViolationException) {
    return new DomainError('validation', 'a required value is missing');
  }
  return err;
}

/** Runs fn in a transaction and translates database errors on the way out. */
export async function inTransaction<T>(em: EntityManager, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await em.transactional(fn);
  } catch (err) {
    throw translateDbError(err);
  }
}
