import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { addDays } from '../dates.ts';
import { findLocation } from '../directory/refs.ts';
import { type IScheduleRules, ScheduleRules } from '../entities/schedule-rules.ts';
import { parseInput, yesNo } from '../validation.ts';

/**
 * The rules for afmelden (cancelling a contracted day) and ruilen (swapping it for another day),
 * as data: the organisation sets them once and a location may override any of them. The swap
 * use cases check these values and the FAQ prints the same values, so the answers parents read
 * can never contradict what the portal enforces.
 */
export interface Rules {
  /** Latest time (HH:MM, Europe/Amsterdam) to cancel a day on that day itself; later is refused. */
  cancelBefore: string;
  /** A swap must be requested at least this many days before the day it asks for (0: same day). */
  swapNoticeDays: number;
  /** A credit (from a cancelled day) can be used for a day up to this many weeks after the cancelled day. */
  creditValidWeeks: number;
  /** Whether a half day can be cancelled into a half-day credit and swapped on its own. */
  halfDaysSwappable: boolean;
  /** Closed on Dutch public holidays: such a day is not cancelled, gives no credit and cannot be asked for. */
  closedOnPublicHolidays: boolean;
}

/** The first day a swap day can be asked for: swapNoticeDays after today (requestSwap and the page's date field). */
export function earliestSwapDate(rules: Pick<Rules, 'swapNoticeDays'>, today: string): string {
  return addDays(today, rules.swapNoticeDays);
}

export type RuleKey = keyof Rules;
export const RULE_KEYS: readonly RuleKey[] = ['cancelBefore', 'swapNoticeDays', 'creditValidWeeks', 'halfDaysSwappable', 'closedOnPublicHolidays'];

/** What applies when neither the organisation nor the location says otherwise. */
export const DEFAULT_RULES: Readonly<Rules> = Object.freeze({
  cancelBefore: '09:00',
  swapNoticeDays: 1,
  creditValidWeeks: 8,
  halfDaysSwappable: true,
  closedOnPublicHolidays: true,
});

/** Where each value came from, for `portal schedule rules` (so an admin sees what a location overrides). */
export type RuleSource = 'location' | 'organisation' | 'default';
export interface ResolvedRules extends Rules {
  source: Record<RuleKey, RuleSource>;
}

function resolve(org: IScheduleRules | null | undefined, loc: IScheduleRules | null | undefined): ResolvedRules {
  const rules = { ...DEFAULT_RULES } as Rules;
  const source = {} as Record<RuleKey, RuleSource>;
  for (const key of RULE_KEYS) {
    const l = loc?.[key];
    const o = org?.[key];
    source[key] = l != null ? 'location' : o != null ? 'organisation' : 'default';
    (rules as unknown as Record<string, unknown>)[key] = l ?? o ?? DEFAULT_RULES[key];
  }
  return { ...rules, source };
}

/** The rules that apply at one location. */
export async function rulesFor(em: EntityManager, locationId: number): Promise<ResolvedRules> {
  return (await rulesForLocations(em, [locationId])).get(locationId)!;
}

/** The rules of several locations at once (one query), keyed by location id. */
export async function rulesForLocations(em: EntityManager, locationIds: readonly number[]): Promise<Map<number, ResolvedRules>> {
  const rows = await em.find(ScheduleRules, { $or: [{ location: null }, { location: { $in: [...locationIds] } }] });
  const org = rows.find((r) => r.location == null);
  const result = new Map<number, ResolvedRules>();
  for (const id of locationIds) result.set(id, resolve(org, rows.find((r) => r.location?.id === id)));
  return result;
}

/** The organisation's own rules (what locations without an override follow). */
export async function organisationRules(em: EntityManager): Promise<ResolvedRules> {
  return resolve(await em.findOne(ScheduleRules, { location: null }), null);
}

const time = z
  .string()
  .trim()
  .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'expected a time like 09:00')
  .transform((v) => v.padStart(5, '0'));
/** null, "" or "inherit" clear an override (back to the organisation's value, or the default). */
const orInherit = <T>(schema: z.ZodType<T>) =>
  z.unknown().transform((v, ctx): T | null => {
    if (v === null || v === '' || v === 'inherit') return null;
    const parsed = schema.safeParse(v);
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid value' });
    return z.NEVER;
  });
const whole = (min: number, max: number) =>
  z.coerce.number({ error: `expected a whole number from ${min} to ${max}` }).int(`expected a whole number from ${min} to ${max}`).min(min, `expected a whole number from ${min} to ${max}`).max(max, `expected a whole number from ${min} to ${max}`);

const patchSchema = z
  .object({
    cancelBefore: orInherit(time),
    swapNoticeDays: orInherit(whole(0, 60)),
    creditValidWeeks: orInherit(whole(1, 104)),
    halfDaysSwappable: orInherit(yesNo),
    closedOnPublicHolidays: orInherit(yesNo),
  })
  .partial()
  .strict();

export type RulesPatch = { [K in RuleKey]?: Rules[K] | string | null };

/**
 * Changes the rules of the organisation (`location` undefined) or of one location (name or id).
 * Values given as null, "" or "inherit" remove a location's override. Admins only; audited.
 */
export async function setRules(
  em: EntityManager,
  actor: Actor,
  location: string | undefined,
  patch: RulesPatch,
): Promise<ResolvedRules> {
  requireAdmin(actor, 'schedule.manage');
  const values = parseInput(patchSchema, patch);
  return em.transactional(async (tx) => {
    const loc = location === undefined ? null : await findLocation(tx, location);
    let row = await tx.findOne(ScheduleRules, { location: loc?.id ?? null });
    if (!row) row = tx.create(ScheduleRules, { location: loc?.id ?? null });
    const changed: Record<string, unknown> = {};
    for (const key of RULE_KEYS) {
      if (!(key in values)) continue;
      (row as unknown as Record<string, unknown>)[key] = values[key] ?? null;
      changed[key] = values[key] ?? null;
    }
    audit(tx, {
      type: 'schedule.rules_changed',
      actor,
      subject: loc ? `location:${loc.id}` : 'organisation',
      details: changed,
    });
    await tx.flush();
    return loc ? rulesFor(tx, loc.id) : organisationRules(tx);
  });
}

/** The rules of the organisation or one location, for `portal schedule rules`. */
export async function showRules(em: EntityManager, actor: Actor, location?: string): Promise<ResolvedRules & { location: string | null }> {
  requireAdmin(actor, 'schedule.manage');
  if (location === undefined) return { ...(await organisationRules(em)), location: null };
  const loc = await findLocation(em, location);
  return { ...(await rulesFor(em, loc.id)), location: loc.name };
}
