import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.ts';
import { unsubscribeToken } from '../core/profile/notifications.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { createApp } from './app.ts';
import { loggablePath, SECRET_ROUTES } from './middleware/request-context.ts';
import { seedAccount, TestBrowser } from './testing.ts';

/** The server's structured log: one JSON object per line, with the request id, without personal data. */

let portal: TestPortal;
const lines: string[] = [];
const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  portal = await createTestPortal();
});
afterAll(() => portal?.destroy());

describe('JSON logs', () => {
  it('give every request one line with its id, status and account id, and leave out queries, addresses and passwords', async () => {
    const log = createLogger('info', (l) => lines.push(l), 'json');
    const app = createApp({ ...portal, log }, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
    const account = await seedAccount(portal, { email: 'anna.geheim@example.nl', password: 'een lange zin als wachtwoord' });
    const browser = new TestBrowser(app);
    await browser.login('anna.geheim@example.nl', 'een lange zin als wachtwoord');
    const res = await browser.get('/?email=anna.geheim@example.nl');
    const id = res.headers.get('X-Request-Id');

    const line = records().find((r) => r.reqId === id);
    expect(line).toMatchObject({ level: 30, msg: 'request', method: 'GET', path: '/', status: res.status, account: account.accountId });
    expect(typeof line?.time).toBe('string');
    expect(typeof line?.ms).toBe('number');
    // Every line is JSON, and none carries the address or the password typed at login.
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.join('\n')).not.toContain('anna.geheim');
    expect(lines.join('\n')).not.toContain('een lange zin');
  });

  it('the text format keeps one readable line with the same fields', () => {
    const text: string[] = [];
    createLogger('info', (l) => text.push(l), 'text').warn('mail queue slow', { reqId: 'abc', ms: 12 });
    createLogger('warn', (l) => text.push(l), 'text').info('not shown');
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ warn {2}mail queue slow reqId=abc ms=12\n$/);
  });
});

describe('secrets in mailed links', () => {
  it('never reach the log: each link, opened and posted, is logged as its route with [token]', async () => {
    const logged: string[] = [];
    const log = createLogger('info', (l) => logged.push(l), 'json');
    const app = createApp({ ...portal, log }, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
    const account = await seedAccount(portal, { email: 'bram.links@example.nl', password: 'een lange zin als wachtwoord' });
    const browser = new TestBrowser(app);
    await browser.login('bram.links@example.nl', 'een lange zin als wachtwoord');
    const real = () => randomBytes(32).toString('base64url');
    const links = [
      { path: '/wachtwoord-herstellen/', token: real() },
      { path: '/e-mailadres-bevestigen/', token: real() },
      { path: '/uitschrijven/', token: await unsubscribeToken(portal.em(), account.personId) },
      { path: '/mijn-gegevens/gegevens/', token: real() },
    ];
    for (const { path, token } of links) {
      // The token in the path, and once more in the query (a mail program may add one).
      await browser.get(`${path}${token}?klaar&t=${token}`);
      await browser.post(`${path}${token}`, { password: 'een ander lang wachtwoord', password2: 'een ander lang wachtwoord' });
      // A forged form (CSRF refusal) and a path beyond the route are logged by other lines.
      await browser.post(`${path}${token}`, {}, { csrf: 'A'.repeat(43) });
      await browser.get(`${path}${token}/meer`);
    }
    const all = logged.join('\n');
    for (const { path, token } of links) {
      expect(all, path).not.toContain(token);
      expect(all, path).not.toContain(token.slice(0, 16));
      const paths = logged.map((l) => JSON.parse(l) as { msg: string; path?: string }).filter((r) => r.msg === 'request');
      expect(paths.filter((r) => r.path === `${path}[token]`).length, path).toBe(4);
    }
    expect(all).toContain('POST /e-mailadres-bevestigen/[token] refused');
  });

  it('are masked by the registered route patterns, other paths are left alone', () => {
    expect(SECRET_ROUTES).toEqual([
      '/wachtwoord-herstellen/:token',
      '/e-mailadres-bevestigen/:token',
      '/uitschrijven/:token',
      '/mijn-gegevens/gegevens/:token',
      '/agenda/:token',
    ]);
    expect(loggablePath('//uitschrijven/12.abc')).toBe('/uitschrijven/[token]');
    expect(loggablePath(`/agenda/${'a'.repeat(43)}.ics`)).toBe('/agenda/[token]');
    expect(loggablePath('/mijn-gegevens/gegevens-downloaden')).toBe('/mijn-gegevens/gegevens-downloaden');
    expect(loggablePath('/berichten/gesprek/12')).toBe('/berichten/gesprek/12');
  });
});
