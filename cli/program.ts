import { readFileSync } from 'node:fs';
import { Command, type ParseOptions } from 'commander';
import { projectPath } from '../core/project-root.ts';
import type { PortalPlugin } from '../plugins/types.ts';
import { addExamples } from './examples.ts';
import type { CliIO } from './io.ts';

export const EXIT_CODES_HELP = `
Exit codes:
  0    done
  1    refused or invalid input (validation, not allowed)
  2    usage or configuration (bad option or setting; database missing, unreachable or at another version)
  3    not found, or conflict (already exists)
  4    unexpected internal error (run again with --verbose and report it)
  5    no space left on a disk (the folder is named): free space and run again
  130  interrupted (Ctrl-C)

Environment: PORTAL_DATABASE_URL, PORTAL_DATA_DIR, PORTAL_PORT, ... (see \`portal config show\`)`;

/** Registers a command (and whatever else its module registers) on the program it is given. */
export type Register = (program: Command, io: CliIO) => unknown;

/**
 * A top-level command as `portal --help` lists it. Its module loads only when the command line
 * names it: `portal --help` and `portal config show` do not load the ORM, sharp or the web stack.
 */
export interface CommandEntry {
  name: string;
  /** The same words as the module's own `.description()` (cli/help.test.ts compares them). */
  description: string;
  load(): Promise<Register>;
}

