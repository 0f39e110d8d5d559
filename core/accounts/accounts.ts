import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, type IAccount } from '../entities/account.ts';
import type { IParent } from '../entities/parent.ts';
import type { IStaff } from '../entities/staff.ts';
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
  return em.create(Account, {
    email,
    parent: 'parent' in person ? person.parent : null,
    staff: 'staff' in person ? person.staff : null,
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
