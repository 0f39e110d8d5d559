import type { Hono } from 'hono';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendParent } from '../../core/accounts/suspension.ts';
import { sha256Hex } from '../../core/auth/tokens.ts';
import { setConsent } from '../../core/directory/consent.ts';
import { addParent } from '../../core/directory/parents.ts';
import { writeParentEntry } from '../../core/diary/entries.ts';
import { Account } from '../../core/entities/account.ts';
import { ApiToken } from '../../core/entities/api-token.ts';
import { Child } from '../../core/entities/child.ts';
import { MessageAttachment } from '../../core/entities/message.ts';
import { PhotoDownload, PhotoView } from '../../core/entities/photo.ts';
import { traceDownload } from '../../core/photos/downloads.ts';
import { sendAnnouncement } from '../../core/messages/announcements.ts';
import { startThread } from '../../core/messages/threads.ts';
import { tagPhoto } from '../../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../../core/photos/upload.ts';
import { addDays } from '../../core/dates.ts';
import { cancelDay } from '../../core/schedule/cancel.ts';
import { importSchedule } from '../../core/schedule/schedule-import.ts';
import { decideSwap, requestSwap } from '../../core/schedule/swaps.ts';
import { createECDH, randomBytes } from 'node:crypto';
import { PushSubscription } from '../../core/entities/push.ts';
import { subscribeOwnDevice } from '../../core/push/subscriptions.ts';
import { type MessageWorld, PASSWORD, PEOPLE, type Person, seedMessageWorld } from '../../test/messages.ts';
import { nextMonday } from '../../test/schedule.ts';
import { FAMILY, seedTwinFamily, storeAmbiguousThread, type TwinFamily } from '../../test/thread-child.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type AppEnv, createApp } from '../app.ts';
import { accountFor, seedAccount, TestBrowser } from '../testing.ts';
import { API_BASE } from './app.ts';
import { renderDocs } from './docs.ts';

/**
 * The app API from every side: token login and its refusals, the access matrix over every
 * operation (a route missing from the matrix fails), the error shape, no CSRF hole, the
 * OpenAPI document and its reference page, the well-known file, and signing an app out from
 * Mijn gegevens.
 */

const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

let portal: TestPortal;
let app: Hono<AppEnv>;
let world: MessageWorld;
let evi: number;
let photoId: string;
let threadId: string;
let announcementId: string;
let entryId: string;
let attachmentId: string;
/** Afmelden en ruilen: Evi comes Monday to Wednesday; `monday` is at least a week ahead. */
let monday: string;
let undoId: number;
let swapCreditId: number;
let withdrawId: number;
let decideId: number;
let swapDayId: number;
/** Anna's browser, subscribed to push (the matrix removes it). */
let pushId: number;
let pushEndpoints = 0;
/** A browser's Web Push subscription as PushSubscription.toJSON() gives it. */
const browserSubscription = (endpoint = `https://push.example.net/send/${++pushEndpoints}`) => ({
  endpoint,
  keys: { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
});
let ipCounter = 0;

type Who = 'anonymous' | 'ownChild' | 'sameGroup' | 'otherGroup' | 'suspended' | 'staff' | 'otherStaff';
const PERSON: Record<Exclude<Who, 'anonymous'>, Person> = {
  ownChild: 'anna',
  sameGroup: 'cor',
  otherGroup: 'eva',
  suspended: 'bart',
  staff: 'mia',
  otherStaff: 'otto',
};
const tokens = {} as Record<Who, string | undefined>;

const nextIp = () => `198.51.100.${++ipCounter % 250}`;

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; to?: Hono<AppEnv> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'X-Forwarded-For': '203.0.113.7', ...options.headers };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = options.raw ?? JSON.stringify(options.body);
  }
  return await (options.to ?? app).request(`http://localhost${API_BASE}${path}`, { method, headers, body });
}

async function login(email: string, password = PASSWORD, to: Hono<AppEnv> = app, ip = nextIp()): Promise<Response> {
  return await call('POST', '/session', { body: { username: email, password, deviceName: 'Test-telefoon' }, headers: { 'X-Forwarded-For': ip }, to });
}

