import { CommanderError } from 'commander';
import { loggableError } from '../core/db/errors.ts';
import { describeError, EXIT, ExitStatus } from './errors.ts';
import { type CliIO, processIO } from './io.ts';
import { createProgram } from './program.ts';

/**
 * Runs one `portal` command and returns its exit code. The single place where errors become
 * a line on stderr and an exit code; commands only throw.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ExitStatus) return err.code;
    if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.helpDisplayed')) {
      return EXIT.ok;
    }
    if (err instanceof CommanderError && err.code === 'commander.help') return EXIT.usage;
    const { code, message } = describeError(err);
    io.stderr(`portal: ${message}\n`);
    if (argv.includes('--verbose') && err instanceof Error && err.stack && !(err instanceof CommanderError)) {
      // A database error without its statement and parameters (they hold personal data).
      io.stderr(`${loggableError(err)}\n`);
    }
    return code;
  }
}
