/**
 * The one error type the domain throws. `code` is stable: the HTTP layer maps it to a status,
 * the CLI to an exit code, and neither needs to know about the ORM or the driver underneath.
 */
export type ErrorCode = 'not_found' | 'validation' | 'conflict' | 'forbidden' | 'unauthenticated' | 'rate_limited';

export interface ErrorDetail {
  /** The field the problem is about, as the user named it (`email`, `birthDate`, `line 4, column "Groep"`). */
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);

export const invalid = (path: string, message: string) =>
  new DomainError('validation', `${path}: ${message}`, [{ path, message }]);

export const conflict = (message: string, details: ErrorDetail[] = []) =>
  new DomainError('conflict', message, details);

export const forbidden = (message = 'not allowed') => new DomainError('forbidden', message);

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
