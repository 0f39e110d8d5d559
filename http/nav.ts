import { isAdmin, isManager, sideOf } from '../core/access/index.ts';
import type { MiddlewareHandler } from 'hono';
import type { Actor } from '../core/actor.ts';
import { unreadCount } from '../core/messages/unread.ts';
import type { AppEnv } from './env.ts';
import { landingPath } from './middleware/session.ts';
import type { MessageKey } from '../views/i18n/index.ts';

/**
 * The main navigation (UI.md): a bottom bar on phones, a top bar on wider screens. Parents and
 * staff see different sections; sections that are not built yet lead to a "coming soon" page.
 */
export interface NavItem {
  href: string;
  label: MessageKey;
}

const parentNav: NavItem[] = [
  { href: '/', label: 'nav.home' },
  { href: '/fotos', label: 'nav.photos' },
  { href: '/schriftje', label: 'nav.diary' },
  { href: '/berichten', label: 'nav.messages' },
  { href: '/meer', label: 'nav.more' },
];

const staffNav: NavItem[] = [
  { href: '/', label: 'nav.today' },
  { href: '/fotos', label: 'nav.photos' },
  { href: '/schriftje', label: 'nav.diary' },
  { href: '/berichten', label: 'nav.messages' },
];

export function navFor(actor: Actor): NavItem[] {
  if (sideOf(actor) === 'parent') return parentNav;
  if (isManager(actor) || isAdmin(actor)) return [...staffNav, { href: '/locatie', label: 'nav.location' }];
  return staffNav;
}

/** Pages reached from "Meer" (parents), shown as lying in that section. */
const UNDER_MORE = ['/mijn-gegevens', '/mijn-vestiging', '/ruilen', '/help', '/wachtwoord-wijzigen', '/tweestapsverificatie'];

/** The item to mark as the current page: the exact path, or the section it lies in. */
export function currentHref(items: NavItem[], path: string): string | undefined {
  const exact = items.find((i) => i.href === path);
  if (exact) return exact.href;
  const section = items.find((i) => i.href !== '/' && path.startsWith(`${i.href}/`));
  if (section) return section.href;
  const more = items.find((i) => i.href === '/meer');
  if (more && UNDER_MORE.some((p) => path === p || path.startsWith(`${p}/`))) return more.href;
  return undefined;
}

/**
 * The unread count beside "Berichten" (UI.md: small and honest), one query, and only for what
 * becomes a whole page: a GET that is not an htmx request and accepts HTML. Images, downloads
 * and fragments do not pay for it.
 */
export function navCounts(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.var.session;
    const accept = c.req.header('Accept');
    const page =
      c.req.method === 'GET' &&
      c.req.header('HX-Request') !== 'true' &&
      (accept === undefined || accept.includes('text/html'));
    if (session && page && landingPath(session) === '/') {
      // Counted when the page is rendered (http/render.ts), after what the route did (a thread it
      // just marked read no longer counts), and only if the route did not count it itself (home
      // has it from its own statement).
      c.set('navCount', () => unreadCount(c.var.em, session.actor));
    }
    await next();
  };
}
