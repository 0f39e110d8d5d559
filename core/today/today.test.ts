import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../../test/schedule.ts';
import { addDays } from '../dates.ts';
import { saveStaffEntry } from '../diary/entries.ts';
import { AuditEvent } from '../entities/audit.ts';
import { SwapCredit } from '../entities/schedule.ts';
import { isDomainError } from '../errors.ts';
import { clearPickup, pickupForm, setPickup } from '../pickup/pickup.ts';
import { cancelDay } from '../schedule/cancel.ts';
import { occupancy } from '../schedule/attendance.ts';
import { endSick, reportSick, SICK_MAX_DAYS, sickForm } from '../schedule/sick.ts';
import { decideSwap, requestSwap } from '../schedule/swaps.ts';
import { groupToday, todayGroups } from './today.ts';

/**
 * Vandaag, ziekmelden and ophalen in core, on a pinned Wednesday (the schedule world's
 * holiday-free week, whatever day the suite runs): Boomhut has Evi (every day) and Sam (ma/di/wo)
 * contracted; Sam's Wednesday is called off, Pim (contracted on Mondays only) comes on a swap
 * day, and Evi is reported ill. Expected: Pim; ill: Evi; afgemeld: Sam.
 */

let portal: TestPortal;
let w: ScheduleWorld;
let wednesday: string;

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isDomainError(err)) return err.code;
    throw err;
  }
};

beforeAll(async () => {
  portal = await createTestPortal();
  w = await seedScheduleWorld(portal);
  wednesday = addDays(w.monday, 2);
  const em = portal.em();
  // A week before, at noon: Sam's Wednesday is called off (its credit unused), Pim's Monday too,
  // and Pim's credit asks for the Wednesday, which the manager approves.
  portal.clock.set(`${addDays(w.monday, -7)}T10:30:00Z`);
  await cancelDay(em, w.actors.cor, { childId: w.children.sam, date: wednesday });
  await cancelDay(em, w.pia, { childId: w.children.pim, date: w.monday });
  const credit = await em.findOneOrFail(SwapCredit, { child: w.children.pim });
  const { requestId } = await requestSwap(em, w.pia, { childId: w.children.pim, creditId: credit.id, date: wednesday });
  await decideSwap(em, portal, w.actors.hanna, requestId, { approve: true });
  // The Wednesday itself, early (07:15 in Amsterdam in winter, 08:15 in summer).
  portal.clock.set(`${wednesday}T06:15:00Z`);
});

afterAll(async () => {
  await portal?.close();
});

describe('ziekmelden', () => {
  it('reports a child ill from today, prefilled, and it earns no swap credit', async () => {
    const em = portal.em();
    const creditsBefore = await em.count(SwapCredit, { child: w.children.evi });
    const before = await occupancy(em, w.groups.boomhut, wednesday);
    const report = await reportSick(em, w.actors.anna, { childId: w.children.evi, note: 'Koorts sinds vannacht' });
    expect(report).toMatchObject({ fromDate: wednesday, untilDate: wednesday, note: 'Koorts sinds vannacht' });
    expect(await em.count(SwapCredit, { child: w.children.evi })).toBe(creditsBefore);
    // No place given back: a manager weighing a swap still counts the ill child.
    expect(await occupancy(em, w.groups.boomhut, wednesday)).toEqual(before);
    const event = await em.findOneOrFail(AuditEvent, { type: 'child.sick_reported' }, { orderBy: { id: 'desc' } });
    expect(event.subject).toBe('K1');
    expect(JSON.stringify(event.details)).not.toContain('Koorts');
  });

  it("refuses another family's child as not found, and past or far days as invalid", async () => {
    const em = portal.em();
    expect(await code(reportSick(em, w.actors.cor, { childId: w.children.evi }))).toBe('not_found');
    expect(await code(reportSick(em, w.actors.mia, { childId: w.children.evi }))).toBe('not_found');
    expect(await code(endSick(em, w.actors.cor, w.children.evi))).toBe('not_found');
    expect(await code(sickForm(em, w.actors.eva, w.children.evi))).toBe('not_found');
    expect(await code(reportSick(em, w.actors.anna, { childId: w.children.evi, from: addDays(wednesday, -1) }))).toBe('validation');
    expect(await code(reportSick(em, w.actors.anna, { childId: w.children.evi, until: addDays(wednesday, SICK_MAX_DAYS + 1) }))).toBe('validation');
    expect(await code(reportSick(em, w.actors.anna, { childId: w.children.evi, from: addDays(wednesday, 2), until: addDays(wednesday, 1) }))).toBe('validation');
    expect(await code(reportSick(em, w.actors.anna, { childId: w.children.evi, until: 'morgen' }))).toBe('validation');
  });

  it('changes an overlapping report rather than doubling it', async () => {
    const em = portal.em();
    await reportSick(em, w.actors.bart, { childId: w.children.evi, until: addDays(wednesday, 2) });
    const form = await sickForm(em, w.actors.anna, w.children.evi);
    expect(form.open).toHaveLength(1);
    expect(form.open[0]).toMatchObject({ fromDate: wednesday, untilDate: addDays(wednesday, 2), note: null });
  });
});

