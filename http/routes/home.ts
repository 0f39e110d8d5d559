import { sideOf } from '../../core/access/index.ts';
import type { Hono } from 'hono';
import { getOrganisation } from '../../core/directory/organisation.ts';
import { parentHome } from '../../core/home/home.ts';
import { initials } from '../../core/directory/mentor.ts';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv, AuthedEnv } from '../env.ts';
import type { Pages } from '../render.ts';
import { dayHeading, thumbSize } from './photos.ts';
import { todayPage } from './today.ts';
import { clockOf } from '../../core/clock.ts';

/**
 * Sections that later issues build. Until then each path answers with a calm "coming soon"
 * page, so the navigation is complete and no link leads to an error. A later route module that
 * takes over a path simply removes it here.
 */
export const COMING_SOON: Record<string, string> = {};

export const HELP_PATH = '/help';

/** Help must be reachable from every page, the login page included: public. */
export function publicPageRoutes(app: Hono<AppEnv>, pages: Pages, helpHref?: string): void {
  app.get(HELP_PATH, async (c) => {
    // A plugin's Help page (the helpdesk form) takes over, with the page the user came from.
    if (helpHref) {
      const from = c.req.query('from');
      return c.redirect(from ? `${helpHref}?from=${encodeURIComponent(from)}` : helpHref, 303);
    }
    const organisation = await getOrganisation(c.var.em);
    return pages.render(c, 'pages/help', {
      organisation: organisation.name,
      helpdeskEmail: organisation.helpdeskEmail,
    });
  });
}

/** Home and the pages around it (behind the login gate). */
export function homeRoutes(app: Hono<AuthedEnv>, _portal: Pick<Portal, 'config'>, pages: Pages): void {
  app.get('/', async (c) => {
    const session = c.var.session;
    const staff = sideOf(session.actor) !== 'parent';
    // Staff land on their group's day (Vandaag); parents on their children's cards below.
    if (staff) return await todayPage(c, pages);
    const now = clockOf(c.var.em).now();
    const home = await parentHome(c.var.em, session.actor, now);
    // The navigation's number came with the page's own statement: no second count (http/nav.ts).
    c.set('navCounts', { '/berichten': home.unread });
    return pages.render(c, 'pages/home', {
      firstName: session.firstName,
      home,
      day: dayHeading(c, now.toISOString(), now).toLowerCase(),
      thumbSize,
      announcementDay: (iso: string) => dayHeading(c, iso, now).toLowerCase(),
      initials,
    });
  });

  app.get('/meer', async (c) => pages.render(c, 'pages/more', {}));

  for (const [path, title] of Object.entries(COMING_SOON)) {
    app.get(path, async (c) => pages.render(c, 'pages/coming-soon', { heading: title }));
  }
}
