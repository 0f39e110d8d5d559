import type { Clock } from '../core/clock.ts';
/** What a command may touch of the outside world; tests pass their own. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Prompts and confirmations only happen on an interactive terminal. */
  isTTY: boolean;
  /** The time commands run on; without it PORTAL_CLOCK or the system clock (core/clock.ts). */
  clock?: Clock;
}

export const processIO = (): CliIO => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
});
