import { composeWithPassword } from '../accounts/invitations.ts';
import { composeLoginLocked } from '../auth/lock-notice.ts';
import { composePasswordReset } from '../auth/password-reset.ts';
import { composeReady as composeDataExportReady } from '../gdpr/self-service.ts';
import { composeConfirm as composeEmailChangeConfirm, composeNotice as composeEmailChangeNotice, composeTaken as composeEmailChangeTaken } from '../profile/email-change.ts';
import { composeYearBookOffer } from '../yearbook/offer.ts';
import type { AccountMailKind, Composer } from './account-mail.ts';

/**
 * Every kind of account mail this portal sends, with the function that makes its secret and
 * text: one explicit table, read by the worker (account-mail-worker.ts). Keyed by kind, so a new
 * AccountMailKind without a composer does not compile (the modules once registered themselves
 * when imported; a module nobody imported meant a mail that failed at send time).
 */
export const ACCOUNT_MAIL_COMPOSERS: Readonly<Record<AccountMailKind, Composer>> = {
  invitation: composeWithPassword,
  new_password: composeWithPassword,
  password_reset: composePasswordReset,
  email_change_confirm: composeEmailChangeConfirm,
  email_change_notice: composeEmailChangeNotice,
  email_change_taken: composeEmailChangeTaken,
  login_locked: composeLoginLocked,
  data_export_ready: composeDataExportReady,
  yearbook_offer: composeYearBookOffer,
};
