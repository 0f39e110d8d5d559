import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

/** The per-location reading time of messages, set from the terminal. */

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});
const portal = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });

describe('portal locations --messages-read-at', () => {
  it('defaults to 12:00, is set and shown, and refuses what is not a time', async () => {
    expect((await portal(['locations', 'add', '--name', 'Centrum'])).code).toBe(0);
    expect(JSON.parse((await portal(['--json', 'locations', 'show', 'Centrum'])).stdout).messagesReadAt).toBe('12:00');
    expect((await portal(['locations', 'update', 'Centrum', '--messages-read-at', '9:45'])).code).toBe(0);
    expect((await portal(['locations', 'show', 'Centrum'])).stdout).toMatch(/Messages read at:\s+09:45/);
    const bad = await portal(['locations', 'update', 'Centrum', '--messages-read-at', 'rond de middag']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/expected a time like 12:00/);
    expect(JSON.parse((await portal(['--json', 'locations', 'show', 'Centrum'])).stdout).messagesReadAt).toBe('09:45');
  });
});
