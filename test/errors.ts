import { DomainError } from '../core/errors.ts';

/** The DomainError code a promise rejects with, or what it rejected with otherwise (undefined when it resolved). */
export async function errorCode(promise: Promise<unknown>): Promise<unknown> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof DomainError ? err.code : err;
}
