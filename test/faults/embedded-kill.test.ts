import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { EmbeddedPostgres } from '../../core/db/embedded-postgres.ts';
import { createPortal } from '../../core/portal.ts';
import { installedSchema } from '../../plugins/schema.ts';
import { PASSWORD, PEOPLE, seedMessageWorld } from '../messages.ts';
import { servingAt } from '../serve-process.ts';

/**
 * Drill: the embedded PostgreSQL is killed with -9 under a running `portal serve` with a steady
 * load of reads and writes. The portal process must stay (same pid), answer 503 while the
 * database is gone (never a 500), restart the database by itself and serve again within 10 s
 * of the kill, /readyz back at 200; every write that was answered 201 must be in the database.
 * Real processes only: the portal as an admin runs it, on a cluster of its own in a temp folder
 * (never the machine's PostgreSQL).
 */

const bin = join(import.meta.dirname, '..', '..', 'bin', 'portal.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'portal-embedded-kill-'));
const env = { ...process.env, PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: '', PORTAL_LOG_LEVEL: 'info' };
/** The promise of the issue: serving again this soon after the kill. */
const RECOVER_WITHIN_MS = 10_000;
const WRITERS = 3;
const READERS = 2;

let child: ChildProcess;
let serving: ReturnType<typeof servingAt>;
let url: string;
let token: string;
let threadId: string;
const cookies = new Map<string, string>();

const postmasterPid = () => Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', r)));

type Init = Omit<RequestInit, 'headers'> & { headers?: Record<string, string> };

async function request(path: string, init: Init = {}): Promise<Response> {
  const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(`${url}${path}`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
    ...init,
    headers: { ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
  });
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1).trim();
    if (value && !/max-age=0/i.test(line)) cookies.set(pair.slice(0, eq).trim(), value);
  }
  return res;
}

const api = (path: string, init: Init = {}) =>
  request(`/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers } });

/** A port free now, for the portal: its public URL (the allowed Origin of forms) must be known before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  // The organisation, made in this process on the portal's own cluster, which it then stops:
  // `portal serve` starts it again and owns it, as after any ordinary restart.
  const { config } = loadConfig({ env: {}, flags: { dataDir, 'log.level': 'silent' } });
  const seeding = await createPortal(config, { extensions: installedSchema() });
  try {
    await seedMessageWorld(seeding, { publicUrl: `http://127.0.0.1:${port}` });
  } finally {
    await seeding.close();
  }
  expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();

  child = spawn(process.execPath, [bin, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  serving = servingAt(child, 'portal serve');
  url = await serving.url;

  // A parent's app (bearer token) writes; the same parent's browser (session cookie) reads pages.
  const session = await request('/api/v1/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: PEOPLE.anna, password: PASSWORD, deviceName: 'Drill' }),
  });
  expect(session.status).toBe(201);
  token = ((await session.json()) as { token: string }).token;
  const groups = (await (await api('/message-groups')).json()) as { items: { groupId: number }[] };
  const thread = await api('/threads', { method: 'POST', body: JSON.stringify({ groupId: groups.items[0]!.groupId, subject: 'Drill', body: 'begin' }) });
  expect(thread.status).toBe(201);
  threadId = ((await thread.json()) as { id: string }).id;
  await request('/login');
  const login = await request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
    body: new URLSearchParams({ email: PEOPLE.anna, password: PASSWORD, _csrf: cookies.get('portal-csrf') ?? '' }).toString(),
  });
  expect(login.status).toBe(303);
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await new EmbeddedPostgres({ dataDir }).stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  what: 'read' | 'write' | 'page';
  status: number;
  /** ms since the kill (negative: before it). */
  at: number;
}

