import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../test/errors.ts';
import { seedMentorWorld } from '../../test/mentor-world.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp.ts';
import type { Actor } from '../actor.ts';
import { feedEvents } from '../calendar-feed/events.ts';
import { addChild, leaveChild } from '../directory/children.ts';
import { addParent } from '../directory/parents.ts';
import { DomainError } from '../errors.ts';
import { ALREADY_BOOKED, bookSlot, cancelBooking, parentTalks, SLOT_TAKEN } from './booking.ts';
import { talkFeedSource } from './feed.ts';
import { fold, renderInvite } from './invite.ts';
import { sendTalkMail, TALK_MAIL_QUEUE, type TalkMailJob } from './mail.ts';
import { LAPSE_DAYS, lapseUnrecorded, remindTomorrow } from './reminders.ts';
import { groupTalks, publishSlots, recordHeld, withdrawSlot } from './slots.ts';

/**
 * Oudergesprekken in core: staff publish times, parents book, move and cancel them, and every
 * way to take what is not theirs is "not found" (another family's child, another group's time,
 * a child who left). Double booking is impossible also in parallel: of many bookings of one
 * time exactly one wins, and one child never holds two open talks. Mails carry an invitation
 * whose UID stays with the booking; the reminder goes once, the day before.
 */

let portal: TestPortal;
let smtp: SmtpSink;
const actor = {} as Record<'mia' | 'otto' | 'lena' | 'anna' | 'bert' | 'cas', Actor>;
const child = {} as Record<'evi' | 'noor' | 'mats' | 'sam', number>;
const group = {} as Record<'boomhut' | 'egeltjes', number>;
const extra: number[] = [];
const NOW = '2026-06-10T10:00:00+02:00';
const TOMORROW = '2026-06-11';

const code = async (p: Promise<unknown>) => (await errorCode(p)) ?? 'ok';
const one = async <T>(q: string, params: unknown[] = []) => (await portal.em().getConnection().execute<T[]>(q, params))[0]!;
const slotsOf = async (groupId: number) => (await groupTalks(portal.em(), actor.lena, groupId)).upcoming;
const queued = async () =>
  (await portal.em().getConnection().execute<{ data: TalkMailJob }[]>(`select data from pgboss.job where name = ? order by created_on, id`, [TALK_MAIL_QUEUE])).map(
    (r) => r.data,
  );

beforeAll(async () => {
  smtp = await startSmtpSink();
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url });
  portal.clock.set(NOW);
  const em = portal.em();
  await seedMentorWorld(em);
  // Sam (Boomhut) leaves yesterday; five more Boomhut children for the race, with one parent (Cas).
  await addChild(em, admin, { childNumber: 'K9', firstName: 'Sam', lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: '2026-01-05' });
  await leaveChild(em, admin, 'K9', { date: '2026-06-09' });
  const race = ['R1', 'R2', 'R3', 'R4', 'R5'];
  for (const n of race) await addChild(em, admin, { childNumber: n, firstName: n, lastName: 'Race', birthDate: '2023-01-01', group: 'Boomhut', startDate: '2026-01-05' });
  await addParent(em, admin, { email: 'cas@example.nl', firstName: 'Cas', lastName: 'Ouder', children: [...race, 'K9', 'K4'] });
  const id = async (table: string, column: string, value: string) => (await one<{ id: number }>(`select id from ${table} where ${column} = ?`, [value])).id;
  for (const [name, email] of [['mia', 'mia@example.nl'], ['otto', 'otto@example.nl'], ['lena', 'lena@example.nl']] as const) {
    actor[name] = { kind: name === 'lena' ? 'manager' : 'staff', staffId: await id('staff', 'email', email), label: email };
  }
  for (const [name, email] of [['anna', 'anna@example.nl'], ['bert', 'bert@example.nl'], ['cas', 'cas@example.nl']] as const) {
    actor[name] = { kind: 'parent', parentId: await id('parent', 'email', email), label: email };
  }
  Object.assign(child, { evi: await id('child', 'child_number', 'K1'), noor: await id('child', 'child_number', 'K2'), mats: await id('child', 'child_number', 'K4'), sam: await id('child', 'child_number', 'K9') });
  for (const n of race) extra.push(await id('child', 'child_number', n));
  Object.assign(group, { boomhut: await id('care_group', 'name', 'Boomhut'), egeltjes: await id('care_group', 'name', 'Egeltjes') });
});

afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('publishing', () => {
  it('staff of the group publish consecutive slots in Dutch wall-clock time; the same run again adds nothing', async () => {
    const input = { groupId: group.boomhut, date: TOMORROW, from: '10:00', count: 4, minutes: 15, place: 'Kantoor' };
    expect(await publishSlots(portal.em(), actor.mia, input)).toEqual({ created: 4, skipped: 0 });
    expect(await publishSlots(portal.em(), actor.mia, input)).toEqual({ created: 0, skipped: 4 });
    const slots = await slotsOf(group.boomhut);
    expect(slots.map((s) => `${s.date} ${s.from}-${s.until}`)).toEqual([
      `${TOMORROW} 10:00-10:15`,
      `${TOMORROW} 10:15-10:30`,
      `${TOMORROW} 10:30-10:45`,
      `${TOMORROW} 10:45-11:00`,
    ]);
    expect(slots[0]).toMatchObject({ staffLabel: 'Mia de Vries', place: 'Kantoor', childId: null });
    await publishSlots(portal.em(), actor.otto, { groupId: group.egeltjes, date: TOMORROW, from: '09:00', count: 1, minutes: 20, videoUrl: 'https://meet.example.nl/otto' });
  });

  it('refuses bad input naming the field, and another group as not found', async () => {
    const base = { groupId: group.boomhut, date: TOMORROW, from: '14:00', count: 2, minutes: 15, place: 'Kantoor' };
    const field = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      return err instanceof DomainError ? `${err.code} ${err.details[0]?.path ?? ''}`.trim() : String(err);
    };
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, minutes: 3 }))).toBe('validation minutes');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, count: 0 }))).toBe('validation count');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, from: '25:00' }))).toBe('validation from');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, date: '2026-06-01' }))).toBe('validation date');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, date: '2026-06-10', from: '09:00' }))).toBe('validation from');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, place: '' }))).toBe('validation place');
    expect(await field(publishSlots(portal.em(), actor.mia, { ...base, place: '', videoUrl: 'http://meet.example.nl/x' }))).toBe('validation videoUrl');
    expect(await field(publishSlots(portal.em(), actor.otto, base))).toBe('not_found');
    expect(await field(publishSlots(portal.em(), actor.anna, base))).toBe('not_found');
  });
});

