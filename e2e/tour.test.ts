import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../core/actor.ts';
import { sha256Hex } from '../core/auth/tokens.ts';
import { addDays } from '../core/dates.ts';
import { addDiaryItems } from '../core/diary/items.ts';
import { saveStaffEntry, writeParentEntry } from '../core/diary/entries.ts';
import { setConsent } from '../core/directory/consent.ts';
import { Account, PasswordResetToken, RecoveryCode } from '../core/entities/account.ts';
import { EmailChange } from '../core/entities/profile.ts';
import { sendAnnouncement } from '../core/messages/announcements.ts';
import { replyToThread, startThread } from '../core/messages/threads.ts';
import { downloadPhoto } from '../core/photos/downloads.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import { setPickup } from '../core/pickup/pickup.ts';
import { unsubscribeToken } from '../core/profile/notifications.ts';
import { cancelDay } from '../core/schedule/cancel.ts';
import { reportSick } from '../core/schedule/sick.ts';
import { requestSwap } from '../core/schedule/swaps.ts';
import { publishSlots } from '../core/talks/slots.ts';
import { createApp } from '../http/app.ts';
import { PASSWORD, PEOPLE } from '../test/messages.ts';
import { admin } from '../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E, submitLogin } from './harness.ts';
import { jpeg } from './photo-world.ts';

/**
 * The tour: every page of the portal (public, parent, staff, location manager) at 360, 768 and
 * 1280 px in Chromium, with state on it (photos, an album with a child switcher, swap credits and
 * a pending request, downloads, schriftje, threads, an announcement, a sick report and a pickup).
 * Each stop: the expected status, axe clean, no CSP violation, nothing wider than the viewport,
 * and a full-page screenshot `tour-<role>-<page>-<width>`. Then the part that keeps it honest:
 * every GET route of the app is either visited or named in NOT_PAGES with a reason, so a page
 * added later without a place in the tour fails here.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 240_000;
const WIDTHS = [
  { width: 360, height: 780 },
  { width: 768, height: 1024 },
  { width: 1280, height: 800 },
] as const;

/**
 * GET routes that are no page to look at, by route pattern (a trailing `*`: every route under
 * it). Everything else the app answers with GET must be a stop of the tour.
 */
const NOT_PAGES: readonly (readonly [pattern: string, reason: string])[] = [
  ['/api/v1/*', 'the app API: JSON for the apps (its HTML reference, /api/v1/docs, is toured)'],
  ['/.well-known/ouderportaal.json', 'JSON for the apps: where the API is'],
  ['/healthz', 'health check for the load balancer (text)'],
  ['/readyz', 'readiness check (text)'],
  ['/assets/*', 'static: stylesheet and scripts'],
  ['/icons/*', 'static: icons'],
  ['/favicon.ico', 'static: icon'],
  ['/favicon.svg', 'static: icon'],
  ['/apple-touch-icon.png', 'static: icon'],
  ['/apple-touch-icon-precomposed.png', 'static: icon'],
  ['/sw.js', 'static: the service worker'],
  ['/manifest.webmanifest', 'JSON: the web manifest'],
  ['/fotos/:id/status', "htmx fragment: one photo's row while it is processed"],
  ['/fotos/:id/klein', 'image: thumbnail'],
  ['/fotos/:id/groot', 'image: display size'],
  ['/fotos/:id/:file{(?:480|768|1024|1600)\\.(?:avif|webp|jpg)}', 'image: a responsive variant'],
  ['/mijn-gegevens/gegevens/:token', "download: the parent's data export (zip)"],
  ['/berichten/bijlage/:id', "download: a message's attachment"],
  ['/locatie', 'redirect to /locatie/ruilverzoeken'],
  ['/agenda/:file', "text/calendar: a parent's calendar feed, for calendar apps (e2e/calendar-feed.test.ts)"],
];

/** Reports CSP violations to the page (installed before any of the page's own code runs). */
const WATCH_CSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

type Role = 'public' | 'parent' | 'staff' | 'manager';

