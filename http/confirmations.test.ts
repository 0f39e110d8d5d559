import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { sendAnnouncement } from '../core/messages/announcements.ts';
import { ANNOUNCEMENT_MAIL_QUEUE } from '../core/messages/announcement-mail.ts';
import { type MessageWorld, PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { accountFor, LOOSE, loggedInBrowser, type TestBrowser } from './testing.ts';

/**
 * Read confirmations over HTTP, from the attacker's side first: a parent the announcement did not
 * go to, a parent asking for the overview, the manager of another location, a forged CSRF token;
 * then the one tap with and without htmx, the overview and the once-a-day reminder.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
let w: MessageWorld;
let id: string;
const b = {} as Record<'anna' | 'bart' | 'cor' | 'eva' | 'hanna' | 'karel' | 'mia', TestBrowser>;

const confirmations = async () =>
  Number((await portal.em().getConnection().execute<{ n: number }[]>('select count(*)::int as n from announcement_confirmation'))[0]!.n);

const reminderJobs = async () => {
  await portal.jobs();
  const rows = await portal
    .em()
    .getConnection()
    .execute<{ n: number }[]>(`select count(*)::int as n from pgboss.job where name = ? and (data->>'reminder')::boolean`, [ANNOUNCEMENT_MAIL_QUEUE]);
  return rows[0]!.n;
};

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  w = await seedMessageWorld(portal);
  await addStaff(portal.em(), admin, { email: 'karel@example.nl', firstName: 'Karel', lastName: 'Werker', role: 'manager' });
  await assignStaff(portal.em(), admin, 'karel@example.nl', { location: 'Noord' });
  await accountFor(portal, 'karel@example.nl', PASSWORD);
  app = createApp(portal, LOOSE);
  ({ announcementId: id } = await sendAnnouncement(portal.em(), portal, w.actors.hanna, {
    locationId: w.locations.centrum,
    subject: 'Nieuwe ophaaltijden <b>vet</b>',
    body: 'Vanaf maandag sluiten we om 18:00.',
    confirmationRequested: true,
  }));
  for (const who of ['anna', 'bart', 'cor', 'eva', 'hanna', 'mia'] as const) b[who] = await loggedInBrowser(app, PEOPLE[who], PASSWORD);
  b.karel = await loggedInBrowser(app, 'karel@example.nl', PASSWORD);
});
afterAll(() => portal?.destroy());

describe('refused', () => {
  it('a parent it did not go to cannot confirm (404) or see it; nothing is written', async () => {
    expect((await b.eva.post(`/berichten/mededeling/${id}/bevestigen`, {})).status).toBe(404);
    expect((await b.eva.post(`/berichten/mededeling/${id}/bevestigen`, {}, { htmx: true })).status).toBe(404);
    expect((await b.eva.get(`/berichten/mededeling/${id}`)).status).toBe(404);
    expect(await confirmations()).toBe(0);
  });

  it('a parent cannot see the overview or remind; nor can the manager of another location, nor staff of another group', async () => {
    for (const who of ['anna', 'eva', 'karel', 'mia'] as const) {
      expect((await b[who].get(`/berichten/mededeling/${id}/bevestigingen`)).status, who).toBe(404);
      expect((await b[who].post(`/berichten/mededeling/${id}/herinnering`, {})).status, who).toBe(404);
    }
    expect(await reminderJobs()).toBe(0);
  });

  it('a forged or missing CSRF token is refused (403) and confirms nothing', async () => {
    expect((await b.anna.post(`/berichten/mededeling/${id}/bevestigen`, {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await b.anna.post(`/berichten/mededeling/${id}/bevestigen`, {}, { csrf: null })).status).toBe(403);
    expect((await b.hanna.post(`/berichten/mededeling/${id}/herinnering`, {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect(await confirmations()).toBe(0);
    expect(await reminderJobs()).toBe(0);
  });
});

describe('the one tap and the overview', () => {
  it('home and inbox say "Bevestigen gevraagd" until the parent confirms; without JavaScript a redirect, with htmx the box in place', async () => {
    expect(await (await b.anna.get('/')).text()).toContain('Bevestigen gevraagd');
    expect(await (await b.anna.get('/berichten')).text()).toContain('Bevestigen gevraagd');
    const page = await (await b.anna.get(`/berichten/mededeling/${id}`)).text();
    expect(page).toContain('Gelezen en begrepen');
    expect(page).toContain(`action="/berichten/mededeling/${id}/bevestigen"`);
    expect(page).toContain('name="_csrf"');
    expect(page).not.toContain('Wie heeft het gelezen?');

    const plain = await b.anna.post(`/berichten/mededeling/${id}/bevestigen`, {});
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe(`/berichten/mededeling/${id}`);
    const after = await (await b.anna.get(`/berichten/mededeling/${id}`)).text();
    expect(after).toContain('Dank u wel, uw bevestiging is ontvangen.');
    expect(after).toContain('U hebt bevestigd dat u dit gelezen hebt');
    expect(after).not.toContain('Gelezen en begrepen</button>');
    expect(await (await b.anna.get('/')).text()).not.toContain('Bevestigen gevraagd');
    expect(await (await b.anna.get('/berichten')).text()).not.toContain('Bevestigen gevraagd');

    const swapped = await b.bart.post(`/berichten/mededeling/${id}/bevestigen`, {}, { htmx: true });
    expect(swapped.status).toBe(200);
    const fragment = await swapped.text();
    expect(fragment).toMatch(/^\s*<div class="confirm-box" id="bevestiging">/);
    expect(fragment).toContain('U hebt bevestigd dat u dit gelezen hebt');
    expect(fragment).not.toContain('<html');
    expect(await confirmations()).toBe(2);
  });

  it('the manager sees who did and who did not per group, reminds once a day; the page says when the next may go', async () => {
    const page = await (await b.hanna.get(`/berichten/mededeling/${id}`)).text();
    expect(page).toContain(`href="/berichten/mededeling/${id}/bevestigingen"`);
    const res = await b.hanna.get(`/berichten/mededeling/${id}/bevestigingen`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Nieuwe ophaaltijden &lt;b&gt;vet&lt;/b&gt;');
    expect(html).toContain('2 van de 3 ouders hebben bevestigd.');
    expect(html).toContain('Groep Boomhut');
    expect(html).toContain('Groep Zolder');
    expect(html).toContain('Nog niet bevestigd (1)');
    expect(html).toContain('Cor Ouder');
    expect(html).not.toContain('Eva');
    expect(html).toContain('Herinnering sturen');
    expect(html).toContain('Er is nog geen herinnering gestuurd.');

    const first = await b.hanna.post(`/berichten/mededeling/${id}/herinnering`, {});
    expect(first.status).toBe(303);
    expect(await reminderJobs()).toBe(1);
    const after = await (await b.hanna.get(`/berichten/mededeling/${id}/bevestigingen`)).text();
    expect(after).toContain('De herinnering is verstuurd.');
    expect(after).toMatch(/Laatste herinnering: vandaag \d\d:\d\d, door Hanna Werker, aan 1 ouder\./);
    expect(after).toContain('Vandaag is er al een herinnering gestuurd. De volgende kan vanaf');
    expect(after).not.toContain('Herinnering sturen</button>');

    // A second click (a stale page, another tab): nothing is sent.
    await b.hanna.post(`/berichten/mededeling/${id}/herinnering`, {});
    expect(await reminderJobs()).toBe(1);
    expect(await (await b.hanna.get(`/berichten/mededeling/${id}/bevestigingen`)).text()).toContain('Morgen kan het weer.');
  });
});
