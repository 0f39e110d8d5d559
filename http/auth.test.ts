import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import argon2 from 'argon2';
import type { Hono } from 'hono';
import { generate } from 'otplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSessionId } from '../core/auth/sessions.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { AuditEvent } from '../core/entities/audit.ts';
import type { AccountMailJob } from '../core/mail/account-mail.ts';
import { sendAccountMail } from '../core/mail/account-mail-worker.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { loggablePath } from './middleware/request-context.ts';
import { type SeededAccount, seedAccount, TestBrowser } from './testing.ts';

/**
 * The login from the attacker's side, through app.request() (no port): guessing, enumerating,
 * fixing a session, replaying old cookies and links, forging forms. The portal trusts a proxy
 * here so each test can come from its own IP (X-Forwarded-For) and the brake of one test does
 * not leak into the next.
 */

const ORGANISATION = 'Kinderopvang De Zonnebloem';
const GOOD = 'paard batterij nietje correct';
const GENERIC = 'E-mailadres of wachtwoord klopt niet.';

let portal: TestPortal;
let startedAt: Date;
let app: Hono<AppEnv>;
let ipCounter = 0;
let seq = 0;

/** A browser from a fresh IP. */
function browser(target = app, origin = 'http://localhost'): TestBrowser {
  ipCounter++;
  return new TestBrowser(target, { 'X-Forwarded-For': `198.51.100.${ipCounter % 250}` }, origin);
}

async function parent(extra: Partial<Parameters<typeof seedAccount>[1]> = {}): Promise<SeededAccount> {
  seq++;
  return await seedAccount(portal, { email: `ouder${seq}@example.nl`, password: GOOD, ...extra });
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return (await portal.em().getConnection().execute(query, params as never[])) as T[];
}

async function auditTypes(accountId: number): Promise<string[]> {
  const events = await portal.em().find(AuditEvent, { accountId }, { orderBy: { id: 'asc' } });
  return events.map((e) => e.type);
}

const sessionsOf = async (accountId: number) =>
  sql<{ id_hash: string }>('select id_hash from session where account_id = ?', [accountId]);

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  startedAt = portal.clock.now();
  await initOrganisation(portal.em(), admin, {
    name: ORGANISATION,
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: 'helpdesk@example.nl',
  });
  app = createApp(portal);
});
afterAll(() => portal?.destroy());
// Tests that let time pass advance the portal's clock; the next test starts where the first did.
afterEach(() => {
  portal?.clock.set(startedAt);
});

/** The Unix time in seconds that otplib wants for a code: the portal's clock, not the real time. */
const epochOf = (at: Date) => Math.floor(at.getTime() / 1000);

