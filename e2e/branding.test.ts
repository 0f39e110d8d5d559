import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { darkModeAccent, parseHex } from '../config/colours.ts';
import { seedAccount } from '../http/testing.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * The organisation's look in a real browser on a phone: its logo in the header, its accent on
 * links and buttons, in light and in dark mode, with axe's contrast check on both.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;
const PHONE = { width: 360, height: 780 };
const ACCENT = '#8a1c4a';
const PASSWORD = 'een lang genoeg wachtwoord';
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80" viewBox="0 0 240 80">
  <circle cx="40" cy="40" r="32" fill="${ACCENT}"/><rect x="36" y="40" width="8" height="30" fill="#5b3a1a"/>
  <circle cx="40" cy="34" r="18" fill="#3f8f3a"/><text x="84" y="50" font-family="sans-serif" font-size="26" fill="#333">Boomgaard</text>
</svg>`;

/** The page's getComputedStyle, typed here because this project compiles without the DOM library. */
type Styled = { getComputedStyle(element: unknown): { backgroundColor: string } };
const rgb = (hex: string) => `rgb(${parseHex(hex)!.join(', ')})`;

describe.skipIf(!hasChromium)('branding in the browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portal-branding-e2e-'));
  let e2e: E2E;
  beforeAll(async () => {
    const logo = join(dir, 'logo.svg');
    writeFileSync(logo, LOGO);
    e2e = await startE2E({ organisation: 'Kinderopvang De Boomgaard', flags: { 'branding.logo': logo, 'branding.accentColour': ACCENT } });
    await seedAccount(e2e.portal, { email: 'noor@example.nl', password: PASSWORD, firstName: 'Noor', lastName: 'Visser' });
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
    rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT);

  for (const scheme of ['light', 'dark'] as const) {
    it(
      `${scheme}: the logo beside the name, the accent on the login button and on Home, and axe is content`,
      async () => {
        const { context, page } = await newPage(e2e, PHONE, { colorScheme: scheme });
        try {
          await page.goto('/login');
          const logo = page.locator('header img.site-logo');
          await expect.poll(() => logo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
          // Shown at header height, not at the file's size.
          expect((await logo.boundingBox())!.height).toBeLessThanOrEqual(40);
          const accent = scheme === 'light' ? ACCENT : darkModeAccent(ACCENT);
          const button = page.getByRole('button', { name: 'Inloggen' });
          expect(await button.evaluate((b) => (globalThis as unknown as Styled).getComputedStyle(b).backgroundColor)).toBe(rgb(accent));
          await checkA11y(page, `login, ${scheme}`);
          await screenshot(page, `branding-360-login-${scheme}`);

          await logInAs(page, 'noor@example.nl', PASSWORD);
          expect(await page.locator('header .site-name').textContent()).toContain('Kinderopvang De Boomgaard');
          await checkA11y(page, `home, ${scheme}`);
          await screenshot(page, `branding-360-home-${scheme}`);
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );
  }
});
