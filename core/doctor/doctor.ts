import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../../config/load.ts';
import type { PortalConfig } from '../../config/schema.ts';
import type { Clock } from '../clock.ts';
import { EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrationStatus } from '../db/migrate.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { Logger } from '../log.ts';
import { createMailTransport } from '../mail/transport.ts';
import { type CreatePortalOptions, createPortal, type Portal } from '../portal.ts';
import { checkDisk, DEFAULT_DISK_THRESHOLD, type DiskThreshold } from './disk.ts';
import { checkPublicUrl } from './public-url.ts';
import { checkPush } from './push.ts';
import { checkQueue } from './queue.ts';
import { checkStorage } from './storage.ts';
import { type CheckResult, fail, ok, oneLine, skip, warn, withTimeout } from './report.ts';

export type { CheckResult, CheckStatus } from './report.ts';

export interface DoctorOptions {
  /** The CLI's loader (file, environment, flags); a failure is the first check's result. */
  loadConfig: () => LoadedConfig;
  log: Logger;
  clock: Clock;
  /** The installed plugins' schema, as every other caller passes it (see CreatePortalOptions). */
  extensions?: CreatePortalOptions['extensions'];
  /** Deadline of each check (default 10 s): the doctor never hangs on one. */
  timeoutMs?: number;
  disk?: DiskThreshold;
  /** A job due this long without being picked up counts as backlog (default 5). */
  stuckMinutes?: number;
}

export interface DoctorReport {
  /** False when any check failed; warnings alone leave it true. */
  ok: boolean;
  checks: CheckResult[];
}

const CHECKS = ['config', 'database', 'migrations', 'embedded', 'smtp', 'disk', 'storage', 'public-url', 'queue', 'push'] as const;

/**
 * `portal doctor`: everything an admin checks when the portal misbehaves, each with its own
 * deadline. Opens the database the way every command does, but never creates it, never
 * migrates and never creates the embedded cluster: the doctor looks, it does not repair.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checks: CheckResult[] = [];
  const report = () => ({ ok: !checks.some((c) => c.status === 'fail'), checks });

  let config: Readonly<PortalConfig>;
  try {
    const loaded = options.loadConfig();
    config = loaded.config;
    const set = Object.keys(loaded.sources).length;
    checks.push(ok('config', `${set ? `${set} setting(s) set` : 'all defaults'}; data folder ${resolve(config.dataDir)}`));
  } catch (err) {
    checks.push(fail('config', err instanceof Error ? err.message.replace(/\n\s*/g, '; ') : String(err)));
    for (const check of CHECKS.slice(1)) checks.push(skip(check, 'the configuration does not load'));
    return report();
  }

  const embedded = config.database.url ? undefined : new EmbeddedPostgres({ dataDir: config.dataDir }).state();
  const { portal, database } = await openDatabase(config, options, timeoutMs, embedded?.initialised === false);
  checks.push(database);

  if (portal) {
    checks.push(await run('migrations', timeoutMs, () => migrations(portal)));
  } else {
    checks.push(skip('migrations', 'no database'));
  }

  if (!embedded) {
    checks.push(skip('embedded', 'not used: PORTAL_DATABASE_URL is set'));
  } else if (!embedded.initialised) {
    checks.push(ok('embedded', `no cluster yet in ${embedded.pgDir}: the first \`portal serve\` (npm start) creates it`));
  } else if (embedded.running) {
    const owner =
      embedded.ownerPid === undefined
        ? 'no owner (the last portal process to leave stops it)'
        : embedded.ownerAlive
          ? `owned by portal pid ${embedded.ownerPid}`
          : `its owner pid ${embedded.ownerPid} is gone: the next portal process adopts it`;
    checks.push(ok('embedded', `running (pid ${embedded.pid}, port ${embedded.port}), ${owner}; data in ${embedded.pgDir}`));
  } else {
    checks.push(ok('embedded', `not running (the portal starts it); data in ${embedded.pgDir}`));
  }

  checks.push(await run('smtp', timeoutMs, () => smtp(config, options.clock)));

  const folders = [{ label: 'data', path: config.dataDir }];
  if (config.photos.dir) folders.push({ label: 'photos', path: resolve(config.dataDir, config.photos.dir) });
  checks.push(await run('disk', timeoutMs, () => checkDisk(folders, options.disk ?? DEFAULT_DISK_THRESHOLD)));
  checks.push(await run('storage', timeoutMs, () => checkStorage(config, options.disk ?? DEFAULT_DISK_THRESHOLD)));

  const organisation = portal
    ? await withTimeout(timeoutMs, () => getOrganisation(portal.em())).then(
        (o) => o.publicUrl,
        () => undefined,
      )
    : undefined;
  checks.push(
    checkPublicUrl({
      configured: config.server.publicUrl,
      organisation,
      trustProxy: config.server.trustProxy,
      listen: { host: config.server.host, port: config.server.port },
    }),
  );

  if (portal) {
    checks.push(await run('queue', timeoutMs, () => checkQueue(portal.em(), options.stuckMinutes ?? 5)));
    checks.push(await run('push', timeoutMs, () => checkPush(portal.em())));
    await portal.close().catch((err) => options.log.warn(`doctor: closing the database: ${oneLine(err)}`));
  } else {
    checks.push(skip('queue', 'no database'));
    checks.push(skip('push', 'no database'));
  }
  return report();
}

