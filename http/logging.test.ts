import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { createApp } from './app.ts';
import { seedAccount, TestBrowser } from './testing.ts';

/** The server's structured log: one JSON object per line, with the request id, without personal data. */

let portal: TestPortal;
const lines: string[] = [];
const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  portal = await createTestPortal();
});
afterAll(() => portal?.destroy());

describe('JSON logs', () => {
  it('give every request one line with its id, status and account id, and leave out queries, addresses and passwords', async () => {
    const log = createLogger('info', (l) => lines.push(l), 'json');
    const app = createApp({ ...portal, log }, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
    const account = await seedAccount(portal, { email: 'anna.geheim@example.nl', password: 'een lange zin als wachtwoord' });
    const browser = new TestBrowser(app);
    await browser.login('anna.geheim@example.nl', 'een lange zin als wachtwoord');
    const res = await browser.get('/?email=anna.geheim@example.nl');
    const id = res.headers.get('X-Request-Id');

    const line = records().find((r) => r.reqId === id);
    expect(line).toMatchObject({ level: 30, msg: 'request', method: 'GET', path: '/', status: res.status, account: account.accountId });
    expect(typeof line?.time).toBe('string');
    expect(typeof line?.ms).toBe('number');
    // Every line is JSON, and none carries the address or the password typed at login.
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.join('\n')).not.toContain('anna.geheim');
    expect(lines.join('\n')).not.toContain('een lange zin');
  });

  it('the text format keeps one readable line with the same fields', () => {
    const text: string[] = [];
    createLogger('info', (l) => text.push(l), 'text').warn('mail queue slow', { reqId: 'abc', ms: 12 });
    createLogger('warn', (l) => text.push(l), 'text').info('not shown');
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ warn {2}mail queue slow reqId=abc ms=12\n$/);
  });
});
