import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ParsedMail } from 'mailparser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { DataExport } from '../core/entities/data-export.ts';
import { Group } from '../core/entities/group.ts';
import { Photo } from '../core/entities/photo.ts';
import { accountFor } from '../http/testing.ts';
import { admin, createTestPortal, TEST_NOW, type TestPortal } from '../test/portal.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../test/s3.ts';
import { type SmtpSink, startSmtpSink } from '../test/smtp.ts';
import { readZip } from '../test/zip.ts';
import { servingAt } from '../test/serve-process.ts';

/**
 * Two real `portal serve` processes (bin/portal.mjs) on their own ports and their own, empty
 * data folders, over one PostgreSQL database and one S3 bucket (s3rver in this process): what a
 * deployment behind a load balancer does. No browser: HTTP with a cookie jar shows the same and
 * keeps the test about the nodes. It lives in e2e/ because it runs the portal as deployed (the
 * built command, its background work, real SMTP and S3), not an app in the test's process.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'bin', 'portal.mjs');
const PASSWORD = 'een lange zin als wachtwoord';

interface Node {
  name: string;
  url: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
}

let seed: TestPortal;
let s3: TestS3;
let smtp: SmtpSink;
let a: Node;
let b: Node;
let boomhut: number;

/** One browser: one cookie jar, whichever node the load balancer sends a request to. */
class Visitor {
  readonly cookies = new Map<string, string>();

  async request(node: Node, path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${node.url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((x) => /^\s*max-age=0\s*$/i.test(x))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  get csrf(): string {
    const token = this.cookies.get('portal-csrf') ?? this.cookies.get('__Host-portal-csrf');
    if (!token) throw new Error('no CSRF cookie yet');
    return token;
  }

  async post(node: Node, path: string, fields: Record<string, string>): Promise<Response> {
    if (!this.cookies.has('portal-csrf') && !this.cookies.has('__Host-portal-csrf')) await this.request(node, '/login');
    return await this.request(node, path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, _csrf: this.csrf }),
    });
  }

  login(node: Node, email: string, password = PASSWORD): Promise<Response> {
    return this.post(node, '/login', { email, password });
  }
}

async function startNode(name: string): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), `portal-node-${name}-`));
  const child = spawn(process.execPath, [bin, '--verbose', 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: repo,
    env: {
      ...process.env,
      PORTAL_DATABASE_URL: seed.dbUrl,
      PORTAL_DATA_DIR: dataDir,
      PORTAL_STORAGE_URL: s3.url(),
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      PORTAL_SMTP_URL: smtp.url,
      // Both nodes on the tests' instant (running on from there), like the seeding portal.
      PORTAL_CLOCK: TEST_NOW,
      PORTAL_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const serving = servingAt(child, `node ${name}`);
  return { name, url: await serving.url, dataDir, child, output: serving.output };
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node) return;
  if (node.child.exitCode === null) {
    const exited = new Promise((resolve) => node.child.once('exit', resolve));
    node.child.kill('SIGTERM');
    await exited;
  }
  rmSync(node.dataDir, { recursive: true, force: true });
}

async function picture(hue: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
    <rect width="640" height="480" fill="hsl(${hue},60%,70%)"/><circle cx="200" cy="240" r="120" fill="#c0392b"/></svg>`;
  return await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  return (await seed.em().getConnection().execute(query, params as never[])) as T[];
}

/** pg-boss keeps a job in `job` and moves it to `archive` later: one job is one row in either. */
async function jobsOf(queue: string, field: string, value: string): Promise<{ state: string; retry_count: number }[]> {
  return await sql(
    `select state, retry_count from pgboss.job where name = ? and data->>? = ?
      union all select state, retry_count from pgboss.archive where name = ? and data->>? = ?`,
    [queue, field, value, queue, field, value],
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}\n--- node A ---\n${a?.output()}\n--- node B ---\n${b?.output()}`);
}

