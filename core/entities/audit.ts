import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../clock.ts';

/**
 * What happened, by whom, to whom: logins, failures, password changes, invitations,
 * suspensions (and later consent changes, downloads, exports). Rows are only ever added.
 * `subject` is the e-mail or child number the event is about, kept as text so the trail
 * survives the deletion of the record itself.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  indexes: [{ properties: ['at'] }, { properties: ['accountId', 'at'] }, { properties: ['type', 'at'] }],
  properties: {
    id: p.bigint('number').primary(),
    at: p.datetime().onCreate(stamp),
    type: p.string().length(60),
    actor: p.string().length(200),
    accountId: p.integer().nullable(),
    subject: p.string().length(320).nullable(),
    ip: p.string().length(64).nullable(),
    details: p.json<Record<string, unknown>>().nullable(),
  },
});
export type IAuditEvent = InferEntity<typeof AuditEvent>;
