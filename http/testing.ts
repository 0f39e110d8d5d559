import type { Hono } from 'hono';
import { Account } from '../core/entities/account.ts';
import type { Language } from '../core/entities/organisation.ts';
import { Parent } from '../core/entities/parent.ts';
import { Staff, type StaffRole } from '../core/entities/staff.ts';
import type { Portal } from '../core/portal.ts';
import type { AppEnv } from './env.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { startAccountMailWorker } from '../core/mail/account-mail-worker.ts';
import { admin as testAdmin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { type SmtpSink, startSmtpSink } from '../test/smtp.ts';
import { createApp } from './app.ts';

/**
 * Test helpers for the web side (HTTP tests and e2e): accounts made directly with the entities,
 * and a tiny cookie-keeping client for `app.request()` that sends the CSRF token the way a page
 * would (the double-submit cookie's value in the form, or in X-CSRF-Token for htmx).
 */

export interface SeedAccountInput {
  email: string;
  password: string;
  kind?: 'parent' | StaffRole;
  firstName?: string;
  lastName?: string;
  language?: Language;
  /** A generated password: must be changed at first login. */
  mustChange?: boolean;
  passwordExpiresAt?: Date | null;
}

export interface SeededAccount {
  accountId: number;
  personId: number;
  email: string;
  password: string;
}

export async function seedAccount(portal: Pick<Portal, 'em' | 'hasher'>, input: SeedAccountInput): Promise<SeededAccount> {
  const em = portal.em();
  const kind = input.kind ?? 'parent';
  const email = input.email.toLowerCase();
  const names = { firstName: input.firstName ?? 'Anna', lastName: input.lastName ?? 'de Vries', infix: null, phone: null };
  const person =
    kind === 'parent'
      ? em.create(Parent, { email, ...names, language: input.language ?? 'nl' })
      : em.create(Staff, { email, ...names, role: kind, language: input.language ?? 'nl', active: true });
  const account = em.create(Account, {
    email,
    parent: kind === 'parent' ? (person as never) : null,
    staff: kind === 'parent' ? null : (person as never),
    passwordHash: await portal.hasher.hash(input.password),
    passwordMustChange: input.mustChange ?? false,
    passwordExpiresAt: input.passwordExpiresAt ?? null,
  });
  await em.flush();
  return { accountId: account.id, personId: person.id, email, password: input.password };
}

/** A login for a parent or staff member already in the directory (added with core's use cases). */
export async function accountFor(portal: Pick<Portal, 'em' | 'hasher'>, email: string, password: string): Promise<void> {
  const em = portal.em();
  const parent = await em.findOne(Parent, { email });
  const staff = parent ? null : await em.findOneOrFail(Staff, { email });
  em.create(Account, {
    email,
    parent,
    staff,
    passwordHash: await portal.hasher.hash(password),
    passwordMustChange: false,
    passwordExpiresAt: null,
  });
  await em.flush();
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** A browser for `app.request()`: keeps cookies, sends the CSRF token with every POST. */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly app: Hono<AppEnv>,
    readonly headers: Record<string, string> = {},
    readonly origin = 'http://localhost',
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** A cookie by name, with or without the `__Host-` prefix. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name) ?? this.cookies.get(`__Host-${name}`);
  }

  get csrf(): string | undefined {
    return this.cookie('portal-csrf');
  }

  async request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const cookie = this.cookieHeader();
    const res = await this.app.request(`${this.origin}${path}`, {
      ...init,
      headers: { ...this.headers, ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
    });
    this.keep(res);
    return res;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return await this.request(path, { headers });
  }

  /** Visits `path` first when there is no CSRF cookie yet (as a browser gets it with the form). */
  async post(
    path: string,
    fields: Record<string, string>,
    options: { htmx?: boolean; csrf?: string | null; visit?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    if (!this.csrf && options.csrf === undefined) await this.get(options.visit ?? '/login');
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    const body = new URLSearchParams(fields);
    const headers: Record<string, string> = { ...FORM, ...options.headers };
    if (options.htmx) {
      headers['HX-Request'] = 'true';
      if (token) headers['X-CSRF-Token'] = token;
    } else if (token) {
      body.set('_csrf', token);
    }
    return await this.request(path, { method: 'POST', headers, body });
  }

  async login(email: string, password: string): Promise<Response> {
    return await this.post('/login', { email, password });
  }
}

let browserSeq = 0;

/**
 * A TestBrowser logged in as this account. Each comes from its own address (X-Forwarded-For,
 * for apps with server.trustProxy), so one test's logins never use up another's login brake.
 */
export async function loggedInBrowser(app: Hono<AppEnv>, email: string, password: string): Promise<TestBrowser> {
  browserSeq++;
  const b = new TestBrowser(app, { 'X-Forwarded-For': `198.51.${100 + Math.floor(browserSeq / 250)}.${(browserSeq % 250) + 1}` });
  const res = await b.login(email, password);
  if (res.status !== 303) throw new Error(`logging in as ${email} answered ${res.status}, not 303`);
  return b;
}

/** The attacker's side of an ended session: the old cookie on the next request is sent to /login. */
export async function sentToLogin(b: TestBrowser): Promise<boolean> {
  const res = await b.get('/');
  return res.status === 303 && res.headers.get('Location') === '/login';
}

/**
 * A portal that really mails: an in-process SMTP server, the organisation set up (links in the
 * mails point at https://ouders.example.nl) and the account-mail worker running. Behind a proxy,
 * so tests can set the client's IP with X-Forwarded-For.
 */
export async function startMailingPortal(flags: Record<string, unknown> = {}): Promise<{ portal: TestPortal; smtp: SmtpSink }> {
  const smtp = await startSmtpSink();
  const portal = await createTestPortal({ 'server.trustProxy': true, 'mail.smtpUrl': smtp.url, ...flags });
  await initOrganisation(portal.em(), testAdmin, {
    name: 'Kinderopvang De Zonnebloem',
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: 'helpdesk@example.nl',
  });
  await startAccountMailWorker(portal);
  return { portal, smtp };
}

/** Login brakes far above what a suite needs: its browsers log in dozens of times a minute. */
export const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

/**
 * The schedule world (test/schedule.ts) behind the web app. The app trusts X-Forwarded-For, so
 * each loggedInBrowser comes from its own address.
 */
export async function scheduleWorldApp(): Promise<{ portal: TestPortal; app: Hono<AppEnv>; w: ScheduleWorld }> {
  const portal = await createTestPortal({ 'server.trustProxy': true });
  const w = await seedScheduleWorld(portal);
  return { portal, app: createApp(portal, LOOSE), w };
}
