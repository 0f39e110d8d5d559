import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { addDays } from '../dates.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE } from '../auth/tokens.ts';
import { Account } from '../entities/account.ts';
import { DataExport, type IDataExport } from '../entities/data-export.ts';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import { forbidden, notFound } from '../errors.ts';
import {
  type ComposeInput,
  type Composed,
  enqueueAccountMail,
  ensureMailQueue,
  type MailContext,
  publicBaseUrl,
} from '../mail/account-mail.ts';
import { validityText } from '../auth/password-reset.ts';
import { composeProfileMail } from '../profile/email-change.ts';
import { isPhotoKey, type PhotoStore, sweepOrphans } from '../photos/store.ts';
import { exportParentData } from './export.ts';
import { clockOf } from '../clock.ts';

/**
 * "Download mijn gegevens" in Mijn gegevens: the parent asks, a job builds the same ZIP as
 * `portal gdpr export` (core/gdpr/export.ts) into the `exports` store (the data folder's exports/
 * or the bucket, core/storage/open.ts), and a mail brings a link. The store, not the job's local
 * disk, because with more than one node the job runs on one and the link is opened on another.
 * The link is a secret made when the mail is sent (stored as its hash, voided when the send
 * fails, like every account mail), and it opens the file only for the same parent, logged in:
 * a forwarded or intercepted mail alone is not enough. Files are removed when the link expires.
 */

export const DATA_EXPORT_QUEUE = 'data-export';
export const DATA_EXPORT_DEAD = 'data-export-dead';
export const DATA_EXPORT_PATH = '/mijn-gegevens/gegevens/';
/** How long a link works; the file is deleted after. */
export const DATA_EXPORT_LINK_HOURS = 48;
/** One request a day is plenty; more would let a script fill the disk. */
const REQUEST_INTERVAL_MS = 24 * 3_600_000;

export interface DataExportContext extends MailContext {
  photos: PhotoStore;
  /** Where the ZIPs are kept until their link expires; `file` of a row is its key there. */
  exports: PhotoStore;
}

export interface DataExportStatus {
  requestedAt: Date;
  readyAt: Date | null;
  expiresAt: Date | null;
}

/**
 * Before the exports store, a ZIP was `<dataDir>/exports/<random>.zip` and `file` its name. Such a
 * file is still served and pruned until its link runs out (48 hours after the upgrade at most).
 */
const legacyPath = (ctx: Pick<MailContext, 'config'>, file: string) => join(ctx.config.dataDir, 'exports', file);

function parentOf(actor: Actor): number {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) throw forbidden('only parents download their data here; staff ask the privacy officer');
  return parentId;
}

/** The parent's latest request that is still being made or can still be downloaded. */
export async function ownDataExportStatus(em: EntityManager, actor: Actor, now = clockOf(em).now()): Promise<DataExportStatus | null> {
  const parentId = parentOf(actor);
  const [latest] = await em.find(DataExport, { parent: parentId }, { orderBy: { requestedAt: 'desc', id: 'desc' }, limit: 1 });
  if (!latest) return null;
  const open = latest.readyAt ? (latest.expiresAt ?? now) > now : now.getTime() - latest.requestedAt.getTime() < REQUEST_INTERVAL_MS;
  return open ? { requestedAt: latest.requestedAt, readyAt: latest.readyAt ?? null, expiresAt: latest.expiresAt ?? null } : null;
}

/**
 * Asks for the export. A second ask within a day returns the open request instead of making
 * another (`created: false`), so a double click or an impatient parent queues one job.
 */
export async function requestOwnDataExport(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  now = clockOf(em).now(),
): Promise<{ created: boolean; status: DataExportStatus }> {
  const parentId = parentOf(actor);
  const jobs = await ensureMailQueue(ctx, DATA_EXPORT_QUEUE, DATA_EXPORT_DEAD);
  return await em.transactional(async (tx) => {
    // One request at a time per parent, also under two simultaneous clicks.
    await tx.getConnection().execute('select id from parent where id = ? for update', [parentId], 'all', tx.getTransactionContext());
    const recent = await tx.findOne(DataExport, { parent: parentId, requestedAt: { $gt: new Date(now.getTime() - REQUEST_INTERVAL_MS) } });
    if (recent) return { created: false, status: { requestedAt: recent.requestedAt, readyAt: recent.readyAt ?? null, expiresAt: recent.expiresAt ?? null } };
    const row = tx.create(DataExport, { parent: parentId, requestedAt: now });
    await tx.flush();
    await jobs.send(tx, DATA_EXPORT_QUEUE, { exportId: row.id });
    audit(tx, { type: 'gdpr.export_requested', actor, subject: `parent:${parentId}` });
    return { created: true, status: { requestedAt: now, readyAt: null, expiresAt: null } };
  });
}

