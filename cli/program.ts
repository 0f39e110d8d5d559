import { Command } from 'commander';
import { registerAccess } from './commands/access.ts';
import { registerAudit } from './commands/audit.ts';
import { registerChildren } from './commands/children.ts';
import { registerConfig } from './commands/config.ts';
import { registerConsent } from './commands/consent.ts';
import { registerDb } from './commands/db.ts';
import { registerGdpr } from './commands/gdpr.ts';
import { registerExport } from './commands/export.ts';
import { registerGroups } from './commands/groups.ts';
import { registerImport } from './commands/import.ts';
import { registerInit } from './commands/init.ts';
import { registerLocations } from './commands/locations.ts';
import { registerMail } from './commands/mail.ts';
import { registerMessages } from './commands/messages.ts';
import { registerParents } from './commands/parents.ts';
import { registerPhotos } from './commands/photos.ts';
import { registerRetention } from './commands/retention.ts';
import { registerSchedule } from './commands/schedule.ts';
import { registerServe } from './commands/serve.ts';
import { registerStaff } from './commands/staff.ts';
import type { CliIO } from './io.ts';
import { action } from './context.ts';
import { UsageError } from './errors.ts';
import { parsePluginSettings } from '../plugins/host.ts';
import { installedPlugins } from '../plugins/index.ts';
import type { PortalPlugin } from '../plugins/types.ts';

export const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  refused: invalid input, not found, already exists, not allowed
  2  usage or configuration error
  3  database unavailable, or at another version than this code
  4  unexpected internal error (run again with --verbose and report it)

Environment: PORTAL_DATABASE_URL, PORTAL_DATA_DIR, PORTAL_PORT, ... (see \`portal config show\`)`;

/**
 * `portal <id> …` for every installed plugin with commands. The program is built before the
 * configuration is read, so a command checks at run time that its plugin is switched on. A
 * plugin whose commands throw while registering is reported on stderr and left out.
 */
function registerPlugins(program: Command, io: CliIO, plugins: readonly PortalPlugin[]): void {
  for (const plugin of plugins) {
    if (!plugin.commands) continue;
    const group = new Command(plugin.id).description(`plugin ${plugin.id}`);
    try {
      plugin.commands(group, {
        io,
        action,
        ensureEnabled(config) {
          let enabled: boolean;
          try {
            enabled = parsePluginSettings(plugin, config.plugins[plugin.id]).enabled;
          } catch (err) {
            throw new UsageError(`plugin ${plugin.id}: ${(err as Error).message}`);
          }
          if (!enabled) throw new UsageError(`plugin ${plugin.id} is switched off (plugins.${plugin.id}.enabled)`);
        },
      });
      program.addCommand(group);
    } catch (err) {
      io.stderr(`portal: plugin ${plugin.id}: commands not loaded: ${(err as Error).message}\n`);
    }
  }
}

export function createProgram(io: CliIO, plugins: readonly PortalPlugin[] = installedPlugins): Command {
  const program = new Command('portal')
    .description('Ouderportaal: provision and run the parent portal of a childcare organisation')
    .option('--json', 'print results as JSON (for scripts)')
    .option('--verbose', 'print stack traces of unexpected errors')
    .option('--config <file>', 'JSON config file (default: $PORTAL_CONFIG or ./portal.config.json)')
    .option('--data-dir <dir>', 'data folder (default: $PORTAL_DATA_DIR or ./data)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  registerInit(program, io);
  registerLocations(program, io);
  registerGroups(program, io);
  registerChildren(program, io);
  registerConsent(program, io);
  registerParents(program, io);
  registerImport(program, io);
  registerStaff(program, io);
  registerPhotos(program, io);
  registerSchedule(program, io);
  registerMail(program, io);
  registerMessages(program, io);
  registerAudit(program, io);
  registerAccess(program, io);
  registerGdpr(program, io);
  registerRetention(program, io);
  registerExport(program, io);
  registerDb(program, io);
  registerServe(program, io);
  registerConfig(program, io);
  registerPlugins(program, io, plugins);

  // Every command, however deep, reports through our error mapping instead of exiting itself.
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}
