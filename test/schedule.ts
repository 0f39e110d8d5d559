import { clockOf } from '../core/clock.ts';
import { addDays, } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addParent } from '../core/directory/parents.ts';
import { Account } from '../core/entities/account.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Parent } from '../core/entities/parent.ts';
import type { Actor } from '../core/actor.ts';
import type { Portal } from '../core/portal.ts';
import { isoWeekday } from '../core/schedule/attendance.ts';
import { publicHoliday } from '../core/schedule/holidays.ts';
import { importSchedule } from '../core/schedule/schedule-import.ts';
import { type MessageWorld, PASSWORD, seedMessageWorld } from './messages.ts';
import { admin } from './portal.ts';

/**
 * The message world (test/messages.ts) with contracted days, for the afmelden/ruilen tests:
 *   Boomhut (capacity 2): Evi (K1) every weekday, Sam (K2) ma/di/wo, Pim (K5, parent Pia) ma.
 *   Zolder: Lot (K3) ma ochtend.   Vlinder (Noord): no contract data at all.
 * `monday` is a Monday at least a week ahead: far enough for any notice period.
 */
export interface ScheduleWorld extends MessageWorld {
  monday: string;
  children: { evi: number; sam: number; lot: number; noor: number; pim: number };
  pia: Actor;
}

export const CONTRACTS_CSV = [
  'Kindnummer;Locatie;Groep;Dag;Dagdeel',
  ...['ma', 'di', 'wo', 'do', 'vr'].map((d) => `K1;Centrum;Boomhut;${d};hele dag`),
  ...['maandag', 'dinsdag', 'woensdag'].map((d) => `K2;Centrum;Boomhut;${d};`),
  'K5;Centrum;Boomhut;Monday;Whole day',
  'K3;Centrum;Zolder;ma;ochtend',
].join('\r\n');

/**
 * The week the schedule tests act in: the first Monday at least a week after `from` from which
 * fifteen days hold no public holiday. So "Evi's Tuesday" is a day the location is open whatever
 * day the tests run on (a test about holidays picks its holiday itself). Within the 28 days the
 * parent's schedule lists for every instant of test/calendar.ts.
 */
/** The first weekday on or after `from` that is no public holiday: a day the location is open. */
export function openWeekday(from: string): string {
  let d = from;
  while (isoWeekday(d) > 5 || publicHoliday(d)) d = addDays(d, 1);
  return d;
}

export function nextMonday(from: string, atLeastDays = 7): string {
  let d = addDays(from, atLeastDays);
  for (;;) {
    while (isoWeekday(d) !== 1) d = addDays(d, 1);
    const monday = d;
    if (Array.from({ length: 15 }, (_, i) => addDays(monday, i)).every((day) => publicHoliday(day) === undefined)) return monday;
    d = addDays(d, 7);
  }
}

export async function seedScheduleWorld(portal: Pick<Portal, 'em' | 'hasher'>, options: { publicUrl?: string } = {}): Promise<ScheduleWorld> {
  const w = await seedMessageWorld(portal, options);
  const em = portal.em();
  await addChild(em, admin, { childNumber: 'K5', firstName: 'Pim', lastName: 'Pietersen', birthDate: '2023-03-03', group: 'Boomhut', startDate: addDays(clockOf(em).today(), -30) });
  await addParent(em, admin, { email: 'pia@example.nl', firstName: 'Pia', lastName: 'Pietersen', children: ['K5'] });
  const pia = await em.findOneOrFail(Parent, { email: 'pia@example.nl' });
  em.create(Account, { email: pia.email, parent: pia, staff: null, passwordHash: await portal.hasher.hash(PASSWORD), passwordMustChange: false, passwordExpiresAt: null });
  await em.flush();
  await em.nativeUpdate(Group, { id: w.groups.boomhut }, { capacity: 2 });
  const report = await importSchedule(em, admin, { source: CONTRACTS_CSV });
  if (report.rowErrors.length || !report.applied) throw new Error(`contracts: ${JSON.stringify(report.rowErrors)}`);
  const id = async (n: string) => (await em.findOneOrFail(Child, { childNumber: n })).id;
  return {
    ...w,
    monday: nextMonday(clockOf(em).today()),
    children: { evi: await id('K1'), sam: await id('K2'), lot: await id('K3'), noor: await id('K4'), pim: await id('K5') },
    pia: { kind: 'parent', parentId: pia.id, label: pia.email },
  };
}
