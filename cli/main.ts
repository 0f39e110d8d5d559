import { CommanderError } from 'commander';
import { describeError, EXIT, ExitStatus } from './errors.ts';
import { type CliIO, processIO } from './io.ts';
import { terminalText } from './terminal-text.ts';
import { createProgram } from './program.ts';

/**
 * Runs one `portal` command and returns its exit code. The single place where errors become
 * a line on stderr and an exit code; commands only throw. Without `io` it is the process's own
 * command (bin/portal.mjs): then Ctrl-C ends it with 130.
 */
export async function main(argv: string[], io?: CliIO): Promise<number> {
  const cli = io ?? processIO();
  const program = createProgram(cli);
  const onInterrupt = () => {
    // A command that handles Ctrl-C itself (`portal serve` stops cleanly) has its own listener.
    if (process.listenerCount('SIGINT') > 1) return;
    cli.stderr('portal: interrupted\n');
    process.exit(EXIT.interrupted);
  };
  if (!io) process.on('SIGINT', onInterrupt);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ExitStatus) return err.code;
    if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.helpDisplayed')) {
      return EXIT.ok;
    }
    if (err instanceof CommanderError && err.code === 'commander.help') return EXIT.usage;
    const { code, message } = await describeError(err);
    // The message may quote a file or a database value: nothing in it may steer the terminal.
    cli.stderr(`portal: ${terminalText(message)}\n`);
    if (argv.includes('--verbose') && err instanceof Error && err.stack && !(err instanceof CommanderError)) {
      // A database error without its statement and parameters (they hold personal data).
      const { loggableError } = await import('../core/db/errors.ts');
      cli.stderr(`${loggableError(err)}\n`);
    }
    return code;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
