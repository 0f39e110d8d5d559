import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding this project's package.json. Files the portal reads at run time (views,
 * stylesheets, the FAQ's shipped entries) are found from here, not from the module's own URL:
 * the same code runs as TypeScript from its source folder and bundled into dist/, where
 * `new URL('./views/', import.meta.url)` would point into dist/.
 */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project, e.g. projectPath('plugins', 'faq', 'views'). */
export const projectPath = (...segments: string[]): string => join(PROJECT_ROOT, ...segments);

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    // By name: a package.json of something else above a copied folder is not ours.
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'ouderportaal') return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ouderportaal above ${start}`);
  }
}
