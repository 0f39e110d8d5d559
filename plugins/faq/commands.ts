import type { Command } from 'commander';
import { UsageError } from '../../cli/errors.ts';
import type { PluginCommandContext } from '../types.ts';
import { FAQ_LANGUAGES, type FaqLanguage } from './entity.ts';
import { exportFaq, importFaq, listFaq } from './entries.ts';

/** `portal faq import|export|list`: the FAQ as a folder of Markdown files, for the administrator. */
export function faqCommands(group: Command, { io, action, ensureEnabled }: PluginCommandContext): void {
  group.description('frequently asked questions (afmelden, ruilen) as Markdown files');
  group
    .command('import')
    .description('replace the entries of every scope folder in DIR (organisatie/, <location>/); checks all files first')
    .argument('<dir>', 'folder laid out as DIR/organisatie/nl/01-afmelden.md, DIR/<location>/en/…')
    .option('--dry-run', 'check and count, change nothing')
    .action(
      action(io, async (ctx, dir: string, f: { dryRun?: boolean }) => {
        ensureEnabled(ctx.loadConfig().config);
        const r = await ctx.withPortal((em) => importFaq(em, ctx.actor, dir, { dryRun: f.dryRun }));
        ctx.out.result(
          r,
          `${r.dryRun ? 'Dry run, nothing changed: would have ' : ''}${r.dryRun ? 'added' : 'Added'} ${r.added}, changed ${r.changed}, removed ${r.removed}, unchanged ${r.unchanged} (${r.scopes.join(', ') || 'no scope folders'}).`,
        );
      }),
    );
  group
    .command('export')
    .description('write the entries (the shipped defaults while there are none) in the layout import reads')
    .argument('<dir>', 'a new or empty folder')
    .action(
      action(io, async (ctx, dir: string) => {
        ensureEnabled(ctx.loadConfig().config);
        const r = await ctx.withPortal((em) => exportFaq(em, ctx.actor, dir));
        ctx.out.result(r, `Wrote ${r.files} files (${r.scopes.join(', ')}) to ${dir}.`);
      }),
    );
  group
    .command('list')
    .description('the entries a location (or the organisation) shows, and where each comes from')
    .option('--location <location>', 'name or id')
    .option('--language <language>', 'nl or en (default both)')
    .action(
      action(io, async (ctx, f: { location?: string; language?: string }) => {
        ensureEnabled(ctx.loadConfig().config);
        if (f.language !== undefined && !(FAQ_LANGUAGES as readonly string[]).includes(f.language)) {
          throw new UsageError(`--language: expected ${FAQ_LANGUAGES.join(' or ')}`);
        }
        const rows = await ctx.withPortal((em) =>
          listFaq(em, ctx.actor, { location: f.location, language: f.language as FaqLanguage | undefined }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'SCOPE', value: (r) => r.scope },
            { header: 'LANG', value: (r) => r.language },
            { header: 'POS', value: (r) => r.position },
            { header: 'SLUG', value: (r) => r.slug },
            { header: 'CATEGORY', value: (r) => r.category },
            { header: 'SOURCE', value: (r) => r.source },
            { header: 'QUESTION', value: (r) => r.question },
          ],
          'No entries.',
        );
      }),
    );
}
