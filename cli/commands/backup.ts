import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { projectPath } from '../../core/project-root.ts';
import type { DumpFormat } from '../../core/backup/backup.ts';
import type { CommandContext } from '../command-context.ts';
import { action } from '../context.ts';
import { ExitStatus, EXIT } from '../errors.ts';
import type { CliIO } from '../io.ts';

interface BackupFlags {
  out: string;
  gzip?: boolean;
  force?: boolean;
}

const CONFIG_FILE_SOURCE = /^config file (.+)$/;

/** `portal backup`: the whole portal in one archive (restored by `portal restore FILE`, cli/commands/export.ts). */
export function registerBackup(program: Command, io: CliIO): void {
  program
    .command('backup')
    .description('the whole portal in one archive: database, photos and other files, configuration and logo, with a manifest')
    .requiredOption('--out <path>', 'the archive to write, or a folder for ouderportaal-backup-<UTC time>.tar[.gz]')
    .option('--gzip', 'compress the archive (photos and the dump are compressed already: little gain)')
    .option('--force', 'replace an existing file at --out')
    .addHelpText(
      'after',
      '\nThe archive is 0600, written as .<name>.partial and renamed when complete. It holds password hashes and the\nserver keys: keep it as carefully as the database. The database goes in as pg_dump\'s custom format when a\npg_dump of the server\'s major version or newer is found (PORTAL_PG_BIN, the embedded PostgreSQL package,\n/usr/lib/postgresql/<version>/bin, PATH), else as the portal\'s own COPY dump, which needs no client tools\n(the embedded PostgreSQL ships none). PORTAL_BACKUP_DUMP=pg_dump or native forces one (default auto).\nRestore with `portal restore FILE` into an empty portal.',
    )
    .action(
      action(io, async (ctx, f: BackupFlags) => {
        const { sources, config } = ctx.loadConfig();
        const [{ writeBackup }, { redactUrl }] = await Promise.all([import('../../core/backup/backup.ts'), import('../../core/portal.ts')]);
        const settings: Record<string, { value: unknown; source: string }> = {};
        for (const [key, source] of Object.entries(sources)) {
          const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
          settings[key] = { value: key === 'database.url' && typeof value === 'string' ? redactUrl(value) : value, source };
        }
        const configFile = Object.values(sources)
          .map((s) => CONFIG_FILE_SOURCE.exec(s)?.[1])
          .find(Boolean);
        const version = (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
        const started = performance.now();
        const r = await ctx.withPortal((em, portal) =>
          writeBackup(portal, em, ctx.actor, {
            out: resolve(ctx.io.cwd, f.out),
            gzip: Boolean(f.gzip),
            force: Boolean(f.force),
            portalVersion: version,
            dump: (ctx.io.env.PORTAL_BACKUP_DUMP || 'auto') as DumpFormat,
            configFile,
            settings,
            env: ctx.io.env as NodeJS.ProcessEnv,
            binDir: ctx.io.env.PORTAL_PG_BIN,
            pathEnv: ctx.io.env.PATH,
          }),
        );
        const rows = Object.values(r.manifest.database.tables).reduce((a, b) => a + b, 0);
        const db = r.manifest.database;
        const how = db.format === 'native' ? 'native dump' : `pg_dump ${db.pgDumpMajor}`;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        ctx.out.result(
          { file: r.file, bytes: r.bytes, ...r.manifest },
          `Backup written to ${r.file}: ${rows} row(s) in ${Object.keys(db.tables).length} table(s) (${how}), ${r.manifest.files.length} file(s), ${r.manifest.config.length} configuration file(s); ${r.bytes} bytes in ${seconds} s.`,
        );
      }),
    );
}

/**
 * `portal restore FILE` of a backup archive: into an empty portal (a new database, an empty
 * data folder or bucket), then the comparison. Opened without migrating: the dump brings the
 * schema with it, and a migrated database would not be empty.
 */
export async function restoreBackupCommand(ctx: CommandContext, file: string, configTo: string | undefined): Promise<void> {
  const { restoreBackup } = await import('../../core/backup/restore.ts');
  const { config } = ctx.loadConfig();
  const r = await ctx.withPortal(
    (em, portal) =>
      restoreBackup(portal, em, ctx.actor, resolve(ctx.io.cwd, file), {
        configTo: resolve(ctx.io.cwd, configTo ?? join(config.dataDir, 'restored-config')),
        env: ctx.io.env as NodeJS.ProcessEnv,
        binDir: ctx.io.env.PORTAL_PG_BIN,
        pathEnv: ctx.io.env.PATH,
      }),
    { migrate: 'none' },
  );
  if (!ctx.out.json)
    ctx.out.table(
    r.tables.filter((t) => t.expected || t.restored),
    [
      { header: 'TABLE', value: (t) => t.table },
      { header: 'IN BACKUP', value: (t) => String(t.expected) },
      { header: 'RESTORED', value: (t) => String(t.restored) },
      { header: '', value: (t) => (t.expected === t.restored ? 'ok' : 'DIFFERENT') },
    ],
    'no rows',
  );
  const rows = r.tables.reduce((a, t) => a + t.restored, 0);
  const config_ = r.config.length ? ` Configuration and logo copied to ${r.config.join(', ')}: put them in place and restart.` : '';
  ctx.out.result(
    r,
    r.ok
      ? `Restored the backup of ${r.createdAt}: ${rows} row(s) in ${r.tables.length} table(s) and ${r.files.restored} file(s), all as in the manifest.${config_}`
      : `Restore incomplete: ${r.tables.filter((t) => t.expected !== t.restored).length} table(s) differ, ${r.files.missing.length} file(s) missing (${r.files.missing.slice(0, 3).join(', ')}).`,
  );
  if (!r.ok) throw new ExitStatus(EXIT.refused);
}
