import type { EntityManager } from '@mikro-orm/postgresql';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import type { SessionInfo } from './sessions.ts';

/**
 * The logged-in person's own language (pages and mails). Chosen with the language switch on
 * any page, so "English" once means English everywhere, also in the next reset mail.
 */
export async function setOwnLanguage(em: EntityManager, session: SessionInfo, language: Language): Promise<void> {
  const { account } = session;
  if (account.parent) await em.nativeUpdate(Parent, { id: account.parent.id }, { language });
  else if (account.staff) await em.nativeUpdate(Staff, { id: account.staff.id }, { language });
  session.language = language;
}
