import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { databaseUnavailableReason } from '../core/db/errors.ts';
import { getOrganisation } from '../core/directory/organisation.ts';
import type { Logger } from '../core/log.ts';
import type { Portal } from '../core/portal.ts';
import { createApp } from './app.ts';
import { type Branding, loadBranding } from './branding.ts';
import type { AppEnv } from './env.ts';

export interface StartServerOptions {
  /** Default: server.port from the config. 0 picks a free port (tests). */
  port?: number;
  /** Default: server.host from the config. */
  host?: string;
  /** An app built elsewhere (tests add routes to one); default: createApp(portal). */
  app?: Hono<AppEnv>;
  /** Checked beforehand (`portal serve` does, to fail before opening the database); default: read from the config. */
  branding?: Branding;
}

export interface RunningServer {
  /** Where the server listens, e.g. http://127.0.0.1:3000 (wildcard hosts shown as localhost). */
  url: string;
  /**
   * Stops accepting connections, lets requests in flight finish for up to
   * server.shutdownTimeoutMs, then cuts what is left. Does not close the portal.
   */
  close(): Promise<void>;
}

/** How often idle keep-alive connections are closed while draining. */
const IDLE_SWEEP_MS = 100;

function urlOf(address: AddressInfo): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function drain(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    // close() waits for every open connection; a browser's keep-alive connection stays open
    // after its last response, so idle ones are closed as they become idle.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Starts the web server and resolves once it listens. Prints nothing: the caller (`portal
 * serve`) reports the URL. When server.publicUrl is not configured, the organisation's URL
 * from `portal init` decides secure cookies and the allowed Origin.
 */
export async function startServer(portal: Portal, options: StartServerOptions = {}): Promise<RunningServer> {
  const { server: settings } = portal.config;
  let app = options.app;
  if (!app) {
    const branding = options.branding ?? (await loadBranding(portal.config.branding));
    const publicUrl = settings.publicUrl ?? (await getOrganisation(portal.em())).publicUrl ?? undefined;
    app = createApp(portal, { publicUrl, branding });
  }
  const port = options.port ?? settings.port;
  const host = options.host ?? settings.host;

  const server = await new Promise<Server>((resolve, reject) => {
    // Without createServer options, @hono/node-server builds a plain node:http Server.
    const listening = serve({ fetch: app.fetch, port, hostname: host }, () => {
      listening.off('error', onError);
      resolve(listening as Server);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use`
          : err.code === 'EACCES'
            ? `no permission to listen on port ${port} on ${host}`
            : err.message;
      reject(new Error(`cannot start the web server: ${reason}`, { cause: err }));
    };
    listening.once('error', onError);
  });

  // Errors after start (say, running out of file descriptors) are logged, not left to crash the process.
  server.on('error', (err) => portal.log.error(`web server: ${err.message}`));

  let closing: Promise<void> | undefined;
  return {
    url: urlOf(server.address() as AddressInfo),
    close: () => {
      closing ??= drain(server, settings.shutdownTimeoutMs);
      return closing;
    },
  };
}

export interface GracefulShutdownOptions {
  signals?: NodeJS.Signals[];
  /** Default process.exit; tests pass a spy. */
  exit?: (code: number) => void;
  /**
   * A signal this soon after the first is the same request delivered twice, not an
   * impatient second one (default 1000 ms). Ctrl-C under `npm start` is one: the terminal
   * sends SIGINT to the whole process group, and npm forwards its own copy to the portal.
   */
  repeatWithinMs?: number;
}

/**
 * On SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C): stop taking requests, let those in
 * flight finish (server.shutdownTimeoutMs at most), close the portal (database pool, embedded
 * PostgreSQL), exit 0. A second signal while waiting exits at once with 1, unless it comes
 * within repeatWithinMs of the first (a duplicate, see there). Returns a function that removes
 * the handlers again.
 */
export function installGracefulShutdown(
  server: RunningServer,
  portal: Pick<Portal, 'close' | 'log' | 'config'>,
  options: GracefulShutdownOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const repeatWithinMs = options.repeatWithinMs ?? 1000;
  let stoppingSince: number | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < repeatWithinMs) {
        portal.log.debug(`${signal} again right after the first: the same request, still stopping`);
        return;
      }
      portal.log.warn(`${signal} again: stopping without waiting`);
      exit(1);
      return;
    }
    stoppingSince = performance.now();
    portal.log.info(
      `${signal}: finishing requests in flight (at most ${portal.config.server.shutdownTimeoutMs} ms), then stopping`,
    );
    void (async () => {
      let code = 0;
      try {
        await server.close();
      } catch (err) {
        portal.log.error(`stopping the web server failed: ${(err as Error).message}`);
        code = 1;
      }
      try {
        await portal.close();
      } catch (err) {
        portal.log.error(`closing the database failed: ${(err as Error).message}`);
        code = 1;
      }
      portal.log.info('stopped');
      exit(code);
    })();
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

/**
 * pg-boss runs statements of its own (failing or completing a job, its upkeep) in promises that
 * nobody in the portal holds. When the database goes away at that moment, such a statement
 * rejects unhandled, and Node's default ends the process: the whole portal down for a database
 * restart that the supervisor heals in about a second (test/faults/embedded-kill.test.ts caught
 * it). A rejection that is a database outage is logged and survived: the job expires and runs
 * again once the database is back. Any other unhandled rejection is a bug and still ends the
 * process, as before. Returns a function that removes the handler.
 */
export function surviveOutageRejections(log: Pick<Logger, 'warn'>): () => void {
  const onRejection = (err: unknown) => {
    const reason = databaseUnavailableReason(err);
    if (reason === null) throw err;
    log.warn(`database unavailable under background work (${reason}): carrying on until it is back`);
  };
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('unhandledRejection', onRejection);
  };
}
