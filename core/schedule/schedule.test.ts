import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE } from '../../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { openWeekday, type ScheduleWorld, seedScheduleWorld } from '../../test/schedule.ts';
import { freePort, startSmtpSink, type SmtpSink } from '../../test/smtp.ts';
import type { Actor } from '../actor.ts';
import { addDays, } from '../dates.ts';
import { presentChildren } from '../diary/day-sheet.ts';
import { linkParent, unlinkParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Child } from '../entities/child.ts';
import { AuditEvent } from '../entities/audit.ts';
import { ContractDay, DayCancellation, SwapCredit, SwapRequest } from '../entities/schedule.ts';
import { Staff } from '../entities/staff.ts';
import { isDomainError } from '../errors.ts';
import { isoWeekday, occupancy } from './attendance.ts';
import { cancelDay, undoCancel, undoCancellation } from './cancel.ts';
import { creditsOf } from './credits.ts';
import { composeDecisionMail, DECISION_MAIL_QUEUE, type DecisionMailJob, sendDecisionMail, startDecisionMailWorker } from './decision-mail.ts';
import { publicHoliday, publicHolidays } from './holidays.ts';
import { childSchedule } from './overview.ts';
import { isRefusal } from './refusal.ts';
import { setRules } from './rules.ts';
import { reportSick, SICK_MAX_DAYS } from './sick.ts';
import { importSchedule } from './schedule-import.ts';
import { cancelSwapDay, decideSwap, requestSwap, swapRequestsInScope, withdrawSwap } from './swaps.ts';

/**
 * Afmelden and ruilen in core: the rules, mostly from the side of what must be refused, and
 * who may not act (another family, a manager elsewhere, group staff deciding).
 */

let portal: TestPortal;
let smtp: SmtpSink;
let w: ScheduleWorld;
let noordManager: Actor;
let smtpPort: number;

/** The outcome of a call: 'ok', a refusal's reason, or an error code. */
const outcome = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isRefusal(err)) return err.reason;
    if (isDomainError(err)) return err.code;
    throw err;
  }
};
/** Noon in Amsterdam (11:00 UTC in winter, 10:00 in summer: both after 09:00, before 17:00). */
const noonOn = (date: string) => new Date(`${date}T10:30:00Z`);
/** Early morning in Amsterdam: before a 09:00 deadline in summer and winter. */
const earlyOn = (date: string) => new Date(`${date}T06:00:00Z`);
const dayBefore = (date: string) => noonOn(addDays(date, -1));

beforeAll(async () => {
  smtpPort = await freePort();
  smtp = await startSmtpSink(smtpPort);
  // Short retry delays: the outage test waits for a retry.
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url, 'mail.retryDelaySeconds': 1 });
  w = await seedScheduleWorld(portal);
  await addStaff(portal.em(), admin, { email: 'nina@example.nl', firstName: 'Nina', lastName: 'Noord', role: 'manager' });
  await assignStaff(portal.em(), admin, 'nina@example.nl', { location: 'Noord' });
  const nina = await portal.em().findOneOrFail(Staff, { email: 'nina@example.nl' });
  noordManager = { kind: 'manager', staffId: nina.id, label: nina.email };
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('portal schedule import', () => {
  const header = 'Kindnummer;Locatie;Groep;Dag;Dagdeel;Vanaf';

  it('checks every row first: one bad row imports nothing, each problem named by line and column', async () => {
    const before = await portal.em().count(ContractDay, {});
    const report = await importSchedule(portal.em(), admin, {
      source: [header, 'K1;Centrum;Boomhut;ma;hele dag;', 'K2;Centrum;Boomhut;zo;hele dag;', 'K4;Centrum;Boomhut;di;;', 'K3;Centrum;Zolder;di;avond;31-02-2030'].join('\n'),
    });
    expect(report.applied).toBe(false);
    expect(report.rowErrors.map((e) => `${e.line}/${e.column}`)).toEqual(['3/Dag', '4/Groep', '5/Dagdeel', '5/Vanaf']);
    expect(report.rowErrors[0]!.message).toMatch(/"zo" is not a weekday/);
    // Noor is placed in Vlinder (Noord), not in Boomhut.
    expect(report.rowErrors[1]!.message).toBe('child K4 is not placed in group "Boomhut" in that period');
    expect(await portal.em().count(ContractDay, {})).toBe(before);
  });

  it('is idempotent, replaces only the days of the children in the file, and a dry run writes nothing', async () => {
    const again = await importSchedule(portal.em(), admin, {
      source: ['Kindnummer;Groep;Dag', ...['ma', 'di', 'wo', 'do', 'vr'].map((d) => `K1;Boomhut;${d}`)].join('\n'),
    });
    expect(again.children).toEqual({ created: 0, updated: 0, unchanged: 1 });
    const file = ['Kindnummer;Groep;Dag;Dagdeel', 'K3;Zolder;di;middag'].join('\n');
    const dry = await importSchedule(portal.em(), admin, { source: file }, { dryRun: true });
    expect(dry.children).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect((await portal.em().find(ContractDay, { child: w.children.lot })).map((c) => c.weekday)).toEqual([1]);
    await importSchedule(portal.em(), admin, { source: file });
    expect((await portal.em().fork().find(ContractDay, { child: w.children.lot })).map((c) => [c.weekday, c.part])).toEqual([[2, 'afternoon']]);
    expect(await portal.em().fork().count(ContractDay, { child: w.children.evi })).toBe(5);
  });
});

