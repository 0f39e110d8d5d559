import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import type { Language } from './organisation.ts';
import { stamp } from '../clock.ts';

/** How a parent wants to hear of new things by e-mail: not at all, at once, or once a day. */
export const NOTIFICATION_MODES = ['off', 'immediate', 'digest'] as const;
export type NotificationMode = (typeof NOTIFICATION_MODES)[number];

/** An ouder/verzorger. `email` is the username, stored trimmed and lower case. */
export const Parent = defineEntity({
  name: 'Parent',
  tableName: 'parent',
  properties: {
    id: p.integer().primary(),
    email: p.string().length(320).unique(),
    firstName: p.string().length(100),
    infix: p.string().length(50).nullable(),
    lastName: p.string().length(100),
    phone: p.string().length(30).nullable(),
    language: p.enum(['nl', 'en'] as Language[]).default('nl'),
    /** Home address, as the parent gives it in Mijn gegevens (street and number, postcode, place). */
    street: p.string().length(200).nullable(),
    postalCode: p.string().length(10).nullable(),
    city: p.string().length(100).nullable(),
    /** E-mail notifications; a daily digest unless the parent chooses otherwise. */
    notificationMode: p.enum(['off', 'immediate', 'digest'] as NotificationMode[]).default('digest'),
    /** News up to this moment has been mailed (or queued); see core/notifications/notify.ts. */
    notifiedUntil: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IParent = InferEntity<typeof Parent>;

/** The ouder-kind-relatie: which parent may see which child. Many to many. */
export const Guardianship = defineEntity({
  name: 'Guardianship',
  tableName: 'guardianship',
  uniques: [{ properties: ['parent', 'child'] }],
  indexes: [{ properties: ['child'] }],
  properties: {
    id: p.integer().primary(),
    parent: p.manyToOne(Parent).deleteRule('cascade'),
    child: p.manyToOne(Child).deleteRule('cascade'),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IGuardianship = InferEntity<typeof Guardianship>;