/** The job: builds the ZIP and queues the mail with the link (in one transaction with "ready"). */
export async function buildDataExport(ctx: DataExportContext, exportId: number): Promise<'built' | 'skipped'> {
  const em = ctx.em();
  const row = await em.findOne(DataExport, { id: exportId }, { populate: ['parent'] });
  if (!row || row.readyAt) return 'skipped'; // erased meanwhile, or a retry after success
  const parent = row.parent;
  const actor: Actor = { kind: 'parent', parentId: parent.id, label: parent.email };
  // The ZIP is written to this machine's temp folder first (the export writes a file), then
  // streamed into the store; `put` is durable when it returns, before the row says "ready".
  const scratch = await mkdtemp(join(tmpdir(), 'portal-export-'));
  let file: string;
  try {
    const zip = join(scratch, 'export.zip');
    await exportParentData(em, ctx.photos, actor, parent.email, zip);
    file = (await ctx.exports.put(createReadStream(zip))).key;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const account = await em.findOne(Account, { parent: parent.id });
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(DataExport, { id: row.id }, { readyAt: clockOf(tx).now(), file });
    if (account) await enqueueAccountMail(ctx, tx, { kind: 'data_export_ready', accountId: account.id, requestedBy: actor.label, ref: row.id });
  });
  return 'built';
}

export async function startDataExportWorker(ctx: DataExportContext): Promise<string> {
  const jobs = await ensureMailQueue(ctx, DATA_EXPORT_QUEUE, DATA_EXPORT_DEAD);
  return await jobs.workEach<{ exportId: number }>(
    DATA_EXPORT_QUEUE,
    { batchSize: 1, pollingIntervalSeconds: 2 },
    (job) => buildDataExport(ctx, job.exportId),
    (m) => ctx.log.warn(m),
    (job) => `data export ${job.exportId}`,
  );
}

/**
 * The file behind a mailed link, for the logged-in parent it belongs to. Any mismatch (unknown,
 * expired, someone else's) is "not found": the link reveals nothing about whose it was.
 */
export async function openOwnDataExport(
  em: EntityManager,
  ctx: Pick<DataExportContext, 'config' | 'exports'>,
  actor: Actor,
  token: string,
  now = clockOf(em).now(),
): Promise<{ open: () => Promise<Readable>; size: number; filename: string }> {
  const parentId = parentOf(actor);
  const missing = notFound('export');
  if (!TOKEN_SHAPE.test(token)) throw missing;
  const row = await em.findOne(DataExport, { tokenHash: sha256Hex(token) });
  if (!row || row.parent.id !== parentId || !row.file || !row.expiresAt || row.expiresAt <= now) throw missing;
  const file = row.file;
  const legacy = !isPhotoKey(file);
  const info = legacy ? await stat(legacyPath(ctx, file)).catch(() => null) : await ctx.exports.stat(file);
  if (!info) throw missing;
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(DataExport, { id: row.id }, { downloadedAt: now });
    audit(tx, { type: 'gdpr.export_downloaded', actor, subject: `parent:${parentId}` });
  });
  return {
    open: async () => (legacy ? createReadStream(legacyPath(ctx, file)) : await ctx.exports.stream(file)),
    size: info.size,
    filename: `mijn-gegevens-${now.toISOString().slice(0, 10)}.zip`,
  };
}