describe('afmelden', () => {
  it('on the day itself only before the deadline: later it is refused with the reason', async () => {
    const friday = addDays(w.monday, 4);
    const err = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: friday }, noonOn(friday)).catch((e) => e);
    expect(isRefusal(err) && err.reason).toBe('after_deadline');
    expect(err.message).toBe('a day can be cancelled on the day itself only before 09:00');
    expect(await portal.em().count(DayCancellation, { child: w.children.evi, date: friday })).toBe(0);
    const done = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: friday }, earlyOn(friday));
    expect(done.credit?.expiresOn).toBe(addDays(friday, 8 * 7));
    expect(await outcome(cancelDay(portal.em(), w.actors.bart, { childId: w.children.evi, date: friday }, earlyOn(friday)))).toBe('already_cancelled');
    expect(await outcome(cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: addDays(w.monday, 5) }))).toBe('not_contracted');
    expect(await portal.em().count(AuditEvent, { type: 'day.cancelled' })).toBe(1);
  });

  it('a closed public holiday is no contracted day: not cancellable, not requestable', async () => {
    const t = portal.clock.today();
    const year = Number(t.slice(0, 4));
    const holiday = [...publicHolidays(year), ...publicHolidays(year + 1)].find((h) => h.date > addDays(t, 1) && isoWeekday(h.date) <= 5)!;
    const err = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: holiday.date }, dayBefore(holiday.date)).catch((e) => e);
    expect(isRefusal(err) && err.reason).toBe('holiday');
    expect(err.message).toContain(holiday.name);
    const [credit] = (await creditsOf(portal.em(), [w.children.evi])).get(w.children.evi)!;
    expect(await outcome(requestSwap(portal.em(), w.actors.anna, { childId: w.children.evi, creditId: credit!.id, date: holiday.date }))).toBe('holiday');
  });

  it('the credit lasts creditValidWeeks weeks from the cancelled day, as the rules say when cancelling', async () => {
    await setRules(portal.em(), admin, 'Centrum', { creditValidWeeks: 2 });
    const wednesday = addDays(w.monday, 2);
    const done = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: wednesday });
    expect(done.credit?.expiresOn).toBe(addDays(wednesday, 14));
    await setRules(portal.em(), admin, 'Centrum', { creditValidWeeks: 'inherit' });
  });

  it('where half days are not swappable, a half day is cancelled without credit', async () => {
    await setRules(portal.em(), admin, 'Centrum', { halfDaysSwappable: false });
    // Lot comes on Tuesday afternoons since the import above.
    const done = await cancelDay(portal.em(), w.actors.cor, { childId: w.children.lot, date: addDays(w.monday, 1) });
    expect(done.credit).toBeNull();
    await setRules(portal.em(), admin, 'Centrum', { halfDaysSwappable: 'inherit' });
    // A half-day credit earned while allowed cannot be used once the location says whole days only.
    const half = (await cancelDay(portal.em(), w.actors.cor, { childId: w.children.lot, date: addDays(w.monday, 8) })).credit!;
    await setRules(portal.em(), admin, 'Centrum', { halfDaysSwappable: false });
    const ask = requestSwap(portal.em(), w.actors.cor, { childId: w.children.lot, creditId: half.id, date: addDays(w.monday, 3) });
    expect(await outcome(ask)).toBe('whole_days_only');
    await setRules(portal.em(), admin, 'Centrum', { halfDaysSwappable: 'inherit' });
  });

  it('an afmelding can be undone under the same deadline; its credit goes with it', async () => {
    const day = addDays(w.monday, 7);
    await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: day });
    expect(await outcome(undoCancel(portal.em(), w.actors.cor, { childId: w.children.evi, date: day }))).toBe('not_found');
    expect(await outcome(undoCancel(portal.em(), w.actors.bart, { childId: w.children.evi, date: day }, noonOn(day)))).toBe('after_deadline');
    await undoCancel(portal.em(), w.actors.bart, { childId: w.children.evi, date: day });
    expect(await portal.em().fork().count(DayCancellation, { child: w.children.evi, date: day })).toBe(0);
    expect(await portal.em().fork().count(SwapCredit, { child: w.children.evi, sourceDate: day })).toBe(0);
    expect(await outcome(undoCancel(portal.em(), w.actors.bart, { childId: w.children.evi, date: day }))).toBe('not_found');
  });

  it('an afmelding can be undone by its id (the app); the schedule names the id, another family is told not found', async () => {
    // The last contracted day the schedule lists (four weeks), clear of the other tests' days.
    const upcoming = (await childSchedule(portal.em(), w.actors.anna, w.children.evi)).days;
    const day = upcoming.filter((d) => !d.cancelled && !d.refusal && d.date > addDays(w.monday, 8)).at(-1)!.date;
    const { cancellationId } = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: day });
    const listed = (await childSchedule(portal.em(), w.actors.anna, w.children.evi)).days.find((d) => d.date === day);
    expect(listed).toMatchObject({ cancelled: true, cancellationId, undoable: true });
    // Someone else's id and an id that does not exist read the same.
    const other = await undoCancellation(portal.em(), w.actors.cor, cancellationId).catch((e: Error) => e.message);
    const missing = await undoCancellation(portal.em(), w.actors.cor, cancellationId + 10_000).catch((e: Error) => e.message);
    expect(other).toBe(missing);
    expect(await outcome(undoCancellation(portal.em(), w.actors.mia, cancellationId))).toBe('not_found');
    expect(await outcome(undoCancellation(portal.em(), w.actors.anna, cancellationId, noonOn(day)))).toBe('after_deadline');
    await undoCancellation(portal.em(), w.actors.anna, cancellationId);
    expect(await portal.em().fork().count(DayCancellation, { id: cancellationId })).toBe(0);
  });

  it('another family, or staff, cannot cancel (not found), and nothing is written', async () => {
    const input = { childId: w.children.evi, date: addDays(w.monday, 3) };
    expect(await outcome(cancelDay(portal.em(), w.actors.cor, input))).toBe('not_found');
    expect(await outcome(cancelDay(portal.em(), w.actors.mia, input))).toBe('not_found');
    expect(await outcome(cancelDay(portal.em(), noordManager, input))).toBe('not_found');
    expect(await portal.em().count(DayCancellation, { child: w.children.evi, date: input.date })).toBe(0);
  });
});