describe('Vandaag', () => {
  it('expects the swap day, lists the ill child apart and the afgemeld one', async () => {
    const day = await groupToday(portal.em(), w.actors.mia, w.groups.boomhut);
    expect(day.day).toBe(wednesday);
    expect(day.closed).toBeNull();
    expect(day.expected.map((c) => [c.firstName, c.swap])).toEqual([['Pim', true]]);
    expect(day.sick.map((c) => [c.firstName, c.report.untilDate])).toEqual([['Evi', addDays(wednesday, 2)]]);
    expect(day.cancelled.map((c) => c.firstName)).toEqual(['Sam']);
  });

  it('counts the schriftje written for n of m expected children, and shows the pickup note', async () => {
    const em = portal.em();
    expect((await groupToday(em, w.actors.mia, w.groups.boomhut)).diary).toEqual({ written: 0, of: 1 });
    await saveStaffEntry(em, w.actors.mia, { lines: [] }, w.children.pim, { text: 'Lekker buiten gespeeld.' });
    // An entry for the ill child does not count: she is not one of the expected.
    await saveStaffEntry(em, w.actors.mia, { lines: [] }, w.children.evi, { text: 'Beterschap!' });
    await setPickup(em, w.pia, { childId: w.children.pim, name: 'Oma Ria', relation: 'oma', time: '16:30' });
    const day = await groupToday(em, w.actors.mia, w.groups.boomhut);
    expect(day.diary).toEqual({ written: 1, of: 1 });
    expect(day.expected[0]).toMatchObject({ firstName: 'Pim', diaryWritten: true, pickup: { name: 'Oma Ria', relation: 'oma', time: '16:30' } });
  });

  it('puts a child back among the expected once the parent says "weer beter"', async () => {
    const em = portal.em();
    await endSick(em, w.actors.anna, w.children.evi);
    const day = await groupToday(em, w.actors.mia, w.groups.boomhut);
    expect(day.expected.map((c) => c.firstName)).toEqual(['Evi', 'Pim']);
    expect(day.sick).toEqual([]);
    expect((await sickForm(em, w.actors.anna, w.children.evi)).open).toEqual([]);
    expect(await code(endSick(em, w.actors.anna, w.children.evi))).toBe('not_found');
  });

  it("is not found for staff of another group, and lists only the actor's groups", async () => {
    const em = portal.em();
    expect(await code(groupToday(em, w.actors.otto, w.groups.boomhut))).toBe('not_found');
    expect(await code(groupToday(em, w.actors.anna, w.groups.boomhut))).toBe('not_found');
    expect(await code(groupToday(em, w.actors.mia, 2_000_000))).toBe('not_found');
    expect((await todayGroups(em, w.actors.mia)).map((g) => g.name)).toEqual(['Boomhut']);
    expect((await todayGroups(em, w.actors.hanna)).map((g) => g.name)).toEqual(['Boomhut', 'Zolder']);
    expect((await todayGroups(em, admin)).length).toBe(3);
    expect((await groupToday(em, w.actors.hanna, w.groups.boomhut)).group.name).toBe('Boomhut');
  });
});

describe('ophalen', () => {
  it('sets today or tomorrow only, changes in place, and refuses another family', async () => {
    const em = portal.em();
    expect(await code(setPickup(em, w.actors.cor, { childId: w.children.pim, name: 'X', time: '16:00' }))).toBe('not_found');
    expect(await code(setPickup(em, w.pia, { childId: w.children.pim, date: addDays(wednesday, 2), name: 'Oma', time: '16:00' }))).toBe('validation');
    expect(await code(setPickup(em, w.pia, { childId: w.children.pim, date: addDays(wednesday, -1), name: 'Oma', time: '16:00' }))).toBe('validation');
    expect(await code(setPickup(em, w.pia, { childId: w.children.pim, name: '', time: '16:00' }))).toBe('validation');
    expect(await code(setPickup(em, w.pia, { childId: w.children.pim, name: 'Oma', time: '25:00' }))).toBe('validation');
    await setPickup(em, w.pia, { childId: w.children.pim, name: 'Opa Jan', time: '17:15' });
    await setPickup(em, w.pia, { childId: w.children.pim, date: addDays(wednesday, 1), name: 'Papa', time: '9:00' });
    const form = await pickupForm(em, w.pia, w.children.pim);
    expect(form.notes.map((n) => [n.date, n.name, n.time])).toEqual([
      [wednesday, 'Opa Jan', '17:15'],
      [addDays(wednesday, 1), 'Papa', '09:00'],
    ]);
    await clearPickup(em, w.pia, w.children.pim, addDays(wednesday, 1));
    expect((await pickupForm(em, w.pia, w.children.pim)).notes).toHaveLength(1);
    expect(await code(clearPickup(em, w.actors.anna, w.children.pim))).toBe('not_found');
  });
});
