import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountFor, seedAccount } from '../../http/testing.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { suspendParent } from '../accounts/suspension.ts';
import { AuditEvent } from '../entities/audit.ts';
import { ApiToken } from '../entities/api-token.ts';
import { addParent } from '../directory/parents.ts';
import { API_TOKEN_DAYS, issueApiToken, listOwnApiTokens, lookupApiToken, pruneApiTokens, revokeOwnApiToken } from './api-tokens.ts';
import { endAllSessions, type SessionSettings } from './sessions.ts';
import { createThrottle, type Throttle } from './throttle.ts';

const PASSWORD = 'een lange zin als wachtwoord';
const settings: SessionSettings = { sessionIdleMinutes: 30, sessionAbsoluteHours: 12, requireSecondFactorForStaff: false };
const DAY = 24 * 3_600_000;
let portal: TestPortal;
let throttle: Throttle;

const issue = async (email: string, options: { now?: Date; settings?: SessionSettings; password?: string } = {}) =>
  await issueApiToken(
    { em: portal.em(), hasher: portal.hasher, throttle, settings: options.settings ?? settings },
    { email, password: options.password ?? PASSWORD, deviceName: ' Pixel\n van  Eva ', ip: '192.0.2.1', now: options.now },
  );

beforeAll(async () => {
  portal = await createTestPortal();
  throttle = createThrottle(portal.em(), { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } });
});
afterAll(() => portal?.destroy());

describe('app tokens', () => {
  it('slide: each use moves the end 90 days past it; unused for 90 days, the token is dead', async () => {
    const person = await seedAccount(portal, { email: 'eva@example.nl', password: PASSWORD });
    const start = new Date('2026-01-01T08:00:00Z');
    const issued = await issue(person.email, { now: start });
    if (issued.outcome !== 'ok') throw new Error(issued.outcome);
    expect(issued.expiresAt.getTime()).toBe(start.getTime() + API_TOKEN_DAYS * DAY);
    const later = new Date(start.getTime() + 80 * DAY);
    const used = await lookupApiToken(portal.em(), issued.token, later);
    expect(used?.actor).toMatchObject({ kind: 'parent', parentId: person.personId });
    expect(used?.expiresAt.getTime()).toBe(later.getTime() + API_TOKEN_DAYS * DAY);
    // 80 + 89 days: still alive thanks to the use on day 80; 80 + 91: gone.
    expect(await lookupApiToken(portal.em(), issued.token, new Date(later.getTime() + 89 * DAY))).toBeDefined();
    expect(await lookupApiToken(portal.em(), issued.token, new Date(later.getTime() + 89 * DAY + 2 * API_TOKEN_DAYS * DAY))).toBeUndefined();
    const row = await portal.em().findOneOrFail(ApiToken, { id: issued.tokenId });
    expect(row.name).toBe('Pixel van Eva');
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuse made-up, malformed and tampered tokens', async () => {
    const issued = await issue('eva@example.nl');
    if (issued.outcome !== 'ok') throw new Error(issued.outcome);
    for (const bad of ['', 'opt_', 'Bearer x', issued.token.slice(4), `${issued.token.slice(0, -1)}${issued.token.endsWith('A') ? 'B' : 'A'}`]) {
      expect(await lookupApiToken(portal.em(), bad), bad).toBeUndefined();
    }
    expect(await lookupApiToken(portal.em(), issued.token)).toBeDefined();
  });

  it('are listed and revoked only by their owner; the audit says which device', async () => {
    const eva = await seedAccount(portal, { email: 'eva2@example.nl', password: PASSWORD });
    await seedAccount(portal, { email: 'finn@example.nl', password: PASSWORD });
    const mine = await issue(eva.email);
    const theirs = await issue('finn@example.nl');
    if (mine.outcome !== 'ok' || theirs.outcome !== 'ok') throw new Error('login failed');
    const actor = { kind: 'parent' as const, parentId: eva.personId, label: 'eva2' };
    expect((await listOwnApiTokens(portal.em(), actor)).map((t) => t.id)).toEqual([mine.tokenId]);
    expect(await revokeOwnApiToken(portal.em(), actor, theirs.tokenId)).toBe(false);
    expect(await lookupApiToken(portal.em(), theirs.token)).toBeDefined();
    expect(await revokeOwnApiToken(portal.em(), actor, mine.tokenId)).toBe(true);
    expect(await lookupApiToken(portal.em(), mine.token)).toBeUndefined();
    expect(await listOwnApiTokens(portal.em(), actor)).toEqual([]);
    const events = await portal.em().find(AuditEvent, { accountId: eva.accountId }, { orderBy: { id: 'asc' } });
    expect(events.map((e) => [e.type, e.details?.['device']])).toEqual([
      ['api_token.issued', 'Pixel van Eva'],
      ['api_token.revoked', 'Pixel van Eva'],
    ]);
  });

  it('end with every session of the account (password change, reset, suspension)', async () => {
    const person = await seedAccount(portal, { email: 'gert@example.nl', password: PASSWORD });
    const issued = await issue(person.email);
    if (issued.outcome !== 'ok') throw new Error(issued.outcome);
    await endAllSessions(portal.em(), person.accountId, { exceptIdHash: 'x'.repeat(64) });
    expect(await lookupApiToken(portal.em(), issued.token)).toBeUndefined();

    await addParent(portal.em(), admin, { email: 'hans@example.nl', firstName: 'Hans', lastName: 'Ouder', children: [] });
    await accountFor(portal, 'hans@example.nl', PASSWORD);
    const hans = await issue('hans@example.nl');
    if (hans.outcome !== 'ok') throw new Error(hans.outcome);
    await suspendParent(portal.em(), admin, 'hans@example.nl', 'misbruik');
    expect((await portal.em().findOneOrFail(ApiToken, { id: hans.tokenId })).revokedAt).not.toBeNull();
  });

  it('are refused for staff when a second factor is required, and for a wrong password like the web login', async () => {
    await seedAccount(portal, { email: 'mia@example.nl', password: PASSWORD, kind: 'staff' });
    expect((await issue('mia@example.nl', { settings: { ...settings, requireSecondFactorForStaff: true } })).outcome).toBe('second_factor_required');
    expect((await issue('mia@example.nl')).outcome).toBe('ok');
    expect((await issue('mia@example.nl', { password: 'fout wachtwoord' })).outcome).toBe('invalid');
    const failure = await portal.em().findOneOrFail(AuditEvent, { type: 'login.failure', subject: 'mia@example.nl' }, { orderBy: { id: 'desc' } });
    expect(failure.actor).toBe('app:anonymous');
    expect(failure.details).toEqual({ reason: 'wrong_password', channel: 'app' });
  });

  it('pruning removes only tokens that can never work again', async () => {
    const person = await seedAccount(portal, { email: 'ines@example.nl', password: PASSWORD });
    const live = await issue(person.email);
    const old = await issue(person.email, { now: new Date(portal.clock.now().getTime() - (API_TOKEN_DAYS + 1) * DAY) });
    if (live.outcome !== 'ok' || old.outcome !== 'ok') throw new Error('login failed');
    expect(await pruneApiTokens(portal.em())).toBeGreaterThanOrEqual(1);
    expect(await portal.em().count(ApiToken, { id: old.tokenId })).toBe(0);
    expect(await lookupApiToken(portal.em(), live.token)).toBeDefined();
  });
});
