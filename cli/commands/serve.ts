import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { settings } from '../../config/schema.ts';
import { action, processClock } from '../context.ts';
import { UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';

export function registerServe(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('run the web portal (also what `npm start` does); stops cleanly on SIGTERM/Ctrl-C')
    .option('--port <port>', 'HTTP port (default 3000, or PORTAL_PORT)')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1, or PORTAL_HOST)')
    .action(
      action(io, async (ctx, flags: { port?: string; host?: string }) => {
        const { config, sources } = ctx.loadConfig({ 'server.port': flags.port, 'server.host': flags.host });
        // Loaded here so that provisioning commands do not load the web stack.
        const { installGracefulShutdown, startServer, surviveOutageRejections } = await import('../../http/server.ts');
        // A logo that is missing or no image stops the start here, before the database is opened.
        const { loadBranding } = await import('../../http/branding.ts');
        const branding = await loadBranding(config.branding, sources);
        // A stop asked for while the database starts or migrates is held until it is up, then
        // done cleanly: killing the process mid-start would leave the embedded PostgreSQL
        // running, or a half-made cluster behind.
        const clock = processClock(ctx.io);
        let stopRequested: NodeJS.Signals | undefined;
        const holdStop = (signal: NodeJS.Signals) => {
          stopRequested ??= signal;
        };
        process.on('SIGTERM', holdStop).on('SIGINT', holdStop);
        const [{ createPortal }, { installedSchema }] = await Promise.all([import('../../core/portal.ts'), import('../../plugins/schema.ts')]);
        let portal: Awaited<ReturnType<typeof createPortal>>;
        try {
          portal = await createPortal(config, { extensions: installedSchema(), clock, superviseDatabase: true });
        } finally {
          process.off('SIGTERM', holdStop).off('SIGINT', holdStop);
        }
        if (stopRequested) {
          portal.log.info(`${stopRequested} during start: stopping`);
          await portal.close();
          return;
        }
        surviveOutageRejections(portal.log);
        if (clock !== systemClock) portal.log.warn(`PORTAL_CLOCK is set: the portal runs on a clock that started at ${clock.now().toISOString()}`);
        try {
          const { startBackgroundWork } = await import('../../core/jobs/background.ts');
          await startBackgroundWork(portal);
          const { startPluginWork } = await import('../../plugins/host.ts');
          await startPluginWork(portal);
          const server = await startServer(portal, { branding });
          installGracefulShutdown(server, portal);
          ctx.io.stdout(`Ouderportaal is running at ${server.url}  (database: ${portal.database.url}${portal.database.embedded ? ', embedded' : ''})\n`);
        } catch (err) {
          await portal.close();
          if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'EADDRINUSE') {
            // Another portal (or anything else) listens there: a setting to change, not a bug.
            const env = settings.find((s) => s.key === 'server.port')?.env;
            throw new UsageError(`port ${config.server.port} is in use; set --port or ${env}`);
          }
          throw err;
        }
      }),
    );
}
