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
    .description('load a complete export into a new, empty, migrated database (checks every file first)')
    .argument('<dir>', 'an export folder (export-<time>, with its manifest.json)')
    .addHelpText(
      'after',
      '\nRestored accounts have no password or second factor (an export holds no credentials): send new ones\nwith `portal parents invite --resend` and `portal staff invite --resend`.',
    )
    .action(
      action(io, async (ctx, dir: string) => {
        const { restoreExport } = await import('../../core/export/restore.ts');
        const r = await ctx.withPortal((em) => restoreExport(em, ctx.actor, dir));
        ctx.out.result(r, `Restored ${r.rows} row(s) in ${r.tables} table(s) from the snapshot of ${r.snapshotAt}.`);
      }),
    );
}
