import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { type AppEnv, createApp } from '../../http/app.ts';
import { seedAccount, TestBrowser } from '../../http/testing.ts';
import { runCli } from '../../test/cli.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type SmtpSink, startSmtpSink } from '../../test/smtp.ts';
import { HelpdeskRequest } from './entity.ts';
import { startHelpdeskMailWorker } from './mail.ts';
import { safeFromPath } from './requests.ts';

/**
 * The helpdesk end to end: the Help link on the login page leads to the form, a question from a
 * visitor is stored and mailed through the queue and a real SMTP server to the helpdesk (Reply-To
 * the visitor, everything escaped) with a confirmation carrying only the reference; visitors are
 * limited per IP address, logged-in users answer to their own address; the CLI lists, shows
 * and closes.
 */

const HELPDESK = 'helpdesk@kinderopvang.example';
let portal: TestPortal;
let app: Hono<AppEnv>;
let smtp: SmtpSink;
let ip = 10;

const visitor = () => new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${ip++}` });

async function ask(b: TestBrowser, fields: Record<string, string>): Promise<Response> {
  return await b.post('/p/helpdesk', fields, { visit: '/p/helpdesk' });
}

async function until<T>(what: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  portal = await createTestPortal({ 'mail.smtpUrl': smtp.url, 'server.trustProxy': true });
  await initOrganisation(portal.em(), admin, {
    name: 'Kinderopvang <Zon>',
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: HELPDESK,
  });
  app = createApp(portal, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
  await seedAccount(portal, { email: 'anna@example.nl', password: 'een lang wachtwoord 1', firstName: 'Anna' });
  await startHelpdeskMailWorker(portal);
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('reaching the form', () => {
  it('the login page links Help to the form, with the page it came from', async () => {
    const b = visitor();
    const login = await (await b.get('/login')).text();
    expect(login).toContain('href="/p/helpdesk?from=%2Flogin"');
    const old = await b.get('/help?from=/login');
    expect(old.status).toBe(303);
    expect(old.headers.get('Location')).toBe('/p/helpdesk?from=%2Flogin');
    const form = await (await b.get('/p/helpdesk?from=%2Flogin')).text();
    expect(form).toContain('<input type="hidden" name="from" value="/login">');
    expect(form).toContain('name="email"');
  });

  it('keeps only same-site paths as the page the user came from', async () => {
    expect(safeFromPath('/fotos?dag=2026-11-24')).toBe('/fotos?dag=2026-11-24');
    expect(safeFromPath('//evil.example/x')).toBeNull();
    expect(safeFromPath('/\\evil.example')).toBeNull();
    expect(safeFromPath('https://evil.example/')).toBeNull();
    expect(safeFromPath('/a\nb')).toBeNull();
    const form = await (await visitor().get('/p/helpdesk', { Referer: 'https://evil.example/steal' })).text();
    expect(form).toContain('<input type="hidden" name="from" value="">');
    const same = await (await visitor().get('/p/helpdesk', { Referer: 'http://localhost/wachtwoord-vergeten' })).text();
    expect(same).toContain('<input type="hidden" name="from" value="/wachtwoord-vergeten">');
  });
});

describe('sending a question', () => {
  it('refuses a post without the CSRF token', async () => {
    const b = visitor();
    const res = await b.post('/p/helpdesk', { subject: 'x', category: 'inloggen', message: 'y', email: 'a@example.nl' }, { csrf: null });
    expect(res.status).toBe(403);
    expect(await portal.em().count(HelpdeskRequest, {})).toBe(0);
  });

  it('shows every problem next to its field and keeps what was typed', async () => {
    const res = await ask(visitor(), { subject: '', category: 'kapot', message: 'Mijn <b>vraag</b>', email: 'geen-adres' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Vul een onderwerp in');
    expect(html).toContain('Kies waar uw vraag over gaat.');
    expect(html).toContain('Vul een geldig e-mailadres in');
    expect(html).toContain('Mijn &lt;b&gt;vraag&lt;/b&gt;</textarea>');
  });

  it('a visitor: stored, mailed to the helpdesk with Reply-To the visitor and escaped, confirmed with a reference', async () => {
    const b = visitor();
    const res = await ask(b, {
      subject: 'Kan niet inloggen <script>alert(1)</script>',
      category: 'inloggen',
      message: 'Ik krijg <img src=x onerror=alert(2)> te zien',
      email: 'Ouder.Bakker@Example.nl',
      name: 'Piet <Bakker>',
      from: '/login',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location') ?? '';
    const reference = /ref=(HD-[A-Z0-9]{6})$/.exec(location)?.[1];
    expect(reference).toBeDefined();
    const page = await (await b.get(location)).text();
    expect(page).toContain(`<strong class="reference">${reference}</strong>`);

    const row = await portal.em().findOneOrFail(HelpdeskRequest, { reference: reference! });
    expect(row).toMatchObject({ category: 'inloggen', email: 'ouder.bakker@example.nl', fromPath: '/login', accountId: null, status: 'open' });

    const toHelpdesk: ParsedMail = await until(() => smtp.to(HELPDESK).find((m) => m.subject?.includes(reference!)));
    expect(toHelpdesk.replyTo?.value[0]?.address).toBe('ouder.bakker@example.nl');
    expect(toHelpdesk.html).toContain('Kan niet inloggen &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(toHelpdesk.html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(toHelpdesk.html).not.toMatch(/<script|<img/);
    expect(toHelpdesk.html).toContain('https://ouders.example.nl/login');
    expect(toHelpdesk.text).toContain('Ik krijg <img src=x onerror=alert(2)> te zien');

    const confirmation: ParsedMail = await until(() => smtp.to('ouder.bakker@example.nl')[0]);
    expect(confirmation.subject).toContain(reference!);
    expect(confirmation.replyTo?.value[0]?.address).toBe(HELPDESK);
    // None of the typed text: a public form must not relay a stranger's words to any address.
    expect(confirmation.text).not.toContain('Kan niet inloggen');
    expect(confirmation.text).not.toContain('onerror');
    expect(confirmation.html).toContain('Kinderopvang &lt;Zon&gt;');
    expect(confirmation.from?.value[0]).toMatchObject({ name: 'Kinderopvang <Zon>', address: HELPDESK });
  });

  it('logged in: the answer goes to the account address, whatever the form says', async () => {
    const b = visitor();
    expect((await b.login('anna@example.nl', 'een lang wachtwoord 1')).status).toBe(303);
    const form = await (await b.get('/p/helpdesk?from=/fotos')).text();
    expect(form).toContain('Het antwoord komt naar anna@example.nl.');
    expect(form).not.toContain('name="email"');
    const res = await ask(b, { subject: 'Foto ontbreekt', category: 'fotos', message: 'Waar is de foto?', email: 'other@example.nl', from: '/fotos' });
    expect(res.status).toBe(303);
    const row = await portal.em().findOneOrFail(HelpdeskRequest, { subject: 'Foto ontbreekt' });
    expect(row.email).toBe('anna@example.nl');
    expect(row.accountId).not.toBeNull();
  });
});

describe('the limit for visitors', () => {
  it('five questions per hour per IP address; the sixth is refused; another address and a logged-in user are not', async () => {
    const addr = '203.0.113.77';
    const b = new TestBrowser(app, { 'X-Forwarded-For': addr });
    const fields = { subject: 'Vraag', category: 'overig', message: 'Factuur klopt niet', email: 'spam@example.nl' };
    for (let i = 0; i < 5; i++) expect((await ask(b, fields)).status).toBe(303);
    const sixth = await ask(b, fields);
    expect(sixth.status).toBe(429);
    expect(await sixth.text()).toContain('Probeert u het over een uur opnieuw.');
    expect(await portal.em().count(HelpdeskRequest, { ip: addr })).toBe(5);
    expect((await ask(new TestBrowser(app, { 'X-Forwarded-For': '203.0.113.78' }), fields)).status).toBe(303);
    const anna = new TestBrowser(app, { 'X-Forwarded-For': addr });
    expect((await anna.login('anna@example.nl', 'een lang wachtwoord 1')).status).toBe(303);
    expect((await ask(anna, fields)).status).toBe(303);
  });
});

describe('limits for logged-in accounts, per IP and for the portal (from the attacker\'s side)', () => {
  const question = { subject: 'Spam', category: 'overig', message: 'Nog een vraag' };
  const sent = async (address: string, count: number) => {
    await until(() => (smtp.to(address).length >= count ? true : undefined));
    // Give stray jobs time to be sent too: the count must stay put.
    await new Promise((r) => setTimeout(r, 700));
    return smtp.to(address).length;
  };

  it('a logged-in parent bursting questions is stopped after 10 an hour; nothing more is stored or mailed', async () => {
    const a = await seedAccount(portal, { email: 'burst@example.nl', password: 'een lang wachtwoord 1' });
    const b = new TestBrowser(app, { 'X-Forwarded-For': '192.0.2.10' });
    expect((await b.login(a.email, 'een lang wachtwoord 1')).status).toBe(303);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await ask(b, question)).status);
    expect(statuses).toEqual([...Array(10).fill(303), ...Array(5).fill(429)]);
    const refused = await ask(b, question);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(3000);
    expect(await refused.text()).toContain('Probeert u het over een uur opnieuw.');
    expect(await portal.em().count(HelpdeskRequest, { accountId: a.accountId })).toBe(10);
    expect(await sent(a.email, 10)).toBe(10);
  });

  it('one account from many IP addresses, through the form and the app, shares one limit', async () => {
    const a = await seedAccount(portal, { email: 'rotate@example.nl', password: 'een lang wachtwoord 1' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const b = new TestBrowser(app, { 'X-Forwarded-For': `192.0.2.${100 + i}` });
      expect((await b.login(a.email, 'een lang wachtwoord 1')).status).toBe(303);
      statuses.push((await ask(b, question)).status);
    }
    expect(statuses).toEqual([...Array(10).fill(303), 429, 429]);
    // The app's token, from yet another address, is held to the same count.
    const headers = { 'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.200' };
    const login = await app.request('/api/v1/session', {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: a.email, password: 'een lang wachtwoord 1', deviceName: 'Telefoon' }),
    });
    expect(login.status).toBe(201);
    const { token } = (await login.json()) as { token: string };
    const viaApp = await app.request('/api/v1/helpdesk', {
      method: 'POST',
      headers: { ...headers, Authorization: `Bearer ${token}` },
      body: JSON.stringify(question),
    });
    expect(viaApp.status).toBe(429);
    expect(viaApp.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(await portal.em().count(HelpdeskRequest, { accountId: a.accountId })).toBe(10);
    expect(await sent(a.email, 10)).toBe(10);
  });

  it('many accounts behind one IP address are held to 30 an hour together', async () => {
    const addr = '192.0.2.50';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await seedAccount(portal, { email: `nat${i}@example.nl`, password: 'een lang wachtwoord 1' });
      const b = new TestBrowser(app, { 'X-Forwarded-For': addr });
      expect((await b.login(a.email, 'een lang wachtwoord 1')).status).toBe(303);
      for (let j = 0; j < 8; j++) statuses.push((await ask(b, question)).status);
    }
    expect(statuses).toEqual([...Array(30).fill(303), 429, 429]);
    expect(await portal.em().count(HelpdeskRequest, { ip: addr })).toBe(30);
  });

  it('the portal-wide budget stops visitors and logged-in accounts alike once spent', async () => {
    const small = await createTestPortal({ 'mail.smtpUrl': smtp.url, 'server.trustProxy': true, 'plugins.helpdesk.perHour': 3 });
    try {
      await initOrganisation(small.em(), admin, { name: 'Klein', publicUrl: 'https://klein.example.nl', helpdeskEmail: HELPDESK });
      const smallApp = createApp(small);
      const a = await seedAccount(small, { email: 'budget@example.nl', password: 'een lang wachtwoord 1' });
      const from = (n: number) => new TestBrowser(smallApp, { 'X-Forwarded-For': `192.0.2.${150 + n}` });
      for (let i = 0; i < 3; i++) expect((await ask(from(i), { ...question, email: `v${i}@example.nl` })).status).toBe(303);
      expect((await ask(from(10), { ...question, email: 'v9@example.nl' })).status).toBe(429);
      const b = from(11);
      expect((await b.login(a.email, 'een lang wachtwoord 1')).status).toBe(303);
      expect((await ask(b, question)).status).toBe(429);
      expect(await small.em().count(HelpdeskRequest, {})).toBe(3);
    } finally {
      await small.destroy();
    }
  });
});

describe('portal helpdesk', () => {
  const env = () => ({ PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir, PORTAL_LOG_LEVEL: 'silent' });

  it('list --json, show and close', async () => {
    const row = await portal.em().findOneOrFail(HelpdeskRequest, { subject: 'Foto ontbreekt' });
    const list = await runCli(['--json', 'helpdesk', 'list'], env());
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { reference: string; status: string }[];
    expect(rows.some((r) => r.reference === row.reference && r.status === 'open')).toBe(true);

    const show = await runCli(['helpdesk', 'show', row.reference.toLowerCase()], env());
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Waar is de foto?');
    expect(show.stdout).toContain('/fotos');

    const close = await runCli(['helpdesk', 'close', row.reference], env());
    expect(close).toMatchObject({ code: 0, stdout: `Closed ${row.reference}.\n` });
    const after = await runCli(['--json', 'helpdesk', 'list', '--status', 'closed'], env());
    expect((JSON.parse(after.stdout) as { reference: string }[]).map((r) => r.reference)).toContain(row.reference);
    const open = await runCli(['--json', 'helpdesk', 'list'], env());
    expect((JSON.parse(open.stdout) as { reference: string }[]).map((r) => r.reference)).not.toContain(row.reference);
  });

  it('an unknown reference is exit 3; a switched-off plugin is exit 2', async () => {
    const missing = await runCli(['helpdesk', 'show', 'HD-ZZZZZZ'], env());
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('not found');
    const file = join(portal.dataDir, 'off.json');
    writeFileSync(file, JSON.stringify({ plugins: { helpdesk: { enabled: 'off' } } }));
    const off = await runCli(['helpdesk', 'list'], { ...env(), PORTAL_CONFIG: file });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('plugin helpdesk is switched off');
  });
});