describe('ruilen', () => {
  const thursday = () => addDays(w.monday, 3);
  let samCredit: number;
  let pimCredit: number;
  let samRequest: number;
  let pimRequest: number;

  it('requests need an own, unused credit and a day with room; the rules refuse with reasons', async () => {
    samCredit = (await cancelDay(portal.em(), w.actors.cor, { childId: w.children.sam, date: w.monday })).credit!.id;
    pimCredit = (await cancelDay(portal.em(), w.pia, { childId: w.children.pim, date: w.monday })).credit!.id;
    const ask = (actor: Actor, childId: number, creditId: number, date: string, now?: Date) =>
      outcome(requestSwap(portal.em(), actor, { childId, creditId, date }, now));
    // Another family's child, or one's own child with another child's credit: not found.
    expect(await ask(w.actors.cor, w.children.pim, pimCredit, thursday())).toBe('not_found');
    expect(await ask(w.actors.cor, w.children.sam, pimCredit, thursday())).toBe('not_found');
    expect(await ask(w.actors.cor, w.children.sam, samCredit, addDays(w.monday, 5))).toBe('weekend');
    expect(await ask(w.actors.cor, w.children.sam, samCredit, addDays(w.monday, 1))).toBe('already_there');
    // Today is inside the notice period; on a weekend or a closed holiday that is the reason given.
    const today = portal.clock.today();
    const todayRefusal = isoWeekday(today) > 5 ? 'weekend' : publicHoliday(today) ? 'holiday' : 'notice';
    expect(await ask(w.actors.cor, w.children.sam, samCredit, today)).toBe(todayRefusal);
    expect(await ask(w.actors.cor, w.children.sam, samCredit, openWeekday(addDays(w.monday, 57)))).toBe('after_expiry');
    // A credit expires: asked for after its expiry date, it is refused.
    const expiry = addDays(w.monday, 56);
    expect(await ask(w.actors.cor, w.children.sam, samCredit, addDays(expiry, 3), noonOn(addDays(expiry, 1)))).toBe('credit_expired');
    expect((await creditsOf(portal.em(), [w.children.sam], noonOn(addDays(expiry, 1)))).get(w.children.sam)![0]!.state).toBe('expired');

    // Thursday: Evi only, 1 of 2 places taken; both may ask.
    expect(await occupancy(portal.em(), w.groups.boomhut, thursday())).toEqual({ morning: 1, afternoon: 1, capacity: 2 });
    samRequest = (await requestSwap(portal.em(), w.actors.cor, { childId: w.children.sam, creditId: samCredit, date: thursday() })).requestId;
    pimRequest = (await requestSwap(portal.em(), w.pia, { childId: w.children.pim, creditId: pimCredit, date: thursday() })).requestId;
    expect(await ask(w.actors.cor, w.children.sam, samCredit, addDays(w.monday, 4))).toBe('credit_in_use');
  });

  it('only the manager of the location (or an admin) decides; staff may see but not decide', async () => {
    expect((await swapRequestsInScope(portal.em(), w.actors.mia)).map((r) => r.id).sort()).toEqual([samRequest, pimRequest].sort());
    expect(await swapRequestsInScope(portal.em(), noordManager)).toEqual([]);
    expect(await outcome(decideSwap(portal.em(), portal, w.actors.mia, samRequest, { approve: true }))).toBe('forbidden');
    expect(await outcome(decideSwap(portal.em(), portal, noordManager, samRequest, { approve: true }))).toBe('not_found');
    expect(await outcome(decideSwap(portal.em(), portal, w.actors.otto, samRequest, { approve: true }))).toBe('not_found');
    expect(await outcome(decideSwap(portal.em(), portal, w.actors.cor, samRequest, { approve: true }))).toBe('not_found');
    expect(await portal.em().fork().count(SwapRequest, { status: 'pending' })).toBe(2);
  });

  it('two approvals at once cannot overfill the day: one is approved, the other refused as full', async () => {
    const pending = (await swapRequestsInScope(portal.em(), w.actors.hanna, { status: 'pending' })).find((r) => r.id === samRequest)!;
    expect(pending.occupancy).toEqual({ morning: 1, afternoon: 1, capacity: 2 });
    const results = await Promise.all(
      [samRequest, pimRequest].map((id) => outcome(decideSwap(portal.em(), portal, w.actors.hanna, id, { approve: true }))),
    );
    expect(results.sort()).toEqual(['full', 'ok']);
    expect(await occupancy(portal.em(), w.groups.boomhut, thursday())).toEqual({ morning: 2, afternoon: 2, capacity: 2 });
    // The attending list of the schriftje follows: Evi and whoever got the place.
    const winner = results[0] === 'ok' ? 'Sam' : 'Pim';
    const names = (await presentChildren(portal.em(), w.groups.boomhut, thursday())).map((c) => c.firstName).sort();
    expect(names.length).toBe(2);
    expect(names).toContain('Evi');
    expect(['Pim', 'Sam']).toContain(winner);
  });

  it('a rejection needs a reason; the parent gets the decision by mail, with the reason', async () => {
    const loser = (await portal.em().fork().findOneOrFail(SwapRequest, { status: 'pending' }));
    expect(await outcome(decideSwap(portal.em(), portal, w.actors.hanna, loser.id, { approve: false, reason: '  ' }))).toBe('reason_required');
    await decideSwap(portal.em(), portal, w.actors.hanna, loser.id, { approve: false, reason: 'Donderdag is <vol>' });
    const jobs = (await (await portal.jobs()).boss.fetch<DecisionMailJob>(DECISION_MAIL_QUEUE, { batchSize: 10 })) ?? [];
    expect(jobs.map((j) => j.data)).toEqual(expect.arrayContaining([{ requestId: loser.id }]));
    for (const job of jobs) expect(await sendDecisionMail(portal, job.data)).toBe('sent');
    const to = loser.child.id === w.children.sam ? PEOPLE.cor : 'pia@example.nl';
    await expect.poll(() => smtp.to(to).length).toBe(1);
    const mail = smtp.to(to)[0]!;
    expect(mail.subject).toMatch(/^Ruildag niet mogelijk: /);
    expect(mail.text).toContain('Reden: Donderdag is <vol>');
    expect(String(mail.html)).toContain('Donderdag is &lt;vol&gt;');
    expect(mail.text).toContain('https://ouders.example.nl/ruilen');
    // A parent who is no longer the child's parent when the mail goes gets nothing about it.
    const { childNumber } = await portal.em().fork().findOneOrFail(Child, loser.child.id);
    await unlinkParent(portal.em(), admin, to, childNumber);
    try {
      expect(await sendDecisionMail(portal, { requestId: loser.id })).toBe('skipped');
    } finally {
      await linkParent(portal.em(), admin, to, childNumber);
    }
    expect(smtp.to(to)).toHaveLength(1);

    // Its credit is free again, but Thursday is full now: refused at once.
    const actor = loser.child.id === w.children.sam ? w.actors.cor : w.pia;
    const credit = loser.child.id === w.children.sam ? samCredit : pimCredit;
    expect(await outcome(requestSwap(portal.em(), actor, { childId: loser.child.id, creditId: credit, date: thursday() }))).toBe('full');
    // Friday has room: ask, then take it back; another family cannot withdraw it.
    const { requestId } = await requestSwap(portal.em(), actor, { childId: loser.child.id, creditId: credit, date: addDays(w.monday, 4) });
    expect(await outcome(withdrawSwap(portal.em(), w.actors.anna, requestId))).toBe('not_found');
    await withdrawSwap(portal.em(), actor, requestId);
    expect(await outcome(withdrawSwap(portal.em(), actor, requestId))).toBe('not_pending');
    expect(await outcome(decideSwap(portal.em(), portal, w.actors.hanna, requestId, { approve: true }))).toBe('not_pending');
    // Its afmelding can no longer be undone: the credit has a history of requests.
    expect(await outcome(undoCancel(portal.em(), actor, { childId: loser.child.id, date: w.monday }))).toBe('credit_in_use');
    const view = await childSchedule(portal.em(), actor, loser.child.id);
    expect(view.balance.available).toBe(1);
    expect(view.requests.map((r) => r.status)).toEqual(['withdrawn', 'rejected']);
    expect(view.requests[1]!.reason).toBe('Donderdag is <vol>');
    for (const type of ['swap.requested', 'swap.approved', 'swap.rejected', 'swap.withdrawn'] as const) {
      expect(await portal.em().fork().count(AuditEvent, { type }), type).toBeGreaterThan(0);
    }
    // Audit subjects are child numbers, so `portal audit --subject K2` finds a child's history.
    expect((await portal.em().fork().findOneOrFail(AuditEvent, { type: 'swap.rejected' })).subject).toBe(loser.child.id === w.children.sam ? 'K2' : 'K5');
  });

  it('an approved swap day can be called off under the afmelden deadline: its place and its credit are free again', async () => {
    const approved = await portal.em().fork().findOneOrFail(SwapRequest, { status: 'approved' });
    const sam = approved.child.id === w.children.sam;
    const actor = sam ? w.actors.cor : w.pia;
    const credit = sam ? samCredit : pimCredit;
    const day = thursday();
    const callOff = (who: Actor, now?: Date) => outcome(cancelSwapDay(portal.em(), who, approved.id, now));
    // Another family, or the group's staff: not found. On the day itself after the deadline: too late.
    expect(await callOff(sam ? w.pia : w.actors.cor)).toBe('not_found');
    expect(await callOff(w.actors.mia)).toBe('not_found');
    expect(await callOff(actor, noonOn(day))).toBe('after_deadline');
    expect(await occupancy(portal.em(), w.groups.boomhut, day)).toEqual({ morning: 2, afternoon: 2, capacity: 2 });

    expect(await callOff(actor, earlyOn(day))).toBe('ok');
    expect(await callOff(actor, earlyOn(day))).toBe('not_approved');
    expect((await portal.em().fork().findOneOrFail(SwapRequest, { id: approved.id })).status).toBe('cancelled');
    // The place: free for others, and off the schriftje's list of the day.
    expect(await occupancy(portal.em(), w.groups.boomhut, day)).toEqual({ morning: 1, afternoon: 1, capacity: 2 });
    expect((await presentChildren(portal.em(), w.groups.boomhut, day)).map((c) => c.firstName)).toEqual(['Evi']);
    // The credit: usable again (its expiry unchanged), here for the Friday.
    const [again] = (await creditsOf(portal.em(), [approved.child.id])).get(approved.child.id)!.filter((c) => c.id === credit);
    expect(again).toMatchObject({ state: 'available', expiresOn: addDays(w.monday, 56) });
    const { requestId } = await requestSwap(portal.em(), actor, { childId: approved.child.id, creditId: credit, date: addDays(w.monday, 4) });
    expect((await childSchedule(portal.em(), actor, approved.child.id)).requests.find((r) => r.id === approved.id)?.status).toBe('cancelled');
    await withdrawSwap(portal.em(), actor, requestId);
    expect((await portal.em().fork().findOneOrFail(AuditEvent, { type: 'swap.day_cancelled' })).details).toMatchObject({ requestId: approved.id, date: day });
  });

  it('the parent\'s schedule offers the swap day for calling off, with its request, until the deadline', async () => {
    const credit = (await cancelDay(portal.em(), w.actors.cor, { childId: w.children.sam, date: addDays(w.monday, 7) })).credit!.id;
    const date = addDays(w.monday, 10);
    const { requestId } = await requestSwap(portal.em(), w.actors.cor, { childId: w.children.sam, creditId: credit, date });
    await decideSwap(portal.em(), portal, w.actors.hanna, requestId, { approve: true });
    const swapDay = (now: Date) => childSchedule(portal.em(), w.actors.cor, w.children.sam, now).then((s) => s.days.find((d) => d.date === date));
    expect(await swapDay(dayBefore(date))).toMatchObject({ swap: true, swapRequestId: requestId });
    expect((await swapDay(dayBefore(date)))!.refusal).toBeUndefined();
    expect((await swapDay(noonOn(date)))!.refusal).toEqual({ code: 'after_deadline', params: { time: '09:00' } });
  });
});

