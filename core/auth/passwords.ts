import { randomInt } from 'node:crypto';
import argon2 from 'argon2';
import type { PortalConfig } from '../../config/schema.ts';

/**
 * Password hashing and the password policy. argon2id only. The number of hashes computed at
 * once is capped (auth.maxConcurrentHashes): each takes argon2MemoryKiB of memory, so 50
 * parallel logins queue up here instead of exhausting the machine.
 */

/** No look-alikes (0/O, 1/l/I, 5/S, 2/Z, 8/B): the password is typed over from an e-mail. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679';
export const GENERATED_LENGTH = 14;

/** A generated password: 14 characters from a CSPRNG over 49 symbols (about 78 bits). */
export function generatePassword(length = GENERATED_LENGTH): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export type HashSettings = Pick<
  PortalConfig['auth'],
  'argon2MemoryKiB' | 'argon2TimeCost' | 'argon2Parallelism' | 'maxConcurrentHashes'
>;

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get active(): number {
    return this.running;
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a hash that is not ours; never throws on bad input. */
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with weaker parameters than configured now. */
  needsRehash(hash: string): boolean;
  /** Burns the time of one verification: used for unknown accounts, so timing says nothing. */
  dummyVerify(password: string): Promise<void>;
  readonly limiter: Limiter;
}

export function createPasswordHasher(settings: HashSettings): PasswordHasher {
  const options = {
    type: argon2.argon2id,
    memoryCost: settings.argon2MemoryKiB,
    timeCost: settings.argon2TimeCost,
    parallelism: settings.argon2Parallelism,
  } as const;
  const limiter = new Limiter(settings.maxConcurrentHashes);
  let dummyHash: Promise<string> | undefined;
  const verify = (hash: string, password: string) =>
    limiter.run(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });
  return {
    limiter,
    hash: (password) => limiter.run(() => argon2.hash(password, options)),
    verify,
    needsRehash: (hash) =>
      argon2.needsRehash(hash, {
        memoryCost: options.memoryCost,
        timeCost: options.timeCost,
        parallelism: options.parallelism,
      }),
    dummyVerify: async (password) => {
      dummyHash ??= argon2.hash(generatePassword(), options);
      await verify(await dummyHash, password);
    },
  };
}

/** The most common passwords (and their Dutch favourites) in the length range we accept. */
const COMMON = new Set(
  [
    '123456789012',
    '1234567890123',
    'qwertyuiopas',
    'passwordpassword',
    'wachtwoord123',
    'wachtwoord1234',
    'welkomwelkom',
    'welkom123456',
    'password1234',
    'password12345',
    'iloveyou1234',
    'qwerty123456',
    'abcdefghijkl',
    'aaaaaaaaaaaa',
    'letmein12345',
    'ouderportaal',
    'ouderportaal1',
    'kinderopvang',
    'kinderopvang1',
    'voetbal12345',
    'zomer2024zomer',
    'changeme1234',
  ].map((p) => p.toLowerCase()),
);

export type PasswordProblem = 'too_short' | 'too_long' | 'too_common' | 'contains_context';

/**
 * NIST-style policy: 12 to 128 characters, any Unicode, no composition rules; refuse the most
 * common passwords, one character repeated, and passwords built around words from the context
 * (the organisation's name, the user's e-mail address).
 */
export function checkPassword(password: string, context: string[] = []): PasswordProblem | undefined {
  const length = [...password.normalize('NFC')].length;
  if (length < 12) return 'too_short';
  if (length > 128) return 'too_long';
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password)) return 'too_common';
  if (/^(0123456789|1234567890|abcdefghijklmnopqrstuvwxyz)+/.test(lower) && new Set(lower).size <= 13) {
    return 'too_common';
  }
  const words = context
    .flatMap((c) => c.toLowerCase().split(/[^\p{L}\p{N}]+/u))
    .filter((w) => w.length >= 4);
  // "Kinderopvang De Zon" -> refuse "dezonkinderopvang1!" but allow a long passphrase that
  // merely contains one such word among others.
  const stripped = words.reduce((rest, w) => rest.split(w).join(''), lower.replace(/[^\p{L}\p{N}]+/gu, ''));
  if (words.length && [...stripped].length < 6) return 'contains_context';
  return undefined;
}