async function bucketKeys(store: string): Promise<string[]> {
  const res = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${store}/` }));
  return (res.Contents ?? []).map((o) => o.Key!.slice(store.length + 1)).filter((k) => !k.startsWith('.'));
}

beforeAll(async () => {
  [s3, smtp, seed] = await Promise.all([startS3(), startSmtpSink(), createTestPortal()]);
  const em = seed.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomgaard', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  boomhut = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  await addChild(em, admin, { childNumber: 'K1', firstName: 'Evi', lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(seed.clock.today(), -10) });
  await setConsent(em, admin, 'K1', { internal: 'ja', external: 'nee' });
  for (const [email, first] of [
    ['anna@example.nl', 'Anna'],
    ['bram@example.nl', 'Bram'],
  ] as const) {
    await addParent(em, admin, { email, firstName: first, lastName: 'Ouder', children: ['K1'] });
    await accountFor(seed, email, PASSWORD);
  }
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Werker', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  await accountFor(seed, 'mia@example.nl', PASSWORD);
  // Both at once, as after a deploy: the job queue's schema and maintenance must not trip over each other.
  [a, b] = await Promise.all([startNode('a'), startNode('b')]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stopNode(a), stopNode(b)]);
  await seed?.destroy();
  await Promise.all([s3?.close(), smtp?.close()]);
});

describe('two portal processes over one database and one bucket', () => {
  const mia = new Visitor();
  const anna = new Visitor();

  it('a session made on node A works on node B; without it B sends to the login', async () => {
    expect((await mia.login(a, 'mia@example.nl')).status).toBe(303);
    const page = await mia.request(b, '/fotos');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`name="groep" value="${boomhut}"`);
    // The same request without the session cookie: B knows nobody.
    const stranger = await new Visitor().request(b, '/fotos');
    expect(stranger.status).toBe(303);
    expect(stranger.headers.get('Location')).toMatch(/^\/login/);
    // Logging out on B ends the session on A too.
    const other = new Visitor();
    expect((await other.login(b, 'mia@example.nl')).status).toBe(303);
    expect((await other.request(a, '/fotos')).status).toBe(200);
    expect((await other.post(a, '/uitloggen', {})).status).toBe(303);
    expect((await other.request(b, '/fotos')).status).toBe(303);
  });

  it('a photo uploaded on A is processed once, stored once in the bucket, and shown on B to a parent of the group', async () => {
    const form = new FormData();
    form.append('_csrf', mia.csrf);
    form.append('groep', String(boomhut));
    form.append('bijschrift', '');
    form.append('foto', new Blob([await picture(30)], { type: 'image/jpeg' }), 'zandbak.jpg');
    const uploaded = await mia.request(a, '/fotos/uploaden', { method: 'POST', body: form });
    expect(uploaded.status, await uploaded.clone().text()).toBe(303);
    const [row] = await seed.em().find(Photo, {}, { orderBy: { uploadedAt: 'desc' }, limit: 1 });
    const id = row!.id;

    const photo = await until('the photo to be processed', async () => {
      const p = await seed.em().findOneOrFail(Photo, { id });
      return p.state === 'processing' ? undefined : p;
    });
    expect(photo.state).toBe('ready');
    // One job, done at the first go (both nodes poll the queue; only one gets it).
    const jobs = await until('the job to be completed', async () => {
      const found = await jobsOf('photo-process', 'photoId', id);
      return found.every((j) => j.state === 'completed') ? found : undefined;
    });
    expect(jobs).toEqual([{ state: 'completed', retry_count: 0 }]);
    // One set of files, in the bucket: exactly the keys of the photo's row; the upload as received is gone.
    const own = [photo.originalKey, photo.displayKey, photo.thumbKey].filter((k): k is string => typeof k === 'string');
    expect(own.length).toBeGreaterThanOrEqual(2);
    expect((await bucketKeys('photos')).sort()).toEqual([...new Set(own)].sort());
    expect(await bucketKeys('incoming')).toEqual([]);
    // Neither node wrote photos into its own data folder.
    for (const node of [a, b]) expect(readdirSync(node.dataDir)).not.toContain('photos');

    // Tagged on B (Mia's session from A), then Anna sees it on B and gets the thumbnail's bytes.
    expect((await mia.post(b, `/fotos/${id}/taggen`, { kind: 'K1' })).status).toBe(303);
    expect((await anna.login(b, 'anna@example.nl')).status).toBe(303);
    expect(await (await anna.request(b, '/fotos')).text()).toContain(`/fotos/${id}/klein`);
    const thumb = await anna.request(b, `/fotos/${id}/klein`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('Content-Type')).toBe('image/jpeg');
    const stored = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: `photos/${photo.thumbKey}` }));
    expect(Buffer.from(await thumb.arrayBuffer()).equals(Buffer.from(await stored.Body!.transformToByteArray()))).toBe(true);
    // And on A, from the same bucket.
    expect((await anna.request(a, `/fotos/${id}/klein`)).status).toBe(200);
  });

  it('the daily retention ran once for both nodes starting together, not once on each (core/jobs/periodic.ts)', async () => {
    const [runs] = await sql<{ n: number }>(`select count(*)::int as n from audit_event where type = 'retention.applied'`);
    expect(runs?.n).toBe(1);
    const marks = await sql<{ name: string }>('select name from periodic_run order by name');
    expect(marks.map((m) => m.name)).toEqual(expect.arrayContaining(['housekeeping', 'notification-scan', 'retention']));
  });

  it('failed logins count across both nodes: 3 on A and 2 on B brake the 6th, the right password too', async () => {
    const statuses: number[] = [];
    for (const node of [a, a, a, b, b]) statuses.push((await new Visitor().login(node, 'bram@example.nl', 'verkeerd wachtwoord 123')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const onA = await new Visitor().login(a, 'bram@example.nl');
    const onB = await new Visitor().login(b, 'bram@example.nl');
    expect([onA.status, onB.status]).toEqual([429, 429]);
    expect(Number(onB.headers.get('Retry-After'))).toBeGreaterThan(0);
  });

  it('a data export asked on A is built once, mailed once, and downloads on B (the ZIP is in the bucket)', async () => {
    const parent = new Visitor();
    expect((await parent.login(a, 'anna@example.nl')).status).toBe(303);
    await parent.request(a, '/mijn-gegevens');
    expect((await parent.post(a, '/mijn-gegevens/gegevens-downloaden', {})).status).toBe(303);

    const mail = await until<ParsedMail>('the mail to Anna', async () => smtp.to('anna@example.nl')[0]);
    expect(mail.subject).toBe('Uw gegevens staan klaar');
    const link = /https:\/\/ouders\.example\.nl(\/mijn-gegevens\/gegevens\/[A-Za-z0-9_-]{43})/.exec(mail.text ?? '')?.[1];
    expect(link, mail.text).toBeDefined();

    // Both nodes work the mail queue; give a second sender time to show up.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(smtp.to('anna@example.nl')).toHaveLength(1);
    const row = await seed.em().findOneOrFail(DataExport, { parent: { email: 'anna@example.nl' } });
    expect(await jobsOf('data-export', 'exportId', String(row.id))).toHaveLength(1);
    expect(await bucketKeys('exports')).toEqual([row.file]);
    for (const node of [a, b]) expect(readdirSync(node.dataDir)).not.toContain('exports');

    for (const node of [b, a]) {
      const file = await parent.request(node, link!);
      expect(file.status, node.name).toBe(200);
      const data = JSON.parse(readZip(Buffer.from(await file.arrayBuffer())).get('gegevens.json')!.toString());
      expect(data.profile).toMatchObject({ email: 'anna@example.nl' });
    }
    // The link is still only for Anna, on either node.
    const bram = new Visitor();
    await seed.em().getConnection().execute("delete from rate_limit where key like 'login-%'");
    expect((await bram.login(b, 'bram@example.nl')).status).toBe(303);
    expect((await bram.request(b, link!)).status).toBe(404);
  });
});
