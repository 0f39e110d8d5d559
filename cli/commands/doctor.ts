import type { Command } from 'commander';
import { action, processClock } from '../context.ts';
import { EXIT, ExitStatus, UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatTable } from '../output.ts';

interface DoctorFlags {
  minFree?: string;
  timeout?: string;
}

/** `portal doctor`: the checks live in core/doctor; this prints them and sets the exit code. */
export function registerDoctor(program: Command, io: CliIO): void {
  program
    .command('doctor')
    .description('check configuration, database, migrations, mail, disk, public URL, job queue and the push keys; exit 1 when a check fails')
    .option('--min-free <amount>', 'warn below this much free disk space: 2GiB, 500MB, 10%, or 2GiB,10% (default 1GiB,5%)')
    .option('--timeout <seconds>', 'deadline of each check', '10')
    .addHelpText(
      'after',
      '\nChanges nothing: it never creates or migrates the database, nor starts a new embedded cluster.\nSTATUS is ok, warn (worth a look; exit 0), fail (exit 1) or skip (does not apply, or an earlier check failed).',
    )
    .action(
      action(io, async (ctx, f: DoctorFlags) => {
        const { DEFAULT_DISK_THRESHOLD, parseDiskThreshold } = await import('../../core/doctor/disk.ts');
        const disk = f.minFree === undefined ? DEFAULT_DISK_THRESHOLD : parseDiskThreshold(f.minFree);
        if (!disk) throw new UsageError(`--min-free: "${f.minFree}" is not an amount like 2GiB, 500MB or 10%`);
        const seconds = Number(f.timeout);
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new UsageError(`--timeout: "${f.timeout}" is not a number of seconds (1-600)`);
        const [{ runDoctor }, { installedSchema }, { createLogger }] = await Promise.all([
          import('../../core/doctor/doctor.ts'),
          import('../../plugins/schema.ts'),
          import('../../core/log.ts'),
        ]);
        const report = await runDoctor({
          loadConfig: () => ctx.loadConfig(),
          // Its findings are the table; the database's comings and goings stay out of it.
          log: createLogger('error'),
          clock: processClock(ctx.io),
          extensions: installedSchema(),
          timeoutMs: seconds * 1000,
          disk,
        });
        ctx.out.print(report, (r) =>
          formatTable(r.checks, [
            { header: 'CHECK', value: (c) => c.check },
            { header: 'STATUS', value: (c) => c.status },
            { header: 'DETAIL', value: (c) => c.detail },
          ]),
        );
        if (!report.ok) throw new ExitStatus(EXIT.refused);
      }),
    );
}
