import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Clock } from '../clock.ts';

export interface OutgoingMail {
  to: string;
  from: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Custom headers, e.g. List-Unsubscribe later. */
  headers?: Record<string, string>;
}

export interface MailTransport {
  /** Resolves once the SMTP server accepted the mail (or the file is written); throws otherwise. */
  send(mail: OutgoingMail): Promise<{ messageId: string; where: string }>;
  /** Human description for the CLI: "smtp://mail.example.nl:587" or the .eml folder. */
  readonly description: string;
  close(): void;
}

/**
 * SMTP through nodemailer (STARTTLS is required on port 587 and whenever the server offers it),
 * with a small connection pool; or, without PORTAL_SMTP_URL, `.eml` files in `<dataDir>/mail`
 * that an admin can open in any mail program. Files are written whole (temp + rename), so a
 * half mail never appears.
 */
export function createMailTransport(smtpUrl: string | undefined, dataDir: string, clock: Clock): MailTransport {
  if (!smtpUrl) {
    const dir = join(dataDir, 'mail');
    const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    return {
      description: dir,
      send: async (mail) => {
        const info = await writer.sendMail({ ...mail, date: clock.now() });
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const name = `${clock.now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
        const tmp = join(dir, `.${name}.tmp`);
        writeFileSync(tmp, info.message as Buffer, { mode: 0o600 });
        renameSync(tmp, join(dir, name));
        return { messageId: info.messageId, where: join(dir, name) };
      },
      close: () => {},
    };
  }
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
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
  });
  return {
    description: `${url.protocol}//${url.host}`,
    send: async (mail) => {
      // The Date header from the portal's clock, like every date inside the mail.
      const info = await transport.sendMail({ ...mail, date: clock.now() });
      return { messageId: info.messageId, where: `${url.protocol}//${url.host}` };
    },
    close: () => transport.close(),
  };
}
