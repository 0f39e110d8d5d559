import { beforeAll, describe, expect, it } from 'vitest';
import { cliAgainst } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

/**
 * The LRK number of a location (Landelijk Register Kinderopvang): set, shown, cleared with
 * `--lrk ''` or `--no-lrk`, refused unless exactly 9 digits; every change in the audit log with
 * the old and new value; --dry-run changes nothing.
 */

let dbUrl: string;
const { cli: portal, json } = cliAgainst(() => ({ PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }));
const lrkOf = async (location: string) => (await json('locations', 'show', location)).lrk;
const events = () => json('audit', '--type', 'location.updated');

beforeAll(async () => {
  dbUrl = await createTestDatabase();
  for (const args of [
    ['locations', 'add', '--name', 'Centrum', '--lrk', '123456789'],
    ['locations', 'add', '--name', 'Wyck'],
  ]) {
    const r = await portal(...args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
});

describe('portal locations --lrk', () => {
  it('is set on add and shown by show and list', async () => {
    expect(await lrkOf('Centrum')).toBe('123456789');
    const show = await portal('locations', 'show', 'Centrum');
    expect(show.stdout).toMatch(/^LRK number:\s+123456789$/m);
    const list = await portal('locations', 'list');
    expect(list.stdout.split('\n')[0]).toMatch(/\bLRK\b/);
    expect(list.stdout).toMatch(/Centrum\s+-\s+123456789/);
    expect(await json('locations', 'list')).toEqual([
      expect.objectContaining({ name: 'Centrum', lrk: '123456789' }),
      expect.objectContaining({ name: 'Wyck', lrk: null }),
    ]);
  });

  it('is changed by update, with the old and new number in the audit log', async () => {
    const r = await portal('locations', 'update', 'Wyck', '--lrk', ' 987654321 ');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lrk: (none) → "987654321"');
    expect(await lrkOf('Wyck')).toBe('987654321');
    const [event] = await events();
    expect(event).toMatchObject({ subject: 'Wyck', details: { before: { lrk: null }, after: { lrk: '987654321' } } });
    expect(event.actor).toMatch(/^cli:/);
  });

  it('--dry-run shows the change and leaves the number and the audit log alone', async () => {
    const before = (await events()).length;
    const r = await json('locations', 'update', 'Centrum', '--lrk', '111222333', '--dry-run');
    expect(r).toMatchObject({ lrk: '111222333', dryRun: true, changes: [{ field: 'lrk', from: '123456789', to: '111222333' }] });
    expect(await lrkOf('Centrum')).toBe('123456789');
    expect(await events()).toHaveLength(before);
  });

  it("is cleared by --lrk '' and by --no-lrk", async () => {
    await json('locations', 'update', 'Wyck', '--lrk', '');
    expect(await lrkOf('Wyck')).toBeNull();
    await json('locations', 'update', 'Wyck', '--lrk', '987654321');
    const r = await portal('locations', 'update', 'Wyck', '--no-lrk');
    expect(r.code, r.stderr).toBe(0);
    expect(await lrkOf('Wyck')).toBeNull();
    const [event] = await events();
    expect(event.details).toEqual({ before: { lrk: '987654321' }, after: { lrk: null } });
  });

  it.each([
    ['eight digits', ['update', 'Centrum', '--lrk', '12345678'], 1],
    ['ten digits', ['update', 'Centrum', '--lrk', '1234567890'], 1],
    ['letters', ['update', 'Centrum', '--lrk', '12345678X'], 1],
    ['spaces inside', ['update', 'Centrum', '--lrk', '123 456 789'], 1],
    ['a bad number on add', ['add', '--name', 'Zuid', '--lrk', '42'], 1],
    ['an unknown location', ['update', 'Nergens', '--lrk', '123456789'], 3],
  ])('refuses %s with one line and writes nothing', async (_name, args, code) => {
    const before = (await events()).length;
    const r = await portal('locations', ...args);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    if (code === 1) expect(r.stderr).toContain('LRK number: expected exactly 9 digits');
    expect(await lrkOf('Centrum')).toBe('123456789');
    expect((await json('locations', 'list')).map((l: { name: string }) => l.name)).toEqual(['Centrum', 'Wyck']);
    expect(await events()).toHaveLength(before);
  });
});
