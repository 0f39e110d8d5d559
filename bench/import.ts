/**
 * Benchmark of accounts provisioning, as the organisation runs it: a planning export of N rows
 * (default 10,000) is generated, imported (`portal import`), and its parents are invited
 * (`portal parents invite`) against a real SMTP server in this process. Beside each, its
 * ceiling on the same machine in the same run:
 *   - import: a bare multi-row INSERT of the same rows into one scratch table;
 *   - invite: raw argon2id hashing at the same parameters and the same concurrency, in rounds
 *     alternating with ours (ceiling, ours, ceiling, ours, ...), as many hashes as invitations.
 *
 *   npx tsx bench/import.ts [--rows 10000] [--invite all|N] [--rounds 4] [--per-round 400]
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
    /** Invitation rounds, each beside a ceiling round of as many raw hashes. */
    rounds: { type: 'string', default: '4' },
    /** Parents invited per round (at most; fewer when --invite leaves fewer). */
    'per-round': { type: 'string', default: '400' },
    /** An empty portal: the import creates the locations and groups too. */
    fresh: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const INVITE = values.invite === 'all' ? Number.POSITIVE_INFINITY : Number(values.invite);
const ROUNDS = Number(values.rounds);
const PER_ROUND = Number(values['per-round']);
/** Invitations (and hashes) before the measured rounds, not counted. */
const WARMUP = 32;
if (!Number.isInteger(ROWS) || ROWS < 1 || !(INVITE >= 0) || !(ROUNDS >= 1) || !(PER_ROUND >= 1)) {
  console.error('usage: npx tsx bench/import.ts [--rows N] [--invite all|N] [--rounds 4] [--per-round 400] [--fresh]');
  process.exit(2);
}

/** An SMTP server that accepts everything and counts it: the network part of sending, nothing more. */
async function smtpSink(): Promise<{
  url: string;
  received: () => number;
  /** Resolves once `count` mails in all have been accepted. */
  whenReceived: (count: number) => Promise<void>;
  close: () => Promise<void>;
}> {
  let received = 0;
  let waiting: { count: number; resolve: () => void }[] = [];
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
        for (const w of waiting.filter((w) => w.count <= received)) w.resolve();
        waiting = waiting.filter((w) => w.count > received);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    whenReceived: (count) =>
      count <= received ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ count, resolve })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

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

    // --- invite, and its ceiling: alternate rounds (ceiling, ours, ceiling, ours, ...), each
    // round the same number of hashes, so a busy neighbour on this machine hits both alike.
    if (INVITE > 0) {
      const all = (await portal.em().find(Parent, {}, { orderBy: { id: 'asc' }, fields: ['email'] }))
        .map((p) => p.email)
        .slice(0, Number.isFinite(INVITE) ? INVITE : undefined);
      const rounds = Math.max(1, Math.min(ROUNDS, Math.floor(all.length / 2)));
      const warmup = Math.min(WARMUP, Math.max(0, all.length - rounds));
      const perRound = Math.min(PER_ROUND, Math.floor((all.length - warmup) / rounds));
      const options = {
        type: argon2.argon2id as 2,
        memoryCost: config.auth.argon2MemoryKiB,
        timeCost: config.auth.argon2TimeCost,
        parallelism: config.auth.argon2Parallelism,
      };
      // Raw argon2id at the same parameters and the same cap on hashes at once (a limiter of its
      // own: the portal's hasher is idle while the ceiling runs).
      const limiter = new Limiter(config.auth.maxConcurrentHashes);
      const ceilingRound = async (n: number) => {
        const start = performance.now();
        const cpu = process.cpuUsage();
        await Promise.all(Array.from({ length: n }, (_, i) => limiter.run(() => argon2.hash(`password-${i}`, options))));
        return { rate: n / ((performance.now() - start) / 1000), cpuMs: cpuMs(process.cpuUsage(cpu)) / n };
      };
      /**
       * `portal parents invite` for these parents: queue (one transaction per thousand), then the
       * mail worker makes each password, stores its hash and sends. Ours ends when the SMTP server
       * has accepted the round's last mail; workMailQueue's own status polling (every 500 ms) is
       * waited out after the clock stops, and then checked.
       */
      const oursRound = async (emails: string[]) => {
        const before = smtp.received();
        const start = performance.now();
        const cpu = process.cpuUsage();
        const delivered = smtp.whenReceived(before + emails.length);
        const invite = await inviteParents(portal.em(), portal, admin, { emails });
        const queuedMs = performance.now() - start;
        const ids = invite.queued.map((q) => q.jobId!);
        const work = workMailQueue(portal, { ids });
        // How busy the portal's hasher is while the mails go out: below the cap is idle hashing.
        const samples: number[] = [];
        const sampler = setInterval(() => samples.push(portal.hasher.limiter.active), 20);
        await Promise.race([delivered, work]);
        clearInterval(sampler);
        const ms = performance.now() - start;
        const used = cpuMs(process.cpuUsage(cpu)) / emails.length;
        const outcome = await work;
        if (ids.length !== emails.length || outcome.sent !== ids.length || smtp.received() - before !== ids.length) {
          throw new Error(`invited ${ids.length} of ${emails.length}, sent ${outcome.sent}, SMTP received ${smtp.received() - before}`);
        }
        return { rate: ids.length / (ms / 1000), queuedMs, cpuMs: used, busy: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length) };
      };
      // Warm-up, not counted: loads nodemailer, opens the SMTP pool, starts pg-boss's workers.
      if (warmup) {
        await ceilingRound(warmup);
        await oursRound(all.slice(0, warmup));
      }
      const ceiling: number[] = [];
      const ours: number[] = [];
      const queued: number[] = [];
      const cpu = { ours: [] as number[], ceiling: [] as number[] };
      const busy: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const raw = await ceilingRound(perRound);
        ceiling.push(raw.rate);
        cpu.ceiling.push(raw.cpuMs);
        const round = await oursRound(all.slice(warmup + r * perRound, warmup + (r + 1) * perRound));
        ours.push(round.rate);
        queued.push(round.queuedMs);
        cpu.ours.push(round.cpuMs);
        busy.push(round.busy);
      }
      const rate = (xs: number[]) => `min ${Math.min(...xs).toFixed(1)}  median ${median(xs).toFixed(1)}`;
      lines.push(
        `invite        ${rounds} rounds x ${num(perRound)} parents (after ${warmup} warm-up), alternating with the ceiling`,
        `  ours        ${rate(ours)} invitations/s (queue + make password + store hash + SMTP send; queueing took median ${secs(median(queued))})`,
        `  ceiling     ${rate(ceiling)} argon2id hashes/s raw (m=${options.memoryCost} KiB, t=${options.timeCost}, p=${options.parallelism}, ${config.auth.maxConcurrentHashes} at once)`,
        `  ratio       ${(median(ours) / median(ceiling)).toFixed(2)}x raw argon2 (medians; target >= 0.90); per round ${ours.map((o, i) => (o / ceiling[i]!).toFixed(2)).join(' ')}`,
        `  hashing     ${median(busy).toFixed(2)} of ${config.auth.maxConcurrentHashes} hashes in flight on average while ours sends (median of rounds; from queueing to the last mail)`,
        `  CPU         this process, per invitation ${median(cpu.ours).toFixed(1)} ms, per raw hash ${median(cpu.ceiling).toFixed(1)} ms (medians; PostgreSQL's not counted)`,
        `  p99         n/a (throughput rounds; no per-request latency to speak of)`,
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
