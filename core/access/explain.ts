import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { Account } from '../entities/account.ts';
import { Child } from '../entities/child.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import { normalizeEmail } from '../validation.ts';
import { type ActionName, catalogue } from './catalogue.ts';
import { explain, requireAdmin } from './engine.ts';

export interface AccessAnswer {
  email: string;
  action: ActionName;
  id: string | null;
  allowed: boolean;
  /** The rules that allow it (empty when refused). */
  by: string[];
  /** Every rule of the action, to read what would have allowed it. */
  rules: string[];
  suspended: boolean;
}

/**
 * `portal access can EMAIL ACTION [ID]`: may this person take this action on that object now,
 * and by which rule? For the helpdesk's "why can this parent not see that photo?". Admins only:
 * it reads another person's reach.
 */
export async function whyMay(em: EntityManager, admin: Actor, input: { email: string; action: string; id?: string }): Promise<AccessAnswer> {
  requireAdmin(admin, 'directory.manage');
  if (!Object.hasOwn(catalogue, input.action)) throw notFound(`action "${input.action}" (see portal access actions)`);
  const action = input.action as ActionName;
  const email = normalizeEmail(input.email);
  const parent = await em.findOne(Parent, { email });
  const staff = parent ? null : await em.findOne(Staff, { email });
  if (!parent && !staff) throw notFound(`parent or staff member "${input.email}"`);
  // The actor they are when they log in (core/auth/sessions.ts actorForAccount), account or not.
  const who: Actor = parent
    ? { kind: 'parent', parentId: parent.id, label: parent.email }
    : staff!.role === 'admin'
      ? { kind: 'admin', staffId: staff!.id, label: staff!.email }
      : { kind: staff!.role, staffId: staff!.id, label: staff!.email };
  const account = await em.findOne(Account, parent ? { parent: parent.id } : { staff: staff!.id }, { fields: ['suspendedAt'] });
  const target = catalogue[action].target;
  let id: number | string | undefined = input.id;
  if (input.id !== undefined && !['photo', 'thread', 'announcement', 'diaryEntry'].includes(target)) {
    // Children by their number, as everywhere at the terminal; other objects by id.
    const child = target === 'child' ? await em.findOne(Child, { childNumber: input.id.trim() }) : null;
    id = child ? child.id : Number(input.id);
  }
  const by = await explain(em, who, action, id);
  return {
    email,
    action,
    id: input.id ?? null,
    allowed: by.length > 0,
    by,
    rules: catalogue[action].anyOf.map((r) => r.name),
    suspended: Boolean(account?.suspendedAt),
  };
}
