import { DELETED_ROW_DAYS } from '../../core/export/tables.ts';
import type { Command } from 'commander';
import { applyRetention } from '../../core/retention/retention.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

/** `portal retention run`: what the server does once a day, by hand or from cron, with a report. */
export function registerRetention(program: Command, io: CliIO): void {
  program
    .command('retention')
    .description('retention of schriftje, messages, audit log, sick reports and pickup notes, leavers and photos (config retention.* and photos.retentionMonths)')
    .command('run')
    .description('remove what is past its retention period now, and report it (the server also does this daily)')
    .option('--dry-run', 'only count what would be removed')
    .action(
      action(io, async (ctx, f: { dryRun?: boolean }) => {
        const r = await ctx.withPortal((em, portal) => applyRetention(em, portal, ctx.actor, { dryRun: f.dryRun }));
        ctx.out.print(r, (x) =>
          formatDetails([
            [x.dryRun ? 'Would remove (dry run)' : 'Removed', ''],
            ['Schriftje entries', x.diaryEntries],
            ['Conversations', x.threads],
            ['Announcements', x.announcements],
            ['Audit events', x.auditEvents],
            ['Sick reports', x.sickReports],
            ['Pickup notes', x.pickupNotes],
            [`Deletion keys for export --since (over ${DELETED_ROW_DAYS} days)`, x.deletions],
            ['Children who left', x.leavers.children.join(', ') || 'none'],
            ["  their schriftje entries", x.leavers.diaryEntries],
            ['  their conversations', x.leavers.threads],
            ['  their photo tags', x.leavers.photoTags],
            ['  photos hidden', x.leavers.photosHidden],
            ['  their sick reports', x.leavers.sickReports],
            ['  their pickup notes', x.leavers.pickupNotes],
            ['Photos', x.photos],
            ['Photo files', x.photoFiles],
          ]),
        );
      }),
    );
}
