import type { Context, Hono } from 'hono';
import { clockOf } from '../../core/clock.ts';
import { notFound } from '../../core/errors.ts';
import type { Portal } from '../../core/portal.ts';
import { spokenDate } from '../../core/schedule/decision-mail.ts';
import { groupToday, todayGroups } from '../../core/today/today.ts';
import type { AuthedEnv } from '../env.ts';
import type { Pages } from '../render.ts';

/**
 * Vandaag, the staff's home: one group's day (core/today). "/" shows it for staff (the home
 * route hands over: http/routes/home.ts); /vandaag?groep= picks another group. Everything on it
 * is a link or a plain page: the day's actions are one tap away, no JavaScript needed.
 */

export const TODAY_PATH = '/vandaag';

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

/** Renders Vandaag for the group in ?groep= (else the first of the actor's groups). */
export async function todayPage(c: Context<AuthedEnv>, pages: Pages): Promise<Response> {
  const em = c.var.em;
  const actor = c.var.actor;
  const groups = await todayGroups(em, actor);
  const asked = c.req.query('groep');
  const groupId = asked === undefined ? groups[0]?.id : id(asked);
  const t = c.var.t;
  if (groupId === undefined) return pages.render(c, 'pages/today', { groups, today: undefined, firstName: c.var.session.firstName });
  // Another group's id is "not found", as core says (group.today), also when it is not in the picker.
  if (Number.isNaN(groupId)) throw notFound('group');
  const today = await groupToday(em, actor, groupId);
  const part = (p: string | null) => (p ? t(`today.part.${p}` as never) : '');
  return pages.render(c, 'pages/today', {
    groups,
    today,
    firstName: c.var.session.firstName,
    dayLabel: spokenDate(today.day, c.var.lang),
    part,
    sickUntil: (until: string) => (until === today.day ? t('today.sickToday') : t('today.sickUntil', { date: spokenDate(until, c.var.lang) })),
    pickupsByTime: today.expected
      .filter((ch) => ch.pickup)
      .sort((a, b) => a.pickup!.time.localeCompare(b.pickup!.time) || a.name.localeCompare(b.name, 'nl')),
    now: clockOf(em).now(),
  });
}

export function todayRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages }): void {
  app.get(TODAY_PATH, async (c) => await todayPage(c, deps.pages));
}
