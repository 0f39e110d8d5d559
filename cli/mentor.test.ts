import { describe, expect, it } from 'vitest';
import { ZON_STAFF, zonSuite } from '../test/cli.ts';

/**
 * `portal children update --mentor / --no-mentor` through the database: staff of the child's
 * group is set, anyone else is refused in one line with exit 1 and nothing changes; --dry-run
 * saves nothing; the change is audited.
 */

const { cli: portal, json } = zonSuite(ZON_STAFF);

describe('portal children update --mentor', () => {
  it('sets staff of the group as mentor (a dry run first saves nothing), audited', async () => {
    const dry = await portal('children', 'update', 'K1', '--mentor', 'mia@zon.nl', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: child K1 would change (nothing saved):\n  mentor: (none) → Mia Jansen <mia@zon.nl>');
    expect((await json('audit', '--type', 'child.mentor_set'))).toEqual([]);
    const set = await json('children', 'update', 'K1', '--mentor', 'MIA@zon.nl');
    expect(set).toMatchObject({ childNumber: 'K1', from: null, to: 'Mia Jansen <mia@zon.nl>', changed: true });
    const [event] = await json('audit', '--type', 'child.mentor_set');
    expect(event).toMatchObject({ subject: 'K1', details: { from: null, to: 'Mia Jansen <mia@zon.nl>' } });
    const again = await portal('children', 'update', 'K1', '--mentor', 'mia@zon.nl');
    expect(again.stdout.trim()).toBe('Child K1: the mentor is already Mia Jansen <mia@zon.nl>.');
  });

  it('refuses staff of another group, and an unknown address, in one line with exit 1', async () => {
    const otto = await portal('children', 'update', 'K1', '--mentor', 'otto@zon.nl');
    expect(otto.code).toBe(1);
    expect(otto.stderr.trim().split('\n')).toEqual(['portal: mentor: otto@zon.nl does not work in the group of child K1: Centrum/Boomhut']);
    const nobody = await portal('children', 'update', 'K1', '--mentor', 'niemand@zon.nl');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr.trim().split('\n')).toHaveLength(1);
    expect(await json('children', 'update', 'K1', '--mentor', 'mia@zon.nl')).toMatchObject({ changed: false });
  });

  it('children show names the mentor, and says when parents no longer see it (deactivated)', async () => {
    expect((await portal('children', 'show', 'K1')).stdout).toMatch(/^Mentor: +Mia Jansen <mia@zon\.nl>$/m);
    expect((await portal('staff', 'deactivate', 'mia@zon.nl')).code).toBe(0);
    expect(await json('children', 'show', 'K1')).toMatchObject({ mentor: { email: 'mia@zon.nl', shownToParents: false } });
    expect((await portal('children', 'show', 'K1')).stdout).toContain('Mia Jansen <mia@zon.nl> (not shown to parents: inactive or no longer in the group)');
    expect((await portal('staff', 'reactivate', 'mia@zon.nl')).code).toBe(0);
    expect(await json('children', 'show', 'K1')).toMatchObject({ mentor: { shownToParents: true } });
  });

  it('clears the mentor with --no-mentor, and wants the mentor in a command of its own', async () => {
    const mixed = await portal('children', 'update', 'K1', '--mentor', 'mia@zon.nl', '--first-name', 'Eva');
    expect(mixed.code).toBe(2);
    const cleared = await json('children', 'update', 'K1', '--no-mentor');
    expect(cleared).toMatchObject({ from: 'Mia Jansen <mia@zon.nl>', to: null, changed: true });
  });
});
