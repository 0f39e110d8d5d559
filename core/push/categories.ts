import type { Language } from '../entities/organisation.ts';

/**
 * What can be pushed, per side. A push says only which kind of news there is and links to where
 * it is: no child's name, no text of a message or entry, no count per child. The lock screen of
 * a phone is not behind the login.
 */
export const PARENT_CATEGORIES = ['photos', 'diary', 'replies', 'announcements', 'decisions'] as const;
export const STAFF_CATEGORIES = ['parentMessages'] as const;
export type PushCategory = (typeof PARENT_CATEGORIES)[number] | (typeof STAFF_CATEGORIES)[number];
export const ALL_CATEGORIES: readonly PushCategory[] = [...PARENT_CATEGORIES, ...STAFF_CATEGORIES];

export function isPushCategory(value: unknown): value is PushCategory {
  return typeof value === 'string' && (ALL_CATEGORIES as readonly string[]).includes(value);
}

/** Where a push of each kind leads (a path of the portal; the worker puts the base URL before it). */
export const CATEGORY_PATHS: Record<PushCategory, string> = {
  photos: '/fotos',
  diary: '/',
  replies: '/berichten',
  announcements: '/berichten',
  decisions: '/ruilen',
  parentMessages: '/berichten',
};

const TITLES: Record<Language, Record<PushCategory, string>> = {
  nl: {
    photos: "Nieuwe foto's in het ouderportaal",
    diary: 'Nieuw in het schriftje',
    replies: 'Antwoord op je bericht',
    announcements: 'Nieuwe mededeling',
    decisions: 'Je aanvraag is beoordeeld',
    parentMessages: 'Nieuw bericht van een ouder',
  },
  en: {
    photos: 'New photos in the parent portal',
    diary: 'New in the diary',
    replies: 'A reply to your message',
    announcements: 'New announcement',
    decisions: 'Your request has been decided',
    parentMessages: 'New message from a parent',
  },
};

/** The whole payload of a push: a short title and a link. Nothing else leaves the portal. */
export interface PushPayload {
  title: string;
  url: string;
}

export function payloadFor(category: PushCategory, language: Language, baseUrl: string): PushPayload {
  return { title: TITLES[language][category], url: `${baseUrl.replace(/\/+$/, '')}${CATEGORY_PATHS[category]}` };
}
