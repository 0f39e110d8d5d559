/**
 * Every kind of account mail this portal sends, registered by importing the module that makes
 * its secret and text. Import this before working the mail queue (server or CLI): a queued
 * kind without its composer would fail and be retried.
 */
import '../accounts/invitations.ts';
import '../auth/password-reset.ts';
import '../auth/lock-notice.ts';
import '../profile/email-change.ts';
import '../gdpr/self-service.ts';
