import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

/**
 * `portal init` on a terminal: the prompts are replaced by a stand-in that records what init
 * hands them, and answers the way a person would after the validation let them through.
 */
interface Asked {
  message: string;
  validate?: (value: string) => true | string | Promise<true | string>;
}
const asked: Asked[] = [];
const answers: Record<string, string> = {
  'Name of the organisation': 'Kinderopvang Zon',
  'Portal address (https://…)': 'https://ouders.zon.nl',
  'Helpdesk e-mail address': 'help@zon.nl',
};
vi.mock('@inquirer/prompts', () => ({
  input: async (options: Asked) => {
    asked.push(options);
    return answers[options.message];
  },
  select: async () => 'en',
}));

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});

describe('portal init on a terminal', () => {
  it("checks each answer as it is typed, with core's rules", async () => {
    const r = await runCli(['init'], { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }, true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Organisation set up/);
    expect(asked.map((a) => a.message)).toEqual(Object.keys(answers));
    const [name, url, email] = asked.map((a) => a.validate!);
    expect(await name!('')).toMatch(/required/);
    expect(await name!('x'.repeat(201))).toMatch(/longer than 200/);
    expect(await name!('Zon\u0000')).toMatch(/cannot be stored/);
    expect(await name!('Kinderopvang Zon')).toBe(true);
    expect(await url!('ouders.zon.nl')).toMatch(/not a web address/);
    expect(await url!('ftp://ouders.zon.nl')).toMatch(/not a web address/);
    expect(await url!('https://ouders.zon.nl/')).toBe(true);
    expect(await email!('help@')).toMatch(/not a valid e-mail address/);
    expect(await email!(' Help@Zon.nl ')).toBe(true);
  });
});