interface Stop {
  name: string;
  /** Where to go; absent: the page the browser is on (reached by a form, e.g. the login's second step). */
  path?: string;
  status?: number;
  /** The path the browser ends on after redirects, when not `path` itself. */
  landsOn?: string;
}

/** A route pattern of Hono (`:id`, `:file{regex}`, `*`) as an anchored regular expression. */
function routeRegex(pattern: string): RegExp {
  const parts = pattern.split(/(:\w+(?:\{[^}]*\})?|\*)/);
  const source = parts
    .map((part) => {
      if (part === '*') return '.*';
      const param = /^:\w+(?:\{([^}]*)\})?$/.exec(part);
      if (param) return param[1] ? `(?:${param[1]})` : '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

describe.skipIf(!hasChromium)('the tour: every page at three widths', () => {
  let e2e: E2E;
  let w: ScheduleWorld;
  /** Paths the browser was answered with a page (status < 400), redirects included. */
  const visited = new Set<string>();
  /** Screenshots per role and width. */
  const shots = new Map<string, number>();
  const tours = {} as Record<Role, Stop[]>;
  const recovery = ['tour-aaaa-bbbb-0001', 'tour-aaaa-bbbb-0002', 'tour-aaaa-bbbb-0003'];

  beforeAll(async () => {
    e2e = await startE2E();
    w = await seedScheduleWorld(e2e.portal, { publicUrl: e2e.baseUrl });
    const portal = e2e.portal;
    const em = portal.em();
    const { anna, cor, mia, hanna } = w.actors;
    for (const n of ['K1', 'K2', 'K3']) await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });

    // Photos: Evi and Sam, Sam alone (Boomhut), Lot (Zolder); two in Boomhut still to tag.
    const photo = async (who: Actor, groupId: number, hue: number, tags?: string[]) => {
      const data = readFileSync(await jpeg(join(portal.dataDir, `tour-${hue}.jpg`), hue));
      const { photoId } = await uploadPhoto(em, portal, who, { groupId, data, caption: tags ? 'Buiten spelen in de zandbak' : null });
      await processUploadedPhoto(portal, photoId);
      if (tags) await tagPhoto(portal.em(), who, photoId, { childNumbers: tags });
      return photoId;
    };
    const both = await photo(mia, w.groups.boomhut, 30, ['K1', 'K2']);
    const samAlone = await photo(mia, w.groups.boomhut, 200, ['K2']);
    await photo(hanna, w.groups.zolder, 120, ['K3']);
    const untagged = [await photo(mia, w.groups.boomhut, 280), await photo(mia, w.groups.boomhut, 330)];
    // Anna downloads the photo with Sam in it: Cor sees it under "downloads of my children".
    await downloadPhoto(em, portal, anna, both, { ip: '127.0.0.1', rulesAccepted: true });

    // The schriftje: Mia's entry for Sam with a nap, a meal and the photo; Cor's own answer.
    await saveStaffEntry(em, mia, portal.config.diary, w.children.sam, { text: 'Sam heeft met klei gespeeld en buiten gefietst.', photoIds: [samAlone] });
    await addDiaryItems(em, mia, [w.children.sam], { kind: 'sleep', from: '08:15', to: '09:00' });
    await addDiaryItems(em, mia, [w.children.sam], { kind: 'meal', value: 'goed', from: '09:30', detail: 'fruit' });
    const own = await writeParentEntry(em, cor, w.children.sam, { text: 'Oma haalt vandaag op.' });

    // Messages: Cor asks the group about Sam, Mia answers; Hanna announces to the location.
    const { threadId } = await startThread(em, portal, cor, { groupId: w.groups.boomhut, childId: w.children.sam, subject: 'Slaapje', body: 'Heeft Sam goed geslapen?' });
    await replyToThread(em, portal, mia, threadId, { body: 'Ja, drie kwartier.' });
    const { announcementId } = await sendAnnouncement(em, portal, hanna, { locationId: w.locations.centrum, subject: 'Zomerfeest', body: 'Vrijdag vieren we het zomerfeest.', confirmationRequested: true });
    // Two times for oudergesprekken tomorrow in Boomhut, for the parent's and the staff's talk pages.
    await publishSlots(em, mia, { groupId: w.groups.boomhut, date: addDays(portal.clock.today(), 1), from: '15:00', count: 2, minutes: 15, place: 'Kantoor' });

    // Today: Evi is ill, Opa Jan picks Sam up. Sam's Monday and Tuesday are cancelled: one
    // credit asks for Thursday (pending), one is left.
    await reportSick(em, anna, { childId: w.children.evi, note: 'Koorts' });
    await setPickup(em, cor, { childId: w.children.sam, name: 'Opa Jan', relation: 'opa', time: '16:45' });
    const first = await cancelDay(em, cor, { childId: w.children.sam, date: w.monday });
    await cancelDay(em, cor, { childId: w.children.sam, date: addDays(w.monday, 1) });
    await requestSwap(em, cor, { childId: w.children.sam, creditId: first.credit!.id, date: addDays(w.monday, 3) });

    // Links from mails (stored as their hashes, as the mail worker would) and Hanna's second factor.
    const later = new Date(portal.clock.now().getTime() + 3_600_000);
    const annaAccount = await em.findOneOrFail(Account, { email: PEOPLE.anna });
    const resetToken = 'r'.repeat(43);
    const emailToken = 'e'.repeat(43);
    em.create(PasswordResetToken, { tokenHash: sha256Hex(resetToken), account: annaAccount, expiresAt: later });
    em.create(EmailChange, { account: annaAccount, oldEmail: PEOPLE.anna, newEmail: 'anna.nieuw@example.nl', tokenHash: sha256Hex(emailToken), expiresAt: later });
    const hannaAccount = await em.findOneOrFail(Account, { email: PEOPLE.hanna });
    hannaAccount.totpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    hannaAccount.totpEnabledAt = portal.clock.now();
    for (const code of recovery) em.create(RecoveryCode, { account: hannaAccount, codeHash: sha256Hex(code.replace(/-/g, '')) });
    await em.flush();
    const unsubscribe = await unsubscribeToken(em, (anna as Extract<Actor, { kind: 'parent' }>).parentId);

    const sent = { name: 'helpdesk-sent', path: '/p/helpdesk/verstuurd?ref=HD-ABCDEF' };
    const common = [
      { name: 'profile', path: '/mijn-gegevens' },
      { name: 'password-change', path: '/wachtwoord-wijzigen' },
      { name: 'faq', path: '/p/faq' },
      { name: 'help', path: '/help', landsOn: '/p/helpdesk' },
    ];
    tours.public = [
      { name: 'login', path: '/login' },
      { name: 'forgot-password', path: '/wachtwoord-vergeten' },
      { name: 'help', path: '/help', landsOn: '/p/helpdesk' },
      sent,
      { name: 'reset-password', path: `/wachtwoord-herstellen/${resetToken}` },
      { name: 'reset-invalid', path: `/wachtwoord-herstellen/${'x'.repeat(43)}`, status: 410 },
      { name: 'email-confirm', path: `/e-mailadres-bevestigen/${emailToken}` },
      { name: 'unsubscribe', path: `/uitschrijven/${unsubscribe}` },
      { name: 'offline', path: '/offline' },
      { name: 'api-docs', path: '/api/v1/docs' },
    ];
    const { sam, lot } = w.children;
    tours.parent = [
      { name: 'home', path: '/' },
      { name: 'more', path: '/meer' },
      { name: 'album', path: '/fotos' },
      { name: 'album-lot', path: `/fotos?kind=${lot}` },
      { name: 'photo', path: `/fotos/${both}` },
      { name: 'rules', path: '/spelregels' },
      { name: 'diary', path: '/schriftje' },
      { name: 'diary-sam', path: `/schriftje/kind/${sam}` },
      { name: 'diary-entry', path: `/schriftje/stukje/${own.id}` },
      { name: 'messages', path: '/berichten' },
      { name: 'message-new', path: '/berichten/nieuw' },
      { name: 'thread', path: `/berichten/gesprek/${threadId}` },
      { name: 'announcement', path: `/berichten/mededeling/${announcementId}` },
      { name: 'swaps', path: `/ruilen?kind=${sam}` },
      { name: 'sick-report', path: `/kind/${sam}/ziek` },
      { name: 'pickup', path: `/kind/${sam}/ophalen` },
      { name: 'talks', path: '/gesprekken' },
      { name: 'yearbook', path: `/kind/${sam}/herinneringenboek` },
      { name: 'downloads', path: '/mijn-gegevens/downloads' },
      { name: 'email-change', path: '/mijn-gegevens/e-mailadres' },
      { name: 'my-location', path: '/mijn-vestiging' },
      { name: 'not-found', path: '/bestaat-niet', status: 404 },
      ...common,
      sent,
    ];
    const staffPages: Stop[] = [
      // Vandaag: staff's home (/vandaag is the same page, toured for the manager's second group).
      { name: 'home', path: '/' },
      { name: 'photos', path: '/fotos' },
      { name: 'batch-tagging', path: `/fotos/taggen?groep=${w.groups.boomhut}&fotos=${untagged.join(',')}` },
      { name: 'tag-sheet', path: `/fotos/${both}/taggen` },
      { name: 'diary-group', path: '/schriftje' },
      { name: 'diary-child', path: `/schriftje/kind/${sam}` },
      { name: 'messages', path: '/berichten' },
      { name: 'inbox-group', path: `/berichten/groep/${w.groups.boomhut}` },
      { name: 'thread', path: `/berichten/gesprek/${threadId}` },
      { name: 'announcement-new', path: '/berichten/mededeling/nieuw' },
      { name: 'announcement', path: `/berichten/mededeling/${announcementId}` },
      { name: 'my-location', path: '/mijn-vestiging' },
      { name: 'mentor-children', path: '/mentorkinderen' },
      { name: 'talk-groups', path: '/gesprekken' },
      { name: 'talk-group', path: `/gesprekken/groep/${w.groups.boomhut}` },
      // Mia has no second factor yet: the page sets one up.
      { name: 'second-factor-enrol', path: '/tweestapsverificatie' },
      ...common,
    ];
    tours.staff = staffPages;
    // The manager's own pages; what she shares with staff (threads, tagging…) the staff tour shows.
    tours.manager = [
      { name: 'second-factor-check' },
      { name: 'home', path: '/' },
      { name: 'today-zolder', path: `/vandaag?groep=${w.groups.zolder}` },
      { name: 'swap-requests', path: '/locatie/ruilverzoeken' },
      { name: 'mentors', path: '/mentoren' },
      { name: 'messages', path: '/berichten' },
      { name: 'announcement-new', path: '/berichten/mededeling/nieuw' },
      { name: 'announcement-confirmations', path: `/berichten/mededeling/${announcementId}/bevestigingen` },
      { name: 'photos', path: '/fotos' },
      { name: 'diary-group', path: '/schriftje' },
      { name: 'second-factor-status', path: '/tweestapsverificatie' },
      { name: 'profile', path: '/mijn-gegevens' },
    ];
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  /** One stop: status, CSP, overflow and axe; what fails is collected, not thrown, so one run lists it all. */
  async function visit(page: Page, role: Role, width: number, stop: Stop, problems: string[], suffix = ''): Promise<void> {
    const label = `${role} ${stop.name}${suffix} at ${width}`;
    try {
      if (stop.path !== undefined) {
        const response = await page.goto(stop.path);
        const status = response?.status();
        if (status !== (stop.status ?? 200)) problems.push(`${label}: status ${status}, expected ${stop.status ?? 200}`);
        const at = new URL(page.url()).pathname;
        const expected = stop.landsOn ?? stop.path.split('?')[0];
        if (at !== expected) problems.push(`${label}: ended on ${at}, expected ${expected}`);
      }
      const csp = (await page.evaluate('window.__csp')) as string[];
      if (csp.length) problems.push(`${label}: CSP violations ${csp.join(', ')}`);
      const scrollWidth = (await page.evaluate('document.scrollingElement.scrollWidth')) as number;
      if (scrollWidth > width) problems.push(`${label}: ${scrollWidth} px wide in a ${width} px viewport`);
      await checkA11y(page, label);
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    }
    // Lazy images below the fold would be blank in a full-page screenshot: load them first.
    await page.evaluate(`Promise.all([...document.images].map((img) => {
      img.loading = 'eager';
      return img.complete ? undefined : new Promise((done) => { img.onload = img.onerror = done; });
    }))`);
    await screenshot(page, `tour-${role}-${stop.name}${suffix}-${width}`);
    const key = `${role} at ${width}`;
    shots.set(key, (shots.get(key) ?? 0) + 1);
  }

  /** A role's whole tour at one width, in its own context; dark mode once more at 360. */
  async function tourAt(role: Role, viewport: { width: number; height: number }, problems: string[]): Promise<void> {
    const { context, page } = await newPage(e2e, viewport);
    await context.addInitScript(WATCH_CSP);
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame() && response.status() < 400) {
        visited.add(new URL(response.url()).pathname);
      }
    });
    try {
      const stops = tours[role];
      if (role === 'parent') await logInAs(page, PEOPLE.cor, PASSWORD);
      if (role === 'staff') await logInAs(page, PEOPLE.mia, PASSWORD);
      if (role === 'manager') {
        // Hanna has a second factor: the check page is the login's second step (one recovery code per width).
        await page.goto('/login');
        await submitLogin(page, PEOPLE.hanna, PASSWORD);
        await page.waitForURL((url) => url.pathname === '/tweestapsverificatie/controle');
        await visit(page, role, viewport.width, stops[0]!, problems);
        await page.getByLabel('Code', { exact: true }).fill(recovery[WIDTHS.findIndex((v) => v.width === viewport.width)]!);
        await page.getByRole('button', { name: 'Doorgaan' }).click();
        await page.waitForURL((url) => url.pathname === '/');
      }
      for (const stop of stops) if (stop.path !== undefined) await visit(page, role, viewport.width, stop, problems);
      if (viewport.width === 360) {
        await page.emulateMedia({ colorScheme: 'dark' });
        await visit(page, role, viewport.width, stops.find((s) => s.path !== undefined)!, problems, '-dark');
      }
    } finally {
      await context.close();
    }
  }

  for (const role of ['public', 'parent', 'staff', 'manager'] as const) {
    it(
      `${role}: every page at 360, 768 and 1280 px`,
      async () => {
        const problems: string[] = [];
        // The three widths at once: one browser, a context each.
        await Promise.all(WIDTHS.map((viewport) => tourAt(role, viewport, problems)));
        expect(problems).toEqual([]);
        for (const { width } of WIDTHS) {
          const pages = tours[role].length + (width === 360 ? 1 : 0);
          expect(shots.get(`${role} at ${width}`), `${role} at ${width}`).toBe(pages);
        }
      },
      TIMEOUT,
    );
  }

  it('every GET route of the app is a stop of the tour or named in NOT_PAGES', () => {
    const app = createApp(e2e.portal, { publicUrl: e2e.baseUrl });
    // Registration order: where two patterns match (/fotos/taggen and /fotos/:id) the first answers.
    const routes = [...new Set(app.routes.filter((r) => r.method === 'GET').map((r) => r.path))];
    const matchers = routes.map((path) => ({ path, re: routeRegex(path) }));
    const covered = new Set<string>();
    for (const path of visited) {
      const route = matchers.find((m) => m.re.test(path));
      if (route) covered.add(route.path);
    }
    const excluded = (route: string) =>
      NOT_PAGES.some(([pattern]) => (pattern.endsWith('*') ? route.startsWith(pattern.slice(0, -1)) : route === pattern));
    const missing = routes.filter((r) => !covered.has(r) && !excluded(r));
    expect(missing, 'pages without a stop in the tour (add one, or name the route in NOT_PAGES with a reason)').toEqual([]);
    // NOT_PAGES names routes that exist: a renamed route cannot leave a stale excuse behind.
    const stale = NOT_PAGES.filter(([pattern]) => !routes.some((r) => (pattern.endsWith('*') ? r.startsWith(pattern.slice(0, -1)) : r === pattern)));
    expect(stale).toEqual([]);
    // The tour itself reached the pages it meant to (a sanity check on the bookkeeping above).
    expect(covered.size).toBeGreaterThan(30);
  });
});
