import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmAnnouncement } from '../core/messages/confirmations.ts';
import { sendAnnouncement } from '../core/messages/announcements.ts';
import { runCli } from '../test/cli.ts';
import { type MessageWorld, seedMessageWorld } from '../test/messages.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';

/** `portal messages confirmations | remind`: the overview and the once-a-day reminder from the terminal. */

let seeded: TestPortal;
let w: MessageWorld;
let id: string;
const run = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: seeded.dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });

beforeAll(async () => {
  seeded = await createTestPortal();
  w = await seedMessageWorld(seeded);
  ({ announcementId: id } = await sendAnnouncement(seeded.em(), seeded, w.actors.hanna, {
    locationId: w.locations.centrum,
    subject: 'Zomerfeest',
    body: 'Vrijdag.',
    confirmationRequested: true,
  }));
  await confirmAnnouncement(seeded.em(), w.actors.anna, id);
});
afterAll(() => seeded?.destroy());

describe('portal messages confirmations | remind', () => {
  it('lists who confirmed per group, for people and for scripts', async () => {
    const human = await run(['messages', 'confirmations', id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^GROUP\s+PARENT\s+CHILDREN\s+CONFIRMED AT/);
    expect(human.stdout).toMatch(/Boomhut\s+Anna Ouder\s+Evi\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(human.stdout).toMatch(/Zolder\s+Cor Ouder\s+Lot\s+not yet/);
    expect(human.stdout).toContain('1 of 3 parents confirmed; no reminder yet.');
    const json = JSON.parse((await run(['--json', 'messages', 'confirmations', id])).stdout);
    expect(json.totals).toEqual({ parents: 3, confirmed: 1, pending: 2 });
  });

  it('reminds once a day: a second run is refused with exit 3 and one line', async () => {
    const first = await run(['messages', 'remind', id]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('Reminder queued for 2 parent(s).\n');
    const second = await run(['messages', 'remind', id]);
    expect(second.code).toBe(3);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/a reminder went today already/);
  });

  it('an unknown or malformed id is not found (exit 3)', async () => {
    expect((await run(['messages', 'confirmations', 'nonsense'])).code).toBe(3);
    expect((await run(['messages', 'remind', '00000000-0000-4000-8000-000000000000'])).code).toBe(3);
  });
});
