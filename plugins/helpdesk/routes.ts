import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../http/env.ts';
import { readForm } from '../../http/forms.ts';
import type { PluginContext } from '../types.ts';
import { HELPDESK_CATEGORIES } from './entity.ts';
import { helpdeskLimits } from './limits.ts';
import { REFERENCE, safeFromPath, submitHelpdeskRequest, submitSchema } from './requests.ts';
import type { HelpdeskConfig } from './settings.ts';

/**
 * The form at /p/helpdesk (public: most questions are about logging in) and the confirmation
 * at /p/helpdesk/verstuurd. Logged in, the answer goes to the account's address; logged out,
 * the form asks for one. Questions are limited per account, per IP address (stricter for
 * visitors) and for the whole portal (./limits.ts; no captcha).
 */

/** The page the user came from: ?from=, else a same-origin Referer's path. */
function cameFrom(c: Context<AppEnv>): string | null {
  const from = safeFromPath(c.req.query('from'));
  if (from) return from;
  const referer = c.req.header('Referer');
  if (!referer) return null;
  try {
    const url = new URL(referer);
    if (url.origin !== new URL(c.req.url).origin) return null;
    return safeFromPath(url.pathname + url.search);
  } catch {
    return null;
  }
}

type Values = Record<'subject' | 'category' | 'message' | 'email' | 'name' | 'from', string>;

export function routesOf(app: Hono<AppEnv>, ctx: PluginContext<HelpdeskConfig>): void {
  const limits = helpdeskLimits(ctx.portal.em().getConnection().getKnex(), ctx.config);
  const form = (c: Context<AppEnv>, values: Values, errors: Record<string, string>, status: 200 | 422 | 429 = 200) => {
    const session = c.var.session;
    return ctx.pages.render(
      c,
      '@helpdesk/pages/form',
      {
        action: ctx.base,
        values,
        errors,
        categories: HELPDESK_CATEGORIES,
        loggedInEmail: session?.account.email,
        backHref: values.from || (session ? '/' : '/login'),
      },
      status,
    );
  };

  app.get('/', (c) =>
    form(c, { subject: '', category: '', message: '', email: '', name: '', from: cameFrom(c) ?? '' }, {}),
  );

  app.post('/', async (c) => {
    const f = await readForm(c, 6000);
    const session = c.var.session;
    const values: Values = {
      subject: f['subject'] ?? '',
      category: f['category'] ?? '',
      message: f['message'] ?? '',
      email: session ? session.account.email : (f['email'] ?? ''),
      name: session ? session.name : (f['name'] ?? ''),
      from: safeFromPath(f['from']) ?? '',
    };
    const input = { ...values, fromPath: values.from, language: c.var.lang };
    const parsed = submitSchema.safeParse(input);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0]);
        if (field in values) errors[field] = `helpdesk.error.${field}`;
      }
      return form(c, values, errors, 422);
    }
    const verdict = await limits.take({ accountId: session?.account.id, ip: c.var.clientIp });
    if (!verdict.allowed) {
      const who = session ? `account ${session.account.id} at ${c.var.clientIp ?? 'unknown'}` : (c.var.clientIp ?? 'unknown');
      ctx.log.warn(`helpdesk: questions from ${who} over the ${verdict.limit} limit`);
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      return form(c, values, { form: 'helpdesk.error.rateLimited' }, 429);
    }
    const { reference } = await submitHelpdeskRequest(
      c.var.em,
      ctx.portal,
      { accountId: session?.account.id, ip: c.var.clientIp },
      parsed.data,
    );
    return c.redirect(`${ctx.base}/verstuurd?ref=${reference}`, 303);
  });

  app.get('/verstuurd', (c) => {
    const reference = c.req.query('ref') ?? '';
    if (!REFERENCE.test(reference)) return c.redirect(ctx.base, 303);
    return ctx.pages.render(c, '@helpdesk/pages/sent', { reference, homeHref: c.var.session ? '/' : '/login' });
  });
}
