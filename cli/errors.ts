import { dirname } from 'node:path';
import { CommanderError } from 'commander';

/**
 * Exit codes (the table is in `portal --help` and the README):
 *   0    done
 *   1    refused or invalid input (a validation error, not allowed)
 *   2    usage or configuration (unknown option, missing argument, bad setting; the database
 *        missing, unreachable or at another version than this code)
 *   3    not found, or conflict (already exists, in use)
 *   4    unexpected internal error (a bug: run again with --verbose and report it)
 *   5    no space left on a disk (the message names the folder): free space and run again
 *   130  interrupted (Ctrl-C, also at a question)
 */
export const EXIT = {
  ok: 0,
  refused: 1,
  usage: 2,
  database: 2,
  notFound: 3,
  conflict: 3,
  internal: 4,
  diskFull: 5,
  interrupted: 130,
} as const;

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

/** Ctrl-C at a question of @inquirer/prompts (checked by name: the prompts load only when asked). */
export const isPromptCancelled = (err: unknown): boolean => err instanceof Error && err.name === 'ExitPromptError';

/**
 * The exit code and the one line for an error a command threw. Only reached on failure, so the
 * modules that know the database's and the configuration's errors load here, not at start
 * (`portal --help` loads no ORM).
 */
export async function describeError(caught: unknown): Promise<{ code: number; message: string }> {
  if (isPromptCancelled(caught)) return { code: EXIT.interrupted, message: 'cancelled' };
  if (caught instanceof UsageError) return { code: EXIT.usage, message: caught.message };
  if (caught instanceof CommanderError) return { code: EXIT.usage, message: caught.message.replace(/^error: /, '') };
  const [{ badTextError, DatabaseMissingError, loggableMessage }, { ConfigError }, { DatabaseAheadError, MigrationsPendingError }, { DomainError }] =
    await Promise.all([
      import('../core/db/errors.ts'),
      import('../config/load.ts'),
      import('../core/db/migrate.ts'),
      import('../core/errors.ts'),
    ]);
  // Text the database refused (a NUL byte a schema missed) is the input's fault, not ours.
  const err = badTextError(caught) ?? caught;
  if (err instanceof DomainError) {
    const message =
      err.details.length > 1
        ? `${err.details.length} problems:\n${err.details.map((d) => `  ${d.path}: ${d.message}`).join('\n')}`
        : err.message;
    return { code: err.code === 'not_found' || err.code === 'conflict' ? EXIT.notFound : EXIT.refused, message };
  }
  if (err instanceof ConfigError) return { code: EXIT.usage, message: err.message };
  // A full disk is neither the input's fault nor a bug: its own code, so a cron job can say so.
  const { describeNoSpace, isNoSpace, isStorageFull } = await import('../core/storage/disk-full.ts');
  const path = (err as NodeJS.ErrnoException | null)?.path;
  const full = isStorageFull(err) || !path ? err : await describeNoSpace(err, dirname(path));
  if (isStorageFull(full)) return { code: EXIT.diskFull, message: full.message };
  if (isNoSpace(err)) return { code: EXIT.diskFull, message: `no space left on a disk (${(err as Error).message}): free space and run again` };
  if (err instanceof DatabaseAheadError || err instanceof MigrationsPendingError || err instanceof DatabaseMissingError) {
    return { code: EXIT.database, message: err.message };
  }
  // A database error as its code and table: its message holds the statement with its values.
  const message = loggableMessage(err);
  if (/cannot connect to PostgreSQL|embedded PostgreSQL|initdb failed/.test(message)) {
    return { code: EXIT.database, message };
  }
  return { code: EXIT.internal, message: `unexpected error: ${message} (run with --verbose for details)` };
}
