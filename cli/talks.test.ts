import { describe, expect, it } from 'vitest';
import { ZON_STAFF, zonSuite } from '../test/cli.ts';

/**
 * `portal talks slots` and `portal talks list` through the database: slots for a group on behalf
 * of a staff member of it, the same run again skipped, bad input and a staff member of another
 * group refused in one line with exit 1, and the list of the times ahead.
 */

const { cli: portal, json } = zonSuite(ZON_STAFF);
/** Far enough ahead for any clock the suites run at (PORTAL_TEST_NOW). */
const DAY = '2031-03-12';

describe('portal talks', () => {
  it('publishes slots for a group; the same run again adds nothing; list shows them in Dutch time', async () => {
    const args = ['talks', 'slots', '--group', 'Centrum/Boomhut', '--date', DAY, '--from', '15:00', '--count', '3', '--minutes', '20', '--staff', 'mia@zon.nl', '--place', 'Kantoor'];
    const r = await portal(...args);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('3 slot(s) published.');
    expect(await json(...args)).toEqual({ created: 0, skipped: 3 });
    const list = await json('talks', 'list', '--group', 'Boomhut');
    expect(list.map((s: { date: string; from: string; until: string }) => `${s.date} ${s.from}-${s.until}`)).toEqual([
      `${DAY} 15:00-15:20`,
      `${DAY} 15:20-15:40`,
      `${DAY} 15:40-16:00`,
    ]);
    const table = await portal('talks', 'list');
    expect(table.stdout).toContain('Centrum/Boomhut');
    expect(table.stdout).toContain('Mia Jansen');
    expect(table.stdout).toContain('free');
    const [event] = await json('audit', '--type', 'talk.published');
    expect(event).toMatchObject({ details: { count: 3, minutes: 20 } });
  });

  it('refuses bad input and a staff member of another group in one line with exit 1', async () => {
    const base = ['talks', 'slots', '--group', 'Boomhut', '--date', DAY, '--from', '09:00', '--staff', 'mia@zon.nl', '--place', 'Kantoor'];
    for (const [extra, line] of [
      [['--minutes', '2'], 'portal: minutes: expected 5 to 240 minutes'],
      [['--count', 'veel'], 'portal: count: expected 1 to 40 slots'],
      [['--video', 'http://meet.zon.nl/x'], 'portal: videoUrl: expected a link starting with https://'],
    ] as const) {
      const r = await portal(...base, ...extra);
      expect(r.code, extra.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([line]);
    }
    const otto = await portal('talks', 'slots', '--group', 'Boomhut', '--date', DAY, '--from', '09:00', '--staff', 'otto@zon.nl', '--place', 'Kantoor');
    expect(otto.code).toBe(1);
    expect(otto.stderr.trim()).toBe('portal: staff: this staff member does not work in the group');
  });
});
