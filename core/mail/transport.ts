import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Clock } from '../clock.ts';
import { ensurePrivateDir, writePrivateFile } from '../files/private.ts';

export interface OutgoingMail {
  to: string;
  from: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Custom headers, e.g. List-Unsubscribe later. */
  headers?: Record<string, string>;
  /** `<id@domain>`; stable across the attempts at one queued mail (messageIdFor). Else nodemailer makes one. */
  messageId?: string;
  /** Small files made for this mail (a talk's .ics invitation); nodemailer attaches them as they are. */
  attachments?: { filename: string; content: string; contentType: string }[];
}

/**
 * A send that did not finish within its time limit. The mail may still arrive (the server may
 * have taken it just as we gave up), so it counts as possibly sent.
 */
export class MailTimeout extends Error {
  constructor(ms: number) {
    super(`the mail server did not take the mail within ${Math.round(ms / 1000)} s`);
    this.name = 'MailTimeout';
  }
}

/**
 * `transport.send` with a time limit (a timer for infrastructure, not domain time). nodemailer's
 * own timeouts are per connection step and per idle socket, so a server that trickles can hold
 * a send far longer; the queue job must not outlive its expiry while we wait.
 */
export async function sendWithin(transport: MailTransport, mail: OutgoingMail, ms: number): Promise<{ messageId: string; where: string }> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MailTimeout(ms)), ms);
  });
  try {
    return await Promise.race([transport.send(mail), limit]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MailTransport {
  /** Resolves once the SMTP server accepted the mail (or the file is written); throws otherwise. */
  send(mail: OutgoingMail): Promise<{ messageId: string; where: string }>;
  /** Human description for the CLI: "smtp://mail.example.nl:587" or the .eml folder. */
  readonly description: string;
  /**
   * SMTP only (absent for .eml files): connects, greets, starts TLS and logs in as sending
   * would, without sending (nodemailer's verify). For `portal doctor`.
   */
  verify?(): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer (STARTTLS is required on port 587 and whenever the server offers it),
 * with a small connection pool; or, without PORTAL_SMTP_URL, `.eml` files in `<dataDir>/mail`
 * that an admin can open in any mail program. Files are written whole (temp + rename), so a
 * half mail never appears. nodemailer is loaded on the first mail: most commands never send one.
 */
export function createMailTransport(smtpUrl: string | undefined, dataDir: string, clock: Clock): MailTransport {
  const nodemailer = () => import('nodemailer').then((m) => m.default);
  if (!smtpUrl) {
    const dir = join(dataDir, 'mail');
    let writer: Promise<Transporter> | undefined;
    return {
      description: dir,
      send: async (mail) => {
        writer ??= nodemailer().then((n) => n.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }));
        const info = await (await writer).sendMail({ ...mail, date: clock.now() });
        // Invitations carry initial passwords and reset links: 0600 in a 0700 folder, whatever the umask.
        await ensurePrivateDir(dir);
        const name = `${clock.now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
        const tmp = join(dir, `.${name}.tmp`);
        await writePrivateFile(tmp, info.message as Buffer);
        await rename(tmp, join(dir, name));
        return { messageId: info.messageId, where: join(dir, name) };
      },
      close: () => {},
    };
  }
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  let opened: Promise<Transporter> | undefined;
  // One pool, also when the first mails are sent at once (hence the promise, not the transport).
  const open = () =>
    (opened ??= nodemailer().then((n) =>
      n.createTransport({
        pool: true,
        maxConnections: 4,
        host: url.hostname,
        port: url.port ? Number(url.port) : secure ? 465 : 587,
        secure,
        // STARTTLS whenever the server offers it; on the submission port it is required.
        requireTLS: !secure && (url.port === '' || url.port === '587'),
        auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      }),
    ));
  return {
    description: `${url.protocol}//${url.host}`,
    send: async (mail) => {
      // The Date header from the portal's clock, like every date inside the mail.
      const info = await (await open()).sendMail({ ...mail, date: clock.now() });
      return { messageId: info.messageId, where: `${url.protocol}//${url.host}` };
    },
    verify: async () => {
      await (await open()).verify();
    },
    close: () => void opened?.then((t) => t.close()),
  };
}
