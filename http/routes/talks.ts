import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { sideOf } from '../../core/access/index.ts';
import type { Portal } from '../../core/portal.ts';
import { spokenDate } from '../../core/schedule/decision-mail.ts';
import { ALREADY_BOOKED, bookSlot, cancelBooking, type ChildTalks, parentTalks, SLOT_TAKEN } from '../../core/talks/booking.ts';
import type { TalkSlotView } from '../../core/talks/read.ts';
import { groupTalks, MAX_NOTE, MAX_SLOTS, publishSlots, recordHeld, talkGroups, withdrawSlot } from '../../core/talks/slots.ts';
import { isDomainError, notFound } from '../../core/errors.ts';
import type { AuthedEnv } from '../env.ts';
import { type FlashKey, setFlash } from '../flash.ts';
import { isHtmx, readForm, seeOther } from '../forms.ts';
import type { Pages } from '../render.ts';

/**
 * Oudergesprekken (core/talks). Parents: /gesprekken, per child the booked talk (cancel, or move
 * to another free time) or the free times to book; plain forms that post and come back, htmx
 * swaps only the child's card. Staff: /gesprekken lists their groups, /gesprekken/groep/:id
 * publishes times and shows the bookings, withdraws a free time and records that a talk took
 * place. Core decides who may; anyone else gets "not found". A time taken a moment before by
 * another parent is a 409 with "Dit tijdstip is net bezet" next to the choice.
 */

export const TALKS_PATH = '/gesprekken';
const groupPath = (id: number) => `${TALKS_PATH}/groep/${id}`;

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

/** "dinsdag 16 juni, 10:00–10:15". */
function whenText(c: Context<AuthedEnv>, s: TalkSlotView): string {
  return `${spokenDate(s.date, c.var.lang)}, ${s.from}–${s.until}`;
}

const slotText = (c: Context<AuthedEnv>, s: TalkSlotView) => ({ ...s, when: whenText(c, s) });

/** A child's card as the template reads it. */
function childCard(c: Context<AuthedEnv>, child: ChildTalks) {
  return { ...child, booked: child.booked ? { ...slotText(c, child.booked), upcoming: child.booked.upcoming } : null, free: child.free.map((s) => slotText(c, s)) };
}

