import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../../core/clock.ts';

export const HELPDESK_CATEGORIES = ['inloggen', 'fotos', 'schriftje', 'berichten', 'overig'] as const;
export type HelpdeskCategory = (typeof HELPDESK_CATEGORIES)[number];

/**
 * A question sent with the helpdesk form. Kept as text (who asked, their address), not as a
 * link to the account, so it survives the account and can be read by the helpdesk from the CLI.
 * `reference` is what the requester gets on screen and in the confirmation mail.
 */
export const HelpdeskRequest = defineEntity({
  name: 'HelpdeskRequest',
  tableName: 'helpdesk_request',
  indexes: [{ properties: ['status', 'createdAt'] }],
  properties: {
    id: p.integer().primary(),
    reference: p.string().length(16).unique(),
    createdAt: p.datetime().onCreate(stamp),
    status: p.string().length(10).default('open'),
    closedAt: p.datetime().nullable(),
    closedBy: p.string().length(200).nullable(),
    category: p.string().length(20),
    subject: p.string().length(200),
    message: p.text(),
    /** The portal page the question was asked from (a same-site path), if known. */
    fromPath: p.string().length(300).nullable(),
    email: p.string().length(320),
    name: p.string().length(200).nullable(),
    /** The account that was logged in, or null for a question from the login page. */
    accountId: p.integer().nullable(),
    language: p.string().length(2),
    ip: p.string().length(64).nullable(),
  },
});
export type IHelpdeskRequest = InferEntity<typeof HelpdeskRequest>;
