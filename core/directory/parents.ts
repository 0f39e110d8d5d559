import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { authorize } from '../access/index.ts';
import { idFilter, idsInScope } from '../authorization.ts';
import { inTransaction } from '../db/errors.ts';
import { Organisation } from '../entities/organisation.ts';
import { Guardianship, type IParent, Parent } from '../entities/parent.ts';
import { conflict, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { email, language, optionalPhone, optionalText, parseInput, text } from '../validation.ts';
import { listChildren } from './children.ts';
import { findChild, findParent } from './refs.ts';

export interface ParentView {
  email: string;
  name: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  phone: string | null;
  language: 'nl' | 'en';
  children: { childNumber: string; name: string }[];
}

async function toViews(em: EntityManager, parents: IParent[]): Promise<ParentView[]> {
  const links = await em.find(
    Guardianship,
    { parent: { $in: parents.map((p) => p.id) } },
    { populate: ['child'], orderBy: { child: { birthDate: 'asc' } } },
  );
  return parents.map((p) => ({
    email: p.email,
    name: fullName(p),
    firstName: p.firstName,
    infix: p.infix ?? null,
    lastName: p.lastName,
    phone: p.phone ?? null,
    language: p.language,
    children: links
      .filter((l) => l.parent.id === p.id)
      .map((l) => ({ childNumber: l.child.childNumber, name: fullName(l.child) })),
  }));
}

const addSchema = z.object({
  email,
  firstName: text(100, 'first name'),
  infix: optionalText(50, 'infix'),
  lastName: text(100, 'last name'),
  phone: optionalPhone,
  language: language.optional(),
  children: z.array(z.string().trim().min(1)).default([]),
});
export type AddParentInput = z.input<typeof addSchema>;

export async function addParent(em: EntityManager, actor: Actor, input: AddParentInput): Promise<ParentView> {
  requireAdmin(actor, 'directory.manage');
  const { children, ...data } = parseInput(addSchema, input);
  const parent = await inTransaction(em, async (tx) => {
    // The e-mail is already normalised, so "Anna@X.nl " and "anna@x.nl" are the same parent.
    if (await tx.findOne(Parent, { email: data.email })) throw conflict(`a parent with e-mail ${data.email} already exists`);
    const org = await tx.findOne(Organisation, { id: 1 });
    const p = tx.create(Parent, {
      ...data,
      infix: data.infix ?? null,
      phone: data.phone ?? null,
      language: data.language ?? org?.defaultLanguage ?? 'nl',
    });
    for (const childNumber of children) tx.create(Guardianship, { parent: p, child: await findChild(tx, childNumber) });
    return p;
  });
  return (await toViews(em, [parent]))[0]!;
}

export async function showParent(em: EntityManager, actor: Actor, emailAddress: string): Promise<ParentView> {
  const parent = await findParent(em, emailAddress);
  await authorize(em, actor, 'parent.read', parent.id, `parent "${parent.email}"`);
  return (await toViews(em, [parent]))[0]!;
}

/** Parents of the children the actor may see (staff: their groups), filtered by group/location/child. */
export async function listParents(
  em: EntityManager,
  actor: Actor,
  filter: { group?: string; location?: string } = {},
): Promise<ParentView[]> {
  const scope = await idsInScope(em, actor, 'parent.read');
  let where = idFilter(scope);
  if (filter.group || filter.location) {
    const children = await listChildren(em, actor, filter);
    const childNumbers = children.map((c) => c.childNumber);
    const linked = (await em.find(Guardianship, { child: { childNumber: { $in: childNumbers } } })).map((l) => l.parent.id);
    where = { id: { $in: scope === 'all' ? linked : linked.filter((id) => scope.includes(id)) } };
  }
  const parents = await em.find(Parent, where, { orderBy: { lastName: 'asc', firstName: 'asc', email: 'asc' } });
  return await toViews(em, parents);
}

export async function linkParent(
  em: EntityManager,
  actor: Actor,
  emailAddress: string,
  childNumber: string,
): Promise<ParentView & { changed: boolean }> {
  requireAdmin(actor, 'directory.manage');
  const changed = await inTransaction(em, async (tx) => {
    const parent = await findParent(tx, emailAddress);
    const child = await findChild(tx, childNumber);
    if (await tx.findOne(Guardianship, { parent: parent.id, child: child.id })) return false;
    tx.create(Guardianship, { parent, child });
    return true;
  });
  return { ...(await showParent(em, actor, emailAddress)), changed };
}

export async function unlinkParent(
  em: EntityManager,
  actor: Actor,
  emailAddress: string,
  childNumber: string,
): Promise<ParentView> {
  requireAdmin(actor, 'directory.manage');
  await inTransaction(em, async (tx) => {
    const parent = await findParent(tx, emailAddress);
    const child = await findChild(tx, childNumber);
    const link = await tx.findOne(Guardianship, { parent: parent.id, child: child.id });
    if (!link) throw notFound(`a link between ${parent.email} and child ${child.childNumber}`);
    tx.remove(link);
  });
  return await showParent(em, actor, emailAddress);
}
