import type { Hono } from 'hono';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { DataExport } from '../core/entities/data-export.ts';
import { pruneDataExports, startDataExportWorker } from '../core/gdpr/self-service.ts';
import { admin, type TestPortal } from '../test/portal.ts';
import type { SmtpSink, } from '../test/smtp.ts';
import { readZip } from '../test/zip.ts';
import { type AppEnv, createApp } from './app.ts';
import { type SeededAccount, seedAccount, TestBrowser, startMailingPortal } from './testing.ts';

/**
 * "Download mijn gegevens" end to end: the request in Mijn gegevens, the job that builds the ZIP,
 * the mail through a real SMTP server, and the link that opens only for its own parent.
 */

const GOOD = 'paard batterij nietje correct';
let portal: TestPortal;
let smtp: SmtpSink;
let app: Hono<AppEnv>;
let ip = 0;
const browser = () => new TestBrowser(app, { 'X-Forwarded-For': `198.51.100.${++ip}` });

async function loggedIn(account: SeededAccount): Promise<TestBrowser> {
  const b = browser();
  expect((await b.login(account.email, account.password)).status).toBe(303);
  return b;
}

async function waitForMail(to: string): Promise<ParsedMail> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [mail] = smtp.to(to);
    if (mail) return mail;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no mail to ${to}`);
}

beforeAll(async () => {
  ({ portal, smtp } = await startMailingPortal());
  await startDataExportWorker(portal);
  app = createApp(portal);
}, 60_000);
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

describe('download mijn gegevens', () => {
  it('asks once, builds the ZIP in the background, mails a link, and opens it only for the same parent', async () => {
    const anna = await seedAccount(portal, { email: 'anna@example.nl', password: GOOD, firstName: 'Anna' });
    const bram = await seedAccount(portal, { email: 'bram@example.nl', password: GOOD, firstName: 'Bram' });
    const a = await loggedIn(anna);

    const page = await (await a.get('/mijn-gegevens')).text();
    expect(page).toContain('action="/mijn-gegevens/gegevens-downloaden"');
    // A forged token is refused and asks for nothing.
    expect((await a.post('/mijn-gegevens/gegevens-downloaden', {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect(await portal.em().count(DataExport, {})).toBe(0);

    const res = await a.post('/mijn-gegevens/gegevens-downloaden', {});
    expect(res.status).toBe(303);
    expect(await (await a.get('/mijn-gegevens')).text()).toContain('We zetten uw gegevens klaar');
    // A second click the same day does not make a second export.
    await a.post('/mijn-gegevens/gegevens-downloaden', {});
    expect(await portal.em().count(DataExport, {})).toBe(1);

    const mail = await waitForMail('anna@example.nl');
    expect(mail.subject).toBe('Uw gegevens staan klaar');
    const link = /https:\/\/ouders\.example\.nl(\/mijn-gegevens\/gegevens\/[A-Za-z0-9_-]{43})/.exec(mail.text ?? '')?.[1];
    expect(link, mail.text).toBeDefined();
    // The token is only in the mail: the database holds its hash.
    const row = await portal.em().findOneOrFail(DataExport, { parent: anna.personId });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(link).not.toContain(row.tokenHash);

    // Another parent with the forwarded link, and a visitor without a login, get nothing.
    expect((await (await loggedIn(bram)).get(link!)).status).toBe(404);
    expect((await browser().get(link!)).status).toBe(303);

    const file = await a.get(link!);
    expect(file.status).toBe(200);
    expect(file.headers.get('Content-Disposition')).toMatch(/^attachment; filename="mijn-gegevens-\d{4}-\d\d-\d\d\.zip"$/);
    expect(file.headers.get('Cache-Control')).toBe('no-store');
    const data = JSON.parse(readZip(Buffer.from(await file.arrayBuffer())).get('gegevens.json')!.toString());
    expect(data.profile).toMatchObject({ email: 'anna@example.nl', first_name: 'Anna' });
    expect(await (await a.get('/mijn-gegevens')).text()).toContain('Uw gegevens staan klaar');

    // After the link expires, it opens nothing and housekeeping removes the file.
    await portal.em().nativeUpdate(DataExport, { id: row.id }, { expiresAt: new Date(portal.clock.now().getTime() - 1000) });
    expect((await a.get(link!)).status).toBe(404);
    // The ZIP is in the exports store (shared by every node), under the key the row names.
    const key = (await portal.em().findOneOrFail(DataExport, { id: row.id })).file!;
    expect(await portal.exports.stat(key)).not.toBeNull();
    expect(await pruneDataExports(portal.em(), portal)).toBe(1);
    expect(await portal.exports.stat(key)).toBeNull();
  });

  it('tells the parent of a child who left until when the photos and schriftje can still be downloaded', async () => {
    const em = portal.em();
    await addLocation(em, admin, { name: 'Centrum' });
    await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
    for (const n of ['V1', 'V2', 'V3']) {
      await addChild(em, admin, { childNumber: n, firstName: { V1: 'Evi', V2: 'Sam', V3: 'Noor' }[n]!, lastName: 'Test', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -300) });
    }
    const cor = await seedAccount(portal, { email: 'cor@example.nl', password: GOOD, firstName: 'Cor' });
    for (const n of ['V1', 'V2', 'V3']) await linkParent(em, admin, cor.email, n);
    // Evi left 10 days ago (within the 60 days), Sam 100 days ago (past it), Noor stays.
    await em.getConnection().execute('update child set left_on = ? where child_number = ?', [addDays(portal.clock.today(), -10), 'V1']);
    await em.getConnection().execute('update child set left_on = ? where child_number = ?', [addDays(portal.clock.today(), -100), 'V2']);
    const page = await (await (await loggedIn(cor)).get('/mijn-gegevens')).text();
    const notices = [...page.matchAll(/<p class="notice">([^<]*)<\/p>/g)].map((m) => m[1]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^Evi gaat of ging van de opvang af op .+\. Tot en met .+ kunt u hieronder alle foto’s van Evi/);
  });

  it('is for parents: staff are refused', async () => {
    const mia = await seedAccount(portal, { email: 'mia@example.nl', password: GOOD, kind: 'staff' });
    const m = await loggedIn(mia);
    expect(await (await m.get('/mijn-gegevens')).text()).not.toContain('gegevens-downloaden');
    expect((await m.post('/mijn-gegevens/gegevens-downloaden', {})).status).toBe(403);
  });
});
