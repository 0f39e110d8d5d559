import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { Language } from '../entities/organisation.ts';
import { NOTIFICATION_MODES, type NotificationMode, Parent } from '../entities/parent.ts';
import { forbidden, invalid, notFound } from '../errors.ts';
import { publicBaseUrl } from '../mail/account-mail.ts';

/**
 * E-mail notifications: each parent chooses off, immediately, or a daily digest (the default, at
 * notifications.digestHour). The senders (diary, messages) read `Parent.notificationMode` and put
 * `notificationHeaders()` on every notification mail, so one click in the mail program, or the
 * link in the mail, switches notifications off without logging in (RFC 8058).
 *
 * The unsubscribe link carries `<parentId>.<HMAC-SHA256(key, "unsubscribe:v1:<parentId>")>`, the
 * key being 256 random bits in the server_secret table (made at first use, shared by every
 * process). It cannot be forged without the key, and it names one parent: changing the id breaks
 * the signature. It does not expire (mail programs offer the button long after the mail came);
 * deleting the key row voids every link ever sent. The only thing it can do is switch that
 * parent's notifications off.
 */

export const UNSUBSCRIBE_PATH = '/uitschrijven/';
const KEY_NAME = 'unsubscribe';
const TOKEN = /^([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/;

export function isNotificationMode(value: unknown): value is NotificationMode {
  return typeof value === 'string' && (NOTIFICATION_MODES as readonly string[]).includes(value);
}

/** A parent sets their own notification choice. */
export async function setNotificationMode(
  em: EntityManager,
  actor: Actor,
  mode: NotificationMode,
  options: { ip?: string | null } = {},
): Promise<void> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) throw forbidden('notifications are for parents');
  if (!isNotificationMode(mode)) throw invalid('notificationMode', 'must be off, immediate or digest');
  await em.transactional(async (tx) => {
    const parent = await tx.findOne(Parent, { id: parentId });
    if (!parent) throw notFound('parent');
    if (parent.notificationMode === mode) return;
    const from = parent.notificationMode;
    parent.notificationMode = mode;
    audit(tx, { type: 'notifications.changed', actor, subject: parent.email, ip: options.ip ?? null, details: { from, to: mode } });
  });
}

/** The named signing key, made (256 random bits) the first time anyone asks; the same for every process. */
export async function signingKey(em: EntityManager, name: string): Promise<Buffer> {
  const conn = em.getConnection();
  await conn.execute(
    'insert into server_secret (name, value, created_at) values (?, ?, ?) on conflict (name) do nothing',
    [name, randomBytes(32).toString('hex'), clockOf(em).now()],
  );
  const rows = await conn.execute<{ value: string }[]>('select value from server_secret where name = ?', [name]);
  return Buffer.from(rows[0]!.value, 'hex');
}

function mac(key: Buffer, parentId: number): string {
  return createHmac('sha256', key).update(`unsubscribe:v1:${parentId}`).digest('base64url');
}

/** The token in one parent's unsubscribe link. */
export async function unsubscribeToken(em: EntityManager, parentId: number): Promise<string> {
  return `${parentId}.${mac(await signingKey(em, KEY_NAME), parentId)}`;
}

/** The parent a token was signed for, or undefined when it is malformed or its signature is wrong. */
export async function verifyUnsubscribeToken(em: EntityManager, token: string): Promise<number | undefined> {
  const m = TOKEN.exec(token);
  if (!m) return undefined;
  const parentId = Number(m[1]);
  const expected = Buffer.from(mac(await signingKey(em, KEY_NAME), parentId));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? parentId : undefined;
}

/** "https://ouders.example.nl" + token → the page that asks "no more e-mails?". */
export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${UNSUBSCRIBE_PATH}${token}`;
}

/**
 * The headers every notification mail to this parent carries: List-Unsubscribe (the link) and
 * List-Unsubscribe-Post (RFC 8058 one-click: the mail program POSTs to the link). Mail programs
 * honour one-click only on DKIM-signed mail, so sign the portal's mail at the SMTP relay.
 */
export async function notificationHeaders(
  deps: { em: EntityManager; config: Readonly<PortalConfig> },
  parent: { id: number },
): Promise<Record<string, string>> {
  const organisation = await getOrganisation(deps.em);
  const url = unsubscribeUrl(publicBaseUrl(deps, organisation.publicUrl), await unsubscribeToken(deps.em, parent.id));
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export interface UnsubscribeView {
  parentId: number;
  /** "a…@example.nl": enough to recognise, not the whole address (links get forwarded). */
  maskedEmail: string;
  language: Language;
  mode: NotificationMode;
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '…';
  return `${email[0]}…${email.slice(at)}`;
}

/** What the confirm page shows for a token; undefined for a bad token or a parent that is gone. */
export async function findUnsubscribe(em: EntityManager, token: string): Promise<UnsubscribeView | undefined> {
  const parentId = await verifyUnsubscribeToken(em, token);
  if (parentId === undefined) return undefined;
  const parent = await em.findOne(Parent, { id: parentId });
  if (!parent) return undefined;
  return { parentId, maskedEmail: maskEmail(parent.email), language: parent.language, mode: parent.notificationMode };
}

/** Switches the token's parent's notifications off. Idempotent; false for a bad token. */
export async function unsubscribe(
  em: EntityManager,
  token: string,
  options: { ip?: string | null; oneClick?: boolean } = {},
): Promise<boolean> {
  const parentId = await verifyUnsubscribeToken(em, token);
  if (parentId === undefined) return false;
  return await em.transactional(async (tx) => {
    const parent = await tx.findOne(Parent, { id: parentId });
    if (!parent) return false;
    if (parent.notificationMode !== 'off') {
      audit(tx, {
        type: 'notifications.changed',
        actor: options.oneClick ? 'mail:one-click' : 'web:unsubscribe-link',
        subject: parent.email,
        ip: options.ip ?? null,
        details: { from: parent.notificationMode, to: 'off' },
      });
      parent.notificationMode = 'off';
    }
    return true;
  });
}
