import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import { ACCOUNT_MAIL_DEAD, ensureAccountMailQueue } from '../core/mail/account-mail.ts';
import { runCli } from '../test/cli.ts';
import { freePort, type SmtpSink, startSmtpSink } from '../test/smtp.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { vapidKeys } from '../core/push/vapid.ts';

/** `portal doctor` as a script runs it, on the tests' clock. */
const doctor = (args: string[], env: Record<string, string>) => runCli(args, env);

let portal: TestPortal;
let smtp: SmtpSink;
let env: Record<string, string>;

beforeAll(async () => {
  portal = await createTestPortal();
  smtp = await startSmtpSink();
  await initOrganisation(portal.em(), admin, { name: 'Zon', publicUrl: 'https://ouders.zon.nl', helpdeskEmail: 'help@zon.nl' });
  // What `portal init` makes: the Web Push key pair.
  await vapidKeys(portal.em());
  env = {
    PORTAL_DATABASE_URL: portal.dbUrl,
    PORTAL_DATABASE_POOL_MAX: '2',
    PORTAL_DATA_DIR: portal.dataDir,
    PORTAL_SMTP_URL: smtp.url,
    PORTAL_TRUST_PROXY: 'true',
  };
});
afterAll(async () => {
  await smtp?.close();
  await portal?.destroy();
});

// A disk that is nearly full on the test machine must not decide these tests.
const anyDisk = ['--min-free', '0B,0%'];

