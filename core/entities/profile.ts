import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Account } from './account.ts';
import { stamp } from '../clock.ts';

/**
 * A request to change an account's e-mail address (its username). At most one open request per
 * account. The confirmation link is made by the mail worker when it sends (like a reset link)
 * and stored only as its SHA-256; the row stays after confirmation as the record of the change
 * (the notice to the old address is composed from it).
 */
export const EmailChange = defineEntity({
  name: 'EmailChange',
  tableName: 'email_change',
  indexes: [{ properties: ['account', 'createdAt'] }],
  properties: {
    id: p.integer().primary(),
    account: p.manyToOne(Account).deleteRule('cascade'),
    oldEmail: p.string().length(320),
    newEmail: p.string().length(320),
    tokenHash: p.string().length(64).nullable().unique(),
    expiresAt: p.datetime().nullable(),
    confirmedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IEmailChange = InferEntity<typeof EmailChange>;

/**
 * Keys the server signs with (e.g. the one-click unsubscribe links in notification mails). Made
 * once, at first use, from 256 random bits; in the database so every web process shares them.
 * Deleting a row makes every link signed with it invalid.
 */
export const ServerSecret = defineEntity({
  name: 'ServerSecret',
  tableName: 'server_secret',
  properties: {
    name: p.string().length(50).primary(),
    value: p.string().length(64),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IServerSecret = InferEntity<typeof ServerSecret>;
