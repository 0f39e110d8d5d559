import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error http_ece ships no types; decrypt(buffer, params) is all we use.
import ece from 'http_ece';

/**
 * A push service in the test process, acting for one or more browsers. Like a browser it holds a
 * P-256 key pair and an auth secret per subscription and hands out {endpoint, keys}; like a push
 * service it takes the POST, checks the VAPID Authorization header (an ES256 JWT whose `aud` is
 * this server's origin, signed by the key in `k=`, which must be the portal's public key) and
 * decrypts the body (aes128gcm, RFC 8291) with http_ece. What it received is recorded as
 * plaintext; `answer` makes it refuse the next pushes with a status (404, 410, 500).
 */

export interface ReceivedPush {
  /** Which browser (the name given to `subscribe`). */
  browser: string;
  plaintext: string;
  ttl: string | undefined;
  topic: string | undefined;
}

export interface PushServiceStandIn {
  origin: string;
  received: ReceivedPush[];
  /** Requests that failed a check (bad JWT, wrong key, undecryptable), with why. */
  rejected: string[];
  subscribe(browser: string): { endpoint: string; keys: { p256dh: string; auth: string } };
  /** Answer pushes to `browser` (or every browser) with `status` until told otherwise (201 = normal). */
  answer(status: number, browser?: string): void;
  close(): Promise<void>;
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The JWT of a `vapid t=…, k=…` header, verified against `k` and `expectedKey`; why not, or undefined when fine. */
export function checkVapid(header: string | undefined, origin: string, expectedKey: string): string | undefined {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) return 'no vapid authorization';
  const [token, key] = [m[1]!, m[2]!];
  if (key !== expectedKey) return 'not the portal key';
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return 'malformed jwt';
  const raw = Buffer.from(key, 'base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') };
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) return 'bad signature';
  const header_ = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (header_.alg !== 'ES256') return 'not ES256';
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: string; exp?: number; sub?: string };
  if (claims.aud !== origin) return `aud ${claims.aud}`;
  if (typeof claims.exp !== 'number' || !claims.sub) return 'no exp or sub';
  return undefined;
}

export async function startPushService(portalPublicKey: () => Promise<string>): Promise<PushServiceStandIn> {
  const browsers = new Map<string, { name: string; ecdh: ReturnType<typeof createECDH>; auth: Buffer }>();
  const statuses = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const rejected: string[] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const id = (req.url ?? '').replace(/^\/push\//, '');
      const browser = browsers.get(id);
      if (req.method !== 'POST' || !browser) {
        res.writeHead(404).end();
        return;
      }
      const why = checkVapid(req.headers.authorization, origin, await portalPublicKey());
      if (why || req.headers['content-encoding'] !== 'aes128gcm') {
        rejected.push(why ?? `content-encoding ${req.headers['content-encoding']}`);
        res.writeHead(401).end();
        return;
      }
      const status = statuses.get(browser.name) ?? statuses.get('*') ?? 201;
      if (status >= 300) {
        res.writeHead(status).end();
        return;
      }
      try {
        const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth }) as Buffer;
        received.push({ browser: browser.name, plaintext: plain.toString('utf8'), ttl: req.headers.ttl as string | undefined, topic: req.headers.topic as string | undefined });
        res.writeHead(201).end();
      } catch (err) {
        rejected.push(`decrypt: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    rejected,
    subscribe(name) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(12).toString('hex');
      browsers.set(id, { name, ecdh, auth });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    answer(status, browser = '*') {
      // For every browser: what was said for single ones no longer holds.
      if (browser === '*') statuses.clear();
      statuses.set(browser, status);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