/** A check whose errors and time-outs are its failure, not the doctor's. */
async function run(check: string, timeoutMs: number, fn: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await withTimeout(timeoutMs, fn);
  } catch (err) {
    return fail(check, oneLine(err));
  }
}

async function openDatabase(
  config: Readonly<PortalConfig>,
  options: DoctorOptions,
  timeoutMs: number,
  noCluster: boolean,
): Promise<{ portal?: Portal; database: CheckResult }> {
  if (noCluster) return { database: skip('database', 'the embedded PostgreSQL is not created yet (see embedded)') };
  try {
    // migrate 'none': the doctor reports migrations, it does not apply them.
    const portal = await withTimeout(
      timeoutMs,
      () => createPortal(config, { log: options.log, clock: options.clock, extensions: options.extensions, migrate: 'none' }),
      (late) => late.close(),
    );
    try {
      const rows = (await withTimeout(timeoutMs, () => portal.em().getConnection().execute('show server_version'))) as {
        server_version: string;
      }[];
      const where = portal.database.embedded ? 'embedded' : portal.database.url;
      return { portal, database: ok('database', `PostgreSQL ${rows[0]?.server_version ?? '?'} (${where})`) };
    } catch (err) {
      await portal.close().catch(() => {});
      return { database: fail('database', oneLine(err)) };
    }
  } catch (err) {
    return { database: fail('database', oneLine(err)) };
  }
}

async function migrations(portal: Portal): Promise<CheckResult> {
  const status = await migrationStatus(portal.orm);
  if (status.unknown.length) {
    return fail('migrations', `the database is AHEAD of this code (${status.unknown.join(', ')}): upgrade the portal`);
  }
  if (status.pending.length) {
    const names = `${status.pending.length} pending (${status.pending.join(', ')})`;
    return portal.config.database.autoMigrate
      ? warn('migrations', `${names}: applied at the next start, or now with \`portal db migrate\``)
      : fail('migrations', `${names}: run \`portal db migrate\` (auto-migration is off)`);
  }
  return ok('migrations', `all ${status.executed.length} applied (latest ${status.executed[status.executed.length - 1] ?? 'none'})`);
}

async function smtp(config: Readonly<PortalConfig>, clock: Clock): Promise<CheckResult> {
  const transport = createMailTransport(config.mail.smtpUrl, config.dataDir, clock);
  try {
    if (!transport.verify) return skip('smtp', `no PORTAL_SMTP_URL: mail is written as .eml files in ${resolve(join(config.dataDir, 'mail'))}`);
    await transport.verify();
    return ok('smtp', `${transport.description} accepts us (connected, TLS and login as configured)`);
  } catch (err) {
    return fail('smtp', `${transport.description}: ${oneLine(err)}`);
  } finally {
    transport.close();
  }
}
