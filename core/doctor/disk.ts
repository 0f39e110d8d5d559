import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type CheckResult, ok, warn } from './report.ts';

/** Below either, the disk check warns: 1 GiB, or 5 % of the disk. */
export interface DiskThreshold {
  bytes: number;
  percent: number;
}

export const DEFAULT_DISK_THRESHOLD: DiskThreshold = { bytes: 1024 ** 3, percent: 5 };

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * `2GiB`, `500MB`, `10%`, or both comma-separated (`2GiB,10%`): each replaces that kind of
 * DEFAULT_DISK_THRESHOLD. Null when it does not read as that.
 */
export function parseDiskThreshold(text: string): DiskThreshold | null {
  const threshold = { ...DEFAULT_DISK_THRESHOLD };
  const parts = text.split(',').map((p) => p.trim().toLowerCase());
  for (const part of parts) {
    const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(part);
    if (percent) {
      const value = Number(percent[1]);
      if (value > 100) return null;
      threshold.percent = value;
      continue;
    }
    const size = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(part);
    const unit = size ? UNITS[size[2]!] : undefined;
    if (!size || unit === undefined) return null;
    threshold.bytes = Math.round(Number(size[1]) * unit);
  }
  return threshold;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The folder itself, or the nearest parent that exists (a data folder not made yet). */
async function existing(path: string): Promise<{ path: string; stats: Awaited<ReturnType<typeof statfs>> }> {
  let at = resolve(path);
  for (;;) {
    try {
      return { path: at, stats: await statfs(at) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || at === dirname(at)) throw err;
      at = dirname(at);
    }
  }
}

/**
 * Free space where the portal writes (the data folder; the photo folder when it lives
 * elsewhere), as the portal's user may use it (bavail: without the blocks kept for root).
 */
export async function checkDisk(folders: { label: string; path: string }[], threshold: DiskThreshold): Promise<CheckResult> {
  const lines: string[] = [];
  let low = false;
  for (const folder of folders) {
    const { path, stats } = await existing(folder.path);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const total = Number(stats.blocks) * Number(stats.bsize);
    const percent = total > 0 ? (free / total) * 100 : 100;
    const below = free < threshold.bytes || percent < threshold.percent;
    low ||= below;
    lines.push(`${folder.label} ${path}: ${formatBytes(free)} free of ${formatBytes(total)} (${percent.toFixed(0)}%)${below ? ' LOW' : ''}`);
  }
  const limit = `warns below ${formatBytes(threshold.bytes)} or ${threshold.percent}%`;
  return low ? warn('disk', `${lines.join('; ')} (${limit}, --min-free)`) : ok('disk', `${lines.join('; ')}`);
}
