import { sideOf } from '../../core/access/index.ts';
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Actor } from '../../core/actor.ts';
import { DEFAULT_RULES, earliestSwapDate } from '../../core/schedule/rules.ts';
import { isDomainError, notFound } from '../../core/errors.ts';
import type { Portal } from '../../core/portal.ts';
import { takenFor } from '../../core/schedule/attendance.ts';
import { cancelDay, undoCancel } from '../../core/schedule/cancel.ts';
import { spokenDate } from '../../core/schedule/decision-mail.ts';
import { childSchedule, parentChildren, swapSummaryAt } from '../../core/schedule/overview.ts';
import { decidesSwaps } from '../../core/schedule/access.ts';
import { isRefusal } from '../../core/schedule/refusal.ts';
import { cancelSwapDay, decideSwap, requestSwap, swapRequestsInScope, withdrawSwap } from '../../core/schedule/swaps.ts';
import type { AuthedEnv } from '../env.ts';
import { sickPath } from './child-day.ts';
import { type FlashKey, setFlash } from '../flash.ts';
import { readForm, seeOther } from '../forms.ts';
import type { LocationSection } from '../location-sections.ts';
import type { Pages } from '../render.ts';
import { clockOf } from '../../core/clock.ts';

/**
 * Afmelden en ruilen: the parent's page (cancel a contracted day, the credits, request a swap
 * day, withdraw a request) and the manager's Ruilverzoeken (approve, or reject with a reason,
 * with the day's occupancy in view). Every rule and every "may this actor" is core's
 * (core/schedule); a refusal is shown next to the form it is about, in the parent's words.
 * A day covered by a ziekmelding says so and links to where it is changed or withdrawn; it can
 * still be cancelled by the same rules as any day (core/schedule/sick.ts says why).
 */

export const SWAPS_PATH = '/ruilen';
export const SWAP_REQUESTS_PATH = '/locatie/ruilverzoeken';

type Errors = { cancel?: string; request?: string; date?: string; requests?: string };

/** The parent's date in words: "maandag 24 november". */
const dayText = (c: Context<AuthedEnv>, date: string) => spokenDate(date, c.var.lang);

/** A refusal from core in the reader's language, dates spoken; other domain errors are rethrown. */
function refusalText(c: Context<AuthedEnv>, err: unknown): string {
  if (isRefusal(err)) {
    const params: Record<string, string> = { ...err.params };
    if (params.date) params.date = dayText(c, params.date);
    return c.var.t(`swaps.refusal.${err.reason}`, params);
  }
  if (isDomainError(err) && err.code === 'validation') return c.var.t('swaps.error.date');
  throw err;
}

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

