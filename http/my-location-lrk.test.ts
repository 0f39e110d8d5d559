import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild, leaveChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { LRK_REGISTER_URL } from '../core/profile/my-locations.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { seedAccount, TestBrowser } from './testing.ts';

/**
 * Mijn vestiging shows the location's LRK number with a link to the public register, in the same
 * tab, in Dutch and English; a parent sees only the numbers of their own children's locations.
 */

const PASSWORD = 'paard batterij nietje correct';
let portal: TestPortal;
let app: Hono<AppEnv>;
let ip = 0;

async function parentAt(email: string, childNumber: string, language: 'nl' | 'en' = 'nl'): Promise<TestBrowser> {
  await seedAccount(portal, { email, password: PASSWORD, language });
  await linkParent(portal.em(), admin, email, childNumber);
  const b = new TestBrowser(app, { 'X-Forwarded-For': `192.0.2.${++ip}` });
  expect((await b.login(email, PASSWORD)).status).toBe(303);
  return b;
}

const page = async (b: TestBrowser) => {
  const res = await b.get('/mijn-vestiging');
  expect(res.status).toBe(200);
  return await res.text();
};

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  app = createApp(portal, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum', lrk: '123456789' });
  await addLocation(em, admin, { name: 'Wyck', lrk: '987654321' });
  await addLocation(em, admin, { name: 'Zuid' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Wyck', name: 'Egeltjes' });
  await addGroup(em, admin, { location: 'Zuid', name: 'Vossen' });
  const start = addDays(portal.clock.today(), -30);
  for (const [number, group] of [
    ['L1', 'Boomhut'],
    ['L2', 'Egeltjes'],
    ['L3', 'Vossen'],
    ['L4', 'Boomhut'],
    ['L5', 'Boomhut'],
  ] as const) {
    await addChild(em, admin, { childNumber: number, firstName: number, lastName: 'Kind', birthDate: '2024-01-01', group, startDate: start });
  }
}, 60_000);
afterAll(async () => {
  await portal?.destroy();
});

describe('mijn vestiging: the LRK number', () => {
  it('shows the number of the parent’s location with a same-tab link to the register', async () => {
    const html = await page(await parentAt('centrum@example.nl', 'L1'));
    expect(html).toContain('<dt>LRK-nummer</dt>');
    expect(html).toContain('123456789');
    const link = new RegExp(`<a href="${LRK_REGISTER_URL.replace(/[.]/g, '\\.')}">([^<]+)</a>`).exec(html);
    expect(link?.[1]).toBe('Zoek dit nummer op in het Landelijk Register Kinderopvang');
    expect(html).not.toMatch(/target="/);
  });

  it('does not show another location’s number', async () => {
    const html = await page(await parentAt('wyck@example.nl', 'L2'));
    expect(html).toContain('987654321');
    expect(html).not.toContain('123456789');
    expect(html).not.toContain('Centrum');
  });

  it('shows no LRK line for a location without a number', async () => {
    const html = await page(await parentAt('zuid@example.nl', 'L3'));
    expect(html).toContain('Zuid');
    expect(html).not.toContain('LRK');
    expect(html).not.toContain(LRK_REGISTER_URL);
  });

  it('is in English for a parent who reads English', async () => {
    const html = await page(await parentAt('english@example.nl', 'L4', 'en'));
    expect(html).toContain('<dt>LRK number</dt>');
    expect(html).toContain('Look this number up in the Dutch childcare register (Landelijk Register Kinderopvang)');
  });

  it('is gone once the child has left', async () => {
    const b = await parentAt('left@example.nl', 'L5');
    expect(await page(b)).toContain('123456789');
    await leaveChild(portal.em(), admin, 'L5', { date: addDays(portal.clock.today(), -1) });
    const html = await page(b);
    expect(html).not.toContain('123456789');
    expect(html).toContain('Nog geen vestiging.');
  });
});