describe('logging in', () => {
  it('a right password: 303 home, a session cookie with the right flags, home greets by name', async () => {
    const account = await parent({ firstName: 'Fatima' });
    const b = browser();
    const res = await b.login(account.email, GOOD);
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('portal-session='));
    expect(cookie).toMatch(/^portal-session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const home = await b.get('/');
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('Welkom, Fatima');
    for (const label of ['Home', 'Foto&#39;s', 'Schriftje', 'Berichten', 'Meer']) expect(html).toContain(`>${label}</a>`);
    expect(html).toContain('aria-current="page">Home</a>');
    expect(await auditTypes(account.accountId)).toEqual(['login.success']);
  });

  it('over https the cookie is __Host-portal-session and Secure', async () => {
    const account = await parent();
    const httpsApp = createApp(portal, { publicUrl: 'https://ouders.example.nl' });
    const b = browser(httpsApp, 'https://ouders.example.nl');
    const res = await b.login(account.email, GOOD);
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().find((c) => c.includes('portal-session='));
    expect(cookie).toMatch(/^__Host-portal-session=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect((await b.get('/')).status).toBe(200);
  });

  it('stores only the hash of the session id: the cookie value is nowhere in the session table', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    const token = b.cookie('portal-session')!;
    const rows = await sql('select * from session where account_id = ?', [account.accountId]);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!['id_hash']).toBe(hashSessionId(token));
    const dump = await sql<{ t: string }>("select string_agg(s::text, ' ') as t from session s");
    expect(dump[0]!.t).not.toContain(token);
  });

  it('a wrong password and an unknown address get the same status and the same page', async () => {
    const account = await parent();
    const b = browser();
    const wrong = await b.login(account.email, 'niet het goede wachtwoord');
    const unknown = await b.login('niemand@example.nl', 'niet het goede wachtwoord');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    // The CSRF token is masked anew on every page (BREACH), so it is left out of the comparison.
    const same = (html: string, email: string) => html.replaceAll(email, 'EMAIL').replace(/(?<![\w-])[\w-]{86}(?![\w-])/g, 'CSRF');
    const a = same(await wrong.text(), account.email);
    const c = same(await unknown.text(), 'niemand@example.nl');
    expect(a).toBe(c);
    expect(a).toContain(GENERIC);
    const failures = await portal.em().find(AuditEvent, { type: 'login.failure', subject: { $in: [account.email, 'niemand@example.nl'] } });
    expect(failures.map((f) => f.details?.['reason']).sort()).toEqual(['unknown_address', 'wrong_password']);
  });

  it('a wrong password and an unknown address take about the same time (one argon2 each)', async () => {
    const account = await parent();
    const time = async (email: string) => {
      const b = browser();
      await b.get('/login');
      const started = performance.now();
      await b.login(email, 'niet het goede wachtwoord');
      return performance.now() - started;
    };
    await time('warm-up@example.nl');
    const known: number[] = [];
    const unknown: number[] = [];
    // Nine of each, interleaved, compared by median: another test file hashing on the other core
    // slows both series alike, and a single slow sample cannot move a median.
    for (let i = 0; i < 9; i++) {
      known.push(await time(account.email));
      unknown.push(await time(`onbekend${i}@example.nl`));
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[4]!;
    const ratio = median(known) / median(unknown);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('an expired generated password is refused with the same generic message', async () => {
    const account = await parent({ mustChange: true, passwordExpiresAt: new Date(portal.clock.now().getTime() - 60_000) });
    const res = await browser().login(account.email, GOOD);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain(GENERIC);
    const [event] = await portal.em().find(AuditEvent, { accountId: account.accountId, type: 'login.failure' });
    expect(event?.details).toEqual({ reason: 'password_expired' });
    expect(await sessionsOf(account.accountId)).toEqual([]);
  });

  it('rehashes on login when the configured argon2 cost has gone up', async () => {
    const account = await parent();
    const weak = await argon2.hash(GOOD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    await sql('update account set password_hash = ? where id = ?', [weak, account.accountId]);
    const stronger = createApp({
      ...portal,
      hasher: (await import('../core/auth/passwords.ts')).createPasswordHasher({
        ...portal.config.auth,
        argon2TimeCost: 3,
      }),
    });
    expect((await browser(stronger).login(account.email, GOOD)).status).toBe(303);
    const [row] = await sql<{ password_hash: string }>('select password_hash from account where id = ?', [account.accountId]);
    expect(row!.password_hash).not.toBe(weak);
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=3\$/);
    expect((await browser().login(account.email, GOOD)).status).toBe(303);
  });
});

describe('the login brake', () => {
  beforeEach(async () => {
    await sql('delete from rate_limit');
  });

  it('the 6th attempt for one address from one IP is throttled (429, even with the right password); the block lifts by itself', async () => {
    const account = await parent();
    const b = browser();
    for (let i = 0; i < 5; i++) expect((await b.login(account.email, `fout-${i}-wachtwoord`)).status).toBe(401);
    const blocked = await b.login(account.email, GOOD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('Retry-After'))).toBeGreaterThan(800);
    const html = await blocked.text();
    expect(html).toContain('te vaak achter elkaar een verkeerd wachtwoord');
    expect(html).not.toContain(GENERIC);
    expect(await auditTypes(account.accountId)).not.toContain('login.success');
    // Another IP is not hindered by this one.
    expect((await browser().login(account.email, GOOD)).status).toBe(303);
    // The window passes (its row expires): the same browser gets in again. The rate limiter
    // (rate-limiter-flexible) keeps its windows in real time, not on the portal's clock.
    await sql("update rate_limit set expire = ? where key like 'login-address-ip:%'", [Date.now() - 1]);
    expect((await b.login(account.email, GOOD)).status).toBe(303);
  });

  it('an unknown address is throttled exactly like a known one (no enumeration through the brake)', async () => {
    const b = browser();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await b.login('bestaat-niet@example.nl', 'wat dan ook hier')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await portal.em().find(AuditEvent, { type: 'login.blocked', subject: 'bestaat-niet@example.nl' });
    expect(blocked).toHaveLength(1);
  });

  it('behind the proxy, made-up X-Forwarded-For entries of the client do not give it a fresh IP', async () => {
    const account = await parent();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      // The client invents an address each time; our proxy appends the one it really saw.
      const b = new TestBrowser(app, { 'X-Forwarded-For': `10.9.8.${i}, 203.0.113.77` });
      statuses.push((await b.login(account.email, 'raden raden raden')).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('one IP trying many addresses is stopped after 50 failures', async () => {
    const b = browser();
    for (let i = 0; i < 50; i++) {
      expect((await b.login(`gok${i}@example.nl`, 'wachtwoord-gok-123')).status).toBe(401);
    }
    const account = await parent();
    expect((await b.login(account.email, GOOD)).status).toBe(429);
    expect((await browser().login(account.email, GOOD)).status).toBe(303);
  });

  it('50 parallel logins never run more than maxConcurrentHashes argon2 computations at once', async () => {
    const account = await parent();
    const limit = portal.config.auth.maxConcurrentHashes;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, portal.hasher.limiter.active);
    }, 1);
    try {
      const browsers = Array.from({ length: 50 }, () => browser());
      await Promise.all(browsers.map((b) => b.get('/login')));
      const results = await Promise.all(
        browsers.map((b, i) => b.login(i % 2 ? account.email : `x${i}@example.nl`, i % 2 ? GOOD : 'verkeerd wachtwoord')),
      );
      expect(results.map((r) => r.status).sort()).toEqual([...Array(25).fill(303), ...Array(25).fill(401)]);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(limit);
    expect(portal.hasher.limiter.active).toBe(0);
  });
});

describe('sessions', () => {
  it('a session cookie from before the login is not valid after it (fixation)', async () => {
    const account = await parent();
    const b = browser();
    await b.get('/login');
    // A cookie planted by someone else: made up, or a real session of the attacker's own.
    const attacker = await parent();
    const theirs = browser();
    await theirs.login(attacker.email, GOOD);
    const planted = theirs.cookie('portal-session')!;
    b.cookies.set('portal-session', planted);
    await b.login(account.email, GOOD);
    const mine = b.cookie('portal-session')!;
    expect(mine).not.toBe(planted);
    // The planted value opens nothing now (the login ended it), and certainly not my account.
    const replay = browser();
    replay.cookies.set('portal-session', planted);
    expect((await replay.get('/')).status).toBe(303);
    expect((await b.get('/')).status).toBe(200);

    // The browser's own earlier session ends too when it logs in again.
    await b.login(account.email, GOOD);
    const old = browser();
    old.cookies.set('portal-session', mine);
    expect((await old.get('/')).status).toBe(303);
  });

  it('login rotates the CSRF token: a token from before the login no longer works', async () => {
    const account = await parent();
    const b = browser();
    await b.get('/login');
    const before = b.csrf!;
    await b.login(account.email, GOOD);
    expect(b.csrf).toBeDefined();
    expect(b.csrf).not.toBe(before);
    const res = await b.post('/uitloggen', {}, { csrf: before });
    expect(res.status).toBe(403);
    expect((await b.get('/')).status).toBe(200);
  });

  it('an idle session ends after 30 minutes without a request; the login page says why', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    portal.clock.advance({ minutes: 29 });
    expect((await b.get('/')).status).toBe(200);
    // That request counted as activity (seen now), so 29 minutes later again it is still alive.
    const [row] = await sql<{ last_seen_at: Date }>('select last_seen_at from session where account_id = ?', [account.accountId]);
    expect(new Date(row!.last_seen_at).toISOString()).toBe(portal.clock.now().toISOString());
    portal.clock.advance({ minutes: 29 });
    expect((await b.get('/')).status).toBe(200);
    portal.clock.advance({ minutes: 31 });
    const res = await b.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
    expect(await sessionsOf(account.accountId)).toEqual([]);
    expect(b.cookie('portal-session')).toBeUndefined();
    expect(await (await b.get('/login')).text()).toContain('U was een tijd niet actief en bent daarom uitgelogd.');
  });

  it('a session ends 12 hours after login however active it is', async () => {
    const account = await parent();
    const b = browser();
    const loggedInAt = portal.clock.now().getTime();
    await b.login(account.email, GOOD);
    const [row] = await sql<{ hours: number }>(
      'select extract(epoch from expires_at - created_at) / 3600 as hours from session where account_id = ?',
      [account.accountId],
    );
    expect(Number(row!.hours)).toBeCloseTo(12, 5);
    // A request every 25 minutes all day long: never idle, and still over at 12 hours.
    for (let m = 25; m < 12 * 60; m += 25) {
      portal.clock.advance({ minutes: 25 });
      expect((await b.get('/')).status, `${m} minutes`).toBe(200);
    }
    portal.clock.set(new Date(loggedInAt + 12 * 3_600_000));
    expect((await b.get('/')).status).toBe(303);
    expect(await sessionsOf(account.accountId)).toEqual([]);
  });

  it('a suspended account loses its session at once, even if the session row survived', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    expect((await b.get('/')).status).toBe(200);
    // What `portal parents suspend` does, minus deleting the sessions: the gate must still refuse.
    await sql('update account set suspended_at = now() where id = ?', [account.accountId]);
    expect(await sessionsOf(account.accountId)).toHaveLength(1);
    const res = await b.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
    expect(await sessionsOf(account.accountId)).toEqual([]);
    // And no new login: the right password says why, a wrong one says nothing.
    const again = await browser().login(account.email, GOOD);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('uw toegang tot het ouderportaal is stopgezet');
    const guess = await browser().login(account.email, 'een gok van iemand');
    expect(guess.status).toBe(401);
    expect(await guess.text()).toContain(GENERIC);
  });

  it('logout ends the session, clears the cookie, rotates the CSRF token and says so', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    const token = b.cookie('portal-session')!;
    const csrf = b.csrf;
    const res = await b.post('/uitloggen', {});
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/login');
    expect(b.cookie('portal-session')).toBeUndefined();
    expect(b.csrf).not.toBe(csrf);
    expect(await sessionsOf(account.accountId)).toEqual([]);
    const replay = browser();
    replay.cookies.set('portal-session', token);
    expect((await replay.get('/')).status).toBe(303);
    expect(await (await b.get('/login')).text()).toContain('U bent uitgelogd.');
    expect(await auditTypes(account.accountId)).toEqual(['login.success', 'logout']);
  });

  it('logout without the CSRF token is refused (403) and the session stays', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    expect((await b.post('/uitloggen', {}, { csrf: null })).status).toBe(403);
    expect((await b.post('/uitloggen', {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await b.get('/')).status).toBe(200);
  });

  it('an htmx request without a session gets 401 and HX-Redirect to the login page', async () => {
    const res = await browser().get('/', { 'HX-Request': 'true' });
    expect(res.status).toBe(401);
    expect(res.headers.get('HX-Redirect')).toBe('/login');
  });

  it('a logged-in person sees pages in their own language; the switch (a POST) changes it', async () => {
    const account = await parent({ language: 'en', firstName: 'Sam' });
    const b = browser();
    await b.login(account.email, GOOD);
    expect(await (await b.get('/')).text()).toContain('Welcome, Sam');
    const res = await b.post('/taal', { lang: 'nl', terug: '/' });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/');
    expect(await (await b.get('/')).text()).toContain('Welkom, Sam');
    const [row] = await sql<{ language: string }>('select language from parent where id = ?', [account.personId]);
    expect(row!.language).toBe('nl');
  });

  it('a GET with ?lang= changes only that response, never the saved language (no state change on GET)', async () => {
    const account = await parent({ language: 'nl', firstName: 'Sam' });
    const b = browser();
    await b.login(account.email, GOOD);
    // An attacker's link or <img src="/?lang=en"> rides on the victim's cookie: it must not save anything.
    const res = await b.get('/?lang=en');
    expect(await res.text()).toContain('Welcome, Sam');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('lang='))).toBe(false);
    const [row] = await sql<{ language: string }>('select language from parent where id = ?', [account.personId]);
    expect(row!.language).toBe('nl');
    expect(await (await b.get('/')).text()).toContain('Welkom, Sam');
  });

  it('saving the language needs the CSRF token: a forged token is 403 and saves nothing', async () => {
    const account = await parent({ language: 'nl', firstName: 'Sam' });
    const b = browser();
    await b.login(account.email, GOOD);
    const forged = await b.post('/taal', { lang: 'en', terug: '/' }, { csrf: 'A'.repeat(43) });
    expect(forged.status).toBe(403);
    const none = await b.post('/taal', { lang: 'en', terug: '/' }, { csrf: null });
    expect(none.status).toBe(403);
    const [row] = await sql<{ language: string }>('select language from parent where id = ?', [account.personId]);
    expect(row!.language).toBe('nl');
    // The genuine form saves it, and goes back only to a page on this site.
    const ok = await b.post('/taal', { lang: 'en', terug: '//evil.example/x' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('Location')).toBe('/');
    const [saved] = await sql<{ language: string }>('select language from parent where id = ?', [account.personId]);
    expect(saved!.language).toBe('en');
  });
});

