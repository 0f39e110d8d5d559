import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { authorize } from '../access/index.ts';
import { idFilter, idsInScope } from '../authorization.ts';
import { applyAddressChange, type AddressChange, requestAddressChange } from '../accounts/address-change.ts';
import { endSessionsOf } from '../accounts/accounts.ts';
import { audit } from '../audit.ts';
import { dryRunnable } from '../db/dry-run.ts';
import { inTransaction } from '../db/errors.ts';
import { Organisation } from '../entities/organisation.ts';
import { Guardianship, type IParent, Parent } from '../entities/parent.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { eraseParent } from '../gdpr/erase.ts';
import type { MailContext } from '../mail/account-mail.ts';
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

const updateSchema = z.object({
  firstName: text(100, 'first name').optional(),
  infix: optionalText(50, 'infix'),
  lastName: text(100, 'last name').optional(),
  phone: optionalPhone,
  language: language.optional(),
  email: email.optional(),
});
export type UpdateParentInput = z.input<typeof updateSchema>;

export interface ParentUpdate extends ParentView {
  /** The fields that changed (an address change is reported in `emailChange`). */
  changed: string[];
  emailChange: AddressChange | null;
  dryRun: boolean;
}

/**
 * `portal parents update`: name, phone, language, and the e-mail address (the username). A new
 * address goes through the parents' own confirmation (the change applies when the link in the
 * mail to it is opened) unless `confirm: false`: the admin vouches for it, it applies at once,
 * the old address gets a notice and every session ends (core/accounts/address-change.ts).
 * An empty infix or phone clears it.
 */
export async function updateParent(
  em: EntityManager,
  mail: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  emailAddress: string,
  input: UpdateParentInput,
  options: { confirm?: boolean; dryRun?: boolean } = {},
): Promise<ParentUpdate> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(updateSchema, input);
  if (Object.values(data).every((v) => v === undefined)) {
    throw invalid('(input)', 'name something to change: --first-name, --infix, --last-name, --phone, --language or --email');
  }
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const parent = await findParent(tx, emailAddress);
    const before = parent.email;
    const changed: string[] = [];
    for (const field of ['firstName', 'infix', 'lastName', 'phone', 'language'] as const) {
      const value = data[field];
      if (value === undefined || value === (parent[field] ?? null)) continue;
      Object.assign(parent, { [field]: value });
      changed.push(field);
    }
    await tx.flush();
    let emailChange: AddressChange | null = null;
    if (data.email && data.email !== parent.email) {
      emailChange =
        options.confirm === false
          ? await applyAddressChange(tx, mail, actor, parent, data.email)
          : await requestAddressChange(tx, mail, actor, parent, data.email);
    }
    if (changed.length || emailChange) {
      audit(tx, { type: 'parent.updated', actor, subject: before, details: { changed, emailChange } });
    }
    const now = await tx.findOneOrFail(Parent, { id: parent.id }, { refresh: true });
    return { ...(await toViews(tx, [now]))[0]!, changed, emailChange, dryRun: Boolean(options.dryRun) };
  });
}

export interface ParentRemoval {
  email: string;
  sessionsEnded: number;
  /** Messages they sent stay in the conversation, under "Verwijderde ouder". */
  messagesAnonymised: number;
  diaryEntriesRemoved: number;
  downloadsAnonymised: number;
  dryRun: boolean;
}

/**
 * `portal parents remove`: a parent with no child linked any more. Their login goes (sessions,
 * app tokens, reset links, notification settings, export requests: with the account and the
 * parent row), by the same erasure as `portal gdpr erase` (core/gdpr/erase.ts), so what they
 * wrote is handled the same way. A parent still linked to a child is refused, with what to do.
 */
export async function removeParent(
  em: EntityManager,
  actor: Actor,
  emailAddress: string,
  options: { dryRun?: boolean } = {},
): Promise<ParentRemoval> {
  requireAdmin(actor, 'directory.manage');
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const parent = await findParent(tx, emailAddress);
    const links = await tx.find(Guardianship, { parent: parent.id }, { populate: ['child'], orderBy: { child: { childNumber: 'asc' } } });
    if (links.length) {
      const children = links.map((l) => `${fullName(l.child)} (${l.child.childNumber})`).join(', ');
      const first = links[0]!.child.childNumber;
      throw conflict(
        `${parent.email} is still linked to ${children}: unlink each child first (\`portal parents unlink ${parent.email} ${first}\`), or erase the family's data with \`portal gdpr erase ${parent.email}\``,
      );
    }
    const sessionsEnded = await endSessionsOf(tx, { parent });
    const erased = await eraseParent(tx, actor, parent.email);
    const report: ParentRemoval = {
      email: parent.email,
      sessionsEnded,
      messagesAnonymised: erased.messagesAnonymised,
      diaryEntriesRemoved: erased.ownDiaryEntriesRemoved,
      downloadsAnonymised: erased.downloadsAnonymised,
      dryRun: Boolean(options.dryRun),
    };
    const { email: _email, dryRun: _dryRun, ...details } = report;
    audit(tx, { type: 'parent.removed', actor, subject: `parent:${parent.id}`, details });
    return report;
  });
}
