import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from './actor.ts';
import { AuditEvent } from './entities/audit.ts';

/** Every kind of event the audit log knows; `portal audit --type` filters on these. */
export type AuditType =
  | 'login.success'
  | 'login.failure'
  | 'login.blocked'
  | 'logout'
  | 'password.changed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'invitation.requested'
  | 'invitation.sent'
  | 'mail.failed'
  | 'account.suspended'
  | 'account.unsuspended'
  | 'second_factor.enabled'
  | 'second_factor.disabled'
  | 'second_factor.failure';

export interface AuditInput {
  type: AuditType;
  actor: Actor | string;
  accountId?: number | null;
  subject?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Adds an audit event to the unit of work: it is written with the change it describes (same
 * transaction), so the log never claims something that was rolled back. Call `em.flush()` (or
 * run inside `transactional`) as for any other entity.
 */
export function audit(em: EntityManager, event: AuditInput): void {
  em.create(AuditEvent, {
    type: event.type,
    actor: typeof event.actor === 'string' ? event.actor : event.actor.label,
    accountId: event.accountId ?? null,
    subject: event.subject ?? null,
    ip: event.ip ?? null,
    details: event.details ?? null,
  });
}
