import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

export function registerPhotos(program: Command, io: CliIO): void {
  const photos = program.command('photos').description('photos: trace a leaked copy, retention, export for external use');

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
