import { spawn } from 'node:child_process';
import type pg from 'pg';

/**
 * libpq's environment for the server a pooled connection talks to: pg_dump and pg_restore reach
 * the same database as the portal (the embedded one or PORTAL_DATABASE_URL) without a URL on
 * their command line, where `ps` would show its password.
 */
export function libpqEnv(client: pg.Client, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const c = client as unknown as { host: string; port: number; user: string; database: string; password?: string | null };
  const env: NodeJS.ProcessEnv = { ...base, PGHOST: c.host, PGPORT: String(c.port), PGUSER: c.user, PGDATABASE: c.database };
  if (typeof c.password === 'string' && c.password) env.PGPASSWORD = c.password;
  else delete env.PGPASSWORD;
  return env;
}

/** The major version of the server (`server_version_num` 150010 → 15) and its version text. */
export async function serverVersion(client: pg.Client): Promise<{ version: string; major: number }> {
  const { rows } = await client.query<{ num: string; text: string }>(
    "select current_setting('server_version_num') as num, current_setting('server_version') as text",
  );
  return { version: rows[0]!.text.split(' ')[0]!, major: Math.floor(Number(rows[0]!.num) / 10000) };
}

export interface ToolRun {
  /** Resolves when the tool exits 0; rejects with its last lines of stderr otherwise. */
  done: Promise<void>;
  stdin: NodeJS.WritableStream;
}

/** Runs a PostgreSQL client tool; its stderr is kept for the error (a few lines, no data). */
export function runTool(path: string, args: string[], env: NodeJS.ProcessEnv): ToolRun {
  const child = spawn(path, args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => {
    stderr = (stderr + t).slice(-4000);
  });
  // A tool that exits early (an error) closes its stdin: writing on would raise EPIPE.
  child.stdin.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const name = path.split('/').pop();
        const lines = stderr.trim().split('\n').slice(-3).join(' / ');
        reject(Object.assign(new Error(`${name} failed (${signal ?? `exit ${code}`}): ${lines || 'no message'}`), { stderr }));
      }
    });
  });
  return { done, stdin: child.stdin };
}
