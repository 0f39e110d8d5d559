import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import { ACCOUNT_MAIL_QUEUE, ensureAccountMailQueue } from '../mail/account-mail.ts';
import { checkDisk, DEFAULT_DISK_THRESHOLD, parseDiskThreshold } from './disk.ts';
import { checkPublicUrl } from './public-url.ts';
import { checkQueue } from './queue.ts';
import { CheckTimeout, withTimeout } from './report.ts';

describe('disk threshold', () => {
  it('reads sizes and percentages, each replacing its own default', () => {
    expect(parseDiskThreshold('2GiB')).toEqual({ bytes: 2 * 1024 ** 3, percent: DEFAULT_DISK_THRESHOLD.percent });
    expect(parseDiskThreshold('500MB')).toEqual({ bytes: 500_000_000, percent: 5 });
    expect(parseDiskThreshold('10%')).toEqual({ bytes: 1024 ** 3, percent: 10 });
    expect(parseDiskThreshold('1.5 gib, 2%')).toEqual({ bytes: 1.5 * 1024 ** 3, percent: 2 });
    for (const bad of ['lots', '5 apples', '101%', '-1GB', '']) expect(parseDiskThreshold(bad), bad).toBeNull();
  });

  it('warns below the threshold, for a data folder that does not exist yet too', async () => {
    const missing = '/tmp/portal-doctor-does-not-exist/data';
    expect((await checkDisk([{ label: 'data', path: missing }], { bytes: 0, percent: 0 })).status).toBe('ok');
    const low = await checkDisk([{ label: 'data', path: missing }], { bytes: Number.MAX_SAFE_INTEGER, percent: 0 });
    expect(low).toMatchObject({ status: 'warn', detail: expect.stringContaining('LOW') });
  });
});

describe('public URL against how the server is reached', () => {
  const listen = { host: '127.0.0.1', port: 3000 };
  it('https without a trusted proxy: the cookies will not stick over http', () => {
    const r = checkPublicUrl({ organisation: 'https://ouders.zon.nl', trustProxy: false, listen });
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/__Host-, Secure/);
    expect(r.detail).toMatch(/PORTAL_TRUST_PROXY=true/);
  });
  it('https behind a trusted proxy is fine; plain http to another machine is not', () => {
    expect(checkPublicUrl({ organisation: 'https://ouders.zon.nl', trustProxy: true, listen }).status).toBe('ok');
    expect(checkPublicUrl({ organisation: 'http://ouders.zon.nl', trustProxy: true, listen }).status).toBe('warn');
    expect(checkPublicUrl({ organisation: 'http://127.0.0.1:3000', trustProxy: false, listen }).status).toBe('ok');
  });
  it('not set is a warning that says how; server.publicUrl overriding the organisation is named', () => {
    expect(checkPublicUrl({ organisation: null, trustProxy: false, listen }).detail).toMatch(/portal init --url/);
    expect(checkPublicUrl({ organisation: undefined, trustProxy: false, listen }).status).toBe('skip');
    const r = checkPublicUrl({ configured: 'https://a.nl', organisation: 'https://b.nl', trustProxy: true, listen });
    expect(r.detail).toMatch(/overrides the organisation's https:\/\/b\.nl/);
  });
});

describe('withTimeout', () => {
  it('gives up after the deadline and hands a late result to be closed', async () => {
    let closed = false;
    const slow = () => new Promise<{ close(): void }>((resolve) => setTimeout(() => resolve({ close: () => (closed = true) }), 100));
    await expect(withTimeout(20, slow, (late) => late.close())).rejects.toBeInstanceOf(CheckTimeout);
    await new Promise((r) => setTimeout(r, 150));
    expect(closed).toBe(true);
    expect(await withTimeout(1000, async () => 7)).toBe(7);
  });
});

describe('queue check', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await createTestPortal();
  });
  afterAll(() => portal?.destroy());

  it('a job due for longer than a few minutes is backlog; a fresh one is not', async () => {
    const jobs = await ensureAccountMailQueue(portal);
    expect(await checkQueue(portal.em(), 5)).toMatchObject({ status: 'ok' });
    const id = await jobs.boss.send(ACCOUNT_MAIL_QUEUE, { accountId: 0, kind: 'invitation' });
    expect(await checkQueue(portal.em(), 5)).toMatchObject({ status: 'ok' }); // just queued: a server would take it now
    await portal
      .em()
      .getConnection()
      .execute(`update ${QUEUE_SCHEMA}.job set start_after = now() - interval '10 minutes' where id = ?`, [id]);
    const r = await checkQueue(portal.em(), 5);
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/1 job\(s\) due for over 5 min \(account-mail 1\): is `portal serve` running/);
  });
});
