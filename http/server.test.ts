import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { Hono } from 'hono';
import type { AppEnv } from './app.ts';
import { installGracefulShutdown, startServer, surviveOutageRejections } from './server.ts';

let portal: TestPortal;
beforeAll(async () => {
  portal = await createTestPortal({ 'server.shutdownTimeoutMs': 2_000 });
});
afterAll(() => portal?.destroy());

describe('startServer', () => {
  it('listens on a free port and answers /healthz over real HTTP', async () => {
    const server = await startServer(portal, { port: 0, host: '127.0.0.1' });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      // Ready only once the job queue runs (the server command starts it with the workers).
      const before = await fetch(`${server.url}/readyz`);
      expect(before.status).toBe(503);
      expect(await before.json()).toMatchObject({ database: 'ok', migrations: 'current', jobs: 'not_started' });
      await portal.jobs();
      const after = await fetch(`${server.url}/readyz`);
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'current', jobs: 'running' });
    } finally {
      await server.close();
    }
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('says clearly when the port is taken', async () => {
    const first = await startServer(portal, { port: 0, host: '127.0.0.1' });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startServer(portal, { port, host: '127.0.0.1' })).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is already in use/);
    } finally {
      await first.close();
    }
  });

  it('close() lets a request in flight finish, then stops', async () => {
    // A bare app: routes added to createApp()'s app would sit behind the login gate.
    const app = new Hono<AppEnv>();
    let release: () => void = () => {};
    let started: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    app.get('/slow', async (c) => {
      started();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return c.text('done');
    });
    const server = await startServer(portal, { port: 0, host: '127.0.0.1', app });
    const response = fetch(`${server.url}/slow`);
    await inFlight;
    const closed = server.close();
    let closedYet = false;
    void closed.then(() => {
      closedYet = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closedYet).toBe(false); // still waiting for /slow
    release();
    const res = await response;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('done');
    await closed;
  });
});

describe('startServer and the organisation URL', () => {
  it('without server.publicUrl, the https URL from `portal init` brings HSTS and the __Host- cookie', async () => {
    await initOrganisation(portal.em(), admin, {
      name: 'Kinderopvang Test',
      publicUrl: 'https://ouders.example.nl',
      helpdeskEmail: 'helpdesk@example.nl',
    });
    const server = await startServer(portal, { port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${server.url}/login`);
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
      expect(res.headers.getSetCookie().join()).toMatch(/^__Host-portal-csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      expect(await res.text()).toContain('Kinderopvang Test');
    } finally {
      await server.close();
    }
  });
});

describe('installGracefulShutdown', () => {
  it('on a signal: closes the server, then the portal, then exits 0', async () => {
    const server = await startServer(portal, { port: 0, host: '127.0.0.1' });
    const order: string[] = [];
    const closeServer = server.close;
    server.close = async () => {
      await closeServer();
      order.push('server');
    };
    const exited = new Promise<number>((resolve) => {
      const uninstall = installGracefulShutdown(
        server,
        {
          config: portal.config,
          log: portal.log,
          close: vi.fn(async () => {
            order.push('portal');
          }),
        },
        {
          signals: ['SIGUSR2'],
          exit: (code) => {
            uninstall();
            resolve(code);
          },
        },
      );
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await exited).toBe(0);
    expect(order).toEqual(['server', 'portal']);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe('surviveOutageRejections', () => {
  it('logs an unhandled rejection that is a database outage and carries on; any other still ends the process', () => {
    const warn = vi.fn();
    const remove = surviveOutageRejections({ warn });
    try {
      // The handler as Node calls it (a real unhandled rejection would reach vitest's own handler too).
      const handler = process.listeners('unhandledRejection').at(-1)!;
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      expect(() => handler(refused, Promise.resolve())).not.toThrow();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
      const bug = new TypeError('x is not a function');
      expect(() => handler(bug, Promise.resolve())).toThrow(bug);
    } finally {
      remove();
    }
    expect(process.listeners('unhandledRejection').some((l) => l.name === 'onRejection')).toBe(false);
  });
});