export function swapRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages; secure: boolean }): void {
  const { portal, pages, secure } = deps;
  const actorOf = (c: Context<AuthedEnv>): Actor => c.var.actor;

  const parentPage = async (
    c: Context<AuthedEnv>,
    childId: number | undefined,
    errors: Errors = {},
    values: Record<string, string> = {},
    status: ContentfulStatusCode = 200,
  ) => {
    const actor = actorOf(c);
    const em = c.var.em;
    const children = await parentChildren(em, actor);
    const chosen = childId === undefined ? children[0] : children.find((ch) => ch.id === childId);
    if (childId !== undefined && !chosen) throw notFound('child');
    const t = c.var.t;
    let page: Record<string, unknown> | undefined;
    let earliest = clockOf(em).today();
    if (chosen) {
      const s = await childSchedule(em, actor, chosen.id);
      earliest = earliestSwapDate(s.rules ?? DEFAULT_RULES, clockOf(em).today());
      const creditLabel = (cr: { part: 'day' | 'morning' | 'afternoon'; sourceDate: string; expiresOn: string }) =>
        t('swaps.credit', { part: t(`swaps.part.${cr.part}`), day: dayText(c, cr.sourceDate), expires: dayText(c, cr.expiresOn) });
      page = {
        child: s.child,
        location: s.location,
        rules: s.rules,
        balance: s.balance,
        days: s.days.map((d) => ({ ...d, label: dayText(c, d.date) })),
        // A sick day links to the child's Ziek melden page, where the report is changed or ended.
        sickHref: sickPath(s.child.id),
        credits: s.credits.map((cr) => ({ ...cr, label: creditLabel(cr) })),
        available: s.credits.filter((cr) => cr.state === 'available').map((cr) => ({ id: cr.id, label: creditLabel(cr) })),
        requests: s.requests.map((r) => ({ ...r, label: t('swaps.requestLine', { day: dayText(c, r.date), part: t(`swaps.part.${r.part}`) }) })),
      };
    }
    return pages.render(
      c,
      'pages/swaps',
      {
        children,
        page,
        earliest: dayText(c, earliest),
        earliestIso: earliest,
        errors,
        values,
      },
      status,
    );
  };

  app.get(SWAPS_PATH, async (c) => {
    const actor = actorOf(c);
    if (decidesSwaps(c.var.em, actor)) return c.redirect(SWAP_REQUESTS_PATH, 303);
    if (sideOf(actor) !== 'parent') throw notFound('page');
    const child = c.req.query('kind');
    return await parentPage(c, child === undefined ? undefined : id(child));
  });

  /**
   * A parent's form on /ruilen: core acts (and decides who may); a refusal is shown next to the
   * form it is about (422) with what was typed, "not found" stays a 404, and otherwise a flash
   * and back to the child's page (PRG).
   */
  const parentPost = (
    path: string,
    section: keyof Errors,
    flash: FlashKey,
    act: (c: Context<AuthedEnv>, form: Record<string, string | undefined>, childId: number) => Promise<unknown>,
    keep: (form: Record<string, string | undefined>) => Record<string, string> = () => ({}),
    /** A field the page itself must see filled before core is asked (the date of a request). */
    missing?: (c: Context<AuthedEnv>, form: Record<string, string | undefined>) => Errors | undefined,
  ) =>
    app.post(path, async (c) => {
      const form = await readForm(c);
      const childId = id(form.kind);
      const back = Number.isNaN(childId) ? undefined : childId;
      const empty = missing?.(c, form);
      // A child id that is no number is 404, as before anything else is looked at.
      if (empty) return await parentPage(c, childId, empty, keep(form), 422);
      try {
        await act(c, form, childId);
      } catch (err) {
        if (isDomainError(err) && err.code === 'not_found') throw err;
        return await parentPage(c, back, { [section]: refusalText(c, err) }, keep(form), 422);
      }
      setFlash(c, flash, secure);
      return seeOther(c, back === undefined ? SWAPS_PATH : `${SWAPS_PATH}?kind=${back}`);
    });

  parentPost(`${SWAPS_PATH}/afmelden`, 'cancel', 'day_cancelled', (c, form, childId) =>
    cancelDay(c.var.em, actorOf(c), { childId, date: form.datum ?? '' }),
  );
  parentPost(`${SWAPS_PATH}/herstellen`, 'cancel', 'day_reinstated', (c, form, childId) =>
    undoCancel(c.var.em, actorOf(c), { childId, date: form.datum ?? '' }),
  );
  parentPost(
    `${SWAPS_PATH}/aanvragen`,
    'request',
    'swap_requested',
    (c, form, childId) => requestSwap(c.var.em, actorOf(c), { childId, creditId: id(form.tegoed), date: form.datum ?? '' }),
    (form) => ({ tegoed: form.tegoed ?? '', datum: form.datum ?? '' }),
    (c, form) => ((form.datum ?? '').trim() ? undefined : { date: c.var.t('swaps.error.date') }),
  );
  parentPost(`${SWAPS_PATH}/:id/intrekken`, 'requests', 'swap_withdrawn', (c) => withdrawSwap(c.var.em, actorOf(c), id(c.req.param('id'))));
  parentPost(`${SWAPS_PATH}/:id/ruildag-afmelden`, 'cancel', 'swap_day_cancelled', (c) =>
    cancelSwapDay(c.var.em, actorOf(c), id(c.req.param('id'))),
  );

  // --- The location manager ---------------------------------------------------------------------

  /** Only those who decide (core's rule) see that the page exists. */
  const requireDecider = (c: Context<AuthedEnv>) => {
    if (!decidesSwaps(c.var.em, actorOf(c))) throw notFound('page');
  };

  const managerPage = async (c: Context<AuthedEnv>, errors: { id?: number; text?: string } = {}, values: Record<string, string> = {}, status: ContentfulStatusCode = 200) => {
    const t = c.var.t;
    const all = await swapRequestsInScope(c.var.em, actorOf(c));
    const groups = new Map<string, { heading: string; items: unknown[] }>();
    for (const r of all.filter((x) => x.status === 'pending')) {
      const heading = t('swaps.manager.group', { group: r.groupName, location: r.locationName });
      const o = r.occupancy!;
      const taken = takenFor(o, r.part);
      const group = groups.get(heading) ?? { heading, items: [] };
      group.items.push({
        id: r.id,
        child: r.childName,
        day: dayText(c, r.date),
        part: r.part,
        occupancy: o.capacity === null ? t('swaps.manager.occupancyOpen', { taken }) : t('swaps.manager.occupancy', { taken, capacity: o.capacity }),
        full: o.capacity !== null && taken >= o.capacity,
      });
      groups.set(heading, group);
    }
    const recent = all
      .filter((x) => x.status !== 'pending')
      .slice(0, 20)
      .map((r) => ({ child: r.childName, day: dayText(c, r.date), part: r.part, status: r.status, reason: r.reason, decidedBy: r.decidedBy }));
    return pages.render(c, 'pages/swap-requests', { pending: [...groups.values()], recent, errors, values }, status);
  };

  app.get('/locatie', (c) => c.redirect(SWAP_REQUESTS_PATH, 302));

  app.get(SWAP_REQUESTS_PATH, async (c) => {
    requireDecider(c);
    return await managerPage(c);
  });

  const decide = (approve: boolean) => async (c: Context<AuthedEnv>) => {
    requireDecider(c);
    const form = await readForm(c);
    const requestId = id(c.req.param('id'));
    try {
      await decideSwap(c.var.em, portal, actorOf(c), requestId, { approve, reason: form.reden });
    } catch (err) {
      if (isDomainError(err) && (err.code === 'not_found' || err.code === 'forbidden')) throw err;
      return await managerPage(c, { id: requestId, text: refusalText(c, err) }, { reden: form.reden ?? '' }, 422);
    }
    setFlash(c, approve ? 'swap_approved' : 'swap_rejected', secure);
    return seeOther(c, SWAP_REQUESTS_PATH);
  };
  app.post(`${SWAP_REQUESTS_PATH}/:id/goedkeuren`, decide(true));
  app.post(`${SWAP_REQUESTS_PATH}/:id/afwijzen`, decide(false));
}

/** Mijn vestiging: per child at this location, the credit balance, the first expiry, open requests. */
export const swapSection: LocationSection = {
  id: 'swaps',
  async render(c, location) {
    const actor = c.var.actor;
    if (sideOf(actor) !== 'parent') return undefined;
    const summaries = await swapSummaryAt(c.var.em, actor, location.id);
    if (summaries.length === 0) return undefined;
    const t = c.var.t;
    return {
      heading: t('swaps.section.heading'),
      body: html`<ul class="inbox">
${summaries.map(
  (s) =>
    html`<li><a href="${SWAPS_PATH}?kind=${s.childId}">${t('swaps.section.child', { name: s.name, count: s.available })}<span class="inbox-meta">${
      s.nextExpiry ? t('swaps.section.expiry', { date: spokenDate(s.nextExpiry, c.var.lang) }) : ''
    }${s.nextExpiry && s.openRequests ? ' · ' : ''}${s.openRequests ? t('swaps.section.open', { count: s.openRequests }) : ''}</span></a></li>`,
)}
</ul>
<p><a href="${SWAPS_PATH}">${t('swaps.section.link')}</a></p>`,
    };
  },
};
