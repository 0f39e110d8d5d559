import type { LoadedConfig } from '../config/load.ts';
import type { Actor } from '../core/actor.ts';
import type { EntityManager } from '../core/db/orm.ts';
import type { CreatePortalOptions, Portal } from '../core/portal.ts';
import type { CliIO } from './io.ts';
import type { Output } from './output.ts';

/**
 * The contract of a command: what its action gets (cli/context.ts builds it). A module of types
 * only, so the plugin contract (plugins/types.ts) can name it without importing cli/context.ts,
 * which loads the plugins' schema when it opens the portal: the CLI depends on the plugins, the
 * plugins on this contract, never round.
 */

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  config?: string;
  dataDir?: string;
}

export interface CommandContext {
  io: CliIO;
  out: Output;
  /** The IT admin at the terminal, named by their login for history columns. */
  actor: Actor;
  loadConfig(flags?: Record<string, unknown>): LoadedConfig;
  /** Opens the portal for one command: a fresh unit of work, always closed afterwards. */
  withPortal<T>(fn: (em: EntityManager, portal: Portal) => Promise<T>, options?: CreatePortalOptions): Promise<T>;
  /** Asks on a terminal; in scripts the command needs --yes instead of an answer. */
  confirm(question: string, yes: boolean | undefined): Promise<void>;
}

/** cli/context.ts's action(): wraps a command's action, handing it the context built from the global options. */
export type CommandAction = <A extends unknown[]>(
  io: CliIO,
  fn: (ctx: CommandContext, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
