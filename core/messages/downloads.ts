import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { MessageAttachment } from '../entities/message.ts';
import { notFound } from '../errors.ts';
import { UUID } from './access.ts';
import { announcementView } from './announcements.ts';
import { threadForActor } from './threads.ts';

export interface AttachmentFile {
  key: string;
  filename: string;
  contentType: string;
  size: number;
}

/**
 * An attachment for an actor who may read the message or announcement it belongs to; not found
 * otherwise (the same answer as for an id that does not exist).
 */
export async function attachmentForActor(em: EntityManager, actor: Actor, attachmentId: string): Promise<AttachmentFile> {
  const missing = notFound('attachment');
  if (!UUID.test(attachmentId)) throw missing;
  const row = await em.findOne(MessageAttachment, { id: attachmentId }, { populate: ['message'] });
  if (!row) throw missing;
  try {
    if (row.message) await threadForActor(em, actor, row.message.thread.id, 'read');
    else if (row.announcement) await announcementView(em, actor, row.announcement.id);
    else throw missing;
  } catch {
    throw missing;
  }
  return { key: row.key, filename: row.filename, contentType: row.contentType, size: row.size };
}
