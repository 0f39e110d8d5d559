import type { EntityManager } from '@mikro-orm/postgresql';
import { endAllSessions } from '../auth/sessions.ts';
import { Account, type IAccount } from '../entities/account.ts';
import { type IParent, Parent } from '../entities/parent.ts';
import { type IStaff, Staff } from '../entities/staff.ts';
import { conflict } from '../errors.ts';

/**
 * The login of a parent or staff member, created the first time it is needed (invitation,
 * suspension). One e-mail address is one login: a person who is both staff and parent with
 * the same address is refused with a clear message rather than getting two logins.
 */
export async function ensureAccount(
  em: EntityManager,
  person: { parent: IParent } | { staff: IStaff },
): Promise<IAccount> {
  const where = 'parent' in person ? { parent: person.parent.id } : { staff: person.staff.id };
  const existing = await em.findOne(Account, where);
  if (existing) return existing;
  const email = 'parent' in person ? person.parent.email : person.staff.email;
  const other = await em.findOne(Account, { email });
  if (other) {
    throw conflict(
      `${email} already logs in as ${other.parent ? 'a parent' : 'a staff member'}; one address can be one login only`,
    );
  }
  return newAccount(em, person);
}

/**
 * A new account row for a person, without a password; the caller has checked that neither the
 * person nor the e-mail has one yet. References by id, so the person may come from another unit
 * of work.
 */
export function newAccount(em: EntityManager, person: { parent: IParent } | { staff: IStaff }): IAccount {
  return em.create(Account, {
    email: 'parent' in person ? person.parent.email : person.staff.email,
    parent: 'parent' in person ? em.getReference(Parent, person.parent.id) : null,
    staff: 'staff' in person ? em.getReference(Staff, person.staff.id) : null,
    passwordHash: null,
    passwordMustChange: false,
  });
}

/** The account's language for mails: the person's own. */
export function languageOf(account: IAccount): 'nl' | 'en' {
  return account.parent?.language ?? account.staff?.language ?? 'nl';
}

export function firstNameOf(account: IAccount): string {
  return account.parent?.firstName ?? account.staff?.firstName ?? '';
}

/**
 * Ends every session and app token of a person's login, when their access shrinks (deactivated,
 * demoted, unassigned, removed, a new address): the next request, wherever it comes from, has to
 * log in again and gets only what is left. Returns how many sessions ended (0 without a login).
 */
export async function endSessionsOf(em: EntityManager, person: { parent: IParent } | { staff: IStaff }): Promise<number> {
  const where = 'parent' in person ? { parent: person.parent.id } : { staff: person.staff.id };
  const account = await em.findOne(Account, where, { fields: ['id'] });
  return account ? await endAllSessions(em, account.id) : 0;
}

/** Whether the person behind a login chose their own password (not one generated for them). */
export function choseOwnPassword(account: Pick<IAccount, 'passwordHash' | 'passwordMustChange'>): boolean {
  return Boolean(account.passwordHash) && !account.passwordMustChange;
}
