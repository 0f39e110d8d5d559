import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseIcs, startDate } from '../../test/ics.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../../test/schedule.ts';
import { suspendParent, unsuspendParent } from '../accounts/suspension.ts';
import { sha256Hex, TOKEN_SHAPE } from '../auth/tokens.ts';
import { FixedClock } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { cancelDay } from '../schedule/cancel.ts';
import { requestSwap } from '../schedule/swaps.ts';
import { creditsOf } from '../schedule/credits.ts';
import { FEED_DAYS_AHEAD, FEED_DAYS_BACK, type FeedEvent, feedEvents, feedWindow, type TalkSource } from './events.ts';
import { renderIcs } from './ics.ts';
import { createOwnFeed, feedOwner, ownFeedStatus, revokeOwnFeed, revokeParentFeed } from './links.ts';

/**
 * The calendar feed in core, on a pinned clock around the clock changes of 2027: Wednesday
 * 24 March (summer time starts Sunday 28 March, which is also Eerste paasdag; Monday 29 March is
 * Tweede paasdag) and Wednesday 27 October (winter time starts Sunday 31 October).
 * The world (test/schedule.ts): Evi (Boomhut, every weekday) of Anna and Bart; Sam (Boomhut,
 * ma/di/wo) and Lot (Zolder, ma ochtend) of Cor; Noor (Vlinder, no contract) of Eva; Pim of Pia.
 */

const MARCH = '2027-03-24T08:00:00+01:00';
const OCTOBER = '2027-10-27T08:00:00+02:00';

let portal: TestPortal;
let w: ScheduleWorld;

beforeAll(async () => {
  portal = await createTestPortal({}, { clock: new FixedClock(MARCH) });
  w = await seedScheduleWorld(portal);
});
afterAll(() => portal?.destroy());
afterEach(() => {
  portal.clock.set(MARCH);
});

const byUid = (events: FeedEvent[], uid: string) => events.find((e) => e.uid === uid);

describe('the events of a feed', () => {
  it("list a parent's own child's days around the March clock change, and the closing day instead of a contracted holiday", async () => {
    const events = await feedEvents(portal.em(), w.actors.anna);
    const evi = w.children.evi;
    expect(byUid(events, `day-${evi}-2027-03-26-day`)).toMatchObject({ kind: 'day', when: { date: '2027-03-26' }, summary: 'Evi naar de opvang (Boomhut)', location: 'Centrum' });
    expect(byUid(events, `day-${evi}-2027-03-30-day`)).toMatchObject({ kind: 'day', when: { date: '2027-03-30' } });
    // Tweede paasdag: Centrum is closed (the default rules), so no day at the opvang, but the closing day.
    expect(byUid(events, `day-${evi}-2027-03-29-day`)).toBeUndefined();
    expect(byUid(events, `closed-${w.locations.centrum}-2027-03-29`)).toMatchObject({ kind: 'closed', summary: 'Centrum gesloten: Tweede paasdag' });
    // Closing days on a Sunday are left out (Eerste paasdag, 28 March).
    expect(events.some((e) => e.when.date === '2027-03-28')).toBe(false);
    // Koningsdag 2027 is a Tuesday.
    expect(byUid(events, `closed-${w.locations.centrum}-2027-04-27`)).toBeDefined();
  });

  it("never carry another family's child", async () => {
    const anna = await feedEvents(portal.em(), w.actors.anna);
    const cor = await feedEvents(portal.em(), w.actors.cor);
    const childOf = (e: FeedEvent) => e.uid.split('-')[1];
    const dayChildren = (events: FeedEvent[]) => new Set(events.filter((e) => e.uid.startsWith('day-')).map(childOf));
    expect(dayChildren(anna)).toEqual(new Set([String(w.children.evi)]));
    expect(dayChildren(cor)).toEqual(new Set([String(w.children.sam), String(w.children.lot)]));
    expect(anna.map((e) => e.summary).join('\n')).not.toMatch(/Sam|Lot|Noor|Pim/);
    expect(cor.map((e) => e.summary).join('\n')).not.toMatch(/Evi|Noor|Pim/);
    // Eva's Noor has no contracted days: nothing but closing days of Noord.
    const eva = await feedEvents(portal.em(), w.actors.eva);
    expect(eva.every((e) => e.kind === 'closed' && e.summary.startsWith('Noord'))).toBe(true);
    // Staff have no feed of children at all.
    expect(await feedEvents(portal.em(), w.actors.mia)).toEqual([]);
  });

  it('show a cancelled day under the same UID, and a swap day asked for as tentative', async () => {
    const em = portal.em();
    await cancelDay(em, w.actors.anna, { childId: w.children.evi, date: '2027-03-31' });
    // Sam: cancel Monday 5 April, ask for Thursday 8 April with the credit.
    await cancelDay(em, w.actors.cor, { childId: w.children.sam, date: '2027-04-05' });
    const credit = (await creditsOf(em, [w.children.sam], portal.clock.now())).get(w.children.sam)![0]!;
    const { requestId } = await requestSwap(em, w.actors.cor, { childId: w.children.sam, creditId: credit.id, date: '2027-04-08' });

    const anna = await feedEvents(em, w.actors.anna);
    expect(byUid(anna, `day-${w.children.evi}-2027-03-31-day`)).toMatchObject({ kind: 'cancelled', summary: 'Evi afgemeld (Boomhut)' });
    const cor = await feedEvents(em, w.actors.cor, { language: 'en' });
    expect(byUid(cor, `day-${w.children.sam}-2027-04-05-day`)).toMatchObject({ kind: 'cancelled', summary: 'Sam cancelled (Boomhut)' });
    expect(byUid(cor, `swap-${requestId}`)).toMatchObject({ kind: 'swapRequested', tentative: true, when: { date: '2027-04-08' }, summary: 'Sam swap day requested (Boomhut)' });
    expect(byUid(anna, `swap-${requestId}`)).toBeUndefined();
  });

  it(`reach ${FEED_DAYS_BACK} days back and ${FEED_DAYS_AHEAD} ahead of today`, async () => {
    expect(feedWindow('2027-03-24')).toEqual({ from: '2027-01-23', until: '2027-09-20' });
    const events = await feedEvents(portal.em(), w.actors.anna);
    const dates = events.map((e) => e.when.date).sort();
    expect(dates[0]! >= '2027-01-23').toBe(true);
    expect(dates.at(-1)).toBe('2027-09-20');
  });

  it('list the October days on both sides of the clock change, in the parent language', async () => {
    portal.clock.set(OCTOBER);
    const events = await feedEvents(portal.em(), w.actors.anna, { language: 'en' });
    expect(byUid(events, `day-${w.children.evi}-2027-10-29-day`)).toMatchObject({ summary: 'Evi at childcare (Boomhut)' });
    expect(byUid(events, `day-${w.children.evi}-2027-11-01-day`)).toBeDefined();
    // The day cancelled in March lies before the window now (from 28 August).
    expect(events.some((e) => e.when.date === '2027-03-31')).toBe(false);
  });
});

