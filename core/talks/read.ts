import type { EntityManager } from '@mikro-orm/postgresql';
import { PORTAL_TIME_ZONE } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { fullName } from '../people.ts';

/**
 * A talk slot as the pages, the mails and the calendar feed read it: its times as wall-clock
 * values in Europe/Amsterdam (computed by PostgreSQL, so a slot after the clock change still says
 * 10:00), its group, who holds it, and the booked child if any.
 */
export interface TalkSlotView {
  id: number;
  groupId: number;
  groupName: string;
  locationName: string;
  staffId: number | null;
  staffLabel: string;
  startsAt: string;
  date: string;
  from: string;
  until: string;
  minutes: number;
  place: string | null;
  videoUrl: string | null;
  childId: number | null;
  childName: string | null;
  bookedById: number | null;
  bookedByName: string | null;
  bookingId: string | null;
  sequence: number;
  heldAt: string | null;
  heldByLabel: string | null;
  note: string | null;
  cancelledAt: string | null;
}

interface Row {
  id: number;
  group_id: number;
  group_name: string;
  location_name: string;
  staff_id: number | null;
  staff_label: string;
  starts_at: Date | string;
  date: string;
  from: string;
  until: string;
  minutes: number;
  place: string | null;
  video_url: string | null;
  child_id: number | null;
  c_first: string | null;
  c_infix: string | null;
  c_last: string | null;
  booked_by_id: number | null;
  p_first: string | null;
  p_infix: string | null;
  p_last: string | null;
  booking_id: string | null;
  sequence: number;
  held_at: Date | string | null;
  held_by_label: string | null;
  note: string | null;
  cancelled_at: Date | string | null;
}

const local = (column: string, format: string) => `to_char((${column}) at time zone '${PORTAL_TIME_ZONE}', '${format}')`;

/** The select of every slot query; callers add `where …` on alias ts. */
export const SLOT_SELECT = `select ts.id, ts.group_id, cg.name as group_name, l.name as location_name, ts.staff_id, ts.staff_label, ts.starts_at,
    ${local('ts.starts_at', 'YYYY-MM-DD')} as date, ${local('ts.starts_at', 'HH24:MI')} as "from",
    ${local("ts.starts_at + ts.minutes * interval '1 minute'", 'HH24:MI')} as until,
    ts.minutes, ts.place, ts.video_url, ts.child_id, c.first_name as c_first, c.infix as c_infix, c.last_name as c_last,
    ts.booked_by_id, pa.first_name as p_first, pa.infix as p_infix, pa.last_name as p_last,
    ts.booking_id, ts.sequence, ts.held_at, ts.held_by_label, ts.note, ts.cancelled_at
  from talk_slot ts join care_group cg on cg.id = ts.group_id join location l on l.id = cg.location_id
  left join child c on c.id = ts.child_id left join parent pa on pa.id = ts.booked_by_id`;

const isoOrNull = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export function toView(r: Row): TalkSlotView {
  return {
    id: r.id,
    groupId: r.group_id,
    groupName: r.group_name,
    locationName: r.location_name,
    staffId: r.staff_id,
    staffLabel: r.staff_label,
    startsAt: new Date(r.starts_at).toISOString(),
    date: r.date,
    from: r.from,
    until: r.until,
    minutes: r.minutes,
    place: r.place,
    videoUrl: r.video_url,
    childId: r.child_id,
    childName: r.c_first ? fullName({ firstName: r.c_first, infix: r.c_infix, lastName: r.c_last ?? '' }) : null,
    bookedById: r.booked_by_id,
    bookedByName: r.p_first ? fullName({ firstName: r.p_first, infix: r.p_infix, lastName: r.p_last ?? '' }) : null,
    bookingId: r.booking_id,
    sequence: r.sequence,
    heldAt: isoOrNull(r.held_at),
    heldByLabel: r.held_by_label,
    note: r.note,
    cancelledAt: isoOrNull(r.cancelled_at),
  };
}

/** Slots matching `where` (on alias ts), in time order. */
export async function readSlots(em: EntityManager, where: string, params: unknown[]): Promise<TalkSlotView[]> {
  const rows = await sql<Row>(em, `${SLOT_SELECT} where ${where} order by ts.starts_at, ts.id`, params);
  return rows.map(toView);
}

/** One slot, whoever asks (callers authorize first or use it for a job they queued themselves). */
export async function readSlot(em: EntityManager, id: number): Promise<TalkSlotView | null> {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return null;
  return (await readSlots(em, 'ts.id = ?', [id]))[0] ?? null;
}
