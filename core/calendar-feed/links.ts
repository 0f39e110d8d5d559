import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, parentIdOf, requireAdmin } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE } from '../auth/tokens.ts';
import { clockOf } from '../clock.ts';
import { Account } from '../entities/account.ts';
import { findParent } from '../directory/refs.ts';
import { CalendarFeed } from '../entities/calendar-feed.ts';
import type { Language } from '../entities/organisation.ts';
import { isDomainError } from '../errors.ts';

/**
 * The agenda-koppeling's link: per parent at most one, a random 256-bit token in the URL
 * (/agenda/<token>.ics) of which only the SHA-256 is stored. The URL is shown once, when it is
 * made; renewing makes a new token and the old URL answers 404 on its next request (the row's
 * hash is replaced), revoking deletes the row. Every use case, and every fetch of the feed,
 * asks the catalogue for `account.calendarFeed` on the parent's own login ("their own account",
 * a parent's): a suspended parent has no feed, and neither has staff.
 */

/** Where a feed is served: `${CALENDAR_FEED_PATH}<token>.ics`. */
export const CALENDAR_FEED_PATH = '/agenda/';

export const feedPath = (token: string) => `${CALENDAR_FEED_PATH}${token}.ics`;

export interface OwnFeedStatus {
  active: boolean;
  createdAt: Date | null;
}

/** The parent's own login, once the catalogue allows the feed on it; not found otherwise. */
async function ownAccount(em: EntityManager, actor: Actor): Promise<{ accountId: number; parentId: number }> {
  const parentId = parentIdOf(actor);
  const account = parentId === undefined ? null : await em.findOne(Account, { parent: parentId }, { fields: ['id'] });
  await authorize(em, actor, 'account.calendarFeed', account?.id, 'account');
  return { accountId: account!.id, parentId: parentId! };
}

/** Whether the parent has a feed link, and since when (the page never shows the URL again). */
export async function ownFeedStatus(em: EntityManager, actor: Actor): Promise<OwnFeedStatus> {
  const { parentId } = await ownAccount(em, actor);
  const row = await em.findOne(CalendarFeed, { parent: parentId });
  return { active: Boolean(row), createdAt: row?.createdAt ?? null };
}

/** Makes the parent's link, or a new one in place of the old (which stops working at once). Returns the token, once. */
export async function createOwnFeed(em: EntityManager, actor: Actor, options: { ip?: string | null } = {}): Promise<{ token: string; renewed: boolean }> {
  const { accountId, parentId } = await ownAccount(em, actor);
  const token = randomToken();
  return await em.transactional(async (tx) => {
    const now = clockOf(tx).now();
    // One statement, so two tabs renewing at once leave exactly one working link.
    const rows = await tx.getConnection().execute<{ renewed: boolean }[]>(
      `insert into calendar_feed (parent_id, token_hash, created_at) values (?, ?, ?)
       on conflict (parent_id) do update set token_hash = excluded.token_hash, created_at = excluded.created_at
       returning (xmax <> 0) as renewed`,
      [parentId, sha256Hex(token), now],
      'all',
      tx.getTransactionContext(),
    );
    const renewed = Boolean(rows[0]?.renewed);
    audit(tx, { type: 'calendar_feed.created', actor, accountId, subject: null, ip: options.ip ?? null, details: { renewed } });
    await tx.flush();
    return { token, renewed };
  });
}

/** Deletes the parent's link: its URL answers 404 from now on. False when there was none. */
export async function revokeOwnFeed(em: EntityManager, actor: Actor, options: { ip?: string | null } = {}): Promise<boolean> {
  const { accountId, parentId } = await ownAccount(em, actor);
  return await em.transactional(async (tx) => {
    const deleted = await tx.nativeDelete(CalendarFeed, { parent: parentId });
    if (deleted > 0) audit(tx, { type: 'calendar_feed.revoked', actor, accountId, subject: null, ip: options.ip ?? null });
    await tx.flush();
    return deleted > 0;
  });
}

/**
 * An administrator revokes a parent's link, for the helpdesk's "my calendar link ended up in a
 * shared agenda" when the parent cannot log in to do it themselves (suspension also ends the feed,
 * but is a different matter). Account management, like suspending; the parent makes a new link on
 * Mijn gegevens whenever they like.
 */
export async function revokeParentFeed(em: EntityManager, actor: Actor, email: string): Promise<{ email: string; revoked: boolean }> {
  requireAdmin(actor, 'accounts.manage');
  return await em.transactional(async (tx) => {
    const parent = await findParent(tx, email);
    const deleted = await tx.nativeDelete(CalendarFeed, { parent: parent.id });
    if (deleted > 0) {
      const account = await tx.findOne(Account, { parent: parent.id }, { fields: ['id'] });
      audit(tx, { type: 'calendar_feed.revoked', actor, accountId: account?.id ?? null, subject: parent.email });
    }
    await tx.flush();
    return { email: parent.email, revoked: deleted > 0 };
  });
}

export interface FeedOwner {
  actor: Actor;
  language: Language;
}

/**
 * The parent behind a feed URL's token, as the actor the feed is read for, while the catalogue
 * still allows it (an active parent's login); undefined for anything else, alike: an unknown,
 * renewed or revoked token, a suspended parent, a token of the wrong shape.
 */
export async function feedOwner(em: EntityManager, token: string): Promise<FeedOwner | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await em.findOne(CalendarFeed, { tokenHash: sha256Hex(token) }, { populate: ['parent'] });
  if (!row) return undefined;
  const parent = row.parent;
  const actor: Actor = { kind: 'parent', parentId: parent.id, label: parent.email };
  try {
    await ownAccount(em, actor);
  } catch (err) {
    if (isDomainError(err)) return undefined;
    throw err;
  }
  return { actor, language: parent.language };
}
