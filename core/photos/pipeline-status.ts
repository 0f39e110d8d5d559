import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { STUCK_AFTER_MS } from './reaper.ts';

/** `portal photos status`: where the photo pipeline stands, and which photos need someone. */

export interface FailedPhoto {
  photoId: string;
  group: string;
  uploadedAt: string;
  code: string | null;
  reason: string | null;
  /** Its upload is still kept: `portal photos retry` can try it again. */
  retryable: boolean;
}

export interface PhotoPipelineStatus {
  processing: number;
  /** Processing for longer than the reaper's limit: the reaper will queue or fail them. */
  overdue: number;
  /** Queued longest ago, among those still processing (ISO), or null. */
  oldestProcessingSince: string | null;
  ready: number;
  failed: number;
  /** The most recent failures (at most 50). */
  failures: FailedPhoto[];
}

export async function photoPipelineStatus(em: EntityManager, actor: Actor): Promise<PhotoPipelineStatus> {
  requireAdmin(actor, 'photo.pipeline');
  const now = clockOf(em).now();
  const [counts] = await sql<{ processing: number; overdue: number; oldest: Date | null; ready: number; failed: number }>(
    em,
    `select count(*) filter (where state = 'processing')::int as processing,
            count(*) filter (where state = 'processing' and coalesce(queued_at, uploaded_at) < ?)::int as overdue,
            min(coalesce(queued_at, uploaded_at)) filter (where state = 'processing') as oldest,
            count(*) filter (where state = 'ready')::int as ready,
            count(*) filter (where state = 'failed')::int as failed
       from photo`,
    [new Date(now.getTime() - STUCK_AFTER_MS)],
  );
  const failures = await sql<{ id: string; group_name: string; uploaded_at: Date; failure_code: string | null; failure_reason: string | null; source_key: string | null }>(
    em,
    `select p.id, g.name as group_name, p.uploaded_at, p.failure_code, p.failure_reason, p.source_key
       from photo p join care_group g on g.id = p.group_id
      where p.state = 'failed' order by p.uploaded_at desc, p.id limit 50`,
  );
  return {
    processing: counts?.processing ?? 0,
    overdue: counts?.overdue ?? 0,
    oldestProcessingSince: counts?.oldest ? new Date(counts.oldest).toISOString() : null,
    ready: counts?.ready ?? 0,
    failed: counts?.failed ?? 0,
    failures: failures.map((f) => ({
      photoId: f.id,
      group: f.group_name,
      uploadedAt: new Date(f.uploaded_at).toISOString(),
      code: f.failure_code,
      reason: f.failure_reason,
      retryable: f.source_key !== null,
    })),
  };
}
