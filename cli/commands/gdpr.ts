import { resolve } from 'node:path';
import type { Command } from 'commander';
import { eraseParent } from '../../core/gdpr/erase.ts';
import { refuseExistingFile } from '../../core/files/private.ts';
import { exportParentData } from '../../core/gdpr/export.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

/** `portal gdpr …`: the AVG rights of access and erasure, for the privacy officer at the terminal. */
export function registerGdpr(program: Command, io: CliIO): void {
  const gdpr = program.command('gdpr').description('AVG/GDPR: export everything about a parent, or erase a parent');

  gdpr
    .command('export')
    .description('everything about a parent and their children (JSON + photos) as one ZIP')
    .argument('<email>', "the parent's e-mail address")
    .requiredOption('--out <file.zip>', 'where to write the ZIP (written under a temporary name, renamed when complete)')
    .option('--force', 'replace the file when it exists')
    .addHelpText('after', '\nThe ZIP is 0600 (and a folder made for it 0700), whatever the umask.')
    .action(
      action(io, async (ctx, email: string, f: { out: string; force?: boolean }) => {
        const file = resolve(ctx.io.cwd, f.out);
        // Before the database is opened: a wrong --out fails at once.
        await refuseExistingFile(file, { force: f.force });
        const summary = await ctx.withPortal((em, portal) => exportParentData(em, portal.photos, ctx.actor, email, file));
        ctx.out.result(
          summary,
          `Written ${summary.file}: ${summary.children} child(ren), ${summary.diaryEntries} schriftje entries, ` +
            `${summary.messages} messages, ${summary.photos} photos, ${summary.downloads} downloads, ${summary.auditEvents} audit events.`,
        );
      }),
    );

  gdpr
    .command('erase')
    .description("erase a parent: account, links, own schriftje entries; a child's schriftje and tags when no parent is left")
    .argument('<email>', "the parent's e-mail address")
    .option('--yes', 'do not ask (scripts)')
    .action(
      action(io, async (ctx, email: string, f: { yes?: boolean }) => {
        await ctx.confirm(`Erase parent ${email} for good? This cannot be undone.`, f.yes);
        const report = await ctx.withPortal((em) => eraseParent(em, ctx.actor, email));
        ctx.out.print(report, (r) =>
          formatDetails([
            ['Erased', `parent ${r.parentId}`],
            ['Children left without a parent', r.childrenWithoutGuardian.join(', ') || 'none'],
            ['Own schriftje entries removed', r.ownDiaryEntriesRemoved],
            ["Those children's schriftje entries removed", r.diaryEntriesRemoved],
            ['Conversations removed', r.threadsRemoved],
            ['Messages kept as "Verwijderde ouder"', r.messagesAnonymised],
            ['Photo tags removed', r.photoTagsRemoved],
            ['Photos hidden', r.photosHidden],
            ["Those children's sick reports removed", r.sickReportsRemoved],
            ["Those children's pickup notes removed", r.pickupNotesRemoved],
            ['Downloads kept without address', r.downloadsAnonymised],
          ]),
        );
      }),
    );
}
