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

/** A reader that went away: `portal … | head -1` once head has its line. */
const isClosedPipe = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';

const closed = new WeakSet<NodeJS.WritableStream>();

/**
 * Makes a closed pipe on stdout or stderr the end of that output, not a crash: Node ignores
 * SIGPIPE and reports EPIPE as an 'error' event, which unhandled ends the process with a stack
 * trace and exit 1. Writes to the closed stream are dropped from then on, and the command
 * finishes as usual (a command with the database open still closes it) with its own exit
 * code: 0 for `portal --help | head -1`. The server keeps serving when its log reader goes.
 * Any other error on these streams is thrown as before. Installed once per stream.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listeners('error').includes(onStreamError)) return;
  stream.on('error', onStreamError);
}

function onStreamError(this: NodeJS.WriteStream, err: NodeJS.ErrnoException): void {
  if (!isClosedPipe(err)) throw err;
  closed.add(this);
}

function writer(stream: NodeJS.WriteStream): (text: string) => void {
  return (text) => {
    if (closed.has(stream) || stream.destroyed) return;
    stream.write(text);
  };
}

export const processIO = (): CliIO => {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  return {
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  };
};
