import { join } from 'node:path';

/**
 * Files the tests read live in test/fixtures/, inside the repository: a clone with nothing
 * beside it must pass (a guard test fails when a test reads outside the repository).
 */
export function fixturePath(name: string): string {
  return join(import.meta.dirname, 'fixtures', name);
}

/** The planning system's export as the organisation sent it: 43 children, BOM, CRLF, semicolons. */
export const PLANNING_SAMPLE = fixturePath('planning-export-sample.csv');
