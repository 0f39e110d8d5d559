/**
 * How fast the parent's pages are on a slow phone, beside their ceiling in the same run:
 *   - data: a location, a group, a parent of two children, today's schriftje entries and 36
 *     photos (real JPEGs through the upload pipeline, tagged and published);
 *   - ours: home (/), the album (/fotos) and a photo page (/fotos/<id>) of the portal's real
 *     server (http/server.ts), logged in as the parent; every load cold: a fresh browser context
 *     (empty cache, no service worker, new connections);
 *   - ceiling: the same page's HTML as the server sent it (stylesheet inline already), minus
 *     scripts, images and other links, served as one Brotli'd static file by a bare node:http
 *     server: what one round trip costs on that connection;
 *   Chromium (/usr/bin/chromium via playwright-core) under two throttling profiles applied
 *   through the DevTools protocol: DevTools' "Slow 3G" preset (2,000 ms latency, 50,000 B/s each
 *   way) and, labelled as such, Lighthouse's mobile profile settings with DevTools throttling
 *   (150 ms RTT, 1,638.4 kbps down, 675 kbps up); 4x CPU slowdown and a 412x823 phone at DPR
 *   1.75 for both. Per page: LCP (PerformanceObserver 'largest-contentful-paint', buffered) and
 *   bytes over the wire (Network.loadingFinished encodedDataLength, headers included), all and
 *   "before photos" (every response but images); medians of N loads, ours and ceiling
 *   interleaved, with p99 and max.
 *
 *   npx tsx bench/pages.ts [--runs 3] [--profile slow3g|lighthouse|both] [--pages home,album,photo] [--waterfall] [--reuse DATABASE_URL]
 *   (--waterfall: every response of the last load of each page, when asked, first byte, done)
 *   (PORTAL_DATABASE_URL=… for a PostgreSQL server; without it an embedded one in a temporary folder)
 *
 * Targets (issue 17, Slow 3G): home LCP <= 2.5 s, album <= 4.5 s, photo <= 4.5 s; home <= 25 KB
 * before photos (headers and htmx included).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';
import { cliAdmin } from '../core/actor.ts';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { saveStaffEntry } from '../core/diary/entries.ts';
import { Child } from '../core/entities/child.ts';
import { Group } from '../core/entities/group.ts';
import { Staff } from '../core/entities/staff.ts';
import { tagPhoto } from '../core/photos/tagging.ts';
import { processUploadedPhoto, uploadPhoto } from '../core/photos/upload.ts';
import type { Actor } from '../core/actor.ts';
import { accountFor } from '../http/testing.ts';
import { startServer } from '../http/server.ts';
import { texturedPhoto } from '../test/pictures.ts';
import { benchPortal } from './planning-export.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    profile: { type: 'string', default: 'both' },
    reuse: { type: 'string' },
    waterfall: { type: 'boolean', default: false },
    pages: { type: 'string', default: 'home,album,photo' },
  },
});
const RUNS = Number(values.runs);

/** The same as e2e/harness.ts's CHROMIUM_ARGS (importing that module pulls in vitest). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'];
const CHROMIUM = process.env['PORTAL_E2E_CHROMIUM'] ?? '/usr/bin/chromium';
const PASSWORD = 'een lange zin als wachtwoord';
const PHOTOS = 36;

interface Profile {
  name: string;
  label: string;
  latency: number;
  /** Bytes per second. */
  down: number;
  up: number;
  cpu: number;
}

const PROFILES: Record<string, Profile> = {
  slow3g: { name: 'slow3g', label: "DevTools' Slow 3G preset (2,000 ms, 50,000 B/s each way), 4x CPU", latency: 2000, down: 50_000, up: 50_000, cpu: 4 },
  lighthouse: {
    name: 'lighthouse',
    label: 'Lighthouse mobile profile settings, DevTools throttling (150 ms RTT, 1,638.4 kbps down, 675 kbps up), 4x CPU',
    latency: 150,
    down: (1638.4 * 1024) / 8,
    up: (675 * 1024) / 8,
    cpu: 4,
  },
};

/** Issue 17's targets, under Slow 3G. */
const TARGETS: Record<string, { lcp: number; bytesBeforePhotos?: number }> = {
  home: { lcp: 2500, bytesBeforePhotos: 25_000 },
  album: { lcp: 4500 },
  photo: { lcp: 4500 },
};

const PHONE = { viewport: { width: 412, height: 823 }, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true, locale: 'nl-NL' };

interface Load {
  lcp: number;
  /** The LCP element: its image URL, or its tag for text. */
  lcpElement: string;
  bytes: number;
  beforePhotos: number;
  requests: number;
  /** Every response: what it was, when asked (ms from the page's request), first byte, done, bytes. */
  waterfall: { url: string; priority: string; asked: number; headers: number; done: number; bytes: number }[];
}

