import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, parentIdOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { Account } from '../entities/account.ts';
import type { Language } from '../entities/organisation.ts';
import { type NotificationMode, Parent } from '../entities/parent.ts';
import { EmailChange } from '../entities/profile.ts';
import { Staff } from '../entities/staff.ts';
import { forbidden, notFound } from '../errors.ts';
import { fullName } from '../people.ts';

/**
 * Mijn gegevens: one's own details. Every function starts from the acting person, never from an
 * id in a form, so nobody can read or change someone else's details through these.
 *
 * What may be edited: a parent edits name, phone, address, language, notifications and (with a
 * confirmation from the new address) the e-mail address. Staff edit their language (and their
 * password and second factor on their own pages); their name, phone and work address belong to
 * the organisation's directory (`portal staff …`).
 */

export interface ProfileView {
  kind: 'parent' | 'staff';
  email: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  name: string;
  phone: string | null;
  street: string | null;
  postalCode: string | null;
  city: string | null;
  language: Language;
  /** Parents only. */
  notificationMode: NotificationMode | null;
  /** A new address that waits for its confirmation, if any. */
  pendingEmail: string | null;
  /** May the person change name, phone, address and e-mail here. */
  editable: boolean;
}

export async function getOwnProfile(em: EntityManager, actor: Actor): Promise<ProfileView> {
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) {
    const parent = await em.findOne(Parent, { id: parentId });
    if (!parent) throw notFound('parent');
    const account = await em.findOne(Account, { parent: parent.id });
    const pending = account
      ? await em.findOne(EmailChange, { account: account.id, confirmedAt: null }, { orderBy: { id: 'desc' } })
      : null;
    return {
      kind: 'parent',
      email: parent.email,
      firstName: parent.firstName,
      infix: parent.infix ?? null,
      lastName: parent.lastName,
      name: fullName(parent),
      phone: parent.phone ?? null,
      street: parent.street ?? null,
      postalCode: parent.postalCode ?? null,
      city: parent.city ?? null,
      language: parent.language,
      notificationMode: parent.notificationMode,
      pendingEmail: pending?.newEmail ?? null,
      editable: true,
    };
  }
  const staffId = staffIdOf(actor);
  if (staffId === undefined) throw forbidden('only a person has details of their own');
  const staff = await em.findOne(Staff, { id: staffId });
  if (!staff) throw notFound('staff member');
  return {
    kind: 'staff',
    email: staff.email,
    firstName: staff.firstName,
    infix: staff.infix ?? null,
    lastName: staff.lastName,
    name: fullName(staff),
    phone: staff.phone ?? null,
    street: null,
    postalCode: null,
    city: null,
    language: staff.language,
    notificationMode: null,
    pendingEmail: null,
    editable: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Changing the details. Problems come back per field (a form shows each next to its field).

export const DETAIL_FIELDS = ['firstName', 'infix', 'lastName', 'phone', 'street', 'postalCode', 'city'] as const;
export type DetailField = (typeof DETAIL_FIELDS)[number];
export type DetailsInput = Partial<Record<DetailField, string>>;

export type DetailProblem = 'required' | 'too_long' | 'invalid' | 'incomplete';

export type DetailsResult = { ok: true; changed: DetailField[] } | { ok: false; problems: Partial<Record<DetailField, DetailProblem>> };

const MAX: Record<DetailField, number> = {
  firstName: 100,
  infix: 50,
  lastName: 100,
  phone: 30,
  street: 200,
  postalCode: 10,
  city: 100,
};

/** Tabs, newlines and other control characters have no place in a name or an address. */
const CONTROL = /\p{Cc}/u;

const PHONE = /^\+?[0-9 ()-]{6,20}$/;
const DUTCH_POSTCODE = /^([1-9][0-9]{3})\s*([A-Za-z]{2})$/;
const OTHER_POSTCODE = /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/;

/** "1234ab" → "1234 AB"; a foreign postcode stays as typed (trimmed, upper case). */
export function normalizePostalCode(value: string): string | undefined {
  const dutch = DUTCH_POSTCODE.exec(value);
  if (dutch) return `${dutch[1]} ${dutch[2]!.toUpperCase()}`;
  return OTHER_POSTCODE.test(value) ? value.toUpperCase() : undefined;
}

/** Checks and normalises the form; returns the clean values or the problems per field. */
export function checkDetails(input: DetailsInput):
  | { ok: true; values: Record<DetailField, string | null> }
  | { ok: false; problems: Partial<Record<DetailField, DetailProblem>> } {
  const problems: Partial<Record<DetailField, DetailProblem>> = {};
  const values = {} as Record<DetailField, string | null>;
  for (const field of DETAIL_FIELDS) {
    const value = (input[field] ?? '').trim().replace(/\s+/g, ' ');
    if (value.length > MAX[field]) problems[field] = 'too_long';
    else if (CONTROL.test(value)) problems[field] = 'invalid';
    values[field] = value === '' ? null : value;
  }
  for (const field of ['firstName', 'lastName'] as const) {
    if (!values[field] && !problems[field]) problems[field] = 'required';
  }
  const phone = values.phone;
  if (phone && !problems.phone && (!PHONE.test(phone) || phone.replace(/\D/g, '').length < 6)) problems.phone = 'invalid';
  if (values.postalCode && !problems.postalCode) {
    const normal = normalizePostalCode(values.postalCode);
    if (normal) values.postalCode = normal;
    else problems.postalCode = 'invalid';
  }
  // An address is all three parts or none: half an address is of no use to anyone.
  const parts = ['street', 'postalCode', 'city'] as const;
  if (parts.some((f) => values[f])) {
    for (const f of parts) if (!values[f] && !problems[f]) problems[f] = 'incomplete';
  }
  return Object.keys(problems).length ? { ok: false, problems } : { ok: true, values };
}

/** A parent changes their own name, phone and address. Staff: forbidden (see above). */
export async function updateOwnDetails(
  em: EntityManager,
  actor: Actor,
  input: DetailsInput,
  options: { ip?: string | null } = {},
): Promise<DetailsResult> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) throw forbidden('staff details are kept in the directory');
  await authorize(em, actor, 'parent.update', parentId, 'parent');
  const checked = checkDetails(input);
  if (!checked.ok) return checked;
  const parent = await em.findOne(Parent, { id: parentId });
  if (!parent) throw notFound('parent');
  const changed = DETAIL_FIELDS.filter((f) => (parent[f] ?? null) !== checked.values[f]);
  if (changed.length === 0) return { ok: true, changed };
  await em.transactional(async (tx) => {
    const row = await tx.findOneOrFail(Parent, { id: parent.id });
    for (const f of changed) {
      const value = checked.values[f];
      if (f === 'firstName' || f === 'lastName') row[f] = value!;
      else row[f] = value;
    }
    // Which fields, not their values: the audit log should not become a copy of the address book.
    audit(tx, { type: 'profile.updated', actor, subject: row.email, ip: options.ip ?? null, details: { fields: changed } });
  });
  return { ok: true, changed };
}

/** One's own language: the pages and the mails from now on. */
export async function updateOwnLanguage(em: EntityManager, actor: Actor, language: Language): Promise<void> {
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) {
    if ((await em.nativeUpdate(Parent, { id: parentId }, { language })) === 0) throw notFound('parent');
    return;
  }
  const staffId = staffIdOf(actor);
  if (staffId === undefined) throw forbidden('only a person has a language of their own');
  if ((await em.nativeUpdate(Staff, { id: staffId }, { language })) === 0) throw notFound('staff member');
}
