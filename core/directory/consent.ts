import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { audit } from '../audit.ts';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { assertCanSeeChild } from '../authorization.ts';
import { inTransaction } from '../db/errors.ts';
import { ConsentRecord, type ConsentSource, type IConsentRecord } from '../entities/child.ts';
import { fullName } from '../people.ts';
import { optionalText, parseInput, yesNo } from '../validation.ts';
import { type ChildView, listChildren } from './children.ts';
import { findChild } from './refs.ts';

export interface ConsentStatement {
  internal: boolean;
  external: boolean;
  source: ConsentSource;
  recordedBy: string;
  recordedAt: string;
  note: string | null;
}

export interface ConsentView {
  childNumber: string;
  name: string;
  /** In force now; null when none was ever recorded, which counts as no consent. */
  current: ConsentStatement | null;
  history: ConsentStatement[];
}

const statement = (r: IConsentRecord): ConsentStatement => ({
  internal: r.internal,
  external: r.external,
  source: r.source,
  recordedBy: r.recordedBy,
  recordedAt: r.recordedAt.toISOString(),
  note: r.note ?? null,
});

const setSchema = z.object({
  internal: yesNo,
  external: yesNo,
  note: optionalText(500, 'note'),
});
export type SetConsentInput = z.input<typeof setSchema>;

/**
 * Records a new consent statement for a child. Both answers are required every time, so a
 * statement is always complete on its own; the old ones stay as history.
 */
export async function setConsent(
  em: EntityManager,
  actor: Actor,
  childNumber: string,
  input: SetConsentInput,
  source: ConsentSource = 'cli',
): Promise<ConsentView & { changed: boolean }> {
  requireAdmin(actor, 'consent.record');
  const data = parseInput(setSchema, input);
  const changed = await inTransaction(em, async (tx) => {
    const child = await findChild(tx, childNumber);
    const [latest] = await tx.find(
      ConsentRecord,
      { child: child.id },
      { orderBy: { recordedAt: 'desc', id: 'desc' }, limit: 1 },
    );
    if (latest && latest.internal === data.internal && latest.external === data.external && !data.note) return false;
    tx.create(ConsentRecord, {
      child,
      internal: data.internal,
      external: data.external,
      note: data.note ?? null,
      source,
      recordedBy: actor.label,
    });
    audit(tx, {
      type: 'consent.changed',
      actor,
      subject: child.childNumber,
      details: { internal: data.internal, external: data.external, source },
    });
    return true;
  });
  return { ...(await showConsent(em, actor, childNumber)), changed };
}

export async function showConsent(em: EntityManager, actor: Actor, childNumber: string): Promise<ConsentView> {
  const child = await findChild(em, childNumber);
  await assertCanSeeChild(em, actor, child.id, `child "${childNumber.trim()}"`);
  const records = await em.find(ConsentRecord, { child: child.id }, { orderBy: { recordedAt: 'desc', id: 'desc' } });
  const history = records.map(statement);
  return { childNumber: child.childNumber, name: fullName(child), current: history[0] ?? null, history };
}

/** The consent overview of a group or location: every child with what is in force now. */
export async function listConsent(
  em: EntityManager,
  actor: Actor,
  filter: { group?: string; location?: string; missing?: boolean } = {},
): Promise<ChildView[]> {
  const children = await listChildren(em, actor, filter);
  return filter.missing ? children.filter((c) => !c.consent?.internal) : children;
}
