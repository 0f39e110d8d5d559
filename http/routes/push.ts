import type { Context, Hono } from 'hono';
import { isDomainError } from '../../core/errors.ts';
import { vapidKeys } from '../../core/push/vapid.ts';
import { ownPushSettings, setOwnPushSettings, subscribeOwnDevice, unsubscribeOwnDevice } from '../../core/push/subscriptions.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { PROFILE_PATH } from './password.ts';

/**
 * Web Push for the logged-in person (core/push). The settings form (kinds of news, quiet hours)
 * and the device list work without JavaScript; registering a browser needs its PushManager, so
 * views/static/push.js posts the subscription as JSON. Every route acts on the session's own
 * account (no account id in any of them) and is a POST behind the CSRF check: push.js sends the
 * token in the X-CSRF-Token header, the forms in `_csrf`.
 */

export const PUSH_SETTINGS_PATH = `${PROFILE_PATH}/pushmeldingen`;
/** POST `${PUSH_DEVICES_PATH}/<id>/verwijderen`: removes one device. */
export const PUSH_DEVICES_PATH = `${PUSH_SETTINGS_PATH}/apparaten`;
export const PUSH_SUBSCRIBE_PATH = '/push/abonneren';
export const PUSH_UNSUBSCRIBE_PATH = '/push/opzeggen';

const STATUS = { validation: 422, not_found: 404, conflict: 409, forbidden: 403 } as const;

/** A domain refusal as a small JSON answer for push.js; anything else goes to the error handler. */
function refusal(c: Context<AuthedEnv>, err: unknown): Response {
  if (isDomainError(err) && err.code in STATUS) {
    return c.json({ error: err.code, details: err.details }, STATUS[err.code as keyof typeof STATUS]);
  }
  throw err;
}

async function readJson(c: Context<AuthedEnv>): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => null);
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** What the profile page shows in its push card. */
export async function pushCard(c: Context<AuthedEnv>) {
  const settings = await ownPushSettings(c.var.em, c.var.session.actor);
  return {
    ...settings,
    publicKey: (await vapidKeys(c.var.em)).publicKey,
    subscribe: PUSH_SUBSCRIBE_PATH,
    unsubscribe: PUSH_UNSUBSCRIBE_PATH,
    action: PUSH_SETTINGS_PATH,
    devicesPath: PUSH_DEVICES_PATH,
    hours: Array.from({ length: 24 }, (_, h) => ({ value: String(h), text: `${String(h).padStart(2, '0')}:00` })),
  };
}

export function pushRoutes(app: Hono<AuthedEnv>, deps: { secure: boolean; renderProfile: (c: Context<AuthedEnv>, pushErrors: Record<string, string>) => Promise<Response> }): void {
  app.post(PUSH_SUBSCRIBE_PATH, async (c) => {
    const body = await readJson(c);
    try {
      const keys = body['keys'] && typeof body['keys'] === 'object' ? (body['keys'] as Record<string, unknown>) : null;
      const { id } = await subscribeOwnDevice(c.var.em, c.var.session.actor, { endpoint: body['endpoint'], keys, device: body['device'] }, { ip: c.var.clientIp });
      return c.json({ id }, 201);
    } catch (err) {
      return refusal(c, err);
    }
  });

  app.post(PUSH_UNSUBSCRIBE_PATH, async (c) => {
    const body = await readJson(c);
    try {
      const endpoint = typeof body['endpoint'] === 'string' ? body['endpoint'] : undefined;
      await unsubscribeOwnDevice(c.var.em, c.var.session.actor, { endpoint }, { ip: c.var.clientIp });
      return c.body(null, 204);
    } catch (err) {
      return refusal(c, err);
    }
  });

  app.post(PUSH_SETTINGS_PATH, async (c) => {
    const body = await c.req.parseBody({ all: true });
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const categories = body['categories'] === undefined ? [] : ([] as unknown[]).concat(body['categories']);
    try {
      await setOwnPushSettings(
        c.var.em,
        c.var.session.actor,
        { categories, quietFrom: text(body['quietFrom']), quietUntil: text(body['quietUntil']) },
        { ip: c.var.clientIp },
      );
    } catch (err) {
      if (isDomainError(err) && err.code === 'validation') {
        return await deps.renderProfile(c, { push: err.details[0]?.path ?? 'push' });
      }
      throw err;
    }
    setFlash(c, 'push_saved', deps.secure);
    return c.redirect(PROFILE_PATH, 303);
  });

  app.post(`${PUSH_DEVICES_PATH}/:id/verwijderen`, async (c) => {
    const id = /^[1-9][0-9]{0,9}$/.test(c.req.param('id')) ? Number(c.req.param('id')) : 0;
    // Someone else's device, or none: the not-found page, like any other id that is not yours.
    await unsubscribeOwnDevice(c.var.em, c.var.session.actor, { id }, { ip: c.var.clientIp });
    setFlash(c, 'push_device_removed', deps.secure);
    return c.redirect(PROFILE_PATH, 303);
  });
}
