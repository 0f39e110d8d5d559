import type { Command } from 'commander';
import { findGroup } from '../../core/directory/refs.ts';
import { publishSlots, upcomingTalks } from '../../core/talks/slots.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';

/**
 * Oudergesprekken from the terminal (core/talks): publish a run of time slots for a group on
 * behalf of a staff member of it, and list the times ahead with who booked them. Booking stays
 * with the parents, in the portal.
 */
export function registerTalks(program: Command, io: CliIO): void {
  const talks = program.command('talks').description('oudergesprekken: time slots parents book for a talk about their child');

  talks
    .command('slots')
    .description('publish consecutive time slots for a group (Dutch time), held by a staff member of the group; the same slot again is skipped')
    .requiredOption('--group <group>', 'the group: id, name or location/name (Centrum/Boomhut)')
    .requiredOption('--date <date>', 'the day, YYYY-MM-DD')
    .requiredOption('--from <time>', 'start of the first talk, HH:MM')
    .requiredOption('--staff <email>', 'the staff member who holds the talks (works in the group)')
    .option('--count <n>', 'how many talks one after the other (1-40)', '1')
    .option('--minutes <n>', 'minutes per talk (5-240)', '15')
    .option('--place <text>', 'where (a place, a video link or both are required)')
    .option('--video <url>', 'a video link (https://)')
    .action(
      action(
        io,
        async (
          ctx,
          flags: { group: string; date: string; from: string; staff: string; count: string; minutes: string; place?: string; video?: string },
        ) => {
          const whole = (v: string) => (/^\d{1,4}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN);
          const r = await ctx.withPortal(async (em) => {
            const group = await findGroup(em, flags.group);
            return await publishSlots(em, ctx.actor, {
              groupId: group.id,
              date: flags.date,
              from: flags.from,
              count: whole(flags.count),
              minutes: whole(flags.minutes),
              place: flags.place ?? null,
              videoUrl: flags.video ?? null,
              staffEmail: flags.staff,
            });
          });
          ctx.out.result(r, `${r.created} slot(s) published${r.skipped ? `; ${r.skipped} existed already` : ''}.`);
        },
      ),
    );

  talks
    .command('list')
    .description('the time slots ahead, free and booked, per group (Dutch time)')
    .option('--group <group>', 'only this group: id, name or location/name')
    .action(
      action(io, async (ctx, flags: { group?: string }) => {
        const rows = await ctx.withPortal(async (em) => upcomingTalks(em, ctx.actor, flags.group ? (await findGroup(em, flags.group)).id : undefined));
        ctx.out.table(
          rows,
          [
            { header: 'ID', value: (s) => String(s.id) },
            { header: 'GROUP', value: (s) => `${s.locationName}/${s.groupName}` },
            { header: 'WHEN', value: (s) => `${s.date} ${s.from}-${s.until}` },
            { header: 'STAFF', value: (s) => s.staffLabel },
            { header: 'WHERE', value: (s) => [s.place, s.videoUrl].filter(Boolean).join(', ') },
            { header: 'BOOKED FOR', value: (s) => s.childName ?? 'free' },
            { header: 'BY', value: (s) => s.bookedByName ?? '' },
          ],
          'No time slots ahead.',
        );
      }),
    );
}
