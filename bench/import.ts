/**
 * Benchmark of accounts provisioning, as the organisation runs it: a planning export of N rows
 * (default 10,000) is generated, imported (`portal import`), and its parents are invited
 * (`portal parents invite`) against a real SMTP server in this process. Beside each, its
 * ceiling on the same machine in the same run:
 *   - import: a bare multi-row INSERT of the same rows into one scratch table;
 *   - invite: raw argon2id hashing at the same parameters and the same concurrency.
 *
 *   npx tsx bench/import.ts [--rows 10000] [--invite all|N]
 *   npx tsx bench/import.ts --rows 100000 --invite 0      # memory at 100,000 rows
 *   npx tsx bench/import.ts --rows 100000 --invite 0 --fresh   # first import: creates locations and groups
 *
 * Targets: import of 10,000 rows under 10 s; peak RSS under 300 MB at 100,000 rows; invite
 * throughput at least 90% of raw argon2 throughput. Uses an embedded PostgreSQL in a temporary
 * folder, or a new database on the server in PORTAL_DATABASE_URL.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import argon2 from 'argon2';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../config/load.ts';
import { inviteParents } from '../core/accounts/invitations.ts';
import { cliAdmin } from '../core/actor.ts';
import { Limiter } from '../core/auth/passwords.ts';
import { addDays, } from '../core/dates.ts';
import { readCsv } from '../core/import/csv.ts';
import { importPlanningExport } from '../core/import/planning-import.ts';
import { Parent } from '../core/entities/parent.ts';
import { workMailQueue } from '../core/mail/queue-status.ts';
import { createPortal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { freshDatabase, generate, mb, num, provision, secs } from './planning-export.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000' },
    invite: { type: 'string', default: 'all' },
    /** An empty portal: the import creates the locations and groups too. */
    fresh: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const INVITE = values.invite === 'all' ? Number.POSITIVE_INFINITY : Number(values.invite);
if (!Number.isInteger(ROWS) || ROWS < 1 || !(INVITE >= 0)) {
  console.error('usage: npx tsx bench/import.ts [--rows N] [--invite all|N] [--fresh]');
  process.exit(2);
}

