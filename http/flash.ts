import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * The confirmation after a redirect ("Uw wachtwoord is gewijzigd"): POST-redirect-GET without
 * a server-side store. The cookie carries only the name of a message from this list, never
 * text, so nobody can make the portal show words of their choosing. Read (and removed) by the
 * first page that renders.
 */
export const FLASH_KEYS = [
  'logged_out',
  'session_ended',
  'password_changed',
  'password_reset',
  'reset_requested',
  'second_factor_disabled',
  'photos_uploaded',
  'tags_saved',
  'photos_ready_to_tag',
  'photos_published',
  'photo_hidden',
  'photo_shown',
  'photo_deleted',
  'photo_retried',
  'photo_upload_gone',
  'details_saved',
  'language_saved',
  'notifications_saved',
  'push_saved',
  'push_device_removed',
  'email_change_sent',
  'email_changed',
  'diary_saved',
  'mentor_saved',
  'diary_written',
  'diary_changed',
  'message_sent',
  'announcement_sent',
  'announcement_confirmed',
  'reminder_sent',
  'reminder_already_today',
  'reminder_nobody',
  'talk_booked',
  'talk_moved',
  'talk_cancelled',
  'talks_published',
  'talks_none_new',
  'talk_withdrawn',
  'talk_held',
  'marked_read',
  'data_export_requested',
  'app_signed_out',
  'calendar_feed_revoked',
  'day_cancelled',
  'day_reinstated',
  'swap_requested',
  'swap_withdrawn',
  'swap_day_cancelled',
  'swap_approved',
  'swap_rejected',
  'sick_reported',
  'sick_ended',
  'pickup_saved',
  'pickup_cleared',
] as const;
export type FlashKey = (typeof FLASH_KEYS)[number];

export const FLASH_COOKIE = 'portal-flash';

export function setFlash(c: Context, key: FlashKey, secure: boolean): void {
  setCookie(c, FLASH_COOKIE, key, { path: '/', httpOnly: true, sameSite: 'Lax', secure, maxAge: 120 });
}

/** The pending message, removed as it is read. */
export function takeFlash(c: Context): FlashKey | undefined {
  const value = getCookie(c, FLASH_COOKIE);
  if (value === undefined) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: '/' });
  return (FLASH_KEYS as readonly string[]).includes(value) ? (value as FlashKey) : undefined;
}