export function talkRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages; secure: boolean }): void {
  const { portal, pages, secure } = deps;

  /** The parent's page, or one child's card for htmx; `error` goes next to that child's choice. */
  const parentPage = async (c: Context<AuthedEnv>, error?: { childId: number; message: string }, status: ContentfulStatusCode = 200) => {
    const children = (await parentTalks(c.var.em, c.var.actor)).map((ch) => childCard(c, ch));
    if (isHtmx(c) && error) {
      const child = children.find((ch) => ch.childId === error.childId);
      if (!child) throw notFound('child');
      return pages.render(c, 'partials/talk-child', { child, error }, status);
    }
    return pages.render(c, 'pages/talks', { children, error }, status);
  };

  app.get(TALKS_PATH, async (c) => {
    if (sideOf(c.var.actor) === 'parent') return await parentPage(c);
    const groups = await talkGroups(c.var.em, c.var.actor);
    return pages.render(c, 'pages/talks-groups', { groups, groupPath });
  });

  /** After a parent's booking, move or cancellation: the card again (htmx) or the page with a flash. */
  const parentDone = async (c: Context<AuthedEnv>, childId: number, flash: FlashKey) => {
    if (isHtmx(c)) {
      const child = (await parentTalks(c.var.em, c.var.actor)).find((ch) => ch.childId === childId);
      if (!child) throw notFound('child');
      return pages.render(c, 'partials/talk-child', { child: childCard(c, child), done: c.var.t(`flash.${flash}`) });
    }
    setFlash(c, flash, secure);
    return c.redirect(`${TALKS_PATH}#kind-${childId}`, 303);
  };

  /** A taken time or a second booking: the page (or card) with the reason at the choice. */
  const refused = (err: unknown): string | null => {
    if (!isDomainError(err) || err.code !== 'conflict') return null;
    return err.message === SLOT_TAKEN ? 'talks.error.taken' : err.message === ALREADY_BOOKED ? 'talks.error.begun' : null;
  };

  app.post(`${TALKS_PATH}/boeken`, async (c) => {
    const form = await readForm(c);
    const childId = id(form.kind);
    const slotId = id(form.tijd);
    if (Number.isNaN(slotId)) return await parentPage(c, { childId, message: c.var.t('talks.error.choose') }, 422);
    try {
      const r = await bookSlot(c.var.em, portal, c.var.actor, { childId, slotId });
      return await parentDone(c, childId, r.outcome === 'moved' ? 'talk_moved' : 'talk_booked');
    } catch (err) {
      const key = refused(err);
      if (!key) throw err;
      return await parentPage(c, { childId, message: c.var.t(key as 'talks.error.taken') }, 409);
    }
  });

  app.post(`${TALKS_PATH}/annuleren`, async (c) => {
    const form = await readForm(c);
    const childId = id(form.kind);
    try {
      await cancelBooking(c.var.em, portal, c.var.actor, { childId, slotId: id(form.tijd) });
    } catch (err) {
      const key = refused(err);
      if (!key) throw err;
      return await parentPage(c, { childId, message: c.var.t('talks.error.begun') }, 409);
    }
    return await parentDone(c, childId, 'talk_cancelled');
  });

  // --- staff --------------------------------------------------------------------------------

  type Values = Record<'datum' | 'van' | 'minuten' | 'aantal' | 'plaats' | 'video', string>;
  const FIELD: Record<string, keyof Values> = { date: 'datum', from: 'van', minutes: 'minuten', count: 'aantal', place: 'plaats', videoUrl: 'video', staff: 'datum' };

  const groupPage = async (c: Context<AuthedEnv>, groupId: number, extra: { values?: Values; errors?: Record<string, string>; heldError?: { slotId: number; message: string } } = {}, status: ContentfulStatusCode = 200) => {
    const talks = await groupTalks(c.var.em, c.var.actor, groupId);
    const values: Values = extra.values ?? { datum: '', van: '', minuten: '15', aantal: '4', plaats: '', video: '' };
    return pages.render(
      c,
      'pages/talks-group',
      {
        talks: { ...talks, upcoming: talks.upcoming.map((s) => slotText(c, s)), past: talks.past.map((s) => slotText(c, s)) },
        notes: portal.config.talks.notes,
        path: groupPath(groupId),
        values,
        errors: extra.errors ?? {},
        heldError: extra.heldError,
        limits: { slots: MAX_SLOTS, note: MAX_NOTE },
      },
      status,
    );
  };

  app.get(`${TALKS_PATH}/groep/:id`, async (c) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    return await groupPage(c, id(c.req.param('id')));
  });

  app.post(`${TALKS_PATH}/groep/:id/tijden`, async (c) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    const groupId = id(c.req.param('id'));
    const form = await readForm(c);
    const values: Values = {
      datum: form.datum ?? '',
      van: form.van ?? '',
      minuten: form.minuten ?? '',
      aantal: form.aantal ?? '',
      plaats: form.plaats ?? '',
      video: form.video ?? '',
    };
    const whole = (v: string) => (/^\d{1,4}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN);
    try {
      const r = await publishSlots(c.var.em, c.var.actor, {
        groupId,
        date: values.datum,
        from: values.van,
        minutes: whole(values.minuten),
        count: whole(values.aantal),
        place: values.plaats,
        videoUrl: values.video,
      });
      setFlash(c, r.created > 0 ? 'talks_published' : 'talks_none_new', secure);
      return seeOther(c, groupPath(groupId));
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const field = err.details[0]?.path ?? 'date';
      const key = FIELD[field] ?? 'datum';
      return await groupPage(c, groupId, { values, errors: { [key]: c.var.t(`talks.error.${field}` as 'talks.error.date') } }, 422);
    }
  });

  app.post(`${TALKS_PATH}/groep/:id/tijd/:slot/intrekken`, async (c) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    const groupId = id(c.req.param('id'));
    await withdrawSlot(c.var.em, c.var.actor, id(c.req.param('slot')));
    setFlash(c, 'talk_withdrawn', secure);
    return seeOther(c, groupPath(groupId));
  });

  app.post(`${TALKS_PATH}/groep/:id/tijd/:slot/gehouden`, async (c) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    const groupId = id(c.req.param('id'));
    const slotId = id(c.req.param('slot'));
    const form = await readForm(c, MAX_NOTE + 100);
    try {
      await recordHeld(c.var.em, portal.config, c.var.actor, slotId, form.notitie);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const field = err.details[0]?.path === 'note' ? 'note' : 'held';
      return await groupPage(c, groupId, { heldError: { slotId, message: c.var.t(`talks.error.${field}` as 'talks.error.note') } }, 422);
    }
    setFlash(c, 'talk_held', secure);
    return seeOther(c, groupPath(groupId));
  });
}