async function tokenFor(email: string): Promise<string> {
  const res = await login(email);
  expect(res.status, email).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function picture(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300" fill="#8ab"/>
    <circle cx="120" cy="150" r="80" fill="#c0392b"/><rect x="220" y="80" width="120" height="150" fill="#27ae60"/></svg>`;
  return await sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  world = await seedMessageWorld(portal);
  app = createApp(portal, LOOSE);
  const em = portal.em();
  for (const n of ['K1', 'K2', 'K3', 'K4']) await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  evi = (await em.findOneOrFail(Child, { childNumber: 'K1' })).id;
  ({ photoId } = await uploadPhoto(em, portal, world.actors.mia, { groupId: world.groups.boomhut, data: await picture() }));
  await processUploadedPhoto(portal, photoId);
  await tagPhoto(portal.em(), world.actors.mia, photoId, { childNumbers: ['K1'] });
  ({ id: entryId } = await writeParentEntry(portal.em(), world.actors.anna, evi, { text: 'Oma haalt Evi op.' }));
  ({ threadId } = await startThread(portal.em(), portal, world.actors.anna, {
    groupId: world.groups.boomhut,
    subject: 'Slaapje',
    body: 'Evi sliep slecht vannacht.',
  }));
  // An announcement for Boomhut with a PDF: Anna (Evi) and Cor (Sam) read it, Eva (Noord) does not.
  ({ announcementId } = await sendAnnouncement(portal.em(), portal, world.actors.mia, {
    groupId: world.groups.boomhut,
    subject: 'Sinterklaas',
    body: 'Vrijdag komt de Sint.',
    confirmationRequested: true,
    attachment: { filename: 'brief.pdf', data: Buffer.from('%PDF-1.4\n% brief\ntrailer << >>\n%%EOF\n') },
  }));
  attachmentId = (await portal.em().findOneOrFail(MessageAttachment, { announcement: announcementId })).id;
  // Evi's contract, and what the matrix acts on: an afmelding to undo, a free credit to ask with,
  // a pending request to withdraw and one nobody in the matrix may decide (no manager in it).
  monday = nextMonday(portal.clock.today());
  const contracts = ['ma', 'di', 'wo'].map((d) => `K1;Centrum;Boomhut;${d};hele dag`);
  expect((await importSchedule(em, admin, { source: ['Kindnummer;Locatie;Groep;Dag;Dagdeel', ...contracts].join('\r\n') })).applied).toBe(true);
  const cancel = async (date: string) => await cancelDay(portal.em(), world.actors.anna, { childId: evi, date });
  undoId = (await cancel(monday)).cancellationId;
  swapCreditId = (await cancel(addDays(monday, 1))).credit!.id;
  const forWithdraw = (await cancel(addDays(monday, 2))).credit!.id;
  ({ requestId: withdrawId } = await requestSwap(portal.em(), world.actors.anna, { childId: evi, creditId: forWithdraw, date: addDays(monday, 4) }));
  const forDecide = (await cancel(addDays(monday, 7))).credit!.id;
  ({ requestId: decideId } = await requestSwap(portal.em(), world.actors.anna, { childId: evi, creditId: forDecide, date: addDays(monday, 10) }));
  // An approved swap day, for the parent to call off.
  const forSwapDay = (await cancel(addDays(monday, 14))).credit!.id;
  ({ requestId: swapDayId } = await requestSwap(portal.em(), world.actors.anna, { childId: evi, creditId: forSwapDay, date: addDays(monday, 11) }));
  await decideSwap(portal.em(), portal, admin, swapDayId, { approve: true });
  ({ id: pushId } = await subscribeOwnDevice(portal.em(), world.actors.anna, { ...browserSubscription(), device: 'Telefoon' }));
  tokens.anonymous = undefined;
  for (const [who, person] of Object.entries(PERSON) as [Exclude<Who, 'anonymous'>, Person][]) {
    tokens[who] = await tokenFor(PEOPLE[person]);
  }
  // Suspended after logging in: the token it had must open nothing any more.
  await suspendParent(portal.em(), admin, PEOPLE.bart, 'foto gedeeld op sociale media');
});
afterAll(() => portal?.destroy());

describe('token login', () => {
  it('answers a wrong password and an unknown user alike: 401 with the generic body', async () => {
    const wrong = await login(PEOPLE.anna, 'niet het wachtwoord');
    const unknown = await login('niemand@example.nl', 'niet het wachtwoord');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const a = await wrong.json();
    expect(a).toEqual(await unknown.json());
    expect(a).toEqual({ error: { code: 'unauthenticated', message: 'wrong username or password' } });
  });

  it('brakes after too many failures: 429 with Retry-After, also for the right password', async () => {
    const braked = createApp(portal, { throttle: { accountIp: { points: 2, seconds: 600 } } });
    const ip = '192.0.2.44';
    for (let i = 0; i < 2; i++) expect((await login(PEOPLE.eva, 'fout', braked, ip)).status).toBe(401);
    const res = await login(PEOPLE.eva, PASSWORD, braked, ip);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });

  it('issues a token that is stored only as its hash', async () => {
    const res = await login(PEOPLE.eva);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as { token: string; tokenType: string; expiresAt: string };
    expect(body.tokenType).toBe('Bearer');
    expect(body.token).toMatch(/^opt_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expiresAt) - portal.clock.now().getTime()).toBeGreaterThan(89 * 24 * 3_600_000);
    const rows = (await portal.em().getConnection().execute('select row_to_json(t)::text as row from api_token t')) as { row: string }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.row).not.toContain(body.token.slice(4));
    const mine = await portal.em().findOne(ApiToken, { tokenHash: sha256Hex(body.token) });
    expect(mine?.name).toBe('Test-telefoon');
  });

  it('stops a revoked token (DELETE /session) at once', async () => {
    const token = await tokenFor(PEOPLE.eva);
    expect((await call('GET', '/me', { token })).status).toBe(200);
    expect((await call('DELETE', '/session', { token })).status).toBe(204);
    const res = await call('GET', '/me', { token });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  it("stops a suspended parent's token on the next request, by the per-request check alone", async () => {
    const person = await seedAccount(portal, { email: 'gijs@example.nl', password: PASSWORD });
    const token = await tokenFor(person.email);
    expect((await call('GET', '/me', { token })).status).toBe(200);
    // Straight in the table, past suspendParent (which also revokes): the lookup must refuse by itself.
    await portal.em().nativeUpdate(Account, { id: person.accountId }, { suspendedAt: new Date() });
    expect((await call('GET', '/me', { token })).status).toBe(401);
    // And logging in again says why, to someone who knows the password.
    const again = await login(person.email);
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('account_suspended');
  });

  it('refuses an account that must change its generated password first, with its own code', async () => {
    await seedAccount(portal, { email: 'nieuw@example.nl', password: PASSWORD, mustChange: true });
    const res = await login('nieuw@example.nl');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('password_change_required');
    expect(await portal.em().count(ApiToken, { account: { email: 'nieuw@example.nl' } })).toBe(0);
  });

  it('refuses staff with two-step verification: the app has no second-factor step', async () => {
    await portal.em().nativeUpdate(Account, { email: PEOPLE.hanna }, { totpEnabledAt: new Date() });
    const res = await login(PEOPLE.hanna);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('second_factor_required');
  });

  it('validates the login body: 422 with details per field', async () => {
    const res = await call('POST', '/session', { body: { username: PEOPLE.anna } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
    expect(body.error.code).toBe('validation');
    expect(body.error.details.map((d) => d.path)).toContain('password');
  });

  it('rate-limits each token: 429 with Retry-After once its window is used up', async () => {
    const limited = createApp(portal, { ...LOOSE, apiRateLimit: { points: 3, seconds: 60 } });
    const token = await tokenFor(PEOPLE.cor);
    for (let i = 0; i < 3; i++) expect((await call('GET', '/me', { token, to: limited })).status).toBe(200);
    const res = await call('GET', '/me', { token, to: limited });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another token has its own window.
    expect((await call('GET', '/me', { token: await tokenFor(PEOPLE.cor), to: limited })).status).toBe(200);
  });
});

describe('access to every API route', () => {
  interface Route {
    method: string;
    path: () => string;
    /** The path as the OpenAPI document names it, to prove the matrix covers every operation. */
    spec: string;
    body?: () => unknown;
    /** Uses a token of its own (logging out would spoil the shared ones). */
    ownToken?: boolean;
  }
  const ROUTES = {
    getMe: { method: 'GET', spec: '/me', path: () => '/me' },
    patchMe: { method: 'PATCH', spec: '/me', path: () => '/me', body: () => ({ phone: '06 1234 5678' }) },
    children: { method: 'GET', spec: '/children', path: () => '/children' },
    home: { method: 'GET', spec: '/home', path: () => '/home' },
    album: { method: 'GET', spec: '/children/{child}/photos', path: () => `/children/${evi}/photos` },
    photo: { method: 'GET', spec: '/photos/{id}', path: () => `/photos/${photoId}` },
    image: { method: 'GET', spec: '/photos/{id}/{variant}', path: () => `/photos/${photoId}/thumb` },
    download: { method: 'POST', spec: '/photos/{id}/download', path: () => `/photos/${photoId}/download`, body: () => ({ acceptRules: true }) },
    diary: { method: 'GET', spec: '/children/{child}/diary', path: () => `/children/${evi}/diary` },
    writeDiary: { method: 'POST', spec: '/children/{child}/diary', path: () => `/children/${evi}/diary`, body: () => ({ text: 'Evi heeft een nieuwe knuffel.' }) },
    editDiary: { method: 'PATCH', spec: '/diary-entries/{id}', path: () => `/diary-entries/${entryId}`, body: () => ({ text: 'Opa haalt Evi op.' }) },
    addDiaryItem: { method: 'POST', spec: '/children/{child}/diary-items', path: () => `/children/${evi}/diary-items`, body: () => ({ kind: 'mood', value: 'blij', from: '00:00' }) },
    threads: { method: 'GET', spec: '/threads', path: () => '/threads' },
    messageGroups: { method: 'GET', spec: '/message-groups', path: () => '/message-groups' },
    thread: { method: 'GET', spec: '/threads/{id}', path: () => `/threads/${threadId}` },
    startThread: {
      method: 'POST',
      spec: '/threads',
      path: () => '/threads',
      body: () => ({ groupId: world.groups.boomhut, subject: 'Vraag', body: 'Mag er een traktatie mee?' }),
    },
    reply: { method: 'POST', spec: '/threads/{id}/messages', path: () => `/threads/${threadId}/messages`, body: () => ({ body: 'Dank u wel.' }) },
    announcements: { method: 'GET', spec: '/announcements', path: () => '/announcements' },
    announcement: { method: 'GET', spec: '/announcements/{id}', path: () => `/announcements/${announcementId}` },
    confirm: { method: 'POST', spec: '/announcements/{id}/confirmation', path: () => `/announcements/${announcementId}/confirmation` },
    attachment: { method: 'GET', spec: '/attachments/{id}', path: () => `/attachments/${attachmentId}` },
    faq: { method: 'GET', spec: '/faq', path: () => '/faq' },
    helpdesk: { method: 'POST', spec: '/helpdesk', path: () => '/helpdesk', body: () => ({ subject: 'Inloggen', category: 'inloggen', message: 'Het lukt niet.' }) },
    schedule: { method: 'GET', spec: '/children/{child}/schedule', path: () => `/children/${evi}/schedule` },
    cancel: { method: 'POST', spec: '/children/{child}/cancellations', path: () => `/children/${evi}/cancellations`, body: () => ({ date: addDays(monday, 8) }) },
    undoCancel: { method: 'DELETE', spec: '/cancellations/{id}', path: () => `/cancellations/${undoId}` },
    askSwap: {
      method: 'POST',
      spec: '/children/{child}/swap-requests',
      path: () => `/children/${evi}/swap-requests`,
      body: () => ({ creditId: swapCreditId, date: addDays(monday, 3) }),
    },
    withdrawSwap: { method: 'DELETE', spec: '/swap-requests/{id}', path: () => `/swap-requests/${withdrawId}` },
    cancelSwapDay: { method: 'POST', spec: '/swap-requests/{id}/cancel-day', path: () => `/swap-requests/${swapDayId}/cancel-day` },
    swapRequests: { method: 'GET', spec: '/swap-requests', path: () => '/swap-requests?status=pending' },
    approveSwap: { method: 'POST', spec: '/swap-requests/{id}/approve', path: () => `/swap-requests/${decideId}/approve` },
    rejectSwap: { method: 'POST', spec: '/swap-requests/{id}/reject', path: () => `/swap-requests/${decideId}/reject`, body: () => ({ reason: 'Vol' }) },
    sick: { method: 'GET', spec: '/children/{child}/sick', path: () => `/children/${evi}/sick` },
    reportSick: { method: 'POST', spec: '/children/{child}/sick', path: () => `/children/${evi}/sick`, body: () => ({ note: 'Koorts' }) },
    endSick: { method: 'DELETE', spec: '/children/{child}/sick', path: () => `/children/${evi}/sick` },
    pickup: { method: 'GET', spec: '/children/{child}/pickup', path: () => `/children/${evi}/pickup` },
    setPickup: { method: 'PUT', spec: '/children/{child}/pickup', path: () => `/children/${evi}/pickup`, body: () => ({ name: 'Oma Ria', time: '16:30' }) },
    clearPickup: { method: 'DELETE', spec: '/children/{child}/pickup', path: () => `/children/${evi}/pickup` },
    logout: { method: 'DELETE', spec: '/session', path: () => '/session', ownToken: true },
    actions: { method: 'GET', spec: '/actions/{kind}/{id}', path: () => `/actions/photo/${photoId}` },
    pushSettings: { method: 'GET', spec: '/push/settings', path: () => '/push/settings' },
    setPushSettings: { method: 'PUT', spec: '/push/settings', path: () => '/push/settings', body: () => ({ categories: [], quietFrom: 20, quietUntil: 7 }) },
    pushKey: { method: 'GET', spec: '/push/vapid-key', path: () => '/push/vapid-key' },
    subscribePush: { method: 'POST', spec: '/push/subscriptions', path: () => '/push/subscriptions', body: () => browserSubscription() },
    unsubscribePush: { method: 'DELETE', spec: '/push/subscriptions/{id}', path: () => `/push/subscriptions/${pushId}` },
  } satisfies Record<string, Route>;
  type Name = keyof typeof ROUTES;
  /** Public operations: not behind a token, tested on their own. */
  const PUBLIC = ['POST /session'];

  // 404: refused as not found (the page says the same). Staff get what core gives them: their
  // groups' photos and schriftjes, no parent album (empty), no downloads, no parent writing;
  // their groups' swap requests to plan by (a parent's list is empty), but only a manager decides.
  const MATRIX: Record<Who, Record<Name, number>> = {
    anonymous: { addDiaryItem: 401, sick: 401, reportSick: 401, endSick: 401, pickup: 401, setPickup: 401, clearPickup: 401, getMe: 401, patchMe: 401, children: 401, home: 401, album: 401, photo: 401, image: 401, download: 401, diary: 401, writeDiary: 401, editDiary: 401, threads: 401, messageGroups: 401, thread: 401, startThread: 401, reply: 401, announcements: 401, announcement: 401, confirm: 401, attachment: 401, faq: 401, helpdesk: 401, schedule: 401, cancel: 401, undoCancel: 401, askSwap: 401, withdrawSwap: 401, cancelSwapDay: 401, swapRequests: 401, approveSwap: 401, rejectSwap: 401, logout: 401, actions: 401, pushSettings: 401, setPushSettings: 401, pushKey: 401, subscribePush: 401, unsubscribePush: 401 },
    ownChild: { addDiaryItem: 403, sick: 200, reportSick: 201, endSick: 204, pickup: 200, setPickup: 200, clearPickup: 204, getMe: 200, patchMe: 200, children: 200, home: 200, album: 200, photo: 200, image: 200, download: 200, diary: 200, writeDiary: 201, editDiary: 200, threads: 200, messageGroups: 200, thread: 200, startThread: 201, reply: 201, announcements: 200, announcement: 200, confirm: 200, attachment: 200, faq: 200, helpdesk: 201, schedule: 200, cancel: 201, undoCancel: 204, askSwap: 201, withdrawSwap: 204, cancelSwapDay: 204, swapRequests: 200, approveSwap: 404, rejectSwap: 404, logout: 204, actions: 200, pushSettings: 200, setPushSettings: 200, pushKey: 200, subscribePush: 201, unsubscribePush: 204 },
    sameGroup: { addDiaryItem: 404, sick: 404, reportSick: 404, endSick: 404, pickup: 404, setPickup: 404, clearPickup: 404, getMe: 200, patchMe: 200, children: 200, home: 200, album: 404, photo: 200, image: 200, download: 404, diary: 404, writeDiary: 404, editDiary: 404, threads: 200, messageGroups: 200, thread: 404, startThread: 201, reply: 404, announcements: 200, announcement: 200, confirm: 200, attachment: 200, faq: 200, helpdesk: 201, schedule: 404, cancel: 404, undoCancel: 404, askSwap: 404, withdrawSwap: 404, cancelSwapDay: 404, swapRequests: 200, approveSwap: 404, rejectSwap: 404, logout: 204, actions: 200, pushSettings: 200, setPushSettings: 200, pushKey: 200, subscribePush: 201, unsubscribePush: 404 },
    otherGroup: { addDiaryItem: 404, sick: 404, reportSick: 404, endSick: 404, pickup: 404, setPickup: 404, clearPickup: 404, getMe: 200, patchMe: 200, children: 200, home: 200, album: 404, photo: 404, image: 404, download: 404, diary: 404, writeDiary: 404, editDiary: 404, threads: 200, messageGroups: 200, thread: 404, startThread: 404, reply: 404, announcements: 200, announcement: 404, confirm: 404, attachment: 404, faq: 200, helpdesk: 201, schedule: 404, cancel: 404, undoCancel: 404, askSwap: 404, withdrawSwap: 404, cancelSwapDay: 404, swapRequests: 200, approveSwap: 404, rejectSwap: 404, logout: 204, actions: 200, pushSettings: 200, setPushSettings: 200, pushKey: 200, subscribePush: 201, unsubscribePush: 404 },
    suspended: { addDiaryItem: 401, sick: 401, reportSick: 401, endSick: 401, pickup: 401, setPickup: 401, clearPickup: 401, getMe: 401, patchMe: 401, children: 401, home: 401, album: 401, photo: 401, image: 401, download: 401, diary: 401, writeDiary: 401, editDiary: 401, threads: 401, messageGroups: 401, thread: 401, startThread: 401, reply: 401, announcements: 401, announcement: 401, confirm: 401, attachment: 401, faq: 401, helpdesk: 401, schedule: 401, cancel: 401, undoCancel: 401, askSwap: 401, withdrawSwap: 401, cancelSwapDay: 401, swapRequests: 401, approveSwap: 401, rejectSwap: 401, logout: 401, actions: 401, pushSettings: 401, setPushSettings: 401, pushKey: 401, subscribePush: 401, unsubscribePush: 401 },
    staff: { addDiaryItem: 201, sick: 404, reportSick: 404, endSick: 404, pickup: 404, setPickup: 404, clearPickup: 404, getMe: 200, patchMe: 403, children: 200, home: 200, album: 200, photo: 200, image: 200, download: 404, diary: 200, writeDiary: 403, editDiary: 403, threads: 200, messageGroups: 200, thread: 200, startThread: 404, reply: 201, announcements: 200, announcement: 200, confirm: 404, attachment: 200, faq: 200, helpdesk: 201, schedule: 404, cancel: 404, undoCancel: 404, askSwap: 404, withdrawSwap: 404, cancelSwapDay: 404, swapRequests: 200, approveSwap: 403, rejectSwap: 403, logout: 204, actions: 200, pushSettings: 200, setPushSettings: 200, pushKey: 200, subscribePush: 201, unsubscribePush: 404 },
    otherStaff: { addDiaryItem: 404, sick: 404, reportSick: 404, endSick: 404, pickup: 404, setPickup: 404, clearPickup: 404, getMe: 200, patchMe: 403, children: 200, home: 200, album: 404, photo: 404, image: 404, download: 404, diary: 404, writeDiary: 404, editDiary: 404, threads: 200, messageGroups: 200, thread: 404, startThread: 404, reply: 404, announcements: 200, announcement: 404, confirm: 404, attachment: 404, faq: 200, helpdesk: 201, schedule: 404, cancel: 404, undoCancel: 404, askSwap: 404, withdrawSwap: 404, cancelSwapDay: 404, swapRequests: 200, approveSwap: 404, rejectSwap: 404, logout: 204, actions: 200, pushSettings: 200, setPushSettings: 200, pushKey: 200, subscribePush: 201, unsubscribePush: 404 },
  };

  it('permitted actions: the buttons that will work, and nothing about what the caller may not see', async () => {
    const actionsOf = async (who: Who, kind: string, id: string | number) =>
      ((await (await call('GET', `/actions/${kind}/${id}`, { token: tokens[who] })).json()) as { actions: string[] }).actions;
    expect(await actionsOf('ownChild', 'photo', photoId)).toEqual(['photo.download', 'photo.view']);
    expect(await actionsOf('sameGroup', 'photo', photoId)).toEqual(['photo.view']);
    expect(await actionsOf('otherGroup', 'photo', photoId)).toEqual([]);
    expect(await actionsOf('staff', 'photo', photoId)).toEqual(expect.arrayContaining(['photo.tag', 'photo.view']));
    expect(await actionsOf('staff', 'photo', photoId)).not.toContain('photo.download');
    expect(await actionsOf('otherStaff', 'photo', photoId)).toEqual([]);
    expect(await actionsOf('ownChild', 'thread', threadId)).toEqual(['thread.read', 'thread.reply']);
    expect(await actionsOf('sameGroup', 'thread', threadId)).toEqual([]);
    expect(await actionsOf('sameGroup', 'child', evi)).toEqual([]);
    // A malformed or unknown id is an empty list too, never an error that tells them apart.
    expect(await actionsOf('ownChild', 'photo', 'nonsense')).toEqual([]);
    expect(await actionsOf('ownChild', 'child', 999999)).toEqual([]);
  });

  it('covers every operation of the OpenAPI document', async () => {
    const doc = (await (await call('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = [...Object.values(ROUTES).map((r) => `${r.method} ${r.spec}`), ...PUBLIC];
    expect(documented.sort()).toEqual([...new Set(covered)].sort());
    // And nothing is registered under /api/v1 outside the document (besides the document itself).
    const registered = app.routes
      .filter((r) => r.path.startsWith(`${API_BASE}/`) && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.slice(API_BASE.length).replace(/:(\w+)/g, '{$1}')}`);
    expect([...new Set(registered)].sort()).toEqual([...new Set([...covered, 'GET /openapi.json', 'GET /docs'])].sort());
  });

  for (const who of Object.keys(MATRIX) as Who[]) {
    for (const name of Object.keys(ROUTES) as Name[]) {
      const expected = MATRIX[who][name];
      it(`${who} ${name} → ${expected}`, async () => {
        const route: Route = ROUTES[name];
        const person = who === 'anonymous' ? undefined : PERSON[who];
        const token = route.ownToken && person && who !== 'suspended' ? await tokenFor(PEOPLE[person]) : tokens[who];
        const res = await call(route.method, route.path(), { token, body: route.body?.() });
        expect(res.status).toBe(expected);
        const type = res.headers.get('Content-Type') ?? '';
        if (expected >= 400) {
          // Never a byte of an image, never a redirect or HTML: the error body.
          expect(type).toMatch(/^application\/json/);
          const body = (await res.json()) as { error: { code: string; message: string } };
          expect(body.error.code).toBe({ 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' }[expected]);
          expect(body.error.message).toBeTruthy();
        } else if (name === 'image' || name === 'download') {
          expect(type).toMatch(/^image\//);
        } else if (name === 'attachment') {
          expect(type).toBe('application/pdf');
        } else if (expected !== 204) {
          expect(type).toMatch(/^application\/json/);
          expect(res.headers.get('Cache-Control')).toBe('no-store');
        }
      });
    }
  }
});

describe('what the routes answer', () => {
  it('push: the same use cases as Mijn gegevens, on the token\'s own account only', async () => {
    const key = (await (await call('GET', '/push/vapid-key', { token: tokens.sameGroup })).json()) as { publicKey: string };
    const point = Buffer.from(key.publicKey, 'base64url');
    expect([point.length, point[0]]).toEqual([65, 0x04]);
    // Cor registers the app's web view and chooses; Eva cannot remove Cor's device by its id.
    const added = await call('POST', '/push/subscriptions', { token: tokens.sameGroup, body: { ...browserSubscription(), device: 'Web-app' } });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: number };
    expect((await call('DELETE', `/push/subscriptions/${id}`, { token: tokens.otherGroup })).status).toBe(404);
    const put = await call('PUT', '/push/settings', { token: tokens.sameGroup, body: { categories: ['photos', 'decisions'], quietFrom: 21, quietUntil: 7 } });
    expect(put.status).toBe(200);
    const settings = (await put.json()) as { available: string[]; categories: string[]; quietFrom: number; devices: { id: number; device: string }[] };
    expect(settings.available).toEqual(['photos', 'diary', 'replies', 'announcements', 'decisions']);
    expect(settings.categories).toEqual(['photos', 'decisions']);
    expect(settings.quietFrom).toBe(21);
    expect(settings.devices).toContainEqual(expect.objectContaining({ id, device: 'Web-app' }));
    // Staff choose among their own kinds only; a parent's kind is a 422 with its field.
    const wrong = await call('PUT', '/push/settings', { token: tokens.staff, body: { categories: ['photos'] } });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('categories');
    // An endpoint that points the server at its own network is refused, like on the page.
    const local = await call('POST', '/push/subscriptions', { token: tokens.sameGroup, body: browserSubscription('https://127.0.0.1/x') });
    expect(local.status).toBe(422);
    expect((await call('DELETE', `/push/subscriptions/${id}`, { token: tokens.sameGroup })).status).toBe(204);
    expect(await portal.em().count(PushSubscription, { id })).toBe(0);
  });

  it('the FAQ (a plugin) answers with the questions of the parent\'s location, rules filled in', async () => {
    const res = await call('GET', '/faq?q=ruiltegoed', { token: tokens.ownChild });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sections: { location: { name: string } | null; items: { question: string; answerHtml: string }[] }[] };
    expect(body.sections.map((s) => s.location?.name)).toEqual(['Centrum']);
    expect(body.sections[0]!.items.length).toBeGreaterThan(0);
    expect(body.sections[0]!.items.map((i) => i.answerHtml).join(' ')).toMatch(/8 weken/);
    expect(JSON.stringify(body)).not.toContain('<script');
  });

  it('the helpdesk (a plugin) stores the question under the account\'s own address, whatever the body says', async () => {
    const res = await call('POST', '/helpdesk', {
      token: tokens.ownChild,
      body: { subject: 'Foto', category: 'fotos', message: 'Ik zie geen foto.', fromScreen: '/fotos' },
    });
    expect(res.status).toBe(201);
    const { reference } = (await res.json()) as { reference: string };
    expect(reference).toMatch(/^HD-[0-9A-Z]{6}$/);
    const [row] = await portal.em().getConnection().execute<{ email: string; from_path: string }[]>(
      'select email, from_path from helpdesk_request where reference = ?',
      [reference],
    );
    expect(row).toEqual({ email: PEOPLE.anna, from_path: '/fotos' });
    const typed = await call('POST', '/helpdesk', { token: tokens.ownChild, body: { subject: 'x', category: 'fotos', message: 'y', email: 'ander@example.nl' } });
    expect(typed.status).toBe(422);
  });

  it('pages the album by an opaque cursor, with the same photos as core', async () => {
    const token = tokens.ownChild!;
    const res = await call('GET', `/children/${evi}/photos`, { token });
    const page = (await res.json()) as { items: { id: string; downloadable: boolean }[]; nextCursor: string | null };
    expect(page.items.map((p) => p.id)).toEqual([photoId]);
    expect(page.items[0]!.downloadable).toBe(true);
    expect(page.nextCursor).toBeNull();
    const bad = await call('GET', `/children/${evi}/photos?cursor=bm90LWEtY3Vyc29y`, { token });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('cursor');
  });

  it('downloads with the trace code in a header and the file name, recorded like the page download', async () => {
    const before = await portal.em().count(PhotoDownload, {});
    const res = await call('POST', `/photos/${photoId}/download`, { token: tokens.ownChild, body: { acceptRules: true } });
    expect(res.status).toBe(200);
    const code = res.headers.get('X-Trace-Code')!;
    expect(code).toMatch(/^[0-9A-Z]{7}$/);
    expect(res.headers.get('Content-Disposition')).toContain(code);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await portal.em().count(PhotoDownload, {})).toBe(before + 1);
  });

  it('asks for the spelregels before a first download (422 rules)', async () => {
    // A parent of Evi without any download yet.
    await addParent(portal.em(), admin, { email: 'dirk@example.nl', firstName: 'Dirk', lastName: 'Ouder', children: ['K1'] });
    await accountFor(portal, 'dirk@example.nl', PASSWORD);
    const dirk = await tokenFor('dirk@example.nl');
    const meta = (await (await call('GET', `/photos/${photoId}`, { token: dirk })).json()) as { rulesAcceptanceRequired: boolean };
    expect(meta.rulesAcceptanceRequired).toBe(true);
    const refused = await call('POST', `/photos/${photoId}/download`, { token: dirk });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('rules');
    expect((await call('POST', `/photos/${photoId}/download`, { token: dirk, body: { acceptRules: true } })).status).toBe(200);
  });

  it('serves image variants with the page caching rules, and 304 on a matching ETag', async () => {
    const res = await call('GET', `/photos/${photoId}/display`, { token: tokens.ownChild });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('private, no-cache');
    expect(res.headers.get('Vary')).toContain('Authorization');
    const etag = res.headers.get('ETag')!;
    const again = await call('GET', `/photos/${photoId}/display`, { token: tokens.ownChild, headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect((await call('GET', `/photos/${photoId}/original`, { token: tokens.ownChild })).status).toBe(422);
  });

  it("the display variant is each parent's own traced copy, as on the photo page; the thumbnail is shared", async () => {
    const anna = await call('GET', `/photos/${photoId}/display`, { token: tokens.ownChild });
    const cor = await call('GET', `/photos/${photoId}/display`, { token: tokens.sameGroup });
    expect([anna.status, cor.status]).toEqual([200, 200]);
    const annaBytes = Buffer.from(await anna.arrayBuffer());
    const corBytes = Buffer.from(await cor.arrayBuffer());
    expect(annaBytes.equals(corBytes)).toBe(false);
    expect(anna.headers.get('ETag')).not.toBe(cor.headers.get('ETag'));
    expect(await traceDownload(portal.em(), admin, { file: annaBytes })).toMatchObject({ kind: 'view', email: PEOPLE.anna, photoId });
    expect(await traceDownload(portal.em(), admin, { file: corBytes })).toMatchObject({ kind: 'view', email: PEOPLE.cor, photoId });
    // The page serves Anna the same copy: one trace code per parent and photo.
    const again = await call('GET', `/photos/${photoId}/display`, { token: tokens.ownChild });
    expect(Buffer.from(await again.arrayBuffer()).equals(annaBytes)).toBe(true);
    expect(await portal.em().count(PhotoView, { photoRef: photoId, email: PEOPLE.anna })).toBe(1);
    const thumbs = await Promise.all([tokens.ownChild, tokens.sameGroup].map((token) => call('GET', `/photos/${photoId}/thumb`, { token })));
    expect(thumbs[0]!.headers.get('ETag')).toBe(thumbs[1]!.headers.get('ETag'));
    expect((await call('GET', `/photos/${photoId}/display`, { token: tokens.otherGroup })).status).toBe(404);
  });

  it('changes details with the same validation as mijn gegevens', async () => {
    const token = await tokenFor(PEOPLE.eva);
    const bad = await call('PATCH', '/me', { token, body: { postalCode: 'nope!', street: 'Dorpsstraat 1' } });
    expect(bad.status).toBe(422);
    const paths = ((await bad.json()) as { error: { details: { path: string; message: string }[] } }).error.details;
    expect(paths).toEqual(expect.arrayContaining([{ path: 'postalCode', message: 'invalid' }, { path: 'city', message: 'incomplete' }]));
    const ok = await call('PATCH', '/me', { token, body: { street: 'Dorpsstraat 1', postalCode: '1234ab', city: 'Ergens' } });
    expect(ok.status).toBe(200);
    const me = (await ok.json()) as { postalCode: string; firstName: string };
    expect(me.postalCode).toBe('1234 AB');
    expect(me.firstName).toBe('Eva');
  });

  it('reads the schriftje by day and writes an entry for today', async () => {
    const token = tokens.ownChild!;
    const written = await call('POST', `/children/${evi}/diary`, { token, body: { text: 'Evi neemt morgen een tas mee.' } });
    expect(written.status).toBe(201);
    const page = (await (await call('GET', `/children/${evi}/diary`, { token })).json()) as {
      items: { day: string; entries: { text: string }[] }[];
      nextCursor: string | null;
    };
    expect(page.items[0]!.entries.map((e) => e.text)).toContain('Evi neemt morgen een tas mee.');
    const empty = await call('POST', `/children/${evi}/diary`, { token, body: { text: '' } });
    expect(empty.status).toBe(422);
    // Changing one's own entry: with the version one edited, and 409 when it changed meanwhile.
    const entry = (await written.json()) as { id: string; version: number };
    const changed = await call('PATCH', `/diary-entries/${entry.id}`, { token, body: { text: 'Evi neemt twee tassen mee.', version: entry.version } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { version: number }).version).toBe(entry.version + 1);
    const stale = await call('PATCH', `/diary-entries/${entry.id}`, { token, body: { text: 'Toch één tas.', version: entry.version } });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('conflict');
  });

  it('sends and reads messages in a thread', async () => {
    const token = tokens.ownChild!;
    const res = await call('POST', `/threads/${threadId}/messages`, { token, body: { body: 'Vanavond gaat het vast beter.' } });
    expect(res.status).toBe(201);
    const thread = (await res.json()) as { messages: { body: string; ownSide: boolean }[] };
    expect(thread.messages.at(-1)).toMatchObject({ body: 'Vanavond gaat het vast beter.', ownSide: true });
    const list = (await (await call('GET', '/threads', { token })).json()) as { items: { id: string }[]; nextCursor: null };
    expect(list.items.map((t) => t.id)).toContain(threadId);
    expect(list.nextCursor).toBeNull();
  });
});