describe('forced password change', () => {
  it('after a generated password, only the change page and logout are reachable until it is done', async () => {
    const account = await parent({ mustChange: true, passwordExpiresAt: new Date(portal.clock.now().getTime() + 86_400_000) });
    const b = browser();
    const login = await b.login(account.email, GOOD);
    expect(login.status).toBe(303);
    expect(login.headers.get('Location')).toBe('/wachtwoord-wijzigen');
    for (const path of ['/', '/meer', '/mijn-gegevens', '/fotos', '/tweestapsverificatie', '/bestaat-niet']) {
      const res = await b.get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('Location'), path).toBe('/wachtwoord-wijzigen');
    }
    const page = await b.get('/wachtwoord-wijzigen');
    const html = await page.text();
    expect(html).toContain('Kies uw eigen wachtwoord');
    expect(html).not.toContain('name="currentPassword"');
    expect(html).not.toContain('class="main-nav"');

    const tooShort = await b.post('/wachtwoord-wijzigen', { newPassword: 'kort', confirmPassword: 'kort' });
    expect(tooShort.status).toBe(422);
    expect(await tooShort.text()).toContain('Kies een wachtwoord van minstens 12 tekens.');
    const same = await b.post('/wachtwoord-wijzigen', { newPassword: GOOD, confirmPassword: GOOD });
    expect(same.status).toBe(422);
    expect(await same.text()).toContain('Kies een ander wachtwoord dan het huidige.');

    const done = await b.post('/wachtwoord-wijzigen', {
      newPassword: 'mijn eigen zin met woorden',
      confirmPassword: 'mijn eigen zin met woorden',
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('Location')).toBe('/');
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Uw wachtwoord is gewijzigd.');
    const [row] = await sql<{ password_must_change: boolean; password_expires_at: Date | null }>(
      'select password_must_change, password_expires_at from account where id = ?',
      [account.accountId],
    );
    expect(row).toEqual({ password_must_change: false, password_expires_at: null });
    expect(await auditTypes(account.accountId)).toEqual(['login.success', 'password.changed']);
  });

  it('logout works during the forced change', async () => {
    const account = await parent({ mustChange: true });
    const b = browser();
    await b.login(account.email, GOOD);
    expect((await b.post('/uitloggen', {})).status).toBe(303);
    expect(await sessionsOf(account.accountId)).toEqual([]);
  });
});

