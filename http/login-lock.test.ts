import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../core/entities/audit.ts';
import type { TestPortal } from '../test/portal.ts';
import type { SmtpSink, } from '../test/smtp.ts';
import { type AppEnv, createApp } from './app.ts';
import { seedAccount, TestBrowser, startMailingPortal } from './testing.ts';

/**
 * Credential stuffing from the attacker's side: one address tried from many IP addresses, each
 * staying under the per-address+IP brake. After auth.loginFailuresPerAccount (20) failures in all
 * the address is locked: the right password gets the same generic answer as a wrong one, from any
 * IP, and the owner gets one mail through the real SMTP server, not one per attempt. An unknown
 * address behaves the same on the wire.
 */

const GOOD = 'paard batterij nietje correct';
const GENERIC = 'E-mailadres of wachtwoord klopt niet.';
let portal: TestPortal;
let smtp: SmtpSink;
let app: Hono<AppEnv>;
let ip = 0;

const fromNewIp = () => new TestBrowser(app, { 'X-Forwarded-For': `203.0.113.${++ip}` });

async function sql(query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await portal.em().getConnection().execute(query, params as never[])) as Record<string, unknown>[];
}

/** 20 failures spread over 4 IPs, 5 each: every single IP stays within its own brake. */
async function stuff(email: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const b = fromNewIp();
    for (let j = 0; j < 5; j++) statuses.push((await b.login(email, `gok ${i}-${j} wachtwoord`)).status);
  }
  return statuses;
}

beforeAll(async () => {
  ({ portal, smtp } = await startMailingPortal());
  app = createApp(portal);
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('one address from many IP addresses', () => {
  it('is locked after 20 failures: the right password is refused with the generic error, the owner gets one mail', async () => {
    const a = await seedAccount(portal, { email: 'doelwit@example.nl', password: GOOD, firstName: 'Daan' });
    expect(await stuff(a.email)).toEqual(Array(20).fill(401));

    // More attempts from fresh addresses: the right password too gets the answer a wrong one gets.
    for (let i = 0; i < 3; i++) {
      const b = fromNewIp();
      const wrong = await b.login(a.email, 'nog een gok wachtwoord');
      const right = await b.login(a.email, GOOD);
      expect(right.status).toBe(wrong.status);
      expect(right.status).toBe(401);
      expect(right.headers.get('Retry-After')).toBeNull();
      const html = await right.text();
      expect(html).toContain(GENERIC);
      expect(html).not.toContain('te vaak');
    }
    expect(await portal.em().count(AuditEvent, { type: 'login.success', accountId: a.accountId })).toBe(0);

    // One mail to the owner, however many attempts followed.
    const deadline = Date.now() + 15_000;
    while (smtp.to(a.email).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const mails = smtp.to(a.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('tijdelijk geblokkeerd');
    expect(mails[0]!.text).toContain('Beste Daan,');
    expect(mails[0]!.text).toContain('https://ouders.example.nl/wachtwoord-vergeten');
    expect(mails[0]!.text).not.toContain('gok');

    // The lock ends with its window (rate-limiter-flexible keeps real time, not the portal's clock).
    await sql("update rate_limit set expire = ? where key like 'login-address:%'", [Date.now() - 1]);
    expect((await fromNewIp().login(a.email, GOOD)).status).toBe(303);
  });

  it('an unknown address gets exactly the same answers (the lock tells nobody who has an account)', async () => {
    const known = await seedAccount(portal, { email: 'bekend@example.nl', password: GOOD });
    const knownStatuses = await stuff(known.email);
    const unknownStatuses = await stuff('onbekend@example.nl');
    expect(unknownStatuses).toEqual(knownStatuses);
    const k = await fromNewIp().login(known.email, GOOD);
    const u = await fromNewIp().login('onbekend@example.nl', GOOD);
    expect(u.status).toBe(k.status);
    // Everything but the CSRF token (random per browser) and the typed address.
    const strip = (html: string) => html.replace(/"X-CSRF-Token":"[^"]*"|name="_csrf" value="[^"]*"|[\w.]+@example\.nl/g, '');
    expect(strip(await u.text())).toBe(strip(await k.text()));
  });

  it('a real parent with a few typos on several devices is not hindered', async () => {
    const a = await seedAccount(portal, { email: 'gewoon@example.nl', password: GOOD });
    for (let device = 0; device < 3; device++) {
      const b = fromNewIp();
      for (let i = 0; i < 3; i++) expect((await b.login(a.email, 'bijna goed wachtwoord')).status).toBe(401);
      expect((await b.login(a.email, GOOD)).status).toBe(303);
    }
    expect(smtp.to(a.email)).toHaveLength(0);
  });
});
