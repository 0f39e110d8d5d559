import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { cliAdmin } from '../core/actor.ts';
import { createLogger } from '../core/log.ts';
import type { CommandAction, CommandContext, GlobalOptions } from './command-context.ts';
import { UsageError } from './errors.ts';
import type { CliIO } from './io.ts';
import { createOutput } from './output.ts';
import { type Clock, clockFromEnv } from '../core/clock.ts';

export type { CommandContext, GlobalOptions } from './command-context.ts';

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The IO's clock (tests), else PORTAL_CLOCK (see core/clock.ts), refused as a usage error when malformed. */
export function processClock(io: CliIO): Clock {
  if (io.clock) return io.clock;
  try {
    return clockFromEnv(io.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function createContext(io: CliIO, global: GlobalOptions): CommandContext {
  const load = (flags: Record<string, unknown> = {}) =>
    loadConfig({ env: io.env, cwd: io.cwd, file: global.config, flags: { dataDir: global.dataDir, ...flags } });
  return {
    io,
    out: createOutput(io, Boolean(global.json)),
    actor: cliAdmin(operator()),
    loadConfig: load,
    withPortal: async (fn, options) => {
      const { config } = load();
      // A provisioning command prints its result, not the database's comings and goings.
      const log = createLogger(global.verbose ? 'debug' : 'warn');
      // Loaded here, not at the top: `portal --help` and the commands without a database do
      // not pay for the ORM, the entities and the plugins (see cli/program.ts).
      const [{ createPortal }, { installedSchema }] = await Promise.all([import('../core/portal.ts'), import('../plugins/schema.ts')]);
      const portal = await createPortal(config, { log, extensions: installedSchema(), clock: processClock(io), ...options });
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(portal.em(), portal);
      } catch (err) {
        // Closing can fail for the same reason the command did (a full disk refuses the
        // embedded database's lock file): the command's error is the one to report.
        const { rethrowAfterCleanup } = await import('../core/storage/after-cleanup.ts');
        return await rethrowAfterCleanup(err, () => portal.close(), (closeErr) => log.warn(`closing the portal failed too: ${(closeErr as Error).message}`));
      }
      await portal.close();
      return result;
    },
    confirm: async (question, yes) => {
      if (yes) return;
      if (!io.isTTY) throw new UsageError(`${question} Add --yes to confirm in a script.`);
      const { confirm } = await import('@inquirer/prompts');
      if (!(await confirm({ message: question, default: false }))) throw new UsageError('cancelled');
    },
  };
}

/**
 * Wraps a command's action: hands it the context built from the global options, so no
 * command parses --json or --config itself.
 */
export function action<A extends unknown[]>(
  io: CliIO,
  fn: (ctx: CommandContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = createContext(io, cmd.optsWithGlobals<GlobalOptions>());
    await fn(ctx, ...(args.slice(0, -1) as A));
  };
}
// The contract the plugins are handed (plugins/types.ts PluginCommandContext).
action satisfies CommandAction;
