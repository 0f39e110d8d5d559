import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { authorize, can, scopeFilter, scopeOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf, PORTAL_TIME_ZONE } from '../clock.ts';
import { parseDate } from '../dates.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { Staff } from '../entities/staff.ts';
import { invalid, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { isStorableText } from '../validation.ts';
import { readSlot, readSlots, type TalkSlotView } from './read.ts';

/**
 * The staff side of oudergesprekken: publish a run of consecutive slots for a group (talk.manage),
 * withdraw a free one, see the group's slots and bookings, and record that a talk took place
 * (talk.record). Report content stays out of the portal unless the organisation turns notes on
 * (talks.notes): then a short note is kept with the talk, for staff only.
 */

/** At most this many slots in one go (an afternoon of 10-minute talks is 24). */
export const MAX_SLOTS = 40;
export const MAX_NOTE = 2000;
/** Staff see the slots from this many days back (to record a talk afterwards). */
export const PAST_DAYS = 60;

export interface PublishInput {
  groupId: number;
  date: string;
  /** HH:MM, Europe/Amsterdam. */
  from: string;
  count: number;
  minutes: number;
  place?: string | null;
  videoUrl?: string | null;
  /** Who holds the talks; default the acting staff member (the terminal must name one). */
  staffEmail?: string;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function cleanPlace(value: string | null | undefined, path: string, max: number): string | null {
  const v = (value ?? '').trim();
  if (v === '') return null;
  if (v.length > max) throw invalid(path, `at most ${max} characters`);
  if (!isStorableText(v)) throw invalid(path, 'contains characters that cannot be stored');
  return v;
}

function cleanVideo(value: string | null | undefined): string | null {
  const v = cleanPlace(value, 'videoUrl', 500);
  if (v === null) return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw invalid('videoUrl', 'expected a link starting with https://');
  }
  if (url.protocol !== 'https:' || !v.toLowerCase().startsWith('https://')) throw invalid('videoUrl', 'expected a link starting with https://');
  return v;
}

/** Checks the input field by field; the first problem is the error, named after its field. */
function validPublish(input: PublishInput, today: string) {
  const date = parseDate(String(input.date ?? '').trim());
  if (!date) throw invalid('date', 'expected a date (YYYY-MM-DD)');
  if (date < today) throw invalid('date', 'the date has passed');
  const from = String(input.from ?? '').trim();
  if (!TIME.test(from)) throw invalid('from', 'expected a time like 09:30');
  if (!Number.isInteger(input.minutes) || input.minutes < 5 || input.minutes > 240) throw invalid('minutes', 'expected 5 to 240 minutes');
  if (!Number.isInteger(input.count) || input.count < 1 || input.count > MAX_SLOTS) throw invalid('count', `expected 1 to ${MAX_SLOTS} slots`);
  const place = cleanPlace(input.place, 'place', 200);
  const videoUrl = cleanVideo(input.videoUrl);
  if (!place && !videoUrl) throw invalid('place', 'give a place or a video link');
  return { date, from, place, videoUrl };
}

async function holder(em: EntityManager, actor: Actor, staffEmail: string | undefined): Promise<{ id: number; label: string }> {
  const email = staffEmail?.trim().toLowerCase();
  const staff = email ? await em.findOne(Staff, { email }) : staffIdOf(actor) !== undefined ? await em.findOne(Staff, { id: staffIdOf(actor)! }) : null;
  if (!staff?.active) throw invalid('staff', email ? 'no active staff member with that e-mail address' : 'name the staff member who holds the talks');
  return { id: staff.id, label: fullName(staff) };
}

/**
 * Publishes `count` consecutive slots from `from` on `date` in the group. A slot that already
 * exists (same group, staff member and start) is left as it is; the answer says how many are new.
 */
export async function publishSlots(em: EntityManager, actor: Actor, input: PublishInput): Promise<{ created: number; skipped: number }> {
  await authorize(em, actor, 'talk.manage', input.groupId, 'group');
  const clock = clockOf(em);
  const v = validPublish(input, clock.today());
  const staff = await holder(em, actor, input.staffEmail);
  // The holder must work in the group (a manager may name a colleague of it, not of another location).
  const works = await sql(
    em,
    `select 1 from staff_assignment sa join care_group cg on cg.id = ?
      where sa.staff_id = ? and (sa.group_id = cg.id or sa.location_id = cg.location_id) limit 1`,
    [input.groupId, staff.id],
  );
  if (works.length === 0) throw invalid('staff', 'this staff member does not work in the group');
  const now = clock.now();
  return await em.transactional(async (tx) => {
    const rows = await sql<{ id: number; starts_at: Date }>(
      tx,
      `insert into talk_slot (group_id, staff_id, staff_label, starts_at, minutes, place, video_url, created_at, updated_at)
       select ?, ?, ?, ((?::date + ?::time) at time zone '${PORTAL_TIME_ZONE}') + (n * ?::int) * interval '1 minute', ?, ?, ?, ?, ?
         from generate_series(0, ? - 1) n
       on conflict (group_id, staff_id, starts_at) where cancelled_at is null do nothing
       returning id, starts_at`,
      [input.groupId, staff.id, staff.label, v.date, v.from, input.minutes, input.minutes, v.place, v.videoUrl, now, now, input.count],
    );
    if (rows.some((r) => new Date(r.starts_at) <= now)) throw invalid('from', 'the time has passed');
    if (rows.length > 0) {
      audit(tx, { type: 'talk.published', actor, details: { groupId: input.groupId, date: v.date, from: v.from, count: rows.length, minutes: input.minutes } });
      await tx.flush();
    }
    return { created: rows.length, skipped: input.count - rows.length };
  });
}

/** A slot with the group check of `action`: not found unless the actor may act on its group. */
async function slotFor(em: EntityManager, actor: Actor, action: 'talk.manage' | 'talk.record', slotId: number): Promise<TalkSlotView> {
  const slot = await readSlot(em, slotId);
  if (!slot || slot.cancelledAt) throw notFound('talk slot');
  await authorize(em, actor, action, slot.groupId, 'talk slot');
  return slot;
}

/** Withdraws a free slot (a booked one is the parents' to cancel first: they were told the time). */
export async function withdrawSlot(em: EntityManager, actor: Actor, slotId: number): Promise<void> {
  const slot = await slotFor(em, actor, 'talk.manage', slotId);
  await em.transactional(async (tx) => {
    const n = await sqlCount(tx, 'update talk_slot set cancelled_at = ?, updated_at = ? where id = ? and child_id is null and cancelled_at is null', [
      clockOf(tx).now(),
      clockOf(tx).now(),
      slot.id,
    ]);
    if (n === 0) throw invalid('slot', 'this time is booked: only free times can be withdrawn');
    audit(tx, { type: 'talk.withdrawn', actor, details: { slotId: slot.id, groupId: slot.groupId } });
    await tx.flush();
  });
}

/**
 * Records that the talk took place: who and when, and a note only when the organisation keeps
 * them (talks.notes); otherwise a note given is refused rather than silently dropped.
 */
export async function recordHeld(
  em: EntityManager,
  config: Pick<PortalConfig, 'talks'>,
  actor: Actor,
  slotId: number,
  note?: string | null,
): Promise<void> {
  const slot = await slotFor(em, actor, 'talk.record', slotId);
  const clock = clockOf(em);
  if (!slot.childId) throw invalid('slot', 'nobody booked this time');
  if (new Date(slot.startsAt) > clock.now()) throw invalid('slot', 'the talk has not begun yet');
  const text = (note ?? '').trim();
  if (text && !config.talks.notes) throw invalid('note', 'notes are turned off for this organisation (talks.notes)');
  if (text.length > MAX_NOTE) throw invalid('note', `at most ${MAX_NOTE} characters`);
  if (text && !isStorableText(text)) throw invalid('note', 'contains characters that cannot be stored');
  const staffId = staffIdOf(actor);
  const staff = staffId !== undefined ? await em.findOne(Staff, { id: staffId }) : null;
  const label = staff ? fullName(staff) : actor.label;
  await em.transactional(async (tx) => {
    const n = await sqlCount(
      tx,
      `update talk_slot set held_at = coalesce(held_at, ?), held_by_label = coalesce(held_by_label, ?), note = coalesce(?, note), updated_at = ?
        where id = ? and child_id = ?`,
      [clock.now(), label, text || null, clock.now(), slot.id, slot.childId],
    );
    if (n === 0) throw notFound('talk slot');
    audit(tx, { type: 'talk.held', actor, details: { slotId: slot.id, groupId: slot.groupId, note: Boolean(text) } });
    await tx.flush();
  });
}

export interface TalkGroup {
  id: number;
  name: string;
  locationName: string;
  upcoming: number;
  booked: number;
}

/** The groups whose talks the actor keeps (talk.record), with how many upcoming slots and bookings. */
export async function talkGroups(em: EntityManager, actor: Actor): Promise<TalkGroup[]> {
  const scope = scopeFilter(scopeOf(em, actor, 'talk.record'), 'cg.id');
  const now = clockOf(em).now();
  return await sql<TalkGroup>(
    em,
    `select cg.id, cg.name, l.name as "locationName",
            (select count(*)::int from talk_slot ts where ts.group_id = cg.id and ts.cancelled_at is null and ts.starts_at > ?) as upcoming,
            (select count(*)::int from talk_slot ts where ts.group_id = cg.id and ts.cancelled_at is null and ts.starts_at > ? and ts.child_id is not null) as booked
       from care_group cg join location l on l.id = cg.location_id
      where cg.archived_at is null and ${scope.sql}
      order by l.name, cg.name, cg.id`,
    [now, now, ...scope.params],
  );
}

export interface GroupTalks {
  group: { id: number; name: string; locationName: string };
  /** May publish and withdraw (talk.manage: the group is in use). */
  canManage: boolean;
  upcoming: TalkSlotView[];
  /** Booked slots that have begun, newest first: to record as held. */
  past: TalkSlotView[];
}

/** A group's slots for its staff: upcoming (free and booked) and the recent past. */
export async function groupTalks(em: EntityManager, actor: Actor, groupId: number): Promise<GroupTalks> {
  await authorize(em, actor, 'talk.record', groupId, 'group');
  const [group] = await sql<{ id: number; name: string; locationName: string }>(
    em,
    'select cg.id, cg.name, l.name as "locationName" from care_group cg join location l on l.id = cg.location_id where cg.id = ?',
    [groupId],
  );
  if (!group) throw notFound('group');
  const now = clockOf(em).now();
  const since = new Date(now.getTime() - PAST_DAYS * 86_400_000);
  const upcoming = await readSlots(em, 'ts.group_id = ? and ts.cancelled_at is null and ts.starts_at > ?', [groupId, now]);
  const past = (
    await readSlots(em, 'ts.group_id = ? and ts.cancelled_at is null and ts.child_id is not null and ts.starts_at <= ? and ts.starts_at > ?', [groupId, now, since])
  ).reverse();
  return { group, canManage: await can(em, actor, 'talk.manage', groupId), upcoming, past };
}

/** The talks ahead in the groups the actor keeps (talk.record), or in one of them: for `portal talks list`. */
export async function upcomingTalks(em: EntityManager, actor: Actor, groupId?: number): Promise<TalkSlotView[]> {
  if (groupId !== undefined) await authorize(em, actor, 'talk.record', groupId, 'group');
  const scope = scopeFilter(scopeOf(em, actor, 'talk.record'), 'ts.group_id');
  const where = groupId !== undefined ? 'ts.group_id = ? and ' : '';
  return await readSlots(em, `${where}ts.cancelled_at is null and ts.starts_at > ? and ${scope.sql}`, [
    ...(groupId !== undefined ? [groupId] : []),
    clockOf(em).now(),
    ...scope.params,
  ]);
}
