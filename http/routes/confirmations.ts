import type { Context, Hono } from 'hono';
import { clockOf } from '../../core/clock.ts';
import { confirmAnnouncement, confirmationOverview, confirmationState, remindUnconfirmed } from '../../core/messages/confirmations.ts';
import type { Portal } from '../../core/portal.ts';
import type { AuthedEnv } from '../env.ts';
import { type FlashKey, setFlash } from '../flash.ts';
import { isHtmx, seeOther } from '../forms.ts';
import type { Pages } from '../render.ts';
import { dayHeading } from './photos.ts';

/**
 * Read confirmations (core/messages/confirmations.ts): a parent's one tap "Gelezen en begrepen"
 * (a plain form; htmx swaps the box in place), and the overview with the reminder button for
 * whoever may manage the announcement. Core decides who may: everyone else gets "not found".
 */

const timeFormat = new Intl.DateTimeFormat('nl-NL', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam' });

/** "vandaag 12:03", "maandag 24 november 09:15". */
export function whenText(c: Context<AuthedEnv>, iso: string): string {
  const day = dayHeading(c, iso);
  return `${c.var.lang === 'nl' ? day.charAt(0).toLowerCase() + day.slice(1) : day} ${timeFormat.format(new Date(iso))}`;
}

/** Under Berichten (MESSAGES_PATH, not imported: messages.ts imports this module for the box). */
const announcementPath = (id: string) => `/berichten/mededeling/${id}`;

/** The confirm box's data for the announcement page and its htmx swap. */
export async function confirmationBox(c: Context<AuthedEnv>, id: string) {
  const state = await confirmationState(c.var.em, c.var.actor, id);
  return { ...state, id, confirmedText: state.confirmedAt ? whenText(c, state.confirmedAt) : null };
}

export function confirmationRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages; secure: boolean }): void {
  const { portal, pages, secure } = deps;

  app.post('/berichten/mededeling/:id/bevestigen', async (c) => {
    const id = c.req.param('id');
    await confirmAnnouncement(c.var.em, c.var.actor, id);
    if (isHtmx(c)) return pages.render(c, 'partials/announcement-confirm', { box: await confirmationBox(c, id) });
    setFlash(c, 'announcement_confirmed', secure);
    return seeOther(c, announcementPath(id));
  });

  app.get('/berichten/mededeling/:id/bevestigingen', async (c) => {
    const id = c.req.param('id');
    const overview = await confirmationOverview(c.var.em, c.var.actor, id);
    const now = clockOf(c.var.em).now();
    return pages.render(c, 'pages/announcement-confirmations', {
      overview: {
        ...overview,
        groups: overview.groups.map((g) => ({
          ...g,
          confirmed: g.confirmed.map((p) => ({ ...p, when: whenText(c, p.confirmedAt!) })),
        })),
        lastReminderText: overview.lastReminder ? whenText(c, overview.lastReminder.sentAt) : null,
        nextReminderText: overview.nextReminderAt ? dayHeading(c, overview.nextReminderAt, now).toLowerCase() : null,
      },
    });
  });

  app.post('/berichten/mededeling/:id/herinnering', async (c) => {
    const id = c.req.param('id');
    const result = await remindUnconfirmed(c.var.em, portal, c.var.actor, id);
    const flash: Record<typeof result.outcome, FlashKey> = {
      sent: 'reminder_sent',
      already_today: 'reminder_already_today',
      nobody: 'reminder_nobody',
    };
    setFlash(c, flash[result.outcome], secure);
    return seeOther(c, `${announcementPath(id)}/bevestigingen`);
  });
}
