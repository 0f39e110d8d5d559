import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action } from '../context.ts';
import { EXIT, ExitStatus, UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';
import { terminalLine } from '../terminal-text.ts';

export function registerPhotos(program: Command, io: CliIO): void {
  const photos = program.command('photos').description('photos: the processing pipeline, trace a leaked copy, retention, export for external use');

  photos
    .command('status')
    .description('photos processing, overdue and failed (with the reason and whether a retry can help)')
    .action(
      action(io, async (ctx) => {
        const { photoPipelineStatus } = await import('../../core/photos/pipeline-status.ts');
        const status = await ctx.withPortal((em) => photoPipelineStatus(em, ctx.actor));
        ctx.out.print(
          status,
          (s) =>
            formatDetails([
              ['Processing', s.processing],
              ['Overdue (reaper acts)', s.overdue],
              ['Oldest in queue since', s.oldestProcessingSince],
              ['Ready', s.ready],
              ['Failed', s.failed],
            ]) +
            (s.failures.length
              ? `\nFailed (portal photos retry <photo-id> or --all tries those marked retryable again):\n${formatTable(s.failures, [
                  { header: 'PHOTO', value: (f) => f.photoId },
                  { header: 'GROUP', value: (f) => f.group },
                  { header: 'UPLOADED', value: (f) => f.uploadedAt },
                  { header: 'CODE', value: (f) => f.code },
                  { header: 'RETRYABLE', value: (f) => f.retryable },
                  { header: 'REASON', value: (f) => f.reason },
                ])}`
              : ''),
        );
      }),
    );

  photos
    .command('retry')
    .description('queue failed photos again whose upload is still kept (stuck ones); the others must be uploaded again')
    .argument('[photo-id...]', 'the photos to try again (from portal photos status)')
    .option('--all', 'every failed photo whose upload is still kept')
    .action(
      action(io, async (ctx, ids: string[], f: { all?: boolean }) => {
        if (!f.all && ids.length === 0) throw new UsageError('name the photos to try again, or give --all');
        if (f.all && ids.length) throw new UsageError('give photo ids or --all, not both');
        const { retryFailedPhotos } = await import('../../core/photos/retry.ts');
        const r = await ctx.withPortal((em, portal) => retryFailedPhotos(em, portal, ctx.actor, f.all ? 'all' : ids));
        ctx.out.result(r, `${r.retried.length} photo(s) queued again.`);
        // Each photo that could not be tried again: one line on stderr, and exit 1 for scripts.
        for (const x of r.refused) io.stderr(`${terminalLine(`${x.photoId}: ${x.message}`)}\n`);
        if (r.refused.length) throw new ExitStatus(EXIT.refused);
      }),
    );

  photos
    .command('trace')
    .description('name the download or view a photo comes from: give the leaked file, or the code from its corner')
    .argument('<file-or-code>', 'an image file (read for the hidden trace code), or a 7-character trace code')
    .action(
      action(io, async (ctx, target: string) => {
        // Loaded when run (sharp, image decoding): other commands do not carry them.
        const { traceDownload } = await import('../../core/photos/downloads.ts');
        const input = existsSync(target) ? { file: readFileSync(target) } : { code: target };
        const t = await ctx.withPortal((em) => traceDownload(em, ctx.actor, input));
        ctx.out.print(t, (r) =>
          r.kind === 'view'
            ? formatDetails([
                ['Trace code', r.traceCode],
                ['Read from', r.confidence === null ? 'the code given' : `the image (confidence ${r.confidence.toFixed(2)})`],
                ['Kind', 'display image shown to this parent (photo page, app or AVG export), not a download'],
                ['Received by', r.parentName ? `${r.parentName} <${r.email}>` : r.email],
                ['First sent at', r.downloadedAt],
                ['Last sent at', r.view?.lastAt ?? null],
                ['In AVG export', r.view?.exportedAt ?? 'no'],
                ['Photo', r.photoId],
              ])
            : formatDetails([
                ['Trace code', r.traceCode],
                ['Read from', r.confidence === null ? 'the code given' : `the image (confidence ${r.confidence.toFixed(2)})`],
                ['Downloaded by', r.parentName ? `${r.parentName} <${r.email}>` : r.email],
                ['Downloaded at', r.downloadedAt],
                ['Photo', r.photoId],
                ['IP address', r.ip],
                ['Browser', r.userAgent],
              ]),
        );
      }),
    );

  photos
    .command('prune')
    .description('remove photos older than photos.retentionMonths (rows and files) and files no photo uses')
    .option('--dry-run', 'count what would go, remove nothing')
    .action(
      action(io, async (ctx, f: { dryRun?: boolean }) => {
        const { prunePhotos } = await import('../../core/photos/retention.ts');
        const r = await ctx.withPortal((em, portal) => prunePhotos(em, portal, ctx.actor, { dryRun: f.dryRun }));
        ctx.out.result(
          r,
          `${f.dryRun ? 'Would remove' : 'Removed'} ${r.photos} photo(s) uploaded before ${r.before.slice(0, 10)} and ${r.files} unused file(s).`,
        );
      }),
    );

  photos
    .command('external-export')
    .description('copy the photos in which every tagged child has external consent (website, newsletter) to a new folder')
    .requiredOption('--out <dir>', 'a folder that does not exist yet (or is empty)')
    .action(
      action(io, async (ctx, f: { out: string }) => {
        const { exportExternalPhotos } = await import('../../core/photos/external-export.ts');
        const r = await ctx.withPortal((em, portal) => exportExternalPhotos(em, portal, ctx.actor, f.out));
        ctx.out.result(r, `${r.photos} photo(s) written to ${r.dir} (list in photos.csv).`);
      }),
    );
}
