import { createECDH } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { signingKey } from '../profile/notifications.ts';

/**
 * The portal's VAPID key pair (RFC 8292): push services accept a push only with a JWT signed by
 * the key whose public half the browser was given when it subscribed. The private key is 256
 * random bits in the server_secret table, like the other signing keys: made by `portal init`, or
 * on the first start of an older install; never in the config file, a log line or a job. The
 * public key is derived from it. Deleting the row makes a new pair, and every subscription then
 * fails at the push service (404/410) and is removed: devices subscribe again.
 */

const KEY_NAME = 'vapid';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: what PushManager.subscribe() takes as applicationServerKey. */
  publicKey: string;
  privateKey: string;
}

function fromPrivate(raw: Buffer): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(raw);
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: raw.toString('base64url') };
}

/** The key pair, made the first time anyone asks (the same for every process). */
export async function vapidKeys(em: EntityManager): Promise<VapidKeys> {
  return fromPrivate(await signingKey(em, KEY_NAME));
}

export type VapidKeyState =
  | { state: 'missing' }
  | { state: 'valid'; publicKey: string }
  | { state: 'invalid'; problem: string };

/**
 * Whether the key pair exists and is one a browser accepts, for `portal doctor`; makes nothing.
 * Valid: the stored private key is 32 bytes, a P-256 scalar, and the public key derived from it
 * decodes to a 65-byte uncompressed point (0x04, x, y), what PushManager.subscribe() takes.
 */
export async function vapidKeyState(em: EntityManager): Promise<VapidKeyState> {
  const rows = await em.getConnection().execute<{ value: string }[]>('select value from server_secret where name = ?', [KEY_NAME]);
  const stored = rows[0]?.value;
  if (stored === undefined) return { state: 'missing' };
  const raw = /^[0-9a-f]*$/i.test(stored) ? Buffer.from(stored, 'hex') : Buffer.alloc(0);
  if (raw.length !== 32) return { state: 'invalid', problem: `the private key is ${raw.length} bytes, not 32` };
  let publicKey: string;
  try {
    publicKey = fromPrivate(raw).publicKey;
  } catch {
    return { state: 'invalid', problem: 'the private key is not a P-256 key' };
  }
  const point = Buffer.from(publicKey, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return { state: 'invalid', problem: 'the public key is not an uncompressed P-256 point' };
  return { state: 'valid', publicKey };
}

/**
 * The contact push services see in the JWT (`sub`): the portal's https address, else a mailto:
 * of its sender address (an http address is refused by the push services).
 */
export function vapidSubject(baseUrl: string, sender: string): string {
  if (baseUrl.startsWith('https://')) return baseUrl;
  const address = /<([^>]+)>/.exec(sender)?.[1] ?? sender;
  return `mailto:${address.trim()}`;
}