describe('presentChildren', () => {
  it('lists those attending where the group has contracts, and every placed child where it has none', async () => {
    // Monday: Sam and Pim cancelled, Evi comes.
    expect((await presentChildren(portal.em(), w.groups.boomhut, w.monday)).map((c) => c.firstName)).toEqual(['Evi']);
    expect((await presentChildren(portal.em(), w.groups.vlinder, w.monday)).map((c) => c.firstName)).toEqual(['Noor']);
  });
});

describe('the decision mail during an SMTP outage', () => {
  it('waits in the queue and arrives once SMTP is back', async () => {
    await smtp.close(); // SMTP down
    await startDecisionMailWorker(portal);
    // Evi's credit from the cancelled Friday, for the Wednesday she was cancelled on (room: Sam only).
    const [credit] = (await creditsOf(portal.em(), [w.children.evi])).get(w.children.evi)!.filter((c) => c.state === 'available' && c.sourceDate === addDays(w.monday, 4));
    const { requestId } = await requestSwap(portal.em(), w.actors.anna, { childId: w.children.evi, creditId: credit!.id, date: addDays(w.monday, 2) });
    await decideSwap(portal.em(), portal, w.actors.hanna, requestId, { approve: true });
    const retries = async () =>
      ((await portal.em().getConnection().execute(`select retry_count from pgboss.job where name = ? and data->>'requestId' = ?`, [DECISION_MAIL_QUEUE, String(requestId)])) as { retry_count: number }[])[0]?.retry_count ?? 0;
    await expect.poll(retries, { timeout: 15_000, interval: 200 }).toBeGreaterThan(0);
    expect(smtp.to(PEOPLE.anna)).toHaveLength(0);

    smtp = await startSmtpSink(smtpPort); // SMTP back
    await expect.poll(() => smtp.to(PEOPLE.anna).length, { timeout: 20_000, interval: 200 }).toBe(1);
    expect(smtp.to(PEOPLE.anna)[0]!.subject).toMatch(/^Ruildag goedgekeurd: Evi Jansen, woensdag /);
  }, 40_000);
});

