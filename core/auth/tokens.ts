import { createHash, randomBytes } from 'node:crypto';

/**
 * High-entropy secrets (session ids, reset links): 256 random bits, base64url so they fit in a
 * cookie or a URL as they are. Only their SHA-256 is stored: a salt or a slow hash adds nothing
 * for a value nobody can guess, and a lookup by hash stays one indexed query.
 */
export const TOKEN_BYTES = 32;

/** 43 characters of base64url: what randomToken() makes, and all a lookup should accept. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Lower-case hex SHA-256 (64 characters): how tokens and recovery codes are stored. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Resolves at `start + ms` (at once when that has passed): evens out the time of two code paths. */
export async function waitUntil(start: number, ms: number): Promise<void> {
  const left = start + ms - performance.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}
