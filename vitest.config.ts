import { defineConfig } from 'vitest/config';
import { CALENDAR, DATE_SENSITIVE_SUITES } from './test/calendar.ts';

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'data/**', 'scratch/**'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      // Everything, at the tests' ordinary instant (test/portal.ts TEST_NOW).
      { extends: true as const, test: { name: 'suite', include: ['**/*.test.ts'] } },
      // The date-sensitive suites again at each instant of the calendar matrix (test/calendar.ts).
      ...CALENDAR.map((c) => ({
        extends: true as const,
        test: { name: `at ${c.name}`, include: [...DATE_SENSITIVE_SUITES], env: { PORTAL_TEST_NOW: c.at } },
      })),
    ],
  },
});
