import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import type { Portal } from '../core/portal.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';

let portal: TestPortal;
beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  await initOrganisation(portal.em(), admin, { name: 'Zon', publicUrl: 'https://ouders.zon.nl', helpdeskEmail: 'help@zon.nl' });
});
afterAll(() => portal?.destroy());

/** The same portal with server.trustProxy switched. */
const withTrustProxy = (trustProxy: boolean): Portal => ({
  ...portal,
  config: { ...portal.config, server: { ...portal.config.server, trustProxy } },
});

const loginPage = async (app: Hono<AppEnv>, url: string, headers: Record<string, string> = {}) => {
  const res = await app.request(url, { headers });
  expect(res.status).toBe(200);
  return await res.text();
};

describe('the login page over plain http while the portal is set up for https', () => {
  it('tells the admin, in Dutch, that login will not work over http, with the https address and the fix', async () => {
    const app = createApp(withTrustProxy(false), { publicUrl: 'https://ouders.zon.nl' });
    const html = await loginPage(app, 'http://ouders.zon.nl/login');
    expect(html).toContain('id="login-https"');
    expect(html).toMatch(/Voor de beheerder: deze pagina is via http geopend/);
    expect(html).toContain('<a href="https://ouders.zon.nl/login">https://ouders.zon.nl/login</a>');
    expect(html).toContain('PORTAL_TRUST_PROXY=true');
    // The form is still there: the notice explains, it does not block.
    expect(html).toContain('name="password"');
  });

  it('and in English for an English browser', async () => {
    const app = createApp(withTrustProxy(false), { publicUrl: 'https://ouders.zon.nl' });
    const html = await loginPage(app, 'http://ouders.zon.nl/login', { 'Accept-Language': 'en-GB,en;q=0.9' });
    expect(html).toMatch(/For the administrator: this page was opened over http/);
  });

  it('says nothing over https, or behind a trusted proxy that forwarded https', async () => {
    const direct = createApp(withTrustProxy(false), { publicUrl: 'https://ouders.zon.nl' });
    expect(await loginPage(direct, 'https://ouders.zon.nl/login')).not.toContain('login-https');
    const proxied = createApp(withTrustProxy(true), { publicUrl: 'https://ouders.zon.nl' });
    expect(await loginPage(proxied, 'http://127.0.0.1:3000/login', { 'X-Forwarded-Proto': 'https' })).not.toContain('login-https');
    // A trusted proxy that forwarded plain http: the browser is on http, so the notice shows.
    expect(await loginPage(proxied, 'http://127.0.0.1:3000/login', { 'X-Forwarded-Proto': 'http' })).toContain('login-https');
  });

  it('an X-Forwarded-Proto from anyone when no proxy is trusted does not hide it', async () => {
    const app = createApp(withTrustProxy(false), { publicUrl: 'https://ouders.zon.nl' });
    expect(await loginPage(app, 'http://ouders.zon.nl/login', { 'X-Forwarded-Proto': 'https' })).toContain('login-https');
  });

  it('says nothing when the portal is set up for plain http (a test install)', async () => {
    const app = createApp(withTrustProxy(false), { publicUrl: 'http://127.0.0.1:3000' });
    expect(await loginPage(app, 'http://127.0.0.1:3000/login')).not.toContain('login-https');
  });

  it('the failed-login page shows it too (that is where an admin ends up)', async () => {
    const app = createApp(withTrustProxy(false), { publicUrl: 'https://ouders.zon.nl' });
    const page = await app.request('http://ouders.zon.nl/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const res = await app.request('http://ouders.zon.nl/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: 'https://ouders.zon.nl' },
      body: new URLSearchParams({ _csrf: csrf, email: 'niemand@zon.nl', password: 'fout' }).toString(),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('login-https');
  });
});
