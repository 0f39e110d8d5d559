import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from './actor.ts';
import { requireAdmin } from './access/index.ts';
import { AuditEvent } from './entities/audit.ts';
import { invalid } from './errors.ts';
import { normalizeEmail } from './validation.ts';

/** Every kind of event the audit log knows; `portal audit --type` filters on these. */
export type AuditType =
  | 'login.success'
  | 'login.failure'
  | 'login.blocked'
  | 'logout'
  | 'api_token.issued'
  | 'api_token.revoked'
  | 'password.changed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'invitation.requested'
  | 'invitation.sent'
  | 'mail.sending'
  | 'mail.sent'
  | 'mail.failed'
  | 'import.planning'
  | 'import.parents'
  | 'account.suspended'
  | 'account.unsuspended'
  | 'staff.assigned'
  | 'staff.unassigned'
  | 'staff.deactivated'
  | 'staff.reactivated'
  | 'staff.role_changed'
  | 'staff.removed'
  | 'parent.updated'
  | 'parent.removed'
  | 'second_factor.enabled'
  | 'second_factor.disabled'
  | 'second_factor.failure'
  | 'photo.downloaded'
  | 'photo.deleted'
  | 'photo.retried'
  | 'photo.hidden'
  | 'photo.published'
  | 'photo.shown'
  | 'profile.updated'
  | 'email.change_requested'
  | 'email.changed'
  | 'notifications.changed'
  | 'schedule.rules_changed'
  | 'consent.changed'
  | 'child.added'
  | 'child.updated'
  | 'child.moved'
  | 'child.left'
  | 'child.mentor_set'
  | 'location.added'
  | 'location.updated'
  | 'gdpr.exported'
  | 'gdpr.erased'
  | 'gdpr.export_requested'
  | 'gdpr.export_downloaded'
  | 'yearbook.made'
  | 'yearbook.offered'
  | 'retention.applied'
  | 'faq.imported'
  | 'schedule.imported'
  | 'day.cancelled'
  | 'day.reinstated'
  | 'child.sick_reported'
  | 'child.sick_ended'
  | 'child.pickup_set'
  | 'child.pickup_cleared'
  | 'swap.requested'
  | 'swap.approved'
  | 'swap.rejected'
  | 'swap.withdrawn'
  | 'swap.day_cancelled'
  | 'message.child_assigned'
  | 'announcement.confirmed'
  | 'announcement.reminded'
  | 'talk.published'
  | 'talk.withdrawn'
  | 'talk.booked'
  | 'talk.moved'
  | 'talk.cancelled'
  | 'talk.held'
  | 'export.written'
  | 'database.created'
  | 'export.restored'
  | 'backup.written'
  | 'backup.restored'
  | 'push.subscribed'
  | 'push.unsubscribed'
  | 'push.settings'
  | 'calendar_feed.created'
  | 'calendar_feed.revoked';

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

export interface AuditQuery {
  /** ISO date or date-time; events at or after it. */
  since?: string;
  /** Actor label contains this (e.g. "cli:", an e-mail). */
  actor?: string;
  /** Event type, or a prefix ending in "." ("login."). */
  type?: string;
  /** E-mail address or child number the event is about. */
  subject?: string;
  /** Child number: events about the child, and downloads of photos the child is in. */
  child?: string;
  limit?: number;
}

export interface AuditView {
  at: string;
  type: string;
  actor: string;
  subject: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

/** The audit trail, newest first: for admins only. */
export async function listAudit(em: EntityManager, actor: Actor, query: AuditQuery = {}): Promise<AuditView[]> {
  requireAdmin(actor, 'audit.read');
  const where: Record<string, unknown> = {};
  if (query.since) {
    const since = new Date(query.since);
    if (Number.isNaN(since.getTime())) throw invalid('since', `"${query.since}" is not a date or time`);
    where['at'] = { $gte: since };
  }
  if (query.type) where['type'] = query.type.endsWith('.') ? { $like: `${query.type}%` } : query.type;
  if (query.actor) where['actor'] = { $ilike: `%${query.actor.replace(/[\\%_]/g, '\\$&')}%` };
  if (query.subject) where['subject'] = query.subject.includes('@') ? normalizeEmail(query.subject) : query.subject.trim();
  if (query.child) {
    const child = query.child.trim();
    // `details.children` (a JSON array) lists the children of a downloaded photo.
    where['$or'] = [{ subject: child }, { [raw(`(details->'children' @> jsonb_build_array(?::text))`, [child])]: true }];
  }
  const events = await em.find(AuditEvent, where, { orderBy: { at: 'desc', id: 'desc' }, limit: query.limit ?? 100 });
  return events.map((e) => ({
    at: e.at.toISOString(),
    type: e.type,
    actor: e.actor,
    subject: e.subject ?? null,
    ip: e.ip ?? null,
    details: e.details ?? null,
  }));
}
