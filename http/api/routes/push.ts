import { createRoute, z } from '@hono/zod-openapi';
import { ALL_CATEGORIES } from '../../../core/push/categories.ts';
import { ownPushSettings, setOwnPushSettings, subscribeOwnDevice, unsubscribeOwnDevice } from '../../../core/push/subscriptions.ts';
import { vapidKeys } from '../../../core/push/vapid.ts';
import type { ApiModule } from '../deps.ts';
import { errors, json } from '../schemas.ts';

/**
 * Web Push for the app: the same core use cases as Mijn gegevens → Pushmeldingen
 * (http/routes/push.ts), so the same catalogue actions (`account.pushSettings`,
 * `account.pushSubscribe`, `pushSubscription.remove`: the caller's own account only). A
 * subscription is a browser's Web Push subscription (the app's web view or the installed web
 * app); native push through APNs or FCM is not offered. No route names an account: every one acts
 * on the token's own.
 */

const tags = ['Push'];

const Category = z.enum(ALL_CATEGORIES as [string, ...string[]]).openapi({ description: 'A kind of news (core/push/categories.ts)', example: 'photos' });
const Hour = z.number().int().min(0).max(23);

const PushSettings = z
  .object({
    available: z.array(Category).openapi({ description: 'The kinds this account may choose (parents their news, staff new parent messages)' }),
    categories: z.array(Category).openapi({ description: 'The kinds chosen' }),
    quietFrom: Hour.nullable().openapi({ description: 'Quiet hours start (whole hour, Dutch time), or null for none' }),
    quietUntil: Hour.nullable().openapi({ description: 'Quiet hours end (whole hour, Dutch time), or null for none' }),
    devices: z.array(z.object({ id: z.number().int(), device: z.string(), createdAt: z.string() })).openapi({ description: 'The browsers that get the pushes' }),
  })
  .openapi('PushSettings');

const PushSettingsInput = z
  .object({
    categories: z.array(z.string().max(40)).max(20),
    quietFrom: Hour.nullable().optional(),
    quietUntil: Hour.nullable().optional(),
  })
  .strict()
  .openapi('PushSettingsInput');

const SubscriptionInput = z
  .object({
    endpoint: z.string().max(2000).openapi({ description: "The push service's endpoint (PushSubscription.endpoint; https only)" }),
    keys: z.object({ p256dh: z.string().max(120), auth: z.string().max(40) }).openapi({ description: 'PushSubscription.toJSON().keys' }),
    device: z.string().max(100).optional().openapi({ description: 'A name for the device, shown in the list', example: 'Telefoon van Anna' }),
  })
  .strict()
  .openapi('PushSubscriptionInput');

const getSettings = createRoute({
  method: 'get',
  path: '/push/settings',
  operationId: 'getPushSettings',
  tags,
  summary: 'My push notifications: the kinds of news, quiet hours and devices',
  responses: { 200: json(PushSettings, 'My push settings'), ...errors(404) },
});

const putSettings = createRoute({
  method: 'put',
  path: '/push/settings',
  operationId: 'setPushSettings',
  tags,
  summary: 'Choose the kinds of news and the quiet hours (both ends, or neither)',
  request: { body: { content: { 'application/json': { schema: PushSettingsInput } }, required: true } },
  responses: { 200: json(PushSettings, 'My push settings after the change'), ...errors(404, 422) },
});

const getKey = createRoute({
  method: 'get',
  path: '/push/vapid-key',
  operationId: 'getPushKey',
  tags,
  summary: "The portal's VAPID public key: the applicationServerKey for PushManager.subscribe()",
  responses: {
    200: json(z.object({ publicKey: z.string().openapi({ description: 'Uncompressed P-256 point, base64url' }) }).openapi('PushKey'), 'The key'),
    ...errors(),
  },
});

const subscribe = createRoute({
  method: 'post',
  path: '/push/subscriptions',
  operationId: 'subscribePush',
  tags,
  summary: 'Register this browser (web view or installed web app) for my push notifications',
  request: { body: { content: { 'application/json': { schema: SubscriptionInput } }, required: true } },
  responses: {
    201: json(z.object({ id: z.number().int() }).openapi('PushSubscriptionCreated'), 'Registered (or refreshed)'),
    ...errors(404, 409, 422),
  },
});

const unsubscribe = createRoute({
  method: 'delete',
  path: '/push/subscriptions/{id}',
  operationId: 'unsubscribePush',
  tags,
  summary: 'Remove one of my devices from my push notifications',
  request: { params: z.object({ id: z.coerce.number().int().positive().max(2_147_483_647).openapi({ param: { name: 'id', in: 'path' }, example: 3 }) }) },
  responses: { 204: { description: 'Removed' }, ...errors(404, 422) },
});

const settingsOut = (s: Awaited<ReturnType<typeof ownPushSettings>>) => ({
  available: [...s.available],
  categories: s.categories,
  quietFrom: s.quietFrom,
  quietUntil: s.quietUntil,
  devices: s.devices.map((d) => ({ id: d.id, device: d.device, createdAt: d.createdAt.toISOString() })),
});

export const pushRoutes: ApiModule = (api) => {
  api.openapi(getSettings, async (c) => c.json(settingsOut(await ownPushSettings(c.var.em, c.var.api.actor)), 200));

  api.openapi(putSettings, async (c) => {
    const body = c.req.valid('json');
    await setOwnPushSettings(c.var.em, c.var.api.actor, body, { ip: c.var.clientIp });
    return c.json(settingsOut(await ownPushSettings(c.var.em, c.var.api.actor)), 200);
  });

  api.openapi(getKey, async (c) => c.json({ publicKey: (await vapidKeys(c.var.em)).publicKey }, 200));

  api.openapi(subscribe, async (c) => {
    const body = c.req.valid('json');
    const { id } = await subscribeOwnDevice(c.var.em, c.var.api.actor, body, { ip: c.var.clientIp });
    return c.json({ id }, 201);
  });

  api.openapi(unsubscribe, async (c) => {
    await unsubscribeOwnDevice(c.var.em, c.var.api.actor, { id: c.req.valid('param').id }, { ip: c.var.clientIp });
    return c.body(null, 204);
  });
};