describe('changing the password from the profile', () => {
  it('needs the current password; the typed fields come back empty; errors sit at their field', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    const page = await (await b.get('/wachtwoord-wijzigen')).text();
    expect(page).toContain('name="currentPassword"');
    const wrong = await b.post('/wachtwoord-wijzigen', {
      currentPassword: 'dit is het niet',
      newPassword: 'een nieuwe zin voor mij',
      confirmPassword: 'een nieuwe zin voor mij',
    });
    expect(wrong.status).toBe(422);
    const html = await wrong.text();
    expect(html).toMatch(/<p class="field-error" id="currentPassword-error">Dit is niet uw huidige wachtwoord\.<\/p>/);
    expect(html).toMatch(/id="currentPassword"[^>]*aria-describedby="currentPassword-error" aria-invalid="true"/);
    expect(html).not.toContain('dit is het niet');
    expect(html).not.toContain('een nieuwe zin voor mij');
    const mismatch = await b.post('/wachtwoord-wijzigen', {
      currentPassword: GOOD,
      newPassword: 'een nieuwe zin voor mij',
      confirmPassword: 'een andere zin voor mij',
    });
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain('De twee wachtwoorden zijn niet hetzelfde.');
    const [row] = await sql<{ password_hash: string }>('select password_hash from account where id = ?', [account.accountId]);
    expect(await argon2.verify(row!.password_hash, GOOD)).toBe(true);
  });

  it('after a change the old session cookie is dead, other browsers are logged out, this one goes on', async () => {
    const account = await parent();
    const b = browser();
    const other = browser();
    await b.login(account.email, GOOD);
    await other.login(account.email, GOOD);
    const oldCookie = b.cookie('portal-session')!;
    const res = await b.post('/wachtwoord-wijzigen', {
      currentPassword: GOOD,
      newPassword: 'nieuwe zin met vier woorden',
      confirmPassword: 'nieuwe zin met vier woorden',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/mijn-gegevens');
    expect(b.cookie('portal-session')).not.toBe(oldCookie);
    expect((await b.get('/mijn-gegevens')).status).toBe(200);
    expect((await other.get('/')).status).toBe(303);
    const replay = browser();
    replay.cookies.set('portal-session', oldCookie);
    expect((await replay.get('/')).status).toBe(303);
    expect(await sessionsOf(account.accountId)).toHaveLength(1);
    expect((await browser().login(account.email, GOOD)).status).toBe(401);
    expect((await browser().login(account.email, 'nieuwe zin met vier woorden')).status).toBe(303);
  });

  it('without the CSRF token nothing changes (403)', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    const fields = { currentPassword: GOOD, newPassword: 'poging van een ander', confirmPassword: 'poging van een ander' };
    expect((await b.post('/wachtwoord-wijzigen', fields, { csrf: null })).status).toBe(403);
    expect((await b.post('/wachtwoord-wijzigen', fields, { htmx: true, csrf: 'B'.repeat(43) })).status).toBe(403);
    expect(
      (await b.post('/wachtwoord-wijzigen', fields, { headers: { Origin: 'https://evil.example' } })).status,
    ).toBe(403);
    expect((await browser().login(account.email, GOOD)).status).toBe(303);
  });

  it('with htmx: a 422 fragment with the errors, and HX-Redirect on success', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    const bad = await b.post('/wachtwoord-wijzigen', { currentPassword: GOOD, newPassword: 'kort', confirmPassword: 'kort' }, { htmx: true });
    expect(bad.status).toBe(422);
    const fragment = await bad.text();
    expect(fragment).not.toContain('<html');
    expect(fragment).toMatch(/^\s*<form[^>]*id="password-form"/);
    expect(fragment).toContain('Kies een wachtwoord van minstens 12 tekens.');
    const ok = await b.post(
      '/wachtwoord-wijzigen',
      { currentPassword: GOOD, newPassword: 'goede zin via htmx erbij', confirmPassword: 'goede zin via htmx erbij' },
      { htmx: true },
    );
    expect(ok.status).toBe(204);
    expect(ok.headers.get('HX-Redirect')).toBe('/mijn-gegevens');
  });
});

