import { type CheckResult, ok, skip, warn } from './report.ts';

/** Hosts a browser treats as its own machine: plain http there is a test install, not a leak. */
const LOCAL = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * The public URL against how the server is reached. The server itself speaks plain http (TLS
 * is the proxy's job); with an https public URL its cookies are `__Host-` and Secure, which a
 * browser keeps only over https. Unless the server trusts the proxy's X-Forwarded-Proto it
 * cannot tell whether a request came over https, and a parent who reaches it over plain http
 * cannot log in (the login page says so too: http/routes/login.ts).
 */
export function checkPublicUrl(options: {
  /** server.publicUrl from the configuration, if set. */
  configured?: string;
  /** The organisation's URL from `portal init`; undefined when the database could not be read. */
  organisation?: string | null;
  trustProxy: boolean;
  listen: { host: string; port: number };
}): CheckResult {
  const url = options.configured ?? options.organisation ?? undefined;
  if (!url) {
    if (options.organisation === undefined) return skip('public-url', 'no server.publicUrl, and the organisation could not be read');
    return warn('public-url', 'not set: run `portal init --url https://…` (links in mails and the login cookies depend on it)');
  }
  const overridden =
    options.configured && options.organisation && options.configured !== options.organisation
      ? ` (server.publicUrl overrides the organisation's ${options.organisation})`
      : '';
  const parsed = new URL(url);
  const listen = `http://${options.listen.host}:${options.listen.port}`;
  if (parsed.protocol === 'http:') {
    if (LOCAL.test(parsed.hostname)) return ok('public-url', `${url}: plain http on this machine only${overridden}`);
    return warn('public-url', `${url} is plain http: passwords and session cookies cross the network unencrypted; put an https proxy in front${overridden}`);
  }
  if (!options.trustProxy) {
    return warn(
      'public-url',
      `${url} is https but the server listens on ${listen} and does not trust X-Forwarded-Proto (server.trustProxy off): ` +
        'reached over plain http, login cookies (__Host-, Secure) will not stick. Behind an https proxy set PORTAL_TRUST_PROXY=true' +
        overridden,
    );
  }
  return ok('public-url', `${url} via an https proxy in front of ${listen} (X-Forwarded-Proto trusted)${overridden}`);
}
