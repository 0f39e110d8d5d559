import type { EntityManager } from '@mikro-orm/postgresql';
import { type ActionsOn, authorize, parentIdOf, type Side, sideOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { Account } from '../entities/account.ts';
import { PushSetting, PushSubscription } from '../entities/push.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { isPushCategory, PARENT_CATEGORIES, type PushCategory, STAFF_CATEGORIES } from './categories.ts';

/**
 * Subscribing to Web Push is about the actor's own account only. Each use case names its action
 * of the catalogue (`account.pushSubscribe`, `account.pushSettings`, `pushSubscription.remove`:
 * the rule "their own account", which a suspended parent or a deactivated staff member no longer
 * matches), and every query here is also bound to the account behind the actor, so another
 * account's subscription is simply not found. A browser endpoint already held by another account
 * (two parents on one tablet) moves only when the keys sent with it are the same: they are known
 * only to that browser and the portal.
 */

/** Browsers (devices) per account; the oldest goes when a new one comes past it. */
export const MAX_SUBSCRIPTIONS = 10;

export interface SubscriptionInput {
  endpoint: unknown;
  keys?: { p256dh?: unknown; auth?: unknown } | null;
  device?: unknown;
}

export interface PushOptions {
  /** Accept http:// and loopback endpoints: only for the test stand-in, never from config. */
  allowLoopback?: boolean;
  ip?: string | null;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function bytes(value: unknown, path: string, length: number): string {
  if (typeof value !== 'string' || !B64URL.test(value) || Buffer.from(value, 'base64url').length !== length) {
    throw invalid(path, `must be ${length} bytes, base64url`);
  }
  return value;
}

/** A push service's endpoint: an https URL on a named host (no IP literal, no localhost), so a subscription cannot point the server at its own network. */
export function checkEndpoint(value: unknown, allowLoopback = false): string {
  if (typeof value !== 'string' || value.length > 2000) throw invalid('endpoint', 'must be a URL of at most 2000 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('endpoint', 'must be a URL');
  }
  if (allowLoopback && url.protocol === 'http:' && url.hostname === '127.0.0.1') return url.href;
  const ipLiteral = /^[0-9.]+$/.test(url.hostname) || url.hostname.startsWith('[');
  if (url.protocol !== 'https:' || ipLiteral || url.hostname === 'localhost' || !url.hostname.includes('.') || url.username || url.password) {
    throw invalid('endpoint', 'must be an https address of a push service');
  }
  return url.href;
}

/** The id of the account behind the actor, if it has one (the terminal admin has none). */
async function accountIdOf(em: EntityManager, actor: Actor): Promise<number | undefined> {
  const parentId = parentIdOf(actor);
  const staffId = staffIdOf(actor);
  const where = parentId !== undefined ? { parent: parentId } : staffId !== undefined ? { staff: staffId } : undefined;
  return where ? (await em.findOne(Account, where, { fields: ['id'] }))?.id : undefined;
}

/** The actor's own account, once the catalogue allows `action` on it; not found otherwise (no account, suspended). */
export async function ownAccountId(em: EntityManager, actor: Actor, action: ActionsOn<'account'>): Promise<number> {
  const accountId = await accountIdOf(em, actor);
  await authorize(em, actor, action, accountId, 'account');
  return accountId!;
}

/** The categories a side may choose: parents their news, staff new parent messages. */
export function categoriesFor(side: Side): readonly PushCategory[] {
  return side === 'parent' ? PARENT_CATEGORIES : STAFF_CATEGORIES;
}

/** Registers (or refreshes) one browser of the actor's own account. */
export async function subscribeOwnDevice(
  em: EntityManager,
  actor: Actor,
  input: SubscriptionInput,
  options: PushOptions = {},
): Promise<{ id: number }> {
  const endpoint = checkEndpoint(input.endpoint, options.allowLoopback);
  const p256dh = bytes(input.keys?.p256dh, 'keys.p256dh', 65);
  const auth = bytes(input.keys?.auth, 'keys.auth', 16);
  if (Buffer.from(p256dh, 'base64url')[0] !== 0x04) throw invalid('keys.p256dh', 'must be an uncompressed P-256 point');
  const device = typeof input.device === 'string' ? input.device.replace(/[\p{Cc}]/gu, '').trim().slice(0, 100) : '';
  const accountId = await ownAccountId(em, actor, 'account.pushSubscribe');
  return await em.transactional(async (tx) => {
    const now = clockOf(tx).now();
    const existing = await tx.findOne(PushSubscription, { endpoint });
    if (existing && existing.account.id !== accountId && (existing.p256dh !== p256dh || existing.auth !== auth)) {
      throw conflict('this push endpoint belongs to another browser');
    }
    const row = existing ?? tx.create(PushSubscription, { account: accountId, endpoint, p256dh, auth, device, createdAt: now });
    Object.assign(row, { account: tx.getReference(Account, accountId), p256dh, auth, device });
    if (!(await tx.findOne(PushSetting, { account: accountId }))) {
      // First device: every kind of news of the actor's side, from now on (no flood of the past).
      tx.create(PushSetting, { account: accountId, categories: [...categoriesFor(sideOf(actor))], pushedUntil: now });
    }
    await tx.flush();
    const others = await tx.find(PushSubscription, { account: accountId, id: { $ne: row.id } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
    for (const old of others.slice(MAX_SUBSCRIPTIONS - 1)) tx.remove(old);
    audit(tx, { type: 'push.subscribed', actor, accountId, subject: null, ip: options.ip ?? null, details: { device } });
    await tx.flush();
    return { id: row.id };
  });
}

/** Removes one browser of the actor's own account, by id (the settings page) or endpoint (the browser itself). */
export async function unsubscribeOwnDevice(
  em: EntityManager,
  actor: Actor,
  which: { id?: number; endpoint?: string },
  options: PushOptions = {},
): Promise<void> {
  const accountId = await accountIdOf(em, actor);
  const where =
    accountId === undefined
      ? undefined
      : which.id !== undefined && Number.isSafeInteger(which.id) && which.id > 0 && which.id <= 2_147_483_647
        ? { id: which.id, account: accountId }
        : typeof which.endpoint === 'string' && which.endpoint.length <= 2000
          ? { endpoint: which.endpoint, account: accountId }
          : undefined;
  const row = where ? await em.findOne(PushSubscription, where) : null;
  if (!row) throw notFound('push subscription');
  // Found among the account's own; the catalogue still has its say (a suspended parent: no).
  await authorize(em, actor, 'pushSubscription.remove', row.id, 'push subscription');
  em.remove(row);
  audit(em, { type: 'push.unsubscribed', actor, accountId, subject: null, ip: options.ip ?? null, details: { device: row.device } });
  await em.flush();
}

export interface PushSettingsView {
  available: readonly PushCategory[];
  categories: PushCategory[];
  quietFrom: number | null;
  quietUntil: number | null;
  devices: { id: number; device: string; createdAt: Date }[];
}

/** The actor's own push choices and devices, for Mijn gegevens. */
export async function ownPushSettings(em: EntityManager, actor: Actor): Promise<PushSettingsView> {
  const accountId = await ownAccountId(em, actor, 'account.pushSettings');
  const setting = await em.findOne(PushSetting, { account: accountId });
  const available = categoriesFor(sideOf(actor));
  const devices = await em.find(PushSubscription, { account: accountId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return {
    available,
    categories: available.filter((c) => (setting ? setting.categories.includes(c) : true)),
    quietFrom: setting?.quietFrom ?? null,
    quietUntil: setting?.quietUntil ?? null,
    devices: devices.map((d) => ({ id: d.id, device: d.device, createdAt: d.createdAt })),
  };
}

function hour(value: unknown, path: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : /^\d{1,2}$/.test(String(value)) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 23) throw invalid(path, 'must be a whole hour from 0 to 23');
  return n;
}

/** Sets which kinds of news the actor's own devices get, and the quiet hours (both or neither). */
export async function setOwnPushSettings(
  em: EntityManager,
  actor: Actor,
  input: { categories: unknown; quietFrom?: unknown; quietUntil?: unknown },
  options: PushOptions = {},
): Promise<void> {
  const available = categoriesFor(sideOf(actor));
  const list = Array.isArray(input.categories) ? input.categories : input.categories === undefined ? [] : [input.categories];
  for (const c of list) if (!isPushCategory(c) || !available.includes(c)) throw invalid('categories', `unknown category ${String(c).slice(0, 40)}`);
  const quietFrom = hour(input.quietFrom, 'quietFrom');
  const quietUntil = hour(input.quietUntil, 'quietUntil');
  if ((quietFrom === null) !== (quietUntil === null)) throw invalid('quietUntil', 'give both ends of the quiet hours, or neither');
  if (quietFrom !== null && quietFrom === quietUntil) throw invalid('quietUntil', 'the quiet hours cannot start and end at the same hour');
  const accountId = await ownAccountId(em, actor, 'account.pushSettings');
  await em.transactional(async (tx) => {
    const setting =
      (await tx.findOne(PushSetting, { account: accountId })) ??
      tx.create(PushSetting, { account: accountId, categories: [], pushedUntil: clockOf(tx).now() });
    setting.categories = available.filter((c) => list.includes(c));
    setting.quietFrom = quietFrom;
    setting.quietUntil = quietUntil;
    audit(tx, { type: 'push.settings', actor, accountId, subject: null, ip: options.ip ?? null, details: { categories: setting.categories, quietFrom, quietUntil } });
  });
}
