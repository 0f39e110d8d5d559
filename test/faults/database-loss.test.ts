import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { createLogger } from '../../core/log.ts';
import { createApp } from '../../http/app.ts';
import { startServer, type RunningServer } from '../../http/server.ts';
import { LOOSE, seedAccount } from '../../http/testing.ts';
import { adminQuery } from '../db-admin.ts';
import { admin, createTestPortal, type TestPortal } from '../portal.ts';

/**
 * Drill: the database goes away under a running portal and comes back. The same process must
 * answer 503 (a calm page, JSON under /api/, Retry-After) while it is gone, never a 500, keep
 * /healthz at 200 and /readyz at 503, and serve normally again once it is back, without a restart.
 * The outage is real: the database refuses new connections and its sessions are ended from an
 * administrator's connection, as a stopped or restarting server would.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const EMAIL = 'ouder@example.nl';

let portal: TestPortal;
let server: RunningServer;
let database: string;
const logged: string[] = [];
/** Every status any request of the drill got: none may be a 500. */
const statuses: { path: string; status: number }[] = [];

/** A browser over real HTTP: keeps cookies, nothing else. */
const cookies = new Map<string, string>();
async function get(path: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(`${server.url}${path}`, {
    redirect: 'manual',
    ...init,
    headers: { ...(cookie ? { Cookie: cookie } : {}), ...headers, ...(init.headers as Record<string, string> | undefined) },
  });
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1).trim();
    if (value && !/max-age=0/i.test(line)) cookies.set(pair.slice(0, eq).trim(), value);
    else cookies.delete(pair.slice(0, eq).trim());
  }
  statuses.push({ path, status: res.status });
  return res;
}

let token: string;
const api = (path: string) => get(`/api/v1${path}`, { Authorization: `Bearer ${token}` });

async function setAllowConnections(allow: boolean): Promise<void> {
  await adminQuery(portal.dbUrl, `alter database ${database} with allow_connections ${allow}`);
  // The sessions already open would go on working: end them, as a server going down does.
  if (!allow) await adminQuery(portal.dbUrl, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
}

beforeAll(async () => {
  portal = await createTestPortal();
  database = new URL(portal.dbUrl).pathname.slice(1);
  await initOrganisation(portal.em(), admin, { name: 'Kinderopvang De Boomhut', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
  await seedAccount(portal, { email: EMAIL, password: PASSWORD });
  await portal.jobs();
  const app = createApp({ ...portal, log: createLogger('info', (line) => logged.push(line)) }, LOOSE);
  server = await startServer(portal, { app, port: 0, host: '127.0.0.1' });

  // A logged-in browser (its session is looked up on every page) and an app with a token.
  await get('/login');
  const csrf = cookies.get('portal-csrf') ?? '';
  const login = await get('/login', {}, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
    body: new URLSearchParams({ email: EMAIL, password: PASSWORD, _csrf: csrf }),
  });
  expect(login.status).toBe(303);
  const session = await get('/api/v1/session', {}, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: EMAIL, password: PASSWORD, deviceName: 'Test-telefoon' }),
  });
  expect(session.status).toBe(201);
  token = ((await session.json()) as { token: string }).token;
});

afterAll(async () => {
  if (database) await setAllowConnections(true).catch(() => {});
  await server?.close();
  await portal?.destroy();
});

describe('the database goes away and comes back', () => {
  it('answers 503 while it is gone and serves again, in the same process, once it is back', async () => {
    // Before the outage; on a failure the last log lines say why.
    expect((await get('/')).status, logged.slice(-3).join('\n')).toBe(200);
    expect((await api('/me')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);

    await setAllowConnections(false);

    // A page: the calm Dutch page, with when to come back, and nothing of the error in it.
    const page = await get('/');
    expect(page.status).toBe(503);
    expect(page.headers.get('Retry-After')).toBe('30');
    expect(page.headers.get('Content-Type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Tijdelijk niet beschikbaar');
    expect(html).toContain('veilig bewaard');
    expect(html).not.toMatch(/postgres|ECONN|57P01|select /i);

    // The same page in English, for a browser that asks for it (the profile cannot be read now).
    cookies.delete('portal-lang');
    const english = await get('/berichten', { 'Accept-Language': 'en' });
    expect(english.status).toBe(503);
    expect(await english.text()).toContain('Temporarily unavailable');

    // A form sent during the outage: the same page, never a 500 (the CSRF check needs no database).
    const form = await get('/uitloggen', {}, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
      body: new URLSearchParams({ _csrf: cookies.get('portal-csrf') ?? '' }),
    });
    expect(form.status).toBe(503);
    expect(await form.text()).toContain('Tijdelijk niet beschikbaar');

    // htmx gets the message alone, to swap in.
    const fragment = await get('/', { 'HX-Request': 'true' });
    expect(fragment.status).toBe(503);
    expect(await fragment.text()).not.toContain('<html');

    // The API: JSON, its own code, Retry-After.
    const json = await api('/me');
    expect(json.status).toBe(503);
    expect(json.headers.get('Retry-After')).toBe('30');
    expect(await json.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });

    // Liveness stays up (restarting the portal would not help); readiness names what is down.
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    const report = await ready.json();
    expect(report).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    expect(JSON.stringify(report)).not.toMatch(/postgres:|127\.0\.0\.1|password/);

    await setAllowConnections(true);
    const back = performance.now();
    let recovered = false;
    while (performance.now() - back < 10_000) {
      if ((await get('/')).status === 200) {
        recovered = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - back) / 1000;
    expect(recovered, `pages answered 200 again after ${seconds.toFixed(1)} s`).toBe(true);
    console.info(`database loss drill: pages served again ${seconds.toFixed(2)} s after the database came back`);
    expect((await api('/me')).status).toBe(200);
    // The session outlived the outage: still logged in, not sent to /login.
    const home = await get('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Uitloggen');
    // Ready again too, once the job queue's own connections answer (it asks twice a second).
    let readyAgain = 0;
    for (const until = performance.now() + 5_000; readyAgain !== 200 && performance.now() < until; ) {
      readyAgain = (await get('/readyz')).status;
      if (readyAgain !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(readyAgain).toBe(200);

    expect(statuses.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    // The outage is logged as such, never as a request that failed, and without a statement in it.
    expect(logged.filter((l) => / failed: /.test(l))).toEqual([]);
    expect(logged.some((l) => /database unavailable/.test(l))).toBe(true);
    expect(logged.filter((l) => /select |insert |update /i.test(l))).toEqual([]);
  });
});
