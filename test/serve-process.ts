import type { ChildProcess } from 'node:child_process';

/**
 * Where a spawned `portal serve` listens, once it says so ("… running at http://…"), with all it
 * has written so far; rejects with that output when the process exits before.
 */
export function servingAt(child: ChildProcess, name: string): { url: Promise<string>; output: () => string } {
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      const m = /running at (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
  return { url, output: () => output };
}