describe('booking', () => {
  it("a parent sees the free times of their own child's group only, and books one", async () => {
    const [card] = await parentTalks(portal.em(), actor.anna);
    expect(card).toMatchObject({ childId: child.evi, booked: null });
    expect(card!.free.map((s) => s.groupName)).toEqual(['Boomhut', 'Boomhut', 'Boomhut', 'Boomhut']);
    const slot = card!.free[0]!;
    expect(await bookSlot(portal.em(), portal, actor.anna, { childId: child.evi, slotId: slot.id })).toEqual({ outcome: 'booked', slotId: slot.id });
    const [after] = await parentTalks(portal.em(), actor.anna);
    expect(after!.booked).toMatchObject({ id: slot.id, from: '10:00', upcoming: true, sequence: 0 });
    expect(after!.free).toHaveLength(3);
    const jobs = (await queued()).filter((j) => j.slotId === slot.id);
    expect(jobs.map((j) => `${j.event} ${j.parentId ? `parent ${j.parentId}` : `staff ${j.staffId}`}`).sort()).toEqual([
      `booked parent ${(actor.anna as { parentId: number }).parentId}`,
      `booked staff ${(actor.mia as { staffId: number }).staffId}`,
    ]);
  });

  it("from the attacker's side: another family's child, another group's time, a child who left, a malformed id are not found", async () => {
    const [free] = (await slotsOf(group.boomhut)).filter((s) => !s.childId);
    const egeltjes = (await groupTalks(portal.em(), actor.otto, group.egeltjes)).upcoming[0]!;
    expect(await code(bookSlot(portal.em(), portal, actor.bert, { childId: child.evi, slotId: free!.id }))).toBe('not_found');
    expect(await code(bookSlot(portal.em(), portal, actor.anna, { childId: child.evi, slotId: egeltjes.id }))).toBe('not_found');
    expect(await code(bookSlot(portal.em(), portal, actor.cas, { childId: child.sam, slotId: free!.id }))).toBe('not_found');
    expect(await code(bookSlot(portal.em(), portal, actor.cas, { childId: child.mats, slotId: free!.id }))).toBe('not_found');
    expect(await code(bookSlot(portal.em(), portal, actor.mia, { childId: child.evi, slotId: free!.id }))).toBe('not_found');
    expect(await code(bookSlot(portal.em(), portal, actor.anna, { childId: child.evi, slotId: Number.NaN }))).toBe('not_found');
    const evis = (await slotsOf(group.boomhut)).find((s) => s.childId === child.evi)!;
    expect(await code(cancelBooking(portal.em(), portal, actor.bert, { childId: child.evi, slotId: evis.id }))).toBe('not_found');
    expect(await code(cancelBooking(portal.em(), portal, actor.bert, { childId: child.noor, slotId: evis.id }))).toBe('not_found');
    expect(await code(withdrawSlot(portal.em(), actor.otto, free!.id))).toBe('not_found');
    // Nothing changed.
    expect((await slotsOf(group.boomhut)).filter((s) => s.childId).map((s) => s.childId)).toEqual([child.evi]);
  });

  it('of five children booking one time at once, exactly one wins; the others hear it was just taken', async () => {
    const free = (await slotsOf(group.boomhut)).filter((s) => !s.childId).at(-1)!;
    const results = await Promise.all(
      extra.map((childId) =>
        bookSlot(portal.em(), portal, actor.cas, { childId, slotId: free.id }).then(
          () => 'won',
          (e: unknown) => (e instanceof DomainError ? `${e.code}: ${e.message}` : String(e)),
        ),
      ),
    );
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r !== 'won')).toEqual(Array(4).fill(`conflict: ${SLOT_TAKEN}`));
    const holders = (await slotsOf(group.boomhut)).filter((s) => s.id === free.id).map((s) => s.childId);
    expect(holders).toHaveLength(1);
    expect(extra).toContain(holders[0]);
  });

  it('one child booking two times at once holds one talk: the database refuses the second', async () => {
    const free = (await slotsOf(group.boomhut)).filter((s) => !s.childId);
    // A child of the race that holds no talk (the winner's booking is left alone).
    const held = (await slotsOf(group.boomhut)).map((s) => s.childId);
    const loser = extra.find((c) => !held.includes(c))!;
    const both = await Promise.allSettled(free.slice(0, 2).map((s) => bookSlot(portal.em(), portal, actor.cas, { childId: loser, slotId: s.id })));
    const open = await one<{ n: number }>('select count(*)::int as n from talk_slot where child_id = ? and held_at is null and cancelled_at is null', [loser]);
    expect(open.n).toBe(1);
    // Truly at once, the database refuses one (conflict); when the two happen to run one after the
    // other, the second is a move of the first. Never two open talks.
    const outcomes = both.map((r) => (r.status === 'fulfilled' ? r.value.outcome : ((r as PromiseRejectedResult).reason as DomainError).code)).sort();
    expect([
      ['booked', 'conflict'],
      ['booked', 'moved'],
    ]).toContainEqual(outcomes);
  });

  it('a move keeps the booking (its calendar UID) and raises its sequence; cancelling frees the time and tells both', async () => {
    const before = (await slotsOf(group.boomhut)).find((s) => s.childId === child.evi)!;
    await publishSlots(portal.em(), actor.mia, { groupId: group.boomhut, date: TOMORROW, from: '15:00', count: 1, minutes: 15, place: 'Kantoor' });
    const target = (await slotsOf(group.boomhut)).find((s) => s.from === '15:00')!;
    expect(await bookSlot(portal.em(), portal, actor.anna, { childId: child.evi, slotId: target.id })).toEqual({ outcome: 'moved', slotId: target.id });
    const slots = await slotsOf(group.boomhut);
    expect(slots.find((s) => s.id === before.id)!.childId).toBeNull();
    expect(slots.find((s) => s.id === target.id)).toMatchObject({ childId: child.evi, bookingId: before.bookingId, sequence: 1 });
    await cancelBooking(portal.em(), portal, actor.anna, { childId: child.evi, slotId: target.id });
    expect((await slotsOf(group.boomhut)).find((s) => s.id === target.id)!.childId).toBeNull();
    const cancelled = (await queued()).filter((j) => j.event === 'cancelled' && j.bookingId === before.bookingId);
    expect(cancelled.map((j) => j.sequence)).toEqual([2, 2]);
    expect(cancelled.map((j) => (j.parentId ? 'parent' : 'staff')).sort()).toEqual(['parent', 'staff']);
  });
});

