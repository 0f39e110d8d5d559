import { z } from 'zod';
import { parseDate } from './dates.ts';
import { DomainError } from './errors.ts';

/**
 * Validates a use case's input with its zod schema. Every problem is reported at once, each
 * with the field it is about, so a CLI or a form can show them all next to the right place.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  // Text PostgreSQL cannot store is refused before the schema runs, whatever the field's schema
  // (a bare z.string() or an enum included): it must never reach SQL as a crash.
  const unstorable = unstorableStrings(input);
  if (unstorable.length) {
    const details = unstorable.map((path) => ({ path: path || '(input)', message: UNSTORABLE_TEXT }));
    throw new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(input)',
    message: issue.message,
  }));
  throw new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/**
 * The message for text that cannot be stored. Stable: forms recognise it (isUnstorableText) to
 * show their own words next to the field.
 */
export const UNSTORABLE_TEXT = 'contains characters that cannot be stored (a NUL byte or broken Unicode)';

/**
 * Whether PostgreSQL can store a string as text, and it is valid Unicode. PostgreSQL refuses
 * U+0000 in text (error 22021: the INSERT crashes), and a lone UTF-16 surrogate (from a JSON
 * `"\ud800"`) is no character at all: the driver would silently store U+FFFD in its place.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}
// With the u flag a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

export const isUnstorableText = (message: string) => message === UNSTORABLE_TEXT;

/** The paths (`a.b.0`) of the strings in a parsed input that isStorableText refuses, keys included. */
export function unstorableStrings(input: unknown, path = '', depth = 0): string[] {
  if (typeof input === 'string') return isStorableText(input) ? [] : [path];
  // Plain objects and arrays only: an upload's Buffer or a Date holds no text to check.
  if (depth > 20 || input === null || typeof input !== 'object') return [];
  const proto = Object.getPrototypeOf(input);
  if (!Array.isArray(input) && proto !== Object.prototype && proto !== null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    const at = path ? `${path}.${key}` : key;
    if (!isStorableText(key)) out.push(at);
    else out.push(...unstorableStrings(value, at, depth + 1));
  }
  return out;
}

/** A string that isStorableText accepts: the base of every text schema below. */
export const storableString = z.string().refine(isStorableText, UNSTORABLE_TEXT);

/** Trims; turns empty strings into undefined so optional fields can be cleared from a form. */
const trimmed = storableString.trim();

export const text = (max: number, what = 'text') =>
  trimmed.min(1, `${what} is required`).max(max, `${what} is longer than ${max} characters`);

export const optionalText = (max: number, what = 'text') =>
  trimmed
    .max(max, `${what} is longer than ${max} characters`)
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional();

/** E-mail addresses are usernames: compared and stored trimmed and lower case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const email = storableString
  .transform(normalizeEmail)
  .pipe(z.email({ error: 'is not a valid e-mail address' }).max(320));

/** Dutch and international phone numbers: digits with optional +, spaces, dashes, brackets. */
export const phone = trimmed.refine(
  (v) => /^\+?[0-9 ()-]{6,20}$/.test(v) && v.replace(/\D/g, '').length >= 6,
  'is not a valid phone number (digits, spaces, + and - only)',
);

export const optionalPhone = z
  .union([z.literal(''), phone])
  .transform((v) => (v === '' ? null : v))
  .nullable()
  .optional();

export const language = z.enum(['nl', 'en'], { error: 'must be nl or en' });

/** A calendar date in ISO or Dutch notation, normalised to 'YYYY-MM-DD'. */
export const date = z.string().transform((v, ctx) => {
  const parsed = parseDate(v);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a date (use YYYY-MM-DD or DD-MM-YYYY)` });
    return z.NEVER;
  }
  return parsed;
});

/** Yes/no answers as people type them in a terminal or a spreadsheet. */
export const yesNo = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (['ja', 'j', 'yes', 'y', 'true', '1'].includes(s)) return true;
  if (['nee', 'n', 'no', 'false', '0'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `"${v}" is not yes or no (ja/nee, yes/no)` });
  return z.NEVER;
});
