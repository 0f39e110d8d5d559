import { type AddressInfo, createServer } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server in the test process that keeps what it receives. */
export interface SmtpSink {
  url: string;
  port: number;
  messages: ParsedMail[];
  /** Mails to one recipient. */
  to(address: string): ParsedMail[];
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface SmtpSinkOptions {
  /**
   * Called with each mail once it is kept; the server answers the client only when this
   * resolves. A drill holds the answer to have a mail the server took but whose sender never
   * heard so (the sender dies meanwhile).
   */
  beforeReply?: (mail: ParsedMail) => Promise<void>;
}

export async function startSmtpSink(port = 0, options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // close() should drop pooled client connections at once, like a crashed mail server.
    closeTimeout: 50,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          messages.push(mail);
          await options.beforeReply?.(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${actual}`,
    port: actual,
    messages,
    to: (address) =>
      messages.filter((m) => {
        const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
        return to.some((t) => t.value.some((v) => v.address === address));
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The generated password in an invitation mail's text part. */
export function passwordFrom(mail: ParsedMail): string {
  const m = /(?:Wachtwoord|Password): (\S+)/.exec(mail.text ?? '');
  if (!m) throw new Error(`no password in mail to ${JSON.stringify(mail.to)}`);
  return m[1]!;
}