/** The commands, in the order of `portal --help`. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    description: 'set up the organisation (asks on a terminal; in scripts give every flag); run again to change it',
    load: () => import('./commands/init.ts').then((m) => m.registerInit),
  },
  {
    name: 'locations',
    description: 'locations (vestigingen) of the organisation',
    load: () => import('./commands/locations.ts').then((m) => m.registerLocations),
  },
  { name: 'groups', description: 'groups (groepen) of a location', load: () => import('./commands/groups.ts').then((m) => m.registerGroups) },
  {
    name: 'children',
    description: 'children (kinderen) and their group placements',
    load: () => import('./commands/children.ts').then((m) => m.registerChildren),
  },
  {
    name: 'consent',
    description: 'photo consent per child: internal (shown to parents of the group) and external',
    load: () => import('./commands/consent.ts').then((m) => m.registerConsent),
  },
  {
    name: 'parents',
    description: 'parents (ouders/verzorgers) and their children',
    // `parents import` comes from the import module.
    load: async () => {
      const [{ registerParents }, { registerImport }] = await Promise.all([import('./commands/parents.ts'), import('./commands/import.ts')]);
      return (program, io) => {
        registerParents(program, io);
        registerImport(program, io);
      };
    },
  },
  {
    name: 'import',
    description: "import children, groups, photo consents and parents from the planning system's export (CSV)",
    load: () => import('./commands/import.ts').then((m) => m.registerImport),
  },
  {
    name: 'staff',
    description: 'staff: pedagogisch medewerkers, location managers, admins',
    load: () => import('./commands/staff.ts').then((m) => m.registerStaff),
  },
  {
    name: 'photos',
    description: 'photos: the processing pipeline, trace a leaked copy, retention, export for external use',
    load: () => import('./commands/photos.ts').then((m) => m.registerPhotos),
  },
  {
    name: 'schedule',
    description: 'contracted days, and the rules for cancelling and swapping them',
    load: () => import('./commands/schedule.ts').then((m) => m.registerSchedule),
  },
  {
    name: 'mail',
    description: 'the outgoing mail queue (invitations, password mails)',
    load: () => import('./commands/mail.ts').then((m) => m.registerMail),
  },
  {
    name: 'messages',
    description: 'message threads (berichten) that await the child they are about',
    load: () => import('./commands/messages.ts').then((m) => m.registerMessages),
  },
  {
    name: 'talks',
    description: 'oudergesprekken: time slots parents book for a talk about their child',
    load: () => import('./commands/talks.ts').then((m) => m.registerTalks),
  },
  {
    name: 'audit',
    description:
      'the audit log, newest first: logins, failures, password changes, invitations, suspensions, consent changes, deletions',
    load: () => import('./commands/audit.ts').then((m) => m.registerAudit),
  },
  {
    name: 'access',
    description: 'who may do what: the catalogue of actions the portal checks',
    load: () => import('./commands/access.ts').then((m) => m.registerAccess),
  },
  {
    name: 'gdpr',
    description: 'AVG/GDPR: export everything about a parent, or erase a parent',
    load: () => import('./commands/gdpr.ts').then((m) => m.registerGdpr),
  },
  {
    name: 'retention',
    description: 'retention of schriftje, messages, audit log, sick reports and pickup notes, leavers and photos (config retention.* and photos.retentionMonths)',
    load: () => import('./commands/retention.ts').then((m) => m.registerRetention),
  },
  {
    name: 'export',
    description: 'write a consistent snapshot of the portal data (no passwords or other credentials) to a new folder in DIR',
    load: () => import('./commands/export.ts').then((m) => m.registerExport),
  },
  {
    name: 'restore',
    description: 'load a backup archive (portal backup) or a complete export into a new, empty portal (checks every file first)',
    load: () => import('./commands/export.ts').then((m) => m.registerExport),
  },
  {
    name: 'backup',
    description: 'the whole portal in one archive: database, photos and other files, configuration and logo, with a manifest',
    load: () => import('./commands/backup.ts').then((m) => m.registerBackup),
  },
  { name: 'db', description: 'the database: create, migrations and status', load: () => import('./commands/db.ts').then((m) => m.registerDb) },
  {
    name: 'serve',
    description: 'run the web portal (also what `npm start` does); stops cleanly on SIGTERM/Ctrl-C',
    load: () => import('./commands/serve.ts').then((m) => m.registerServe),
  },
  {
    name: 'config',
    description: 'the settings in effect and where each comes from',
    load: () => import('./commands/config.ts').then((m) => m.registerConfig),
  },
  {
    name: 'doctor',
    description: 'check configuration, database, migrations, mail, disk, public URL, job queue and the push keys; exit 1 when a check fails',
    load: () => import('./commands/doctor.ts').then((m) => m.registerDoctor),
  },
  {
    name: 'storage',
    description: 'where photos, uploads and attachments are stored (storage.url): move them elsewhere',
    load: () => import('./commands/storage.ts').then((m) => m.registerStorage),
  },
];

/**
 * `portal <id> …` of the installed plugins (plugins/index.ts) that have commands, with the
 * description each gives its group; loading a plugin loads its entities and routes too.
 */
export const PLUGIN_COMMANDS: readonly { id: string; description: string }[] = [
  { id: 'helpdesk', description: 'questions sent with the helpdesk form' },
  { id: 'faq', description: 'frequently asked questions (afmelden, ruilen) as Markdown files' },
];

