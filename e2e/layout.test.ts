import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyToThread, startThread } from '../core/messages/threads.ts';
import { PASSWORD, PEOPLE, type MessageWorld, seedMessageWorld } from '../test/messages.ts';
import { checkA11y, type E2E, hasChromium, logInAs, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * The layout in Chromium at 360, 768 and 1280 px: text pages keep a readable measure, wide pages
 * (album, staff screens) use the room a desktop has, the unread count in the navigation never
 * covers its label, axe finds nothing, and the inlined stylesheet passes the strict CSP by its
 * hash alone (no 'unsafe-inline': an injected <style> is refused and reported).
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 300_000;
const WIDTHS = [
  { width: 360, height: 780 },
  { width: 768, height: 1024 },
  { width: 1280, height: 800 },
] as const;
const REM = 16;
/** The text measure (portal.css .page): 38rem including the page's own side padding. */
const TEXT_MAX = 38 * REM;
const WIDE_MAX = 72 * REM;

const PARENT_PAGES = [
  ['home', '/'],
  ['more', '/meer'],
  ['profile', '/mijn-gegevens'],
  ['messages', '/berichten'],
  ['diary', '/schriftje'],
  ['my-location', '/mijn-vestiging'],
  ['help', '/help'],
] as const;

/** Collects CSP violations the page reports (installed before any of the page's own code runs). */
const WATCH_CSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__csp')) as string[];
}

/** The boxes of the "Berichten" label's text and of its count, or undefined without a count. */
async function badgeAndLabel(page: Page): Promise<{ label: DOMRectLike; badge: DOMRectLike } | undefined> {
  // A string, not a function: the tests are compiled without the DOM's types.
  return (await page.evaluate(`(() => {
    const badge = document.querySelector('.main-nav .nav-count');
    if (!badge) return undefined;
    const link = badge.closest('a');
    const text = [...link.childNodes].find((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    const range = document.createRange();
    range.selectNodeContents(text);
    const box = (r) => ({ left: r.left, right: r.right, top: r.top, bottom: r.bottom });
    return { label: box(range.getBoundingClientRect()), badge: box(badge.getBoundingClientRect()) };
  })()`)) as { label: DOMRectLike; badge: DOMRectLike } | undefined;
}