/** An SMTP server that accepts everything and counts it: the network part of sending, nothing more. */
async function smtpSink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, _session, done) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-bench-import-'));
  const db = await freshDatabase();
  const smtp = await smtpSink();
  const { config } = loadConfig({ env: {}, flags: { 'log.level': 'warn', 'mail.smtpUrl': smtp.url, ...db.flags } });
  const portal = await createPortal(config, { extensions: installedSchema() });
  const admin = cliAdmin('bench');
  const lines: string[] = [];
  try {
    await provision(portal.em(), admin, { structure: !values.fresh });
    const file = join(dir, 'planning-export.csv');
    await generate(file, ROWS);
    const rssBefore = process.resourceUsage().maxRSS;

    // --- import, and its ceiling
    let t = performance.now();
    const report = await importPlanningExport(portal.em(), admin, {
      source: createReadStream(file, { encoding: 'utf8' }),
      date: addDays(portal.clock.today(), -7),
    });
    const importMs = performance.now() - t;
    const rssImport = process.resourceUsage().maxRSS;
    if (report.rowErrors.length || !report.applied) throw new Error(`import refused: ${JSON.stringify(report.rowErrors.slice(0, 3))}`);

    const knex = portal.em().getKnex();
    await knex.raw(`create unlogged table bench_scratch (${Array.from({ length: 19 }, (_, i) => `c${i} text`).join(', ')})`);
    t = performance.now();
    await knex.transaction(async (trx) => {
      let batch: string[][] = [];
      const flush = async () => {
        if (!batch.length) return;
        await trx.raw(`insert into bench_scratch values ${batch.map(() => `(${Array(19).fill('?').join(',')})`).join(',')}`, batch.flat());
        batch = [];
      };
      let header = true;
      for await (const r of readCsv(createReadStream(file, { encoding: 'utf8' }))) {
        if (header) {
          header = false;
          continue;
        }
        batch.push(r.cells);
        if (batch.length === 1000) await flush();
      }
      await flush();
    });
    const ceilingMs = performance.now() - t;
    lines.push(
      `rows          ${num(ROWS)}: ${num(report.created.children)} children, ${num(report.created.parents)} parents, ${num(report.created.links)} links` +
        `, ${report.locations.created.length} new locations, ${report.groups.created.length} new groups`,
      `import        ${secs(importMs)}  ${num(ROWS / (importMs / 1000))} rows/s`,
      `  ceiling     ${secs(ceilingMs)}  ${num(ROWS / (ceilingMs / 1000))} rows/s (bare multi-row INSERT of the same rows)`,
      `  ratio       import takes ${(importMs / ceilingMs).toFixed(1)}x the ceiling's time`,
      `  peak RSS    ${mb(rssImport)} (${mb(rssBefore)} before the import)`,
    );

    // --- invite, and its ceiling
    if (INVITE > 0) {
      const emails = (await portal.em().find(Parent, {}, { orderBy: { id: 'asc' }, fields: ['email'] }))
        .map((p) => p.email)
        .slice(0, Number.isFinite(INVITE) ? INVITE : undefined);
      t = performance.now();
      const invite = await inviteParents(portal.em(), portal, admin, { emails });
      const queueMs = performance.now() - t;
      const ids = invite.queued.map((q) => q.jobId!);
      t = performance.now();
      const outcome = await workMailQueue(portal, { ids });
      const sendMs = performance.now() - t;
      if (outcome.sent !== ids.length || smtp.received() !== ids.length) {
        throw new Error(`sent ${outcome.sent} of ${ids.length}, SMTP received ${smtp.received()}`);
      }
      const inviteRate = ids.length / (sendMs / 1000);

      // Raw argon2id at the same parameters and concurrency, on as many hashes (at most 2,000).
      const n = Math.min(ids.length, 2000);
      const limiter = new Limiter(config.auth.maxConcurrentHashes);
      const options = {
        type: argon2.argon2id as 2,
        memoryCost: config.auth.argon2MemoryKiB,
        timeCost: config.auth.argon2TimeCost,
        parallelism: config.auth.argon2Parallelism,
      };
      t = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => limiter.run(() => argon2.hash(`password-${i}`, options))));
      const rawRate = n / ((performance.now() - t) / 1000);
      lines.push(
        `invite        ${num(ids.length)} parents: queued in ${secs(queueMs)}, sent in ${secs(sendMs)}  ${inviteRate.toFixed(1)} invitations/s`,
        `  ceiling     ${rawRate.toFixed(1)} argon2id hashes/s raw (m=${options.memoryCost} KiB, t=${options.timeCost}, p=${options.parallelism}, ${config.auth.maxConcurrentHashes} at once, ${num(n)} hashes)`,
        `  ratio       ${((inviteRate / rawRate) * 100).toFixed(1)}% of raw argon2 throughput (target >= 90%)`,
      );
    }
    lines.push(
      `peak RSS      ${mb(process.resourceUsage().maxRSS)} for the whole run`,
      `database      ${portal.database.embedded ? 'embedded PostgreSQL' : portal.database.url}`,
      `targets       10,000 rows < 10 s: ${ROWS >= 10_000 ? (importMs * (10_000 / ROWS) < 10_000 ? 'met' : 'MISSED') : 'n/a'}; ` +
        `RSS < 300 MB at 100,000 rows: ${ROWS >= 100_000 ? (rssImport / 1024 < 300 ? 'met' : 'MISSED') : 'n/a (--rows 100000 --invite 0)'}`,
    );
    console.log(lines.join('\n'));
  } finally {
    await portal.close();
    await smtp.close();
    await db.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
