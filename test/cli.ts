import type { CliIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one `portal` command in this process, as a script would (no terminal unless isTTY). */
export async function runCli(args: string[], env: Record<string, string | undefined>, isTTY = false): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    cwd: process.cwd(),
    isTTY,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
