import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deactivateStaff, reactivateStaff } from '../core/directory/staff.ts';
import { Child } from '../core/entities/child.ts';
import { Staff } from '../core/entities/staff.ts';
import { MENTOR_PARENTS, MENTOR_STAFF, seedMentorWorld } from '../test/mentor-world.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, loggedInBrowser, type TestBrowser } from './testing.ts';

/**
 * The mentor pages over HTTP, from the side of those who may and those who may not: the location
 * manager chooses (without JavaScript: 303 back to the page; with htmx: the row alone), a wrong
 * choice is a 422 naming the field, a forged token 403, another location's manager and parents
 * "not found"; the parent sees the mentor on their own child's card only, never a deactivated one;
 * the mentor sees "Mijn mentorkinderen".
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

let portal: TestPortal;
let app: Hono<AppEnv>;
const b = {} as Record<'lena' | 'wim' | 'mia' | 'anna' | 'bert', TestBrowser>;
const id = {} as Record<'evi' | 'noor' | 'mats' | 'mia' | 'nina' | 'otto', number>;

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await seedMentorWorld(em);
  app = createApp(portal, LOOSE);
  for (const e of [...MENTOR_STAFF, ...MENTOR_PARENTS]) await accountFor(portal, e, PASSWORD);
  for (const who of ['lena', 'wim', 'mia', 'anna', 'bert'] as const) b[who] = await loggedInBrowser(app, `${who}@example.nl`, PASSWORD);
  const child = async (n: string) => (await portal.em().findOneOrFail(Child, { childNumber: n })).id;
  const staff = async (e: string) => (await portal.em().findOneOrFail(Staff, { email: e })).id;
  Object.assign(id, {
    evi: await child('K1'),
    noor: await child('K2'),
    mats: await child('K4'),
    mia: await staff('mia@example.nl'),
    nina: await staff('nina@example.nl'),
    otto: await staff('otto@example.nl'),
  });
});
afterAll(() => portal?.destroy());

const mentorOf = async (childId: number) => (await portal.em().findOneOrFail(Child, { id: childId }, { populate: ['mentor'] })).mentor?.email ?? null;
const choose = (who: TestBrowser, childId: number, staffId: number | string, options: Parameters<TestBrowser['post']>[2] = {}) =>
  who.post(`/mentoren/kind/${childId}`, { mentor: String(staffId) }, { visit: '/mentoren', ...options });

describe('the manager chooses a mentor', () => {
  it("shows the location's groups with a select of each group's staff, not another location's", async () => {
    const res = await b.lena.get('/mentoren');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Mentor van Evi Test');
    expect(page).toContain(`<option value="${id.mia}">Mia de Vries</option>`);
    expect(page).not.toContain('Mats');
    expect(page).not.toContain('Otto');
  });

  it('saves without JavaScript (303 back to the child) and with htmx (the row alone)', async () => {
    const plain = await choose(b.lena, id.evi, id.mia);
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe(`/mentoren#kind-${id.evi}`);
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    const htmx = await choose(b.lena, id.noor, id.nina, { htmx: true });
    expect(htmx.status).toBe(200);
    const row = await htmx.text();
    expect(row).toMatch(/^\s*<li id="kind-\d+">/);
    expect(row).toContain(`<option value="${id.nina}" selected>Nina de Vries</option>`);
    expect(row).not.toContain('<html');
    expect(await mentorOf(id.noor)).toBe('nina@example.nl');
  });

  it('refuses staff of another group with 422 naming the field, and keeps the mentor', async () => {
    for (const htmx of [false, true]) {
      const res = await choose(b.lena, id.evi, id.otto, { htmx });
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain('Kies iemand die in de groep van dit kind werkt.');
      expect(html).toContain(`id="kind-${id.evi}-mentor" name="mentor" aria-invalid="true"`);
    }
    expect((await choose(b.lena, id.evi, 'nonsense')).status).toBe(422);
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
  });

  it('refuses a forged token (403) and answers another location\'s manager, staff and parents with 404', async () => {
    expect((await choose(b.lena, id.evi, id.nina, { csrf: 'vervalst' })).status).toBe(403);
    expect((await choose(b.wim, id.evi, id.nina)).status).toBe(404);
    expect((await choose(b.mia, id.evi, id.nina)).status).toBe(404);
    expect((await choose(b.anna, id.evi, id.nina)).status).toBe(404);
    expect((await choose(b.lena, id.mats, id.otto)).status).toBe(404);
    expect((await choose(b.lena, 99999999, id.nina)).status).toBe(404);
    expect((await b.anna.get('/mentoren')).status).toBe(404);
    expect(await (await b.wim.get('/mentoren')).text()).not.toContain('Evi');
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    expect(await mentorOf(id.mats)).toBeNull();
  });
});

describe('what parents and the mentor see', () => {
  it("shows the parent their own child's mentor with initials and what a mentor is, and not another child's", async () => {
    const anna = await (await b.anna.get('/')).text();
    expect(anna).toContain('<strong>Mentor:</strong> Mia de Vries');
    expect(anna).toContain('<span class="mentor-initials" aria-hidden="true">MV</span>');
    expect(anna).toContain('vaste pedagogisch medewerker van Evi');
    expect(anna).not.toContain('Nina');
    const bert = await (await b.bert.get('/')).text();
    expect(bert).toContain('Nina de Vries');
    expect(bert).not.toContain('Mia de Vries');
  });

  it('hides a deactivated mentor from the parent and flags it on the manager\'s page', async () => {
    await deactivateStaff(portal.em(), admin, 'mia@example.nl');
    try {
      expect(await (await b.anna.get('/')).text()).not.toContain('Mentor:');
      expect(await (await b.lena.get('/mentoren')).text()).toContain('Mia de Vries is niet meer actief');
    } finally {
      await reactivateStaff(portal.em(), admin, 'mia@example.nl');
    }
    expect(await (await b.anna.get('/')).text()).toContain('<strong>Mentor:</strong> Mia de Vries');
  });

  it('lists "Mijn mentorkinderen" for the mentor, with the way to the schriftje', async () => {
    // Mia's session ended with the deactivation: log in again.
    b.mia = await loggedInBrowser(app, 'mia@example.nl', PASSWORD);
    const page = await (await b.mia.get('/mentorkinderen')).text();
    expect(page).toContain('Mijn mentorkinderen');
    expect(page).toContain(`<a href="/schriftje/kind/${id.evi}">Evi Test</a>`);
    expect(page).not.toContain('Noor');
    expect(page).not.toContain('Mentoren kiezen');
    expect(await (await b.lena.get('/mentorkinderen')).text()).toContain('Mentoren kiezen');
    expect((await b.anna.get('/mentorkinderen')).status).toBe(404);
  });
});
