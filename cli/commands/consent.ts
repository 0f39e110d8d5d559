import type { Command } from 'commander';
import { type ConsentView, listConsent, setConsent, showConsent } from '../../core/directory/consent.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatTable } from '../output.ts';

const yn = (b: boolean) => (b ? 'yes' : 'no');

const details = (c: ConsentView) =>
  `${c.name} (${c.childNumber})\n` +
  (c.current
    ? `In force: internal (portal) ${yn(c.current.internal)}, external (website, social media, print) ${yn(c.current.external)}\n`
    : 'No consent recorded: photos of this child are not shared.\n') +
  (c.history.length
    ? `\nHistory (newest first):\n${formatTable(c.history, [
        { header: 'RECORDED AT', value: (h) => h.recordedAt.replace('T', ' ').slice(0, 19) },
        { header: 'INTERNAL', value: (h) => yn(h.internal) },
        { header: 'EXTERNAL', value: (h) => yn(h.external) },
        { header: 'SOURCE', value: (h) => h.source },
        { header: 'BY', value: (h) => h.recordedBy },
        { header: 'NOTE', value: (h) => h.note },
      ])}`
    : '');

export function registerConsent(program: Command, io: CliIO): void {
  const consent = program
    .command('consent')
    .description('photo consent per child: internal (shown to parents of the group) and external');

  consent
    .command('set')
    .description('record a consent statement; earlier statements stay in the history')
    .argument('<childNumber>', 'child number')
    .requiredOption('--internal <yes|no>', 'photos may be shown to the parents of the group (ja/nee, yes/no)')
    .requiredOption('--external <yes|no>', 'photos may be used on the website, social media and in print')
    .option('--note <text>', 'why, or who gave it (e.g. "intake with mother, form 12-03")')
    .action(
      action(io, async (ctx, number: string, f: { internal: string; external: string; note?: string }) => {
        const c = await ctx.withPortal((em) => setConsent(em, ctx.actor, number, f));
        ctx.out.result(
          c,
          c.changed
            ? `Consent of ${c.name} (${c.childNumber}) recorded: internal ${yn(c.current!.internal)}, external ${yn(c.current!.external)}.`
            : `Consent of ${c.name} (${c.childNumber}) was already so; nothing recorded.`,
        );
      }),
    );

  consent
    .command('show')
    .description("show a child's consent in force and its full history")
    .argument('<childNumber>', 'child number')
    .action(
      action(io, async (ctx, number: string) => {
        ctx.out.print(await ctx.withPortal((em) => showConsent(em, ctx.actor, number)), details);
      }),
    );

  consent
    .command('list')
    .description('consent overview of a group or location')
    .option('--group <group>', 'only this group')
    .option('--location <location>', 'only this location')
    .option('--missing', 'only children without internal consent')
    .action(
      action(io, async (ctx, f: { group?: string; location?: string; missing?: boolean }) => {
        const rows = await ctx.withPortal((em) => listConsent(em, ctx.actor, f));
        ctx.out.table(
          rows,
          [
            { header: 'NUMBER', value: (c) => c.childNumber },
            { header: 'NAME', value: (c) => c.name },
            { header: 'GROUP', value: (c) => c.group },
            { header: 'INTERNAL', value: (c) => (c.consent ? yn(c.consent.internal) : 'not recorded') },
            { header: 'EXTERNAL', value: (c) => (c.consent ? yn(c.consent.external) : 'not recorded') },
          ],
          'No children found.',
        );
      }),
    );
}
