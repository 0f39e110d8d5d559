import type { FeedEvent, TalkSource } from '../calendar-feed/events.ts';
import { inList } from '../db/sql.ts';
import { readSlots } from './read.ts';

/**
 * Booked talks in a parent's calendar feed (the TalkSource of core/calendar-feed/events.ts): every
 * parent of the child sees the child's talk, not only the one who booked it. The feed passes
 * only the parent's own children (checked there). The UID is the booking's, the same as in the
 * mailed invitation, so a calendar with both shows one event; a cancelled talk simply leaves.
 */
export const talkFeedSource: TalkSource = async (em, { childIds, window, language }) => {
  if (childIds.length === 0) return [];
  const slots = await readSlots(
    em,
    `ts.child_id ${inList(childIds)} and ts.cancelled_at is null
     and (ts.starts_at at time zone 'Europe/Amsterdam')::date between ?::date and ?::date`,
    [...childIds, window.from, window.until],
  );
  return slots.map(
    (s): FeedEvent => ({
      uid: `talk-${s.bookingId}`,
      kind: 'talk',
      when: { date: s.date, from: s.from, until: s.until },
      summary: language === 'en' ? `Talk about ${s.childName} with ${s.staffLabel}` : `Gesprek over ${s.childName} met ${s.staffLabel}`,
      ...((s.place || s.videoUrl) && { location: [s.place, s.videoUrl].filter(Boolean).join(', ') }),
    }),
  );
};
