import { randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../../core/actor.ts';
import { requireAdmin } from '../../core/access/index.ts';
import { notFound } from '../../core/errors.ts';
import { email, parseInput, storableString, text } from '../../core/validation.ts';
import { HELPDESK_CATEGORIES, HelpdeskRequest, type IHelpdeskRequest } from './entity.ts';
import { enqueueHelpdeskMails, type HelpdeskMailContext } from './mail.ts';
import { clockOf } from '../../core/clock.ts';

/**
 * The helpdesk's use cases. Anyone may ask (logged in or from the login page); only an
 * administrator reads, lists and closes questions (the CLI). A question and its two mails (to
 * the helpdesk, a confirmation to the requester) are committed together: a rolled-back
 * question queues nothing.
 */

/** Without 0/O and 1/I/L: a reference read out over the phone is not misheard. */
const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const REFERENCE = /^HD-[2-9A-HJKMNP-Z]{6}$/;

export function newReference(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  return `HD-${s}`;
}

/**
 * A same-site path to remember where the question was asked, or null: only "/…" (not "//…" or
 * "/\…", which browsers treat as another host), printable, at most 300 characters.
 */
export function safeFromPath(value: string | undefined | null): string | null {
  if (!value) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  if (value.length > 300 || [...value].some((ch) => ch <= ' ' || ch === '\u007f')) return null;
  return value;
}

export const submitSchema = z.object({
  subject: text(200, 'subject'),
  category: z.enum(HELPDESK_CATEGORIES, { error: 'choose a category' }),
  message: text(5000, 'message'),
  email: email,
  // storableString: a NUL byte in these is the form's field error too, not a crash in the INSERT.
  name: storableString.trim().max(200).nullable().optional(),
  fromPath: storableString.nullable().optional(),
  language: z.enum(['nl', 'en']).default('nl'),
});
export type SubmitInput = z.input<typeof submitSchema>;

export interface Requester {
  /** The logged-in account (its address is used, not a typed one), or undefined. */
  accountId?: number;
  ip: string | null;
}

export async function submitHelpdeskRequest(
  em: EntityManager,
  ctx: HelpdeskMailContext,
  requester: Requester,
  input: SubmitInput,
): Promise<{ reference: string; id: number }> {
  const data = parseInput(submitSchema, input);
  return await em.transactional(async (tx) => {
    const request = tx.create(HelpdeskRequest, {
      reference: newReference(),
      status: 'open',
      category: data.category,
      subject: data.subject,
      message: data.message,
      fromPath: safeFromPath(data.fromPath),
      email: data.email,
      name: data.name || null,
      accountId: requester.accountId ?? null,
      language: data.language,
      ip: requester.ip,
    });
    await tx.flush();
    await enqueueHelpdeskMails(ctx, tx, request.id);
    return { reference: request.reference, id: request.id };
  });
}

export interface HelpdeskRequestView {
  reference: string;
  createdAt: string;
  status: string;
  category: string;
  subject: string;
  message: string;
  fromPath: string | null;
  email: string;
  name: string | null;
  accountId: number | null;
  closedAt: string | null;
  closedBy: string | null;
}

const view = (r: IHelpdeskRequest): HelpdeskRequestView => ({
  reference: r.reference,
  createdAt: r.createdAt.toISOString(),
  status: r.status,
  category: r.category,
  subject: r.subject,
  message: r.message,
  fromPath: r.fromPath ?? null,
  email: r.email,
  name: r.name ?? null,
  accountId: r.accountId ?? null,
  closedAt: r.closedAt?.toISOString() ?? null,
  closedBy: r.closedBy ?? null,
});

export async function listHelpdeskRequests(
  em: EntityManager,
  actor: Actor,
  filter: { status?: 'open' | 'closed' | 'all'; limit?: number } = {},
): Promise<HelpdeskRequestView[]> {
  requireAdmin(actor, 'helpdesk.manage');
  const status = filter.status ?? 'open';
  const rows = await em.find(HelpdeskRequest, status === 'all' ? {} : { status }, {
    orderBy: { createdAt: 'desc', id: 'desc' },
    limit: filter.limit ?? 100,
  });
  return rows.map(view);
}

async function byReference(em: EntityManager, reference: string): Promise<IHelpdeskRequest> {
  const ref = reference.trim().toUpperCase();
  const row = REFERENCE.test(ref) ? await em.findOne(HelpdeskRequest, { reference: ref }) : null;
  if (!row) throw notFound(`helpdesk request ${reference}`);
  return row;
}

export async function getHelpdeskRequest(em: EntityManager, actor: Actor, reference: string): Promise<HelpdeskRequestView> {
  requireAdmin(actor, 'helpdesk.manage');
  return view(await byReference(em, reference));
}

/** Closes an open question; closing a closed one changes nothing. */
export async function closeHelpdeskRequest(em: EntityManager, actor: Actor, reference: string): Promise<HelpdeskRequestView> {
  requireAdmin(actor, 'helpdesk.manage');
  const row = await byReference(em, reference);
  if (row.status !== 'closed') {
    row.status = 'closed';
    row.closedAt = clockOf(em).now();
    row.closedBy = actor.label;
    await em.flush();
  }
  return view(row);
}
