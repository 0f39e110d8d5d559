import { loadAssets } from './assets.ts';
import { inlineStyle } from './inline-style.ts';
import { brotliCompressSync, constants } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import { DomainError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { seedAccount, TestBrowser } from './testing.ts';

const ORGANISATION = 'Kinderopvang Zon & Maan';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const EXPECTED_CSP =
  `default-src 'self'; script-src 'self'; style-src 'self' ${inlineStyle(loadAssets().css).hash}; img-src 'self' data:; form-action 'self'; ` +
  "frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** This file is about pages and CSRF; the login brake has its own tests (auth.test.ts). */
const LOOSE = {
  throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } },
};

let portal: TestPortal;
let app: Hono<AppEnv>;
const logged: string[] = [];
/** A logged-in parent: every page but the public ones is behind the login gate. */
let parent: TestBrowser;

beforeAll(async () => {
  portal = await createTestPortal();
  await initOrganisation(portal.em(), admin, {
    name: ORGANISATION,
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: 'helpdesk@example.nl',
  });
  // Same portal, but a logger we can read, to see what reaches the log on a 500.
  app = createApp({ ...portal, log: createLogger('info', (line) => logged.push(line)) }, LOOSE);
  app.get('/test/domain-error/:code', (c) => {
    throw new DomainError(c.req.param('code') as DomainError['code'], 'from a test');
  });
  app.get('/test/crash', () => {
    throw new Error('database password is hunter2');
  });
  const account = await seedAccount(portal, { email: 'anna@example.nl', password: 'een lange zin als wachtwoord' });
  parent = new TestBrowser(app);
  expect((await parent.login(account.email, account.password)).status).toBe(303);
});
afterAll(() => portal?.destroy());

/** A visit to /login as a browser makes it: the CSRF cookie it gets and the token in the form. */
async function visitLogin(target = app, path = '/login'): Promise<{ cookie: string; token: string; html: string }> {
  const res = await target.request(path);
  expect(res.status).toBe(200);
  const html = await res.text();
  const setCookie = res.headers.getSetCookie().find((c) => /portal-csrf=/.test(c));
  expect(setCookie).toBeDefined();
  const cookie = setCookie!.split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  expect(token).toBeDefined();
  // The page carries the token masked (BREACH): never the cookie's bytes, always its value.
  expect(cookie.endsWith(`=${token}`)).toBe(false);
  expect(token).toMatch(/^[\w-]{86}$/);
  return { cookie, token: token!, html };
}

function postLogin(fields: Record<string, string>, headers: Record<string, string> = {}, target = app) {
  return target.request('/login', { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(fields) });
}

describe('health and readiness', () => {
  it('GET /healthz says the process is up, without asking the database, uncached', async () => {
    const res = await createApp({ ...portal, ping: async () => false }).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('GET /readyz is 200 only with the database, current migrations and a running job queue', async () => {
    const running = { ...portal, jobsState: () => 'running' as const };
    const ok = await createApp(running).request('/readyz');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'current', jobs: 'running' });
    expect(ok.headers.get('Cache-Control')).toBe('no-store');

    const noQueue = await createApp({ ...portal, jobsState: () => 'failed' as const }).request('/readyz');
    expect(noQueue.status).toBe(503);
    expect(await noQueue.json()).toMatchObject({ status: 'unavailable', jobs: 'failed' });

    const down = await createApp({ ...running, ping: async () => false }).request('/readyz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable', database: 'unreachable', migrations: 'unknown', jobs: 'running' });
  });

  it('GET /readyz is 503 when the database lacks a migration this code has', async () => {
    const behind = await createTestPortal();
    try {
      await behind.em().getConnection().execute(`delete from mikro_orm_migrations where name = (select max(name) from mikro_orm_migrations where name like 'Migration%')`);
      const res = await createApp({ ...behind, jobsState: () => 'running' as const }).request('/readyz');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ database: 'ok', migrations: 'pending' });
    } finally {
      await behind.destroy();
    }
  });

  it('GET /readyz is 503 for a portal whose database is really gone', async () => {
    const gone = await createTestPortal();
    const goneApp = createApp({ ...gone, jobsState: () => 'running' as const });
    await gone.destroy();
    const res = await goneApp.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ database: 'unreachable' });
  });
});

