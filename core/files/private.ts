import type { WriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { invalid } from '../errors.ts';
import { rethrowAfterCleanup } from '../storage/after-cleanup.ts';
import { describeNoSpace, isNoSpace } from '../storage/disk-full.ts';

/**
 * Files that hold personal data (exports, AVG ZIPs, `.eml` mails with their links and initial
 * passwords) are the owner's alone: 0600 in 0700 folders, whatever the umask. The umask only
 * takes bits away, so the mode given on create is never looser than asked; the chmod after
 * makes it exactly that under any umask (0o277 would leave a file the portal cannot append to,
 * a folder it cannot enter). Folders that already existed keep their mode: an admin's
 * /var/backups is theirs to set.
 */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/**
 * Makes `dir` and any missing parents; every folder made here is 0700. Returns the folders it
 * made, outermost first (none when `dir` was there). One level at a time, each chmod'ed before
 * the next is made in it: under a umask such as 0o277 a folder comes out without its write bit,
 * and a recursive mkdir could not make the next one inside.
 */
export async function ensurePrivateDir(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let folder = resolve(dir); !(await isDir(folder)); folder = dirname(folder)) {
    if (folder === dirname(folder)) break; // the root: cannot be missing
    missing.unshift(folder);
  }
  const made: string[] = [];
  for (const folder of missing) {
    try {
      await mkdir(folder, { mode: PRIVATE_DIR });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await isDir(folder))) throw err;
      continue; // made by someone else meanwhile: theirs, left as it is
    }
    await chmod(folder, PRIVATE_DIR);
    made.push(folder);
  }
  return made;
}

async function isDir(path: string): Promise<boolean> {
  return await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Makes one new 0700 folder (its parent must exist); EEXIST when it is there already. */
export async function createPrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { mode: PRIVATE_DIR });
  await chmod(dir, PRIVATE_DIR);
}

/** A new file (never an existing one: `wx`), 0600, as a stream; its parent folder must exist. */
export async function privateWriteStream(path: string): Promise<WriteStream> {
  const handle = await open(path, 'wx', PRIVATE_FILE);
  try {
    await handle.chmod(PRIVATE_FILE);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const stream = handle.createWriteStream();
  // A write that fails on a full disk says nothing of the file: name it, so the CLI's line
  // (cli/errors.ts) says which folder to free. Listeners run in order: this one comes first.
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (isNoSpace(err) && !err.path) err.path = path;
  });
  return stream;
}

/**
 * Writes a new 0600 file whole (`wx`: never over an existing one). `sync`: fsync before closing,
 * for files whose presence promises the rest is on disk (an export's manifest).
 */
export async function writePrivateFile(path: string, data: string | Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
  const handle = await open(path, 'wx', PRIVATE_FILE);
  try {
    await handle.chmod(PRIVATE_FILE);
    await handle.writeFile(data);
    if (options.sync) await handle.sync();
  } catch (err) {
    // A full disk names the folder and the bytes; closing (which may fail the same way) must not hide it.
    return await rethrowAfterCleanup(await describeNoSpace(err, dirname(resolve(path)), Buffer.byteLength(data)), () => handle.close());
  }
  await handle.close();
}

/** How many entries refuseNonEmptyDir names before "and N more". */
const NAMED = 5;

/**
 * Refuses to write into a folder that holds anything (a typo such as `--out ~` would scatter
 * personal data among the admin's own files), unless `force`. `expected` lets through entries
 * the command itself leaves there (the nightly export's earlier `export-…` folders). A missing
 * folder is fine: it is made later. Exit 1 in the CLI, naming what is there.
 */
export async function refuseNonEmptyDir(
  dir: string,
  options: { force?: boolean; expected?: (name: string) => boolean } = {},
): Promise<void> {
  const path = resolve(dir);
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw invalid('out', `cannot read ${path}: ${err.message}`);
  });
  if (!info) return;
  if (!info.isDirectory()) throw invalid('out', `cannot write into ${path}: it is not a folder`);
  if (options.force) return;
  const others = (await readdir(path)).filter((name) => !options.expected?.(name)).sort();
  if (!others.length) return;
  const named = others.slice(0, NAMED).join(', ');
  const more = others.length > NAMED ? ` and ${others.length - NAMED} more` : '';
  throw invalid('out', `${path} is not empty (it holds ${named}${more}): choose a new or empty folder, or add --force to write into it anyway`);
}

/** Refuses an existing file at `path` unless `force` (the file would be replaced). */
export async function refuseExistingFile(path: string, options: { force?: boolean } = {}): Promise<void> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info) return;
  if (info.isDirectory()) throw invalid('out', `${full} is a folder: give the name of the file to write`);
  if (!options.force) throw invalid('out', `${full} already exists: choose another name, or add --force to replace it`);
}

/** The folder a file goes into, made private when it has to be made (see ensurePrivateDir). */
export async function ensurePrivateParent(file: string): Promise<string[]> {
  return await ensurePrivateDir(dirname(resolve(file)));
}