describe('errors, caching and CSRF', () => {
  it('answers unknown routes with a JSON 404, also outside v1', async () => {
    for (const path of [`${API_BASE}/bestaat-niet`, '/api/v2/me', '/api/']) {
      const res = await app.request(`http://localhost${path}`, { headers: { Authorization: `Bearer ${tokens.ownChild}` } });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });

  it('answers malformed JSON with a 422 JSON body', async () => {
    const res = await call('POST', `/children/${evi}/diary`, { token: tokens.ownChild, raw: '{"text": ' });
    expect(res.status).toBe(422);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation');
  });

  it('answers a body over the limit as JSON too', async () => {
    const res = await call('POST', '/session', { raw: JSON.stringify({ username: 'x', password: 'y'.repeat(2 * 1024 * 1024) }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('marks private JSON no-store and keeps the security headers', async () => {
    const res = await call('GET', '/me', { token: tokens.ownChild });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Content-Security-Policy')).toBeTruthy();
    expect(res.headers.get('Set-Cookie')).toBeNull();
  });

  it('needs no cookie or CSRF token for a POST with a bearer token, even cross-site', async () => {
    const res = await call('POST', `/threads/${threadId}/messages`, {
      token: tokens.ownChild,
      body: { body: 'Vanuit de app.' },
      headers: { Origin: 'https://elders.example', 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(res.status).toBe(201);
  });

  it('refuses a POST that carries only the web session cookie (and its CSRF token): 401, no redirect', async () => {
    const browser = new TestBrowser(app, { 'X-Forwarded-For': nextIp() });
    expect((await browser.login(PEOPLE.anna, PASSWORD)).status).toBe(303);
    const before = await portal.em().count(ApiToken, {});
    const res = await browser.request(`${API_BASE}/threads/${threadId}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': browser.csrf ?? '' },
      body: JSON.stringify({ body: 'Via de cookie.' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('Location')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    const get = await browser.get(`${API_BASE}/me`);
    expect(get.status).toBe(401);
    expect(await portal.em().count(ApiToken, {})).toBe(before);
  });
});

describe('OpenAPI document and reference', () => {
  it('is OpenAPI 3.1 with every operation and the bearer scheme', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      security: unknown[];
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    expect(doc.openapi.startsWith('3.1')).toBe(true);
    expect(doc.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const path of ['/session', '/me', '/children', '/home', '/children/{child}/photos', '/photos/{id}', '/photos/{id}/{variant}', '/photos/{id}/download', '/children/{child}/diary', '/threads', '/threads/{id}', '/threads/{id}/messages', '/announcements', '/message-groups']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    // The bearer requirement once, at the top; only logging in says it needs none.
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/me']!['get']!.security).toBeUndefined();
    expect(doc.paths['/session']!['post']!.security).toEqual([]);
  });

  it('has a readable reference page listing every operation, without scripts', async () => {
    const res = await app.request(`http://localhost${API_BASE}/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('POST /api/v1/session');
    expect(html).toContain('GET /api/v1/children/{child}/photos');
    expect(html).toContain('DELETE /api/v1/session');
    // Only the login is marked as needing no token (the rest inherit the document's requirement).
    expect(html.match(/no token needed/g)).toHaveLength(1);
    expect(html).toContain('<code>startThread</code>');
    expect(html).toContain('POST /api/v1/swap-requests/{id}/approve');
    // Every area of the website is in the API now: no empty "not yet" heading.
    expect(html).not.toContain('Not yet in the API');
    expect(html).toContain('Helpdesk');
    expect(html).not.toContain('<script');
  });

  it('lists areas not yet in the API while there are any', () => {
    const page = renderDocs({ title: 'T', version: '1', base: API_BASE, paths: {}, notYet: ['Iets <nieuws>'] });
    expect(page).toContain('Not yet in the API');
    expect(page).toContain('Iets &lt;nieuws&gt;');
  });
});

describe('well-known', () => {
  it('tells an app the name, languages and API base', async () => {
    const res = await app.request('http://localhost/.well-known/ouderportaal.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({
      name: 'Kinderopvang De Boomgaard',
      logoUrl: null,
      accentColour: null,
      languages: ['nl', 'en'],
      defaultLanguage: 'nl',
      api: 'https://ouders.example.nl/api/v1',
      apiVersion: '1.0.0',
      reference: 'https://ouders.example.nl/api/v1/docs',
    });
  });
});

describe('Mijn gegevens: app logins', () => {
  it('lists the devices and signs one out', async () => {
    const token = await tokenFor(PEOPLE.eva);
    const row = await portal.em().findOneOrFail(ApiToken, { tokenHash: sha256Hex(token) });
    const browser = new TestBrowser(app, { 'X-Forwarded-For': nextIp() });
    expect((await browser.login(PEOPLE.eva, PASSWORD)).status).toBe(303);
    const page = await (await browser.get('/mijn-gegevens')).text();
    expect(page).toContain('Test-telefoon');
    expect(page).toContain(`/mijn-gegevens/apps/${row.id}/afmelden`);
    const res = await browser.post(`/mijn-gegevens/apps/${row.id}/afmelden`, {}, { visit: '/mijn-gegevens' });
    expect(res.status).toBe(303);
    expect((await call('GET', '/me', { token })).status).toBe(401);
    expect(await (await browser.get('/mijn-gegevens')).text()).toContain('Het apparaat is afgemeld');
  });

  it("cannot sign out someone else's device", async () => {
    const annaToken = await tokenFor(PEOPLE.anna);
    const row = await portal.em().findOneOrFail(ApiToken, { tokenHash: sha256Hex(annaToken) });
    const browser = new TestBrowser(app, { 'X-Forwarded-For': nextIp() });
    expect((await browser.login(PEOPLE.eva, PASSWORD)).status).toBe(303);
    expect((await browser.post(`/mijn-gegevens/apps/${row.id}/afmelden`, {}, { visit: '/mijn-gegevens' })).status).toBe(303);
    expect((await call('GET', '/me', { token: annaToken })).status).toBe(200);
  });
});

describe('paging by cursor', () => {
  /** Every page of a list, two at a time, following nextCursor to the end. */
  async function allPages(path: string, token: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call('GET', `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(2);
      ids.push(...body.items.map((i) => i.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 50);
    return { ids, pages };
  }

  it('threads and announcements: two at a time gives the whole list once, in order, also for equal times', async () => {
    const token = tokens.ownChild!;
    for (let i = 0; i < 4; i++) {
      await startThread(portal.em(), portal, world.actors.anna, { groupId: world.groups.boomhut, subject: `Vraag ${i}`, body: 'Een vraag.' });
      await sendAnnouncement(portal.em(), portal, world.actors.mia, { groupId: world.groups.boomhut, subject: `Nieuws ${i}`, body: 'Nieuws.' });
    }
    // Two rows with the very same time, to the microsecond: the id decides, and neither is lost at a page break.
    await portal.em().getConnection().execute(
      `update message_thread set last_message_at = (select min(last_message_at) from message_thread where subject like 'Vraag %')
        where subject in ('Vraag 1', 'Vraag 2')`,
    );
    await portal.em().getConnection().execute(
      `update announcement set created_at = (select min(created_at) from announcement where subject like 'Nieuws %')
        where subject in ('Nieuws 1', 'Nieuws 2')`,
    );
    for (const path of ['/threads', '/announcements']) {
      const whole = (await (await call('GET', `${path}?limit=100`, { token })).json()) as { items: { id: string }[]; nextCursor: null };
      expect(whole.items.length, path).toBeGreaterThanOrEqual(5);
      expect(whole.nextCursor).toBeNull();
      const paged = await allPages(path, token);
      expect(paged.ids, path).toEqual(whole.items.map((i) => i.id));
      expect(paged.pages, path).toBe(Math.ceil(whole.items.length / 2));
    }
  });

  it('refuses a cursor it did not make and a page size out of range, as 422 with a field', async () => {
    const token = tokens.ownChild!;
    for (const query of ['cursor=bm9nIGVlbiBrZWVy', 'cursor=%3Cscript%3E', 'limit=0', 'limit=101']) {
      const res = await call('GET', `/threads?${query}`, { token });
      expect(res.status, query).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code, query).toBe('validation');
    }
  });
});

describe('sending an attachment from the app', () => {
  const PDF = Buffer.from('%PDF-1.4\n% verslag van de huisarts\ntrailer << >>\n%%EOF\n');
  const multipart = (fields: Record<string, string | Blob>, fileName = 'verslag.pdf') => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (v instanceof Blob) form.append(k, v, fileName);
      else form.append(k, v);
    }
    return form;
  };
  const post = (path: string, body: FormData | string | undefined, type?: string) =>
    app.request(`http://localhost${API_BASE}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokens.ownChild}`, 'X-Forwarded-For': '203.0.113.7', ...(type ? { 'Content-Type': type } : {}) },
      body,
    });
  type ThreadBody = { id: string; messages: { body: string; attachments: { id: string; filename: string; contentType: string; size: number }[] }[] };

  it('a reply and a new thread take one file as multipart/form-data; the file reads back byte for byte', async () => {
    const reply = await post(`/threads/${threadId}/messages`, multipart({ body: 'Hierbij het verslag.', attachment: new Blob([PDF], { type: 'application/pdf' }) }));
    expect(reply.status).toBe(201);
    const last = ((await reply.json()) as ThreadBody).messages.at(-1)!;
    expect(last.body).toBe('Hierbij het verslag.');
    expect(last.attachments).toEqual([{ id: expect.any(String), filename: 'verslag.pdf', contentType: 'application/pdf', size: PDF.length }]);
    const file = await call('GET', `/attachments/${last.attachments[0]!.id}`, { token: tokens.ownChild });
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PDF);

    const started = await post('/threads', multipart({ groupId: String(world.groups.boomhut), subject: 'Allergie', body: 'Zie de brief.', attachment: new Blob([PDF]) }, 'brief.pdf'));
    expect(started.status).toBe(201);
    expect(((await started.json()) as ThreadBody).messages[0]!.attachments.map((a) => a.filename)).toEqual(['brief.pdf']);
    // Without a file, multipart is just the fields.
    expect((await post(`/threads/${threadId}/messages`, multipart({ body: 'Alleen tekst.' }))).status).toBe(201);
  });

  it('refuses a file that is not a PDF or image, a body of another type, and writes nothing', async () => {
    const count = async () => (await portal.em().getConnection().execute<{ n: number }[]>('select count(*)::int as n from message'))[0]!.n;
    const before = await count();
    const html = new Blob(['<html><script>alert(1)</script></html>'], { type: 'application/pdf' });
    const refused = await post(`/threads/${threadId}/messages`, multipart({ body: 'Kijk eens', attachment: html }));
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string; details: { path: string }[] } }).error).toMatchObject({ code: 'validation', details: [{ path: 'attachment' }] });
    expect((await post(`/threads/${threadId}/messages`, multipart({ attachment: new Blob([PDF]) }))).status).toBe(422);
    expect((await post(`/threads/${threadId}/messages`, 'body=hallo', 'text/plain')).status).toBe(415);
    // A string body is text/plain to fetch: 415 too. No body at all: the fields are missing, 422.
    expect((await post(`/threads/${threadId}/messages`, '')).status).toBe(415);
    const empty = await post(`/threads/${threadId}/messages`, undefined);
    expect(empty.status).toBe(422);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('validation');
    expect(await count()).toBe(before);
  });

  it('documents both bodies in the OpenAPI document', async () => {
    const doc = (await (await call('GET', '/openapi.json')).json()) as { paths: Record<string, { post?: { requestBody: { content: Record<string, unknown> } } }> };
    for (const path of ['/threads', '/threads/{id}/messages']) {
      expect(Object.keys(doc.paths[path]!.post!.requestBody.content).sort(), path).toEqual(['application/json', 'multipart/form-data']);
    }
  });
});

describe('a thread is about one child', () => {
  /** Cor has Sam and Ties in Boomhut; Dirk is Sam's other parent only, Femke Ties's (test/thread-child.ts). */
  let f: TwinFamily;
  let cor: string;
  let dirk: string;
  let femke: string;
  type Started = { id: string; childName: string; childReview: boolean };
  type Problem = { error: { code: string; details: { path: string; message: string }[] } };

  beforeAll(async () => {
    f = await seedTwinFamily(portal);
    [cor, dirk, femke] = await Promise.all([tokenFor(PEOPLE.cor), tokenFor(FAMILY.dirk), tokenFor(FAMILY.femke)]);
  });

  it('lists the children to choose from per group', async () => {
    const { items } = (await (await call('GET', '/message-groups', { token: cor })).json()) as { items: { groupId: number; childOptions: { id: number; name: string }[] }[] };
    expect(items.find((g) => g.groupId === world.groups.boomhut)!.childOptions).toEqual([
      { id: f.children.sam, firstName: 'Sam', name: 'Sam Jansen' },
      { id: f.children.ties, firstName: 'Ties', name: 'Ties Jansen' },
    ]);
  });

  it('without childId where the parent has two children in the group: 422 on childId; a child not theirs: 404', async () => {
    const none = await call('POST', '/threads', { token: cor, body: { groupId: world.groups.boomhut, subject: 'Medicijnen', body: 'Antibiotica.' } });
    expect(none.status).toBe(422);
    expect(((await none.json()) as Problem).error).toMatchObject({ code: 'validation', details: [{ path: 'childId' }] });
    const foreign = await call('POST', '/threads', { token: cor, body: { groupId: world.groups.boomhut, childId: f.children.evi, subject: 'x', body: 'y' } });
    expect(foreign.status).toBe(404);
    // One child in the group (Lot in Zolder): no childId needed.
    const one = await call('POST', '/threads', { token: cor, body: { groupId: world.groups.zolder, subject: 'Lot', body: 'Tekst' } });
    expect(one.status).toBe(201);
    expect(((await one.json()) as Started).childName).toBe('Lot Jansen');
  });

  it('about Ties: Femke reads it; Dirk gets 404 and does not find it in his list', async () => {
    const res = await call('POST', '/threads', {
      token: cor,
      body: { groupId: world.groups.boomhut, childId: f.children.ties, subject: 'Ties: medicijnen', body: 'Ties krijgt antibiotica.' },
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as Started;
    expect(started).toMatchObject({ childName: 'Ties Jansen', childReview: false });
    expect((await call('GET', `/threads/${started.id}`, { token: femke })).status).toBe(200);
    expect((await call('GET', `/threads/${started.id}`, { token: dirk })).status).toBe(404);
    expect((await call('POST', `/threads/${started.id}/messages`, { token: dirk, body: { body: 'En Sam?' } })).status).toBe(404);
    const list = (await (await call('GET', '/threads', { token: dirk })).json()) as { items: { id: string }[] };
    expect(list.items.map((t) => t.id)).not.toContain(started.id);
  });

  it('a stored thread that may be about either child is 404 for Dirk and Femke, open to Cor', async () => {
    const id = await storeAmbiguousThread(portal, world, f);
    expect((await call('GET', `/threads/${id}`, { token: dirk })).status).toBe(404);
    expect((await call('GET', `/threads/${id}`, { token: femke })).status).toBe(404);
    const own = await call('GET', `/threads/${id}`, { token: cor });
    expect(own.status).toBe(200);
    expect(((await own.json()) as Started).childReview).toBe(true);
    const list = (await (await call('GET', '/threads', { token: dirk })).json()) as { items: { id: string }[] };
    expect(list.items.map((t) => t.id)).not.toContain(id);
  });

  it('documents childId on the start-thread operation', async () => {
    const doc = (await (await call('GET', '/openapi.json')).json()) as {
      paths: Record<string, { post?: { description?: string } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    expect(doc.paths['/threads']!.post!.description).toMatch(/childId/);
    expect(doc.components.schemas['NewThread']!.properties).toHaveProperty('childId');
    expect(doc.components.schemas['NewThread']!.required).not.toContain('childId');
  });
});