describe('logs', () => {
  it('never carry a reset link token', () => {
    expect(loggablePath('/wachtwoord-herstellen/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ')).toBe('/wachtwoord-herstellen/[token]');
    expect(loggablePath('/login')).toBe('/login');
  });
});

describe('forgot password', () => {
  const jobs = async () =>
    (await sql<{ data: AccountMailJob }>("select data from pgboss.job where name = 'account-mail' order by created_on")).map(
      (r) => r.data,
    );
  const newestMail = () => {
    const dir = join(portal.dataDir, 'mail');
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
    return readFileSync(join(dir, files.at(-1)!), 'utf8');
  };
  const linkIn = (mail: string) => {
    // Quoted-printable may wrap the link; undo soft line breaks first.
    const text = mail.replace(/=\r?\n/g, '');
    return /https:\/\/ouders\.example\.nl\/wachtwoord-herstellen\/([\w-]{43})/.exec(text)?.[1];
  };

  beforeEach(async () => {
    await sql("delete from pgboss.job where name = 'account-mail'");
  });

  it('answers an unknown address exactly like a known one, and queues nothing for it', async () => {
    const account = await parent();
    const ask = async (email: string) => {
      const b = browser();
      await b.get('/wachtwoord-vergeten');
      const started = performance.now();
      const res = await b.post('/wachtwoord-vergeten', { email });
      const ms = performance.now() - started;
      const page = await b.get(res.headers.get('Location')!);
      return { status: res.status, location: res.headers.get('Location'), page: await page.text(), ms };
    };
    const known = await ask(account.email);
    expect((await jobs()).map((j) => j.accountId)).toEqual([account.accountId]);
    const unknown = await ask('onbekend-adres@example.nl');
    expect(await jobs()).toHaveLength(1);
    expect(unknown.status).toBe(303);
    expect(known.status).toBe(303);
    expect(unknown.location).toBe(known.location);
    expect(known.page.replace(/[\w-]{43}/g, 'TOKEN')).toBe(unknown.page.replace(/[\w-]{43}/g, 'TOKEN'));
    expect(known.page).toContain('Als dit e-mailadres bij ons bekend is');
    expect(known.page).toContain('1 uur geldig');
    // Both take the fixed minimum; neither is quick enough to tell them apart.
    expect(known.ms).toBeGreaterThanOrEqual(245);
    expect(unknown.ms).toBeGreaterThanOrEqual(245);
    expect(await auditTypes(account.accountId)).toEqual(['password.reset_requested']);
  });

  it('the link works once, sets a new password, ends every session, and only within its hour', async () => {
    const account = await parent({ firstName: 'Noor' });
    const loggedIn = browser();
    await loggedIn.login(account.email, GOOD);
    const b = browser();
    const asked = await b.post('/wachtwoord-vergeten', { email: account.email.toUpperCase() }, { visit: '/wachtwoord-vergeten' });
    expect(asked.status).toBe(303);
    const [job] = await jobs();
    expect(await sendAccountMail(portal, job!)).toBe('sent');
    const mail = newestMail();
    expect(mail).toContain(`To: ${account.email}`);
    expect(mail).toContain('Beste Noor,');
    const token = linkIn(mail)!;
    expect(token).toBeDefined();
    // Only the hash is stored.
    const rows = await sql<{ token_hash: string; expires_at: Date }>(
      'select token_hash, expires_at from password_reset_token where account_id = ?',
      [account.accountId],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    const minutes = (new Date(rows[0]!.expires_at).getTime() - portal.clock.now().getTime()) / 60_000;
    expect(minutes).toBeGreaterThan(58);
    expect(minutes).toBeLessThanOrEqual(60);

    const form = await b.get(`/wachtwoord-herstellen/${token}`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain(`Kies een nieuw wachtwoord voor ${account.email}.`);
    const weak = await b.post(`/wachtwoord-herstellen/${token}`, { newPassword: ORGANISATION, confirmPassword: ORGANISATION });
    expect(weak.status).toBe(422);
    expect(await weak.text()).toContain('niet op uit de naam van de organisatie');
    const done = await b.post(`/wachtwoord-herstellen/${token}`, {
      newPassword: 'vergeten maar nu nieuw',
      confirmPassword: 'vergeten maar nu nieuw',
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('Location')).toBe('/login');
    expect(await (await b.get('/login')).text()).toContain('Uw nieuwe wachtwoord is ingesteld.');
    expect((await loggedIn.get('/')).status).toBe(303);
    expect(await sessionsOf(account.accountId)).toEqual([]);

    // Once only.
    expect((await b.get(`/wachtwoord-herstellen/${token}`)).status).toBe(410);
    const again = await b.post(`/wachtwoord-herstellen/${token}`, { newPassword: 'nog een keer proberen', confirmPassword: 'nog een keer proberen' });
    expect(again.status).toBe(410);
    expect((await browser().login(account.email, GOOD)).status).toBe(401);
    expect((await browser().login(account.email, 'vergeten maar nu nieuw')).status).toBe(303);
    expect(await auditTypes(account.accountId)).toEqual([
      'login.success',
      'password.reset_requested',
      'mail.sending',
      'mail.sent',
      'password.reset',
      'login.failure',
      'login.success',
    ]);
  });

  it('an expired link is refused; a made-up one too', async () => {
    const account = await parent();
    await browser().post('/wachtwoord-vergeten', { email: account.email }, { visit: '/wachtwoord-vergeten' });
    const [job] = await jobs();
    await sendAccountMail(portal, job!);
    const token = linkIn(newestMail())!;
    portal.clock.advance({ hours: 1, seconds: 1 });
    const b = browser();
    const res = await b.get(`/wachtwoord-herstellen/${token}`);
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('Deze link werkt niet meer');
    const post = await b.post(`/wachtwoord-herstellen/${token}`, { newPassword: 'te laat voor deze link', confirmPassword: 'te laat voor deze link' });
    expect(post.status).toBe(410);
    expect((await b.get(`/wachtwoord-herstellen/${'x'.repeat(43)}`)).status).toBe(410);
    expect((await b.get('/wachtwoord-herstellen/kort')).status).toBe(410);
    expect((await browser().login(account.email, GOOD)).status).toBe(303);
  });

  it('checks the address field and keeps what was typed', async () => {
    const b = browser();
    const empty = await b.post('/wachtwoord-vergeten', { email: '' }, { visit: '/wachtwoord-vergeten' });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('Vul uw e-mailadres in.');
    const bad = await b.post('/wachtwoord-vergeten', { email: 'geen-adres' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('value="geen-adres"');
    expect(html).toContain('Dit is geen geldig e-mailadres.');
    expect(await jobs()).toEqual([]);
  });
});

describe('second factor for staff', () => {
  let strict: Hono<AppEnv>;
  beforeAll(() => {
    strict = createApp({ ...portal, config: { ...portal.config, auth: { ...portal.config.auth, requireSecondFactorForStaff: true } } });
  });

  const secretOn = (html: string) => /<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(html)![1]!.replace(/ /g, '');

  it('is required when configured: set up first, then the code after every password', async () => {
    const staff = await seedAccount(portal, { email: 'pm@example.nl', password: GOOD, kind: 'staff', firstName: 'Joke' });
    const b = browser(strict);
    const login = await b.login(staff.email, GOOD);
    expect(login.headers.get('Location')).toBe('/tweestapsverificatie');
    expect((await b.get('/')).headers.get('Location')).toBe('/tweestapsverificatie');
    const page = await (await b.get('/tweestapsverificatie')).text();
    expect(page).toContain('Voor medewerkers is tweestapsverificatie verplicht');
    const secret = secretOn(page);
    expect(page).toContain('otpauth://totp/');
    const wrong = await b.post('/tweestapsverificatie', { code: '000000' });
    expect(wrong.status).toBe(422);
    expect(secretOn(await wrong.text())).toBe(secret);
    const setupCode = await generate({ secret, epoch: epochOf(portal.clock.now()) });
    const codesPage = await b.post('/tweestapsverificatie', { code: setupCode });
    expect(codesPage.status).toBe(200);
    const codes = [...(await codesPage.text()).matchAll(/<code>([a-z2-9-]{19})<\/code>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    const stored = await sql<{ code_hash: string }>('select code_hash from recovery_code where account_id = ?', [staff.accountId]);
    expect(stored).toHaveLength(10);
    expect(JSON.stringify(stored)).not.toContain(codes[0]!);
    expect((await b.get('/')).status).toBe(200);
    expect(await (await b.get('/')).text()).toContain('>Vandaag</a>');

    // Next login: password, then the code; nothing else in between.
    const c = browser(strict);
    const second = await c.login(staff.email, GOOD);
    expect(second.headers.get('Location')).toBe('/tweestapsverificatie/controle');
    const pendingCookie = c.cookie('portal-session')!;
    for (const path of ['/', '/wachtwoord-wijzigen', '/tweestapsverificatie']) {
      expect((await c.get(path)).headers.get('Location'), path).toBe('/tweestapsverificatie/controle');
    }
    expect((await c.post('/tweestapsverificatie/controle', { code: '123456' })).status).toBe(422);
    // The code already used for the set-up cannot be replayed.
    const replay = await c.post('/tweestapsverificatie/controle', { code: setupCode });
    expect(replay.status).toBe(422);
    // A recovery code works, once.
    const ok = await c.post('/tweestapsverificatie/controle', { code: codes[0]!.toUpperCase() });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('Location')).toBe('/');
    expect(c.cookie('portal-session')).not.toBe(pendingCookie);
    expect((await c.get('/')).status).toBe(200);
    const d = browser(strict);
    await d.login(staff.email, GOOD);
    expect((await d.post('/tweestapsverificatie/controle', { code: codes[0]! })).status).toBe(422);
    expect((await d.post('/tweestapsverificatie/controle', { code: codes[1]! })).status).toBe(303);
    const types = await auditTypes(staff.accountId);
    expect(types).toContain('second_factor.enabled');
    expect(types).toContain('second_factor.failure');
  });

  it('a parent has no second-factor pages', async () => {
    const account = await parent();
    const b = browser(strict);
    await b.login(account.email, GOOD);
    expect((await b.get('/tweestapsverificatie')).status).toBe(404);
  });

  it('staff may switch it on and off when it is not required', async () => {
    const staff = await seedAccount(portal, { email: 'beheer@example.nl', password: GOOD, kind: 'admin' });
    const b = browser();
    expect((await b.login(staff.email, GOOD)).headers.get('Location')).toBe('/');
    expect(await (await b.get('/')).text()).toContain('>Locatie</a>');
    const secret = secretOn(await (await b.get('/tweestapsverificatie')).text());
    expect((await b.post('/tweestapsverificatie', { code: await generate({ secret, epoch: epochOf(portal.clock.now()) }) })).status).toBe(200);
    const status = await (await b.get('/tweestapsverificatie')).text();
    expect(status).toContain('Ongebruikte herstelcodes: 10.');
    expect((await b.post('/tweestapsverificatie/uitschakelen', { currentPassword: 'fout fout fout' })).status).toBe(422);
    expect((await b.post('/tweestapsverificatie/uitschakelen', { currentPassword: GOOD })).status).toBe(303);
    expect((await browser().login(staff.email, GOOD)).headers.get('Location')).toBe('/');
  });
});

describe('sensitive changes need the password or an app code from the last five minutes', () => {
  const secretOn = (html: string) => /<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(html)![1]!.replace(/ /g, '');
  const later = (minutes: number) => portal.clock.set(new Date(portal.clock.now().getTime() + minutes * 60_000));
  const REAUTH = 'Vul voor de zekerheid uw wachtwoord of de code uit de app in';

  /** Someone who has only the session cookie (found on a shared computer, copied from a log). */
  async function thiefWith(owner: TestBrowser): Promise<TestBrowser> {
    const thief = browser();
    thief.cookies.set('portal-session', owner.cookie('portal-session')!);
    await thief.get('/'); // a CSRF token of its own, as any page gives one
    return thief;
  }

  it('recovery codes and switching 2FA off: refused with the cookie alone, allowed after the password, refused again 6 minutes later', async () => {
    const staff = await seedAccount(portal, { email: 'reauth.beheer@example.nl', password: GOOD, kind: 'admin' });
    const b = browser();
    await b.login(staff.email, GOOD);
    const secret = secretOn(await (await b.get('/tweestapsverificatie')).text());
    expect((await b.post('/tweestapsverificatie', { code: await generate({ secret, epoch: epochOf(portal.clock.now()) }) })).status).toBe(200);
    const codesBefore = await sql<{ code_hash: string }>('select code_hash from recovery_code where account_id = ? order by code_hash', [staff.accountId]);

    later(6);
    const thief = await thiefWith(b);
    const codes = await thief.post('/tweestapsverificatie/herstelcodes', {});
    expect(codes.status).toBe(422);
    expect(await codes.text()).toContain(REAUTH);
    expect((await thief.post('/tweestapsverificatie/herstelcodes', { codesProof: 'een gok van de dief' })).status).toBe(422);
    const off = await thief.post('/tweestapsverificatie/uitschakelen', { currentPassword: '' });
    expect(off.status).toBe(422);
    expect(await off.text()).toContain(REAUTH);
    expect(await sql('select code_hash from recovery_code where account_id = ? order by code_hash', [staff.accountId])).toEqual(codesBefore);
    const [still] = await sql<{ totp_enabled_at: Date | null }>('select totp_enabled_at from account where id = ?', [staff.accountId]);
    expect(still!.totp_enabled_at).not.toBeNull();

    // The owner enters the password: new codes, and for five minutes no need to type it again.
    const fresh = await b.post('/tweestapsverificatie/herstelcodes', { codesProof: GOOD });
    expect(fresh.status).toBe(200);
    expect([...(await fresh.text()).matchAll(/<code>([a-z2-9-]{19})<\/code>/g)]).toHaveLength(10);
    later(4);
    expect((await b.post('/tweestapsverificatie/herstelcodes', {})).status).toBe(200);

    // Six minutes after the password: asked again.
    later(2);
    expect((await b.post('/tweestapsverificatie/herstelcodes', {})).status).toBe(422);
    expect((await b.post('/tweestapsverificatie/uitschakelen', { currentPassword: '' })).status).toBe(422);
    // A code from the app is proof too.
    const code = await generate({ secret, epoch: epochOf(portal.clock.now()) });
    expect((await b.post('/tweestapsverificatie/uitschakelen', { currentPassword: code })).status).toBe(303);
    const [gone] = await sql<{ totp_enabled_at: Date | null }>('select totp_enabled_at from account where id = ?', [staff.accountId]);
    expect(gone!.totp_enabled_at).toBeNull();
  });

  it('e-mail address and password: refused with the cookie alone, allowed with the password, refused again 6 minutes later', async () => {
    const account = await parent();
    const b = browser();
    await b.login(account.email, GOOD);
    later(6);
    const thief = await thiefWith(b);
    expect((await thief.post('/mijn-gegevens/e-mailadres', { newEmail: 'dief@example.org', currentPassword: '' })).status).toBe(422);
    const stolen = { newPassword: 'de dief kiest een zin', confirmPassword: 'de dief kiest een zin' };
    expect((await thief.post('/wachtwoord-wijzigen', stolen)).status).toBe(422);
    const [row] = await sql<{ email: string; password_hash: string }>('select email, password_hash from account where id = ?', [account.accountId]);
    expect(row!.email).toBe(account.email);
    expect(await argon2.verify(row!.password_hash, GOOD)).toBe(true);
    expect(await sql("select 1 from pgboss.job where name = 'account-mail' and data::text like '%dief@example.org%'")).toEqual([]);

    // With the current password it works; six minutes later the cookie alone is refused again.
    const next = 'lange wandeling door het bos';
    expect((await b.post('/wachtwoord-wijzigen', { currentPassword: GOOD, newPassword: next, confirmPassword: next })).status).toBe(303);
    later(6);
    const again = { newPassword: 'nog een andere zin hier', confirmPassword: 'nog een andere zin hier' };
    expect((await b.post('/wachtwoord-wijzigen', again)).status).toBe(422);
    expect((await b.post('/mijn-gegevens/e-mailadres', { newEmail: 'ander@example.org', currentPassword: '' })).status).toBe(422);
  });

  it('the forced change of a generated password: without it only in the first five minutes after the login', async () => {
    const expires = new Date(portal.clock.now().getTime() + 86_400_000);
    const account = await parent({ mustChange: true, passwordExpiresAt: expires });
    const b = browser();
    await b.login(account.email, GOOD);
    expect(await (await b.get('/wachtwoord-wijzigen')).text()).not.toContain('id="currentPassword"');
    later(6);
    const thief = await thiefWith(b);
    const page = await (await thief.get('/wachtwoord-wijzigen')).text();
    expect(page).toContain('id="currentPassword"');
    const mine = { newPassword: 'de dief kiest een zin', confirmPassword: 'de dief kiest een zin' };
    const refused = await thief.post('/wachtwoord-wijzigen', mine);
    expect(refused.status).toBe(422);
    const [row] = await sql<{ password_must_change: boolean }>('select password_must_change from account where id = ?', [account.accountId]);
    expect(row!.password_must_change).toBe(true);
    const next = 'lange wandeling door het bos';
    expect((await b.post('/wachtwoord-wijzigen', { currentPassword: GOOD, newPassword: next, confirmPassword: next })).status).toBe(303);
  });
});
