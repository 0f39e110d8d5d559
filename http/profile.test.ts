import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { addStaff } from '../core/directory/staff.ts';
import { Account } from '../core/entities/account.ts';
import { AuditEvent } from '../core/entities/audit.ts';
import { Parent } from '../core/entities/parent.ts';
import { unsubscribeToken } from '../core/profile/notifications.ts';
import { admin, type TestPortal } from '../test/portal.ts';
import type { SmtpSink, } from '../test/smtp.ts';
import { type AppEnv, createApp } from './app.ts';
import { type SeededAccount, seedAccount, TestBrowser, startMailingPortal } from './testing.ts';

/**
 * Mijn gegevens, the e-mail change through a real SMTP server and the mail worker, the one-click
 * unsubscribe without a login, and mijn vestiging, through app.request() (no port).
 */

const GOOD = 'paard batterij nietje correct';
let portal: TestPortal;
let smtp: SmtpSink;
let app: Hono<AppEnv>;
let seq = 0;
let ip = 0;

const browser = () => new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${++ip % 250}` });

async function parent(extra: Partial<Parameters<typeof seedAccount>[1]> = {}): Promise<SeededAccount> {
  seq++;
  return await seedAccount(portal, { email: `ouder${seq}@example.nl`, password: GOOD, ...extra });
}

async function loggedIn(account: SeededAccount): Promise<TestBrowser> {
  const b = browser();
  expect((await b.login(account.email, account.password)).status).toBe(303);
  return b;
}

async function waitForMail(to: string, count = 1): Promise<ParsedMail> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const mails = smtp.to(to);
    if (mails.length >= count) return mails[count - 1]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no mail to ${to}`);
}

const errorOf = (page: string, id: string) => new RegExp(`id="${id}-error">([^<]*)<`).exec(page)?.[1];

beforeAll(async () => {
  ({ portal, smtp } = await startMailingPortal());
  app = createApp(portal, {
    locationSections: [
      {
        id: 'faq',
        render: (_c, location) => ({ heading: 'Veelgestelde vragen', body: html`<p>Afmelden bij ${location.name}: <b>${'<i>bel</i>'}</b></p>` }),
      },
      {
        id: 'broken',
        render: () => {
          throw new Error('plugin bug');
        },
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('mijn gegevens', () => {
  it('shows the details, saves them (PRG with a flash), and keeps what was typed next to the errors', async () => {
    const a = await parent({ firstName: 'Anna' });
    const b = await loggedIn(a);
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).toContain('value="Anna"');
    expect(page).toContain(a.email);
    expect(page).toMatch(/name="notificationMode" value="digest"[^>]*checked/);

    const refused = await b.post('/mijn-gegevens', { firstName: '', lastName: 'de Vries', phone: 'bel mij', street: 'Dorpsstraat 1' });
    expect(refused.status).toBe(422);
    const text = await refused.text();
    expect(errorOf(text, 'firstName')).toBe('Vul uw voornaam in.');
    expect(errorOf(text, 'phone')).toBe('Dit klopt niet. Controleer wat u invulde.');
    expect(errorOf(text, 'city')).toContain('Vul het hele adres in');
    expect(text).toContain('value="bel mij"');
    expect(text).toContain('value="Dorpsstraat 1"');

    const saved = await b.post('/mijn-gegevens', {
      firstName: 'Anna',
      infix: '',
      lastName: 'Jansen',
      phone: '06 1234 5678',
      street: 'Dorpsstraat 1',
      postalCode: '6411ab',
      city: 'Heerlen',
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('Location')).toBe('/mijn-gegevens');
    const after = await (await b.get('/mijn-gegevens')).text();
    expect(after).toContain('Gegevens opgeslagen.');
    expect(after).toContain('value="6411 AB"');
    expect(after).toContain('value="Jansen"');
  });

  it('no id in the form can be abused: fields naming another parent change only the own row', async () => {
    const a = await parent();
    const victim = await parent({ firstName: 'Vera' });
    const b = await loggedIn(a);
    const res = await b.post('/mijn-gegevens', {
      id: String(victim.personId),
      parentId: String(victim.personId),
      email: victim.email,
      firstName: 'Overgenomen',
      lastName: 'X',
    });
    expect(res.status).toBe(303);
    const v = await portal.em().findOneOrFail(Parent, { id: victim.personId });
    expect([v.firstName, v.lastName, v.email]).toEqual(['Vera', 'de Vries', victim.email]);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).firstName).toBe('Overgenomen');
  });

  it('a name with markup is shown as text, never as markup', async () => {
    const a = await parent();
    const b = await loggedIn(a);
    const evil = '<script>alert(1)</script>';
    expect((await b.post('/mijn-gegevens', { firstName: evil, lastName: '"><img src=x onerror=alert(1)>' })).status).toBe(303);
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).not.toContain(evil);
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const home = await (await b.get('/')).text();
    expect(home).not.toContain(evil);
  });

  it('the language choice becomes the UI language', async () => {
    const a = await parent();
    const b = await loggedIn(a);
    const res = await b.post('/mijn-gegevens/taal', { language: 'en' });
    expect(res.status).toBe(303);
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('<h1>My details</h1>');
    expect(page).toContain('Your language has been saved.');
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).language).toBe('en');
  });

  it('notification choice is saved; a POST without the CSRF token is refused', async () => {
    const a = await parent();
    const b = await loggedIn(a);
    expect((await b.post('/mijn-gegevens/meldingen', { notificationMode: 'immediate' }, { csrf: null })).status).toBe(403);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('digest');
    expect((await b.post('/mijn-gegevens/meldingen', { notificationMode: 'immediate' })).status).toBe(303);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('immediate');
    expect((await b.post('/mijn-gegevens/meldingen', { notificationMode: 'alles' })).status).toBe(303);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('immediate');
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).toMatch(/value="immediate"[^>]*checked/);
    expect(page).toContain('rond 18:00');
  });

  it('staff see their details read-only and cannot post them', async () => {
    const s = await seedAccount(portal, { email: `mw${++seq}@example.nl`, password: GOOD, kind: 'staff', firstName: 'Piet' });
    const b = await loggedIn(s);
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).not.toContain('name="firstName"');
    expect(page).not.toContain('name="notificationMode"');
    expect(page).toContain('name="language"');
    await b.post('/mijn-gegevens', { firstName: 'Anders', lastName: 'X' });
    expect((await b.get('/mijn-gegevens/e-mailadres')).status).toBe(303);
    expect(await portal.em().count(AuditEvent, { type: 'profile.updated', subject: s.email })).toBe(0);
  });
});