describe('composeDecisionMail', () => {
  it("speaks the parent's language and leaves the reason out of an approval", () => {
    const mail = composeDecisionMail({
      lang: 'en',
      firstName: 'Eva',
      organisation: 'De Boomgaard',
      childName: 'Noor Jansen',
      groupName: 'Vlinder',
      date: '2026-12-10',
      part: 'morning',
      approved: true,
      reason: 'not shown',
      link: 'https://ouders.example.nl/ruilen',
    });
    expect(mail.subject).toBe('Swap day approved: Noor Jansen, Thursday 10 December (the morning)');
    expect(mail.text).toContain('Dear Eva,');
    expect(mail.text).not.toContain('not shown');
    expect(mail.html).toContain('<a href="https://ouders.example.nl/ruilen">');
  });
});

describe('a double tap', () => {
  it('two requests with the same credit at once: one is made, the other refused', async () => {
    const credit = (await creditsOf(portal.em(), [w.children.evi])).get(w.children.evi)!.find((c) => c.state === 'available')!;
    const friday = addDays(w.monday, 4);
    const results = await Promise.all(
      [0, 1].map(() => outcome(requestSwap(portal.em(), w.actors.anna, { childId: w.children.evi, creditId: credit.id, date: friday }))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(['credit_in_use', 'already_there']).toContain(results.find((r) => r !== 'ok'));
    expect(await portal.em().fork().count(SwapRequest, { credit: credit.id, status: { $in: ['pending', 'approved'] } })).toBe(1);
  });
});

describe('a sick day in the parent\'s schedule', () => {
  it('is marked with its report, and can still be cancelled by the ordinary rules (sick.ts)', async () => {
    // Evi comes every weekday: the first day listed that can still be cancelled, within the days a report may reach.
    const before = await childSchedule(portal.em(), w.actors.anna, w.children.evi);
    const sickDay = before.days.find((d) => !d.refusal && !d.cancelled && !d.swap && d.date <= addDays(portal.clock.today(), SICK_MAX_DAYS))!.date;
    expect(before.days.find((d) => d.date === sickDay)?.sick).toBeUndefined();
    const report = await reportSick(portal.em(), w.actors.anna, { childId: w.children.evi, from: sickDay });

    const after = await childSchedule(portal.em(), w.actors.anna, w.children.evi);
    expect(after.days.find((d) => d.date === sickDay)).toMatchObject({ sick: true, sickReportId: report.id, cancelled: false });
    expect(after.days.find((d) => d.date === sickDay)!.refusal).toBeUndefined();
    // The report covers its days only: the next day listed is no sick day.
    const next = after.days.find((d) => d.date > sickDay)!;
    expect(next.sick).toBeUndefined();
    expect(next.sickReportId).toBeUndefined();
    // After the deadline on the day itself it cannot be cancelled, ill or not.
    const atNoon = (await childSchedule(portal.em(), w.actors.anna, w.children.evi, noonOn(sickDay))).days.find((d) => d.date === sickDay);
    expect(atNoon).toMatchObject({ sick: true, refusal: { code: 'after_deadline' } });

    // Cancelled in time, it is an afmelding with its credit, and the ziekmelding stays.
    const done = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date: sickDay });
    expect(done.credit).not.toBeNull();
    const cancelled = (await childSchedule(portal.em(), w.actors.anna, w.children.evi)).days.find((d) => d.date === sickDay);
    expect(cancelled).toMatchObject({ cancelled: true, cancellationId: done.cancellationId, sick: true, sickReportId: report.id });
  });
});