describe('login page', () => {
  it('GET / sends the visitor to /login', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
  });

  it('is Dutch by default, with labelled fields, autocomplete, and real help links', async () => {
    const res = await app.request('/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain('Kinderopvang Zon &amp; Maan');
    expect(html).not.toContain('Zon & Maan');
    expect(html).toContain('<label for="email">E-mailadres</label>');
    expect(html).toContain('<label for="password">Wachtwoord</label>');
    expect(html).toMatch(/<input type="email" id="email" name="email"[^>]*autocomplete="username"/);
    expect(html).toMatch(/<input type="password" id="password" name="password"[^>]*autocomplete="current-password"/);
    expect(html).toContain('<a href="/wachtwoord-vergeten">Wachtwoord vergeten?</a>');
    // The helpdesk form (plugins/helpdesk), told that the question comes from the login page.
    expect(html).toContain('<a href="/p/helpdesk?from=%2Flogin">Hulp nodig?</a>');
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('<button type="submit" name="lang" value="en" lang="en">English</button>');
    expect(html).not.toContain('klopt niet');
  });

  it('is English for a browser that prefers English', async () => {
    const res = await app.request('/login', { headers: { 'Accept-Language': 'en-GB,en;q=0.9,nl;q=0.5' } });
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<label for="email">E-mail address</label>');
    expect(html).toContain('Forgot your password?');
    expect(html).toContain('<button type="submit" name="lang" value="nl" lang="nl">Nederlands</button>');
    expect(res.headers.get('Vary')).toMatch(/Accept-Language/);
  });

  it('falls back to Dutch for a language we do not have, and follows quality order', async () => {
    const german = await (await app.request('/login', { headers: { 'Accept-Language': 'de-DE,de' } })).text();
    expect(german).toContain('<html lang="nl">');
    const ranked = await (await app.request('/login', { headers: { 'Accept-Language': 'en;q=0.3, nl-BE;q=0.8' } })).text();
    expect(ranked).toContain('<html lang="nl">');
  });

  it('?lang= changes one response; the switch (a POST) remembers the choice in a cookie that wins over Accept-Language', async () => {
    const once = await app.request('/login?lang=en', { headers: { 'Accept-Language': 'nl' } });
    expect(await once.text()).toContain('<html lang="en">');
    expect(once.headers.getSetCookie().some((c) => c.startsWith('lang='))).toBe(false);
    const b = new TestBrowser(app, { 'Accept-Language': 'nl' });
    const res = await b.post('/taal', { lang: 'en', terug: '/login' });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
    const langCookie = res.headers.getSetCookie().find((c) => c.startsWith('lang='));
    expect(langCookie).toMatch(/^lang=en; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax$/);
    const later = await app.request('/login', { headers: { Cookie: 'lang=en', 'Accept-Language': 'nl' } });
    expect(await later.text()).toContain('<html lang="en">');
    expect(later.headers.getSetCookie().some((c) => c.startsWith('lang='))).toBe(false);
  });

  it('inlines its stylesheet, links its scripts by a content-hashed name, and serves them with the right types', async () => {
    const { html } = await visitLogin();
    // The page carries the stylesheet itself (one round trip to the first paint); the hashed
    // file stays for the offline page, which links it.
    const inline = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    // Minified on the way in: no comments, no spaces after colons.
    expect(inline).toContain('prefers-color-scheme:dark');
    expect(inline).not.toContain('/*');
    expect(html).not.toContain('rel="stylesheet"');
    const offline = await (await app.request('/offline')).text();
    const css = /<link rel="stylesheet" href="(\/assets\/portal\.[0-9a-f]{12}\.css)">/.exec(offline)?.[1];
    // One small script while the page loads; it adds htmx (first) and the rest after the load event.
    const loader = /<script src="(\/assets\/load-scripts\.[0-9a-f]{12}\.js)" defer data-scripts="([^"]+)"><\/script>/.exec(html);
    const js = /^(\/assets\/htmx\.[0-9a-f]{12}\.min\.js)( |$)/.exec(loader?.[2] ?? '')?.[1];
    expect((await app.request(loader?.[1] ?? '/none')).status).toBe(200);
    expect(css).toBeDefined();
    expect(js).toBeDefined();
    expect(html).toContain('<meta name="htmx-config" content=\'{"history":"reload","includeIndicatorCSS":false');

    const cssRes = await app.request(css!);
    expect(cssRes.status).toBe(200);
    expect(cssRes.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    expect(cssRes.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(cssRes.headers.getSetCookie()).toEqual([]);
    const cssText = await cssRes.text();
    expect(cssText).toContain('prefers-color-scheme: dark');
    // The same rules as the page inlines, there minified.
    expect(cssText).toContain('/* Ouderportaal');
    expect(inline!.length).toBeLessThan(cssText.length * 0.8);
    // Every page carries it: compressed as pages are (Brotli 5), it stays small on a slow line.
    expect(brotliCompressSync(cssText, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).byteLength).toBeLessThan(8 * 1024);

    const jsRes = await app.request(js!);
    expect(jsRes.status).toBe(200);
    expect(jsRes.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(jsRes.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    const served = new Uint8Array(await jsRes.arrayBuffer());
    expect(Buffer.compare(served, readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js')))).toBe(0);
  });

  it('does not pin an asset under a version it does not have, and answers If-None-Match', async () => {
    const stale = await app.request('/assets/htmx.min.js?v=000000000000');
    expect(stale.status).toBe(200);
    expect(stale.headers.get('Cache-Control')).toBe('no-cache');
    const etag = stale.headers.get('ETag')!;
    const again = await app.request('/assets/htmx.min.js', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('security headers', () => {
  it('every response carries the CSP and friends, and no HSTS over plain http', async () => {
    for (const path of ['/login', '/healthz', '/assets/portal.css', '/no-such-page']) {
      const res = await app.request(path);
      expect(res.headers.get('Content-Security-Policy'), path).toBe(EXPECTED_CSP);
      expect(res.headers.get('X-Content-Type-Options'), path).toBe('nosniff');
      expect(res.headers.get('Referrer-Policy'), path).toBe('same-origin');
      expect(res.headers.get('X-Frame-Options'), path).toBe('DENY');
      expect(res.headers.get('Permissions-Policy'), path).toBe('camera=(), microphone=(), geolocation=()');
      expect(res.headers.get('Cross-Origin-Opener-Policy'), path).toBe('same-origin');
      expect(res.headers.get('Strict-Transport-Security'), path).toBeNull();
      expect(res.headers.get('X-Request-Id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }
    const csp = (await app.request('/login')).headers.get('Content-Security-Policy')!;
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('pages carry no inline script or style for the CSP to block', async () => {
    const { html } = await visitLogin();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    // But for the layout's own stylesheet, allowed by its hash (http/inline-style.ts).
    expect(html.replace(/<style>[\s\S]*?<\/style>/, '')).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('over https: HSTS, and the CSRF cookie is __Host- and Secure', async () => {
    const httpsApp = createApp(portal, { ...LOOSE, publicUrl: 'https://ouders.example.nl' });
    const res = await httpsApp.request('https://ouders.example.nl/login');
    expect(res.headers.get('Strict-Transport-Security')).toBe('max-age=31536000');
    const cookie = res.headers.getSetCookie().find((c) => c.includes('portal-csrf'));
    expect(cookie).toMatch(/^__Host-portal-csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('over http the CSRF cookie has the plain name and no Secure flag', async () => {
    const res = await app.request('/login');
    const cookie = res.headers.getSetCookie().find((c) => c.includes('portal-csrf'));
    expect(cookie).toMatch(/^portal-csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('keeps an existing CSRF cookie instead of issuing a new one each page', async () => {
    const { cookie, token } = await visitLogin();
    const res = await app.request('/login', { headers: { Cookie: cookie } });
    expect(res.headers.getSetCookie().some((c) => c.includes('portal-csrf'))).toBe(false);
    // The same token, masked with a new pad (so its bytes differ from the first page's).
    const next = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
    expect(next).toMatch(/^[\w-]{86}$/);
    expect(next).not.toBe(token);
  });
});

describe('POST /login and CSRF', () => {
  const typed = { email: 'ouder@example.nl', password: 'geheim-wachtwoord-123' };

  it('refuses a post without any token with 403 and a small error page', async () => {
    const res = await postLogin(typed);
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('Formulier verlopen');
    expect(html).not.toContain('geheim-wachtwoord-123');
    expect(res.headers.get('Content-Security-Policy')).toBe(EXPECTED_CSP);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('refuses a forged token (field differs from cookie)', async () => {
    const { cookie } = await visitLogin();
    const forged = 'A'.repeat(43);
    const res = await postLogin({ ...typed, _csrf: forged }, { Cookie: cookie });
    expect(res.status).toBe(403);
  });

  it('masks the token anew on every page, each unmasking to the cookie; another session\'s does not', async () => {
    const first = await visitLogin();
    const second = await app.request('/login', { headers: { Cookie: first.cookie } });
    const secondToken = /name="_csrf" value="([^"]+)"/.exec(await second.text())?.[1];
    expect(secondToken).toBeDefined();
    expect(secondToken).not.toBe(first.token);
    for (const token of [first.token, secondToken!]) {
      expect((await postLogin({ ...typed, _csrf: token }, { Cookie: first.cookie })).status).toBe(401);
    }
    const other = await visitLogin();
    expect((await postLogin({ ...typed, _csrf: other.token }, { Cookie: first.cookie })).status).toBe(403);
    // A masked token with one bit flipped is refused.
    const flipped = Buffer.from(first.token, 'base64url');
    flipped[40] = flipped[40]! ^ 1;
    expect((await postLogin({ ...typed, _csrf: flipped.toString('base64url') }, { Cookie: first.cookie })).status).toBe(403);
  });

  it('refuses a token in the form without the cookie, and a cookie without the token', async () => {
    const { cookie, token } = await visitLogin();
    expect((await postLogin({ ...typed, _csrf: token })).status).toBe(403);
    expect((await postLogin(typed, { Cookie: cookie })).status).toBe(403);
  });

  it('with a matching token: 401, the generic message, the e-mail kept and the password not', async () => {
    const { cookie, token } = await visitLogin();
    const res = await postLogin({ ...typed, _csrf: token }, { Cookie: cookie });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('E-mailadres of wachtwoord klopt niet.');
    expect(html).toContain('value="ouder@example.nl"');
    expect(html).not.toContain('geheim-wachtwoord-123');
    expect(html).toContain('aria-invalid="true"');
  });

  it('escapes what was typed as e-mail', async () => {
    const { cookie, token } = await visitLogin();
    const res = await postLogin({ ...typed, email: '"><script>alert(1)</script>', _csrf: token }, { Cookie: cookie });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('gives the English message in English', async () => {
    const { cookie, token } = await visitLogin();
    const res = await postLogin({ ...typed, _csrf: token }, { Cookie: `${cookie}; lang=en` });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('The e-mail address or password is incorrect.');
  });

  it('accepts the token in the X-CSRF-Token header (htmx)', async () => {
    const { cookie, token } = await visitLogin();
    const res = await postLogin(typed, { Cookie: cookie, 'X-CSRF-Token': token });
    expect(res.status).toBe(401);
  });

  it('accepts a same-origin post and refuses a cross-site one even with a valid token', async () => {
    const { cookie, token } = await visitLogin();
    const fields = { ...typed, _csrf: token };
    const sameOrigin = await postLogin(fields, { Cookie: cookie, Origin: 'http://localhost', 'Sec-Fetch-Site': 'same-origin' });
    expect(sameOrigin.status).toBe(401);
    const crossOrigin = await postLogin(fields, { Cookie: cookie, Origin: 'https://evil.example' });
    expect(crossOrigin.status).toBe(403);
    expect(await crossOrigin.text()).toContain('Formulier verlopen');
    const crossSite = await postLogin(fields, { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const sameSite = await postLogin(fields, { Cookie: cookie, 'Sec-Fetch-Site': 'same-site' });
    expect(sameSite.status).toBe(403);
    const nullOrigin = await postLogin(fields, { Cookie: cookie, Origin: 'null' });
    expect(nullOrigin.status).toBe(403);
  });

  it('accepts the configured public origin behind a proxy', async () => {
    const proxied = createApp(portal, { ...LOOSE, publicUrl: 'https://ouders.example.nl' });
    const { cookie, token } = await visitLogin(proxied);
    const res = await postLogin(
      { ...typed, _csrf: token },
      { Cookie: cookie, Origin: 'https://ouders.example.nl', 'Sec-Fetch-Site': 'same-origin' },
      proxied,
    );
    expect(res.status).toBe(401);
  });

  it('behind a trusted proxy, takes the origin the proxy saw; without trust, refuses it', async () => {
    const server = { ...portal.config.server, trustProxy: true };
    const trusting = createApp({ ...portal, config: { ...portal.config, server } }, LOOSE);
    const proxyHeaders = {
      Origin: 'https://portal.example.org',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'portal.example.org',
    };
    const behindProxy = await visitLogin(trusting);
    const fields = { ...typed, _csrf: behindProxy.token };
    expect((await postLogin(fields, { Cookie: behindProxy.cookie, ...proxyHeaders }, trusting)).status).toBe(401);
    const direct = await visitLogin();
    const fieldsDirect = { ...typed, _csrf: direct.token };
    expect((await postLogin(fieldsDirect, { Cookie: direct.cookie, ...proxyHeaders })).status).toBe(403);
  });

  it('refuses an oversized body before reading it', async () => {
    const { cookie, token } = await visitLogin();
    const res = await postLogin({ ...typed, _csrf: token, filler: 'x'.repeat(1024 * 1024) }, { Cookie: cookie });
    expect(res.status).toBe(413);
  });
});

describe('errors', () => {
  it('unknown routes get a 404 page in the visitor language (once logged in)', async () => {
    const res = await parent.get('/bestaat-niet');
    expect(res.status).toBe(404);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('Pagina niet gevonden');
    expect(html).toContain('<html lang="nl">');
    const en = await parent.get('/bestaat-niet?lang=en');
    expect(await en.text()).toContain('Page not found');
  });

  it('for a visitor who is not logged in, any other page leads to the login page', async () => {
    const res = await app.request('/bestaat-niet');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
  });

  it('maps each DomainError code to its status', async () => {
    const expected: Record<DomainError['code'], number> = {
      not_found: 404,
      validation: 422,
      conflict: 409,
      forbidden: 403,
      unauthenticated: 401,
      rate_limited: 429,
    };
    for (const [code, status] of Object.entries(expected)) {
      const res = await parent.get(`/test/domain-error/${code}`);
      expect(res.status, code).toBe(status);
      expect(await res.text(), code).toContain('<html lang="nl">');
    }
  });

  it('an unexpected error is a 500 page with a reference, the details only in the log', async () => {
    const res = await parent.get('/test/crash');
    expect(res.status).toBe(500);
    const html = await res.text();
    const id = res.headers.get('X-Request-Id')!;
    expect(html).toContain('Er ging iets mis');
    expect(html).toContain(`Foutcode: ${id}`);
    expect(html).not.toContain('hunter2');
    expect(html).not.toMatch(/\bat .*\.ts:\d+/);
    const line = logged.find((l) => l.includes(id));
    expect(line).toMatch(/error.*GET \/test\/crash failed: Error: database password is hunter2/);
  });

  it('htmx requests get only the message, not a page inside a page', async () => {
    const res = await parent.get('/bestaat-niet', { 'HX-Request': 'true' });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('Pagina niet gevonden');
    expect(html).not.toContain('<html');
  });

  it('the language switch on an odd path goes back only to this site', async () => {
    const html = await (await parent.request('//evil.example/x')).text();
    expect(html).toContain('name="terug" value="/evil.example/x"');
    expect(html).not.toContain('"//evil.example');
  });
});
