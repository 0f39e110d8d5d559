import sharp from 'sharp';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { type SetConsentInput, setConsent } from '../core/directory/consent.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { addParent } from '../core/directory/parents.ts';
import { addStaff, assignStaff } from '../core/directory/staff.ts';
import { accountFor } from '../http/testing.ts';
import { admin } from '../test/portal.ts';
import type { E2E } from './harness.ts';

/** A child of the photo journeys: number, first name, group and internal photo consent. */
export type PhotoChild = readonly [number: string, firstName: string, group: string, consent?: SetConsentInput['internal']];

/** A parent of the photo journeys: e-mail, first and last name, the children's numbers. */
export type PhotoParent = readonly [email: string, firstName: string, lastName: string, children: readonly string[]];
/** A staff member of the photo journeys: e-mail, first and last name, the group they work in. */
export type PhotoStaff = readonly [email: string, firstName: string, lastName: string, group: string];

/**
 * The photo journeys' world: location Centrum with these groups, and these children (all Jansen)
 * placed a month before the tests' day, each with the internal consent given (default yes) and
 * the external one refused; then these parents and staff, each with an account and `password`.
 */
export async function seedCentrum(
  e2e: E2E,
  groups: readonly string[],
  children: readonly PhotoChild[],
  people: { parents: readonly PhotoParent[]; staff: readonly PhotoStaff[]; password: string },
): Promise<void> {
  const em = e2e.portal.em();
  await addLocation(em, admin, { name: 'Centrum', phone: '045 123 45 67' });
  for (const name of groups) await addGroup(em, admin, { location: 'Centrum', name });
  const since = addDays(e2e.portal.clock.today(), -30);
  for (const [childNumber, firstName, group, consent = 'ja'] of children) {
    await addChild(em, admin, { childNumber, firstName, lastName: 'Jansen', birthDate: '2023-05-01', group, startDate: since });
    await setConsent(em, admin, childNumber, { internal: consent, external: 'nee' });
  }
  for (const [email, firstName, lastName, kids] of people.parents) {
    await addParent(em, admin, { email, firstName, lastName, children: [...kids] });
    await accountFor(e2e.portal, email, people.password);
  }
  for (const [email, firstName, lastName, group] of people.staff) {
    await addStaff(em, admin, { email, firstName, lastName, role: 'staff' });
    await assignStaff(em, admin, email, { group });
    await accountFor(e2e.portal, email, people.password);
  }
}

/** A 1200x900 JPEG whose background hue tells it apart, written to `path`. */
export async function jpeg(path: string, hue: number): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">
    <rect width="1200" height="900" fill="hsl(${hue},55%,72%)"/><circle cx="400" cy="450" r="220" fill="#e67e22"/>
    <rect x="700" y="300" width="300" height="380" fill="#2e86c1"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toFile(path);
  return path;
}