describe('portal doctor', () => {
  it('a healthy portal: every check ok, exit 0, a table of CHECK STATUS DETAIL', async () => {
    const r = await doctor(['doctor', ...anyDisk], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CHECK\s+STATUS\s+DETAIL$/);
    const rows = Object.fromEntries(lines.slice(1).map((l) => l.split(/ {2,}/)).map(([check, status, detail]) => [check, { status, detail }]));
    expect(Object.keys(rows)).toEqual(['config', 'database', 'migrations', 'embedded', 'smtp', 'disk', 'storage', 'public-url', 'queue', 'push']);
    expect(rows['database']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(rows['migrations']?.status).toBe('ok');
    expect(rows['embedded']?.status).toBe('skip'); // PORTAL_DATABASE_URL is set
    expect(rows['smtp']).toMatchObject({ status: 'ok', detail: expect.stringContaining(`smtp://127.0.0.1:${smtp.port}`) });
    expect(rows['public-url']).toMatchObject({ status: 'ok', detail: expect.stringContaining('https://ouders.zon.nl') });
    expect(rows['queue']?.status).toBe('ok');
    expect(rows['push']).toMatchObject({ status: 'ok', detail: expect.stringContaining('VAPID key pair present') });
    expect(smtp.messages).toHaveLength(0); // verify() sends nothing
  });

  it('--json gives the same checks for scripts', async () => {
    const r = await doctor(['--json', 'doctor', ...anyDisk], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c: { check: string }) => c.check === 'smtp').status).toBe('ok');
  });

  it('a dead SMTP port fails the smtp check and the doctor (exit 1), and the rest is still checked', async () => {
    const dead = `smtp://127.0.0.1:${await freePort()}`;
    const r = await doctor(['--json', 'doctor', ...anyDisk], { ...env, PORTAL_SMTP_URL: dead });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    const smtpCheck = report.checks.find((c: { check: string }) => c.check === 'smtp');
    expect(smtpCheck).toMatchObject({ status: 'fail', detail: expect.stringMatching(/ECONNREFUSED|connect/) });
    expect(report.checks.find((c: { check: string }) => c.check === 'database').status).toBe('ok');
  });

  it('a mail server that never answers fails within the --timeout: the doctor does not hang', async () => {
    // Accepts the connection, then says nothing (a firewall or a stuck server).
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const r = await doctor(['--json', 'doctor', '--timeout', '1', ...anyDisk], { ...env, PORTAL_SMTP_URL: `smtp://127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      const smtpCheck = JSON.parse(r.stdout).checks.find((c: { check: string }) => c.check === 'smtp');
      expect(smtpCheck).toMatchObject({ status: 'fail', detail: expect.stringContaining('no answer within 1 s') });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('mail to .eml files: smtp is skipped with a notice, not failed', async () => {
    const r = await doctor(['--json', 'doctor', ...anyDisk], { ...env, PORTAL_SMTP_URL: '' });
    expect(r.code).toBe(0);
    const smtpCheck = JSON.parse(r.stdout).checks.find((c: { check: string }) => c.check === 'smtp');
    expect(smtpCheck).toMatchObject({ status: 'skip', detail: expect.stringContaining('.eml') });
  });

  it('https public URL without a trusted proxy: a warning about the login cookies, still exit 0', async () => {
    const r = await doctor(['doctor', ...anyDisk], { ...env, PORTAL_TRUST_PROXY: 'false' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/public-url\s+warn\s+.*__Host-.*PORTAL_TRUST_PROXY=true/);
  });

  it('too little disk space is a warning naming the threshold', async () => {
    const r = await doctor(['doctor', '--min-free', '100%'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/disk\s+warn\s+data .*LOW/);
  });

  it('a pending migration is reported: a warning with auto-migration, a failure without', async () => {
    const [last] = (await portal.em().getConnection().execute('select name from mikro_orm_migrations order by id desc limit 1')) as { name: string }[];
    await portal.em().getConnection().execute('delete from mikro_orm_migrations where name = ?', [last!.name]);
    try {
      const name = last!.name.replace(/\.[jt]s$/, '');
      const auto = await doctor(['doctor', ...anyDisk], env);
      expect(auto.code).toBe(0);
      expect(auto.stdout).toMatch(new RegExp(`migrations\\s+warn\\s+1 pending \\(${name}\\)`));
      const manual = await doctor(['doctor', ...anyDisk], { ...env, PORTAL_AUTO_MIGRATE: 'false' });
      expect(manual.code).toBe(1);
      expect(manual.stdout).toMatch(/migrations\s+fail\s+1 pending .*portal db migrate/);
    } finally {
      await portal.em().getConnection().execute('insert into mikro_orm_migrations (name, executed_at) values (?, now())', [last!.name]);
    }
  });

  it('the Web Push keys: missing is a warning (and the doctor makes none), a key that is not P-256 fails', async () => {
    const secret = async () =>
      (await portal.em().getConnection().execute(`select value from server_secret where name = 'vapid'`)) as { value: string }[];
    const [kept] = await secret();
    const push = async () => {
      const r = await doctor(['--json', 'doctor', ...anyDisk], env);
      return { code: r.code, check: (JSON.parse(r.stdout).checks as { check: string; status: string; detail: string }[]).find((c) => c.check === 'push') };
    };
    try {
      await portal.em().getConnection().execute(`delete from server_secret where name = 'vapid'`);
      const missing = await push();
      expect(missing.code).toBe(0);
      expect(missing.check).toMatchObject({ status: 'warn', detail: expect.stringContaining('no VAPID key pair yet') });
      expect(await secret()).toEqual([]);
      // 32 bytes, but beyond the curve's order: no P-256 private key, so no public point.
      await portal.em().getConnection().execute(`insert into server_secret (name, value, created_at) values ('vapid', ?, now())`, ['ff'.repeat(32)]);
      const bad = await push();
      expect(bad.code).toBe(1);
      expect(bad.check).toMatchObject({ status: 'fail', detail: expect.stringContaining('not a P-256 key') });
      await portal.em().getConnection().execute(`update server_secret set value = ? where name = 'vapid'`, ['ab'.repeat(16)]);
      expect((await push()).check).toMatchObject({ status: 'fail', detail: expect.stringContaining('16 bytes, not 32') });
    } finally {
      await portal.em().getConnection().execute(`delete from server_secret where name = 'vapid'`);
      await portal.em().getConnection().execute(`insert into server_secret (name, value, created_at) values ('vapid', ?, now())`, [kept!.value]);
    }
    expect((await push()).check?.status).toBe('ok');
  });

  it('a dead letter in the job queue is reported', async () => {
    const jobs = await ensureAccountMailQueue(portal);
    await jobs.boss.send(ACCOUNT_MAIL_DEAD, { accountId: 0, kind: 'invitation' });
    const r = await doctor(['doctor', ...anyDisk], env);
    expect(r.stdout).toMatch(/queue\s+warn\s+1 dead letter\(s\) \(account-mail-dead 1\)/);
  });

  it('a missing database fails the database check with the one line, and creates nothing', async () => {
    const url = new URL(portal.dbUrl);
    url.pathname = `${url.pathname}_typo`;
    const r = await doctor(['--json', 'doctor', ...anyDisk], { ...env, PORTAL_DATABASE_URL: url.toString() });
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout).checks as { check: string; status: string; detail: string }[];
    expect(checks.find((c) => c.check === 'database')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/_typo" does not exist on 127\.0\.0\.1:\d+/) });
    expect(checks.find((c) => c.check === 'queue')?.status).toBe('skip');
    const rows = (await portal.em().getConnection().execute('select 1 from pg_database where datname = ?', [url.pathname.slice(1)])) as unknown[];
    expect(rows).toHaveLength(0);
  });

  it('an invalid setting fails the config check and skips the rest', async () => {
    const r = await doctor(['--json', 'doctor'], { ...env, PORTAL_PORT: 'abc' });
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout).checks as { check: string; status: string; detail: string }[];
    expect(checks[0]).toMatchObject({ check: 'config', status: 'fail', detail: expect.stringContaining('PORTAL_PORT') });
    expect(checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
  });

  it('a bad --min-free is a usage error (exit 2)', async () => {
    const r = await doctor(['doctor', '--min-free', 'lots'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-free: "lots"/);
  });
});

describe('portal doctor with the embedded PostgreSQL', () => {
  it('before the first start: no cluster is made, the database is skipped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portal-doctor-'));
    try {
      const r = await doctor(['--json', 'doctor', ...anyDisk], { PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: '' });
      const checks = JSON.parse(r.stdout).checks as { check: string; status: string; detail: string }[];
      expect(checks.find((c) => c.check === 'embedded')).toMatchObject({ status: 'ok', detail: expect.stringContaining('no cluster yet') });
      expect(checks.find((c) => c.check === 'database')?.status).toBe('skip');
      expect(r.code).toBe(0);
      const { existsSync } = await import('node:fs');
      expect(existsSync(join(dataDir, 'pg'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
