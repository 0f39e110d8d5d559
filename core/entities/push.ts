import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../clock.ts';
import { Account } from './account.ts';

/**
 * One browser (device) that subscribed an account to Web Push: the push service's endpoint and
 * the browser's public key and auth secret the payload is encrypted for (RFC 8291). Removed when
 * the account unsubscribes it or the push service answers 404/410 (the browser dropped it).
 */
export const PushSubscription = defineEntity({
  name: 'PushSubscription',
  tableName: 'push_subscription',
  properties: {
    id: p.integer().primary(),
    account: p.manyToOne(Account).deleteRule('cascade').index('push_subscription_account_index'),
    endpoint: p.string().length(2000).unique('push_subscription_endpoint_unique'),
    p256dh: p.string().length(120),
    auth: p.string().length(40),
    device: p.string().length(100).default(''),
    createdAt: p.datetime().onCreate(stamp),
    lastSentAt: p.datetime().nullable(),
  },
});
export type IPushSubscription = InferEntity<typeof PushSubscription>;

/**
 * What an account wants pushed (category names, see core/push/categories.ts), its quiet hours
 * (whole hours, Dutch time; none when either is null) and the end of the last window the push
 * scan handled.
 */
export const PushSetting = defineEntity({
  name: 'PushSetting',
  tableName: 'push_setting',
  checks: [
    { name: 'push_setting_quiet_from_check', expression: 'quiet_from >= 0 and quiet_from <= 23' },
    { name: 'push_setting_quiet_until_check', expression: 'quiet_until >= 0 and quiet_until <= 23' },
  ],
  properties: {
    account: p.oneToOne(Account).primary().deleteRule('cascade'),
    categories: p.json<string[]>().default('[]'),
    quietFrom: p.smallint().nullable(),
    quietUntil: p.smallint().nullable(),
    pushedUntil: p.datetime().nullable(),
  },
});
export type IPushSetting = InferEntity<typeof PushSetting>;
