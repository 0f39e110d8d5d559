import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

/**
 * `portal access`: the catalogue in words, and the helpdesk's question "may she, and by which
 * rule?" answered from the same rules the portal applies.
 */

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
  for (const args of [
    ['locations', 'add', '--name', 'Centrum'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Kikkers'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
    ['children', 'add', '--number', 'K2', '--first-name', 'Bo', '--last-name', 'Kok', '--birth-date', '2024-01-01', '--group', 'Kikkers'],
    ['parents', 'add', '--email', 'anna@example.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1'],
    ['parents', 'add', '--email', 'bart@example.nl', '--first-name', 'Bart', '--last-name', 'Berg', '--child', 'K1'],
    ['parents', 'suspend', 'bart@example.nl', '--reason', 'misbruik foto'],
  ]) {
    const r = await portal(...args);
    expect(r.stderr).toBe('');
  }
});
const portal = (...args: string[]) => runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });

describe('portal access', () => {
  it('actions: every action with what it is about and who may take it', async () => {
    const actions = JSON.parse((await portal('--json', 'access', 'actions')).stdout) as { action: string; target: string; who: string[] }[];
    expect(actions.length).toBeGreaterThan(40);
    expect(actions.find((a) => a.action === 'photo.download')).toMatchObject({ target: 'photo' });
    expect(actions.find((a) => a.action === 'directory.manage')?.who).toEqual(['administrator']);
  });

  it('can: names the rule that allows, and what would allow when refused', async () => {
    const [k1, k2] = ['K1', 'K2'];
    const yes = await portal('access', 'can', 'anna@example.nl', 'diary.read', k1);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/anna@example\.nl may diary\.read on K1: guardian of the child\./);
    const no = JSON.parse((await portal('--json', 'access', 'can', 'anna@example.nl', 'diary.read', k2)).stdout);
    expect(no).toMatchObject({ allowed: false, by: [], suspended: false });
    expect(no.rules).toContain('guardian of the child');
    const suspended = await portal('access', 'can', 'bart@example.nl', 'diary.read', k1);
    expect(suspended.stdout).toMatch(/may not diary\.read .*\(the account is suspended\)/);
  });

  it('refuses what it cannot answer: an unknown action or person, one line on stderr', async () => {
    const action = await portal('access', 'can', 'anna@example.nl', 'photo.steal', '1');
    expect(action.code).not.toBe(0);
    expect(action.stderr.trim().split('\n')).toHaveLength(1);
    expect(action.stderr).toMatch(/photo\.steal/);
    const person = await portal('access', 'can', 'nobody@example.nl', 'diary.read', '1');
    expect(person.code).not.toBe(0);
    expect(person.stderr).toMatch(/nobody@example\.nl/);
  });
});