/** One cold load of `url` in a fresh context under `profile`. */
async function coldLoad(browser: Browser, url: string, profile: Profile, cookies: Parameters<Browser['newContext']>[0]): Promise<Load> {
  const context = await browser.newContext({ ...PHONE, ...cookies, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: profile.latency,
      downloadThroughput: profile.down,
      uploadThroughput: profile.up,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
    const types = new Map<string, string>();
    const asked = new Map<string, { url: string; priority: string; at: number; headers: number }>();
    const waterfall: Load['waterfall'] = [];
    let origin: number | undefined;
    let bytes = 0;
    let beforePhotos = 0;
    let requests = 0;
    // CDP timestamps are seconds on a monotonic clock; the page's own request is 0.
    const ms = (t: number) => Math.round((t - (origin ?? t)) * 1000);
    cdp.on('Network.requestWillBeSent', (e) => {
      origin ??= e.timestamp;
      asked.set(e.requestId, { url: e.request.url, priority: e.request.initialPriority, at: ms(e.timestamp), headers: Number.NaN });
    });
    cdp.on('Network.responseReceived', (e) => {
      types.set(e.requestId, e.type);
      const a = asked.get(e.requestId);
      if (a) a.headers = ms(e.timestamp);
    });
    cdp.on('Network.loadingFinished', (e) => {
      requests++;
      bytes += e.encodedDataLength;
      if (types.get(e.requestId) !== 'Image') beforePhotos += e.encodedDataLength;
      const a = asked.get(e.requestId);
      if (a) waterfall.push({ url: new URL(a.url).pathname, priority: a.priority, asked: a.at, headers: a.headers, done: ms(e.timestamp), bytes: e.encodedDataLength });
    });
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    await page.waitForLoadState('networkidle', { timeout: 120_000 });
    const { lcp, lcpElement } = await page.evaluate(
      () =>
        new Promise<{ lcp: number; lcpElement: string }>((resolve) => {
          new PerformanceObserver((list) => {
            // Node's types (this file's lib) know no browser entry types; it runs in Chromium.
            const last = list.getEntries().at(-1) as { startTime: number; url?: string; element?: { tagName: string } | null } | undefined;
            const url = last?.url ? new URL(last.url).pathname : '';
            resolve({ lcp: last?.startTime ?? Number.NaN, lcpElement: url || (last?.element?.tagName.toLowerCase() ?? '?') });
          }).observe({ type: 'largest-contentful-paint' as never, buffered: true });
          setTimeout(() => resolve({ lcp: Number.NaN, lcpElement: '?' }), 5000);
        }),
    );
    return { lcp, lcpElement, bytes, beforePhotos, requests, waterfall };
  } finally {
    await context.close();
  }
}

/** The page as one static file: its HTML with the inline stylesheet, without scripts, images and other links. */
function ceilingFile(html: string): Buffer {
  const bare = html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '')
    .replace(/<link\b[^>]*>/g, '')
    .replace(/<img\b[^>]*>/g, '')
    .replace(/<source\b[^>]*>/g, '');
  return brotliCompressSync(Buffer.from(bare), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
}

function staticServer(files: Map<string, Buffer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    // The portal's own policy minus what a static file does not need; the inline style is allowed as in the portal.
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Encoding': 'br', 'Cache-Control': 'no-store' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)]!;
const max = (xs: number[]) => Math.max(...xs);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kb = (b: number) => `${(b / 1000).toFixed(1)} KB`;

async function seed(portal: Awaited<ReturnType<typeof benchPortal>>['portal']): Promise<string> {
  const em = portal.em();
  const admin = cliAdmin('bench');
  await initOrganisation(em, admin, { name: 'Kinderopvang De Zonnebloem', publicUrl: 'http://127.0.0.1', helpdeskEmail: 'help@example.nl' });
  await addLocation(em, admin, { name: 'Centrum', phone: '045 123 45 67' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  const since = addDays(portal.clock.today(), -30);
  for (const [n, first] of [
    ['K1', 'Evi'],
    ['K2', 'Finn'],
  ] as const) {
    await addChild(em, admin, { childNumber: n, firstName: first, lastName: 'Jansen', birthDate: '2023-05-01', group: 'Boomhut', startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  await addParent(em, admin, { email: 'anna@example.nl', firstName: 'Anna', lastName: 'Jansen', children: ['K1', 'K2'] });
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Bakker', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  await accountFor(portal, 'anna@example.nl', PASSWORD);
  const mia: Actor = { kind: 'staff', staffId: (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id, label: 'mia' };
  const group = await em.findOneOrFail(Group, { name: 'Boomhut' });
  let last = '';
  for (let i = 0; i < PHOTOS; i++) {
    // Camera-like 4:3 pictures, as big as a phone's resized upload.
    const data = await texturedPhoto((i * 37) % 360, { width: 2000, height: 1500, quality: 85 });
    const { photoId } = await uploadPhoto(portal.em(), portal, mia, { groupId: group.id, caption: `Spelen in de zandbak ${i + 1}`, data });
    await processUploadedPhoto(portal, photoId);
    await tagPhoto(portal.em(), mia, photoId, { childNumbers: i % 3 === 0 ? ['K1', 'K2'] : ['K1'] });
    last = photoId;
  }
  for (const number of ['K1', 'K2']) {
    const child = await em.findOneOrFail(Child, { childNumber: number });
    await saveStaffEntry(portal.em(), mia, portal.config.diary, child.id, {
      text: 'Vandaag goed gespeeld in de zandbak en samen een toren gebouwd. Lekker gegeten en een uur geslapen. Bij het ophalen vrolijk.',
    });
  }
  return last;
}

async function main() {
  const { db, portal } = await benchPortal(values.reuse);
  const server = await startServer(portal, { port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let ceiling: { url: string; server: Server } | undefined;
  try {
    const photoId = await seed(portal);
    // Log in once, unthrottled; every cold load starts from these cookies only.
    const login = await browser.newContext({ ...PHONE, baseURL: server.url });
    const page = await login.newPage();
    await page.goto('/login');
    await page.getByLabel('E-mailadres').fill('anna@example.nl');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    const state = { storageState: await login.storageState() };
    const pages = { home: '/', album: '/fotos', photo: `/fotos/${photoId}` };
    const files = new Map<string, Buffer>();
    for (const [name, path] of Object.entries(pages)) {
      const res = await login.request.get(`${server.url}${path}`);
      files.set(`/${name}`, ceilingFile(await res.text()));
    }
    await login.close();
    ceiling = await staticServer(files);

    const chosen = values.profile === 'both' ? ['slow3g', 'lighthouse'] : [values.profile!];
    for (const key of chosen) {
      const profile = PROFILES[key];
      if (!profile) throw new Error(`unknown profile ${key}`);
      console.log(`\n${profile.label}; 412x823 at DPR 1.75; ${RUNS} cold loads each, interleaved with the ceiling`);
      for (const [name, path] of Object.entries(pages).filter(([n]) => values.pages!.split(',').includes(n))) {
        const ours: Load[] = [];
        const bare: Load[] = [];
        for (let i = 0; i < RUNS; i++) {
          ours.push(await coldLoad(browser, `${server.url}${path}`, profile, state));
          bare.push(await coldLoad(browser, `${ceiling.url}/${name}`, profile, {}));
        }
        const lcp = ours.map((l) => l.lcp);
        const lcpBare = bare.map((l) => l.lcp);
        const target = TARGETS[name]!;
        const lcpNote = key === 'slow3g' ? ` (target <= ${s(target.lcp)}: ${median(lcp) <= target.lcp ? 'met' : 'NOT met'})` : '';
        const byteNote =
          key === 'slow3g' && target.bytesBeforePhotos
            ? ` (target <= ${kb(target.bytesBeforePhotos)}: ${median(ours.map((l) => l.beforePhotos)) <= target.bytesBeforePhotos ? 'met' : 'NOT met'})`
            : '';
        console.log(
          [
            `${name.padEnd(6)} ${path}`,
            `  LCP      median ${s(median(lcp))}, p99 ${s(p99(lcp))}, max ${s(max(lcp))}${lcpNote}`,
            `  ceiling  median ${s(median(lcpBare))}, p99 ${s(p99(lcpBare))}, max ${s(max(lcpBare))} (one static file, ${kb(median(bare.map((l) => l.bytes)))} over the wire)`,
            `  ratio    ${(median(lcp) / median(lcpBare)).toFixed(2)}x the ceiling`,
            `  bytes    ${kb(median(ours.map((l) => l.bytes)))} in ${median(ours.map((l) => l.requests))} responses; before photos ${kb(median(ours.map((l) => l.beforePhotos)))}${byteNote}`,
            `  LCP is   ${[...new Set(ours.map((l) => l.lcpElement))].join(', ')}`,
          ].join('\n'),
        );
        if (values.waterfall) {
          // The last load's responses in the order they were asked for: what shared the link with what.
          const last = ours.at(-1)!;
          for (const r of [...last.waterfall].sort((a, b) => a.asked - b.asked)) {
            console.log(`    ${String(r.asked).padStart(6)} ${String(r.headers).padStart(6)} ${String(r.done).padStart(6)} ms ${kb(r.bytes).padStart(9)} ${r.priority.padEnd(8)} ${r.url}`);
          }
          console.log(`    (asked, first byte, done; LCP ${s(last.lcp)})`);
        }
      }
    }
  } finally {
    await browser.close();
    ceiling?.server.close();
    await server.close();
    await portal.close();
    await db.drop().catch(() => {});
  }
}

await main();
