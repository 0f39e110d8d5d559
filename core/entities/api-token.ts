import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Account } from './account.ts';
import { stamp } from '../clock.ts';

/**
 * A login of the mobile app: a bearer token, stored only as its SHA-256 (like session ids), so
 * neither a database dump nor a backup yields a working token. Revoked tokens keep their row
 * (revokedAt) so "Mijn gegevens" and the audit can still say which device it was.
 */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_token',
  indexes: [{ properties: ['account'] }],
  properties: {
    id: p.integer().primary(),
    tokenHash: p.string().length(64).unique(),
    account: p.manyToOne(Account).deleteRule('cascade'),
    /** What the app called the device at login ("iPhone van Anna"), for the list in Mijn gegevens. */
    name: p.string().length(100),
    createdAt: p.datetime().onCreate(stamp),
    lastUsedAt: p.datetime(),
    /** Sliding: each use moves it to lastUsedAt + the token lifetime. */
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
});
export type IApiToken = InferEntity<typeof ApiToken>;