interface DOMRectLike {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const overlaps = (a: DOMRectLike, b: DOMRectLike) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * The harness's page, but with service workers blocked: a navigation answered through the worker
 * shows Playwright the worker's response, without the server's headers, and this test is about
 * what the server sends. (The worker passes navigations to the network untouched.)
 */
async function layoutPage(e2e: E2E, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await e2e.browser.newContext({
    baseURL: e2e.baseUrl,
    viewport,
    locale: 'nl-NL',
    colorScheme: 'light',
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
    serviceWorkers: 'block',
  });
  await context.addInitScript(WATCH_CSP);
  return { context, page: await context.newPage() };
}

async function mainWidth(page: Page): Promise<number> {
  return await page.locator('main').evaluate((el) => el.getBoundingClientRect().width);
}

describe.skipIf(!hasChromium)('the layout at three widths', () => {
  let e2e: E2E;
  let world: MessageWorld;
  beforeAll(async () => {
    e2e = await startE2E();
    world = await seedMessageWorld(e2e.portal, { publicUrl: e2e.baseUrl });
    // An unread reply for Anna, so "Berichten" carries a count.
    const { threadId } = await startThread(e2e.portal.em(), e2e.portal, world.actors.anna, {
      groupId: world.groups.boomhut,
      subject: 'Ophalen vrijdag',
      body: 'Vrijdag haalt oma Evi op.',
    });
    await replyToThread(e2e.portal.em(), e2e.portal, world.actors.mia, threadId, { body: 'Dank u, genoteerd.' });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    "a parent's pages: a readable measure, the count beside its label, axe clean, no CSP violation",
    async () => {
      for (const viewport of WIDTHS) {
        const { context, page } = await layoutPage(e2e, viewport);
        try {
          await logInAs(page, PEOPLE.anna, PASSWORD);
          for (const [name, path] of PARENT_PAGES) {
            const response = await page.goto(path);
            expect(response?.status(), path).toBe(200);
            // The strict CSP: the inline stylesheet is allowed by its hash, nothing inline else.
            // One inline stylesheet, applied (the nav's look comes from it), and nothing refused.
            expect(await page.locator('head style').count()).toBe(1);
            expect(await page.evaluate("getComputedStyle(document.querySelector('.main-nav')).display")).toBe('block');
            expect(await cspViolations(page), `${path} at ${viewport.width}`).toEqual([]);

            expect(await mainWidth(page), `${path} at ${viewport.width}`).toBeLessThanOrEqual(Math.min(TEXT_MAX, viewport.width) + 0.5);
            // Help is a public page (also before login): it has the navigation but not the count.
            const boxes = await badgeAndLabel(page);
            if (path !== '/help') {
              expect(boxes, `a count beside Berichten on ${path}`).toBeDefined();
              expect(overlaps(boxes!.label, boxes!.badge), `count over its label on ${path} at ${viewport.width}`).toBe(false);
              // The count stays inside the bar, on screen.
              expect(boxes!.badge.left).toBeGreaterThanOrEqual(0);
              expect(boxes!.badge.right).toBeLessThanOrEqual(viewport.width);
            }

            await checkA11y(page, `${name} at ${viewport.width}`);
            await screenshot(page, `layout-${name}-${viewport.width}`);
          }
          // The album is a wide page: at 1280 it uses more than the text measure, up to 72rem.
          await page.goto('/fotos');
          const album = await mainWidth(page);
          if (viewport.width >= 1280) {
            expect(album).toBeGreaterThan(TEXT_MAX + REM);
            expect(album).toBeLessThanOrEqual(WIDE_MAX + 0.5);
          } else {
            expect(album).toBeLessThanOrEqual(viewport.width);
          }
          await checkA11y(page, `album at ${viewport.width}`);
          await screenshot(page, `layout-album-${viewport.width}`);
        } finally {
          await context.close();
        }
      }
    },
    TIMEOUT,
  );

  it(
    'staff: the start page and the wide staff screens',
    async () => {
      for (const viewport of WIDTHS) {
        const { context, page } = await layoutPage(e2e, viewport);
        try {
          await logInAs(page, PEOPLE.mia, PASSWORD);
          await checkA11y(page, `staff home at ${viewport.width}`);
          await screenshot(page, `layout-staff-home-${viewport.width}`);
          expect(await cspViolations(page)).toEqual([]);
          for (const [name, path] of [
            ['staff-photos', '/fotos'],
            ['staff-messages', '/berichten'],
          ] as const) {
            await page.goto(path);
            const width = await mainWidth(page);
            if (viewport.width >= 1280) expect(width, path).toBeGreaterThan(TEXT_MAX + REM);
            expect(width, path).toBeLessThanOrEqual(Math.min(WIDE_MAX, viewport.width) + 0.5);
            await checkA11y(page, `${name} at ${viewport.width}`);
            await screenshot(page, `layout-${name}-${viewport.width}`);
          }
        } finally {
          await context.close();
        }
      }
    },
    TIMEOUT,
  );

  it(
    'the CSP allows the inline stylesheet by its hash, never by unsafe-inline',
    async () => {
      for (const viewport of WIDTHS) {
        const { context, page } = await layoutPage(e2e, viewport);
        try {
          for (const path of ['/login', '/help']) {
            // The header as the server sends it (Playwright's view of a navigation's headers
            // leaves it out), the stylesheet as the browser parsed it.
            const csp = (await fetch(`${e2e.baseUrl}${path}`)).headers.get('content-security-policy') ?? '';
            await page.goto(path);
            expect(csp).toContain("default-src 'self'");
            expect(csp).not.toContain('unsafe-inline');
            const styles = (await page.locator('head style').allTextContents()) as string[];
            expect(styles).toHaveLength(1);
            const hash = `'sha256-${createHash('sha256').update(styles[0]!, 'utf8').digest('base64')}'`;
            expect(/style-src ([^;]*)/.exec(csp)?.[1]?.split(' ')).toContain(hash);
            expect(await page.evaluate("getComputedStyle(document.querySelector('.site-header')).display")).toBe('flex');
            expect(await cspViolations(page), `${path} at ${viewport.width}`).toEqual([]);
            await checkA11y(page, `${path} at ${viewport.width}`);
            await screenshot(page, `layout-${path.slice(1)}-${viewport.width}`);
          }
        } finally {
          await context.close();
        }
      }
    },
    TIMEOUT,
  );

  // Over @hono/node-server a compressed logged-in page once arrived without the security headers
  // (CSP, no-store, X-Frame-Options…): see http/middleware/compression.ts and
  // http/real-server-headers.test.ts.
  it(
    'a logged-in page carries the CSP header',
    async () => {
      const { context, page } = await layoutPage(e2e, WIDTHS[0]);
      try {
        await logInAs(page, PEOPLE.anna, PASSWORD);
        const cookie = (await context.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
        const response = await fetch(`${e2e.baseUrl}/meer`, { headers: { cookie, accept: 'text/html' } });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-security-policy') ?? '').toContain("default-src 'self'");
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );

  it(
    'an injected <style> is refused and reported: the hash allows our stylesheet only',
    async () => {
      const { context, page } = await layoutPage(e2e, WIDTHS[0]);
      try {
        await page.goto('/login');
        const before = await page.evaluate('getComputedStyle(document.body).backgroundColor');
        // What an attacker who got markup past the escaping would try.
        await page.evaluate(`(() => {
          const s = document.createElement('style');
          s.textContent = 'body { background: rgb(255, 0, 0) !important; }';
          document.head.append(s);
        })()`);
        await page.waitForFunction('window.__csp.length > 0');
        expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe(before);
        expect((await cspViolations(page)).join('\n')).toMatch(/^style-src/);
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
