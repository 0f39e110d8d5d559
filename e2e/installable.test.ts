import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, checkA11y, type E2E, hasChromium, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * The portal as an app on the home screen, in a real Chromium: the DevTools protocol finds no
 * reason it could not be installed, the service worker registers, and with the network gone a
 * navigation shows the offline page (from the worker's cache) instead of the browser's error.
 * The offline page is photographed at phone, tablet and desktop width and checked with axe.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;

describe.skipIf(!hasChromium)('installing the portal', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it(
    'is installable, registers its service worker, and shows the offline page without a network',
    async () => {
      // A profile on disk: Chromium never offers to install from an incognito context, which is
      // what the harness's browser.newContext() gives.
      const profile = mkdtempSync(join(tmpdir(), 'portal-installable-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        baseURL: e2e.baseUrl,
        viewport: { width: 360, height: 780 },
        locale: 'nl-NL',
        colorScheme: 'light',
      });
      const page = context.pages()[0] ?? (await context.newPage());
      try {
        await page.goto('/login');
        // The worker is installed (shell pre-cached) and active.
        const scriptUrl = (await page.evaluate("navigator.serviceWorker.ready.then((r) => r.active?.scriptURL ?? '')")) as string;
        expect(new URL(scriptUrl).pathname).toBe('/sw.js');

        const cdp = await context.newCDPSession(page);
        const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
          installabilityErrors: { errorId: string }[];
        };
        expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
        const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
        expect(new URL(manifest.url).pathname).toBe('/manifest.webmanifest');
        expect(manifest.errors).toEqual([]);

        // The worker caches nothing but the shell: no page (not even the login page) is in it.
        // (Strings, not functions: the tests are compiled without the DOM's types.)
        const cached = (await page.evaluate(
          '(async () => { const urls = []; for (const key of await caches.keys()) for (const req of await (await caches.open(key)).keys()) urls.push(new URL(req.url).pathname); return urls; })()',
        )) as string[];
        expect(cached).toContain('/offline');
        expect(cached.filter((u) => !u.startsWith('/assets/') && !u.startsWith('/icons/') && u !== '/offline')).toEqual([]);

        await context.setOffline(true);
        await page.goto('/fotos');
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Geen internetverbinding');
        expect(await page.getByRole('heading', { level: 2 }).textContent()).toBe('No internet connection');
        // The stylesheet came from the cache: the header has its background colour.
        const styled = (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
        expect(styled).not.toBe('rgba(0, 0, 0, 0)');
        for (const width of [360, 768, 1280]) {
          await page.setViewportSize({ width, height: 800 });
          await screenshot(page, `installable-offline-${width}`);
        }
        await checkA11y(page, 'offline page');
        await context.setOffline(false);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
});
