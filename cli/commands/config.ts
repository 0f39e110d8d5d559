import type { Command } from 'commander';
import { settings } from '../../config/schema.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatTable } from '../output.ts';

export function registerConfig(program: Command, io: CliIO): void {
  const config = program.command('config').description('the settings in effect and where each comes from');

  config
    .command('show')
    .description('validate the configuration and show every setting with its source')
    .action(
      action(io, async (ctx) => {
        const { config: c, sources } = ctx.loadConfig();
        // core/portal.ts brings the ORM: loaded only when the command runs (see cli/program.ts).
        const { redactUrl } = await import('../../core/portal.ts');
        const get = (key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], c);
        const rows = settings.map((s) => {
          const value = get(s.key);
          return {
            key: s.key,
            env: s.env,
            value: s.key === 'database.url' && typeof value === 'string' ? redactUrl(value) : value,
            source: sources[s.key] ?? 'default',
          };
        });
        ctx.out.print(rows, (r) =>
          formatTable(r, [
            { header: 'SETTING', value: (x) => x.key },
            { header: 'VALUE', value: (x) => (x.value === undefined ? '(unset)' : String(x.value)) },
            { header: 'SOURCE', value: (x) => x.source },
            { header: 'ENV', value: (x) => x.env },
          ]),
        );
      }),
    );
}
