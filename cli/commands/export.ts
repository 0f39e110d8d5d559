import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXPORTED } from '../../core/export/tables.ts';
import { action } from '../context.ts';
import { UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';

interface ExportFlags {
  out: string;
  format: string;
  since?: string;
  tables?: string;
  gzip?: boolean;
  force?: boolean;
}

/** `portal export` (what the nightly cron job runs) and `portal restore`. Neither ever asks. */
export function registerExport(program: Command, io: CliIO): void {
  program
    .command('export')
    .description('write a consistent snapshot of the portal data (no passwords or other credentials) to a new folder in DIR')
    .requiredOption('--out <dir>', 'folder that receives export-<UTC time>/ (created when missing)')
    .option('--format <format>', 'ndjson (one JSON object per line) or csv', 'ndjson')
    .option('--since <time>', 'only rows written at or after this time (2026-11-24 or 2026-11-24T02:00:00Z)')
    .option('--tables <list>', `comma-separated tables (default all: ${EXPORTED.map((t) => t.name).join(', ')})`)
    .option('--gzip', 'compress each file (.gz)')
    .option('--force', 'write into a DIR that holds other things than earlier exports')
    .addHelpText(
      'after',
      '\nThe folder is complete when it has its final name: it is written as .export-<time>.partial and renamed\nafter manifest.json (counts, SHA-256 per file). Exit 0 only when everything was written.\nFiles are 0600 and the folders the export makes 0700, whatever the umask. A DIR holding anything but\nearlier exports is refused without --force.',
    )
    .action(
      action(io, async (ctx, f: ExportFlags) => {
        if (f.format !== 'ndjson' && f.format !== 'csv') throw new UsageError(`--format: "${f.format}" is not ndjson or csv`);
        const format = f.format;
        const tables = f.tables?.split(',').map((t) => t.trim()).filter(Boolean);
        // Loaded when run, like every command's core (see cli/program.ts).
        const { writeExport } = await import('../../core/export/export.ts');
        const r = await ctx.withPortal((em) =>
          writeExport(em, ctx.actor, { out: resolve(ctx.io.cwd, f.out), format, gzip: Boolean(f.gzip), since: f.since, tables, force: Boolean(f.force) }),
        );
        const rows = r.manifest.files.reduce((sum, file) => sum + file.rows, 0);
        ctx.out.result(
          { dir: r.dir, ...r.manifest },
          `Export written to ${r.dir}: ${r.manifest.files.length} table(s), ${rows} row(s)${r.manifest.since ? ` changed since ${r.manifest.since}` : ''}.`,
        );
      }),
    );

  program
    .command('restore')
    .description('load a backup archive (portal backup) or a complete export into a new, empty portal (checks every file first)')
    .argument('<path>', 'a backup archive (ouderportaal-backup-<time>.tar[.gz]) or an export folder (export-<time>, with its manifest.json)')
    .option('--config-to <dir>', 'backup only: where the configuration file, settings and logo are copied (default DATA_DIR/restored-config)')
    .addHelpText(
      'after',
      '\nA backup archive comes back whole (credentials, files, job queue); its configuration and logo are copied to\n--config-to for you to put in place. From an export folder, restored accounts have no password or second\nfactor (an export holds no credentials): send new ones with `portal parents invite --resend` and\n`portal staff invite --resend`.',
    )
    .action(
      action(io, async (ctx, dir: string, flags: { configTo?: string }) => {
        // A file is a backup archive (portal backup); a folder an export.
        const { isBackupArchive } = await import('../../core/backup/restore.ts');
        if (await isBackupArchive(resolve(ctx.io.cwd, dir))) {
          const { restoreBackupCommand } = await import('./backup.ts');
          return await restoreBackupCommand(ctx, dir, flags.configTo);
        }
        const { restoreExport } = await import('../../core/export/restore.ts');
        const r = await ctx.withPortal((em) => restoreExport(em, ctx.actor, dir));
        ctx.out.result(r, `Restored ${r.rows} row(s) in ${r.tables} table(s) from the snapshot of ${r.snapshotAt}.`);
      }),
    );
}