describe('the .ics text', () => {
  const talk: TalkSource = async (_em, { childIds }) =>
    childIds.length === 0
      ? []
      : [
          { uid: 'talk-1', kind: 'talk', when: { date: '2027-10-29', from: '09:00', until: '09:30' }, summary: 'Gesprek' },
          { uid: 'talk-2', kind: 'talk', when: { date: '2027-11-01', from: '09:00', until: '09:30' }, summary: 'Gesprek' },
        ];

  it.each(['UTC', 'America/New_York', 'Pacific/Auckland'])('writes the same wall-clock dates whatever the server zone (TZ=%s)', async (zone) => {
    portal.clock.set(OCTOBER);
    const events = await feedEvents(portal.em(), w.actors.anna, { talkSources: [talk] });
    const saved = process.env['TZ'];
    process.env['TZ'] = zone;
    let text: string;
    try {
      text = renderIcs(events, { name: 'Opvang', now: portal.clock.now(), uidDomain: 'ouders.example.nl' });
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
    const ics = parseIcs(text);
    const friday = ics.events.find((e) => e['UID'] === `day-${w.children.evi}-2027-10-29-day@ouders.example.nl`)!;
    expect(friday['DTSTART;VALUE=DATE']).toBe('20271029');
    expect(friday['DTEND;VALUE=DATE']).toBe('20271030');
    const monday = ics.events.find((e) => e['UID'] === `day-${w.children.evi}-2027-11-01-day@ouders.example.nl`)!;
    expect(monday['DTSTART;VALUE=DATE']).toBe('20271101');
    // The timed talks: 09:00 Amsterdam time before and after the change, with the zone's rules.
    const talks = ics.events.filter((e) => e['UID']!.startsWith('talk-'));
    expect(talks.map((e) => e['DTSTART;TZID=Europe/Amsterdam'])).toEqual(['20271029T090000', '20271101T090000']);
    expect(talks.map((e) => e['TRANSP'])).toEqual(['OPAQUE', 'OPAQUE']);
    const tz = ics.timezones.get('Europe/Amsterdam')!;
    expect(tz).toContain('RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU');
    expect(tz).toContain('RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU');
    expect(friday['DTSTAMP']).toBe('20271027T060000Z');
    expect(ics.lines).toContain('X-WR-TIMEZONE:Europe/Amsterdam');
    expect(new Set(ics.events.map((e) => e['UID'])).size).toBe(ics.events.length);
    expect(ics.events.every((e) => startDate(e) >= '2027-08-28')).toBe(true);
  });
});

describe('the link', () => {
  it('is 32 random bytes (base64url) stored only as its SHA-256, one per parent', async () => {
    const em = portal.em();
    const { token, renewed } = await createOwnFeed(em, w.actors.bart);
    expect(token).toMatch(TOKEN_SHAPE);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(renewed).toBe(false);
    const rows = await sql<{ token_hash: string }>(em, 'select token_hash from calendar_feed where parent_id = ?', [(w.actors.bart as { parentId: number }).parentId]);
    expect(rows).toEqual([{ token_hash: sha256Hex(token) }]);
    const anywhere = await sql(em, `select 1 from calendar_feed c where c::text like ?`, [`%${token}%`]);
    expect(anywhere).toEqual([]);
    expect((await feedOwner(em, token))?.actor).toMatchObject({ kind: 'parent', parentId: (w.actors.bart as { parentId: number }).parentId });
    expect(await ownFeedStatus(em, w.actors.bart)).toMatchObject({ active: true });
  });

  it('renewed: the old token is unknown at once, the new one works', async () => {
    const em = portal.em();
    const first = await createOwnFeed(em, w.pia);
    const second = await createOwnFeed(em, w.pia);
    expect(second.renewed).toBe(true);
    expect(await feedOwner(em, first.token)).toBeUndefined();
    expect(await feedOwner(em, second.token)).toBeDefined();
    const count = await sql(em, 'select 1 from calendar_feed where parent_id = ?', [(w.pia as { parentId: number }).parentId]);
    expect(count).toHaveLength(1);
    const audits = await sql<{ type: string }>(em, `select type from audit_event where type like 'calendar_feed.%' and actor = ? order by id`, [w.pia.label]);
    expect(audits.map((a) => a.type)).toEqual(['calendar_feed.created', 'calendar_feed.created']);
  });

  it('revoked: unknown at once; a suspended parent has no feed until reinstated', async () => {
    const em = portal.em();
    const { token } = await createOwnFeed(em, w.actors.eva);
    expect(await revokeOwnFeed(em, w.actors.eva)).toBe(true);
    expect(await feedOwner(em, token)).toBeUndefined();
    expect(await revokeOwnFeed(em, w.actors.eva)).toBe(false);

    const again = await createOwnFeed(em, w.actors.eva);
    await suspendParent(em, admin, 'eva@example.nl', 'test');
    expect(await feedOwner(portal.em(), again.token)).toBeUndefined();
    await expect(createOwnFeed(portal.em(), w.actors.eva)).rejects.toMatchObject({ code: 'not_found' });
    await unsuspendParent(portal.em(), admin, 'eva@example.nl');
    expect(await feedOwner(portal.em(), again.token)).toBeDefined();
  });

  it("an administrator revokes a parent's link (audited); nobody else may, and the parent can make a new one", async () => {
    const em = portal.em();
    const { token } = await createOwnFeed(em, w.pia);
    await expect(revokeParentFeed(portal.em(), w.actors.bart, 'pia@example.nl')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(revokeParentFeed(portal.em(), w.actors.mia, 'pia@example.nl')).rejects.toMatchObject({ code: 'forbidden' });
    expect(await feedOwner(portal.em(), token)).toBeDefined();
    expect(await revokeParentFeed(portal.em(), admin, 'pia@example.nl')).toEqual({ email: 'pia@example.nl', revoked: true });
    expect(await feedOwner(portal.em(), token)).toBeUndefined();
    expect(await revokeParentFeed(portal.em(), admin, 'pia@example.nl')).toEqual({ email: 'pia@example.nl', revoked: false });
    await expect(revokeParentFeed(portal.em(), admin, 'nobody@example.nl')).rejects.toMatchObject({ code: 'not_found' });
    const audits = await sql<{ subject: string }>(portal.em(), `select subject from audit_event where type = 'calendar_feed.revoked' and actor = ?`, [admin.label]);
    expect(audits).toEqual([{ subject: 'pia@example.nl' }]);
    expect(await feedOwner(portal.em(), (await createOwnFeed(portal.em(), w.pia)).token)).toBeDefined();
  });

  it('is refused to staff, and a token of the wrong shape is not looked up', async () => {
    await expect(createOwnFeed(portal.em(), w.actors.mia)).rejects.toMatchObject({ code: 'not_found' });
    await expect(createOwnFeed(portal.em(), admin)).rejects.toMatchObject({ code: 'not_found' });
    expect(await feedOwner(portal.em(), 'x'.repeat(42))).toBeUndefined();
    expect(await feedOwner(portal.em(), "' or 1=1 --")).toBeUndefined();
  });
});
