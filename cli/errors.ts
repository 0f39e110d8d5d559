import { badTextError, loggableMessage } from '../core/db/errors.ts';
import { CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { DatabaseAheadError, MigrationsPendingError } from '../core/db/migrate.ts';
import { DomainError } from '../core/errors.ts';

/**
 * Exit codes (documented in the README):
 *   0  done
 *   1  refused: invalid input, not found, already exists, not allowed
 *   2  usage or configuration error (unknown option, missing argument, bad setting)
 *   3  database unavailable or at another version than this code
 *   4  unexpected internal error (a bug: run again with --verbose and report it)
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, database: 3, internal: 4 } as const;

/** A problem with how the command was called, found by our own code rather than commander. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Ends a command with a non-zero status after it has printed its own output. */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function describeError(caught: unknown): { code: number; message: string } {
  // Text the database refused (a NUL byte a schema missed) is the input's fault, not ours.
  const err = badTextError(caught) ?? caught;
  if (err instanceof DomainError) {
    const message =
      err.details.length > 1
        ? `${err.details.length} problems:\n${err.details.map((d) => `  ${d.path}: ${d.message}`).join('\n')}`
        : err.message;
    return { code: EXIT.refused, message };
  }
  if (err instanceof ConfigError) return { code: EXIT.usage, message: err.message };
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof CommanderError) return { code: EXIT.usage, message: err.message.replace(/^error: /, '') };
  if (err instanceof DatabaseAheadError || err instanceof MigrationsPendingError) {
    return { code: EXIT.database, message: err.message };
  }
  // A database error as its code and table: its message holds the statement with its values.
  const message = loggableMessage(err);
  if (/cannot connect to PostgreSQL|embedded PostgreSQL|initdb failed/.test(message)) {
    return { code: EXIT.database, message };
  }
  return { code: EXIT.internal, message: `unexpected error: ${message} (run with --verbose for details)` };
}
