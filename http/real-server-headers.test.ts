import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import type { Hono } from 'hono';
import { type AppEnv, createApp } from './app.ts';
import { type RunningServer, startServer } from './server.ts';
import { loggedInBrowser } from './testing.ts';

/**
 * Through the real server (@hono/node-server), not app.request(): node-server swaps in its own
 * lightweight Response, and headers set on a response after it was made must still go out, also
 * when the compression middleware reads the body afterwards (a page rendered without any header
 * set before it, as a logged-in page with a CSRF cookie already present is).
 *
 * The session is made by the very app the server runs, so its cookie opens a session there (as
 * Chromium's does in e2e/): with a cookie the server does not know, every request was sent on to
 * /login, which sets a cookie and so never showed the bug.
 */
let portal: TestPortal;
let app: Hono<AppEnv>;
let server: RunningServer;
beforeAll(async () => {
  portal = await createTestPortal();
  await seedMessageWorld(portal);
  app = createApp(portal);
  server = await startServer(portal, { port: 0, host: '127.0.0.1', app });
  await initOrganisation(portal.em(), admin, { name: 'De Zonnebloem', publicUrl: server.url, helpdeskEmail: 'helpdesk@example.nl' });
});
afterAll(async () => {
  await server?.close();
  await portal?.destroy();
});

describe('security headers over the real server', () => {
  it('a logged-in page carries the CSP, no-store and the frame and sniffing guards', async () => {
    const browser = await loggedInBrowser(app, PEOPLE.anna, PASSWORD);
    // Its CSRF cookie too, as a browser has it after the login form: then no page issues one.
    expect(browser.csrf).toBeTruthy();
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    for (const path of ['/', '/meer']) {
      for (const encoding of ['br', 'gzip', 'gzip, deflate', 'identity']) {
        // Not followed: a redirect to /login would be a different page with its own headers.
        const res = await fetch(`${server.url}${path}`, {
          headers: { cookie, accept: 'text/html', 'accept-encoding': encoding },
          redirect: 'manual',
        });
        expect(res.status, `${path} ${encoding} ${res.headers.get('location')}`).toBe(200);
        expect(res.headers.get('content-security-policy') ?? '', `${path} ${encoding}`).toContain("default-src 'self'");
        expect(res.headers.get('cache-control'), path).toContain('no-store');
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(res.headers.get('x-frame-options'), path).toBe('DENY');
        expect(res.headers.get('vary') ?? '', path).toContain('Cookie');
      }
    }
  });
});