function pluginEntry(id: string, description: string, find: () => Promise<PortalPlugin | undefined>): CommandEntry {
  return {
    name: id,
    description,
    load: async () => {
      const [plugin, { action }, { parsePluginSettings }, { UsageError }] = await Promise.all([
        find(),
        import('./context.ts'),
        import('../plugins/host.ts'),
        import('./errors.ts'),
      ]);
      if (!plugin?.commands) throw new Error(`no installed plugin ${id} with commands`);
      const commands = plugin.commands;
      // The program is built before the configuration is read, so a command checks at run time
      // that its plugin is switched on.
      return (program, io) => {
        const group = program.command(plugin.id).description(`plugin ${plugin.id}`);
        commands(group, {
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
      };
    },
  };
}

const installedPluginEntries = PLUGIN_COMMANDS.map(({ id, description }) =>
  pluginEntry(id, description, () => import('../plugins/index.ts').then((m) => m.installedPlugins.find((p) => p.id === id))),
);

/** This package's version, read when asked for (`portal --version`). */
function version(): string {
  return (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
}

/** The root command with its global options and settings; every loaded command inherits them. */
function root(io: CliIO): Command {
  const program = new PortalProgram('portal')
    .description('Ouderportaal: provision and run the parent portal of a childcare organisation')
    .option('--json', 'print results as JSON (for scripts)')
    .option('--verbose', 'print stack traces of unexpected errors')
    .option('--config <file>', 'JSON config file (default: $PORTAL_CONFIG or ./portal.config.json)')
    .option('--data-dir <dir>', 'data folder (default: $PORTAL_DATA_DIR or ./data)')
    .showHelpAfterError('(run with --help for usage)');
  return configure(program, io);
}

/** Every command, however deep, reports through main's error mapping instead of exiting itself. */
function configure(cmd: Command, io: CliIO): Command {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
  for (const sub of cmd.commands) configure(sub, io);
  return cmd;
}

/**
 * The top-level command a command line runs (`portal --json staff add …`: staff; `portal help
 * db`: db), skipping global options and their values; undefined for `portal --help`.
 */
export function commandIn(program: Command, args: readonly string[]): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]));
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      if (takesValue.has(arg)) i++;
      continue;
    }
    if (arg === 'help' && !help) {
      help = true;
      continue;
    }
    return arg;
  }
  return undefined;
}

class PortalProgram extends Command {
  entries = new Map<string, CommandEntry>();
  io: CliIO | undefined;

  /** Loads the command the arguments name before commander parses them. */
  override async parseAsync(argv?: readonly string[], options?: ParseOptions): Promise<this> {
    const args = options?.from === 'user' ? (argv ?? []) : (argv ?? process.argv).slice(2);
    const name = commandIn(this, args);
    if (name !== undefined) await loadCommand(this, name);
    return super.parseAsync(argv, options);
  }
}

/**
 * Registers `name` in full in place of its one-line entry. Its module registers into a spare
 * root (a module may add more than the one command: export.ts adds `restore` too), and the
 * command is moved from there, so only what was asked for is added.
 */
export async function loadCommand(program: Command, name: string): Promise<void> {
  if (!(program instanceof PortalProgram) || !program.io) throw new Error('not a program made by createProgram');
  const entry = program.entries.get(name);
  if (!entry) return; // unknown: commander says so, with a suggestion
  const io = program.io;
  const register = await entry.load();
  const spare = root(io);
  register(spare, io);
  const cmd = spare.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`loading the command ${name} did not register it`);
  program.entries.delete(name);
  const stub = program.commands.indexOf(program.commands.find((c) => c.name() === name)!);
  (program.commands as Command[]).splice(stub, 1);
  program.addCommand(configure(cmd, io));
  addExamples(cmd, [name]);
}

/** Every command in full: for tests and documentation that walk the whole tree. */
export async function loadAllCommands(program: Command): Promise<Command> {
  if (program instanceof PortalProgram) for (const name of [...program.entries.keys()]) await loadCommand(program, name);
  return program;
}

/**
 * The `portal` program: each command listed with its description and loaded only when run
 * (parseAsync loads it; loadCommand/loadAllCommands to walk the tree). `plugins` replaces the
 * installed plugins (tests).
 */
export function createProgram(io: CliIO, plugins?: readonly PortalPlugin[]): Command {
  const program = root(io) as PortalProgram;
  program.io = io;
  program.version(version(), '-V, --version', 'print the version');
  program.addHelpText('after', EXIT_CODES_HELP);
  const pluginEntries = plugins
    ? plugins.filter((p) => p.commands).map((p) => pluginEntry(p.id, `plugin ${p.id}`, async () => p))
    : installedPluginEntries;
  for (const entry of [...COMMANDS, ...pluginEntries]) {
    program.entries.set(entry.name, entry);
    program.addCommand(configure(new Command(entry.name).description(entry.description), io));
  }
  return program;
}
