import type { Hono } from 'hono';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv } from '../env.ts';
import type { Pages } from '../render.ts';

/** An e-mail address is at most 320 characters; anything longer is not worth echoing back. */
const MAX_EMAIL = 320;

/**
 * The login page. Accounts arrive in a later issue; until then every attempt fails with the
 * same message a wrong password will give, so the page, its CSRF protection and its wording
 * can already be tested and reviewed.
 */
export function loginRoutes(app: Hono<AppEnv>, portal: Pick<Portal, 'em'>, pages: Pages): void {
  app.get('/', (c) => c.redirect('/login', 303));

  app.get('/login', async (c) => {
    const organisation = await getOrganisation(portal.em());
    return pages.render(c, 'pages/login', {
      siteName: organisation.name,
      organisation: organisation.name,
      email: '',
      failed: false,
    });
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form['email'] === 'string' ? form['email'].trim().slice(0, MAX_EMAIL) : '';
    const organisation = await getOrganisation(portal.em());
    // One message whether the address is unknown or the password wrong, so the form does not
    // tell strangers who has an account. The password is never echoed back.
    return pages.render(
      c,
      'pages/login',
      { siteName: organisation.name, organisation: organisation.name, email, failed: true },
      401,
    );
  });
}
