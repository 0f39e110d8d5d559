import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badTextError, describeDbError, loggableError } from '../core/db/errors.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { Account } from '../core/entities/account.ts';
import { DiaryEntry } from '../core/entities/diary.ts';
import { Parent } from '../core/entities/parent.ts';
import { createLogger } from '../core/log.ts';
import { UNSTORABLE_TEXT } from '../core/validation.ts';
import { HelpdeskRequest } from '../plugins/helpdesk/entity.ts';
import { type DiaryFixture, seedDiary } from '../test/diary-fixture.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { API_BASE } from './api/app.ts';
import { type AppEnv, createApp } from './app.ts';
import { loggedInBrowser, TestBrowser } from './testing.ts';

/**
 * Text the database cannot store, sent the way an attacker (or a broken client) sends it: a NUL
 * byte, bytes that are not UTF-8, a lone surrogate, values longer than allowed; in the public
 * helpdesk form, the schriftje form, an API JSON body and a query string. Each is refused with a
 * 422 (pages: the form again with the field's error) and writes nothing, and the log holds
 * neither what was typed, nor the sender's e-mail address, nor the SQL statement.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };
/** What the attacker typed: must never show up in the log. */
const TYPED = 'Geheime vraag van Vera';
const EMAIL = 'vera.nul@example.nl';

let portal: TestPortal;
let app: Hono<AppEnv>;
let f: DiaryFixture;
let cor: TestBrowser;
let token: string;
let ip = 10;
const lines: string[] = [];

const visitor = () => new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${ip++}` });
const helpdeskCount = () => portal.em().count(HelpdeskRequest, {});
const diaryCount = () => portal.em().count(DiaryEntry, {});

/** An urlencoded POST with the bytes as given (TestBrowser.post would encode them properly). */
async function rawForm(b: TestBrowser, path: string, visit: string, body: Buffer): Promise<Response> {
  if (!b.csrf) await b.get(visit);
  const bytes = Buffer.concat([Buffer.from(`_csrf=${encodeURIComponent(b.csrf!)}&`), body]);
  return await b.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: bytes });
}

/** An API call with a raw JSON body (a string, so `\u0000` and `\ud800` escapes arrive as sent). */
async function api(method: string, path: string, body?: string | Buffer): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'X-Forwarded-For': '203.0.113.9' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return await app.request(`http://localhost${API_BASE}${path}`, { method, headers, body });
}

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  await initOrganisation(portal.em(), admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  f = await seedDiary(portal.em());
  const em = portal.em();
  const parent = await em.findOneOrFail(Parent, { email: 'cor@example.nl' });
  em.create(Account, { email: 'cor@example.nl', parent, staff: null, passwordHash: await portal.hasher.hash(PASSWORD), passwordMustChange: false, passwordExpiresAt: null });
  await em.flush();
  app = createApp({ ...portal, log: createLogger('info', (l) => lines.push(l), 'json') }, LOOSE);
  cor = await loggedInBrowser(app, 'cor@example.nl', PASSWORD);
  const session = await app.request(`http://localhost${API_BASE}/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.8' },
    body: JSON.stringify({ username: 'cor@example.nl', password: PASSWORD, deviceName: 'Test-telefoon' }),
  });
  token = ((await session.json()) as { token: string }).token;
});
afterAll(() => portal?.destroy());

describe('the public helpdesk form', () => {
  const ask = (fields: Record<string, string>) =>
    visitor().post('/p/helpdesk', { subject: 'Inloggen', category: 'inloggen', message: TYPED, email: EMAIL, name: 'Vera', ...fields }, { visit: '/p/helpdesk' });

  it('shows the form again with the field error for a NUL byte in the question or the name, and stores nothing', async () => {
    const before = await helpdeskCount();
    const inMessage = await ask({ message: `${TYPED}\u0000; drop table` });
    expect(inMessage.status).toBe(422);
    const page = await inMessage.text();
    expect(page).toContain('Schrijf uw vraag op');
    expect(page).toContain('name="message"');
    const inName = await ask({ name: 'Vera\u0000' });
    expect(inName.status).toBe(422);
    expect(await inName.text()).toContain('Uw naam mag');
    expect(await helpdeskCount()).toBe(before);
  });

  it('shows the form again for a question longer than allowed', async () => {
    const before = await helpdeskCount();
    const res = await ask({ message: `${TYPED} ${'x'.repeat(5000)}` });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('Schrijf uw vraag op');
    expect(await helpdeskCount()).toBe(before);
  });

  it('refuses bytes that are not UTF-8 (raw and percent-encoded, a lone surrogate among them) with a 422', async () => {
    const before = await helpdeskCount();
    const fields = `subject=Inloggen&category=inloggen&email=${encodeURIComponent(EMAIL)}&message=`;
    for (const bad of [Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('%FF%FE'), Buffer.from('%ED%A0%80' /* U+D800 as UTF-8 */)]) {
      const res = await rawForm(visitor(), '/p/helpdesk', '/p/helpdesk', Buffer.concat([Buffer.from(fields), Buffer.from(encodeURIComponent(TYPED)), bad]));
      expect(res.status).toBe(422);
    }
    expect(await helpdeskCount()).toBe(before);
  });
});

describe('the schriftje form', () => {
  it('shows the form again with "cannot be stored" for a NUL byte, and writes no entry', async () => {
    const before = await diaryCount();
    const res = await cor.post(`/schriftje/kind/${f.child.evi}`, { tekst: `${TYPED}\u0000` });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('tekens die niet kunnen worden opgeslagen');
    expect(await diaryCount()).toBe(before);
  });

  it('refuses bytes that are not UTF-8 with a 422, and writes no entry', async () => {
    const before = await diaryCount();
    const res = await rawForm(cor, `/schriftje/kind/${f.child.evi}`, `/schriftje/kind/${f.child.evi}`, Buffer.concat([Buffer.from('tekst=Hallo'), Buffer.from([0xc3, 0x28])]));
    expect(res.status).toBe(422);
    expect(await diaryCount()).toBe(before);
  });
});

describe('an API JSON body', () => {
  const refused = async (res: Response, path = 'text') => {
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; details?: { path: string; message: string }[] } };
    expect(body.error.code).toBe('validation');
    expect(body.error.details?.map((d) => d.path)).toContain(path);
    return body;
  };

  it('answers 422 validation naming the field for a NUL byte and a lone surrogate, and writes nothing', async () => {
    const before = await diaryCount();
    const nul = await refused(await api('POST', `/children/${f.child.evi}/diary`, `{"text":"${TYPED}\\u0000"}`));
    expect(nul.error.details).toContainEqual({ path: 'text', message: UNSTORABLE_TEXT });
    await refused(await api('POST', `/children/${f.child.evi}/diary`, `{"text":"${TYPED} \\ud800"}`));
    await refused(await api('POST', '/helpdesk', `{"subject":"Inloggen","category":"inloggen","message":"${TYPED}\\u0000"}`), 'message');
    expect(await diaryCount()).toBe(before);
  });

  it('answers 422 for bytes that are not UTF-8 and for text longer than allowed', async () => {
    const before = await diaryCount();
    await refused(await api('POST', `/children/${f.child.evi}/diary`, Buffer.concat([Buffer.from(`{"text":"${TYPED}`), Buffer.from([0xff]), Buffer.from('"}')])), 'body');
    await refused(await api('POST', `/children/${f.child.evi}/diary`, JSON.stringify({ text: `${TYPED} ${'x'.repeat(5000)}` })));
    expect(await diaryCount()).toBe(before);
  });
});

