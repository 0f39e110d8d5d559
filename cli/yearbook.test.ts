import { describe, expect, it } from 'vitest';
import { zonSuite } from '../test/cli.ts';

/**
 * `portal children leave` offers the year book (herinneringenboek) to the parents with a login,
 * once: the output says to whom and until when, a second leave (a corrected date) offers nothing
 * again, and a dry run offers nothing at all.
 */

const { cli: portal, json } = zonSuite([
    ['parents', 'add', '--email', 'anna@zon.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1'],
    ['parents', 'invite', 'anna@zon.nl', '--no-wait'],
]);

describe('portal children leave offers the year book', () => {
  it('a dry run offers nothing; leaving offers it once per parent, with the last day', async () => {
    const dry = await portal('children', 'leave', 'K1', '--yes', '--dry-run');
    expect(dry.stdout).not.toContain('Year book');
    const left = await portal('children', 'leave', 'K1', '--yes');
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toMatch(/Year book \(herinneringenboek\) offered to anna@zon\.nl: .* until \d{4}-\d{2}-\d{2}/);
    const [event] = await json('audit', '--type', 'yearbook.offered');
    expect(event).toMatchObject({ subject: 'K1', details: { parents: 1 } });
    const again = await json('children', 'leave', 'K1', '--yes');
    expect(again.yearBookOffer).toMatchObject({ childNumber: 'K1', mailed: [] });
  });
});
