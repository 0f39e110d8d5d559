import { z } from 'zod';
import { parseDate } from './dates.ts';
import { DomainError } from './errors.ts';

/**
 * Validates a use case's input with its zod schema. Every problem is reported at once, each
 * with the field it is about, so a CLI or a form can show them all next to the right place.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(input)',
    message: issue.message,
  }));
  throw new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/** Trims; turns empty strings into undefined so optional fields can be cleared from a form. */
const trimmed = z.string().trim();

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

export const email = z
  .string()
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
