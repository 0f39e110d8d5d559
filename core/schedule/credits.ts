import type { EntityManager } from '@mikro-orm/postgresql';
import { dayOf } from '../dates.ts';
import type { DayPart } from '../entities/schedule.ts';
import { sql } from '../db/sql.ts';
import { clockOf } from '../clock.ts';

/**
 * Ruildagen tegoed: each cancelled day (that earns one) is a credit, usable for one request
 * until it expires. A credit is `available` (usable now), `requested` (backing a pending
 * request), `used` (its request was approved) or `expired` (not used in time).
 */

export type CreditState = 'available' | 'requested' | 'used' | 'expired';

export interface CreditView {
  id: number;
  groupId: number;
  sourceDate: string;
  part: DayPart;
  expiresOn: string;
  state: CreditState;
}

/** The credits of some children, soonest expiry first (the one to use first on top). */
export async function creditsOf(em: EntityManager, childIds: number[], now: Date = clockOf(em).now()): Promise<Map<number, CreditView[]>> {
  const result = new Map<number, CreditView[]>(childIds.map((id) => [id, []]));
  if (childIds.length === 0) return result;
  const rows = await sql<{ id: number; child_id: number; group_id: number; source_date: string; part: DayPart; expires_on: string; open: string | null }>(
    em,
    `select c.id, c.child_id, c.group_id, to_char(c.source_date, 'YYYY-MM-DD') as source_date, c.part,
            to_char(c.expires_on, 'YYYY-MM-DD') as expires_on,
            (select r.status from swap_request r where r.credit_id = c.id and r.status in ('pending', 'approved') limit 1) as open
       from swap_credit c
      where c.child_id in (select json_array_elements_text(?::json)::int)
      order by c.expires_on, c.source_date, c.id`,
    [JSON.stringify(childIds)],
  );
  const t = dayOf(now);
  for (const r of rows) {
    const state: CreditState = r.open === 'approved' ? 'used' : r.open === 'pending' ? 'requested' : r.expires_on < t ? 'expired' : 'available';
    result.get(r.child_id)?.push({ id: r.id, groupId: r.group_id, sourceDate: r.source_date, part: r.part, expiresOn: r.expires_on, state });
  }
  return result;
}

/** How many credits can still be used, and the first expiry among them. */
export function balance(credits: CreditView[]): { available: number; nextExpiry: string | null } {
  const usable = credits.filter((c) => c.state === 'available');
  return { available: usable.length, nextExpiry: usable[0]?.expiresOn ?? null };
}