/** Removes the files of expired links (and of requests that never got one within a week). */
export async function pruneDataExports(
  em: EntityManager,
  ctx: Pick<DataExportContext, 'config' | 'exports'>,
  now = clockOf(em).now(),
): Promise<number> {
  const stale = await em.find(DataExport, {
    file: { $ne: null },
    $or: [{ expiresAt: { $lte: now } }, { expiresAt: null, readyAt: { $lte: new Date(now.getTime() - 7 * 24 * 3_600_000) } }],
  });
  for (const row of stale) {
    const file = row.file!;
    if (!isPhotoKey(file)) await rm(legacyPath(ctx, file), { force: true });
    // Content-addressed: two byte-identical ZIPs would share a key; keep it while another row needs it.
    else if (!(await em.count(DataExport, { file, id: { $nin: stale.map((r) => r.id) } }))) await ctx.exports.delete(file);
  }
  if (stale.length) await em.nativeUpdate(DataExport, { id: { $in: stale.map((r: IDataExport) => r.id) } }, { file: null, tokenHash: null });
  // ZIPs no row points at any more: the parent was erased (the rows go with them), or a job
  // stopped between its `put` and "ready". An hour is far more than that gap.
  await sweepOrphans(
    ctx.exports,
    async (keys) => new Set((await em.find(DataExport, { file: { $in: keys } }, { fields: ['file'] })).map((r) => r.file!)),
    { olderThanMs: 3_600_000 },
  );
  return stale.length;
}

const texts = {
  nl: {
    subject: 'Uw gegevens staan klaar',
    greeting: 'Beste {firstName},',
    lines: [
      'U vroeg in het ouderportaal van {organisation} om al uw gegevens. Ze staan klaar om te downloaden:',
      'Log in met uw eigen account om het bestand te openen. De link werkt {validity}; daarna verwijderen we het bestand.',
      'Heeft u hier niet om gevraagd? Wijzig dan uw wachtwoord en neem contact met ons op.',
    ],
    button: 'Download mijn gegevens',
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'Your data is ready',
    greeting: 'Dear {firstName},',
    lines: [
      'You asked the parent portal of {organisation} for all your data. It is ready to download:',
      'Log in with your own account to open the file. The link works {validity}; after that we delete the file.',
      'Did you not ask for this? Then change your password and contact us.',
    ],
    button: 'Download my data',
    closing: 'Kind regards,\n{organisation}',
  },
};

export async function composeReady(input: ComposeInput): Promise<Composed> {
  const { em, ctx, account, organisation, job } = input;
  const row = job.ref === undefined ? null : await em.findOne(DataExport, { id: job.ref });
  if (!row?.file) throw new Error(`data export ${job.ref} has no file`);
  const parent = await em.findOneOrFail(Parent, { id: row.parent.id });
  const token = randomToken();
  const tokenHash = sha256Hex(token);
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(DataExport, { id: row.id }, { tokenHash, expiresAt: new Date(clockOf(tx).now().getTime() + DATA_EXPORT_LINK_HOURS * 3_600_000) });
  });
  const lang: Language = parent.language ?? organisation.defaultLanguage;
  const mail = composeProfileMail(texts[lang], {
    lang,
    to: account.email,
    from: input.from,
    params: { firstName: parent.firstName, organisation: organisation.name, validity: validityText(lang, DATA_EXPORT_LINK_HOURS * 60) },
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}${DATA_EXPORT_PATH}${token}`,
  });
  return {
    mail,
    revoke: async (tx) => {
      await tx.nativeUpdate(DataExport, { id: row.id, tokenHash }, { tokenHash: null, expiresAt: null });
    },
  };
}


export interface LeavingChild {
  firstName: string;
  leftOn: string;
  /** The last day the parents can download the child's photos and schriftje. */
  availableUntil: string;
}

/**
 * The parent's children who have left (or are about to) and whose photos and schriftje can still
 * be downloaded: Mijn gegevens tells the parent until when (retention.leaverGraceDays).
 */
export async function leavingChildren(em: EntityManager, actor: Actor, graceDays: number, day = clockOf(em).today()): Promise<LeavingChild[]> {
  const parentId = parentOf(actor);
  const rows = await em.getConnection().execute<{ first_name: string; left_on: string }[]>(
    `select c.first_name, to_char(c.left_on, 'YYYY-MM-DD') as left_on from guardianship g join child c on c.id = g.child_id
      where g.parent_id = ? and c.left_on is not null and c.left_on + ?::int >= ?::date order by c.left_on, c.first_name`,
    [parentId, graceDays, day],
  );
  return rows.map((r) => ({ firstName: r.first_name, leftOn: r.left_on, availableUntil: addDays(r.left_on, graceDays) }));
}