describe('a query string', () => {
  it('with a NUL byte or bytes that are not UTF-8 is a 422, on a page and in the API', async () => {
    for (const q of ['%00', '%FF', '%ED%A0%80']) {
      expect((await visitor().get(`/p/helpdesk?from=${q}`)).status, q).toBe(422);
      const res = await api('GET', `/children/${f.child.evi}/diary?before=${q}`);
      expect(res.status, q).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation');
    }
    expect((await visitor().get(`/p/helpdesk?from=${'a'.repeat(5000)}`)).status).toBe(422);
  });
});

describe('database errors in the log', () => {
  it('are described by code and table, without the statement or its values', async () => {
    let caught: unknown;
    try {
      await portal.em().getConnection().execute('insert into helpdesk_request (reference, subject) values (?, ?)', ['HD-X', `${TYPED} ${EMAIL}\u0000`]);
    } catch (err) {
      caught = err;
    }
    // What the driver says holds the statement with the values: the reason for describeDbError.
    expect((caught as Error).message.toLowerCase()).toContain('insert into');
    const described = describeDbError(caught);
    // PostgreSQL refuses a NUL in a bound parameter as a malformed message.
    expect(described).toMatch(/^database error (08P01 \(protocol_violation\)|22021 \(character_not_in_repertoire\))/);
    expect(badTextError(caught)).toMatchObject({ code: 'validation', message: UNSTORABLE_TEXT });
    for (const text of [described!, loggableError(caught)]) {
      expect(text).not.toContain(TYPED);
      expect(text).not.toContain(EMAIL);
      expect(text.toLowerCase()).not.toContain('insert into');
    }
    expect(describeDbError(new Error('not a database error'))).toBeNull();
  });

  it('fields that could carry a statement or its values are redacted in both formats', () => {
    const out: string[] = [];
    for (const format of ['json', 'text'] as const) {
      createLogger('info', (l) => out.push(l), format).error('query failed', { reqId: 'r1', sql: `insert into x values ('${EMAIL}')`, params: TYPED, detail: EMAIL });
    }
    expect(out).toHaveLength(2);
    expect(out.join('\n')).not.toContain(EMAIL);
    expect(out.join('\n')).not.toContain(TYPED);
    expect(out[0]).toContain('"sql":"[redacted]"');
    expect(out[1]).toContain('params=[redacted]');
  });

  it('after all the requests above, the log holds no typed text, no e-mail address and no SQL', () => {
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(log).not.toContain(TYPED);
    expect(log).not.toContain(EMAIL);
    expect(log.toLowerCase()).not.toContain('insert into');
    // And nothing went wrong on our side: no request answered 500.
    expect(lines.map((l) => JSON.parse(l) as { status?: number }).filter((r) => r.status === 500)).toEqual([]);
  });
});
