import type { Context } from 'hono';

/**
 * The client's IP address, for the login brake and the audit log. Behind a reverse proxy that
 * we trust (server.trustProxy), the right-most X-Forwarded-For entry: the one our proxy added
 * for the peer it saw (entries to its left come from the client and could be anything, e.g. a
 * new "address" per guess to slip past the brake). Otherwise the socket's peer, which a client
 * cannot fake. No socket (app.request() in tests): null, one shared "unknown" address.
 */
export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim();
    if (forwarded && /^[0-9a-fA-F:.]{2,45}$/.test(forwarded)) return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  if (!address) return null;
  // IPv4 over an IPv6 socket arrives as ::ffff:1.2.3.4.
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