describe('the embedded PostgreSQL is killed with -9 under load', () => {
  it('answers 503 meanwhile, restarts it, serves again within 10 s in the same process and keeps every accepted write', async () => {
    const portalPid = child.pid;
    const before = postmasterPid();
    const answers: Answer[] = [];
    const accepted: string[] = [];
    /** What the probes said: /healthz must stay 200, /readyz goes 503 and back. */
    const probes: { path: string; status: number; at: number; jobs?: string }[] = [];
    const samples: { page?: string; api?: { retryAfter: string | null; body: string } } = {};
    let killedAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const since = () => performance.now() - killedAt;
    const record = (what: Answer['what'], status: number) => answers.push({ what, status, at: since() });
    const pause = () => new Promise((r) => setTimeout(r, 20));
    // A status of 0: the portal did not answer at all (connection refused or reset, timed out).
    const settle = async (p: Promise<Response>, keep?: (res: Response, text: string) => void) => {
      try {
        const res = await p;
        const text = await res.text();
        keep?.(res, text);
        return res.status;
      } catch {
        return 0;
      }
    };

    let sequence = 0;
    const writer = async () => {
      while (!stop) {
        const body = `drill write ${++sequence}`;
        const status = await settle(api(`/threads/${threadId}/messages`, { method: 'POST', body: JSON.stringify({ body }) }), (res, text) => {
          if (res.status === 503) samples.api ??= { retryAfter: res.headers.get('Retry-After'), body: text };
        });
        record('write', status);
        if (status === 201) accepted.push(body);
        await pause();
      }
    };
    const reader = async (n: number) => {
      while (!stop) {
        if (n % 2) record('read', await settle(api(`/threads/${threadId}`)));
        else {
          const status = await settle(request('/berichten'), (res, text) => {
            if (res.status === 503) samples.page ??= text;
          });
          record('page', status);
        }
        await pause();
      }
    };
    const prober = async () => {
      while (!stop) {
        for (const path of ['/healthz', '/readyz']) {
          let jobs: string | undefined;
          const status = await settle(request(path), (_, text) => {
            if (path === '/readyz') jobs = (JSON.parse(text) as { jobs: string }).jobs;
          });
          probes.push({ path, status, at: since(), jobs });
        }
        await pause();
      }
    };
    const load = Promise.all([...Array.from({ length: WRITERS }, writer), ...Array.from({ length: READERS }, (_, i) => reader(i)), prober()]);

    await new Promise((r) => setTimeout(r, 1000));
    killedAt = performance.now();
    process.kill(before, 'SIGKILL');

    // Served again: a read, a write and /readyz answered 2xx after the outage began (their first 503).
    const backAfterOutage = (list: { status: number; at: number }[], ok: number) => {
      const outage = list.find((a) => a.at >= 0 && a.status === 503);
      return outage ? list.find((a) => a.at > outage.at && a.status === ok)?.at : undefined;
    };
    let readAt: number | undefined;
    let writeAt: number | undefined;
    let readyAt: number | undefined;
    while (since() < 30_000 && (readAt === undefined || writeAt === undefined || readyAt === undefined)) {
      readAt = backAfterOutage(answers.filter((a) => a.what !== 'write'), 200);
      writeAt = backAfterOutage(answers.filter((a) => a.what === 'write'), 201);
      readyAt = backAfterOutage(probes.filter((p) => p.path === '/readyz'), 200);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000)); // a second of ordinary load after the return
    stop = true;
    await load;

    const recoveredAt = readAt === undefined || writeAt === undefined ? undefined : Math.max(readAt, writeAt);
    const count = (what: Answer['what'] | 'reads', status: number) =>
      answers.filter((a) => (what === 'reads' ? a.what !== 'write' : a.what === what) && a.status === status).length;
    const jobsSeen = [...new Set(probes.filter((p) => p.jobs).map((p) => p.jobs))].join(', ');
    const summary = `reads and writes served again ${recoveredAt?.toFixed(0)} ms after the kill, /readyz 200 after ${readyAt?.toFixed(0)} ms; writes: ${count('write', 201)} accepted, ${count('write', 503)} answered 503; reads: ${count('reads', 200)} ok, ${count('reads', 503)} answered 503; /readyz jobs states seen: ${jobsSeen}`;
    console.info(`embedded kill drill: ${summary}`);
    const log = serving.output();
    if (process.env['DRILL_LOG']) console.info(log);

    // The outage was real: some answers were 503, the database is a new postmaster now.
    expect(count('write', 503) + count('reads', 503), summary).toBeGreaterThan(0);
    expect(postmasterPid()).not.toBe(before);
    // Never a 500, never no answer: only 200/201 or the calm 503 (a page, or JSON with Retry-After).
    expect(answers.filter((a) => ![200, 201, 503].includes(a.status)), log).toEqual([]);
    expect(samples.page).toContain('Tijdelijk niet beschikbaar');
    expect(samples.api?.retryAfter).toBe('30');
    expect(JSON.parse(samples.api?.body ?? '{}')).toMatchObject({ error: { code: 'unavailable' } });
    // Liveness never wavered; readiness said 503 while the database was away.
    expect(probes.filter((p) => p.path === '/healthz' && p.status !== 200)).toEqual([]);
    expect(probes.filter((p) => p.path === '/readyz' && ![200, 503].includes(p.status))).toEqual([]);
    // Served again in time, by the same process.
    expect(recoveredAt, `${summary}\n${log}`).toBeDefined();
    expect(recoveredAt!).toBeLessThan(RECOVER_WITHIN_MS);
    expect(readyAt, `${summary}\n${log}`).toBeDefined();
    expect(readyAt!).toBeLessThan(RECOVER_WITHIN_MS);
    expect(child.exitCode).toBeNull();
    expect(child.pid).toBe(portalPid);
    const ready = await request('/readyz');
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'current', jobs: 'running' });

    // Every write the portal said yes to is stored (crash recovery kept the committed ones).
    const port = new EmbeddedPostgres({ dataDir }).runningPort()!;
    const db = new pg.Client({ connectionString: new EmbeddedPostgres({ dataDir }).url(port) });
    await db.connect();
    try {
      const { rows } = await db.query<{ body: string }>(`select body from message where body like 'drill write %'`);
      const stored = new Set(rows.map((r) => r.body));
      console.info(`embedded kill drill: ${accepted.length} writes accepted, ${rows.length} stored (a write cut off before its answer may be stored too)`);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.filter((b) => !stored.has(b))).toEqual([]);
    } finally {
      await db.end();
    }

    // The supervision is in the log, one line per event, without the password of the cluster.
    expect(log).toMatch(/embedded PostgreSQL \(pid \d+\) is gone: restarting it/);
    expect(log).toMatch(/embedded PostgreSQL is back on port \d+ after/);
    expect(log).not.toContain(readFileSync(join(dataDir, 'pg-password'), 'utf8').trim());
    expect(log).not.toMatch(/(GET|POST) \S+ failed: /);
  }, 90_000);

  it('still stops cleanly on SIGTERM after the restart: exit 0, the database stopped', async () => {
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
  }, 60_000);
});