describe('mails, reminders, held and the feed', () => {
  it('the confirmation carries an .ics invitation in Europe/Amsterdam with the booking as UID', async () => {
    const slot = (await slotsOf(group.boomhut)).find((s) => !s.childId)!;
    await bookSlot(portal.em(), portal, actor.anna, { childId: child.evi, slotId: slot.id });
    const booked = (await slotsOf(group.boomhut)).find((s) => s.id === slot.id)!;
    const job = (await queued()).find((j) => j.slotId === slot.id && j.event === 'booked' && j.parentId !== undefined && j.bookingId === booked.bookingId)!;
    expect(await sendTalkMail(portal, job)).toBe('sent');
    await expect.poll(() => smtp.to('anna@example.nl').length).toBeGreaterThan(0);
    const mail = smtp.to('anna@example.nl').at(-1)!;
    expect(mail.subject).toMatch(/^Gesprek geboekt: Evi Test, donderdag 11 juni/);
    const ics = mail.attachments.find((a) => a.filename === 'gesprek.ics')!.content.toString();
    expect(ics).toContain('METHOD:REQUEST');
    expect(ics).toContain(`UID:talk-${booked.bookingId}@ouders.example.nl`);
    expect(ics).toContain(`DTSTART;TZID=Europe/Amsterdam:20260611T${booked.from.replace(':', '')}00`);
    expect(ics).toContain('TZID:Europe/Amsterdam');
    const staffJob = (await queued()).find((j) => j.slotId === slot.id && j.event === 'booked' && j.staffId !== undefined && j.bookingId === booked.bookingId)!;
    expect(await sendTalkMail(portal, staffJob)).toBe('sent');
    await expect.poll(() => smtp.to('mia@example.nl').length).toBeGreaterThan(0);
    expect(smtp.to('mia@example.nl').at(-1)!.text).toContain('Anna Ouder heeft een gesprek over Evi Test met u geboekt.');
    // A confirmation of an older version (the booking moved since) is not sent.
    expect(await sendTalkMail(portal, { ...job, sequence: job.sequence + 5 })).toBe('skipped');
  });

  it('reminds once, from 09:00 the day before, only bookings of tomorrow', async () => {
    portal.clock.set('2026-06-10T08:30:00+02:00');
    expect(await remindTomorrow(portal.em(), portal)).toBe(0);
    portal.clock.set('2026-06-10T09:30:00+02:00');
    const booked = (await slotsOf(group.boomhut)).filter((s) => s.childId).length;
    expect(await remindTomorrow(portal.em(), portal)).toBe(booked);
    expect(await remindTomorrow(portal.em(), portal)).toBe(0);
    portal.clock.set(NOW);
  });

  it('the feed lists the booked talk as a timed event; held is recorded after it began, a note only when notes are on', async () => {
    const events = await feedEvents(portal.em(), actor.anna, { talkSources: [talkFeedSource] });
    const talk = events.find((e) => e.kind === 'talk')!;
    expect(talk.summary).toBe('Gesprek over Evi Test met Mia de Vries');
    expect(talk.when).toMatchObject({ date: TOMORROW });
    const slot = (await slotsOf(group.boomhut)).find((s) => s.childId === child.evi)!;
    expect(await code(recordHeld(portal.em(), portal.config, actor.mia, slot.id))).toBe('validation');
    portal.clock.set(`${TOMORROW}T12:00:00+02:00`);
    expect(await code(recordHeld(portal.em(), { talks: { notes: false } }, actor.mia, slot.id, 'Gaat goed'))).toBe('validation');
    expect(await code(recordHeld(portal.em(), portal.config, actor.otto, slot.id))).toBe('not_found');
    await recordHeld(portal.em(), { talks: { notes: true } }, actor.mia, slot.id, 'Gaat goed');
    const past = (await groupTalks(portal.em(), actor.mia, group.boomhut)).past.find((s) => s.id === slot.id)!;
    expect(past).toMatchObject({ heldByLabel: 'Mia de Vries', note: 'Gaat goed' });
    // Held: the child may book a new talk (the open-talk index counts only talks not held).
    expect((await parentTalks(portal.em(), actor.anna))[0]!.booked).toBeNull();
    portal.clock.set(NOW);
  });

  it(`a talk never recorded as held lapses after ${LAPSE_DAYS} days: it no longer blocks the next booking, and can still be recorded`, async () => {
    // Noor's talk on the 12th is never recorded; a week later her parent wants the next one.
    await publishSlots(portal.em(), actor.mia, { groupId: group.boomhut, date: '2026-06-12', from: '09:00', count: 1, minutes: 15, place: 'Kantoor' });
    await publishSlots(portal.em(), actor.mia, { groupId: group.boomhut, date: '2026-06-30', from: '09:00', count: 1, minutes: 15, place: 'Kantoor' });
    const slotOn = async (date: string) => (await slotsOf(group.boomhut)).find((s) => s.date === date && s.from === '09:00')!;
    const first = await slotOn('2026-06-12');
    const next = await slotOn('2026-06-30');
    await bookSlot(portal.em(), portal, actor.bert, { childId: child.noor, slotId: first.id });
    portal.clock.set('2026-06-18T10:00:00+02:00');
    expect(await lapseUnrecorded(portal.em())).toBe(0);
    const refused = await bookSlot(portal.em(), portal, actor.bert, { childId: child.noor, slotId: next.id }).catch((e: DomainError) => e);
    expect(refused).toMatchObject({ message: ALREADY_BOOKED });
    portal.clock.set('2026-06-19T10:00:00+02:00');
    expect(await lapseUnrecorded(portal.em())).toBeGreaterThanOrEqual(1);
    expect((await parentTalks(portal.em(), actor.bert))[0]!.booked).toBeNull();
    expect(await bookSlot(portal.em(), portal, actor.bert, { childId: child.noor, slotId: next.id })).toMatchObject({ outcome: 'booked' });
    await recordHeld(portal.em(), portal.config, actor.mia, first.id);
    expect(await one<{ held: boolean }>('select held_at is not null as held from talk_slot where id = ?', [first.id])).toEqual({ held: true });
    portal.clock.set(NOW);
  });

  it('folds long lines at 75 octets without splitting a character, and cancels with METHOD:CANCEL', () => {
    const line = `SUMMARY:${'é'.repeat(60)}`;
    for (const part of fold(line).split('\r\n')) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(75);
    const ics = renderInvite({
      method: 'CANCEL',
      uid: 'talk-x@h',
      sequence: 2,
      now: new Date('2026-06-10T08:00:00Z'),
      date: '2026-10-26',
      from: '09:00',
      until: '09:15',
      summary: 'Gesprek over Evi; ouders, mentor',
      place: null,
      videoUrl: 'https://meet.example.nl/a',
      organiser: { name: 'Zonnetje', email: 'help@example.nl' },
      attendee: { name: 'Anna', email: 'anna@example.nl' },
    });
    expect(ics).toContain('METHOD:CANCEL\r\n');
    expect(ics).toContain('STATUS:CANCELLED');
    expect(ics).toContain('SEQUENCE:2');
    expect(ics).toContain('SUMMARY:Gesprek over Evi\\; ouders\\, mentor');
    expect(ics).toContain('DTSTART;TZID=Europe/Amsterdam:20261026T090000');
  });
});
