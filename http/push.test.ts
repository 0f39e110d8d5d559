import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushSetting, PushSubscription } from '../core/entities/push.ts';
import { type MessageWorld, PASSWORD, PEOPLE, seedMessageWorld } from '../test/messages.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { loggedInBrowser, type TestBrowser } from './testing.ts';

/**
 * Web Push through HTTP, from the attacker's side: registering and removing a browser needs the
 * CSRF token (a forged one is 403 and stores nothing), acts on one's own account only (another
 * account's device is 404 and stays), and bad input is 422. The settings form works without
 * JavaScript and the profile page carries the VAPID key and the script.
 */

let portal: TestPortal;
let app: Hono<AppEnv>;
let world: MessageWorld;

const P256 = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
const AUTH = Buffer.alloc(16, 9).toString('base64url');
const subscription = (n: string) => ({ endpoint: `https://push.example.net/send/${n}`, keys: { p256dh: P256, auth: AUTH }, device: 'Android' });

function postJson(b: TestBrowser, path: string, body: unknown, token: string | undefined = b.csrf): Promise<Response> {
  return b.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { 'X-CSRF-Token': token } : {}) },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  world = await seedMessageWorld(portal);
  app = createApp(portal);
});
afterAll(async () => {
  await portal?.destroy();
});

describe('registering a browser', () => {
  it('needs the CSRF token: a forged or missing one is 403 and stores nothing', async () => {
    const cor = await loggedInBrowser(app, PEOPLE.cor, PASSWORD);
    expect((await postJson(cor, '/push/abonneren', subscription('forged'), 'x'.repeat(43))).status).toBe(403);
    expect((await postJson(cor, '/push/abonneren', subscription('missing'), '')).status).toBe(403);
    expect(await portal.em().count(PushSubscription, {})).toBe(0);
    const ok = await postJson(cor, '/push/abonneren', subscription('cor'));
    expect(ok.status).toBe(201);
    expect(await portal.em().count(PushSubscription, { endpoint: subscription('cor').endpoint })).toBe(1);
  });

  it('refuses bad input with 422, never 500', async () => {
    const cor = await loggedInBrowser(app, PEOPLE.cor, PASSWORD);
    for (const body of [{}, { endpoint: 'http://10.0.0.1/x', keys: subscription('a').keys }, { ...subscription('b'), keys: { p256dh: 'x', auth: AUTH } }, 'nonsense']) {
      expect((await postJson(cor, '/push/abonneren', body)).status).toBe(422);
    }
  });

  it("cannot remove or take over another account's device", async () => {
    const cor = await loggedInBrowser(app, PEOPLE.cor, PASSWORD);
    const eva = await loggedInBrowser(app, PEOPLE.eva, PASSWORD);
    await postJson(cor, '/push/abonneren', subscription('cor2'));
    const row = await portal.em().fork().findOneOrFail(PushSubscription, { endpoint: subscription('cor2').endpoint });
    // By id (the settings form) and by endpoint (push.js): not found, and the device stays.
    await eva.get('/mijn-gegevens');
    expect((await eva.post(`/mijn-gegevens/pushmeldingen/apparaten/${row.id}/verwijderen`, {})).status).toBe(404);
    expect((await postJson(eva, '/push/opzeggen', { endpoint: row.endpoint })).status).toBe(404);
    // The same endpoint with other keys (Eva guessing it) is refused.
    expect((await postJson(eva, '/push/abonneren', { ...subscription('cor2'), keys: { p256dh: P256, auth: Buffer.alloc(16, 1).toString('base64url') } })).status).toBe(409);
    expect(await portal.em().fork().count(PushSubscription, { id: row.id, account: { parent: world.actors.cor.kind === 'parent' ? world.actors.cor.parentId : 0 } })).toBe(1);
    // Cor removes his own, with the token; without it, nothing happens.
    expect((await postJson(cor, '/push/opzeggen', { endpoint: row.endpoint }, '')).status).toBe(403);
    expect((await postJson(cor, '/push/opzeggen', { endpoint: row.endpoint })).status).toBe(204);
    expect(await portal.em().fork().count(PushSubscription, { id: row.id })).toBe(0);
  });
});

describe('the settings on Mijn gegevens', () => {
  it('shows the card with the VAPID key and the script, and saves choices without JavaScript', async () => {
    const anna = await loggedInBrowser(app, PEOPLE.anna, PASSWORD);
    const page = await (await anna.get('/mijn-gegevens')).text();
    expect(page).toContain('id="push-heading"');
    expect(page).toMatch(/data-key="[A-Za-z0-9_-]{87}"/);
    expect(page).toMatch(/<script src="\/assets\/push\.[0-9a-f]{12}\.js" defer><\/script>/);
    expect(page).toContain('data-push-unsupported');
    const saved = await anna.post('/mijn-gegevens/pushmeldingen', { categories: 'photos', quietFrom: '20', quietUntil: '7' });
    expect(saved.status).toBe(303);
    const setting = await portal.em().fork().findOneOrFail(PushSetting, { account: { email: PEOPLE.anna } });
    expect(setting.categories).toEqual(['photos']);
    expect([setting.quietFrom, setting.quietUntil]).toEqual([20, 7]);
    // Only one end of the quiet hours: 422 with the explanation, nothing changed.
    const bad = await anna.post('/mijn-gegevens/pushmeldingen', { categories: 'diary', quietFrom: '20', quietUntil: '' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('id="push-quiet-error"');
    expect((await portal.em().fork().findOneOrFail(PushSetting, { account: { email: PEOPLE.anna } })).categories).toEqual(['photos']);
    // A forged form: 403.
    expect((await anna.post('/mijn-gegevens/pushmeldingen', { categories: 'diary' }, { csrf: 'y'.repeat(43) })).status).toBe(403);
  });

  it('staff choose new parent messages only', async () => {
    const mia = await loggedInBrowser(app, PEOPLE.mia, PASSWORD);
    const page = await (await mia.get('/mijn-gegevens')).text();
    expect(page).toContain('value="parentMessages"');
    expect(page).not.toContain('value="photos"');
    expect((await mia.post('/mijn-gegevens/pushmeldingen', { categories: 'photos' })).status).toBe(422);
  });

  it('serves push.js', async () => {
    const res = await app.request('/assets/push.js');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pushManager.subscribe');
  });
});
