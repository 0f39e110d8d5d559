import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { traceDownload } from '../../core/photos/downloads.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

export function registerPhotos(program: Command, io: CliIO): void {
  const photos = program.command('photos').description('photos: trace a leaked copy');

  photos
    .command('trace')
    .description('name the download a photo comes from: give the leaked file, or the code from its corner')
    .argument('<file-or-code>', 'an image file (read for the hidden trace code), or a 7-character trace code')
    .action(
      action(io, async (ctx, target: string) => {
        const input = existsSync(target) ? { file: readFileSync(target) } : { code: target };
        const t = await ctx.withPortal((em) => traceDownload(em, ctx.actor, input));
        ctx.out.print(t, (r) =>
          formatDetails([
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
}
