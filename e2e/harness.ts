import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { simpleParser } from 'mailparser';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import { startAccountMailWorker } from '../core/mail/account-mail-worker.ts';
import { type RunningServer, startServer } from '../http/server.ts';
import { admin, createTestPortal, TEST_NOW, type TestPortal } from '../test/portal.ts';
import { FixedClock } from '../core/clock.ts';

/**
 * The browser harness: Debian's Chromium driven by playwright-core (no downloaded browser), a
 * real server on a free port over a fresh database, the account-mail worker, and axe-core on
 * every page a journey visits. Later issues add their journeys beside accounts.test.ts.
 */

export const CHROMIUM = process.env['PORTAL_E2E_CHROMIUM'] ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** How every journey starts Chromium: in a container (no sandbox, no GPU, small /dev/shm), quiet on the network. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'];
export const SKIP_REASON = `e2e: no Chromium at ${CHROMIUM} (apt-get install chromium, or set PORTAL_E2E_CHROMIUM); browser tests skipped`;

/** WCAG 2.2 AA, as UI.md promises. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;

/** Where screenshots go: outside the repository. */
export const SHOTS = process.env['PORTAL_E2E_SHOTS'] ?? '/tmp/ouderportaal-e2e';

export interface E2E {
  portal: TestPortal;
  server: RunningServer;
  baseUrl: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startE2E(options: { organisation?: string; flags?: Record<string, unknown> } = {}): Promise<E2E> {
  // A browser journey runs in real time: the clock starts at the tests' instant and runs on.
  const portal = await createTestPortal(options.flags, { clock: new FixedClock(TEST_NOW, { running: true }) });
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    // No organisation URL yet: the app is built for plain http on localhost.
    server = await startServer(portal, { port: 0, host: '127.0.0.1' });
    // Links in mails point at this server.
    await initOrganisation(portal.em(), admin, {
      name: options.organisation ?? 'Kinderopvang De Zonnebloem',
      publicUrl: server.url,
      helpdeskEmail: 'helpdesk@example.nl',
    });
    await startAccountMailWorker(portal);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    await browser?.close();
    await server?.close();
    await portal.destroy();
    throw err;
  }
  const running = server;
  const open = browser;
  return {
    portal,
    server: running,
    baseUrl: running.url,
    browser: open,
    close: async () => {
      await open.close();
      await running.close();
      await portal.destroy();
    },
  };
}

export async function newPage(
  e2e: E2E,
  viewport: { width: number; height: number },
  options: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await e2e.browser.newContext({
    baseURL: e2e.baseUrl,
    viewport,
    locale: 'nl-NL',
    colorScheme: options.colorScheme ?? 'light',
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
  });
  const page = await context.newPage();
  // A page's scripts come after its load event (scriptsLoaded): each navigation a test makes here
  // also waits for them, so a key press or an htmx swap right after it is what the test means.
  for (const name of ['goto', 'reload', 'goBack', 'goForward', 'waitForURL'] as const) {
    const navigate = page[name].bind(page) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(page, {
      [name]: async (...args: unknown[]) => {
        const result = await navigate(...args);
        await scriptsLoaded(page);
        return result;
      },
    });
  }
  return { context, page };
}

/** Fills in the login form on the page that shows it and submits it (Dutch labels). */
export async function submitLogin(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('E-mailadres').fill(email);
  await page.getByLabel('Wachtwoord', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Inloggen' }).click();
}

/**
 * Waits until the page's scripts (htmx, the page's own) have run: the layout's loader
 * (views/static/load-scripts.js) adds them after the load event, which is when page.goto and
 * waitForURL return, and marks <html data-scripts="loaded"> when the last one has run. Call it
 * before using something htmx does (a swap without a page load); without it a click may still
 * be a plain link or form, which works too but is not what such a test checks.
 */
export async function scriptsLoaded(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  // Strings: this file's lib has no DOM types; they run in the page. The loader sets the mark in
  // its load handler: none after the load event means the page runs no scripts (javaScriptEnabled: false).
  // Polled from here, not with page.waitForFunction: that evaluates its string with eval inside
  // the page, which the portal's CSP (no 'unsafe-eval') refuses.
  const state = async () => (await page.evaluate("document.documentElement.dataset.scripts ?? ''")) as string;
  if ((await state()) === '') return;
  const deadline = Date.now() + 15_000;
  while ((await state()) !== 'loaded') {
    if (Date.now() > deadline) throw new Error(`the page's scripts did not load within 15 s: ${page.url()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Logs in from the login page and waits for Home (an account that owes no step) and its scripts. */
export async function logInAs(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, email, password);
  await page.waitForURL((url) => url.pathname === '/');
  await scriptsLoaded(page);
}

/** Runs axe on the page as it is now; fails the test with a readable list of violations. */
export async function checkA11y(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const problems = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`,
  );
  expect(problems, `axe on ${label} (${page.url()})`).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The page as designed at 360, 768 and 1280 px (`<name>-<width>.png`), then the viewport `back` if given. */
export async function screenshotWidths(page: Page, name: string, back?: { width: number; height: number }): Promise<void> {
  for (const width of [360, 768, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await screenshot(page, `${name}-${width}`);
  }
  if (back) await page.setViewportSize(back);
}

/**
 * Waits for a mail to `to` that arrived after `since` (real ms, Date.now()) among the .eml files
 * the portal writes without SMTP, and returns its text part. Arrival is the file's time: the
 * mail's Date header is the portal's (pinned) clock.
 */
export async function waitForMail(e2e: E2E, to: string, since: number, timeoutMs = 20_000): Promise<string> {
  const dir = join(e2e.portal.dataDir, 'mail');
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  while (Date.now() < deadline) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    for (const file of files.sort().reverse()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const mail = await simpleParser(readFileSync(join(dir, file)));
      const recipients = [mail.to].flat().flatMap((a) => a?.value ?? []).map((a) => a.address);
      if (recipients.includes(to) && statSync(join(dir, file)).mtimeMs >= since - 1_000) return mail.text ?? '';
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
}
