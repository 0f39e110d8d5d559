import type { Command } from 'commander';
import { action } from '../context.ts';
import { EXIT, ExitStatus, UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatTable } from '../output.ts';

interface MigrateFlags {
  to: string;
  dryRun?: boolean;
}

/** How often a progress line goes to stderr, in keys. */
const PROGRESS_EVERY = 500;

export function registerStorage(program: Command, io: CliIO): void {
  const storage = program.command('storage').description('where photos, uploads and attachments are stored (storage.url): move them elsewhere');

  storage
    .command('migrate')
    .description('copy every photo, upload and attachment to another location, checking each by its SHA-256; run again to resume')
    .requiredOption('--to <url>', 'the new location: a folder, file:// URL or s3://bucket?endpoint=…&region=…&forcePathStyle=true')
    .option('--dry-run', 'count what would be copied, copy nothing')
    .addHelpText(
      'after',
      '\nReads from the location in effect (storage.url, default the data folder) and writes nothing there. What the target\nalready holds with the same size is skipped, so an interrupted run continues where it stopped. Progress goes to\nstderr, the summary to stdout. Exit 1 when some content at the source does not match its SHA-256 (listed).\nAfterwards set PORTAL_STORAGE_URL to the new location and restart; run once more while stopped to catch the last uploads.',
    )
    .action(
      action(io, async (ctx, f: MigrateFlags) => {
        const [{ parseStorageUrl, describeStorage }, { configuredLocation, openConfiguredStorage, openStorage }, { migrateStorage }] = await Promise.all([
          import('../../config/storage-url.ts'),
          import('../../core/storage/open.ts'),
          import('../../core/storage/migrate.ts'),
        ]);
        const { config } = ctx.loadConfig();
        let target: ReturnType<typeof parseStorageUrl>;
        try {
          target = parseStorageUrl(f.to, ctx.io.cwd);
        } catch (err) {
          throw new UsageError(`--to: ${(err as Error).message}`);
        }
        const current = configuredLocation(config);
        if (describeStorage(current) === describeStorage(target)) throw new UsageError(`--to: that is where the files are already (${describeStorage(current)})`);

        const from = await openConfiguredStorage(config);
        const to = await openStorage(target);
        try {
          const report = await migrateStorage(from, to, {
            dryRun: f.dryRun,
            onProgress: ({ store, counts }) => {
              if (counts.checked % PROGRESS_EVERY === 0) {
                ctx.io.stderr(`${store}: ${counts.checked} checked, ${counts.copied} ${f.dryRun ? 'to copy' : 'copied'}, ${counts.present} already there\n`);
              }
            },
          });
          const rows = Object.entries(report.stores).map(([store, c]) => ({ store, ...c }));
          const total = rows.reduce((sum, r) => ({ copied: sum.copied + r.copied, present: sum.present + r.present, bytes: sum.bytes + r.bytes }), {
            copied: 0,
            present: 0,
            bytes: 0,
          });
          ctx.out.print(report, () => {
            const table = formatTable(rows, [
              { header: 'store', value: (r) => r.store },
              { header: 'checked', value: (r) => r.checked },
              { header: f.dryRun ? 'to copy' : 'copied', value: (r) => r.copied },
              { header: 'already there', value: (r) => r.present },
              { header: 'vanished', value: (r) => r.vanished },
              { header: 'damaged', value: (r) => r.failed },
              { header: 'bytes', value: (r) => r.bytes },
            ]);
            const failures = report.failures.map((x) => `damaged at the source: ${x.store}/${x.key} (${x.reason})\n`).join('');
            const verb = f.dryRun ? 'Would copy' : 'Copied';
            return `${table}${failures}${verb} ${total.copied} file(s) (${total.bytes} bytes) from ${report.from} to ${report.to}; ${total.present} already there.\n`;
          });
          if (report.failures.length) throw new ExitStatus(EXIT.refused);
        } finally {
          from.close();
          to.close();
        }
      }),
    );
}
