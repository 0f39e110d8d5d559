import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import argon2 from 'argon2';
import type { ZxcvbnFactory, ZxcvbnResult } from '@zxcvbn-ts/core';
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

/**
 * Only the first 64 characters are scored: zxcvbn's time grows fast with the length (a second
 * for 256 characters), and 64 characters that are not guessable are plenty. A long password is
 * still checked as a whole against the context words below.
 */
export const SCORED_LENGTH = 64;

/** At least 10^10 guesses (zxcvbn score 4): out of reach online, and slow offline behind argon2id. */
export const MIN_GUESSES_LOG10 = 10;

/**
 * Guessability from zxcvbn-ts (a maintained estimator: dictionaries of common passwords, Dutch
 * words, first names, surnames and Wikipedia, plus keyboard patterns, sequences, repeats and
 * dates), loaded once per process on the first check (about 0.1 s), never per request. Loaded
 * then and not at import: the dictionaries take tens of megabytes, and a command that opens the
 * database without checking a password (`portal db status`, the nightly export) must not pay.
 */
let scorer: ZxcvbnFactory | undefined;
const load = createRequire(import.meta.url);
function estimator(): ZxcvbnFactory {
  if (scorer) return scorer;
  const { ZxcvbnFactory: Factory } = load('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
  const common = load('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  const dutch = load('@zxcvbn-ts/language-nl-be') as typeof import('@zxcvbn-ts/language-nl-be');
  scorer = new Factory({
    dictionary: { ...common.dictionary, ...dutch.dictionary },
    graphs: common.adjacencyGraphs,
    maxLength: SCORED_LENGTH,
    // Fewer l33t variants tried per password (default 100): "W3lk0m" and "w@chtw00rd" are still
    // found, and a check of 64 characters stays near 30 ms instead of 250.
    l33tMaxSubstitutions: 10,
  });
  return scorer;
}

export type PasswordProblem =
  | 'too_short'
  | 'too_long'
  /** On the lists of the most used passwords. */
  | 'too_common'
  /** Built on well-known words or names with a few digits or signs around them. */
  | 'common_words'
  /** Repeats, sequences (1234, abcd), keyboard patterns (qwerty), years and dates. */
  | 'predictable'
  /** Built from the organisation's name, the person's name or e-mail address. */
  | 'contains_context';

/** The words of the context that a password must not be built around (at least 3 letters). */
function contextWords(context: string[]): string[] {
  return context.flatMap((c) => c.toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length >= 3);
}

/** Why zxcvbn found it guessable: the most telling part it recognised. */
function reason(sequence: ZxcvbnResult['sequence']): PasswordProblem {
  const dictionaries = sequence.flatMap((m) => (m.pattern === 'dictionary' && 'dictionaryName' in m ? [String(m.dictionaryName)] : []));
  if (dictionaries.includes('userInputs')) return 'contains_context';
  if (dictionaries.includes('passwords-common')) return 'too_common';
  if (dictionaries.length) return 'common_words';
  return 'predictable';
}

/**
 * NIST-style policy: 12 to 128 characters, any Unicode, no composition rules; refuse what
 * zxcvbn-ts rates below 10^10 guesses (common passwords, a Dutch word with "2026!!", patterns),
 * with the organisation's name, the person's name and e-mail address as known words, and
 * passwords built around those words. The problem says why, so the form can say what works.
 */
export function checkPassword(password: string, context: string[] = []): PasswordProblem | undefined {
  const chars = [...password.normalize('NFC')];
  if (chars.length < 12) return 'too_short';
  if (chars.length > 128) return 'too_long';
  const words = contextWords(context);
  const result = estimator().check(chars.slice(0, SCORED_LENGTH).join(''), [...context.map((c) => c.toLowerCase()), ...words]);
  if (result.guessesLog10 < MIN_GUESSES_LOG10) return reason(result.sequence);
  // "Kinderopvang De Zon" -> refuse "dezonkinderopvang1!" but allow a long passphrase that
  // merely contains one such word among others.
  const lower = password.toLowerCase();
  const long = words.filter((w) => w.length >= 4);
  const stripped = long.reduce((rest, w) => rest.split(w).join(''), lower.replace(/[^\p{L}\p{N}]+/gu, ''));
  if (long.length && [...stripped].length < 6) return 'contains_context';
  return undefined;
}
