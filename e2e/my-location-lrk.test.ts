import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { linkParent } from '../core/directory/parents.ts';
import { LRK_REGISTER_URL } from '../core/profile/my-locations.ts';
import { seedAccount } from '../http/testing.ts';
import { admin } from '../test/portal.ts';
import { checkA11y, type E2E, hasChromium, logInAs, newPage, SKIP_REASON, screenshot, startE2E } from './harness.ts';

/**
 * Mijn vestiging with an LRK number in a real browser, on a small phone in light and dark: the
 * number and the link to the register are there, the link stays in the same tab, axe finds nothing.
 */

if (!hasChromium) console.warn(SKIP_REASON);

const TIMEOUT = 120_000;
const PASSWORD = 'paard batterij nietje correct';

describe.skipIf(!hasChromium)('mijn vestiging with an LRK number in the browser', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    const em = e2e.portal.em();
    await addLocation(em, admin, { name: 'Heerlen Centrum', address: 'Markt 1\n6411 AA Heerlen', phone: '045-1234567', lrk: '123456789' });
    await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
    await addChild(em, admin, { childNumber: 'E1', firstName: 'Evi', lastName: 'Jansen', birthDate: '2023-03-01', group: 'Boomhut', startDate: addDays(e2e.portal.clock.today(), -30) });
    await seedAccount(e2e.portal, { email: 'anna@example.nl', password: PASSWORD, firstName: 'Anna', lastName: 'Jansen' });
    await linkParent(em, admin, 'anna@example.nl', 'E1');
  }, TIMEOUT);
  afterAll(async () => {
    await e2e?.close();
  }, TIMEOUT);

  it.each(['light', 'dark'] as const)(
    'shows the number and a same-tab link to the register, with no axe violations (%s)',
    async (colorScheme) => {
      const { context, page } = await newPage(e2e, { width: 360, height: 780 }, { colorScheme });
      try {
        await logInAs(page, 'anna@example.nl', PASSWORD);
        await page.goto('/mijn-vestiging');
        expect((await page.locator('main').textContent()) ?? '').toContain('123456789');
        const link = page.getByRole('link', { name: 'Zoek dit nummer op in het Landelijk Register Kinderopvang' });
        expect(await link.getAttribute('href')).toBe(LRK_REGISTER_URL);
        expect(await link.getAttribute('target')).toBeNull();
        await checkA11y(page, `my locations with LRK (${colorScheme})`);
        await screenshot(page, `my-location-lrk-360-${colorScheme}`);
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