describe('changing the e-mail address, through the SMTP server', () => {
  it('new address gets the link, old address the notice; afterwards only the new address logs in', async () => {
    const a = await parent({ firstName: 'Sanne' });
    const other = await loggedIn(a); // another device: logged out by the change
    const b = await loggedIn(a);
    const wrong = await b.post('/mijn-gegevens/e-mailadres', { newEmail: 'sanne@nieuw.example', currentPassword: 'fout' });
    expect(wrong.status).toBe(422);
    expect(errorOf(await wrong.text(), 'currentPassword')).toBe('Dit is niet uw huidige wachtwoord.');

    const asked = await b.post('/mijn-gegevens/e-mailadres', { newEmail: 'Sanne@Nieuw.example', currentPassword: GOOD });
    expect(asked.status).toBe(303);
    const page = await (await b.get('/mijn-gegevens')).text();
    expect(page).toContain('Wij hebben een e-mail gestuurd naar uw nieuwe adres.');
    expect(page).toContain('Wacht op bevestiging: sanne@nieuw.example');

    const mail = await waitForMail('sanne@nieuw.example');
    expect(mail.subject).toContain('Bevestig uw nieuwe e-mailadres');
    const link = /https:\/\/ouders\.example\.nl(\/e-mailadres-bevestigen\/[\w-]{43})/.exec(mail.text ?? '')![1]!;
    expect(smtp.to(a.email)).toHaveLength(0); // nothing to the old address before the change

    // Opening the link changes nothing yet (mail scanners open links); the button does.
    const stranger = browser();
    const confirmPage = await stranger.get(link);
    expect(confirmPage.status).toBe(200);
    expect(await confirmPage.text()).toContain('sanne@nieuw.example');
    expect((await portal.em().findOneOrFail(Account, { id: a.accountId })).email).toBe(a.email);
    const done = await stranger.post(link, {}, { visit: link });
    expect(done.status).toBe(303);
    expect(done.headers.get('Location')).toBe('/login');
    expect(await (await stranger.get('/login')).text()).toContain('Uw e-mailadres is gewijzigd.');

    const notice = await waitForMail(a.email);
    expect(notice.subject).toContain('is gewijzigd');
    expect(notice.text).toContain('sanne@nieuw.example');

    // Every session ended; the old address no longer logs in, the new one does.
    expect((await other.get('/mijn-gegevens')).headers.get('Location')).toBe('/login');
    expect((await browser().login(a.email, GOOD)).status).toBe(401);
    const fresh = browser();
    expect((await fresh.login('sanne@nieuw.example', GOOD)).status).toBe(303);
    expect(await (await fresh.get('/mijn-gegevens')).text()).toContain('sanne@nieuw.example');
    // The link worked once.
    expect((await stranger.get(link)).status).toBe(410);
    const events = await portal.em().find(AuditEvent, { accountId: a.accountId, type: { $like: 'email.%' } }, { orderBy: { id: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['email.change_requested', 'email.changed']);
  });

  it('refuses a forged or expired link', async () => {
    const a = await parent();
    const b = await loggedIn(a);

    const forged = browser();
    expect((await forged.get(`/e-mailadres-bevestigen/${'A'.repeat(43)}`)).status).toBe(410);
    expect((await forged.post(`/e-mailadres-bevestigen/${'A'.repeat(43)}`, {}, { visit: '/login' })).status).toBe(410);

    expect((await b.post('/mijn-gegevens/e-mailadres', { newEmail: `laat${seq}@nieuw.example`, currentPassword: GOOD })).status).toBe(303);
    const mail = await waitForMail(`laat${seq}@nieuw.example`);
    const link = /(\/e-mailadres-bevestigen\/[\w-]{43})/.exec(mail.text ?? '')![1]!;
    await portal.em().getConnection().execute('update email_change set expires_at = ? where account_id = ?', [
      new Date(portal.clock.now().getTime() - 60_000),
      a.accountId,
    ]);
    expect((await forged.get(link)).status).toBe(410);
    expect((await forged.post(link, {}, { visit: '/login' })).status).toBe(410);
    expect((await portal.em().findOneOrFail(Account, { id: a.accountId })).email).toBe(a.email);
  });
});

describe('changing the e-mail address, from the attacker\'s side', () => {
  /** What the requester sees: the answer, and the profile page it leads to (CSRF tokens and the address itself left out). */
  async function answerFor(newEmail: string): Promise<{ status: number; location: string | null; body: string; page: string }> {
    const a = await parent();
    const b = await loggedIn(a);
    const res = await b.post('/mijn-gegevens/e-mailadres', { newEmail, currentPassword: GOOD });
    const location = res.headers.get('Location');
    const page = await (await b.get(location ?? '/mijn-gegevens')).text();
    const neutral = (html: string) =>
      html.replace(/"X-CSRF-Token":"[^"]*"|name="_csrf" value="[^"]*"|[\w.+-]+@[\w.-]+\.(nl|example)/g, '').replace(/Ouder \d+/g, '');
    return { status: res.status, location, body: neutral(await res.text()), page: neutral(page) };
  }

  it('a taken address gets exactly the answer a free one gets; its owner is told, the requester gets nothing about it', async () => {
    const owner = await parent({ firstName: 'Olga' });
    const free = await answerFor(`vrij${seq}@nieuw.example`);
    const taken = await answerFor(owner.email.toUpperCase());
    expect(taken).toEqual(free);
    expect(taken.status).toBe(303);
    expect(taken.page).toContain('Wij hebben een e-mail gestuurd naar uw nieuwe adres.');

    const notice = await waitForMail(owner.email);
    expect(notice.subject).toContain('Iemand probeerde uw e-mailadres te gebruiken');
    expect(notice.text).toContain('Beste Olga,');
    expect(notice.text).toContain('Er is niets veranderd.');
    // No link that could change anything, and only the one mail to the owner.
    expect(notice.text).not.toMatch(/e-mailadres-bevestigen|wachtwoord-herstellen/);
    await new Promise((r) => setTimeout(r, 700));
    expect(smtp.to(owner.email)).toHaveLength(1);
    // The requester's own address got nothing (the free request's confirmation went to the new address).
    expect(smtp.to(`ouder${seq}@example.nl`)).toHaveLength(0);
    // The owner's account is untouched and still logs in.
    expect((await browser().login(owner.email, GOOD)).status).toBe(303);
  });

  it('repeated requests are throttled after 5 an hour, free or taken alike; nothing more is mailed', async () => {
    const owner = await parent();
    const a = await parent();
    const b = await loggedIn(a);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const newEmail = i % 2 ? owner.email : `bom${i}.${seq}@nieuw.example`;
      statuses.push((await b.post('/mijn-gegevens/e-mailadres', { newEmail, currentPassword: GOOD })).status);
    }
    expect(statuses).toEqual([303, 303, 303, 303, 303, 429, 429, 429]);
    const refused = await b.post('/mijn-gegevens/e-mailadres', { newEmail: `laatste.${seq}@nieuw.example`, currentPassword: GOOD });
    expect(refused.status).toBe(429);
    expect(errorOf(await refused.text(), 'newEmail')).toContain('over een uur opnieuw');
    await waitForMail(`bom4.${seq}@nieuw.example`);
    await new Promise((r) => setTimeout(r, 700));
    expect(smtp.to(`bom6.${seq}@nieuw.example`)).toHaveLength(0);
    expect(smtp.to(`laatste.${seq}@nieuw.example`)).toHaveLength(0);
    // The owner of the taken address was told about the two attempts within the limit, not more.
    expect(smtp.to(owner.email)).toHaveLength(2);
  });
});

describe('unsubscribe without logging in', () => {
  it('GET asks and changes nothing; the button switches notifications off', async () => {
    const a = await parent();
    const token = await unsubscribeToken(portal.em(), a.personId);
    const b = browser();
    const page = await b.get(`/uitschrijven/${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Wilt u geen e-mails meer');
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('digest');
    const res = await b.post(`/uitschrijven/${token}`, {}, { csrf: null });
    expect(res.status).toBe(303);
    expect(await (await b.get(res.headers.get('Location')!)).text()).toContain('E-mailmeldingen staan uit');
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('off');
  });

  it('RFC 8058 one-click: a POST without cookies or CSRF token, from a mail server', async () => {
    const a = await parent({ language: 'en' });
    const token = await unsubscribeToken(portal.em(), a.personId);
    const res = await app.request(`http://localhost/uitschrijven/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('E-mail notifications are off'); // in the parent's language
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('off');
    const event = await portal.em().findOneOrFail(AuditEvent, { type: 'notifications.changed', subject: a.email });
    expect(event.actor).toBe('mail:one-click');
  });

  it('a forged, altered or swapped token changes nothing', async () => {
    const a = await parent();
    const victim = await parent();
    const token = await unsubscribeToken(portal.em(), a.personId);
    const mac = token.split('.')[1]!;
    const altered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [`${victim.personId}.${mac}`, altered, `${victim.personId}.${'A'.repeat(43)}`, 'zomaar']) {
      const get = await app.request(`http://localhost/uitschrijven/${bad}`);
      expect(get.status, bad).toBe(404);
      const post = await app.request(`http://localhost/uitschrijven/${bad}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(post.status, bad).toBe(404);
    }
    expect((await portal.em().findOneOrFail(Parent, { id: victim.personId })).notificationMode).toBe('digest');
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('digest');
  });

  it('the CSRF exemption is only for the unsubscribe path', async () => {
    const a = await parent();
    const b = await loggedIn(a);
    const res = await b.post('/mijn-gegevens/meldingen', { notificationMode: 'off' }, { csrf: null });
    expect(res.status).toBe(403);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('digest');
  });
});

describe('mijn vestiging', () => {
  it('shows every location of the parent’s children, with the plugin sections (escaped), and nothing of others', async () => {
    const em = portal.em();
    await addStaff(em, admin, { email: 'hoofd@example.nl', firstName: 'Mieke', lastName: 'Jansen', role: 'manager' });
    await addLocation(em, admin, { name: 'Heerlen Centrum', address: 'Markt 1\n6411 AA Heerlen', phone: '045-1234567', openingHours: 'ma-vr 7:00-18:30', manager: 'hoofd@example.nl' });
    await addLocation(em, admin, { name: 'Maastricht Wyck', phone: '043-7654321' });
    await addLocation(em, admin, { name: 'Geheim' });
    await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
    await addGroup(em, admin, { location: 'Maastricht Wyck', name: 'Egeltjes' });
    await addGroup(em, admin, { location: 'Geheim', name: 'Vossen' });
    const start = addDays(portal.clock.today(), -30);
    await addChild(em, admin, { childNumber: 'V1', firstName: 'Evi', lastName: 'B', birthDate: '2023-01-01', group: 'Boomhut', startDate: start });
    await addChild(em, admin, { childNumber: 'V2', firstName: 'Daan', lastName: 'B', birthDate: '2024-01-01', group: 'Egeltjes', startDate: start });
    await addChild(em, admin, { childNumber: 'V3', firstName: 'Ander', lastName: 'C', birthDate: '2024-01-01', group: 'Vossen', startDate: start });
    const a = await parent();
    await linkParent(em, admin, a.email, 'V1');
    await linkParent(em, admin, a.email, 'V2');
    const b = await loggedIn(a);
    const res = await b.get('/mijn-vestiging');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<h1>Mijn vestigingen</h1>');
    expect(page).toContain('Heerlen Centrum');
    expect(page).toContain('Maastricht Wyck');
    expect(page).not.toContain('Geheim');
    expect(page).toContain('href="tel:0451234567"');
    expect(page).toContain('Mieke Jansen');
    expect(page).toContain('Voor Evi');
    expect(page).toContain('Afmelden bij Heerlen Centrum: <b>&lt;i&gt;bel&lt;/i&gt;</b>');
    expect(page).not.toContain('Dit onderdeel komt binnenkort');

    const lonely = await loggedIn(await parent());
    expect(await (await lonely.get('/mijn-vestiging')).text()).toContain('Nog geen vestiging.');
    expect((await browser().get('/mijn-vestiging')).headers.get('Location')).toBe('/login');
  });
});
